/* cr_fhir_merge: the request of the G5 `$merge` (operations.md 5.1,
 * DECISION-09) read from its Parameters into plain C, without touching
 * the store.
 *
 * `$merge` is the one maintenance operation whose request is a plain
 * Parameters (no BC Bundle envelope): each side is named by a Reference
 * (source-patient, target-patient) and/or Identifiers
 * (source-patient-identifier, target-patient-identifier), and the
 * desired survivor may come as result-patient.  This file owns the shape
 * rules (names, types, cardinality, the merge-status codes, the root
 * effective date of result-patient); which clients the sides name is
 * decided by ops/cr_op_fhir_merge.c in the transaction.  Pure: every
 * problem becomes an OperationOutcome issue with its BCHCIM code
 * (fhir/cr_bc_codes.c) and a FHIRPath expression.
 */
#ifndef CR_FHIR_MERGE_H
#define CR_FHIR_MERGE_H

#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_outcome.h"

/* At most this many parameters, and identifiers per side. */
#define CR_MERGE_MAX_PARAMS 50
#define CR_MERGE_MAX_IDENTIFIERS 20

/* One identifier naming a side. */
typedef struct cr_merge_ident_t {
    const char *system, *value;
    const char *expr;           /* where it is in the request */
} cr_merge_ident_t;

/* One side (source or target) as the request names it. */
typedef struct cr_merge_side_in_t {
    const char *ref_id;         /* id of the Reference "Patient/<id>" */
    const char *ref_expr;
    apr_array_header_t *ids;    /* of cr_merge_ident_t */
    int named;                  /* a parameter of this side was sent */
} cr_merge_side_in_t;

typedef struct cr_merge_params_t {
    cr_merge_side_in_t source, target;
    json_object *result;        /* result-patient, or NULL */
    const char *result_expr;
    const char *effective;      /* result-patient's root business date */
} cr_merge_params_t;

/* Read body into *out (allocated from pool).  0 when the request is
 * well formed; else the HTTP status (400 or 422) after adding each
 * problem to oc.  The Reference may also be absolute
 * ([base]/Patient/<id>) or carry Reference.identifier (then one more
 * identifier of its side). */
int cr_fhir_merge_parse(cr_merge_params_t **out, apr_pool_t *pool,
                        json_object *body, cr_outcome_t *oc);

/* 1 when link (a Patient.link) is of type replaces and points at
 * Patient/<pid> by reference ("Patient/<pid>" or ".../Patient/<pid>"). */
int cr_fhir_merge_link_is(json_object *link, const char *pid);

/* 1 when code is a bc-merge-status-extension valueCode of the IG
 * (obsolete or cancelled; CR-EXT-004, CR-MRG-016). */
int cr_fhir_merge_status_valid(const char *code);

#endif /* CR_FHIR_MERGE_H */
