/* cr_handler: routing.  One table maps (path shape, method) to an
 * interaction; anything else is answered 404 or 405 with an
 * OperationOutcome.  The handler prepares the cr_ctx_t (database
 * connection, settings, caller, message id, clock) that the services run
 * on, and hands their result to cr_request for writing.
 */
#include <string.h>

#include <apr_atomic.h>

#include "ops/cr_audit.h"
#include "ops/cr_capability.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_ops.h"
#include "ops/cr_ops_query.h"
#include "httpd/cr_private.h"
#include "ops/cr_rest.h"
#include "store/cr_store.h"
#include "core/cr_text.h"

#define MAX_SEGMENTS 4

typedef enum {
    R_METADATA, R_TYPE, R_INSTANCE, R_HISTORY, R_VERSION, R_TYPE_OP,
    R_INSTANCE_OP, R_SYSTEM_OP, R_OTHER_TYPE, R_NONE, R_BC
} route_e;

/* The BC forms of operations.md section 8 (and the G4 $HistoryPatient),
 * chosen by the BCFhirVersion parameter of Accept; plain FHIR clients
 * keep the standard interactions. */
typedef enum { BC_NONE = 0, BC_SEARCH, BC_READ, BC_HISTORY_OP } bc_form_e;

static bc_form_e bc_route(request_rec *r, const cr_ctx_t *ctx,
                          const char **seg, int n, int *history,
                          int *ids_only)
{
    *history = *ids_only = 0;
    if (n < 1 || strcmp(seg[0], "Patient") != 0
        || r->method_number != M_GET) {
        return BC_NONE;
    }
    if (n == 3 && strcmp(seg[2], "$HistoryPatient") == 0) {
        return BC_HISTORY_OP;
    }
    if (ctx->bc_version <= 0) {
        return BC_NONE;
    }
    if (n == 1) {
        return BC_SEARCH;
    }
    if (n == 2 && seg[1][0] == '_') {
        *history = strcmp(seg[1], "_history") == 0;
        *ids_only = strcmp(seg[1], "_identifiersOnly") == 0;
        return *history || *ids_only ? BC_SEARCH : BC_NONE;
    }
    if (n == 2 && seg[1][0] != '$') {
        return BC_READ;
    }
    if (n == 3) {
        *history = strcmp(seg[2], "_history") == 0;
        *ids_only = strcmp(seg[2], "_identifiersOnly") == 0;
        return *history || *ids_only ? BC_READ : BC_NONE;
    }
    return BC_NONE;
}

static route_e route(const char **seg, int n)
{
    if (n == 1 && strcmp(seg[0], "metadata") == 0) {
        return R_METADATA;
    }
    if (n >= 1 && seg[0][0] == '$') {
        return R_SYSTEM_OP;
    }
    if (n >= 1 && strcmp(seg[0], "Patient") != 0) {
        return n >= 1 && seg[0][0] >= 'A' && seg[0][0] <= 'Z'
               ? R_OTHER_TYPE : R_NONE;
    }
    if (n == 1) {
        return R_TYPE;
    }
    if (n == 2) {
        return seg[1][0] == '$' ? R_TYPE_OP : R_INSTANCE;
    }
    if (n == 3 && seg[2][0] == '$') {
        return R_INSTANCE_OP;
    }
    if (n == 3 && strcmp(seg[2], "_history") == 0) {
        return R_HISTORY;
    }
    if (n == 4 && strcmp(seg[2], "_history") == 0) {
        return R_VERSION;
    }
    return R_NONE;
}

/* Split the path below the registry base into segments: 0 on success, 1
 * when there are too many, -1 when r is not below the base. */
static int split_path(request_rec *r, const cr_dir_conf_t *d,
                      const char **seg, int *n)
{
    const char *rel = r->uri;
    char *path, *state = NULL, *tok;

    *n = 0;
    if (d->base_path && strncmp(rel, d->base_path, strlen(d->base_path))
                        == 0) {
        rel += strlen(d->base_path);
    }
    if (*rel != '\0' && *rel != '/') {
        return -1;
    }
    path = apr_pstrdup(r->pool, rel);
    for (tok = apr_strtok(path, "/", &state); tok;
         tok = apr_strtok(NULL, "/", &state)) {
        if (*n == MAX_SEGMENTS) {
            return 1;
        }
        seg[(*n)++] = tok;
    }
    return 0;
}

int cr_handler_permission(request_rec *r, int *permission)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    const char *seg[MAX_SEGMENTS + 1];
    int n = 0;
    const cr_op_t *op;

    *permission = CR_PERM_READ;
    if (d->enabled != 1 || split_path(r, d, seg, &n) < 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    switch (route(seg, n)) {
    case R_TYPE:
    case R_INSTANCE:
        if (r->method_number != M_GET) {
            *permission = CR_PERM_WRITE;
        }
        break;
    case R_TYPE_OP:
        op = cr_ops_find(seg[1] + 1);
        *permission = op ? (int)op->permission : CR_PERM_READ;
        break;
    case R_OTHER_TYPE:
        /* Audit records are for administrators only. */
        if (strcmp(seg[0], "AuditEvent") == 0) {
            *permission = CR_PERM_ADMIN;
        }
        else if (r->method_number != M_GET) {
            *permission = CR_PERM_WRITE;
        }
        break;
    default:
        if (r->method_number != M_GET) {
            *permission = CR_PERM_WRITE;
        }
        break;
    }
    return 0;
}

static int not_allowed(request_rec *r, cr_ctx_t *ctx, const char *ctype,
                       const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    ctx->resp.status = HTTP_METHOD_NOT_ALLOWED;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-supported", NULL, NULL,
                   "method %s is not allowed here (allowed: %s)", r->method,
                   allow);
    if (ctx->resp.patients) {
        apr_table_setn(r->notes, "cr-patients", ctx->resp.patients);
    }
    if (ctx->resp.audited) {
        apr_table_setn(r->notes, "cr-audited", "1");
    }
    return cr_request_respond(r, ctx, ctype);
}

static int answer(request_rec *r, cr_ctx_t *ctx, const char *ctype,
                  int status, const char *code, const char *text)
{
    ctx->resp.status = status;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, code, NULL, NULL, "%s", text);
    if (ctx->resp.patients) {
        apr_table_setn(r->notes, "cr-patients", ctx->resp.patients);
    }
    if (ctx->resp.audited) {
        apr_table_setn(r->notes, "cr-audited", "1");
    }
    return cr_request_respond(r, ctx, ctype);
}

/* What the audit trail calls this request. */
static void note_op(request_rec *r, const char *operation,
                    const char *action)
{
    apr_table_setn(r->notes, "cr-operation", operation);
    apr_table_setn(r->notes, "cr-action", action);
}

static void trace_cb(void *baton, int is_error, const char *msg)
{
    request_rec *r = baton;

    if (is_error) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00003)
                      "[%s] %s",
                      apr_table_get(r->notes, "cr-message-id"), msg);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CR_APLOGNO(00004)
                      "[%s] %s",
                      apr_table_get(r->notes, "cr-message-id"), msg);
    }
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
    return cr_service_uuid(r->pool);
}

/* Check once per process that the database has the schema we know. */
static int schema_ready(request_rec *r, cr_srv_conf_t *s, cr_db_t *db)
{
    int version = 0, complete = 0;
    apr_status_t rv;

    if (apr_atomic_read32(&s->schema_ok)) {
        return 1;
    }
    rv = cr_store_schema_version(&version, &complete, db, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00001)
                      "cannot read the schema version (%s); create the "
                      "database with 'cr-admin init'",
                      db->last_error ? db->last_error : "?");
        return 0;
    }
    if (!complete) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00006)
                      "database schema version %d is not the version this "
                      "module serves (%d, migrations %s); run 'cr-admin "
                      "migrate'", version, CR_SCHEMA_VERSION,
                      CR_SCHEMA_MIGRATIONS);
        return 0;
    }
    apr_atomic_set32(&s->schema_ok, 1);
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
    const char *seg[MAX_SEGMENTS + 1];
    int n = 0, rc, lenient;
    route_e rt;
    ap_dbd_t *dbd;
    json_object *body = NULL;
    const cr_op_t *op = NULL;
    bc_form_e bc = BC_NONE;
    int bc_history = 0, bc_ids_only = 0;

    if (d->enabled != 1) {
        return DECLINED;
    }
    rc = split_path(r, d, seg, &n);
    if (rc < 0) {
        return DECLINED;
    }

    settings = apr_pcalloc(r->pool, sizeof(*settings));
    cr_config_settings(settings, r, d, s);
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    cr_service_ctx_init(ctx, r->pool, r->request_time);
    ctx->settings = settings;
    ctx->message_id = message_id(r);
    apr_table_setn(r->notes, "cr-message-id", ctx->message_id);
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

    if (rc > 0) {
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-found",
                      "no such FHIR endpoint");
    }
    rt = n == 0 ? R_NONE : route(seg, n);
    bc = bc_route(r, ctx, seg, n, &bc_history, &bc_ids_only);
    if (bc != BC_NONE) {
        rt = R_BC;
    }
    switch (rt) {
    case R_BC:
        if (bc == BC_READ || bc == BC_HISTORY_OP) {
            if (!cr_text_id_ok(seg[1])) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                              "a resource id is 1 to 64 letters, digits, "
                              "'-' or '.'");
            }
        }
        break;
    case R_NONE:
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-found",
                      "no such FHIR endpoint (try metadata or Patient)");
    case R_OTHER_TYPE:
        if (strcmp(seg[0], "AuditEvent") == 0
            && ((n == 1 && r->method_number == M_GET)
                || (n == 2 && strcmp(seg[1], "$verify") == 0
                    && r->method_number == M_POST))) {
            break;
        }
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      apr_psprintf(r->pool, "resource type '%.64s' is not "
                                   "served here; this registry serves "
                                   "Patient", seg[0]));
    case R_SYSTEM_OP:
        /* CR-GEN-002 */
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      "system-level operations are not supported; use "
                      "[base]/Patient/$operation");
    case R_INSTANCE_OP:
        /* CR-GEN-003 */
        return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                      "instance-level operations are not supported; use "
                      "[base]/Patient/$operation");
    case R_TYPE_OP:
        /* CR-GEN-001, CR-GEN-004, CR-GEN-005 */
        op = cr_ops_find(seg[1] + 1);
        if (op == NULL) {
            return answer(r, ctx, ctype, HTTP_NOT_FOUND, "not-supported",
                          apr_psprintf(r->pool, "unknown operation "
                                       "'%.64s'", seg[1]));
        }
        if (r->method_number != M_POST) {
            return not_allowed(r, ctx, ctype, "POST");
        }
        break;
    case R_METADATA:
        if (r->method_number != M_GET) {
            return not_allowed(r, ctx, ctype, "GET, HEAD");
        }
        note_op(r, "capabilities", "R");
        cr_capability_get(ctx, CR_VERSION);
        return cr_request_respond(r, ctx, ctype);
    case R_TYPE:
        if (r->method_number != M_GET && r->method_number != M_POST) {
            return not_allowed(r, ctx, ctype, "GET, HEAD, POST");
        }
        break;
    case R_INSTANCE:
        if (r->method_number != M_GET && r->method_number != M_PUT) {
            return not_allowed(r, ctx, ctype, "GET, HEAD, PUT");
        }
        break;
    case R_HISTORY:
    case R_VERSION:
        if (r->method_number != M_GET) {
            return not_allowed(r, ctx, ctype, "GET, HEAD");
        }
        break;
    }
    if (n >= 2 && rt != R_TYPE_OP && rt != R_OTHER_TYPE && rt != R_BC
        && !cr_text_id_ok(seg[1])) {
        return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "value",
                      "a resource id is 1 to 64 letters, digits, '-' or "
                      "'.'");
    }

    if (r->method_number == M_POST || r->method_number == M_PUT) {
        rc = cr_request_read_json(r, settings, ctx->oc, &body);
        if (rc != 0) {
            ctx->resp.status = rc;
            if (rt == R_TYPE_OP) {
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

    if (cr_dbd_acquire_fn == NULL
        || (dbd = cr_dbd_acquire_fn(r)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00002)
                      "no database connection from mod_dbd (check DBDriver "
                      "and DBDParams)");
        ctx->resp.retry_after = 5;
        return answer(r, ctx, ctype, HTTP_SERVICE_UNAVAILABLE, "transient",
                      "the registry database is unavailable");
    }
    ctx->db = cr_glue_db(r->pool, dbd);
    if (!schema_ready(r, s, ctx->db)) {
        ctx->resp.retry_after = 30;
        return answer(r, ctx, ctype, HTTP_SERVICE_UNAVAILABLE, "transient",
                      "the registry database has a schema this server "
                      "does not know; an administrator must migrate it");
    }
    ctx->caller = cr_identity_caller(r);
    lenient = cr_request_prefer_lenient(r);

    switch (rt) {
    case R_BC:
        if (bc == BC_SEARCH) {
            note_op(r, "bc-search", "R");
            cr_ops_query_rest_search(ctx, r->args, bc_history, bc_ids_only,
                                     lenient);
        }
        else if (bc == BC_READ) {
            note_op(r, "bc-read", "R");
            cr_ops_query_rest_read(ctx, seg[1], bc_history, bc_ids_only);
        }
        else {
            note_op(r, "$HistoryPatient", "E");
            cr_ops_query_history_patient(ctx, seg[1]);
        }
        break;
    case R_TYPE:
        if (r->method_number == M_POST) {
            note_op(r, "create", "C");
            cr_rest_create(ctx, body);
        }
        else {
            note_op(r, "search-type", "R");
            cr_rest_search(ctx, r->args, lenient);
        }
        break;
    case R_OTHER_TYPE:
        if (n == 1) {
            note_op(r, "audit-search", "R");
            cr_audit_search(ctx, r->args);
        }
        else {
            note_op(r, "audit-verify", "E");
            cr_audit_verify(ctx);
        }
        break;
    case R_INSTANCE:
        if (r->method_number == M_PUT) {
            apr_int64_t im = cr_request_if_match(r);
            if (im == -2) {
                return answer(r, ctx, ctype, HTTP_BAD_REQUEST, "invalid",
                              "If-Match must be W/\"<version>\"");
            }
            note_op(r, "update", "U");
            cr_rest_update(ctx, seg[1], body, im);
        }
        else {
            note_op(r, "read", "R");
            cr_rest_read(ctx, seg[1]);
        }
        break;
    case R_HISTORY:
        note_op(r, "history-instance", "R");
        cr_rest_history(ctx, seg[1], r->args, lenient);
        break;
    case R_VERSION:
        note_op(r, "vread", "R");
        cr_rest_vread(ctx, seg[1], seg[3]);
        break;
    case R_TYPE_OP:
        note_op(r, apr_pstrdup(r->pool, seg[1]), "E");
        ctx->if_match = cr_request_if_match(r);
        op->run(ctx, body);
        break;
    default:
        ctx->resp.status = HTTP_NOT_FOUND;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-supported", NULL, NULL,
                       "not supported");
        break;
    }
    if (ctx->resp.patients) {
        apr_table_setn(r->notes, "cr-patients", ctx->resp.patients);
    }
    if (ctx->resp.audited) {
        apr_table_setn(r->notes, "cr-audited", "1");
    }
    return cr_request_respond(r, ctx, ctype);
}
