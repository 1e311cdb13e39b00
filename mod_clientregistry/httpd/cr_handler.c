/* cr_handler: the content handler.  Given the route of a request
 * (cr_route), it answers what has no endpoint or method with 404 or 405
 * and an OperationOutcome, prepares the cr_ctx_t (database connection,
 * settings, caller, message id, clock) that the services run on, runs the
 * service of the route, and hands the result to cr_request for writing.
 * What the request did is left in its cr_req_t for the audit record.
 */
#include <string.h>

#include "core/cr_json.h"
#include "ops/cr_audit.h"
#include "ops/cr_capability.h"
#include "ops/cr_idem.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_ops.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_notify.h"
#include "core/cr_text.h"
#include "ops/cr_ops_query.h"
#include "ops/cr_rest.h"
#include "ops/cr_subscription.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_handler.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "httpd/cr_request.h"
#include "httpd/cr_route.h"
#include "httpd/cr_version.h"

/* The route kinds plus the BC forms, which replace the standard
 * interactions when the client asks for them. */
#define R_BC (-1)

/* What the audit trail records of a finished request. */
static void note_result(request_rec *r, const cr_ctx_t *ctx)
{
    cr_req_t *q = cr_req_get(r);

    if (ctx->resp.patients) {
        q->patients = ctx->resp.patients;
    }
    if (ctx->resp.audited) {
        q->audited = 1;
    }
}

/* CR-GEN-009: a BC operation's error answers are response Bundles. */
static void bundle_error(request_rec *r, cr_ctx_t *ctx)
{
    const cr_route_t *route = cr_route_get(r);

    if (route && route->kind == CR_ROUTE_TYPE_OP
        && cr_ops_bundle_based(route->op)) {
        ctx->resp.body = cr_fhir_envelope_error_reply(
            r->pool, cr_bc_txn_for_operation(route->op->name), ctx->oc,
            NULL, ctx->now_instant);
        ctx->resp.body_on_error = 1;
    }
}

static int not_allowed(request_rec *r, cr_ctx_t *ctx, const char *ctype,
                       const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    ctx->resp.status = HTTP_METHOD_NOT_ALLOWED;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-supported", NULL, NULL,
                   "method %s is not allowed here (allowed: %s)", r->method,
                   allow);
    bundle_error(r, ctx);
    note_result(r, ctx);
    return cr_request_respond(r, ctx, ctype);
}

static int answer(request_rec *r, cr_ctx_t *ctx, const char *ctype,
                  int status, const char *code, const char *text)
{
    ctx->resp.status = status;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, code, NULL, NULL, "%s", text);
    bundle_error(r, ctx);
    note_result(r, ctx);
    return cr_request_respond(r, ctx, ctype);
}

/* What the audit trail calls this request. */
static void note_op(request_rec *r, const char *operation,
                    const char *action)
{
    cr_req_t *q = cr_req_get(r);

    q->operation = operation;
    q->action = action;
}

/* The Subscription interactions (ops/cr_subscription.c): id is NULL for
 * the type. */
static void subscription(request_rec *r, cr_ctx_t *ctx, const char *id,
                         json_object *body)
{
    if (id == NULL && r->method_number == M_POST) {
        note_op(r, "subscription-create", "C");
        cr_subscription_create(ctx, body);
    }
    else if (id == NULL) {
        note_op(r, "subscription-search", "R");
        cr_subscription_search(ctx, r->args);
    }
    else if (r->method_number == M_PUT) {
        note_op(r, "subscription-update", "U");
        cr_subscription_update(ctx, id, body, cr_request_if_match(r));
    }
    else if (r->method_number == M_DELETE) {
        note_op(r, "subscription-delete", "D");
        cr_subscription_delete(ctx, id);
    }
    else {
        note_op(r, "subscription-read", "R");
        cr_subscription_read(ctx, id);
    }
}

static void trace_cb(void *baton, int is_error, const char *msg)
{
    request_rec *r = baton;
    const char *id = cr_req_get(r)->message_id;

    if (is_error) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00003)
                      "[%s] %s", id, msg);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CR_APLOGNO(00004)
                      "[%s] %s", id, msg);
    }
}

/* A random (version 4) UUID for a request's message id, from httpd's
 * per-process generator (ap_random_insecure_bytes, seeded from the
 * system's random source at start-up): unique enough for an id that
 * names one request in logs and the audit trail, and without the cost of
 * apr_uuid_get (libuuid, a few percent of a read's CPU).  Ids that must
 * be unpredictable (none here) would use apr_generate_random_bytes. */
static const char *request_uuid(apr_pool_t *pool)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char *out = apr_palloc(pool, 37), *o = out;
    int i;

    ap_random_insecure_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *o++ = '-';
        }
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 0x0f];
    }
    *o = '\0';
    return out;
}

/* Request-Id (or X-Request-Id) when it is a sane token, else a UUID. */
static const char *message_id(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Request-Id");
    apr_size_t i, n;

    if (h == NULL) {
        h = apr_table_get(r->headers_in, "X-Request-Id");
    }
    if (h) {
        n = strlen(h);
        for (i = 0; i < n && n <= 64; i++) {
            char c = h[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '_'
                  || c == '.')) {
                break;
            }
        }
        if (n > 0 && n <= 64 && i == n) {
            return h;
        }
    }
    return request_uuid(r->pool);
}

/* Runs of a write that lost a race with a parallel writer (PostgreSQL,
 * several nodes) before the loss is answered (409 or 503). */
#define RACE_RETRIES 3

/* The body a write runs on: a copy from the second run on, since a run
 * may edit the tree it was given. */
static json_object *write_body(cr_ctx_t *ctx, json_object *body,
                               int attempt)
{
    json_object *copy;

    if (attempt == 0 || body == NULL) {
        return body;
    }
    copy = cr_json_copy(ctx->pool, body);
    return copy ? copy : body;
}

/* 1 when the write just run lost a race with a parallel writer and rolled
 * back (a deadlock, or a uniqueness conflict with a write that committed
 * meanwhile): ctx is reset for another run, which sees the winner's
 * commit and answers as if it had come second. */
static int race_retry(request_rec *r, cr_ctx_t *ctx, int *attempt)
{
    if (!ctx->resp.race_lost || ctx->resp.audited
        || *attempt >= RACE_RETRIES) {
        return 0;
    }
    (*attempt)++;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CR_APLOGNO(00020)
                  "write lost a race with a parallel writer (%s); run %d",
                  ctx->db && ctx->db->last_label ? ctx->db->last_label : "?",
                  *attempt + 1);
    cr_service_ctx_init(ctx, ctx->pool, apr_time_now());
    return 1;
}

int cr_handler(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    cr_srv_conf_t *s = ap_get_module_config(r->server->module_config,
                                            &clientregistry_module);
    cr_settings_t *settings;
    cr_ctx_t *ctx;
    const char *ctype = "application/fhir+json";
    const cr_route_t *route;
    const char *const *seg;
    int n, rc, lenient, rt;
    json_object *body = NULL;
    const cr_op_t *op;
    cr_route_bc_e bc;
    int bc_history = 0, bc_ids_only = 0, attempt = 0;

    if (d->enabled != 1 || (route = cr_route_get(r)) == NULL) {
        return DECLINED;
    }
    seg = route->seg;
    n = route->n;
    op = route->op;

    settings = apr_pcalloc(r->pool, sizeof(*settings));
    cr_config_settings(settings, r, d, s);
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    cr_service_ctx_init(ctx, r->pool, r->request_time);
    ctx->settings = settings;
    /* First: every answer, early ones too, leaves through the output
     * policy, which asks whether the caller is privileged. */
    ctx->caller = cr_identity_caller(r);
    ctx->message_id = message_id(r);
    cr_req_get(r)->message_id = ctx->message_id;
    apr_table_setn(r->headers_out, "X-Request-Id", ctx->message_id);
    ctx->trace = trace_cb;
    ctx->trace_baton = r;
    {
        /* requestMessageId of the BC RESTful forms (CR-REST-013). */
        const char *rid = apr_table_get(r->headers_in, "Request-Id");
        if (rid == NULL) {
            rid = apr_table_get(r->headers_in, "X-Request-Id");
        }
        ctx->request_id = rid && strcmp(rid, ctx->message_id) == 0
                          ? ctx->message_id : NULL;
        ctx->bc_version = cr_request_bc_version(r);
    }
    {
        cr_reqinfo_t *ri = apr_pcalloc(r->pool, sizeof(*ri));
        ri->method = r->method;
        ri->path = r->uri;
        ri->query = r->args;
        ri->remote_addr = r->useragent_ip;
        ctx->req = ri;
    }

    if (cr_request_negotiate(r, &ctype) != 0) {
        return OK;
    }

    if (route->too_deep) {
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-found",
                      "no such FHIR endpoint");
    }
    rt = route->kind;
    bc = cr_route_bc(route, r->method_number, ctx->bc_version, &bc_history,
                     &bc_ids_only);
    if (bc != CR_ROUTE_BC_NONE) {
        rt = R_BC;
    }
    switch (rt) {
    case R_BC:
        if (bc == CR_ROUTE_BC_READ || bc == CR_ROUTE_BC_HISTORY_OP) {
            if (!route->id_ok) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                              "a resource id is 1 to 64 letters, digits, "
                              "'-' or '.'");
            }
        }
        break;
    case CR_ROUTE_NONE:
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-found",
                      "no such FHIR endpoint (try metadata or Patient)");
    case CR_ROUTE_OTHER_TYPE:
        if (cr_route_subscription_admin(route) != NULL) {
            /* GET .../$status, POST .../$resend (docs/notifications.md) */
            int get = strcmp(seg[2], "$status") == 0;
            if (r->method_number != (get ? M_GET : M_POST)) {
                return not_allowed(r, ctx, ctype, get ? "GET, HEAD"
                                                      : "POST");
            }
            if (!cr_text_id_ok(seg[1])) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                              "a resource id is 1 to 64 letters, digits, "
                              "'-' or '.'");
            }
            break;
        }
        if (strcmp(seg[0], "AuditEvent") == 0
            && ((n == 1 && r->method_number == M_GET)
                || (n == 2 && strcmp(seg[1], "$verify") == 0
                    && r->method_number == M_POST))) {
            break;
        }
        if (strcmp(seg[0], "Subscription") == 0 && (n == 1 || n == 2)) {
            /* CR-SUB-001, CR-SUB-006 */
            if (n == 1 && r->method_number != M_GET
                && r->method_number != M_POST) {
                return not_allowed(r, ctx, ctype, "GET, HEAD, POST");
            }
            if (n == 2 && r->method_number != M_GET
                && r->method_number != M_PUT
                && r->method_number != M_DELETE) {
                return not_allowed(r, ctx, ctype, "GET, HEAD, PUT, DELETE");
            }
            if (n == 2 && !route->id_ok) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                              "a resource id is 1 to 64 letters, digits, "
                              "'-' or '.'");
            }
            break;
        }
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      apr_psprintf(r->pool, "resource type '%.64s' is not "
                                   "served here; this registry serves "
                                   "Patient", seg[0]));
    case CR_ROUTE_SYSTEM_OP:
        /* CR-GEN-002 */
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      "system-level operations are not supported; use "
                      "[base]/Patient/$operation");
    case CR_ROUTE_INSTANCE_OP:
        /* CR-GEN-003 */
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      "instance-level operations are not supported; use "
                      "[base]/Patient/$operation");
    case CR_ROUTE_TYPE_OP:
        /* CR-GEN-001, CR-GEN-004, CR-GEN-005 */
        if (op == NULL) {
            return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                          apr_psprintf(r->pool, "unknown operation "
                                       "'%.64s'", seg[1]));
        }
        if (r->method_number != M_POST) {
            return not_allowed(r, ctx, ctype, "POST");
        }
        break;
    case CR_ROUTE_ASYNC_STATUS:
        if (r->method_number != M_GET) {
            return not_allowed(r, ctx, ctype, "GET, HEAD");
        }
        break;
    case CR_ROUTE_METADATA:
        if (r->method_number != M_GET) {
            return not_allowed(r, ctx, ctype, "GET, HEAD");
        }
        note_op(r, "capabilities", "R");
        cr_capability_get(ctx, CR_VERSION);
        return cr_request_respond(r, ctx, ctype);
    case CR_ROUTE_TYPE:
        if (r->method_number != M_GET && r->method_number != M_POST) {
            return not_allowed(r, ctx, ctype, "GET, HEAD, POST");
        }
        break;
    case CR_ROUTE_INSTANCE:
        if (r->method_number != M_GET && r->method_number != M_PUT) {
            return not_allowed(r, ctx, ctype, "GET, HEAD, PUT");
        }
        break;
    case CR_ROUTE_HISTORY:
    case CR_ROUTE_VERSION:
        if (r->method_number != M_GET) {
            return not_allowed(r, ctx, ctype, "GET, HEAD");
        }
        break;
    }
    if (n >= 2 && rt != CR_ROUTE_TYPE_OP && rt != CR_ROUTE_OTHER_TYPE
        && rt != R_BC && !route->id_ok) {
        return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                      "a resource id is 1 to 64 letters, digits, '-' or "
                      "'.'");
    }

    if (r->method_number == M_POST || r->method_number == M_PUT) {
        rc = cr_request_read_json(r, settings, ctx->oc, &body);
        if (rc != 0) {
            ctx->resp.status = rc;
            if (rt == CR_ROUTE_TYPE_OP) {
                /* CR-GEN-009, CR-GEN-010: a Bundle-based operation
                 * answers with a response Bundle even here. */
                ctx->resp.body = cr_fhir_envelope_error_reply(
                    r->pool, cr_bc_txn_for_operation(op->name), ctx->oc,
                    NULL, ctx->now_instant);
                ctx->resp.body_on_error = 1;
            }
            return cr_request_respond(r, ctx, ctype);
        }
    }
    else {
        ap_discard_request_body(r);
    }

    if ((ctx->db = cr_dbd_acquire(r)) == NULL) {
        ctx->resp.retry_after = 5;
        return answer(r, ctx, ctype, HTTP_SERVICE_UNAVAILABLE, "transient",
                      "the registry database is unavailable");
    }
    if (!cr_dbd_schema_ready(ctx->db, r->pool, r->server, r)) {
        ctx->resp.retry_after = 30;
        return answer(r, ctx, ctype, HTTP_SERVICE_UNAVAILABLE, "transient",
                      "the registry database has a schema this server "
                      "does not know; an administrator must migrate it");
    }
    lenient = cr_request_prefer_lenient(r);

    switch (rt) {
    case R_BC:
        if (bc == CR_ROUTE_BC_SEARCH) {
            note_op(r, "bc-search", "R");
            cr_ops_query_rest_search(ctx, r->args, bc_history, bc_ids_only,
                                     lenient);
        }
        else if (bc == CR_ROUTE_BC_READ) {
            note_op(r, "bc-read", "R");
            cr_ops_query_rest_read(ctx, seg[1], bc_history, bc_ids_only);
        }
        else {
            note_op(r, "$HistoryPatient", "E");
            cr_ops_query_history_patient(ctx, seg[1]);
        }
        break;
    case CR_ROUTE_TYPE:
        if (r->method_number == M_POST) {
            note_op(r, "create", "C");
            do {
                cr_rest_create(ctx, write_body(ctx, body, attempt));
            } while (race_retry(r, ctx, &attempt));
        }
        else {
            note_op(r, "search-type", "R");
            cr_rest_search(ctx, r->args, lenient);
        }
        break;
    case CR_ROUTE_OTHER_TYPE:
        if (cr_route_subscription_admin(route) != NULL) {
            if (strcmp(seg[2], "$status") == 0) {
                note_op(r, "subscription-status", "R");
                cr_notify_status(ctx, seg[1], 1);
            }
            else {
                note_op(r, "subscription-resend", "E");
                cr_notify_resend(ctx, seg[1], body, 1);
            }
        }
        else if (strcmp(seg[0], "Subscription") == 0) {
            subscription(r, ctx, n == 2 ? seg[1] : NULL, body);
        }
        else if (n == 1) {
            note_op(r, "audit-search", "R");
            cr_audit_search(ctx, r->args);
        }
        else {
            note_op(r, "audit-verify", "E");
            cr_audit_verify(ctx);
        }
        break;
    case CR_ROUTE_INSTANCE:
        if (r->method_number == M_PUT) {
            apr_int64_t im = cr_request_if_match(r);
            if (im == -2) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "invalid",
                              "If-Match must be W/\"<version>\"");
            }
            note_op(r, "update", "U");
            do {
                cr_rest_update(ctx, seg[1], write_body(ctx, body, attempt),
                               im);
            } while (race_retry(r, ctx, &attempt));
        }
        else {
            note_op(r, "read", "R");
            cr_rest_read(ctx, seg[1]);
        }
        break;
    case CR_ROUTE_ASYNC_STATUS:
        note_op(r, "async-status", "R");
        cr_ops_async_status(ctx, seg[1]);
        break;
    case CR_ROUTE_HISTORY:
        note_op(r, "history-instance", "R");
        cr_rest_history(ctx, seg[1], r->args, lenient);
        break;
    case CR_ROUTE_VERSION:
        note_op(r, "vread", "R");
        cr_rest_vread(ctx, seg[1], seg[3]);
        break;
    case CR_ROUTE_TYPE_OP:
        note_op(r, apr_pstrdup(r->pool, seg[1]), "E");
        ctx->if_match = cr_request_if_match(r);
        ctx->idem = 1;
        do {
            op->run(ctx, write_body(ctx, body, attempt));
        } while (race_retry(r, ctx, &attempt));
        /* Before the output policy: the answer as built is kept. */
        cr_idem_record(ctx);
        break;
    default:
        ctx->resp.status = HTTP_NOT_FOUND;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-supported", NULL, NULL,
                       "not supported");
        break;
    }
    note_result(r, ctx);
    return cr_request_respond(r, ctx, ctype);
}
