/*
 * test_cr_privacy.c: unit tests for the output policy (ops/cr_privacy):
 * a restricted Patient anywhere in a response (a Bundle entry, a
 * Parameters part, a contained resource, an older version in a history
 * Bundle) is masked for a caller that is not privileged, exactly as
 * operations.md 0.7 says; OperationOutcome texts lose its values; every
 * bc-sourceId-extension goes; a privileged caller gets the response
 * untouched and the ids of the restricted clients it shows.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "ops/cr_privacy.h"
#include "cr_test_pool.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

#define CONF "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#define SRC "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/" \
            "bc-sourceId-extension"
#define RESTRICTED(id) "{\"resourceType\":\"Patient\",\"id\":\"" id "\"," \
    "\"meta\":{\"security\":[{\"system\":\"" CONF "\",\"code\":\"R\"}]}," \
    "\"text\":{\"status\":\"generated\",\"div\":\"<div>Secretfam</div>\"}," \
    "\"identifier\":[{\"system\":\"s\",\"value\":\"9000000018\"}]," \
    "\"name\":[{\"use\":\"official\",\"family\":\"Secretfam\",\"given\":" \
    "[\"Secretgiv\"],\"extension\":[{\"url\":\"" SRC "\",\"extension\":" \
    "[{\"url\":\"sourceID\",\"valueString\":\"FHA_MT\"}]}]}," \
    "{\"use\":\"official\",\"family\":\"Oldfam\",\"period\":{\"end\":" \
    "\"2001-01-01\"}}]," \
    "\"telecom\":[{\"system\":\"phone\",\"value\":\"2505559876\"," \
    "\"use\":\"home\"}],\"gender\":\"female\",\"_gender\":{\"extension\":" \
    "[{\"url\":\"h\",\"valueCode\":\"male\"}]},\"birthDate\":\"1961-02-03\"," \
    "\"address\":[{\"type\":\"physical\",\"line\":[\"9 Hidden Rd\"]," \
    "\"postalCode\":\"V0X 1Z1\"}],\"photo\":[{\"title\":\"x\"}]}"
#define OPEN(id) "{\"resourceType\":\"Patient\",\"id\":\"" id "\"," \
    "\"name\":[{\"family\":\"Openfam\",\"extension\":[{\"url\":\"" SRC "\"," \
    "\"extension\":[{\"url\":\"userID\",\"valueString\":\"u\"}]}]}]}"

static cr_ctx_t *make_ctx(apr_pool_t *pool, int privileged)
{
    cr_ctx_t *ctx = apr_pcalloc(pool, sizeof(*ctx));
    cr_caller_t *c = apr_pcalloc(pool, sizeof(*c));

    cr_service_ctx_init(ctx, pool, apr_time_from_sec(1800000000));
    c->privileged = privileged;
    ctx->caller = c;
    return ctx;
}

static json_object *parse(apr_pool_t *pool, const char *s)
{
    json_object *o = NULL;

    assert_int_equal(cr_json_parse(&o, pool, s, strlen(s), NULL, NULL),
                     APR_SUCCESS);
    return o;
}

static const char *ser(apr_pool_t *pool, json_object *o)
{
    return cr_json_serialize(pool, o, NULL);
}

#define MASKED "[{\"url\":\"http://hl7.org/fhir/StructureDefinition/" \
               "data-absent-reason\",\"valueCode\":\"masked\"}]"

static void test_bundle_masked(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    json_object *b = parse(pool, "{\"resourceType\":\"Bundle\",\"type\":"
        "\"searchset\",\"entry\":[{\"resource\":" RESTRICTED("p1") "},"
        "{\"resource\":" OPEN("p2") "},{\"resource\":{\"resourceType\":"
        "\"OperationOutcome\",\"issue\":[{\"severity\":\"warning\","
        "\"code\":\"informational\",\"details\":{\"text\":\"name "
        "Secretfam Secretgiv changed\"},\"diagnostics\":\"1961-02-03\"}]}}"
        "]}");
    json_object *p, *oo;
    const char *text;

    ctx->resp.body = b;
    assert_null(cr_privacy_apply(ctx));
    text = ser(pool, b);
    assert_null(strstr(text, "Secretfam"));
    assert_null(strstr(text, "Secretgiv"));
    assert_null(strstr(text, "Oldfam"));
    assert_null(strstr(text, "2505559876"));
    assert_null(strstr(text, "Hidden"));
    assert_null(strstr(text, "V0X"));
    assert_null(strstr(text, "1961-02-03"));
    assert_null(strstr(text, "bc-sourceId-extension"));
    p = cr_json_get(json_object_array_get_idx(cr_json_get(b, "entry"), 0),
                    "resource");
    /* CR-GD-022, CR-GD-023: the current name masked (use kept), the
     * ended one gone, gender and birth date masked without history. */
    assert_string_equal(ser(pool, cr_json_get(p, "name")),
                        "[{\"extension\":" MASKED ",\"use\":\"official\"}]");
    assert_string_equal(ser(pool, cr_json_get(p, "telecom")),
                        "[{\"extension\":" MASKED ",\"system\":\"phone\","
                        "\"use\":\"home\"}]");
    assert_string_equal(ser(pool, cr_json_get(p, "address")),
                        "[{\"extension\":" MASKED ",\"type\":\"physical\"}]");
    assert_string_equal(ser(pool, cr_json_get(p, "_gender")),
                        "{\"extension\":" MASKED "}");
    assert_string_equal(ser(pool, cr_json_get(p, "_birthDate")),
                        "{\"extension\":" MASKED "}");
    assert_null(cr_json_get(p, "gender"));
    assert_null(cr_json_get(p, "birthDate"));
    assert_null(cr_json_get(p, "text"));
    assert_null(cr_json_get(p, "photo"));
    assert_non_null(cr_json_get(p, "identifier"));
    assert_non_null(cr_json_get(p, "meta"));
    /* The open client keeps its values, not its provenance. */
    assert_non_null(strstr(text, "Openfam"));
    oo = cr_json_get(json_object_array_get_idx(cr_json_get(b, "entry"), 2),
                     "resource");
    assert_string_equal(cr_json_get_string(cr_json_get(
        json_object_array_get_idx(cr_json_get(oo, "issue"), 0), "details"),
        "text"), "name *** *** changed");
}

static void test_nested(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    json_object *doc = parse(pool, "{\"resourceType\":\"Parameters\","
        "\"parameter\":[{\"name\":\"x\",\"part\":[{\"name\":\"y\","
        "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"o\","
        "\"contained\":[" RESTRICTED("c1") "]}}]}]}");

    assert_null(cr_privacy_apply_json(ctx, doc));
    assert_null(strstr(ser(pool, doc), "Secretfam"));
    assert_non_null(strstr(ser(pool, doc), "masked"));
}

/* An older version that does not carry the label of its client's later
 * restriction is masked with it (history Bundles). */
static void test_history_versions(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    json_object *b = parse(pool, "{\"resourceType\":\"Bundle\",\"type\":"
        "\"history\",\"entry\":[{\"resource\":" RESTRICTED("p1") "},"
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\","
        "\"name\":[{\"family\":\"Secretfam\"}]}}]}");

    assert_null(cr_privacy_apply_json(ctx, b));
    assert_null(strstr(ser(pool, b), "Secretfam"));
}

/* The whole of a large page is covered, not just its beginning. */
static void test_large(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    json_object *b = parse(pool, "{\"resourceType\":\"Bundle\","
                           "\"type\":\"searchset\",\"entry\":[]}");
    json_object *entries = cr_json_get(b, "entry");
    int i;

    for (i = 0; i < 300; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "resource", json_object_get(parse(pool,
            i == 299 ? RESTRICTED("last") : OPEN("o"))));
        json_object_array_add(entries, e);
    }
    assert_null(cr_privacy_apply_json(ctx, b));
    assert_null(strstr(ser(pool, b), "Secretfam"));
    assert_null(strstr(ser(pool, b), "bc-sourceId-extension"));
}

static void test_privileged(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 1);
    const char *in = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
        "\"entry\":[{\"resource\":" RESTRICTED("p1") "},{\"resource\":"
        OPEN("p2") "},{\"resource\":" RESTRICTED("p3") "}]}";
    json_object *b = parse(pool, in);

    ctx->resp.body = b;
    assert_string_equal(cr_privacy_apply(ctx), "p1 p3");
    assert_string_equal(ser(pool, b), ser(pool, parse(pool, in)));
}

/* The duplicate review's evidence (ops/cr_ops_review.h) of a restricted
 * client keeps its subject and totals but loses its fields (the values
 * compared) for a caller that is not privileged, and says so; an open
 * client's is untouched; a privileged caller gets both as they are. */
#define EVIDENCE(id) "{\"url\":\"http://hlth.gov.bc.ca/fhir/client/" \
    "StructureDefinition/cr-match-evidence\",\"extension\":[" \
    "{\"url\":\"subject\",\"valueReference\":{\"reference\":" \
    "\"Patient/" id "\"}},{\"url\":\"field\",\"extension\":[" \
    "{\"url\":\"name\",\"valueCode\":\"family\"}," \
    "{\"url\":\"value\",\"valueString\":\"secretfam\"}]}," \
    "{\"url\":\"score\",\"valueDecimal\":0.9}]}"

static void test_evidence(void **state)
{
    apr_pool_t *pool = *state;
    const char *in = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\","
        "\"entry\":[{\"resource\":" RESTRICTED("p1") ",\"search\":{"
        "\"extension\":[" EVIDENCE("p1") "]}},{\"resource\":" OPEN("p2")
        ",\"search\":{\"extension\":[" EVIDENCE("p2") "]}}]}";
    cr_ctx_t *ctx = make_ctx(pool, 0);
    json_object *b = parse(pool, in), *e0, *e1, *x;
    const char *out;

    ctx->resp.body = b;
    assert_null(cr_privacy_apply(ctx));
    e0 = json_object_array_get_idx(cr_json_get(b, "entry"), 0);
    e1 = json_object_array_get_idx(cr_json_get(b, "entry"), 1);
    x = json_object_array_get_idx(cr_json_get(cr_json_get(e0, "search"),
                                              "extension"), 0);
    out = ser(pool, x);
    assert_null(strstr(out, "secretfam"));
    assert_null(strstr(out, "\"field\""));
    assert_non_null(strstr(out, "\"url\":\"withheld\",\"valueBoolean\":true"));
    assert_non_null(strstr(out, "Patient/p1"));
    assert_non_null(strstr(out, "\"score\""));
    /* The open client's evidence is as it was. */
    x = json_object_array_get_idx(cr_json_get(cr_json_get(e1, "search"),
                                              "extension"), 0);
    assert_string_equal(ser(pool, x), ser(pool, parse(pool, EVIDENCE("p2"))));

    ctx = make_ctx(pool, 1);
    b = parse(pool, in);
    ctx->resp.body = b;
    assert_string_equal(cr_privacy_apply(ctx), "p1");
    assert_string_equal(ser(pool, b), ser(pool, parse(pool, in)));
}

static void test_raw_body(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    const char *open = "{\"resourceType\":\"Patient\",\"id\":\"p9\"}";

    /* Nothing to change: the stored text goes out as it is. */
    ctx->resp.raw_body = open;
    assert_null(cr_privacy_apply(ctx));
    assert_ptr_equal(ctx->resp.raw_body, open);
    assert_null(ctx->resp.body);
    /* A restricted one is parsed, masked and sent as JSON. */
    ctx->resp.raw_body = RESTRICTED("p1");
    assert_null(cr_privacy_apply(ctx));
    assert_null(ctx->resp.raw_body);
    assert_null(strstr(ser(pool, ctx->resp.body), "Secretfam"));
}

/* A read's stored current version (raw_current): the text alone decides,
 * the store is never asked (this ctx has no database), and the text goes
 * out unparsed unless it carries a restriction or provenance. */
static void test_raw_current(void **state)
{
    apr_pool_t *pool = *state;
    cr_ctx_t *ctx = make_ctx(pool, 0);
    const char *open = "{\"resourceType\":\"Patient\",\"id\":\"p9\","
        "\"name\":[{\"family\":\"Plain\"}]}";
    const char *prov = OPEN("p8");

    ctx->resp.raw_current = 1;
    ctx->resp.raw_body = open;
    assert_null(cr_privacy_apply(ctx));
    assert_ptr_equal(ctx->resp.raw_body, open);
    assert_null(ctx->resp.body);
    /* Provenance is stripped for this caller. */
    ctx->resp.raw_body = prov;
    assert_null(cr_privacy_apply(ctx));
    assert_null(ctx->resp.raw_body);
    assert_non_null(strstr(ser(pool, ctx->resp.body), "Openfam"));
    assert_null(strstr(ser(pool, ctx->resp.body), "bc-sourceId-extension"));
    /* A restricted current version is masked. */
    ctx->resp.body = NULL;
    ctx->resp.raw_body = RESTRICTED("p1");
    assert_null(cr_privacy_apply(ctx));
    assert_null(ctx->resp.raw_body);
    assert_null(strstr(ser(pool, ctx->resp.body), "Secretfam"));
    assert_null(strstr(ser(pool, ctx->resp.body), "1961-02-03"));
    /* A privileged caller is told which restricted client it sees. */
    ctx = make_ctx(pool, 1);
    ctx->resp.raw_current = 1;
    ctx->resp.raw_body = RESTRICTED("p1");
    assert_string_equal(cr_privacy_apply(ctx), "p1");
    ctx->resp.raw_body = open;
    assert_null(cr_privacy_apply(ctx));
    assert_ptr_equal(ctx->resp.raw_body, open);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("privacy: a Bundle, masked and scrubbed", test_bundle_masked),
        CR_TEST("privacy: Parameters and contained", test_nested),
        CR_TEST("privacy: older versions of a restricted client",
                test_history_versions),
        CR_TEST("privacy: a large page", test_large),
        CR_TEST("privacy: privileged", test_privileged),
        CR_TEST("privacy: a restricted client's evidence", test_evidence),
        CR_TEST("privacy: stored text", test_raw_body),
        CR_TEST("privacy: a read's current version", test_raw_current),
    };
    int rc;

    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
