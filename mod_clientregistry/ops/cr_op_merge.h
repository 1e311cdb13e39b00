/* cr_op_merge.h: the merge engine both merge forms run on (operations.md
 * 5): the Bundle-based $MergePatient (ops/cr_op_merge.c) and the G5
 * $merge with Parameters (ops/cr_op_fhir_merge.c).  Each form reads its
 * request and resolves the survivor and the non-survivors to clients
 * inside the transaction; what a merge does to the store is here, once,
 * so $UnmergePatient undoes a merge made either way.
 */
#ifndef CR_OP_MERGE_H
#define CR_OP_MERGE_H

#include "ops/cr_bcop.h"

/* One side of a merge, resolved. */
typedef struct cr_merge_side_t {
    const char *system, *value;   /* an identifier naming it; for a
                                   * non-survivor the one the merge event
                                   * records ($UnmergePatient names it) */
    const char *pid;              /* the client, NULL: not found */
    cr_source_rec_t *rec;         /* its source record, when named by
                                   * an SRI (demographics go there) */
    const char *expr;             /* where the request names it */
    const char *status;           /* the identifier's: active | merged */
} cr_merge_side_t;

/* Inside a transaction: s->pid (and s->rec when (system, value) is a
 * source record identifier) of the client (system, value) names; pid
 * NULL when none does. */
apr_status_t cr_op_merge_resolve(cr_bcop_t *m, cr_merge_side_t *s);

/* 1 when patient (may be NULL) carries demographics a merge applies
 * (name, gender, birthDate, address, telecom). */
int cr_op_merge_has_demographics(json_object *patient);

/* Inside the transaction begun by the caller, with the survivor surv at
 * its current version cur and each non-survivor ns[0..nns) resolved:
 * merge each into the survivor, apply the demographics (or only
 * meta.security) of patient (may be NULL) to surv->rec after the merge,
 * rebuild the survivor and commit with the audit record of audit_op.  1
 * when committed (*revised: demographics were applied; *out, when out is
 * not NULL, the survivor as written); 0 when the
 * request was answered and rolled back (a non-survivor already merged or
 * the survivor's own record, a store failure). */
int cr_op_merge_apply(cr_bcop_t *m, cr_merge_side_t *surv,
                      cr_merge_side_t *ns, int nns, json_object *patient,
                      apr_int64_t cur, const char *audit_op, int *revised,
                      cr_patient_t **out);

#endif /* CR_OP_MERGE_H */
