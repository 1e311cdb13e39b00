/* Unit tests for fhir/cr_fhir_patch.c (CR-LEG-002): the G2
 * $PartialRevisePatient Parameters and its FHIR Patch read into
 * cr_patch_req_t (each accepted path form, each refusal with its BCHCIM
 * code and the expression of the operation's part), the limits, and the
 * selection rule of a where() over a client's current values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "fhir/cr_fhir_patch.h"
#include "cr_test_pool.h"
#include "cr_test_outcome.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

#define HEAD \
    "{\"name\":\"messageId\",\"valueString\":\"m1\"}," \
    "{\"name\":\"messageDateTime\"," \
    "\"valueDateTime\":\"2021-11-02T13:28:17-08:00\"}," \
    "{\"name\":\"PHN\",\"valueString\":\"9253484802\"}," \
    "{\"name\":\"sender\",\"valueIdentifier\":{\"system\":\"urn:o\"," \
    "\"value\":\"PHARM\"}}," \
    "{\"name\":\"enterer\",\"valueIdentifier\":{\"system\":\"urn:u\"," \
    "\"value\":\"klgodfre\"}}"
/* A request of these patch operations. */
#define REQ(ops) \
    "{\"resourceType\":\"Parameters\",\"parameter\":[" HEAD "," \
    "{\"name\":\"patchOperation\",\"resource\":{\"resourceType\":" \
    "\"Parameters\",\"parameter\":[" ops "]}}]}"
#define OP(parts) "{\"name\":\"operation\",\"part\":[" parts "]}"
#define TYPE(t) "{\"name\":\"type\",\"valueCode\":\"" t "\"}"
#define PATH(p) "{\"name\":\"path\",\"valueString\":\"" p "\"}"
#define NAME(n) "{\"name\":\"name\",\"valueString\":\"" n "\"}"
#define VAL(x) "{\"name\":\"value\"," x "}"
#define ADDR "\"valueAddress\":{\"type\":\"physical\",\"use\":\"home\"," \
    "\"line\":[\"2 New St\"],\"city\":\"Nelson\"}"
#define OPX "Parameters.parameter[5].resource.parameter[0]"

static json_object *parse(apr_pool_t *pool, const char *text)
{
    json_object *o = NULL;

    assert_int_equal(cr_json_parse(&o, pool, text, strlen(text), NULL,
                                   NULL), APR_SUCCESS);
    return o;
}

static int run(apr_pool_t *pool, const char *text, cr_patch_req_t **q,
               const char **issues)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    int st = cr_fhir_patch_parse(q, pool, parse(pool, text), oc);

    *issues = cr_test_codes(pool, oc);
    return st;
}

static const cr_patch_op_t *op_at(const cr_patch_req_t *q, int i)
{
    assert_true(i < q->ops->nelts);
    return &APR_ARRAY_IDX(q->ops, i, cr_patch_op_t);
}

static void test_parse_forms(void **state)
{
    apr_pool_t *pool = *state;
    cr_patch_req_t *q;
    const char *issues;
    const cr_patch_op_t *o;
    const cr_patch_cond_t *c;

    assert_int_equal(run(pool, REQ(
        OP(TYPE("delete") "," PATH("Patient.address.where(type = 'physical')"))
        "," OP(TYPE("add") "," PATH("Patient") "," NAME("address") ","
               VAL(ADDR))
        "," OP(TYPE("replace") "," PATH("Patient.gender") ","
               VAL("\"valueCode\":\"male\""))
        "," OP(TYPE("replace") ","
               PATH("Patient.telecom.where(system='phone' and use='work')")
               "," VAL("\"valueContactPoint\":{\"system\":\"phone\","
                       "\"value\":\"2505550000\",\"use\":\"work\"}"))
        "," OP(TYPE("insert") "," PATH("Patient.name") ","
               "{\"name\":\"index\",\"valueInteger\":0}," VAL(
               "\"valueHumanName\":{\"use\":\"usual\",\"family\":\"X\"}"))
        "," OP(TYPE("replace") "," PATH("Patient.deceased") ","
               VAL("\"valueDateTime\":\"2024-01-02\""))
        "," OP(TYPE("delete") "," PATH("Patient.multipleBirth"))),
        &q, &issues), 0);
    assert_string_equal(issues, "");
    assert_string_equal(q->message_id, "m1");
    assert_string_equal(q->phn, "9253484802");
    assert_string_equal(q->sender, "PHARM");
    assert_string_equal(q->enterer, "klgodfre");
    assert_string_equal(q->phn_expr, "Parameters.parameter[2].valueString");
    assert_int_equal(q->ops->nelts, 7);
    o = op_at(q, 0);
    assert_int_equal(o->action, CR_PATCH_DELETE);
    assert_string_equal(o->kind, "address");
    assert_true(o->repeating);
    assert_int_equal(o->where->nelts, 1);
    c = &APR_ARRAY_IDX(o->where, 0, cr_patch_cond_t);
    assert_string_equal(c->field, "type");
    assert_string_equal(c->literal, "physical");
    assert_null(o->value);
    assert_string_equal(o->expr, OPX);
    assert_string_equal(o->path_expr, OPX ".part[1]");
    o = op_at(q, 1);
    assert_int_equal(o->action, CR_PATCH_ADD);
    assert_string_equal(o->kind, "address");
    assert_null(o->where);
    assert_string_equal(cr_json_get_string(o->value, "city"), "Nelson");
    o = op_at(q, 2);
    assert_int_equal(o->action, CR_PATCH_ADD);   /* a single is set */
    assert_string_equal(o->member, "gender");
    o = op_at(q, 3);
    assert_int_equal(o->action, CR_PATCH_REPLACE);
    assert_int_equal(o->where->nelts, 2);
    c = &APR_ARRAY_IDX(o->where, 1, cr_patch_cond_t);
    assert_string_equal(c->field, "use");
    assert_string_equal(c->literal, "work");
    o = op_at(q, 4);
    assert_int_equal(o->action, CR_PATCH_ADD);
    assert_string_equal(o->kind, "name");
    o = op_at(q, 5);
    assert_string_equal(o->kind, "deceased");
    assert_string_equal(o->member, "deceasedDateTime");
    o = op_at(q, 6);
    assert_int_equal(o->action, CR_PATCH_DELETE);
    assert_string_equal(o->kind, "multipleBirth");
    assert_int_equal(o->index, 6);
}

/* One operation: its status and issues. */
static void refused(apr_pool_t *pool, const char *req, int status,
                    const char *want)
{
    cr_patch_req_t *q;
    const char *issues;

    assert_int_equal(run(pool, req, &q, &issues), status);
    assert_string_equal(issues, want);
}

static void test_parse_refusals(void **state)
{
    apr_pool_t *pool = *state;

    /* CR-LEG-002: the IG's own example omits the type. */
    refused(pool, REQ(OP(PATH("Patient.address.where(type = 'physical')"))),
            400, "BCHCIM.RP.2.0165@" OPX);
    refused(pool, REQ(OP(TYPE("move") "," PATH("Patient.name"))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[0]");
    /* Paths beyond the supported forms, each at the path part. */
    refused(pool, REQ(OP(TYPE("delete") "," PATH("Patient.address[0]"))),
            422, "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") ","
                         PATH("Patient.address.where(type = 'physical')"
                              ".city"))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") ","
                         PATH("Patient.address.where(type != 'x')"))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") ","
                         PATH("Patient.address.exists()"))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") "," PATH("Patient.identifier"))),
            422, "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") "," PATH("Patient.address"))),
            422, "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("delete") ","
                         PATH("Patient.gender.where(x = 'y')"))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[1]");
    refused(pool, REQ(OP(TYPE("add") "," PATH("Patient") ","
                         NAME("photo") "," VAL(ADDR))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[2]");
    /* Values of the wrong type. */
    refused(pool, REQ(OP(TYPE("replace") ","
                         PATH("Patient.address.where(type = 'physical')")
                         "," VAL("\"valueString\":\"x\""))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[2]");
    refused(pool, REQ(OP(TYPE("replace") "," PATH("Patient.gender") ","
                         VAL("\"valueCode\":\"martian\""))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[2]");
    refused(pool, REQ(OP(TYPE("replace") "," PATH("Patient.birthDate") ","
                         VAL("\"valueDate\":\"1990-13-45\""))), 422,
            "BCHCIM.RP.2.0166@" OPX ".part[2]");
    refused(pool, REQ(OP(TYPE("replace") "," PATH("Patient.gender"))), 400,
            "BCHCIM.RP.2.0165@" OPX);
    refused(pool, REQ(OP(TYPE("delete") "," PATH("Patient.gender") ","
                         VAL("\"valueCode\":\"male\""))), 400,
            "BCHCIM.RP.2.0165@" OPX ".part[2]");
    refused(pool, REQ(OP(TYPE("insert") "," PATH("Patient.name") ","
                         VAL("\"valueHumanName\":{\"family\":\"X\"}"))),
            400, "BCHCIM.RP.2.0165@" OPX);
    /* The envelope. */
    refused(pool, "{\"resourceType\":\"Parameters\",\"parameter\":["
            "{\"name\":\"messageId\",\"valueString\":\"m\"},"
            "{\"name\":\"messageId\",\"valueString\":\"n\"},"
            "{\"name\":\"bogus\",\"valueString\":\"n\"}]}", 400,
            "BCHCIM.RP.2.0165@Parameters.parameter[1] "
            "BCHCIM.RP.2.0165@Parameters.parameter[2] "
            "BCHCIM.RP.2.0165@Parameters");
    refused(pool, "{\"resourceType\":\"Parameters\",\"parameter\":["
            "{\"name\":\"PHN\",\"valueString\":\"9253484802\"}]}", 400,
            "BCHCIM.RP.2.0107@Parameters BCHCIM.RP.2.0165@Parameters");
}

static void test_parse_limits(void **state)
{
    apr_pool_t *pool = *state;
    const char *ops = OP(TYPE("delete") "," PATH("Patient.gender"));
    const char *path = "Patient.address.where(type = '";
    const char *conds = "Patient.address.where(a = 'x'";
    int i;

    for (i = 1; i <= CR_PATCH_MAX_OPS; i++) {
        ops = apr_pstrcat(pool, ops, ",", OP(TYPE("delete") ","
                                             PATH("Patient.gender")), NULL);
    }
    refused(pool, apr_psprintf(pool, REQ("%s"), ops), 400,
            "BCHCIM.RP.2.0165@Parameters.parameter[5].resource");
    for (i = 0; i < CR_PATCH_MAX_PATH; i++) {
        path = apr_pstrcat(pool, path, "x", NULL);
    }
    refused(pool, apr_psprintf(pool, REQ(OP(TYPE("delete") ",%s")),
                               apr_psprintf(pool, PATH("%s')"), path)),
            422, "BCHCIM.RP.2.0166@" OPX ".part[1]");
    for (i = 0; i < CR_PATCH_MAX_CONDS; i++) {
        conds = apr_pstrcat(pool, conds, " and a = 'x'", NULL);
    }
    refused(pool, apr_psprintf(pool, REQ(OP(TYPE("delete") ",%s")),
                               apr_psprintf(pool, PATH("%s)"), conds)),
            422, "BCHCIM.RP.2.0166@" OPX ".part[1]");
    assert_true(cr_fhir_patch_is_request(parse(pool, REQ(""))));
    assert_false(cr_fhir_patch_is_request(parse(pool,
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":"
        "\"operationBundle\",\"resource\":{}}]}")));
    assert_false(cr_fhir_patch_is_request(parse(pool,
        "{\"resourceType\":\"Bundle\"}")));
}

/* The selection of op (the first of REQ(text)) over vals. */
static cr_patch_sel_e select_over(apr_pool_t *pool, const char *text,
                                  const char *const *vals, int n, int *sel)
{
    cr_patch_req_t *q;
    const char *issues;
    json_object *v[8];
    int i;

    assert_int_equal(run(pool, text, &q, &issues), 0);
    for (i = 0; i < n; i++) {
        v[i] = parse(pool, vals[i]);
    }
    return cr_fhir_patch_select(pool, op_at(q, 0), v, n, sel);
}

static void test_select(void **state)
{
    apr_pool_t *pool = *state;
    /* Two phones (home, work) and an e-mail; two physical addresses of
     * different use (only one shows in the composite, CR-PAT-009). */
    const char *tel[] = {
        "{\"system\":\"phone\",\"use\":\"home\",\"value\":\"1\"}",
        "{\"system\":\"phone\",\"use\":\"work\",\"value\":\"2\"}",
        "{\"system\":\"email\",\"use\":\"home\",\"value\":\"a@b\"}" };
    const char *adr[] = {
        "{\"type\":\"physical\",\"use\":\"home\",\"city\":\"A\"}",
        "{\"type\":\"physical\",\"use\":\"work\",\"city\":\"B\"}",
        "{\"type\":\"postal\",\"city\":\"C\"}" };
    int sel[3];

    /* where(type = 'physical') selects regardless of use: one key. */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("delete") "," PATH(
        "Patient.address.where(type = 'physical')"))), adr, 3, sel),
        CR_PATCH_SEL_OK);
    assert_int_equal(sel[0], 1);
    assert_int_equal(sel[1], 1);
    assert_int_equal(sel[2], 0);
    /* where(system = 'phone'): two keys, the delete does not say which. */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("delete") "," PATH(
        "Patient.telecom.where(system = 'phone')"))), tel, 3, sel),
        CR_PATCH_SEL_AMBIGUOUS);
    /* ... a replace's value does (phone|work). */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("replace") "," PATH(
        "Patient.telecom.where(system = 'phone')") "," VAL(
        "\"valueContactPoint\":{\"system\":\"phone\",\"use\":\"work\","
        "\"value\":\"3\"}"))), tel, 3, sel), CR_PATCH_SEL_OK);
    assert_int_equal(sel[0], 0);
    assert_int_equal(sel[1], 1);
    assert_int_equal(sel[2], 0);
    /* ... unless its key is none of the matches. */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("replace") "," PATH(
        "Patient.telecom.where(system = 'phone')") "," VAL(
        "\"valueContactPoint\":{\"system\":\"phone\",\"use\":\"mobile\","
        "\"value\":\"3\"}"))), tel, 3, sel), CR_PATCH_SEL_AMBIGUOUS);
    /* Both conditions: one key. */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("delete") "," PATH(
        "Patient.telecom.where(system = 'phone' and use = 'home')"))), tel,
        3, sel), CR_PATCH_SEL_OK);
    assert_int_equal(sel[0], 1);
    assert_int_equal(sel[1], 0);
    /* Nothing matches. */
    assert_int_equal(select_over(pool, REQ(OP(TYPE("delete") "," PATH(
        "Patient.telecom.where(system = 'fax')"))), tel, 3, sel),
        CR_PATCH_SEL_NONE);
    assert_int_equal(select_over(pool, REQ(OP(TYPE("delete") "," PATH(
        "Patient.telecom.where(system = 'phone')"))), tel, 0, sel),
        CR_PATCH_SEL_NONE);
    assert_string_equal(cr_fhir_patch_key(pool, "name", parse(pool,
        "{\"family\":\"X\"}")), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("parse: every supported form", test_parse_forms),
        CR_TEST("parse: refusals with codes and parts", test_parse_refusals),
        CR_TEST("parse: limits", test_parse_limits),
        CR_TEST("select: the where() rule", test_select),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
