/*
 * test_cr_composite.c: unit tests for cr_composite, the person built
 * from source-record attributes: canonical JSON, the attributes of a
 * snapshot (periods, business dates, stripped registry extensions), and
 * the composite rules (registry identifiers first, de-duplication, newest
 * business-dated single value wins, merged records give identifiers
 * only, provenance extension, mother and links).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fhir/cr_composite.h"
#include "core/cr_json.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

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

static json_object *parse(apr_pool_t *pool, const char *s)
{
    json_object *j = NULL;

    assert_int_equal(cr_json_parse(&j, pool, s, strlen(s), NULL, NULL),
                     APR_SUCCESS);
    return j;
}

static void test_canonical(void **state)
{
    apr_pool_t *pool = *state;

    assert_string_equal(cr_composite_canonical(pool, parse(pool,
        "{\"b\": 1, \"a\": {\"d\": [1, \"x\"], \"c\": null}}")),
        "{\"a\":{\"c\":null,\"d\":[1,\"x\"]},\"b\":1}");
    /* Key order does not matter: two snapshots compare equal. */
    assert_string_equal(
        cr_composite_canonical(pool, parse(pool, "{\"x\":1,\"y\":2}")),
        cr_composite_canonical(pool, parse(pool, "{\"y\":2,\"x\":1}")));
}

static void test_extract(void **state)
{
    apr_pool_t *pool = *state;
    json_object *p = parse(pool,
        "{\"resourceType\":\"Patient\","
        "\"extension\":[{\"url\":\"" CR_EXT_BUSINESS_PERIOD "\","
        "\"valuePeriod\":{\"start\":\"2024-01-01\"}}],"
        "\"identifier\":[{\"extension\":[{\"url\":\"http://hlth.gov.bc.ca/"
        "fhir/client/StructureDefinition/bc-identifier-status-extension\","
        "\"valueCode\":\"active\"}],\"system\":\"s\",\"value\":\"1\"}],"
        "\"name\":[{\"family\":\"A\",\"period\":{\"start\":\"2020-05-05\"}},"
        "{\"family\":\"B\",\"period\":{\"start\":\"2019-01-01\","
        "\"end\":\"2020-01-01\"}}],"
        "\"gender\":\"male\",\"deceasedDateTime\":\"2021-01-01\","
        "\"_deceasedDateTime\":{\"extension\":[{\"url\":\"v\"}]}}");
    const char *eff = cr_composite_effective(p);
    apr_array_header_t *a;
    const cr_snapattr_t *x;

    assert_string_equal(eff, "2024-01-01");
    a = cr_composite_extract(pool, p, eff);
    assert_int_equal(a->nelts, 5);
    x = &APR_ARRAY_IDX(a, 0, cr_snapattr_t);
    assert_string_equal(x->kind, "identifier");
    assert_string_equal(x->value, "{\"system\":\"s\",\"value\":\"1\"}");
    assert_string_equal(x->period_start, "2024-01-01");
    x = &APR_ARRAY_IDX(a, 1, cr_snapattr_t);
    assert_string_equal(x->value, "{\"family\":\"A\"}");
    assert_string_equal(x->period_start, "2020-05-05");
    assert_null(x->period_end);
    x = &APR_ARRAY_IDX(a, 2, cr_snapattr_t);
    assert_string_equal(x->period_end, "2020-01-01");
    x = &APR_ARRAY_IDX(a, 3, cr_snapattr_t);
    assert_string_equal(x->kind, "gender");
    assert_string_equal(x->value, "{\"gender\":\"male\"}");
    x = &APR_ARRAY_IDX(a, 4, cr_snapattr_t);
    assert_string_equal(x->kind, "deceased");
    assert_string_equal(x->value, "{\"_deceasedDateTime\":{\"extension\":"
                        "[{\"url\":\"v\"}]},\"deceasedDateTime\":"
                        "\"2021-01-01\"}");
}

static cr_compattr_t *add(apr_array_header_t *a, const char *kind,
                          const char *value, const char *start,
                          const char *source)
{
    cr_compattr_t *c = apr_array_push(a);

    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->value = value;
    c->period_start = start;
    c->source_system = source;
    c->user_id = "u@idp";
    return c;
}

static void test_build(void **state)
{
    apr_pool_t *pool = *state;
    apr_array_header_t *a = apr_array_make(pool, 8, sizeof(cr_compattr_t));
    json_object *p, *ids, *names;
    cr_compattr_t *c;

    add(a, "identifier", "{\"system\":\"sri\",\"value\":\"S1\"}",
        "2020-01-01", "FHA_MT");
    c = add(a, "identifier", "{\"system\":\"phn\",\"value\":\"9\"}",
            "2020-01-01", "MOH_CRS");
    c->registry = 1;
    c = add(a, "identifier", "{\"system\":\"sri\",\"value\":\"OLD\"}",
            "2020-01-01", "FHA_MT");
    c->merged = 1;
    add(a, "name", "{\"family\":\"A\"}", "2020-01-01", "FHA_MT");
    add(a, "name", "{\"family\":\"A\"}", "2021-01-01", "VIHA");
    c = add(a, "name", "{\"family\":\"Z\"}", "2021-01-01", "FHA_MT");
    c->merged = 1;
    add(a, "gender", "{\"gender\":\"female\"}", "2022-01-01", "FHA_MT");
    add(a, "gender", "{\"gender\":\"male\"}", "2021-01-01", "VIHA");
    add(a, "link", "{\"other\":{\"reference\":\"Patient/x\"},"
        "\"type\":\"replaces\"}", "2022-01-01", "MOH_CRS");
    p = cr_composite_build(pool, a, "id1", 1);
    assert_string_equal(cr_json_get_string(p, "id"), "id1");
    ids = cr_json_get_array(p, "identifier");
    assert_int_equal(json_object_array_length(ids), 3);
    /* the registry's PHN first, merged identifiers last */
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(ids, 0),
                                           "value"), "9");
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(ids, 2),
                                           "value"), "OLD");
    names = cr_json_get_array(p, "name");
    /* one name (the same value from two sources), none from merged */
    assert_int_equal(json_object_array_length(names), 1);
    assert_string_equal(cr_json_get_string(cr_json_get_object(
        json_object_array_get_idx(names, 0), "period"), "start"),
        "2020-01-01");
    /* provenance of the first supplier */
    assert_non_null(strstr(cr_json_serialize(pool,
        json_object_array_get_idx(names, 0), NULL),
        "\"url\":\"sourceID\",\"valueString\":\"FHA_MT\""));
    /* newest business date wins */
    assert_string_equal(cr_json_get_string(p, "gender"), "female");
    assert_int_equal(cr_json_get_bool(p, "active"), 1);
    assert_int_equal(json_object_array_length(cr_json_get_array(p, "link")),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("composite: canonical JSON", test_canonical),
        CR_TEST("composite: snapshot attributes", test_extract),
        CR_TEST("composite: build", test_build),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
