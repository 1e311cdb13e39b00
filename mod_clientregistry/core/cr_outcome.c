/* cr_outcome: issue collection and OperationOutcome rendering. */
#include <stdarg.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"

/* Bound on kept issues: a hostile document with thousands of bad elements
 * must not produce an unbounded response. */
#define CR_OUTCOME_MAX_ISSUES 50

cr_outcome_t *cr_outcome_make(apr_pool_t *pool)
{
    cr_outcome_t *oc = apr_pcalloc(pool, sizeof(*oc));

    oc->pool = pool;
    oc->issues = apr_array_make(pool, 4, sizeof(cr_issue_t));
    oc->max_issues = CR_OUTCOME_MAX_ISSUES;
    return oc;
}

void cr_outcome_add(cr_outcome_t *oc, cr_severity_e sev, const char *code,
                    const char *detail, const char *expression,
                    const char *fmt, ...)
{
    cr_issue_t *is;
    va_list ap;

    if (oc->issues->nelts >= oc->max_issues) {
        int i;
        oc->dropped++;
        if (sev < CR_SEV_ERROR) {
            return;
        }
        /* Errors take precedence: evict the last kept non-error, so the
         * response still shows why the request failed. */
        for (i = oc->issues->nelts - 1; i >= 0; i--) {
            if (APR_ARRAY_IDX(oc->issues, i, cr_issue_t).severity
                < CR_SEV_ERROR) {
                break;
            }
        }
        if (i < 0) {
            oc->dropped_errors++;
            return;
        }
        is = &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
    }
    else {
        is = apr_array_push(oc->issues);
    }
    is->severity = sev;
    is->code = apr_pstrdup(oc->pool, code ? code : "processing");
    is->detail = detail ? apr_pstrdup(oc->pool, detail) : NULL;
    is->expression = expression ? apr_pstrdup(oc->pool, expression) : NULL;
    va_start(ap, fmt);
    is->text = apr_pvsprintf(oc->pool, fmt, ap);
    va_end(ap);
}

int cr_outcome_errors(const cr_outcome_t *oc)
{
    int i, n = oc->dropped_errors;

    for (i = 0; i < oc->issues->nelts; i++) {
        if (APR_ARRAY_IDX(oc->issues, i, cr_issue_t).severity
            >= CR_SEV_ERROR) {
            n++;
        }
    }
    return n;
}

const cr_issue_t *cr_outcome_first_error(const cr_outcome_t *oc)
{
    int i;

    for (i = 0; i < oc->issues->nelts; i++) {
        const cr_issue_t *is = &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
        if (is->severity >= CR_SEV_ERROR) {
            return is;
        }
    }
    return NULL;
}

void cr_outcome_clear(cr_outcome_t *oc)
{
    apr_array_clear(oc->issues);
    oc->dropped = 0;
    oc->dropped_errors = 0;
}

const char *cr_outcome_severity_name(cr_severity_e sev)
{
    switch (sev) {
    case CR_SEV_INFORMATION:
        return "information";
    case CR_SEV_WARNING:
        return "warning";
    case CR_SEV_ERROR:
        return "error";
    default:
        return "fatal";
    }
}

static void render_issue(json_object *arr, const cr_issue_t *is)
{
    json_object *o = cr_json_array_add_object(arr);
    json_object *details;

    cr_json_set_string(o, "severity", cr_outcome_severity_name(is->severity));
    cr_json_set_string(o, "code", is->code);
    details = cr_json_set_new_object(o, "details");
    if (is->detail) {
        json_object *coding = cr_json_set_new_array(details, "coding");
        json_object *c = cr_json_array_add_object(coding);
        cr_json_set_string(c, "system", CR_OO_CODE_SYSTEM);
        cr_json_set_string(c, "code", is->detail);
    }
    cr_json_set_string(details, "text", is->text);
    if (is->expression) {
        json_object *e = cr_json_set_new_array(o, "expression");
        json_object_array_add(e, json_object_new_string(is->expression));
    }
}

json_object *cr_outcome_to_json_unowned(const cr_outcome_t *oc)
{
    json_object *root = json_object_new_object();
    json_object *issues;
    int i;

    cr_json_set_string(root, "resourceType", "OperationOutcome");
    issues = cr_json_set_new_array(root, "issue");
    if (oc == NULL || oc->issues->nelts == 0) {
        cr_issue_t ok = { CR_SEV_INFORMATION, "informational", NULL, NULL,
                          "All OK" };
        render_issue(issues, &ok);
        return root;
    }
    for (i = 0; i < oc->issues->nelts; i++) {
        render_issue(issues, &APR_ARRAY_IDX(oc->issues, i, cr_issue_t));
    }
    if (oc->dropped > 0) {
        cr_issue_t more = { CR_SEV_INFORMATION, "informational", NULL, NULL,
                            NULL };
        more.text = apr_psprintf(oc->pool, "%d further issue(s) were not "
                                 "listed", oc->dropped);
        render_issue(issues, &more);
    }
    return root;
}

json_object *cr_outcome_to_json(apr_pool_t *pool, const cr_outcome_t *oc)
{
    return cr_json_own(pool, cr_outcome_to_json_unowned(oc));
}
