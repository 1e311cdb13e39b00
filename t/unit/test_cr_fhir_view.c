/*
 * test_cr_fhir_view.c: unit tests for cr_fhir_view, the composite
 * Patient of the query operations: identifier decorations, periods and
 * business periods from the versions, history repeats and history
 * extensions, identifiersOnly, masking, bc-sourceId-extension removal.
 *
 * Documents are compared as exact compact serialisations of the parts
 * under test.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_view.h"
#include "core/cr_json.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

#define T1 "2020-01-01T00:00:00.000Z"
#define T2 "2021-01-01T00:00:00.000Z"
#define EXT "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/"
#define PHN_SYS "https://fhir.infoway-inforoute.ca/NamingSystem/" \
                "ca-bc-patient-healthcare-id"
#define SRI_SYS "https://health.gov.bc.ca/fhir/NamingSystem/" \
                "ca-bc-fha-mt-source-patient-id"

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

static const char *ser(apr_pool_t *pool, json_object *o)
{
    return o ? cr_json_serialize(pool, o, NULL) : "(null)";
}

/* Version 1 and 2 of one patient: the name, gender and birth date
 * change; an identifier stays, a second is added. */
#define V1 "{\"resourceType\":\"Patient\",\"id\":\"p1\"," \
    "\"identifier\":[{\"system\":\"" PHN_SYS "\",\"value\":\"9253484802\"}]," \
    "\"name\":[{\"use\":\"official\",\"family\":\"Old\",\"given\":[\"A\"]}]," \
    "\"gender\":\"female\",\"birthDate\":\"1970-01-01\"," \
    "\"address\":[{\"type\":\"physical\",\"line\":[\"1 A St\"]}]}"
#define V2 "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{" \
    "\"versionId\":\"2\",\"lastUpdated\":\"" T2 "\"}," \
    "\"text\":{\"status\":\"generated\",\"div\":\"<div>x</div>\"}," \
    "\"identifier\":[{\"system\":\"" PHN_SYS "\",\"value\":\"9253484802\"}," \
    "{\"system\":\"" SRI_SYS "\",\"value\":\"S1\",\"extension\":[{\"url\":" \
    "\"" EXT "bc-identifier-status-extension\",\"valueCode\":\"active\"}]}]," \
    "\"name\":[{\"use\":\"official\",\"family\":\"New\",\"given\":[\"A\"]," \
    "\"extension\":[{\"url\":\"" EXT "bc-sourceId-extension\",\"extension\":" \
    "[{\"url\":\"sourceID\",\"valueString\":\"FHA_MT\"}]}]}]," \
    "\"gender\":\"other\",\"birthDate\":\"1970-01-01\"," \
    "\"address\":[{\"type\":\"physical\",\"line\":[\"1 A St\"]}]}"

static json_object *view(apr_pool_t *pool, int history, int ids_only,
                         int masked, int merged)
{
    cr_view_input_t in;
    cr_view_options_t opt;
    cr_view_version_t *v;
    cr_view_identifier_t *r;

    memset(&in, 0, sizeof(in));
    in.versions = apr_array_make(pool, 2, sizeof(cr_view_version_t));
    v = apr_array_push(in.versions);
    v->version = 1;
    v->time = T1;
    v->resource = parse(pool, V1);
    v = apr_array_push(in.versions);
    v->version = 2;
    v->time = T2;
    v->resource = parse(pool, V2);
    in.current = v->resource;
    in.id = "p1";
    in.last_updated = T2;
    in.masked = masked;
    in.identifiers = apr_array_make(pool, 3, sizeof(cr_view_identifier_t));
    r = apr_array_push(in.identifiers);
    r->system = PHN_SYS;
    r->value = "9253484802";
    r->status = "active";
    r = apr_array_push(in.identifiers);
    r->system = SRI_SYS;
    r->value = "S1";
    r->status = "active";
    if (merged) {
        /* An identifier the store holds that no version shows. */
        r = apr_array_push(in.identifiers);
        r->system = SRI_SYS;
        r->value = "GONE";
        r->use = "official";
        r->status = "merged";
    }
    opt.history = history;
    opt.identifiers_only = ids_only;
    opt.now = apr_time_from_sec(1800000000);    /* 2027 */
    return cr_fhir_view_patient(pool, &in, &opt);
}

static void test_current(void **state)
{
    apr_pool_t *pool = *state;
    json_object *p = view(pool, 0, 0, 0, 1);

    /* CR-GD-012..014: decorations; the merged row is history only. */
    assert_string_equal(ser(pool, cr_json_get(p, "identifier")),
        "[{\"extension\":[{\"url\":\"" EXT "bc-identifier-status-extension\","
        "\"valueCode\":\"active\"}],\"use\":\"official\",\"system\":\""
        PHN_SYS "\",\"value\":\"9253484802\",\"period\":{\"start\":\"" T1
        "\"},\"assigner\":{\"display\":\"MOH Client Registry - MOH_CRS\"}},"
        "{\"extension\":[{\"url\":\"" EXT "bc-identifier-status-extension\","
        "\"valueCode\":\"active\"}],\"use\":\"official\",\"system\":\""
        SRI_SYS "\",\"value\":\"S1\",\"period\":{\"start\":\"" T2 "\"},"
        "\"assigner\":{\"display\":\"FHA Meditech - Fraser Valley - "
        "FHA_MT\"}}]");
    /* CR-GD-015; CR-GD-024: no bc-sourceId-extension. */
    assert_string_equal(ser(pool, cr_json_get(p, "name")),
        "[{\"use\":\"official\",\"family\":\"New\",\"given\":[\"A\"],"
        "\"period\":{\"start\":\"" T2 "\"}}]");
    /* CR-GD-025 */
    assert_string_equal(ser(pool, cr_json_get(p, "_gender")),
        "{\"extension\":[{\"url\":\"" EXT "bc-business-period-extension\","
        "\"valuePeriod\":{\"start\":\"" T2 "\"}}]}");
    assert_string_equal(ser(pool, cr_json_get(p, "_birthDate")),
        "{\"extension\":[{\"url\":\"" EXT "bc-business-period-extension\","
        "\"valuePeriod\":{\"start\":\"" T1 "\"}}]}");
    /* CR-GD-026 */
    assert_string_equal(ser(pool, cr_json_get(p, "address")),
        "[{\"extension\":[{\"url\":\"" EXT "bc-validation-status-extension\","
        "\"valueCode\":\"unknown\"}],\"type\":\"physical\",\"line\":"
        "[\"1 A St\"],\"period\":{\"start\":\"" T1 "\"}}]");
    assert_null(cr_json_get(p, "text"));
    assert_string_equal(ser(pool, cr_json_get(p, "meta")),
        "{\"versionId\":\"2\",\"lastUpdated\":\"" T2 "\",\"profile\":[\""
        EXT "bc-patient\"]}");
}

static void test_history(void **state)
{
    apr_pool_t *pool = *state;
    json_object *p = view(pool, 1, 0, 0, 1);
    json_object *ids = cr_json_get(p, "identifier");

    /* CR-GD-016: the old name after the current one of its use. */
    assert_string_equal(ser(pool, cr_json_get(p, "name")),
        "[{\"use\":\"official\",\"family\":\"New\",\"given\":[\"A\"],"
        "\"period\":{\"start\":\"" T2 "\"}},{\"use\":\"official\","
        "\"family\":\"Old\",\"given\":[\"A\"],\"period\":{\"start\":\"" T1
        "\",\"end\":\"" T2 "\"}}]");
    /* CR-GD-018, CR-EXT-006 */
    assert_string_equal(ser(pool, cr_json_get(p, "_gender")),
        "{\"extension\":[{\"url\":\"" EXT "bc-business-period-extension\","
        "\"valuePeriod\":{\"start\":\"" T2 "\"}},{\"extension\":[{\"url\":"
        "\"gender\",\"valueCode\":\"female\"},{\"url\":\"" EXT
        "bc-business-period-extension\",\"valuePeriod\":{\"start\":\"" T1
        "\",\"end\":\"" T2 "\"}}],\"url\":\"" EXT
        "bc-gender-history-extension\"}]}");
    /* CR-GD-017: the merged identifier, status merged, period.end. */
    assert_int_equal(json_object_array_length(ids), 3);
    assert_string_equal(ser(pool, json_object_array_get_idx(ids, 2)),
        "{\"extension\":[{\"url\":\"" EXT "bc-identifier-status-extension\","
        "\"valueCode\":\"merged\"}],\"use\":\"official\",\"system\":\""
        SRI_SYS "\",\"value\":\"GONE\",\"period\":{\"end\":\"" T2 "\"},"
        "\"assigner\":{\"display\":\"FHA Meditech - Fraser Valley - "
        "FHA_MT\"}}");
}

static void test_identifiers_only(void **state)
{
    apr_pool_t *pool = *state;
    json_object *p = view(pool, 0, 1, 0, 0);
    const char *keys = "";

    json_object_object_foreach(p, k, v) {
        (void)v;
        keys = apr_pstrcat(pool, keys, k, " ", NULL);
    }
    /* CR-FC-022, CR-GD-020 */
    assert_string_equal(keys, "resourceType id meta identifier ");
}

static void test_masked(void **state)
{
    apr_pool_t *pool = *state;
    json_object *p = view(pool, 1, 0, 1, 0);

    /* CR-GD-022, CR-GD-023: masked values, no history. */
    assert_string_equal(ser(pool, cr_json_get(p, "name")),
        "[{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition"
        "/data-absent-reason\",\"valueCode\":\"masked\"}],\"use\":"
        "\"official\"}]");
    assert_null(cr_json_get(p, "gender"));
    assert_null(cr_json_get(p, "birthDate"));
    assert_string_equal(ser(pool, cr_json_get(p, "_gender")),
        "{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition"
        "/data-absent-reason\",\"valueCode\":\"masked\"}]}");
    assert_string_equal(ser(pool, cr_json_get(p, "address")),
        "[{\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition"
        "/data-absent-reason\",\"valueCode\":\"masked\"}],\"type\":"
        "\"physical\"}]");
    assert_int_equal(json_object_array_length(cr_json_get(p, "identifier")),
                     2);
}

static void test_helpers(void **state)
{
    apr_pool_t *pool = *state;
    apr_time_t now = apr_time_from_sec(1800000000);

    assert_string_equal(cr_fhir_view_assigner(pool, PHN_SYS),
                        "MOH Client Registry - MOH_CRS");
    assert_string_equal(cr_fhir_view_assigner(pool,
        "https://health.gov.bc.ca/fhir/NamingSystem/"
        "ca-bc-iha-iha-source-patient-id"), "IHA_IHA");
    assert_null(cr_fhir_view_assigner(pool,
        "https://fhir.infoway-inforoute.ca/NamingSystem/"
        "ca-ab-patient-healthcare-id"));
    assert_true(cr_fhir_view_in_past("2023-01-23T14:00:53-08:00", now));
    assert_true(cr_fhir_view_in_past("2020", now));
    assert_false(cr_fhir_view_in_past("2099-01-01", now));
    assert_false(cr_fhir_view_in_past(NULL, now));
    assert_false(cr_fhir_view_in_past("garbage", now));
    assert_true(cr_fhir_view_restricted(parse(pool,
        "{\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org"
        "/CodeSystem/v3-Confidentiality\",\"code\":\"R\"}]}}")));
    assert_false(cr_fhir_view_restricted(parse(pool,
        "{\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org"
        "/CodeSystem/v3-Confidentiality\",\"code\":\"N\"}]}}")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("view: the current composite", test_current),
        CR_TEST("view: history from versions", test_history),
        CR_TEST("view: identifiersOnly", test_identifiers_only),
        CR_TEST("view: masked", test_masked),
        CR_TEST("view: helpers", test_helpers),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
