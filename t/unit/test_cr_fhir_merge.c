/* Unit tests for fhir/cr_fhir_merge.c: the G5 $merge Parameters read into
 * cr_merge_params_t (operations.md 5.1; CR-MRG-002, 009, 010, 016, 017),
 * each problem with its BCHCIM code and expression, and the result-patient
 * link test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "fhir/cr_fhir_merge.h"
#include "cr_test_pool.h"
#include "cr_test_outcome.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

#define MS "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/" \
           "bc-merge-status-extension"
#define BP "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/" \
           "bc-business-period-extension"
#define PARAMS(list) \
    "{\"resourceType\":\"Parameters\",\"parameter\":[" list "]}"
#define REF(name, ref) \
    "{\"name\":\"" name "\",\"valueReference\":{\"reference\":\"" ref "\"}}"
#define IDENT(name, value, ext) \
    "{\"name\":\"" name "\",\"valueIdentifier\":{\"system\":\"urn:s\"," \
    "\"value\":\"" value "\"" ext "}}"
#define STATUS(code) \
    ",\"extension\":[{\"url\":\"" MS "\",\"valueCode\":\"" code "\"}]"

static json_object *parse(apr_pool_t *pool, const char *text)
{
    json_object *o = NULL;

    assert_int_equal(cr_json_parse(&o, pool, text, strlen(text), NULL,
                                   NULL), APR_SUCCESS);
    return o;
}

/* Parse text: the status, and the issues in *issues. */
static int run(apr_pool_t *pool, const char *text, cr_merge_params_t **m,
               const char **issues)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    int st = cr_fhir_merge_parse(m, pool, parse(pool, text), oc);

    *issues = cr_test_codes(pool, oc);
    return st;
}

static void test_parse_ok(void **state)
{
    apr_pool_t *pool = *state;
    cr_merge_params_t *m;
    const char *issues;
    const cr_merge_ident_t *id;

    assert_int_equal(run(pool, PARAMS(
        REF("source-patient", "Patient/s-1") ","
        IDENT("source-patient-identifier", "v1", STATUS("obsolete")) ","
        "{\"name\":\"target-patient\",\"valueReference\":{\"reference\":"
        "\"https://cr.example/fhir/Patient/t-1\",\"identifier\":{"
        "\"system\":\"urn:s\",\"value\":\"v2\"}}},"
        "{\"name\":\"result-patient\",\"resource\":{\"resourceType\":"
        "\"Patient\",\"id\":\"t-1\",\"extension\":[{\"url\":\"" BP "\","
        "\"valuePeriod\":{\"start\":\"2025-01-01\"}}],\"link\":[{\"type\":"
        "\"replaces\",\"other\":{\"reference\":\"Patient/s-1\"}" STATUS(
            "cancelled") "}]}}"), &m, &issues), 0);
    assert_string_equal(issues, "");
    assert_string_equal(m->source.ref_id, "s-1");
    assert_string_equal(m->source.ref_expr,
                        "Parameters.parameter[0].valueReference");
    assert_int_equal(m->source.ids->nelts, 1);
    id = &APR_ARRAY_IDX(m->source.ids, 0, cr_merge_ident_t);
    assert_string_equal(id->value, "v1");
    assert_string_equal(id->expr, "Parameters.parameter[1].valueIdentifier");
    assert_string_equal(m->target.ref_id, "t-1");
    assert_int_equal(m->target.ids->nelts, 1);
    id = &APR_ARRAY_IDX(m->target.ids, 0, cr_merge_ident_t);
    assert_string_equal(id->value, "v2");
    assert_non_null(m->result);
    assert_string_equal(m->effective, "2025-01-01");
    assert_true(cr_fhir_merge_link_is(json_object_array_get_idx(
        cr_json_get_array(m->result, "link"), 0), "s-1"));
    assert_false(cr_fhir_merge_link_is(json_object_array_get_idx(
        cr_json_get_array(m->result, "link"), 0), "s-2"));
}

static void test_parse_errors(void **state)
{
    apr_pool_t *pool = *state;
    cr_merge_params_t *m;
    const char *issues;
    static const struct {
        const char *body;
        int status;
        const char *issues;
    } cases[] = {
        /* CR-MRG-002: not Parameters. */
        { "{\"resourceType\":\"Bundle\"}", 400,
          "BCHCIM.PM.2.0180@Parameters" },
        /* CR-MRG-009 and 010: neither side. */
        { PARAMS(""), 400,
          "BCHCIM.PM.2.0181@Parameters BCHCIM.PM.2.0182@Parameters" },
        { PARAMS(REF("source-patient", "Patient/s")), 400,
          "BCHCIM.PM.2.0181@Parameters" },
        { PARAMS(IDENT("target-patient-identifier", "t", "")), 400,
          "BCHCIM.PM.2.0182@Parameters" },
        /* A reference that is not Patient/<id>, twice the same side. */
        { PARAMS(REF("source-patient", "Practitioner/s") ","
                 REF("target-patient", "Patient/t")), 400,
          "BCHCIM.PM.2.0180@Parameters.parameter[0].valueReference"
          ".reference" },
        { PARAMS(REF("source-patient", "Patient/s") ","
                 REF("source-patient", "Patient/u") ","
                 REF("target-patient", "Patient/t")), 400,
          "BCHCIM.PM.2.0180@Parameters.parameter[1]" },
        /* An identifier without value; an unknown parameter; preview. */
        { PARAMS(REF("source-patient", "Patient/s") ","
                 "{\"name\":\"target-patient-identifier\","
                 "\"valueIdentifier\":{\"system\":\"urn:s\"}}"), 400,
          "BCHCIM.PM.2.0180@Parameters.parameter[1].valueIdentifier" },
        { PARAMS(REF("source-patient", "Patient/s") ","
                 REF("target-patient", "Patient/t") ","
                 "{\"name\":\"survivor\",\"valueString\":\"x\"}"), 400,
          "BCHCIM.PM.2.0180@Parameters.parameter[2].name" },
        { PARAMS(REF("source-patient", "Patient/s") ","
                 REF("target-patient", "Patient/t") ","
                 "{\"name\":\"preview\",\"valueBoolean\":true}"), 400,
          "BCHCIM.PM.2.0189@Parameters.parameter[2]" },
        /* CR-MRG-016: another merge status. */
        { PARAMS(REF("target-patient", "Patient/t") ","
                 IDENT("source-patient-identifier", "v", STATUS("gone"))),
          400, "BCHCIM.PM.2.0188@Parameters.parameter[1].valueIdentifier"
               ".extension[0].valueCode" },
        /* result-patient not a Patient. */
        { PARAMS(REF("source-patient", "Patient/s") ","
                 REF("target-patient", "Patient/t") ","
                 "{\"name\":\"result-patient\",\"resource\":{"
                 "\"resourceType\":\"Person\"}}"), 400,
          "BCHCIM.PM.2.0180@Parameters.parameter[2].resource" },
        /* CR-MRG-017: no root effective date. */
        { PARAMS(REF("source-patient", "Patient/s") ","
                 REF("target-patient", "Patient/t") ","
                 "{\"name\":\"result-patient\",\"resource\":{"
                 "\"resourceType\":\"Patient\",\"id\":\"t\"}}"), 422,
          "BCHCIM.RP.2.0163@Parameters.parameter[2].resource.extension" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = run(pool, cases[i].body, &m, &issues);
        if (st != cases[i].status || strcmp(issues, cases[i].issues) != 0) {
            fail_msg("case %d: %d \"%s\", want %d \"%s\"", (int)i, st,
                     issues, cases[i].status, cases[i].issues);
        }
    }
}

/* Limits on every loop over input: 51 parameters, 21 identifiers. */
static void test_parse_limits(void **state)
{
    apr_pool_t *pool = *state;
    cr_merge_params_t *m;
    const char *issues, *list = REF("target-patient", "Patient/t");
    int i;

    for (i = 0; i < 21; i++) {
        list = apr_pstrcat(pool, list, ",",
                           IDENT("source-patient-identifier", "v", ""), NULL);
    }
    assert_int_equal(run(pool, apr_pstrcat(pool, PARAMS(""), NULL), &m,
                         &issues), 400);
    assert_int_equal(run(pool, apr_psprintf(pool, PARAMS("%s"), list), &m,
                         &issues), 400);
    assert_string_equal(issues, "BCHCIM.PM.2.0180@Parameters.parameter[21]"
                                ".valueIdentifier");
    for (i = 0; i < 30; i++) {
        list = apr_pstrcat(pool, list, ",", REF("x", "Patient/x"), NULL);
    }
    assert_int_equal(run(pool, apr_psprintf(pool, PARAMS("%s"), list), &m,
                         &issues), 400);
    assert_string_equal(issues, "BCHCIM.PM.2.0180@Parameters.parameter");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("parse: both sides, result-patient", test_parse_ok),
        CR_TEST("parse: every problem, with codes", test_parse_errors),
        CR_TEST("parse: limits", test_parse_limits),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
