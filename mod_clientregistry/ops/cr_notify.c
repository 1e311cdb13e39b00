/* cr_notify: the SubscriptionNotificationBundle of a delivery and the
 * administrators' $status / $resend (see cr_notify.h). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_events.h"
#include "ops/cr_notify.h"
#include "ops/cr_privacy.h"
#include "store/cr_store.h"

static const char *event_display(const char *code)
{
    unsigned bit = cr_events_bit(code);
    int i;

    for (i = 0; i < CR_EVENTS_COUNT; i++) {
        if (bit == (1u << i)) {
            return cr_events_display(i);
        }
    }
    return NULL;
}

static json_object *add_entry(json_object *entries, const char *full_url)
{
    json_object *e = cr_json_array_add_object(entries);

    cr_json_set_string(e, "fullUrl", full_url);
    return e;
}

apr_status_t cr_notify_patient(json_object **out, cr_ctx_t *ctx,
                               const char *patient_id, int version,
                               const char *base)
{
    cr_stored_t *st = NULL;
    json_object *patient = NULL, *wrap;
    cr_caller_t nobody;
    const cr_caller_t *saved = ctx->caller;
    apr_status_t rv;

    *out = NULL;
    rv = cr_store_version_get(&st, ctx->db, ctx->pool, patient_id, version);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cr_json_parse(&patient, ctx->pool, st->resource,
                      strlen(st->resource), NULL, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* The output policy, as for a caller that is not privileged
     * (CR-NOT-006), on a collection holding the Patient as the
     * notification will: the other entry (the Parameters) carries no
     * client data, so masking this one is masking the whole bundle. */
    wrap = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(wrap, "resourceType", "Bundle");
    cr_json_set_string(wrap, "type", "collection");
    json_object_object_add(
        add_entry(cr_json_set_new_array(wrap, "entry"),
                  apr_pstrcat(ctx->pool, base, "/Patient/", patient_id,
                              NULL)),
        "resource", json_object_get(patient));
    memset(&nobody, 0, sizeof(nobody));
    ctx->caller = &nobody;
    cr_privacy_apply_json(ctx, wrap);
    ctx->caller = saved;
    *out = patient;
    return APR_SUCCESS;
}

apr_status_t cr_notify_bundle_of(const char **out, cr_ctx_t *ctx,
                                 const cr_delivery_t *d, const char *base,
                                 json_object *patient)
{
    json_object *bundle, *entries, *params, *p, *cc, *coding;
    const char *display;

    bundle = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(bundle, "resourceType", "Bundle");
    cr_json_set_string(bundle, "id", d->id);
    json_object_array_add(
        cr_json_set_new_array(cr_json_set_new_object(bundle, "meta"),
                              "profile"),
        json_object_new_string(CR_PROFILE_NOTIFY_BUNDLE));
    cr_json_set_string(bundle, "type", "collection");
    cr_json_set_string(bundle, "timestamp", ctx->now_instant);
    entries = cr_json_set_new_array(bundle, "entry");

    /* MetadataParametersSubscription (CR-NOT-003, CR-NOT-004). */
    params = cr_json_set_new_object(
        add_entry(entries, apr_pstrcat(ctx->pool, "urn:uuid:", d->id, NULL)),
        "resource");
    cr_json_set_string(params, "resourceType", "Parameters");
    json_object_array_add(
        cr_json_set_new_array(cr_json_set_new_object(params, "meta"),
                              "profile"),
        json_object_new_string(CR_PROFILE_NOTIFY_PARAMETERS));
    p = cr_json_set_new_array(params, "parameter");
    {
        json_object *m = cr_json_array_add_object(p);
        cr_json_set_string(m, "name", "messageId");
        cr_json_set_string(m, "valueString", d->id);
    }
    {
        json_object *m = cr_json_array_add_object(p);
        cr_json_set_string(m, "name", "eventType");
        cc = cr_json_set_new_object(m, "valueCodeableConcept");
        coding = cr_json_array_add_object(cr_json_set_new_array(cc,
                                                                "coding"));
        cr_json_set_string(coding, "system", CR_CS_NOTIFY_EVENTS);
        cr_json_set_string(coding, "code", d->event_code);
        if ((display = event_display(d->event_code)) != NULL) {
            cr_json_set_string(coding, "display", display);
        }
    }

    /* The full composite Patient of the version the change wrote
     * (CR-NOT-005), masked by cr_notify_patient. */
    json_object_object_add(
        add_entry(entries, apr_pstrcat(ctx->pool, base, "/Patient/",
                                       d->patient_id, NULL)),
        "resource", json_object_get(patient));
    *out = cr_json_serialize(ctx->pool, bundle, NULL);
    return APR_SUCCESS;
}

apr_status_t cr_notify_bundle(const char **out, cr_ctx_t *ctx,
                              const cr_delivery_t *d, const char *base)
{
    json_object *patient = NULL;
    apr_status_t rv = cr_notify_patient(&patient, ctx, d->patient_id,
                                        d->patient_version, base);

    return rv == APR_SUCCESS ? cr_notify_bundle_of(out, ctx, d, base,
                                                   patient)
                             : rv;
}

/* The caller may see subscription sub: an administrator, or its owner. */
static int may_see(const cr_ctx_t *ctx, const cr_subscription_t *sub,
                   int admin)
{
    const cr_caller_t *c = ctx->caller;

    if (admin) {
        return 1;
    }
    return c && sub->owner
           && ((c->client_dn && strcmp(c->client_dn, sub->owner) == 0)
               || (c->org_id && strcmp(c->org_id, sub->owner) == 0));
}

static int load(cr_subscription_t *sub, cr_ctx_t *ctx, const char *id,
                int admin)
{
    apr_status_t rv = cr_store_sub_get(sub, ctx->db, ctx->pool, id);

    if (rv == APR_SUCCESS && may_see(ctx, sub, admin)) {
        return 1;
    }
    if (rv == APR_SUCCESS || rv == APR_NOTFOUND) {
        ctx->resp.status = 404;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-found", NULL, NULL,
                       "no Subscription %s", id);
    }
    else {
        cr_service_db_failure(ctx, rv, "reading the subscription");
    }
    return 0;
}

static void add_param(json_object *params, const char *name,
                      const char *type, json_object *value)
{
    json_object *m = cr_json_array_add_object(params);

    cr_json_set_string(m, "name", name);
    json_object_object_add(m, type, value);
}

void cr_notify_status(cr_ctx_t *ctx, const char *sub_id, int admin)
{
    cr_subscription_t sub;
    cr_notify_status_t n;
    json_object *bundle, *e, *res, *pa;
    apr_status_t rv;
    apr_int64_t total;

    memset(&sub, 0, sizeof(sub));
    if (!load(&sub, ctx, sub_id, admin)) {
        return;
    }
    memset(&n, 0, sizeof(n));
    if ((rv = cr_store_notify_status(&n, ctx->db, ctx->pool, sub_id))
        != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "counting the deliveries");
        return;
    }
    total = (apr_int64_t)n.queued + n.sending + n.delivered + n.parked
            + n.cancelled;
    /* The backport (1.1.0, R4): $status answers a Bundle of type history
     * whose first entry is the SubscriptionStatus Parameters. */
    bundle = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(bundle, "resourceType", "Bundle");
    cr_json_set_string(bundle, "type", "history");
    cr_json_set_string(bundle, "timestamp", ctx->now_instant);
    e = cr_json_array_add_object(cr_json_set_new_array(bundle, "entry"));
    cr_json_set_string(e, "fullUrl", apr_pstrcat(ctx->pool, "urn:uuid:",
                                                 cr_service_uuid(ctx->pool),
                                                 NULL));
    res = cr_json_set_new_object(e, "resource");
    cr_json_set_string(res, "resourceType", "Parameters");
    json_object_array_add(
        cr_json_set_new_array(cr_json_set_new_object(res, "meta"),
                              "profile"),
        json_object_new_string(CR_BACKPORT_BASE
                               "backport-subscription-status-r4"));
    pa = cr_json_set_new_array(res, "parameter");
    {
        json_object *ref = json_object_new_object();
        json_object_object_add(ref, "reference", json_object_new_string(
            apr_pstrcat(ctx->pool, "Subscription/", sub_id, NULL)));
        add_param(pa, "subscription", "valueReference", ref);
    }
    add_param(pa, "topic", "valueCanonical",
              json_object_new_string(CR_TOPIC_PATIENT_CHANGE));
    add_param(pa, "status", "valueCode",
              json_object_new_string(sub.status));
    add_param(pa, "type", "valueCode",
              json_object_new_string("query-status"));
    add_param(pa, "events-since-subscription-start", "valueString",
              json_object_new_string(apr_psprintf(ctx->pool, "%"
                                                  APR_INT64_T_FMT, total)));
    add_param(pa, "queued", "valueUnsignedInt",
              json_object_new_int(n.queued));
    add_param(pa, "sending", "valueUnsignedInt",
              json_object_new_int(n.sending));
    add_param(pa, "delivered", "valueUnsignedInt",
              json_object_new_int(n.delivered));
    add_param(pa, "parked", "valueUnsignedInt",
              json_object_new_int(n.parked));
    add_param(pa, "cancelled", "valueUnsignedInt",
              json_object_new_int(n.cancelled));
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}

void cr_notify_resend(cr_ctx_t *ctx, const char *sub_id, json_object *body,
                      int admin)
{
    cr_subscription_t sub;
    const char *mid = NULL;
    json_object *res, *pa, *arr;
    apr_status_t rv;
    int n = 0;

    memset(&sub, 0, sizeof(sub));
    if (body) {
        size_t i, len;
        if (!json_object_is_type(body, json_type_object)
            || cr_json_get_string(body, "resourceType") == NULL
            || strcmp(cr_json_get_string(body, "resourceType"),
                      "Parameters") != 0) {
            ctx->resp.status = 400;
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "structure", "Parameters",
                           NULL, "$resend takes a Parameters resource (or "
                           "no body)");
            return;
        }
        arr = cr_json_get_array(body, "parameter");
        len = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < len && i < 16; i++) {
            json_object *m = json_object_array_get_idx(arr, i);
            const char *name = cr_json_get_string(m, "name");
            if (name && strcmp(name, "messageId") == 0) {
                mid = cr_json_get_string(m, "valueString");
                if (mid == NULL || !*mid) {
                    ctx->resp.status = 400;
                    cr_outcome_add(ctx->oc, CR_SEV_ERROR, "value",
                                   apr_psprintf(ctx->pool,
                                                "Parameters.parameter[%d]",
                                                (int)i), NULL,
                                   "messageId takes a valueString");
                    return;
                }
            }
        }
    }
    if (!load(&sub, ctx, sub_id, admin)) {
        return;
    }
    rv = cr_store_notify_requeue(&n, ctx->db, ctx->pool, sub_id, mid,
                                 ctx->now_instant);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        cr_service_db_failure(ctx, rv, "queueing the parked deliveries");
        return;
    }
    if (mid && n == 0) {
        ctx->resp.status = 404;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-found", NULL, NULL,
                       "Subscription %s has no parked notification %s",
                       sub_id, mid);
        return;
    }
    res = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(res, "resourceType", "Parameters");
    pa = cr_json_set_new_array(res, "parameter");
    add_param(pa, "resent", "valueUnsignedInt", json_object_new_int(n));
    ctx->resp.status = 200;
    ctx->resp.body = res;
}
