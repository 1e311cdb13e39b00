/*
 * test_cr_events.c: the change-notification event codes (CR-TERM-002)
 * and fhir/cr_events.c's rules, one test per code, on the stored Patient
 * before and after a write: NEW and NEWBORN on a creation (CR-ADD-018),
 * COMPOSITE, DEATH and PHN on a revise (CR-REV-020), PHNMERGE on both
 * persons of a merge (CR-MRG-018), NEWBORN_GENDER, PHNJOIN, SSRI, EID,
 * and no event for a write that changes nothing.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_events.h"
#include "cr_test_pool.h"

#define PHN_A "9000000002"
#define PHN_B "9000000019"
#define MRN CR_SYS_SRI_PREFIX "fha-mt" CR_SYS_SRI_SUFFIX
#define CHILD CR_SYS_SRI_PREFIX "fha-arh" CR_SYS_SRI_SUFFIX

#define ID(sys, val) "{\"system\":\"" sys "\",\"value\":\"" val "\"}"
#define ID2(sys, val) \
    "{\"use\":\"secondary\",\"system\":\"" sys "\",\"value\":\"" val "\"}"
#define PHN(v) ID(CR_SYS_PHN, v)
#define MOTHER \
    "\"contained\":[{\"resourceType\":\"RelatedPerson\",\"id\":\"m\"}],"

/* A stored Patient: version vid, identifiers ids (JSON array items),
 * more members (ending with a comma) before the name. */
static json_object *pat(apr_pool_t *pool, int vid, const char *ids,
                        const char *more)
{
    const char *s = apr_psprintf(pool,
        "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{"
        "\"versionId\":\"%d\",\"lastUpdated\":\"2026-01-1%dT10:00:00Z\"},"
        "\"identifier\":[%s],%s\"name\":[{\"family\":\"Smith\"}],"
        "\"birthDate\":\"1980-03-04\"}", vid, vid, ids, more);
    json_object *j = NULL;

    assert_int_equal(cr_json_parse(&j, pool, s, strlen(s), NULL, NULL),
                     APR_SUCCESS);
    return j;
}

#define F "\"gender\":\"female\","

static void test_codes(void **state)
{
    int i;

    (void)state;
    /* CR-TERM-002: the ten codes of the code system, nothing else. */
    assert_string_equal(cr_events_code(0), "NEW");
    assert_string_equal(cr_events_code(9), "EID");
    assert_null(cr_events_code(10));
    for (i = 0; i < CR_EVENTS_COUNT; i++) {
        assert_int_equal(cr_events_bit(cr_events_code(i)), 1u << i);
        assert_non_null(cr_events_display(i));
    }
    assert_int_equal(cr_events_bit("COMPOSITE"), CR_EVT_COMPOSITE);
    assert_int_equal(cr_events_bit("NEWBORN_GENDER"), CR_EVT_NEWBORN_GENDER);
    assert_int_equal(cr_events_bit("COMP"), 0);
    assert_int_equal(cr_events_bit("composite"), 0);
    assert_int_equal(cr_events_bit(""), 0);
    assert_int_equal(cr_events_bit(NULL), 0);
}

/* CR-ADD-018: a new client with a PHN is NEW; a newborn also NEWBORN. */
static void test_new(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool, NULL,
                                      pat(pool, 1, PHN(PHN_A) "," ID(MRN,
                                          "1"), F)),
                     CR_EVT_NEW);
    assert_int_equal(cr_events_derive(pool, NULL,
                                      pat(pool, 1, PHN(PHN_A), MOTHER F)),
                     CR_EVT_NEW | CR_EVT_NEWBORN);
    /* No PHN: nothing to announce. */
    assert_int_equal(cr_events_derive(pool, NULL,
                                      pat(pool, 1, ID(MRN, "1"), F)), 0);
    /* Created dead. */
    assert_int_equal(cr_events_derive(pool, NULL, pat(pool, 1, PHN(PHN_A),
        F "\"deceasedDateTime\":\"2026-01-01\",")),
        CR_EVT_NEW | CR_EVT_DEATH);
}

/* A write that changes nothing but the version causes no event. */
static void test_nothing(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
                                      pat(pool, 2, PHN(PHN_A), F)), 0);
    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
                                      NULL), 0);
}

/* CR-REV-020: a changed composite is COMPOSITE. */
static void test_composite(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
        pat(pool, 2, PHN(PHN_A), "\"gender\":\"male\",")),
        CR_EVT_COMPOSITE);
    /* A new telecom changes the composite too. */
    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
        pat(pool, 2, PHN(PHN_A), F "\"telecom\":[{\"system\":\"phone\","
            "\"value\":\"2505551234\"}],")),
        CR_EVT_COMPOSITE);
}

/* CR-REV-020: DEATH when the deceased value appears or changes. */
static void test_death(void **state)
{
    apr_pool_t *pool = *state;
    json_object *alive = pat(pool, 1, PHN(PHN_A), F);
    json_object *dead = pat(pool, 2, PHN(PHN_A),
                            F "\"deceasedDateTime\":\"2026-01-01\",");

    assert_int_equal(cr_events_derive(pool, alive, dead),
                     CR_EVT_COMPOSITE | CR_EVT_DEATH);
    assert_int_equal(cr_events_derive(pool, dead, pat(pool, 3, PHN(PHN_A),
        F "\"deceasedDateTime\":\"2026-01-02\",")),
        CR_EVT_COMPOSITE | CR_EVT_DEATH);
    assert_int_equal(cr_events_derive(pool, alive, pat(pool, 2, PHN(PHN_A),
        F "\"deceasedBoolean\":true,")),
        CR_EVT_COMPOSITE | CR_EVT_DEATH);
    /* Dead before and after, something else changed: no DEATH. */
    assert_int_equal(cr_events_derive(pool, dead, pat(pool, 3, PHN(PHN_A),
        "\"gender\":\"male\",\"deceasedDateTime\":\"2026-01-01\",")),
        CR_EVT_COMPOSITE);
    /* Resurrected (a correction): the composite changed, not a death. */
    assert_int_equal(cr_events_derive(pool, dead, pat(pool, 3, PHN(PHN_A),
                                                      F)),
                     CR_EVT_COMPOSITE);
}

/* NEWBORN_GENDER: a newborn's gender from unknown or undifferentiated
 * (other) to another value. */
static void test_newborn_gender(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A), MOTHER "\"gender\":\"unknown\","),
        pat(pool, 2, PHN(PHN_A), MOTHER "\"gender\":\"female\",")),
        CR_EVT_COMPOSITE | CR_EVT_NEWBORN_GENDER);
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A), MOTHER "\"gender\":\"other\","),
        pat(pool, 2, PHN(PHN_A), MOTHER "\"gender\":\"male\",")),
        CR_EVT_COMPOSITE | CR_EVT_NEWBORN_GENDER);
    /* Not a newborn, or not from unknown: only COMPOSITE. */
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A), "\"gender\":\"unknown\","),
        pat(pool, 2, PHN(PHN_A), "\"gender\":\"female\",")),
        CR_EVT_COMPOSITE);
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A), MOTHER "\"gender\":\"male\","),
        pat(pool, 2, PHN(PHN_A), MOTHER "\"gender\":\"female\",")),
        CR_EVT_COMPOSITE);
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A), MOTHER "\"gender\":\"other\","),
        pat(pool, 2, PHN(PHN_A), MOTHER "\"gender\":\"unknown\",")),
        CR_EVT_COMPOSITE);
}

/* PHN: the registry's PHN of the person changed (not by a merge). */
static void test_phn(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
                                      pat(pool, 2, PHN(PHN_B), F)),
                     CR_EVT_COMPOSITE | CR_EVT_PHN);
    /* An ended PHN does not count: the person lost its PHN. */
    assert_int_equal(cr_events_derive(pool, pat(pool, 1, PHN(PHN_A), F),
        pat(pool, 2, "{\"system\":\"" CR_SYS_PHN "\",\"value\":\"" PHN_A
            "\",\"period\":{\"end\":\"2026-01-01\"}}", F)),
        CR_EVT_COMPOSITE | CR_EVT_PHN);
}

/* CR-MRG-018: the survivor keeps its PHN and gains the merged one; the
 * non-survivor gives its PHN up for a replaced-by link. */
static void test_phnmerge(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID(MRN, "1"), F),
        pat(pool, 2, PHN(PHN_A) "," ID(MRN, "1") "," PHN(PHN_B), F)),
        CR_EVT_COMPOSITE | CR_EVT_PHNMERGE);
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_B) "," ID(MRN, "2"), F),
        pat(pool, 2, "", F "\"active\":false,\"link\":[{\"other\":{"
            "\"reference\":\"Patient/p0\"},\"type\":\"replaced-by\"}],")),
        CR_EVT_COMPOSITE | CR_EVT_PHNMERGE | CR_EVT_EID);
    /* The non-survivor as the merge writes it: its identifiers kept in
     * the resource, inactive, replaced by the survivor. */
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_B) "," ID(MRN, "2"), F),
        pat(pool, 2, PHN(PHN_B) "," ID(MRN, "2"), F "\"active\":false,"
            "\"link\":[{\"other\":{\"reference\":\"Patient/p0\"},"
            "\"type\":\"replaced-by\"}],")),
        CR_EVT_COMPOSITE | CR_EVT_PHNMERGE);
    /* Its unmerge: the replaced-by link goes, its PHN is its own again. */
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 2, PHN(PHN_B) "," ID(MRN, "2"), F "\"active\":false,"
            "\"link\":[{\"other\":{\"reference\":\"Patient/p0\"},"
            "\"type\":\"replaced-by\"}],"),
        pat(pool, 3, PHN(PHN_B) "," ID(MRN, "2"), F)),
        CR_EVT_COMPOSITE | CR_EVT_PHN);
    /* The survivor that also gains the non-survivor's source record. */
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID(MRN, "1"), F),
        pat(pool, 2, PHN(PHN_A) "," ID(MRN, "1") "," PHN(PHN_B) ","
            ID(MRN, "2"), F)),
        CR_EVT_COMPOSITE | CR_EVT_PHNMERGE | CR_EVT_PHNJOIN);
}

/* PHNJOIN: a source record joined a person that has a PHN. */
static void test_phnjoin(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID(MRN, "1"), F),
        pat(pool, 2, PHN(PHN_A) "," ID(MRN, "1") "," ID(MRN, "7"), F)),
        CR_EVT_COMPOSITE | CR_EVT_PHNJOIN);
    /* Without a PHN there is nothing to join. */
    assert_int_equal(cr_events_derive(pool, pat(pool, 1, ID(MRN, "1"), F),
        pat(pool, 2, ID(MRN, "1") "," ID(MRN, "7"), F)),
        CR_EVT_COMPOSITE);
}

/* SSRI: a child system's record (a secondary SRI) joined the set. */
static void test_ssri(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID(MRN, "1"), F),
        pat(pool, 2, PHN(PHN_A) "," ID(MRN, "1") "," ID2(CHILD, "9"), F)),
        CR_EVT_COMPOSITE | CR_EVT_SSRI);
}

/* EID: a source record left the person (moved to another set). */
static void test_eid(void **state)
{
    apr_pool_t *pool = *state;

    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID(MRN, "1") "," ID(MRN, "2"), F),
        pat(pool, 2, PHN(PHN_A) "," ID(MRN, "1"), F)),
        CR_EVT_COMPOSITE | CR_EVT_EID);
    assert_int_equal(cr_events_derive(pool,
        pat(pool, 1, PHN(PHN_A) "," ID2(CHILD, "9"), F),
        pat(pool, 2, PHN(PHN_A), F)),
        CR_EVT_COMPOSITE | CR_EVT_EID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test_setup_teardown(test_new, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(test_nothing, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_composite, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_death, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_newborn_gender, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_phn, setup_pool, teardown_pool),
        cmocka_unit_test_setup_teardown(test_phnmerge, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_phnjoin, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_ssri, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_eid, setup_pool, teardown_pool),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
