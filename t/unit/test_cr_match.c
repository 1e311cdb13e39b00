/*
 * test_cr_match.c: unit tests for cr_match (match records, blocking keys,
 * comparison vectors, Fellegi-Sunter weights, scores, grades and the EM
 * estimation).
 *
 * The comparison tests are table-driven: two small record texts and the
 * level expected for one field, covering every level of every field.  The
 * EM test draws a synthetic set of candidate pairs from a known two-class
 * model with a fixed pseudo-random sequence (so the test is exactly
 * reproducible) and checks that EM recovers the model's m, u and lambda.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"
#include "match/cr_match.h"
#include "cr_test_cancel.h"
#include "core/cr_outcome.h"
#include "match/cr_similarity.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int setup(void **state)
{
    apr_pool_t *pool;

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = pool;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static cr_patient_t *patient(apr_pool_t *pool, const char *json)
{
    json_object *o = NULL;
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);

    assert_int_equal(cr_json_parse(&o, pool, json, strlen(json), NULL, NULL),
                     APR_SUCCESS);
    if (cr_fhir_patient_parse(&p, pool, o, "Patient", "2026-01-01", NULL,
                              oc) != APR_SUCCESS) {
        fail_msg("invalid test patient: %s",
                 cr_json_serialize(pool, cr_outcome_to_json(pool, oc),
                                   NULL));
    }
    return p;
}

static void rec(apr_pool_t *pool, cr_match_record_t *r, const char *text)
{
    assert_int_equal(cr_match_record_parse(r, pool, text), APR_SUCCESS);
}

/* ------------------------------------------------------------------ */

static void test_names(void **state)
{
    int f, l;

    (void)state;
    for (f = 0; f < CR_MF_COUNT; f++) {
        const char *name = cr_match_field_name(f);
        assert_non_null(name);
        assert_int_equal(cr_match_field_from_name(name), f);
        assert_true(cr_match_field_levels(f) >= 2);
        assert_true(cr_match_field_levels(f) <= CR_MATCH_MAX_LEVELS);
        for (l = 0; l < cr_match_field_levels(f); l++) {
            assert_int_equal(cr_match_level_from_name(
                                 f, cr_match_level_name(f, l)), l);
        }
        assert_null(cr_match_level_name(f, cr_match_field_levels(f)));
        /* The last level is always disagreement. */
        assert_string_equal(cr_match_level_name(
                                f, cr_match_field_levels(f) - 1),
                            "disagree");
    }
    assert_null(cr_match_field_name(CR_MF_COUNT));
    assert_int_equal(cr_match_field_from_name("nope"), -1);
    assert_int_equal(cr_match_level_from_name(0, "nope"), -1);
    assert_int_equal(cr_match_field_levels(CR_MF_BIRTH),
                     CR_SIMILARITY_DATE_LEVELS);
}

/* ------------------------------------------------------------------ */

static void test_record_build(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = patient(pool,
        "{\"resourceType\":\"Patient\","
        "\"name\":[{\"family\":\"De La Cruz\",\"given\":[\"Mary-Ann\","
        "\"Zoë\"]},{\"family\":\"O'Brien\",\"given\":[\"Mary\"],"
        "\"period\":{\"end\":\"2001-01-01\"}}],"
        "\"gender\":\"female\",\"birthDate\":\"1980-03-04\","
        "\"telecom\":[{\"system\":\"phone\",\"value\":\"+1 (250) 555-0123\"},"
        "{\"system\":\"email\",\"value\":\"a@b.c\"}],"
        "\"address\":[{\"line\":[\"Unit 5\",\"1200 Main St.\"],"
        "\"city\":\"Victoria\",\"postalCode\":\"v8w 1a1\"}]}");
    const char *text = cr_match_record_build(pool, p);
    cr_match_record_t r;

    /* Current names first, e-mail left out, the
     * first number of the lines is the house number, "St." spelled out. */
    assert_string_equal(text,
                        "1|f|19800304|de la cruz,mary ann zoe;obrien,mary|"
                        "2505550123|V8W1A1,5,unit main street,victoria");
    rec(pool, &r, text);
    assert_int_equal(r.sex, 'f');
    assert_string_equal(r.birth, "19800304");
    assert_int_equal(r.nnames, 2);
    assert_string_equal(r.name[0].family_compact, "delacruz");
    assert_string_equal(r.name[0].given_first, "mary");
    assert_string_equal(r.name[0].given_compact, "maryannzoe");
    assert_int_equal(r.nphones, 1);
    assert_int_equal(r.naddrs, 1);
    assert_string_equal(r.addr[0].house, "5");
    assert_string_equal(r.addr[0].city_compact, "victoria");
}

static void test_record_partial_and_empty(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t r;

    assert_string_equal(cr_match_record_build(pool, patient(pool,
        "{\"resourceType\":\"Patient\",\"birthDate\":\"1980-03\","
        "\"gender\":\"unknown\"}")), "1||198003|||");
    assert_string_equal(cr_match_record_build(pool, patient(pool,
        "{\"resourceType\":\"Patient\",\"birthDate\":\"1980\","
        "\"gender\":\"male\",\"name\":[{\"text\":\"John Q Public\"}]}")),
        "1|m|1980|public,john q||");
    assert_string_equal(cr_match_record_build(pool, patient(pool,
        "{\"resourceType\":\"Patient\"}")), "1|||||");
    rec(pool, &r, "1|||||");
    assert_int_equal(cr_match_record_fields(&r), 0);
    rec(pool, &r, "1|m|1980|public,john||");
    assert_int_equal(cr_match_record_fields(&r), 4);
}

static void test_record_parse_rejects(void **state)
{
    apr_pool_t *pool = *state;
    static const char *const bad[] = {
        "", "2|||||", "1||||", "1|||||x", "1|mm||||", "1||19x0||||",
        "1||198001011||||", "1|||smith||",
        "1|||||V8W1A1,1,main",
    };
    cr_match_record_t r;
    size_t i;

    assert_int_equal(cr_match_record_parse(&r, pool, NULL), APR_EINVAL);
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        if (cr_match_record_parse(&r, pool, bad[i]) != APR_EINVAL) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_int_equal(r.nnames + r.nphones + r.naddrs, 0);
    }
}

/* A hostile patient cannot make the record longer than the bound. */
static void test_record_bound(void **state)
{
    apr_pool_t *pool = *state;
    const char *long_name = apr_pstrcat(pool,
        "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        NULL);
    const char *json = "{\"resourceType\":\"Patient\",\"name\":[";
    const char *text;
    cr_match_record_t r;
    int i;

    for (i = 0; i < 20; i++) {
        json = apr_pstrcat(pool, json, i ? "," : "", "{\"family\":\"",
                           long_name, "\",\"given\":[\"", long_name, "\",\"",
                           long_name, "\",\"", long_name, "\",\"", long_name,
                           "\"]}", NULL);
    }
    json = apr_pstrcat(pool, json, "]}", NULL);
    text = cr_match_record_build(pool, patient(pool, json));
    assert_true(strlen(text) < CR_MATCH_RECORD_MAX);
    rec(pool, &r, text);
    assert_int_equal(r.nnames, CR_MATCH_MAX_NAMES);
    assert_true(strlen(r.name[0].family) <= CR_MATCH_MAX_TEXT);
}

/* ------------------------------------------------------------------ */

static int has_key(const apr_array_header_t *keys, const char *kind,
                   const char *value)
{
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const cr_match_key_t *k = &APR_ARRAY_IDX(keys, i, cr_match_key_t);
        if (strcmp(k->kind, kind) == 0 && strcmp(k->value, value) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_keys(void **state)
{
    apr_pool_t *pool = *state;
    apr_array_header_t *keys = NULL, *swapped = NULL;
    cr_match_record_t r, s;
    int i;

    rec(pool, &r, "1|f|19800304|smith,john|2505550123|"
                  "V8W1A1,12,main street,victoria");
    cr_match_keys(&keys, pool, &r, "9123456782");
    assert_true(has_key(keys, CR_MATCH_KIND_DOB, "19800304|j"));
    assert_true(has_key(keys, CR_MATCH_KIND_DOB, "19800304|s"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_YEAR, "SM0|j|1980"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_DAY, "SM0|j|0304"));
    assert_true(has_key(keys, CR_MATCH_KIND_GIV_YEAR, "JN|s|1980"));
    assert_true(has_key(keys, CR_MATCH_KIND_NAMES, "JN|SM0"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_HOUSE, "SM0|12"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_STREET, "SM0|MN"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_HOUSE, "JN|12"));
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_STREET, "JN|MN"));
    assert_true(has_key(keys, CR_MATCH_KIND_DOB_CITY, "19800304|FKTR"));
    assert_true(has_key(keys, CR_MATCH_KIND_DAY_STREET, "0304|MN"));
    assert_true(has_key(keys, CR_MATCH_KIND_DAY_POSTAL, "0304|V8W1A1"));
    assert_true(has_key(keys, CR_MATCH_KIND_HOUSEHOLD, "12|MN|FKTR"));
    assert_true(has_key(keys, CR_MATCH_KIND_POSTAL_GIV, "V8W1A1|j"));
    assert_true(has_key(keys, CR_MATCH_KIND_POSTAL_FAM, "V8W1A1|SM0"));
    assert_true(has_key(keys, CR_MATCH_KIND_POSTAL_HOUSE, "V8W1A1|12"));
    assert_true(has_key(keys, CR_MATCH_KIND_PHONE, "2505550123"));
    assert_true(has_key(keys, CR_MATCH_KIND_PHN, "9123456782"));
    assert_int_equal(keys->nelts, 19);
    for (i = 0; i < keys->nelts; i++) {
        assert_memory_equal(APR_ARRAY_IDX(keys, i, cr_match_key_t).kind,
                            "bk:", 3);
    }

    /* Exchanged given and family names share the sorted name key. */
    rec(pool, &s, "1||19800304|john,smith||");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_NAMES, "JN|SM0"));
    assert_true(has_key(swapped, CR_MATCH_KIND_DOB, "19800304|j"));
    assert_true(has_key(swapped, CR_MATCH_KIND_DOB, "19800304|s"));
    /* Names exchanged and one misspelt, postal code and birth date
     * mistyped: the household keys of the other name still agree. */
    swapped = NULL;
    rec(pool, &s, "1|f|19810304|jonh,smith|"
                  "|V8W1A2,12,main street,victoria");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_FAM_HOUSE, "SM0|12"));
    assert_true(has_key(swapped, CR_MATCH_KIND_FAM_STREET, "SM0|MN"));
    /* Names and postal code mistyped: the birth date and the city. */
    swapped = NULL;
    rec(pool, &s, "1|f|19800304|smyht,jhon||V8W1A2,,,victoria");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_DOB_CITY, "19800304|FKTR"));
    /* Both names and the birth year mistyped, postal code missing: the
     * birth day and month with the street, and the household. */
    swapped = NULL;
    rec(pool, &s, "1|f|19810304|smyht,jhon||,12,main street,victoria");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_DAY_STREET, "0304|MN"));
    assert_true(has_key(swapped, CR_MATCH_KIND_HOUSEHOLD, "12|MN|FKTR"));
    /* Day and month exchanged: the same month-day keys. */
    swapped = NULL;
    rec(pool, &s, "1|f|19800403|smyht,jhon||V8W1A1,,main street,");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_DAY_STREET, "0304|MN"));
    assert_true(has_key(swapped, CR_MATCH_KIND_DAY_POSTAL, "0304|V8W1A1"));
    /* No name at all: the birth date alone. */
    swapped = NULL;
    rec(pool, &s, "1|f|19800304|||");
    cr_match_keys(&swapped, pool, &s, NULL);
    assert_true(has_key(swapped, CR_MATCH_KIND_DOB, "19800304|"));
    assert_int_equal(swapped->nelts, 1);

    /* Nothing to block on: no keys. */
    keys = NULL;
    rec(pool, &r, "1|m||||");
    cr_match_keys(&keys, pool, &r, NULL);
    assert_int_equal(keys->nelts, 0);
    /* A partial birth date gives the year keys only. */
    keys = NULL;
    rec(pool, &r, "1||1980|smith,john||");
    cr_match_keys(&keys, pool, &r, NULL);
    assert_true(has_key(keys, CR_MATCH_KIND_FAM_YEAR, "SM0|j|1980"));
    assert_int_equal(keys->nelts, 3);
}

static void test_keys_bound(void **state)
{
    apr_pool_t *pool = *state;
    apr_array_header_t *keys = NULL;
    cr_match_record_t r;

    rec(pool, &r, "1||19800304|baker,carl;dixon,ethan;fisher,gavin;"
                  "hughes,ivan|1111111111;2222222222|"
                  "V1V1V1,1,main street,c;V2V2V2,2,oak street,c;"
                  "V3V3V3,3,pine street,c;V4V4V4,4,elm street,c");
    cr_match_keys(&keys, pool, &r, "9123456782");
    assert_int_equal(keys->nelts, CR_MATCH_MAX_KEYS);
    /* The identifying keys come first and survive the bound. */
    assert_true(has_key(keys, CR_MATCH_KIND_PHN, "9123456782"));
    assert_true(has_key(keys, CR_MATCH_KIND_PHONE, "2222222222"));
    assert_true(has_key(keys, CR_MATCH_KIND_DOB, "19800304|b"));
    assert_true(has_key(keys, CR_MATCH_KIND_POSTAL_HOUSE, "V4V4V4|4"));
}

/* The query order: the same keys, the selective kinds first, stable
 * within a kind. */
static void test_keys_for_query(void **state)
{
    apr_pool_t *pool = *state;
    apr_array_header_t *keys = NULL, *before;
    cr_match_record_t r;
    const char *order[] = {
        CR_MATCH_KIND_PHONE, CR_MATCH_KIND_DOB, CR_MATCH_KIND_FAM_YEAR,
        CR_MATCH_KIND_DOB_CITY, CR_MATCH_KIND_HOUSEHOLD,
        CR_MATCH_KIND_POSTAL_GIV, CR_MATCH_KIND_FAM_HOUSE
    };
    int i, j, last = -1, first_fh = -1, second_fh = -1;

    rec(pool, &r, "1|f|19800304|baker,carla;dixon,carla|2505550100|"
                  "V1V1V1,12,main street,victoria;"
                  "V2V2V2,7,oak street,saanich");
    cr_match_keys(&keys, pool, &r, NULL);
    before = apr_array_copy(pool, keys);
    cr_match_keys_for_query(keys);
    assert_int_equal(keys->nelts, before->nelts);
    for (i = 0; i < before->nelts; i++) {
        const cr_match_key_t *k = &APR_ARRAY_IDX(before, i, cr_match_key_t);
        assert_true(has_key(keys, k->kind, k->value));
    }
    /* Kinds in the order above, wherever both occur. */
    for (j = 0; j < (int)(sizeof(order) / sizeof(order[0])); j++) {
        int at = -1;
        for (i = 0; i < keys->nelts && at < 0; i++) {
            if (strcmp(APR_ARRAY_IDX(keys, i, cr_match_key_t).kind,
                       order[j]) == 0) {
                at = i;
            }
        }
        assert_true(at >= 0);
        assert_true(at > last);
        last = at;
    }
    /* Stable: two keys of one kind keep their order. */
    for (i = 0; i < before->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(before, i, cr_match_key_t).kind,
                   CR_MATCH_KIND_FAM_HOUSE) == 0) {
            if (first_fh < 0) {
                first_fh = i;
            }
            else if (second_fh < 0) {
                second_fh = i;
            }
        }
    }
    assert_true(first_fh >= 0 && second_fh >= 0);
    for (i = 0, j = 0; i < keys->nelts; i++) {
        const cr_match_key_t *k = &APR_ARRAY_IDX(keys, i, cr_match_key_t);
        if (strcmp(k->kind, CR_MATCH_KIND_FAM_HOUSE) == 0 && j < 2) {
            const cr_match_key_t *want = &APR_ARRAY_IDX(
                before, j == 0 ? first_fh : second_fh, cr_match_key_t);
            assert_string_equal(k->value, want->value);
            j++;
        }
    }
}

/* ------------------------------------------------------------------ */

typedef struct {
    int field;
    int level;
    const char *a;
    const char *b;
} cmp_vector_t;

#define N(f, g) "1|||" f "," g "||"
#define D(d) "1||" d "|||"
#define A(a) "1|||||" a

static const cmp_vector_t cmp_vectors[] = {
    /* given */
    { CR_MF_GIVEN, CR_ML_GIVEN_EXACT, N("x", "john"), N("y", "john") },
    { CR_MF_GIVEN, CR_ML_GIVEN_EXACT, N("x", "john paul"), N("y", "john") },
    { CR_MF_GIVEN, CR_ML_GIVEN_EXACT, N("x", "hayd en"), N("y", "hayden") },
    { CR_MF_GIVEN, CR_ML_GIVEN_NICKNAME, N("x", "bob"), N("y", "robert") },
    { CR_MF_GIVEN, CR_ML_GIVEN_NICKNAME, N("x", "liz"), N("y", "beth") },
    { CR_MF_GIVEN, CR_ML_GIVEN_SIMILAR, N("x", "martha"), N("y", "marhta") },
    { CR_MF_GIVEN, CR_ML_GIVEN_PHONETIC, N("x", "philip"),
      N("y", "filip") },
    { CR_MF_GIVEN, CR_ML_GIVEN_PARTIAL, N("x", "ann mary"), N("y", "mary") },
    { CR_MF_GIVEN, CR_ML_GIVEN_PARTIAL, N("x", "j"), N("y", "john") },
    { CR_MF_GIVEN, CR_ML_GIVEN_PARTIAL, N("x", "margaret"),
      N("y", "mildred") },
    { CR_MF_GIVEN, CR_ML_GIVEN_SWAPPED, N("smith", "john"),
      N("john", "smith") },
    { CR_MF_GIVEN, CR_ML_GIVEN_DISAGREE, N("x", "edward"), N("y", "amelia") },
    { CR_MF_GIVEN, CR_MATCH_MISSING, N("x", ""), N("y", "amelia") },
    /* family */
    { CR_MF_FAMILY, CR_ML_FAMILY_EXACT, N("de la cruz", "a"),
      N("delacruz", "a") },
    { CR_MF_FAMILY, CR_ML_FAMILY_SIMILAR, N("harrington", "a"),
      N("harringtn", "a") },
    /* Two edits in ten letters: similar; one in four: not. */
    { CR_MF_FAMILY, CR_ML_FAMILY_SIMILAR, N("harrington", "a"),
      N("hanringtom", "a") },
    { CR_MF_FAMILY, CR_ML_FAMILY_DISAGREE, N("kemp", "a"),
      N("kent", "a") },
    { CR_MF_FAMILY, CR_ML_FAMILY_PHONETIC, N("smith", "a"),
      N("schmidt", "a") },
    { CR_MF_FAMILY, CR_ML_FAMILY_PARTIAL, N("garcia lopez", "a"),
      N("lopez", "a") },
    /* An exchange counts once, in the given field; the family field
     * holds the other name compared crosswise. */
    { CR_MF_FAMILY, CR_ML_FAMILY_EXACT, N("paterson", "madeleine"),
      N("madeleine", "paterson") },
    { CR_MF_GIVEN, CR_ML_GIVEN_SWAPPED, N("paterson", "madeleine"),
      N("madeleine", "patersno") },
    { CR_MF_FAMILY, CR_ML_FAMILY_SIMILAR, N("paterson", "madeleine"),
      N("madeleine", "patersno") },
    { CR_MF_GIVEN, CR_ML_GIVEN_SWAPPED, N("paterson", "madeleine"),
      N("fulton", "paterson") },
    { CR_MF_FAMILY, CR_ML_FAMILY_DISAGREE, N("paterson", "madeleine"),
      N("fulton", "paterson") },
    { CR_MF_GIVEN, CR_ML_GIVEN_DISAGREE, N("paterson", "madeleine"),
      N("fulton", "edward") },
    { CR_MF_FAMILY, CR_ML_FAMILY_DISAGREE, N("julius", "a"),
      N("stephenson", "a") },
    { CR_MF_FAMILY, CR_MATCH_MISSING, N("", "a"), N("smith", "a") },
    /* birth */
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_EXACT, D("19800304"), D("19800304") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_SWAP_DAY_MONTH, D("19800304"),
      D("19800403") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO, D("19800304"),
      D("19810304") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE, D("19790304"),
      D("19800304") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_SAME_YEAR_MONTH, D("19800304"),
      D("19800321") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_SAME_YEAR_MONTH, D("1980"),
      D("19800321") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_DISAGREE, D("198004"), D("19800321") },
    { CR_MF_BIRTH, CR_SIMILARITY_DATE_DISAGREE, D("19850614"),
      D("19610831") },
    { CR_MF_BIRTH, CR_MATCH_MISSING, D(""), D("19610831") },
    /* sex */
    { CR_MF_SEX, CR_ML_SEX_AGREE, "1|f||||", "1|f||||" },
    { CR_MF_SEX, CR_ML_SEX_DISAGREE, "1|f||||", "1|m||||" },
    { CR_MF_SEX, CR_MATCH_MISSING, "1|||||", "1|m||||" },
    /* phone: the best pair of numbers counts */
    { CR_MF_PHONE, CR_ML_CODE_EXACT, "1||||2505550123;6045550000|",
      "1||||6045550000|" },
    { CR_MF_PHONE, CR_ML_CODE_TYPO, "1||||2505550123|",
      "1||||2505550132|" },
    { CR_MF_PHONE, CR_ML_CODE_DISAGREE, "1||||2505550123|",
      "1||||6045550000|" },
    /* postal */
    { CR_MF_POSTAL, CR_ML_CODE_EXACT, A("V8W1A1,,,"), A("V8W1A1,,,") },
    { CR_MF_POSTAL, CR_ML_CODE_TYPO, A("4011,,,"), A("4012,,,") },
    { CR_MF_POSTAL, CR_ML_CODE_TYPO, A("2405,,,"), A("2450,,,") },
    { CR_MF_POSTAL, CR_ML_CODE_DISAGREE, A("2405,,,"), A("3000,,,") },
    { CR_MF_POSTAL, CR_MATCH_MISSING, A(",1,,"), A("3000,,,") },
    /* address: house, street words and city judged together */
    { CR_MF_ADDRESS, CR_ML_ADDR_EXACT, A(",12,main street,victoria"),
      A(",12,main street,victoria") },
    { CR_MF_ADDRESS, CR_ML_ADDR_EXACT, A(",16,langdon avenue arawang,x"),
      A(",16,arawang langdon avenue,x") },
    { CR_MF_ADDRESS, CR_ML_ADDR_EXACT, A(",,tallara p arkway,"),
      A(",1,tallara parkway,") },
    { CR_MF_ADDRESS, CR_ML_ADDR_SIMILAR, A(",38,maltby circuit coaling,x"),
      A(",,maltby circuit,x") },
    { CR_MF_ADDRESS, CR_ML_ADDR_SIMILAR, A(",1,givens street bonnington,"),
      A(",1,givens srteet bonington,") },
    { CR_MF_ADDRESS, CR_ML_ADDR_SIMILAR, A(",7,main street,gowrie"),
      A(",7,main street,gowwie") },
    { CR_MF_ADDRESS, CR_ML_ADDR_STREET, A(",12,main street,victoria"),
      A(",109,main street,victoria") },
    { CR_MF_ADDRESS, CR_ML_ADDR_STREET, A(",12,main street uptown,"),
      A(",12,main street downtown,") },
    { CR_MF_ADDRESS, CR_ML_ADDR_LOCALITY, A(",12,main street,victoria"),
      A(",5,oak street,victoria") },
    { CR_MF_ADDRESS, CR_ML_ADDR_LOCALITY, A(",12,main street uptown,"),
      A(",5,main street downtown,") },
    { CR_MF_ADDRESS, CR_ML_ADDR_DISAGREE, A(",12,main street,yass"),
      A(",5,oak street,kedron") },
    { CR_MF_ADDRESS, CR_MATCH_MISSING, A("V8W1A1,,,"), A(",5,oak street,") },
};

static void test_compare_levels(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(cmp_vectors); i++) {
        const cmp_vector_t *c = &cmp_vectors[i];
        cr_match_record_t a, b;
        cr_match_vector_t v, w;
        rec(pool, &a, c->a);
        rec(pool, &b, c->b);
        cr_match_compare(&v, &a, &b);
        cr_match_compare(&w, &b, &a);
        if (v.level[c->field] != c->level) {
            fail_msg("%s of '%s' and '%s': level %d, expected %d",
                     cr_match_field_name(c->field), c->a, c->b,
                     v.level[c->field], c->level);
        }
        /* Symmetric. */
        assert_memory_equal(v.level, w.level, sizeof(v.level));
    }
}

/* Fields absent on either side are missing, never agreement. */
static void test_compare_empty(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_vector_t v;
    int f;

    rec(pool, &a, "1|||||");
    rec(pool, &b, "1|||||");
    cr_match_compare(&v, &a, &b);
    for (f = 0; f < CR_MF_COUNT; f++) {
        assert_int_equal(v.level[f], CR_MATCH_MISSING);
    }
}

/* ------------------------------------------------------------------ */

static void test_weights_and_grades(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_params_t p;
    cr_match_record_t a, b, c, twin;
    cr_match_vector_t v;
    cr_match_thresholds_t t = { CR_MATCH_DEFAULT_CERTAIN,
                                CR_MATCH_DEFAULT_PROBABLE,
                                CR_MATCH_DEFAULT_POSSIBLE };
    double w_same, w_typo, w_other, sum;
    int f, l;

    cr_match_params_default(&p);
    for (f = 0; f < CR_MF_COUNT; f++) {
        double sm = 0.0, su = 0.0;
        int n = cr_match_field_levels(f);
        for (l = 0; l < n; l++) {
            sm += p.m[f][l];
            su += p.u[f][l];
            /* The defaults' weights are log2(m/u), except that an error
             * pattern (a day and month exchanged, the unused family
             * "swapped") weighs no more than exact agreement
             * (cr_match_weights_monotone). */
            {
                double raw = log2(p.m[f][l] / p.u[f][l]);
                double want = l > 0 && raw > p.w[f][0] ? p.w[f][0] : raw;
                assert_true(fabs(p.w[f][l] - want) < 1e-9);
            }
        }
        assert_true(fabs(sm - 1.0) < 1e-9 && fabs(su - 1.0) < 1e-9);
        /* Agreement counts for, disagreement against. */
        assert_true(p.w[f][0] > 0.0);
        assert_true(p.w[f][n - 1] < 0.0);
    }

    rec(pool, &a, "1|f|19800304|smith,alice|2505550100|"
                  "V8W1A1,1,main street,victoria");
    rec(pool, &b, "1|f|19800304|smyth,alice|2505550109|"
                  "V8W1A1,1,main street,victoria");
    rec(pool, &c, "1|m|19620101|jones,peter|6045551234|"
                  "V6B2C2,77,oak street,vancouver");
    rec(pool, &twin, "1|f|19800304|smith,mary|2505550100|"
                     "V8W1A1,1,main street,victoria");

    cr_match_compare(&v, &a, &a);
    w_same = cr_match_weight(&p, &v);
    for (sum = 0.0, f = 0; f < CR_MF_COUNT; f++) {
        sum += p.w[f][0];
    }
    assert_true(fabs(w_same - sum) < 1e-9);
    assert_int_equal(cr_match_grade(&t, cr_match_score(&p, w_same), &v),
                     CR_MATCH_CERTAIN);

    cr_match_compare(&v, &a, &b);
    w_typo = cr_match_weight(&p, &v);
    assert_true(w_typo < w_same);
    assert_true(cr_match_grade(&t, cr_match_score(&p, w_typo), &v)
                <= CR_MATCH_PROBABLE);

    cr_match_compare(&v, &a, &c);
    w_other = cr_match_weight(&p, &v);
    assert_true(w_other < 0.0);
    assert_int_equal(cr_match_grade(&t, cr_match_score(&p, w_other), &v),
                     CR_MATCH_CERTAINLY_NOT);

    /* A twin shares everything but the given name: never certain. */
    cr_match_compare(&v, &a, &twin);
    assert_int_equal(v.level[CR_MF_GIVEN], CR_ML_GIVEN_DISAGREE);
    assert_int_equal(cr_match_grade(&t, 1.0, &v), CR_MATCH_PROBABLE);
    assert_int_equal(cr_match_grade(&t, 1.0, NULL), CR_MATCH_CERTAIN);
    /* Nor a new family name with everything else the same. */
    rec(pool, &twin, "1|f|19800304|jones,alice|2505550100|"
                     "V8W1A1,1,main street,victoria");
    cr_match_compare(&v, &a, &twin);
    assert_int_equal(v.level[CR_MF_FAMILY], CR_ML_FAMILY_DISAGREE);
    assert_true(cr_match_score(&p, cr_match_weight(&p, &v)) >= 0.99);
    assert_int_equal(cr_match_grade(&t, cr_match_score(&p,
                                        cr_match_weight(&p, &v)), &v),
                     CR_MATCH_PROBABLE);

    /* The score is the posterior: monotone, in [0, 1], 0.5 where the
     * weight balances the prior odds. */
    assert_true(cr_match_score(&p, -1000.0) == 0.0);
    assert_true(cr_match_score(&p, 1000.0) == 1.0);
    assert_true(cr_match_score(&p, 3.0) > cr_match_score(&p, 2.0));
    assert_true(fabs(cr_match_score(&p, log2((1 - p.lambda) / p.lambda))
                     - 0.5) < 1e-9);

    assert_int_equal(cr_match_grade(&t, 0.99, NULL), CR_MATCH_CERTAIN);
    assert_int_equal(cr_match_grade(&t, 0.9899, NULL), CR_MATCH_PROBABLE);
    assert_int_equal(cr_match_grade(&t, 0.5, NULL), CR_MATCH_PROBABLE);
    assert_int_equal(cr_match_grade(&t, 0.05, NULL), CR_MATCH_POSSIBLE);
    assert_int_equal(cr_match_grade(&t, 0.0499, NULL),
                     CR_MATCH_CERTAINLY_NOT);
    assert_string_equal(cr_match_grade_name(CR_MATCH_CERTAIN), "certain");
    assert_string_equal(cr_match_grade_name(CR_MATCH_PROBABLE), "probable");
    assert_string_equal(cr_match_grade_name(CR_MATCH_POSSIBLE), "possible");
    assert_string_equal(cr_match_grade_name(CR_MATCH_CERTAINLY_NOT),
                        "certainly-not");
}

static void test_params_finish(void **state)
{
    cr_match_params_t p;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.m[CR_MF_SEX][0] = 3.0;
    p.m[CR_MF_SEX][1] = 1.0;
    p.u[CR_MF_SEX][0] = 0.0;     /* clamped, never log2(x / 0) */
    p.u[CR_MF_SEX][1] = 1.0;
    p.lambda = 2.0;
    cr_match_params_finish(&p);
    assert_true(fabs(p.m[CR_MF_SEX][0] - 0.75) < 1e-6);
    assert_true(p.u[CR_MF_SEX][0] > 0.0);
    assert_true(isfinite(p.w[CR_MF_SEX][0]));
    assert_true(p.lambda < 1.0);
}

/* ------------------------------------------------------------------ */
/* EM on a synthetic set                                               */
/* ------------------------------------------------------------------ */

/* A fixed linear congruential sequence (Numerical Recipes' constants):
 * the same pairs on every platform and run. */
static double next_uniform(apr_uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (double)(*seed >> 8) / 16777216.0;
}

static int draw(apr_uint32_t *seed, const double *p, int n)
{
    double x = next_uniform(seed), c = 0.0;
    int l;

    for (l = 0; l < n - 1; l++) {
        c += p[l];
        if (x < c) {
            return l;
        }
    }
    return n - 1;
}

/* The true model: four fields, the others always missing. */
static void true_model(cr_match_params_t *t)
{
    static const double gm[] = { 0.80, 0.02, 0.06, 0.03, 0.03, 0.01, 0.05 };
    static const double gu[] = { 0.03, 0.01, 0.03, 0.03, 0.05, 0.01, 0.84 };
    static const double fm[] = { 0.85, 0.06, 0.03, 0.02, 0.01, 0.03 };
    static const double fu[] = { 0.05, 0.02, 0.04, 0.02, 0.01, 0.86 };
    static const double bm[] = { 0.88, 0.01, 0.05, 0.01, 0.02, 0.03 };
    static const double bu[] = { 0.05, 0.01, 0.02, 0.01, 0.06, 0.85 };
    static const double pm[] = { 0.80, 0.05, 0.15 };
    static const double pu[] = { 0.04, 0.02, 0.94 };

    memset(t, 0, sizeof(*t));
    memcpy(t->m[CR_MF_GIVEN], gm, sizeof(gm));
    memcpy(t->u[CR_MF_GIVEN], gu, sizeof(gu));
    memcpy(t->m[CR_MF_FAMILY], fm, sizeof(fm));
    memcpy(t->u[CR_MF_FAMILY], fu, sizeof(fu));
    memcpy(t->m[CR_MF_BIRTH], bm, sizeof(bm));
    memcpy(t->u[CR_MF_BIRTH], bu, sizeof(bu));
    memcpy(t->m[CR_MF_POSTAL], pm, sizeof(pm));
    memcpy(t->u[CR_MF_POSTAL], pu, sizeof(pu));
    t->lambda = 0.2;
}

static const int em_fields[] = {
    CR_MF_GIVEN, CR_MF_FAMILY, CR_MF_BIRTH, CR_MF_POSTAL
};

static cr_match_tally_t *synthetic(apr_pool_t *pool, int pairs,
                                   int *matches)
{
    cr_match_tally_t *tally = cr_match_tally_make(pool);
    cr_match_params_t t;
    apr_uint32_t seed = 20240601u;
    int i;
    size_t k;

    true_model(&t);
    *matches = 0;
    for (i = 0; i < pairs; i++) {
        cr_match_vector_t v;
        int is_match = next_uniform(&seed) < t.lambda;
        memset(v.level, CR_MATCH_MISSING, sizeof(v.level));
        for (k = 0; k < ARRAY_LEN(em_fields); k++) {
            int f = em_fields[k];
            /* A field missing now and then, as in real records. */
            if (next_uniform(&seed) < 0.05) {
                continue;
            }
            v.level[f] = (unsigned char)draw(
                &seed, is_match ? t.m[f] : t.u[f], cr_match_field_levels(f));
        }
        cr_match_tally_add(tally, &v);
        *matches += is_match;
    }
    return tally;
}

static void check_recovered(const cr_match_params_t *p, int matches,
                            int pairs)
{
    cr_match_params_t t;
    size_t k;
    int l;

    true_model(&t);
    assert_true(fabs(p->lambda - (double)matches / pairs) < 0.02);
    for (k = 0; k < ARRAY_LEN(em_fields); k++) {
        int f = em_fields[k];
        for (l = 0; l < cr_match_field_levels(f); l++) {
            if (fabs(p->m[f][l] - t.m[f][l]) > 0.03
                || fabs(p->u[f][l] - t.u[f][l]) > 0.03) {
                fail_msg("%s %s: m %.3f (true %.3f), u %.3f (true %.3f)",
                         cr_match_field_name(f), cr_match_level_name(f, l),
                         p->m[f][l], t.m[f][l], p->u[f][l], t.u[f][l]);
            }
        }
    }
}

static void test_em_recovers_model(void **state)
{
    apr_pool_t *pool = *state;
    int matches = 0, pairs = 20000;
    cr_match_tally_t *tally = synthetic(pool, pairs, &matches);
    cr_match_params_t p, before;
    cr_match_em_info_t info;

    assert_true(tally->patterns->nelts < pairs);   /* counted, not listed */
    assert_true(tally->pairs == pairs);
    cr_match_params_default(&p);
    before = p;
    assert_int_equal(cr_match_em(&p,
                                 (const cr_match_pattern_t *)
                                 tally->patterns->elts,
                                 tally->patterns->nelts, 0.0, 1000, 1e-7,
                                 0, &info), APR_SUCCESS);
    assert_true(info.converged);
    assert_true(info.iterations > 1);
    assert_true(info.pairs == pairs);
    check_recovered(&p, matches, pairs);
    assert_true(cr_match_params_plausible(&p));
    /* Fields the data never shows keep their starting values. */
    assert_true(fabs(p.m[CR_MF_PHONE][0] - before.m[CR_MF_PHONE][0])
                < 1e-9);
    /* The weights were recomputed. */
    assert_true(fabs(p.w[CR_MF_GIVEN][0]
                     - log2(p.m[CR_MF_GIVEN][0] / p.u[CR_MF_GIVEN][0]))
                < 1e-9);
}

/* Pool adjacent violators: a weaker level never ends up with a larger
 * m/u than a stronger one on the ordinal scale; levels off the scale and
 * ordered rows are left alone; rows still sum to 1. */
static void test_params_order(void **state)
{
    cr_match_params_t p, d;
    double sm = 0.0, su = 0.0;
    int l;

    (void)state;
    cr_match_params_default(&d);
    p = d;
    cr_match_params_order(&p);          /* the defaults are ordered */
    for (l = 0; l < CR_ML_FAMILY_LEVELS; l++) {
        assert_true(fabs(p.m[CR_MF_FAMILY][l] - d.m[CR_MF_FAMILY][l])
                    < 1e-12);
    }
    /* What blocked candidates give: exact below similar, phonetic below
     * disagree (family name). */
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_EXACT] = 0.80;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_EXACT] = 0.40;
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_SIMILAR] = 0.10;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_SIMILAR] = 0.01;
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_PHONETIC] = 0.01;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_PHONETIC] = 0.20;
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_PARTIAL] = 0.02;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_PARTIAL] = 0.01;
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_SWAPPED] = 0.02;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_SWAPPED] = 0.001;
    p.m[CR_MF_FAMILY][CR_ML_FAMILY_DISAGREE] = 0.05;
    p.u[CR_MF_FAMILY][CR_ML_FAMILY_DISAGREE] = 0.379;
    cr_match_params_order(&p);
    /* exact and similar pooled: (0.80 + 0.10) / (0.40 + 0.01) */
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_EXACT]
                     / p.u[CR_MF_FAMILY][CR_ML_FAMILY_EXACT]
                     - 0.90 / 0.41) < 1e-9);
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_SIMILAR]
                     / p.u[CR_MF_FAMILY][CR_ML_FAMILY_SIMILAR]
                     - 0.90 / 0.41) < 1e-9);
    /* phonetic and disagree pooled: (0.01 + 0.05) / (0.20 + 0.379) */
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_PHONETIC]
                     / p.u[CR_MF_FAMILY][CR_ML_FAMILY_PHONETIC]
                     - 0.06 / 0.579) < 1e-9);
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_DISAGREE]
                     / p.u[CR_MF_FAMILY][CR_ML_FAMILY_DISAGREE]
                     - 0.06 / 0.579) < 1e-9);
    /* off the scale: untouched */
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_PARTIAL] - 0.02) < 1e-12);
    assert_true(fabs(p.m[CR_MF_FAMILY][CR_ML_FAMILY_SWAPPED] - 0.02) < 1e-12);
    for (l = 0; l < CR_ML_FAMILY_LEVELS; l++) {
        sm += p.m[CR_MF_FAMILY][l];
        su += p.u[CR_MF_FAMILY][l];
    }
    assert_true(fabs(sm - 1.0) < 1e-9);
    assert_true(fabs(su - 1.0) < 1e-9);
    cr_match_params_finish(&p);
    assert_true(p.w[CR_MF_FAMILY][CR_ML_FAMILY_EXACT]
                >= p.w[CR_MF_FAMILY][CR_ML_FAMILY_SIMILAR] - 1e-9);
    assert_true(p.w[CR_MF_FAMILY][CR_ML_FAMILY_PHONETIC]
                >= p.w[CR_MF_FAMILY][CR_ML_FAMILY_DISAGREE] - 1e-9);
}

/* Ordered EM on data from the model (which is ordered) still recovers it
 * and its result is ordered. */
static void test_em_ordered(void **state)
{
    apr_pool_t *pool = *state;
    int matches = 0, pairs = 20000;
    cr_match_tally_t *tally = synthetic(pool, pairs, &matches);
    cr_match_params_t p, q;
    cr_match_em_info_t info;

    cr_match_params_default(&p);
    assert_int_equal(cr_match_em(&p,
                                 (const cr_match_pattern_t *)
                                 tally->patterns->elts,
                                 tally->patterns->nelts, 0.0, 1000, 1e-7,
                                 CR_MATCH_EM_ORDERED, &info), APR_SUCCESS);
    /* Levels whose true ratios tie (given nickname and similar) may be
     * pooled in one round and not the next, so convergence to 1e-7 is
     * not asked for; the estimate must still be right. */
    assert_true(info.iterations >= 1);
    check_recovered(&p, matches, pairs);
    q = p;
    cr_match_params_order(&q);
    assert_true(fabs(q.m[CR_MF_BIRTH][CR_SIMILARITY_DATE_ONE_DIGIT_TYPO]
                     - p.m[CR_MF_BIRTH][CR_SIMILARITY_DATE_ONE_DIGIT_TYPO])
                < 1e-6);
}

/* Started the wrong way round (m and u exchanged), EM still names the
 * agreeing class the match class. */
static void test_em_class_orientation(void **state)
{
    apr_pool_t *pool = *state;
    int matches = 0, pairs = 20000, f;
    cr_match_tally_t *tally = synthetic(pool, pairs, &matches);
    cr_match_params_t p, d;

    cr_match_params_default(&d);
    p = d;
    for (f = 0; f < CR_MF_COUNT; f++) {
        memcpy(p.m[f], d.u[f], sizeof(p.m[f]));
        memcpy(p.u[f], d.m[f], sizeof(p.u[f]));
    }
    p.lambda = 0.8;
    assert_int_equal(cr_match_em(&p,
                                 (const cr_match_pattern_t *)
                                 tally->patterns->elts,
                                 tally->patterns->nelts, 0.0, 2000, 1e-7,
                                 0, NULL), APR_SUCCESS);
    check_recovered(&p, matches, pairs);
}

/* The prior keeps a level the data never shows near its starting value
 * instead of letting it collapse to zero. */
static void test_em_prior(void **state)
{
    apr_pool_t *pool = *state;
    int matches = 0;
    cr_match_tally_t *tally = synthetic(pool, 500, &matches);
    cr_match_params_t p, q;
    int n = 0, i;

    for (i = 0; i < tally->patterns->nelts; i++) {
        n += APR_ARRAY_IDX(tally->patterns, i, cr_match_pattern_t)
             .v.level[CR_MF_GIVEN] == CR_ML_GIVEN_SWAPPED;
    }
    cr_match_params_default(&p);
    q = p;
    cr_match_em(&p, (const cr_match_pattern_t *)tally->patterns->elts,
                tally->patterns->nelts, 50.0, 1000, 1e-7, 0, NULL);
    cr_match_em(&q, (const cr_match_pattern_t *)tally->patterns->elts,
                tally->patterns->nelts, 0.0, 1000, 1e-7, 0, NULL);
    if (n == 0) {
        assert_true(p.m[CR_MF_GIVEN][CR_ML_GIVEN_SWAPPED] > 1e-3);
    }
    assert_true(p.m[CR_MF_GIVEN][CR_ML_GIVEN_SWAPPED]
                >= q.m[CR_MF_GIVEN][CR_ML_GIVEN_SWAPPED]);
}

/* Pairs with no match at all: full EM finds some other split, which the
 * plausibility test rejects; with m fixed, u and a tiny lambda come out. */
static void test_em_no_matches(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_tally_t *tally = cr_match_tally_make(pool);
    cr_match_params_t t, p, d;
    apr_uint32_t seed = 4242u;
    int i, f, l;
    size_t k;

    true_model(&t);
    for (i = 0; i < 20000; i++) {
        cr_match_vector_t v;
        memset(v.level, CR_MATCH_MISSING, sizeof(v.level));
        for (k = 0; k < ARRAY_LEN(em_fields); k++) {
            f = em_fields[k];
            v.level[f] = (unsigned char)draw(&seed, t.u[f],
                                             cr_match_field_levels(f));
        }
        cr_match_tally_add(tally, &v);
    }
    cr_match_params_default(&d);
    assert_true(cr_match_params_plausible(&d));
    p = d;
    assert_int_equal(cr_match_em(&p, (const cr_match_pattern_t *)
                                 tally->patterns->elts,
                                 tally->patterns->nelts, 0.0, 1000, 1e-7,
                                 CR_MATCH_EM_FIX_M, NULL), APR_SUCCESS);
    assert_true(p.lambda < 0.01);
    for (k = 0; k < ARRAY_LEN(em_fields); k++) {
        f = em_fields[k];
        for (l = 0; l < cr_match_field_levels(f); l++) {
            assert_true(fabs(p.m[f][l] - d.m[f][l]) < 1e-9);
            assert_true(fabs(p.u[f][l] - t.u[f][l]) < 0.03);
        }
    }
    assert_true(cr_match_params_plausible(&p));

    /* A "match class" that agrees no more than the other is rejected. */
    p = d;
    memcpy(p.m, p.u, sizeof(p.m));
    cr_match_params_finish(&p);
    assert_false(cr_match_params_plausible(&p));
}

/* Cancelled EM stops before the next round and says so: asked before the
 * first round it runs none; asked after three it has run three, short of
 * what the same data takes to converge.  Not cancelled, the cancellable
 * form gives what cr_match_em gives. */
static void test_em_cancel(void **state)
{
    apr_pool_t *pool = *state;
    int matches = 0, pairs = 5000, left, i;
    cr_match_tally_t *tally = synthetic(pool, pairs, &matches);
    const cr_match_pattern_t *pats =
        (const cr_match_pattern_t *)tally->patterns->elts;
    cr_match_cancel_t cancel = { stop_after, &left };
    cr_match_params_t p, q;
    cr_match_em_info_t info;

    for (i = 0; i < 2; i++) {
        left = i == 0 ? 0 : 3;
        cr_match_params_default(&p);
        assert_int_equal(cr_match_em_cancellable(&p, pats,
                                                 tally->patterns->nelts,
                                                 0.0, 1000, 1e-7, 0,
                                                 &cancel, &info),
                         CR_MATCH_CANCELLED);
        assert_int_equal(info.iterations, i == 0 ? 0 : 3);
        assert_false(info.converged);
    }

    cr_match_params_default(&p);
    cr_match_params_default(&q);
    assert_int_equal(cr_match_em_cancellable(&p, pats,
                                             tally->patterns->nelts, 0.0,
                                             1000, 1e-7, 0, NULL, &info),
                     APR_SUCCESS);
    assert_true(info.iterations > 3);
    assert_int_equal(cr_match_em(&q, pats, tally->patterns->nelts, 0.0,
                                 1000, 1e-7, 0, NULL), APR_SUCCESS);
    assert_true(p.lambda == q.lambda);
    assert_memory_equal(p.m, q.m, sizeof(p.m));
    assert_memory_equal(p.u, q.u, sizeof(p.u));
}

static void test_em_no_data(void **state)
{
    cr_match_params_t p, d;
    int f, l;

    (void)state;
    cr_match_params_default(&p);
    d = p;
    assert_int_equal(cr_match_em(&p, NULL, 0, 10.0, 100, 1e-6, 0, NULL),
                     APR_EINVAL);
    for (f = 0; f < CR_MF_COUNT; f++) {
        for (l = 0; l < cr_match_field_levels(f); l++) {
            assert_true(fabs(p.w[f][l] - d.w[f][l]) < 1e-9);
        }
    }
    assert_true(fabs(p.lambda - d.lambda) < 1e-12);
}

/* cr_match_compare is symmetric also when both records have several
 * names and two name pairs are equally good (the tie is broken on the
 * levels, not on the order of the names). */
static void test_compare_symmetric_names(void **state)
{
    apr_pool_t *pool = *state;
    static const char *const texts[] = {
        "1|m|19800101|smith,john;quux,alice||,,,",
        "1|m|19800101|quux,yves;zork,john||,,,",
        "1|m|19800101|zork,john;quux,yves||,,,",
        "1|f|19800101|john,smith;alice,quux||,,,",
        "1|f|19800101|smith,jon;smyth,john;quux,alicia||,,,",
    };
    cr_match_record_t r[5];
    cr_match_vector_t ab, ba;
    int i, j, f;

    for (i = 0; i < 5; i++) {
        rec(pool, &r[i], texts[i]);
    }
    for (i = 0; i < 5; i++) {
        for (j = 0; j < 5; j++) {
            cr_match_compare(&ab, &r[i], &r[j]);
            cr_match_compare(&ba, &r[j], &r[i]);
            for (f = 0; f < CR_MF_COUNT; f++) {
                if (ab.level[f] != ba.level[f]) {
                    fail_msg("%s vs %s: field %s %d one way, %d the other",
                             texts[i], texts[j], cr_match_field_name(f),
                             ab.level[f], ba.level[f]);
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_compare_symmetric_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_record_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_partial_and_empty,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_parse_rejects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_record_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_for_query, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compare_levels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_compare_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weights_and_grades, setup,
                                        teardown),
        cmocka_unit_test(test_params_finish),
        cmocka_unit_test(test_params_order),
        cmocka_unit_test_setup_teardown(test_em_ordered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_em_recovers_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_em_class_orientation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_em_prior, setup, teardown),
        cmocka_unit_test_setup_teardown(test_em_no_matches, setup,
                                        teardown),
        cmocka_unit_test(test_em_no_data),
        cmocka_unit_test_setup_teardown(test_em_cancel, setup, teardown),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
