/* cr_idem: idempotent messageId (CR-PARAM-004) for the BC maintenance
 * operations and their .Async forms, $merge and $merge.Async included
 * (their messageId is the Request-Id header).
 *
 * A request repeating a messageId its sender already had processed gets
 * the original answer (status, body, Location) again without the work
 * being done again; the same messageId with a different request
 * (operation, If-Match, user id or canonical body) is refused with 422
 * BCHCIM.RP.2.0440; one whose first request is still running waits for
 * its answer (409 BCHCIM.RP.2.0441 when none comes).  The sender is the
 * authenticated organisation, so one sender never sees another's
 * answers; a replay leaves through the output policy for the caller
 * replaying like any answer (httpd/cr_request.c).  Queries are not
 * covered: they change nothing and are answered fresh.  docs/security.md
 * and docs/directives.md (ClientRegistryIdempotencyRetention) say more.
 */
#ifndef CR_IDEM_H
#define CR_IDEM_H

#include "ops/cr_bcop.h"

/* Begin the write transaction of the request f opened (body as
 * received).  When idempotency applies (ctx->idem, a retention, a
 * messageId), the pair (sender, messageId) is first looked up and then
 * claimed inside the transaction.  1: the transaction is open and the
 * operation goes on; 0: the request was answered (the stored answer, a
 * refusal, or a store failure) and no transaction is open.  With
 * ctx->check_only: 0 and nothing else (the request passed its checks). */
int cr_idem_begin(cr_bcop_t *f, json_object *body);

/* After the operation ran: when it committed a claim, store its answer
 * (ctx->resp as built, before the output policy) in a transaction of
 * its own, and now and then purge the answers past the retention.
 * Nothing when the request holds no claim. */
void cr_idem_record(cr_ctx_t *ctx);

#endif /* CR_IDEM_H */
