/* cr_ops_maintain: the BC Client Registry's maintenance operations
 * (operations.md sections 3, 4, 5.2, 6 and 9.4), one file each on the
 * frame of ops/cr_bcop.c:
 *
 *   $AddPatient                              ops/cr_op_add.c
 *   $RevisePatient                           ops/cr_op_revise.c
 *   $MergePatient, $UnmergePatient           ops/cr_op_merge.c
 *   $PartialUpdatePatient, $PartialRevise... ops/cr_op_partial.c
 *   the .Async forms of Add, Revise,
 *     PartialUpdate and Merge                ops/cr_op_async.c
 *
 * $UnmergePatient is the registry's own inverse of a merge, same request
 * Bundle as $MergePatient.  Their OperationDefinition canonicals
 * (CR_OPDEF_*) are in core/cr_canon.h.
 *
 * Data model: a person (cr_patient, the composite) is built from the
 * source records of the systems that sent it (cr_store_source,
 * cr_composite), each attribute with its business period and its
 * supplier.  Every request runs in one transaction (source records,
 * attributes, the composite version, identifiers, index keys, audit
 * record) and is answered after the commit; If-Match (W/"n") names the
 * person's current version.
 */
#ifndef CR_OPS_MAINTAIN_H
#define CR_OPS_MAINTAIN_H

#include "core/cr_canon.h"     /* CR_OPDEF_* */
#include "ops/cr_service.h"

void cr_ops_maintain_add(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_revise(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_merge(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_unmerge(cr_ctx_t *ctx, json_object *body);
/* $PartialUpdatePatient (G3/G4, operations.md 9.4) and its G2 name
 * $PartialRevisePatient: per-element add / delete / replace
 * (bc-update-patient-operation-extension; replace when absent) on the
 * source record named by the one identifier. */
void cr_ops_maintain_partial_update(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_partial_revise(cr_ctx_t *ctx, json_object *body);
/* $PartialRevisePatient in the G2 FHIR-Patch form (a Parameters with
 * PHN and patchOperation; CR-LEG-002, ops/cr_op_partial_patch.c), which
 * cr_ops_maintain_partial_revise hands such a body to. */
void cr_op_partial_patch(cr_ctx_t *ctx, json_object *body);
/* $AddPatient.Async, $RevisePatient.Async, $PartialUpdatePatient.Async,
 * $MergePatient.Async (operations.md 6): checks the envelope, the sender
 * and the user, queues the request in cr_async_job in one transaction and
 * answers 202 with the acknowledgement Bundle.  The worker
 * (httpd/cr_async_worker.c) runs the synchronous operation later and
 * POSTs its response. */
void cr_ops_maintain_add_async(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_revise_async(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_partial_async(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_merge_async(cr_ctx_t *ctx, json_object *body);
/* The G5 $merge with Parameters (operations.md 5.1, DECISION-09) and
 * $merge.Async, which checks the request with $merge's own rules
 * before it is queued (ops/cr_op_fhir_merge.c). */
void cr_ops_maintain_fhir_merge(cr_ctx_t *ctx, json_object *body);
void cr_ops_maintain_fhir_merge_async(cr_ctx_t *ctx, json_object *body);

/* Queue body, a request f opened and checked, as a job of operation op
 * in one transaction with its audit record and answer 202 with the
 * acknowledgement Bundle (ops/cr_op_async.c). */
struct cr_bcop_t;
void cr_op_async_queue(struct cr_bcop_t *f, json_object *body,
                       const char *op);

/* The status URL of async job job_id below base ([base]/async/{id}),
 * given in the 202's Content-Location. */
const char *cr_ops_async_status_url(apr_pool_t *pool, const char *base,
                                    const char *job_id);
/* GET [base]/async/{id}: 202 while the job is queued or running, 200 and
 * the operation's response Bundle once it ran, 500 when it could not be
 * run, 404 when there is no such job or it is another organisation's
 * (docs/async.md). */
void cr_ops_async_status(cr_ctx_t *ctx, const char *id);

#endif /* CR_OPS_MAINTAIN_H */
