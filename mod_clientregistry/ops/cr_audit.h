/* cr_audit: the audit trail as the operations see it -- records for
 * writes appended inside the write's own transaction, records for
 * everything else built for the request layer's batch writer, AuditEvent
 * search and chain verification for administrators. */
#ifndef CR_AUDIT_H
#define CR_AUDIT_H

#include "core/cr_hashchain.h"
#include "ops/cr_service.h"

/* Fill rec from ctx (request, caller, message id, time). */
void cr_audit_fill(cr_audit_rec_t *rec, const cr_ctx_t *ctx,
                   const char *operation, const char *action, int status,
                   const char *patients);

/* Inside the open write transaction: append the record of this write, so
 * that the write and its audit record commit together.  Marks
 * ctx->resp.audited once the caller has committed (cr_audit_committed). */
apr_status_t cr_audit_in_txn(cr_ctx_t *ctx, const char *operation,
                             const char *action, int status,
                             const char *patients);

/* GET [base]/AuditEvent?patient=&agent=&date=&_count= */
void cr_audit_search(cr_ctx_t *ctx, const char *query);

/* POST [base]/AuditEvent/$verify: recompute the chain. */
void cr_audit_verify(cr_ctx_t *ctx);

#endif /* CR_AUDIT_H */
