/* cr_subscription: the RESTful Subscription interactions (see the
 * header). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_fhir_subscription.h"
#include "ops/cr_audit.h"
#include "ops/cr_subscription.h"
#include "store/cr_store_notify.h"

/* Most subscriptions one search returns. */
#define MAX_SEARCH 100

const char *cr_subscription_owner(const cr_caller_t *caller)
{
    return caller && caller->client_dn && *caller->client_dn
           ? caller->client_dn : "anonymous";
}

static void fail(cr_ctx_t *ctx, int status, const char *code,
                 const char *expr, const char *msg)
{
    ctx->resp.status = status;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, code, NULL, expr, "%s", msg);
}

static void not_found(cr_ctx_t *ctx, const char *id)
{
    ctx->resp.status = 404;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-found", NULL, NULL,
                   "no Subscription with id '%.64s'", id);
}

/* The caller may see and change sub: its owner or privileged. */
static int may_use(const cr_ctx_t *ctx, const cr_subscription_t *sub)
{
    return (ctx->caller && ctx->caller->privileged)
           || strcmp(sub->owner, cr_subscription_owner(ctx->caller)) == 0;
}

static const char *sub_url(const cr_ctx_t *ctx, const char *id)
{
    return apr_psprintf(ctx->pool, "%s/Subscription/%s",
                        ctx->settings->base_url, id);
}

/* The stored resource of sub as FHIR: its id, version, last update and
 * status are the row's (the notification worker may set status error). */
static json_object *render(cr_ctx_t *ctx, const cr_subscription_t *sub)
{
    json_object *o = NULL, *meta;

    if (cr_json_parse(&o, ctx->pool, sub->resource, strlen(sub->resource),
                      NULL, NULL) != APR_SUCCESS
        || !json_object_is_type(o, json_type_object)) {
        o = cr_json_own(ctx->pool, json_object_new_object());
        cr_json_set_string(o, "resourceType", "Subscription");
    }
    json_object_object_add(o, "id", json_object_new_string(sub->id));
    meta = cr_json_get_object(o, "meta");
    if (meta == NULL) {
        meta = cr_json_set_new_object(o, "meta");
    }
    json_object_object_add(meta, "versionId", json_object_new_string(
        apr_itoa(ctx->pool, sub->version_id)));
    json_object_object_add(meta, "lastUpdated",
                           json_object_new_string(sub->updated));
    json_object_object_add(o, "status", json_object_new_string(
        strcmp(sub->status, "deleted") == 0 ? "off" : sub->status));
    return o;
}

static void respond(cr_ctx_t *ctx, int status, const cr_subscription_t *sub)
{
    ctx->resp.status = status;
    ctx->resp.body = render(ctx, sub);
    ctx->resp.etag_version = sub->version_id;
    ctx->resp.last_modified = sub->updated;
    ctx->resp.content_location = apr_psprintf(
        ctx->pool, "%s/_history/%d", sub_url(ctx, sub->id), sub->version_id);
    if (status == 201) {
        ctx->resp.location = ctx->resp.content_location;
    }
}

/* The body checked, and its endpoint against the allow-list; the row
 * to store in *sub (id, owner, versions and times are the caller's). */
static int check(cr_ctx_t *ctx, json_object *body, cr_subscription_t *sub,
                 cr_sub_input_t *in)
{
    const apr_array_header_t *allow = ctx->settings->notify_allow;
    json_object *stored;

    if (cr_fhir_subscription_parse(in, ctx->pool, body, ctx->oc)
        != APR_SUCCESS) {
        ctx->resp.status = cr_service_status_for_errors(ctx->oc);
        return 0;
    }
    if (!cr_fhir_subscription_endpoint_allowed(
            in->endpoint, allow ? (const char *const *)allow->elts : NULL,
            allow ? allow->nelts : 0)) {
        fail(ctx, 422, "business-rule", "Subscription.channel.endpoint",
             "this registry does not send notifications to that endpoint "
             "(it is outside ClientRegistryNotifyAllow)");
        return 0;
    }
    stored = cr_json_copy(ctx->pool, body);
    json_object_object_del(stored, "id");
    json_object_object_del(stored, "text");
    json_object_object_add(stored, "status",
                           json_object_new_string(in->status));
    memset(sub, 0, sizeof(*sub));
    sub->status = in->status;
    sub->event_codes = in->event_codes;
    sub->endpoint = in->endpoint;
    sub->payload = "full-resource";
    sub->resource = cr_json_serialize(ctx->pool, stored, NULL);
    sub->updated = ctx->now_instant;
    return 1;
}

/* Audit and commit the open transaction; 0 (answered) on failure. */
static int finish(cr_ctx_t *ctx, const char *operation, const char *action,
                  int status)
{
    apr_status_t rv = cr_audit_in_txn(ctx, operation, action, status, NULL);

    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(ctx->db);
        if (rv == APR_SUCCESS) {
            ctx->resp.audited = 1;
            return 1;
        }
    }
    cr_service_db_failure(ctx, rv, "storing the subscription");
    return 0;
}

void cr_subscription_create(cr_ctx_t *ctx, json_object *body)
{
    cr_subscription_t sub;
    cr_sub_input_t in;
    apr_status_t rv;

    if (!check(ctx, body, &sub, &in)) {
        return;
    }
    sub.id = cr_service_uuid(ctx->pool);
    sub.owner = cr_subscription_owner(ctx->caller);
    sub.created = ctx->now_instant;
    sub.version_id = 1;
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv == APR_SUCCESS) {
        rv = cr_store_sub_insert(ctx->db, ctx->pool, &sub);
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "storing the subscription");
        return;
    }
    if (finish(ctx, "subscription-create", "C", 201)) {
        respond(ctx, 201, &sub);
    }
}

/* Subscription id for the caller: 1 with *sub, or 0 answered (404 when
 * it does not exist or is not the caller's; 410 when deleted). */
static int get_own(cr_ctx_t *ctx, const char *id, cr_subscription_t *sub,
                   int gone_ok)
{
    apr_status_t rv = cr_store_sub_get(sub, ctx->db, ctx->pool, id);

    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && !may_use(ctx, sub))) {
        not_found(ctx, id);
        return 0;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading the subscription");
        return 0;
    }
    if (!gone_ok && strcmp(sub->status, "deleted") == 0) {
        ctx->resp.status = 410;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "deleted", NULL, NULL,
                       "Subscription '%.64s' was deleted", id);
        return 0;
    }
    return 1;
}

void cr_subscription_read(cr_ctx_t *ctx, const char *id)
{
    cr_subscription_t sub;

    if (get_own(ctx, id, &sub, 0)) {
        respond(ctx, 200, &sub);
    }
}

void cr_subscription_search(cr_ctx_t *ctx, const char *query)
{
    apr_array_header_t *list;
    json_object *bundle, *entries;
    apr_status_t rv;
    int i;

    (void)query;
    rv = cr_store_sub_list(&list, ctx->db, ctx->pool,
                           ctx->caller && ctx->caller->privileged
                           ? NULL : cr_subscription_owner(ctx->caller),
                           MAX_SEARCH);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "listing subscriptions");
        return;
    }
    bundle = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(bundle, "resourceType", "Bundle");
    cr_json_set_string(bundle, "type", "searchset");
    cr_json_set_int(bundle, "total", list->nelts);
    entries = cr_json_set_new_array(bundle, "entry");
    for (i = 0; i < list->nelts; i++) {
        const cr_subscription_t *s = &APR_ARRAY_IDX(list, i,
                                                    cr_subscription_t);
        json_object *e = cr_json_array_add_object(entries);
        cr_json_set_string(e, "fullUrl", sub_url(ctx, s->id));
        json_object_object_add(e, "resource",
                               json_object_get(render(ctx, s)));
        cr_json_set_string(cr_json_set_new_object(e, "search"), "mode",
                           "match");
    }
    if (list->nelts == 0) {
        json_object_object_del(bundle, "entry");
    }
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}

void cr_subscription_update(cr_ctx_t *ctx, const char *id,
                            json_object *body, apr_int64_t if_match)
{
    cr_subscription_t cur, sub;
    cr_sub_input_t in;
    apr_status_t rv;

    if (if_match == -2) {
        fail(ctx, 400, "invalid", NULL, "If-Match must be W/\"<version>\"");
        return;
    }
    if (!check(ctx, body, &sub, &in)) {
        return;
    }
    if (in.id && strcmp(in.id, id) != 0) {
        fail(ctx, 400, "invalid", "Subscription.id",
             "the id in the body differs from the id in the URL");
        return;
    }
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "starting the update");
        return;
    }
    if (!get_own(ctx, id, &cur, 0)) {
        cr_db_rollback(ctx->db);
        return;
    }
    if (if_match > 0 && if_match != cur.version_id) {
        cr_db_rollback(ctx->db);
        fail(ctx, 412, "conflict", NULL, apr_psprintf(
            ctx->pool, "If-Match asks for version %" APR_INT64_T_FMT
            ", the current version is %d", if_match, cur.version_id));
        return;
    }
    sub.id = cur.id;
    sub.owner = cur.owner;
    sub.created = cur.created;
    sub.version_id = cur.version_id + 1;
    rv = cr_store_sub_update(ctx->db, ctx->pool, &sub, cur.version_id);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "storing the subscription");
        return;
    }
    if (finish(ctx, "subscription-update", "U", 200)) {
        respond(ctx, 200, &sub);
    }
}

void cr_subscription_delete(cr_ctx_t *ctx, const char *id)
{
    cr_subscription_t cur;
    apr_status_t rv;

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "starting the delete");
        return;
    }
    if (!get_own(ctx, id, &cur, 1)) {
        cr_db_rollback(ctx->db);
        return;
    }
    if (strcmp(cur.status, "deleted") != 0) {
        rv = cr_store_sub_delete(ctx->db, ctx->pool, id, ctx->now_instant);
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "deleting the subscription");
            return;
        }
        if (!finish(ctx, "subscription-delete", "D", 200)) {
            return;
        }
    }
    else {
        /* Deleting it again changes nothing (FHIR delete is
         * idempotent). */
        cr_db_rollback(ctx->db);
    }
    ctx->resp.status = 200;
    cr_outcome_add(ctx->oc, CR_SEV_INFORMATION, "informational", NULL, NULL,
                   "Subscription '%.64s' deleted; its undelivered "
                   "notifications are cancelled", id);
}
