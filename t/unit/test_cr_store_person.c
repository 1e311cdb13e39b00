/*
 * test_cr_store_person.c: the store verbs that write a person and run the
 * asynchronous queue, against a temporary SQLite database through
 * apr_dbd directly (no httpd): a version written with its identifiers
 * and index (insert, update, the lost-update check), PHN assignment,
 * identifier uniqueness, the registry's own source record, merge events
 * and the replaced-by pointer, and the job queue from enqueue to
 * delivery.
 *
 * Each test gets a fresh database in its own mkdtemp directory with every
 * migration of schema/ applied as cr-admin applies them and the whole
 * statement catalogue prepared.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fhir/cr_fhir_patient.h"
#include "store/cr_db.h"
#include "store/cr_store.h"
#include "store/cr_store_async.h"
#include "store/cr_store_person.h"
#include "store/cr_store_source.h"

#define CR_TEST_DB_DIR "/tmp/cr-store-person-XXXXXX"
#include "cr_test_db.h"

#define NOW "2026-01-15T10:00:00.000Z"
#define LATER "2026-01-16T11:30:00.000Z"
/* A source record identifier system (the fixtures' "MRN"). */
#define MRN "https://health.gov.bc.ca/fhir/NamingSystem/" \
            "ca-bc-fha-source-patient-id"

static const cr_phn_range_t full_range = { 0, APR_INT64_C(99999999) };

/* The single value of a query outside the catalogue (checks only). */
static const char *scalar(fixture_t *fx, const char *text)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int rv;

    rv = apr_dbd_select(g_driver, fx->pool, fx->handle, &res, text, 0);
    if (rv != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, rv));
    }
    while (apr_dbd_get_row(g_driver, fx->pool, res, &row, -1) == 0) {
        if (v == NULL) {
            const char *e = apr_dbd_get_entry(g_driver, row, 0);
            v = apr_pstrdup(fx->pool, e ? e : "NULL");
        }
    }
    return v;
}

static cr_patient_t *parse(apr_pool_t *pool, const char *mrn)
{
    const char *json = apr_psprintf(pool,
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\""
        MRN "\",\"value\":\"%s\"}],\"name\":[{\"use\":\"official\","
        "\"family\":\"Smith\",\"given\":[\"Alice\"]}],\"gender\":\"female\","
        "\"birthDate\":\"1980-03-04\",\"address\":[{\"line\":[\"12 Main "
        "St\"],\"city\":\"Victoria\",\"postalCode\":\"V8W 1A1\"}]}", mrn);
    json_object *o = NULL;
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);

    assert_int_equal(cr_json_parse(&o, pool, json, strlen(json), NULL, NULL),
                     APR_SUCCESS);
    if (cr_fhir_patient_parse(&p, pool, o, "Patient", "2026-01-15", NULL, oc)
        != APR_SUCCESS) {
        fail_msg("bad test patient %s: %s", json,
                 cr_outcome_first_error(oc)->text);
    }
    return p;
}

static cr_write_t writer(const char *operation, const char *now)
{
    cr_write_t w;

    w.operation = operation;
    w.caller = NULL;
    w.message_id = "msg-1";
    w.now = now;
    return w;
}

/* Write a new person id holding MRN mrn and a new PHN, committed. */
static cr_patient_t *create(fixture_t *fx, const char *id, const char *mrn)
{
    cr_patient_t *p = parse(fx->pool, mrn);
    cr_write_t w = writer("create", NOW);

    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_assign_phn(fx->db, fx->pool, p,
                                                &full_range, NOW),
                     APR_SUCCESS);
    assert_int_equal(cr_store_person_write(fx->db, fx->pool, p, id, 1, &w),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    return p;
}

static int count(fixture_t *fx, const char *text)
{
    const char *v = scalar(fx, text);

    return v ? atoi(v) : -1;
}

/* The version, its identifiers (MRN and PHN) and index rows; a PHN only
 * when there is none; uniqueness; an update from a stale version is
 * refused. */
static void test_write(void **state)
{
    fixture_t *fx = *state;
    cr_patient_t *p = create(fx, "a", "M1"), *q;
    const cr_identifier_t *phn;
    cr_stored_t *s = NULL;
    cr_write_t w = writer("update", LATER);
    int taken = 0;

    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    assert_non_null(phn);
    assert_string_equal(p->id, "a");
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_identifier"
                               " WHERE patient_id = 'a'"), 2);
    assert_true(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                          " WHERE patient_id = 'a'") > 0);
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, "a"),
                     APR_SUCCESS);
    assert_int_equal(s->version, 1);
    assert_string_equal(s->phn, phn->value);

    /* A PHN is kept, not replaced. */
    assert_int_equal(cr_store_person_assign_phn(fx->db, fx->pool, p,
                                                &full_range, NOW),
                     APR_SUCCESS);
    assert_string_equal(cr_model_find_identifier(p, CR_IDK_PHN)
                        ->value, phn->value);

    /* M1 is a's: taken for anybody else, free for a itself. */
    q = parse(fx->pool, "M1");
    assert_int_equal(cr_store_person_identifier_taken(&taken, fx->db,
                                                      fx->pool, q, NULL, 0),
                     APR_SUCCESS);
    assert_int_equal(taken, 0);
    assert_int_equal(cr_store_person_identifier_taken(&taken, fx->db,
                                                      fx->pool, q, "a", 0),
                     APR_SUCCESS);
    assert_int_equal(taken, -1);
    assert_int_equal(cr_store_person_identifier_taken(&taken, fx->db,
                                                      fx->pool, q, NULL, 1),
                     APR_SUCCESS);
    assert_int_equal(taken, -1);

    /* Version 2 replaces the identifiers; a second version 2 is a lost
     * update. */
    q = parse(fx->pool, "M2");
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_write(fx->db, fx->pool, q, "a", 2, &w),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_string_equal(scalar(fx, "SELECT value FROM cr_identifier"
                                   " WHERE patient_id = 'a'"), "M2");
    assert_string_equal(scalar(fx, "SELECT operation FROM"
                                   " cr_patient_version WHERE patient_id"
                                   " = 'a' AND version_id = 2"), "update");
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_write(fx->db, fx->pool,
                                           parse(fx->pool, "M3"), "a", 2,
                                           &w), CR_DB_CONFLICT);
    cr_db_rollback(fx->db);
}

/* The registry's own record, made once from the current resource;
 * source-record look-ups by id and by patient; ending one value. */
static void test_records(void **state)
{
    fixture_t *fx = *state;
    cr_attr_prov_t prov;
    cr_source_rec_t *rec = NULL;
    apr_array_header_t *ids = NULL;
    int attrs;

    create(fx, "a", "M1");
    memset(&prov, 0, sizeof(prov));
    prov.source_system = "FHA";
    prov.user_id = "jdoe";
    prov.message_id = "msg-2";
    prov.now = LATER;
    assert_int_equal(cr_store_source_get(&rec, fx->db, fx->pool, "reg:a"),
                     APR_NOTFOUND);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_ensure_records(fx->db, fx->pool, "a",
                                                    &prov), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_source_get(&rec, fx->db, fx->pool, "reg:a"),
                     APR_SUCCESS);
    assert_string_equal(rec->patient_id, "a");
    assert_string_equal(rec->source_system, CR_SOURCE_REGISTRY);
    attrs = count(fx, "SELECT COUNT(*) FROM cr_attribute"
                      " WHERE source_record_id = 'reg:a'");
    assert_true(attrs > 0);
    /* The registry's attributes: no user, the operation's message. */
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_attribute"
                               " WHERE source_record_id = 'reg:a' AND"
                               " (user_id IS NOT NULL OR source_system"
                               " <> 'MOH_CRS' OR message_id <> 'msg-2')"),
                     0);

    /* Once only. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_ensure_records(fx->db, fx->pool, "a",
                                                    &prov), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_attribute"
                               " WHERE source_record_id = 'reg:a'"), attrs);
    assert_int_equal(cr_store_source_list_patient(&ids, fx->db, fx->pool,
                                                  "a"), APR_SUCCESS);
    assert_int_equal(ids->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(ids, 0, const char *), "reg:a");

    /* End the gender value. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_source_end_value(
        fx->db, fx->pool, "reg:a", "gender",
        scalar(fx, "SELECT value FROM cr_attribute WHERE kind = 'gender'"),
        "2026-01-16", LATER), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_attribute"
                               " WHERE source_record_id = 'reg:a' AND"
                               " period_end IS NULL"), attrs - 1);
}

/* A merge event found by the non-survivor's identifier until undone; the
 * replaced-by pointer; the records a merge moved. */
static void test_merge(void **state)
{
    fixture_t *fx = *state;
    cr_merge_event_t e, *found = NULL;
    cr_stored_t *s = NULL;
    apr_array_header_t *ids = NULL;

    create(fx, "a", "M1");
    create(fx, "b", "M2");
    e.id = "m1";
    e.survivor_id = "a";
    e.nonsurvivor_id = "b";
    e.nonsurvivor_version = 1;
    e.ns_system = MRN;
    e.ns_value = "M2";
    assert_int_equal(cr_store_person_merge_find(&found, fx->db, fx->pool,
                                                MRN, "M2"), APR_NOTFOUND);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_merge_insert(fx->db, fx->pool, &e, NOW,
                                                  "msg-3"), APR_SUCCESS);
    assert_int_equal(cr_store_person_set_replaced_by(fx->db, fx->pool, "b",
                                                     "a"), APR_SUCCESS);
    assert_int_equal(cr_store_source_insert(fx->db, fx->pool, "r1", "a",
                                            "FHA", MRN, "M2", "{}", NOW),
                     APR_SUCCESS);
    assert_int_equal(cr_store_source_move(fx->db, fx->pool, "r1", "a",
                                          "merged", "m1", NOW),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_person_merge_find(&found, fx->db, fx->pool,
                                                MRN, "M2"), APR_SUCCESS);
    assert_string_equal(found->id, "m1");
    assert_string_equal(found->survivor_id, "a");
    assert_string_equal(found->nonsurvivor_id, "b");
    assert_int_equal(found->nonsurvivor_version, 1);
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, "b"),
                     APR_SUCCESS);
    assert_string_equal(s->replaced_by, "a");
    assert_int_equal(cr_store_source_list_merge(&ids, fx->db, fx->pool,
                                                "m1"), APR_SUCCESS);
    assert_int_equal(ids->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(ids, 0, const char *), "r1");

    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_person_merge_undo(fx->db, fx->pool, "m1",
                                                LATER), APR_SUCCESS);
    assert_int_equal(cr_store_person_set_replaced_by(fx->db, fx->pool, "b",
                                                     NULL), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_person_merge_find(&found, fx->db, fx->pool,
                                                MRN, "M2"), APR_NOTFOUND);
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, "b"),
                     APR_SUCCESS);
    assert_true(s->replaced_by == NULL || *s->replaced_by == '\0');
}

/* A job from the queue to its delivery: due, claimed by one worker only,
 * read back, executed, answered, delivered. */
static void test_async(void **state)
{
    fixture_t *fx = *state;
    cr_async_job_t job, got;
    apr_array_header_t *due = NULL;
    int won = 0;

    memset(&job, 0, sizeof(job));
    job.id = "j1";
    job.operation = "RevisePatient";
    job.body = "{}";
    job.settings = "{\"base\":\"http://localhost\"}";
    job.message_id = "msg-4";
    job.org_id = "FHA";
    job.user_id = "jdoe";
    job.if_match = 3;
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_async_insert(fx->db, fx->pool, &job, NOW),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);

    assert_int_equal(cr_store_async_due(&due, fx->db, fx->pool, NOW, 8),
                     APR_SUCCESS);
    assert_int_equal(due->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(due, 0, const char *), "j1");
    assert_int_equal(cr_store_async_claim(&won, fx->db, fx->pool, "j1", NOW,
                                          LATER), APR_SUCCESS);
    assert_int_equal(won, 1);
    assert_int_equal(cr_store_async_claim(&won, fx->db, fx->pool, "j1", NOW,
                                          LATER), APR_SUCCESS);
    assert_int_equal(won, 0);
    assert_int_equal(cr_store_async_due(&due, fx->db, fx->pool, NOW, 8),
                     APR_SUCCESS);
    assert_int_equal(due->nelts, 0);

    memset(&got, 0, sizeof(got));
    assert_int_equal(cr_store_async_get(&got, fx->db, fx->pool, "j9"),
                     APR_NOTFOUND);
    assert_int_equal(cr_store_async_get(&got, fx->db, fx->pool, "j1"),
                     APR_SUCCESS);
    assert_string_equal(got.id, "j1");
    assert_string_equal(got.operation, "RevisePatient");
    assert_string_equal(got.org_id, "FHA");
    assert_null(got.source_system);
    assert_int_equal(got.if_match, 3);
    assert_int_equal(got.executed, 0);
    assert_null(got.result);
    assert_int_equal(got.attempts, 0);

    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_async_mark_executed(fx->db, fx->pool, "j1"),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_async_set_result(fx->db, fx->pool, "j1",
                                               "{\"ok\":1}", 200, NOW),
                     APR_SUCCESS);
    assert_int_equal(cr_store_async_get(&got, fx->db, fx->pool, "j1"),
                     APR_SUCCESS);
    assert_int_equal(got.executed, 1);
    assert_string_equal(got.result, "{\"ok\":1}");
    assert_int_equal(got.result_status, 200);

    assert_int_equal(cr_store_async_reschedule(fx->db, fx->pool, "j1",
                                               "delivered", 1, LATER, NULL,
                                               LATER), APR_SUCCESS);
    assert_string_equal(scalar(fx, "SELECT status || ' ' || attempts FROM"
                                   " cr_async_job"), "delivered 1");
    assert_int_equal(cr_store_async_due(&due, fx->db, fx->pool, LATER, 8),
                     APR_SUCCESS);
    assert_int_equal(due->nelts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
