/* cr_privacy: the output policy -- what of a restricted client, and of
 * the provenance of any client, may leave the registry for a caller.
 *
 * Services read, match and search on the real data and build their
 * responses from it; this one policy is applied where a response leaves:
 * the request layer when it writes ctx->resp, and the asynchronous worker
 * before it stores and delivers a result.  For a caller that is not
 * privileged (cr_caller_t.privileged, decided by httpd's configuration),
 * every Patient in the response -- the body itself, a Bundle's entries, a
 * Parameters part, a contained resource, at any depth -- that is
 * restricted (meta.security v3-Confidentiality R or V, or an older
 * version of a client restricted now) is masked exactly as operations.md
 * 0.7 says (cr_fhir_view_mask: data-absent-reason = masked, no history),
 * OperationOutcome texts lose any of its values they repeat, and every
 * bc-sourceId-extension is removed (CR-GD-024).  A privileged caller gets
 * the response as built; the policy then names the restricted clients it
 * shows unmasked, which the audit trail records.
 */
#ifndef CR_PRIVACY_H
#define CR_PRIVACY_H

#include "ops/cr_service.h"

/* Apply the policy to ctx->resp (body or raw_body) for ctx->caller.
 * Returns the space-separated ids of restricted clients the response
 * shows unmasked (privileged callers only), or NULL. */
const char *cr_privacy_apply(cr_ctx_t *ctx);

/* The same on one JSON document (modified in place). */
const char *cr_privacy_apply_json(cr_ctx_t *ctx, json_object *doc);

#endif /* CR_PRIVACY_H */
