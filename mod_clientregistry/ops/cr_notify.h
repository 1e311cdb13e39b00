/* cr_notify: what the registry sends to a subscribed partner, and the
 * administrators' view of a subscription's deliveries (operations.md 7,
 * docs/notifications.md).
 *
 * cr_notify_bundle builds the SubscriptionNotificationBundle of one
 * delivery -- collection, every entry with fullUrl, the
 * MetadataParametersSubscription (messageId = the delivery id, stable
 * across attempts; eventType a CodeableConcept of the change-notification
 * code system) and the full composite Patient of the version the change
 * wrote -- and passes it through the output policy as for a caller that is
 * not privileged (a restricted client goes out masked, no
 * bc-sourceId-extension; CR-NOT-006).  The notification worker
 * (httpd/cr_notify_worker.c) POSTs it.
 *
 * cr_notify_status and cr_notify_resend are the services of
 * GET [base]/Subscription/{id}/$status (the backport's SubscriptionStatus,
 * with the counts per delivery state) and POST
 * [base]/Subscription/{id}/$resend (parked deliveries queued again).
 */
#ifndef CR_NOTIFY_H
#define CR_NOTIFY_H

#include "ops/cr_service.h"
#include "store/cr_store_notify.h"

/* The notification of delivery d as JSON text (*out, in ctx->pool),
 * patients' fullUrl below base (the registry's FHIR base).  ctx->db is
 * read; ctx->caller is ignored (the bundle is always masked as for a
 * caller that is not privileged).  APR_NOTFOUND when the patient version
 * is gone. */
apr_status_t cr_notify_bundle(const char **out, cr_ctx_t *ctx,
                              const cr_delivery_t *d, const char *base);

/* The two halves of cr_notify_bundle, so that the worker reads, parses
 * and masks an event's Patient once for all the subscriptions it goes
 * to (every partner gets the same non-privileged mask):
 * cr_notify_patient reads version of patient_id and applies the output
 * policy to it (*out, owned by ctx->pool: take a reference to keep it
 * longer); cr_notify_bundle_of wraps such a Patient in the notification
 * of delivery d (the Patient is shared, not copied or changed). */
apr_status_t cr_notify_patient(json_object **out, cr_ctx_t *ctx,
                               const char *patient_id, int version,
                               const char *base);
apr_status_t cr_notify_bundle_of(const char **out, cr_ctx_t *ctx,
                                 const cr_delivery_t *d, const char *base,
                                 json_object *patient);

/* GET [base]/Subscription/{id}/$status: a Bundle (type history) whose
 * first entry is the backport's SubscriptionStatus Parameters (status,
 * type query-status, events-since-subscription-start, topic,
 * subscription) with the deliveries counted per state (queued, sending,
 * delivered, parked, cancelled) as extra parameters.  Administrators and
 * the subscription's owner (caller's client_dn or org) only; 404 else. */
void cr_notify_status(cr_ctx_t *ctx, const char *sub_id, int admin);

/* POST [base]/Subscription/{id}/$resend: queue the parked deliveries of
 * subscription sub_id again (all, or the one of parameter messageId in
 * body, a Parameters resource or NULL), with a fresh attempt budget.
 * Answers 200 with a Parameters resource (resent = how many). */
void cr_notify_resend(cr_ctx_t *ctx, const char *sub_id, json_object *body,
                      int admin);

#endif /* CR_NOTIFY_H */
