/*
 * test_cr_outcome.c: unit tests for cr_outcome (collecting issues,
 * counting errors, the bound on kept issues, and the OperationOutcome
 * JSON they render to).
 *
 * Rendered documents are compared as exact serialisations, so element
 * names, order and nesting are all checked at once.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_general.h>
#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }


#define SYS "https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/" \
            "bc-oo-codes"


static const cr_issue_t *issue(const cr_outcome_t *oc, int i)
{
    return &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
}

static const char *render(apr_pool_t *pool, const cr_outcome_t *oc)
{
    return cr_json_serialize(pool, cr_outcome_to_json(pool, oc), NULL);
}

/* A new outcome is empty and bounded at 50 issues. */
static void test_make(void **state)
{
    cr_outcome_t *oc = cr_outcome_make(*state);

    assert_non_null(oc);
    assert_ptr_equal(oc->pool, *state);
    assert_int_equal(oc->issues->nelts, 0);
    assert_int_equal(oc->max_issues, 50);
    assert_int_equal(oc->dropped, 0);
    assert_int_equal(cr_outcome_errors(oc), 0);
    assert_null(cr_outcome_first_error(oc));
}

/* Issues keep what was added, copied into the outcome's pool. */
static void test_add_copies(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    char code[16], detail[32], expr[32];
    const cr_issue_t *is;

    strcpy(code, "code-invalid");
    strcpy(detail, "BCHCIM.RP.2.0017");
    strcpy(expr, "Patient.name[0].use");
    cr_outcome_add(oc, CR_SEV_ERROR, code, detail, expr, "%s: '%s' (%d)",
                   "name.use", "maiden", 3);
    memset(code, 'x', sizeof(code) - 1);
    memset(detail, 'x', sizeof(detail) - 1);
    memset(expr, 'x', sizeof(expr) - 1);

    assert_int_equal(oc->issues->nelts, 1);
    is = issue(oc, 0);
    assert_int_equal(is->severity, CR_SEV_ERROR);
    assert_string_equal(is->code, "code-invalid");
    assert_string_equal(is->detail, "BCHCIM.RP.2.0017");
    assert_string_equal(is->expression, "Patient.name[0].use");
    assert_string_equal(is->text, "name.use: 'maiden' (3)");

    /* NULL code becomes "processing"; NULL detail/expression stay NULL. */
    cr_outcome_add(oc, CR_SEV_WARNING, NULL, NULL, NULL, "plain");
    is = issue(oc, 1);
    assert_string_equal(is->code, "processing");
    assert_null(is->detail);
    assert_null(is->expression);
    assert_string_equal(is->text, "plain");
}

/* Only error and fatal issues count as errors. */
static void test_error_counting(void **state)
{
    cr_outcome_t *oc = cr_outcome_make(*state);

    cr_outcome_add(oc, CR_SEV_INFORMATION, "informational", NULL, NULL, "i");
    cr_outcome_add(oc, CR_SEV_WARNING, "business-rule", NULL, NULL, "w");
    assert_int_equal(cr_outcome_errors(oc), 0);
    assert_null(cr_outcome_first_error(oc));

    cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, "Patient.gender", "e1");
    cr_outcome_add(oc, CR_SEV_WARNING, "informational", NULL, NULL, "w2");
    cr_outcome_add(oc, CR_SEV_FATAL, "exception", NULL, NULL, "f");
    assert_int_equal(cr_outcome_errors(oc), 2);
    assert_string_equal(cr_outcome_first_error(oc)->text, "e1");
    assert_ptr_equal(cr_outcome_first_error(oc), issue(oc, 2));

    cr_outcome_clear(oc);
    assert_int_equal(oc->issues->nelts, 0);
    assert_int_equal(cr_outcome_errors(oc), 0);
    assert_null(cr_outcome_first_error(oc));
    assert_int_equal(oc->dropped, 0);
}

/* CR-OO-001: severity names. */
static void test_severity_names(void **state)
{
    static const struct {
        cr_severity_e sev;
        const char *name;
    } v[] = {
        { CR_SEV_INFORMATION, "information" },
        { CR_SEV_WARNING, "warning" },
        { CR_SEV_ERROR, "error" },
        { CR_SEV_FATAL, "fatal" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(v); i++) {
        assert_string_equal(cr_outcome_severity_name(v[i].sev), v[i].name);
    }
}

/* CR-OO-002: no issues renders one information issue "All OK". */
static void test_render_empty(void **state)
{
    apr_pool_t *pool = *state;
    static const char expect[] =
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
        "\"information\",\"code\":\"informational\",\"details\":{\"text\":"
        "\"All OK\"}}]}";

    assert_string_equal(render(pool, cr_outcome_make(pool)), expect);
    assert_string_equal(render(pool, NULL), expect);
}

/* CR-OO-001, CR-OO-003, CR-OO-006, CR-OO-008: one issue of each shape. */
static void test_render_issues(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);

    cr_outcome_add(oc, CR_SEV_ERROR, "code-invalid", "BCHCIM.RP.2.0017",
                   "Patient.name[0].use",
                   "Patient.name[0].use: 'maiden' is not allowed");
    cr_outcome_add(oc, CR_SEV_WARNING, "business-rule", NULL,
                   "Patient.birthDate", "odd date");
    cr_outcome_add(oc, CR_SEV_INFORMATION, "informational",
                   "BCHCIM.FC.0.0012", NULL, "search completed");
    cr_outcome_add(oc, CR_SEV_FATAL, NULL, NULL, NULL, "a/b \"quoted\"");
    assert_string_equal(
        render(pool, oc),
        "{\"resourceType\":\"OperationOutcome\",\"issue\":["
        "{\"severity\":\"error\",\"code\":\"code-invalid\",\"details\":"
        "{\"coding\":[{\"system\":\"" SYS "\",\"code\":\"BCHCIM.RP.2.0017\"}],"
        "\"text\":\"Patient.name[0].use: 'maiden' is not allowed\"},"
        "\"expression\":[\"Patient.name[0].use\"]},"
        "{\"severity\":\"warning\",\"code\":\"business-rule\",\"details\":"
        "{\"text\":\"odd date\"},\"expression\":[\"Patient.birthDate\"]},"
        "{\"severity\":\"information\",\"code\":\"informational\","
        "\"details\":{\"coding\":[{\"system\":\"" SYS "\",\"code\":"
        "\"BCHCIM.FC.0.0012\"}],\"text\":\"search completed\"}},"
        "{\"severity\":\"fatal\",\"code\":\"processing\",\"details\":"
        "{\"text\":\"a/b \\\"quoted\\\"\"}}]}");
}

/* Walk the rendered document with the getters, as a client would. */
static void test_render_structure(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    json_object *root, *issues, *is, *details, *coding, *expr;

    cr_outcome_add(oc, CR_SEV_ERROR, "value", "BCHCIM.GD.2.0018",
                   "Patient.birthDate", "bad %s", "date");
    root = cr_outcome_to_json(pool, oc);
    assert_string_equal(cr_json_get_string(root, "resourceType"),
                        "OperationOutcome");
    issues = cr_json_get_array(root, "issue");
    assert_int_equal(json_object_array_length(issues), 1);
    is = json_object_array_get_idx(issues, 0);
    assert_string_equal(cr_json_get_string(is, "severity"), "error");
    assert_string_equal(cr_json_get_string(is, "code"), "value");
    details = cr_json_get_object(is, "details");
    assert_string_equal(cr_json_get_string(details, "text"), "bad date");
    coding = cr_json_get_array(details, "coding");
    assert_int_equal(json_object_array_length(coding), 1);
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(coding,
                                                                      0),
                                           "system"), CR_OO_CODE_SYSTEM);
    assert_string_equal(CR_OO_CODE_SYSTEM, SYS);
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(coding,
                                                                      0),
                                           "code"), "BCHCIM.GD.2.0018");
    expr = cr_json_get_array(is, "expression");
    assert_int_equal(json_object_array_length(expr), 1);
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(expr, 0)),
                        "Patient.birthDate");
}

/* CR-OO-007: every issue is kept up to the bound of 50; the rest are
 * counted and summarised in one extra information issue. */
static void test_bound(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    json_object *root, *issues, *last;
    int i;

    for (i = 0; i < 50; i++) {
        cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL,
                       apr_psprintf(pool, "Patient.name[%d]", i), "e%d", i);
    }
    assert_int_equal(oc->issues->nelts, 50);
    assert_int_equal(oc->dropped, 0);
    root = cr_outcome_to_json(pool, oc);
    assert_int_equal(json_object_array_length(cr_json_get_array(root,
                                                                "issue")),
                     50);

    for (i = 50; i < 60; i++) {
        cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, NULL, "e%d", i);
    }
    assert_int_equal(oc->issues->nelts, 50);
    assert_int_equal(oc->dropped, 10);
    /* Dropped errors still count. */
    assert_int_equal(cr_outcome_errors(oc), 60);
    assert_string_equal(issue(oc, 49)->text, "e49");
    assert_string_equal(issue(oc, 49)->expression, "Patient.name[49]");

    root = cr_outcome_to_json(pool, oc);
    issues = cr_json_get_array(root, "issue");
    assert_int_equal(json_object_array_length(issues), 51);
    last = json_object_array_get_idx(issues, 50);
    assert_string_equal(cr_json_get_string(last, "severity"), "information");
    assert_string_equal(cr_json_get_string(last, "code"), "informational");
    assert_string_equal(cr_json_get_string(cr_json_get_object(last,
                                                              "details"),
                                           "text"),
                        "10 further issue(s) were not listed");
    assert_null(cr_json_get(last, "expression"));

    /* Clearing resets the dropped count. */
    cr_outcome_clear(oc);
    assert_int_equal(oc->dropped, 0);
    cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, NULL, "again");
    assert_int_equal(oc->issues->nelts, 1);
}

/* An error that falls beyond the bound still makes the outcome fail. */
static void test_bound_keeps_failure(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    int i;

    for (i = 0; i < 50; i++) {
        cr_outcome_add(oc, CR_SEV_WARNING, "informational", NULL, NULL,
                       "w%d", i);
    }
    assert_int_equal(cr_outcome_errors(oc), 0);
    cr_outcome_add(oc, CR_SEV_INFORMATION, "informational", NULL, NULL,
                   "dropped info");
    assert_int_equal(cr_outcome_errors(oc), 0);
    cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, NULL, "dropped error");
    assert_int_equal(oc->issues->nelts, 50);
    assert_int_equal(oc->dropped, 2);
    assert_int_equal(cr_outcome_errors(oc), 1);
    assert_non_null(cr_outcome_first_error(oc));
}

/* The unowned form belongs to the caller: one put frees it. */
static void test_unowned(void **state)
{
    cr_outcome_t *oc = cr_outcome_make(*state);
    json_object *o;

    cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, NULL, "x");
    o = cr_outcome_to_json_unowned(oc);
    assert_string_equal(cr_json_get_string(o, "resourceType"),
                        "OperationOutcome");
    assert_int_equal(json_object_put(o), 1);

    o = cr_outcome_to_json_unowned(NULL);
    assert_int_equal(json_object_array_length(cr_json_get_array(o, "issue")),
                     1);
    assert_int_equal(json_object_put(o), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("new outcome is empty, bound 50", test_make),
        CR_TEST("add copies strings and formats text", test_add_copies),
        CR_TEST("error counting and first error", test_error_counting),
        CR_TEST("CR-OO-001: severity names", test_severity_names),
        CR_TEST("CR-OO-002: empty outcome renders All OK",
                test_render_empty),
        CR_TEST("CR-OO-003: issues render severity, code, details, "
                "expression", test_render_issues),
        CR_TEST("CR-OO-008: rendered structure read back",
                test_render_structure),
        CR_TEST("CR-OO-007: 50 issues kept, the rest summarised",
                test_bound),
        CR_TEST("bound: a dropped error still fails the outcome",
                test_bound_keeps_failure),
        CR_TEST("unowned rendering is freed by its caller", test_unowned),
    };

    return cmocka_run_group_tests_name("cr_outcome", tests, group_setup,
                                       group_teardown);
}
