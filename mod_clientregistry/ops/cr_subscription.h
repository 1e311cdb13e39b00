/* cr_subscription: the RESTful Subscription interactions (operations.md
 * 7.2, CR-SUB-001..006; docs/notifications.md): partners register the
 * change-notification events they want and where they are sent.
 *
 * POST creates (the server assigns the id), GET reads one or lists the
 * caller's, PUT replaces an existing one (If-Match optional), DELETE
 * removes one (its undelivered notifications are cancelled).  The body
 * is checked by fhir/cr_fhir_subscription.c; the endpoint must start
 * with one of the prefixes of ClientRegistryNotifyAllow
 * (settings->notify_allow), otherwise 422 business-rule at
 * Subscription.channel.endpoint.
 *
 * Ownership: a subscription belongs to the verified identity that
 * created it (cr_caller_t.client_dn: the certificate subject or the
 * token's client; "anonymous" where the location verifies nobody).  Only
 * its owner and privileged callers (ClientRegistryPrivileged) read,
 * change or delete it; anybody else gets 404 not-found, as for an id
 * that does not exist, so that ids of other partners' subscriptions are
 * not disclosed.  Every change is audited in its transaction.
 */
#ifndef CR_SUBSCRIPTION_H
#define CR_SUBSCRIPTION_H

#include <json-c/json.h>

#include "ops/cr_service.h"

/* The owner a caller's subscriptions get. */
const char *cr_subscription_owner(const cr_caller_t *caller);

/* POST [base]/Subscription. */
void cr_subscription_create(cr_ctx_t *ctx, json_object *body);

/* GET [base]/Subscription/{id}. */
void cr_subscription_read(cr_ctx_t *ctx, const char *id);

/* GET [base]/Subscription: the caller's subscriptions (a privileged
 * caller's: all), a searchset Bundle. */
void cr_subscription_search(cr_ctx_t *ctx, const char *query);

/* PUT [base]/Subscription/{id}; if_match the version If-Match requires,
 * <= 0 when absent. */
void cr_subscription_update(cr_ctx_t *ctx, const char *id,
                            json_object *body, apr_int64_t if_match);

/* DELETE [base]/Subscription/{id}. */
void cr_subscription_delete(cr_ctx_t *ctx, const char *id);

#endif /* CR_SUBSCRIPTION_H */
