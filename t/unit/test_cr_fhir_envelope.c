/*
 * test_cr_fhir_envelope.c: unit tests for cr_fhir_envelope (request
 * Bundle checks and response Bundle assembly) and cr_bc_codes (the table
 * of BCHCIM detail codes, and its copy in docs/bc-codes.md).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_envelope.h"
#include "core/cr_json.h"
#include "cr_test_outcome.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

static const cr_envelope_rules_t fc_rules = {
    CR_BC_TXN_FC, 2, 3, 0, 1, 0, 1
};
static const cr_envelope_rules_t gd_rules = {
    CR_BC_TXN_GD, 2, 2, 1, 1, 0, 0
};

static int setup_pool(void **state)
{
    apr_pool_t *pool = NULL;

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = pool;
    return 0;
}

static int teardown_pool(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

static json_object *parse(apr_pool_t *pool, const char *text)
{
    json_object *o = NULL;

    assert_int_equal(cr_json_parse(&o, pool, text, strlen(text), NULL,
                                   NULL), APR_SUCCESS);
    return o;
}

#define PARAMS(extra) \
    "{\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":" \
    "\"Parameters\",\"parameter\":[{\"name\":\"messageId\"," \
    "\"valueString\":\"m-1\"}" extra "]}}"
#define PATIENT \
    "{\"fullUrl\":\"urn:uuid:2\",\"resource\":{\"resourceType\":" \
    "\"Patient\",\"id\":\"p\"}}"
#define BUNDLE(entries) \
    "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[" \
    entries "]}"

static void test_parse_ok(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_in_t *in = NULL;
    json_object *b = parse(pool, BUNDLE(PATIENT ","
        PARAMS(",{\"name\":\"identifiersOnly\",\"valueBoolean\":true},"
               "{\"name\":\"messageDateTime\",\"valueDateTime\":\"2023\"},"
               "{\"name\":\"other\",\"valueString\":\"x\"}")));

    /* CR-GEN-015, CR-GEN-019, CR-GEN-021 */
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, b, &fc_rules, oc),
                     APR_SUCCESS);
    assert_int_equal(oc->issues->nelts, 0);
    assert_string_equal(in->message_id, "m-1");
    assert_int_equal(in->identifiers_only, 1);
    assert_int_equal(in->history, -1);
    assert_int_equal(in->patients->nelts, 1);
    assert_int_equal(in->related->nelts, 0);
    assert_string_equal(APR_ARRAY_IDX(in->patients, 0,
                                      cr_envelope_entry_t).expr,
                        "Bundle.entry[0].resource");
    assert_int_equal(in->wrapped, 0);
}

static void test_parse_wrapped(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_in_t *in = NULL;
    json_object *b = parse(pool, "{\"resourceType\":\"Parameters\","
        "\"parameter\":[{\"name\":\"operationBundle\",\"resource\":"
        BUNDLE(PARAMS(",{\"name\":\"withHistory\",\"valueBoolean\":true}")
               "," PATIENT) "}]}");

    /* CR-GEN-016, D-03 */
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, b, &gd_rules, oc),
                     APR_SUCCESS);
    assert_int_equal(in->wrapped, 1);
    assert_int_equal(in->history, 1);
    assert_int_equal(in->patients->nelts, 1);

    oc = cr_outcome_make(pool);
    b = parse(pool, "{\"resourceType\":\"Parameters\",\"parameter\":["
              "{\"name\":\"other\",\"resource\":" BUNDLE(PARAMS("")) "}]}");
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, b, &gd_rules, oc),
                     APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc),
                        "BCHCIM.GD.2.0111@Parameters.parameter[0]");
}

static void test_parse_errors(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_in_t *in = NULL;

    /* CR-GEN-011 */
    assert_int_equal(cr_fhir_envelope_parse(&in, pool,
        parse(pool, "{\"resourceType\":\"Patient\"}"), &fc_rules, oc),
        APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc), "BCHCIM.FC.2.0101");

    /* CR-GEN-012, -013, -014, CR-OO-007: every problem reported. */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, parse(pool,
        "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        PARAMS("") ",{\"resource\":{\"resourceType\":\"Patient\"}},"
        "{\"fullUrl\":\"urn:uuid:3\"}]}"), &fc_rules, oc), APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc),
                        "BCHCIM.FC.2.0102@Bundle.type "
                        "BCHCIM.FC.2.0103@Bundle.entry[1].fullUrl "
                        "BCHCIM.FC.2.0104@Bundle.entry[2].resource");

    /* CR-GEN-017, CR-GEN-018, CR-PARAM-002, CR-PARAM-003 */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, parse(pool,
        BUNDLE(PATIENT "," PATIENT)), &gd_rules, oc), APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc),
                        "BCHCIM.GD.2.0106@Bundle.entry "
                        "BCHCIM.GD.2.0109@Bundle.entry");
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, parse(pool,
        BUNDLE(PARAMS(",{\"name\":\"messageId\",\"valueString\":\"x\"},"
                      "{\"name\":\"history\",\"valueString\":\"true\"}")
               "," PATIENT)), &gd_rules, oc), APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc),
        "BCHCIM.GD.2.0112@Bundle.entry[0].resource.parameter[1] "
        "BCHCIM.GD.2.0108@Bundle.entry[0].resource.parameter[2]"
        ".valueBoolean");
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, parse(pool,
        BUNDLE("{\"fullUrl\":\"u\",\"resource\":{\"resourceType\":"
               "\"Parameters\",\"parameter\":[{\"name\":\"history\","
               "\"valueBoolean\":false}]}}," PATIENT)), &gd_rules, oc),
        APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc),
        "BCHCIM.GD.2.0107@Bundle.entry[0].resource.parameter");

    /* CR-BND-001 and the RelatedPerson bound. */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_fhir_envelope_parse(&in, pool, parse(pool,
        BUNDLE(PARAMS(""))), &fc_rules, oc), APR_EINVAL);
    assert_string_equal(cr_test_codes(pool, oc), "BCHCIM.FC.2.0105@Bundle.entry");
}

static const char *param_names(apr_pool_t *pool, json_object *params)
{
    json_object *arr = cr_json_get_array(params, "parameter");
    const char *s = "";
    size_t i;

    for (i = 0; arr && i < json_object_array_length(arr); i++) {
        s = apr_pstrcat(pool, s, i ? "," : "", cr_json_get_string(
            json_object_array_get_idx(arr, i), "name"), NULL);
    }
    return s;
}

static void test_reply(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_reply_t r;
    cr_envelope_result_t *res;
    json_object *b, *e, *issue, *pat = cr_json_own(pool,
                                                   json_object_new_object());
    json_object *req = parse(pool, "{\"resourceType\":\"Parameters\","
                             "\"parameter\":[{\"name\":\"messageId\","
                             "\"valueString\":\"req-1\"}]}");

    cr_json_set_string(pat, "resourceType", "Patient");
    memset(&r, 0, sizeof(r));
    r.txn = CR_BC_TXN_FC;
    r.type = "searchset";
    r.profile = CR_ENV_PROFILE_SEARCH_RESPONSE;
    r.id = "b-1";
    r.timestamp = "2026-01-01T00:00:00.000Z";
    r.total = -1;
    r.meta.message_id = "resp-1";
    r.meta.request_message_id = "req-1";
    r.meta.enterer = "u@IDIR";
    r.meta.history = -1;
    r.meta.identifiers_only = 0;
    r.meta.request_parameters = req;
    cr_bc_add(oc, CR_BC_TXN_FC, CR_BC_FC_OK, NULL, NULL);
    cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, "x", "plain error");
    cr_outcome_add(oc, CR_SEV_ERROR, "transient", NULL, NULL, "busy");
    r.oc = oc;
    r.results = apr_array_make(pool, 2, sizeof(cr_envelope_result_t));
    res = apr_array_push(r.results);
    memset(res, 0, sizeof(*res));
    res->full_url = "http://x/Patient/1";
    res->resource = pat;
    res->mode = "match";
    res->has_score = 1;
    res->score = 159;
    res = apr_array_push(r.results);
    memset(res, 0, sizeof(*res));
    res->resource = pat;
    res->mode = "include";

    b = cr_fhir_envelope_reply(pool, &r);
    /* CR-FC-006: total counts the "match" entries only. */
    assert_int_equal(json_object_get_int(cr_json_get(b, "total")), 1);
    assert_string_equal(cr_json_get_string(b, "type"), "searchset");
    assert_string_equal(cr_json_get_string(cr_json_get(b, "identifier"),
                                           "value"), "urn:uuid:b-1");
    e = json_object_array_get_idx(cr_json_get(b, "entry"), 0);
    /* CR-GEN-022..026, D-04: flat echo and requestParameters. */
    assert_string_equal(param_names(pool, cr_json_get(e, "resource")),
                        "messageId,sender,identifiersOnly,enterer,"
                        "requestMessageId,requestParameters");
    assert_string_equal(cr_json_get_string(cr_json_get(
        json_object_array_get_idx(cr_json_get(cr_json_get(e, "resource"),
                                              "parameter"), 1),
        "valueIdentifier"), "value"), "MOH_CRS");
    e = json_object_array_get_idx(cr_json_get(b, "entry"), 1);
    assert_string_equal(cr_json_get_string(cr_json_get(e, "search"), "mode"),
                        "outcome");
    /* Every issue carries a detail code. */
    issue = cr_json_get(cr_json_get(e, "resource"), "issue");
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(
        cr_json_get(cr_json_get(json_object_array_get_idx(issue, 1),
                                "details"), "coding"), 0), "code"),
        "BCHCIM.FC.2.0100");
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(
        cr_json_get(cr_json_get(json_object_array_get_idx(issue, 2),
                                "details"), "coding"), 0), "code"),
        "BCHCIM.FC.2.0004");
    e = json_object_array_get_idx(cr_json_get(b, "entry"), 2);
    assert_int_equal(json_object_get_int(cr_json_get(cr_json_get(e, "search"),
                                                     "score")), 159);
    e = json_object_array_get_idx(cr_json_get(b, "entry"), 3);
    assert_non_null(cr_json_get_string(e, "fullUrl"));
    assert_string_equal(cr_json_get_string(cr_json_get(e, "search"), "mode"),
                        "include");

    b = cr_fhir_envelope_error_reply(pool, CR_BC_TXN_RP, oc, NULL, NULL);
    assert_string_equal(cr_json_get_string(b, "type"), "collection");
    assert_null(cr_json_get(b, "total"));
}

static void test_codes(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    int i;

    /* CR-OO-004, CR-OO-005: shape and severity digit; enum order. */
    for (i = 0; cr_bc_codes[i].text; i++) {
        const cr_bc_code_t *row = &cr_bc_codes[i];
        const char *c = cr_bc_code(pool, CR_BC_TXN_GD, row->msg);
        assert_int_equal((int)row->msg, i);
        assert_true(cr_bc_code_wellformed(c));
        assert_int_equal(c[10] - '0', (int)row->severity);
    }
    assert_int_equal(i, CR_BC_MSG_COUNT);
    assert_string_equal(cr_bc_code(pool, CR_BC_TXN_GD, CR_BC_GD_MERGED),
                        "BCHCIM.GD.1.0015");
    assert_string_equal(cr_bc_code(pool, CR_BC_TXN_PM, CR_BC_INVALID),
                        "BCHCIM.PM.2.0100");
    /* A transaction-specific message keeps its transaction. */
    assert_string_equal(cr_bc_code(pool, CR_BC_TXN_RP, CR_BC_FC_OK),
                        "BCHCIM.FC.0.0012");
    assert_false(cr_bc_code_wellformed("BCHIM.GD.0.0015"));
    assert_false(cr_bc_code_wellformed("BCHCIM.GD.3.0015"));
    assert_int_equal(cr_bc_txn_for_operation("FindCandidates"),
                     CR_BC_TXN_FC);
    assert_int_equal(cr_bc_txn_for_operation("GetDemographics.History"),
                     CR_BC_TXN_GD);
    assert_int_equal(cr_bc_txn_for_operation("MergePatient.Async"),
                     CR_BC_TXN_PM);
    assert_int_equal(cr_bc_txn_for_operation("RevisePatient"),
                     CR_BC_TXN_RP);
    cr_bc_add(oc, CR_BC_TXN_GD, CR_BC_GD_PHN, "Patient.identifier[0]",
              "%s", "check digit");
    assert_string_equal(APR_ARRAY_IDX(oc->issues, 0, cr_issue_t).text,
                        "The PHN is not valid. (check digit)");
    assert_string_equal(APR_ARRAY_IDX(oc->issues, 0, cr_issue_t).code,
                        "business-rule");
}

/* docs/bc-codes.md lists every row of the table (code pattern and
 * text), so readers see what the module sends. */
static void test_codes_documented(void **state)
{
    apr_pool_t *pool = *state;
    const char *path = CR_TOP_SRCDIR "/docs/bc-codes.md";
    FILE *f = fopen(path, "r");
    char *doc;
    long n;
    int i;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    doc = apr_palloc(pool, (apr_size_t)n + 1);
    assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
    doc[n] = '\0';
    fclose(f);
    for (i = 0; cr_bc_codes[i].text; i++) {
        const cr_bc_code_t *row = &cr_bc_codes[i];
        const char *c = apr_psprintf(pool, "BCHCIM.%s.%d.%04d",
                                     strcmp(row->txns, "*") == 0
                                     ? "*" : row->txns,
                                     (int)row->severity, row->number);
        if (strstr(doc, c) == NULL || strstr(doc, row->text) == NULL) {
            fail_msg("docs/bc-codes.md lacks %s \"%s\"", c, row->text);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("parse: a request Bundle", test_parse_ok),
        CR_TEST("parse: the operationBundle form", test_parse_wrapped),
        CR_TEST("parse: every problem, with codes", test_parse_errors),
        CR_TEST("reply: the response Bundle", test_reply),
        CR_TEST("codes: the BCHCIM table", test_codes),
        CR_TEST("codes: docs/bc-codes.md", test_codes_documented),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
