/* cr_outcome: issues collected while handling one request, and their
 * rendering as a FHIR OperationOutcome.
 *
 * Core and store code never choose HTTP statuses or log: they append
 * issues here (severity, FHIR issue-type code, optional BCHCIM detail code,
 * FHIRPath expression, text) and return an apr_status_t.  The service layer
 * decides the business outcome; the request layer maps it to HTTP.
 */
#ifndef CR_OUTCOME_H
#define CR_OUTCOME_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_canon.h"


typedef enum {
    CR_SEV_INFORMATION = 0,
    CR_SEV_WARNING,
    CR_SEV_ERROR,
    CR_SEV_FATAL
} cr_severity_e;

typedef struct cr_issue_t {
    cr_severity_e severity;
    const char *code;        /* FHIR issue-type code, e.g. "invalid" */
    const char *detail;      /* BCHCIM.* detail code or NULL */
    const char *expression;  /* FHIRPath of the element or NULL */
    const char *text;        /* human-readable message, never NULL */
} cr_issue_t;

typedef struct cr_outcome_t {
    apr_pool_t *pool;
    apr_array_header_t *issues;   /* of cr_issue_t */
    int max_issues;               /* further issues are counted, not kept */
    int dropped;
    int dropped_errors;           /* of those, errors or fatal */
} cr_outcome_t;

/* A new, empty outcome allocated from pool. */
cr_outcome_t *cr_outcome_make(apr_pool_t *pool);

/* Append an issue; text is a printf format.  expression and detail may be
 * NULL.  All strings are copied into the outcome's pool. */
void cr_outcome_add(cr_outcome_t *oc, cr_severity_e sev, const char *code,
                    const char *detail, const char *expression,
                    const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Number of issues with severity error or fatal. */
int cr_outcome_errors(const cr_outcome_t *oc);

/* The first issue with severity error or fatal, or NULL. */
const cr_issue_t *cr_outcome_first_error(const cr_outcome_t *oc);

/* Remove every issue. */
void cr_outcome_clear(cr_outcome_t *oc);

/* Build an OperationOutcome resource (owned by pool).  An outcome without
 * issues renders one "information / informational" issue saying "All OK",
 * because FHIR requires at least one issue. */
json_object *cr_outcome_to_json(apr_pool_t *pool, const cr_outcome_t *oc);

/* Same, as a freshly created object owned by the caller (for embedding in
 * another document with json_object_object_add). */
json_object *cr_outcome_to_json_unowned(const cr_outcome_t *oc);

const char *cr_outcome_severity_name(cr_severity_e sev);

#endif /* CR_OUTCOME_H */
