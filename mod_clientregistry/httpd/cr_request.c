/* cr_request: HTTP in and out -- content negotiation, body limits, JSON
 * parsing, Prefer/If-Match, and writing resources and OperationOutcomes
 * with the FHIR headers (ETag, Last-Modified, Location).  Everything
 * written passes the output policy (ops/cr_privacy) first, for the
 * caller the handler put in ctx->caller.
 *
 * Once the handler has accepted a request it always writes its own body
 * and returns OK, so clients never get httpd's HTML error pages.  When
 * httpd itself refuses a request below a registry location (a denial by
 * Require, a body over LimitRequestBody, a timeout), the error body is
 * replaced by an OperationOutcome with a FHIR content type.
 */
#include <string.h>

#include <apr_date.h>

#include "core/cr_datetime.h"
#include "httpd/cr_config.h"
#include "httpd/cr_req.h"
#include "httpd/cr_request.h"
#include "httpd/cr_route.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_ops.h"
#include "core/cr_text.h"
#include "ops/cr_privacy.h"
#include "httpd/cr_private.h"

#define CT_FHIR "application/fhir+json"
#define CT_JSON "application/json"

/* Does a media range (without parameters) accept FHIR JSON?  Returns the
 * content type to answer with, or NULL. */
static const char *range_accepts(const char *range)
{
    if (strcasecmp(range, CT_FHIR) == 0 || strcasecmp(range, "*/*") == 0
        || strcasecmp(range, "application/*") == 0) {
        return CT_FHIR;
    }
    if (strcasecmp(range, CT_JSON) == 0) {
        return CT_JSON;
    }
    return NULL;
}

static const char *format_param(request_rec *r)
{
    const char *q = r->args;
    static const char key[] = "_format=";

    while (q && *q) {
        if (strncmp(q, key, sizeof(key) - 1) == 0) {
            const char *v = q + sizeof(key) - 1;
            const char *end = strchr(v, '&');
            const char *raw = end ? apr_pstrmemdup(r->pool, v, end - v)
                                  : v;
            const char *dec = NULL;
            if (cr_text_url_decode(&dec, r->pool, raw, strlen(raw))
                != APR_SUCCESS) {
                return "";
            }
            return dec;
        }
        q = strchr(q, '&');
        if (q) {
            q++;
        }
    }
    return NULL;
}

int cr_request_negotiate(request_rec *r, const char **ctype)
{
    const char *fmt = format_param(r);
    const char *accept;

    *ctype = CT_FHIR;
    if (fmt) {
        /* _format overrides Accept (FHIR http.html#mime-type). */
        const char *semi = strchr(fmt, ';');
        const char *base = semi ? apr_pstrmemdup(r->pool, fmt, semi - fmt)
                                : fmt;
        if (strcmp(base, "json") == 0) {
            return 0;
        }
        if ((*ctype = range_accepts(base)) != NULL) {
            return 0;
        }
        *ctype = CT_FHIR;
        return cr_request_error(r, HTTP_NOT_ACCEPTABLE, "not-supported",
                                "_format: this server speaks FHIR JSON only "
                                "(json, application/fhir+json)");
    }
    accept = apr_table_get(r->headers_in, "Accept");
    if (accept == NULL || *accept == '\0') {
        return 0;
    }
    {
        char *copy = apr_pstrdup(r->pool, accept);
        char *state = NULL, *item;
        int ranges = 0;
        for (item = apr_strtok(copy, ",", &state); item && ranges < 32;
             item = apr_strtok(NULL, ",", &state), ranges++) {
            char *semi = strchr(item, ';');
            const char *ct;
            int q_zero = 0;
            if (semi) {
                /* q=0 means "not acceptable". */
                const char *q = strstr(semi, "q=");
                q_zero = q && q[2] == '0' && (q[3] == '\0' || q[3] == ' '
                                              || q[3] == ';'
                                              || (q[3] == '.'
                                                  && strspn(q + 4, "0")
                                                     == strlen(q + 4)));
                *semi = '\0';
            }
            apr_collapse_spaces(item, item);
            if (!q_zero && (ct = range_accepts(item)) != NULL) {
                *ctype = ct;
                return 0;
            }
        }
    }
    return cr_request_error(r, HTTP_NOT_ACCEPTABLE, "not-supported",
                            "Accept: this server answers with "
                            "application/fhir+json (or application/json) "
                            "only");
}

static int content_type_ok(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *copy, *semi, *params;

    if (ct == NULL) {
        return 0;
    }
    copy = apr_pstrdup(r->pool, ct);
    semi = strchr(copy, ';');
    params = semi ? semi + 1 : NULL;
    if (semi) {
        *semi = '\0';
    }
    apr_collapse_spaces(copy, copy);
    if (strcasecmp(copy, CT_FHIR) != 0 && strcasecmp(copy, CT_JSON) != 0) {
        return 0;
    }
    if (params) {
        const char *cs = ap_strcasestr(params, "charset=");
        if (cs) {
            cs += 8;
            if (*cs == '"') {
                cs++;
            }
            if (strncasecmp(cs, "utf-8", 5) != 0) {
                return 0;
            }
        }
    }
    return 1;
}

static int body_fail(cr_outcome_t *oc, int status, const char *code,
                     const char *text)
{
    cr_outcome_add(oc, CR_SEV_ERROR, code, NULL, NULL, "%s", text);
    return status;
}

int cr_request_read_json(request_rec *r, const cr_settings_t *settings,
                         cr_outcome_t *oc, json_object **out)
{
    apr_off_t limit = settings->max_body;
    apr_size_t cap, len = 0;
    char *buf;
    int rc;
    cr_json_error_t jerr;

    *out = NULL;
    if (!content_type_ok(r)) {
        ap_discard_request_body(r);
        return body_fail(oc, HTTP_UNSUPPORTED_MEDIA_TYPE,
                                "not-supported", "Content-Type must be "
                                "application/fhir+json (charset utf-8)");
    }
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        return body_fail(oc, rc, "invalid",
                                "the request body could not be read");
    }
    if (r->remaining > limit) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return body_fail(oc, HTTP_REQUEST_ENTITY_TOO_LARGE,
                                "too-long", apr_psprintf(
                                    r->pool, "the request body is larger "
                                    "than %" APR_OFF_T_FMT " bytes", limit));
    }
    cap = r->remaining > 0 ? (apr_size_t)r->remaining : 8192;
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            long n;
            if (len == cap) {
                apr_size_t ncap = cap * 2;
                char *nbuf;
                if ((apr_off_t)cap >= limit + 1) {
                    r->connection->keepalive = AP_CONN_CLOSE;
                    return body_fail(oc, HTTP_REQUEST_ENTITY_TOO_LARGE, "too-long",
                        apr_psprintf(r->pool, "the request body is larger "
                                     "than %" APR_OFF_T_FMT " bytes",
                                     limit));
                }
                if ((apr_off_t)ncap > limit + 1) {
                    ncap = (apr_size_t)limit + 1;
                }
                nbuf = apr_palloc(r->pool, ncap + 1);
                memcpy(nbuf, buf, len);
                buf = nbuf;
                cap = ncap;
            }
            n = ap_get_client_block(r, buf + len, cap - len);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                              CR_APLOGNO(00005) "reading the request body "
                              "failed");
                r->connection->keepalive = AP_CONN_CLOSE;
                return body_fail(oc, HTTP_BAD_REQUEST, "invalid",
                                        "the request body could not be "
                                        "read");
            }
            len += (apr_size_t)n;
            if ((apr_off_t)len > limit) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return body_fail(oc, HTTP_REQUEST_ENTITY_TOO_LARGE, "too-long",
                    apr_psprintf(r->pool, "the request body is larger than "
                                 "%" APR_OFF_T_FMT " bytes", limit));
            }
        }
    }
    buf[len] = '\0';
    if (cr_json_parse(out, r->pool, buf, len, &settings->json, &jerr)
        != APR_SUCCESS) {
        int status = jerr.kind == CR_JSON_ERR_DEPTH
                     || jerr.kind == CR_JSON_ERR_STRING
                     || jerr.kind == CR_JSON_ERR_ARRAY
                     ? HTTP_REQUEST_ENTITY_TOO_LARGE : HTTP_BAD_REQUEST;
        const char *code = status == HTTP_BAD_REQUEST ? "structure"
                                                      : "too-long";
        if (jerr.kind == CR_JSON_ERR_DEPTH) {
            /* Nesting is a shape problem, not a size one. */
            status = HTTP_BAD_REQUEST;
            code = "structure";
        }
        cr_outcome_add(oc, CR_SEV_ERROR, code, NULL, NULL,
                       "the body is not acceptable JSON: %s (line %d, "
                       "column %d)", jerr.message ? jerr.message : "?",
                       jerr.line, jerr.column);
        return status;
    }
    return 0;
}

int cr_request_bc_version(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    const char *p;
    int v = 0;

    /* G5 versioning (operations.md 0.1): "application/fhir+json;
     * charset=utf-8; fhirVersion=4.0; BCFhirVersion=1" asks for the BC
     * forms of the RESTful interactions. */
    if (accept == NULL || strlen(accept) > 1024) {
        return 0;
    }
    p = ap_strcasestr(accept, "BCFhirVersion");
    if (p == NULL) {
        return 0;
    }
    p += sizeof("BCFhirVersion") - 1;
    while (*p == ' ') {
        p++;
    }
    if (*p != '=') {
        return 0;
    }
    p++;
    while (*p == ' ' || *p == '"') {
        p++;
    }
    while (*p >= '0' && *p <= '9' && v < 10000) {
        v = v * 10 + (*p++ - '0');
    }
    return v;
}

int cr_request_prefer_return(request_rec *r)
{
    const char *p = apr_table_get(r->headers_in, "Prefer");

    if (p == NULL) {
        return CR_PREFER_REPRESENTATION;
    }
    if (ap_strcasestr(p, "return=minimal")) {
        return CR_PREFER_MINIMAL;
    }
    if (ap_strcasestr(p, "return=OperationOutcome")) {
        return CR_PREFER_OUTCOME;
    }
    return CR_PREFER_REPRESENTATION;
}

int cr_request_prefer_lenient(request_rec *r)
{
    const char *p = apr_table_get(r->headers_in, "Prefer");

    return p && ap_strcasestr(p, "handling=lenient") != NULL;
}

apr_int64_t cr_request_if_match(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "If-Match");
    char *end = NULL;
    apr_int64_t v;

    if (h == NULL) {
        return -1;
    }
    while (*h == ' ') {
        h++;
    }
    if (strncmp(h, "W/", 2) == 0) {
        h += 2;
    }
    if (*h != '"') {
        return -2;
    }
    h++;
    if (*h < '0' || *h > '9') {
        return -2;
    }
    v = apr_strtoi64(h, &end, 10);
    if (end == NULL || *end != '"' || v < 1 || end - h > 12) {
        return -2;
    }
    return v;
}

static void write_body(request_rec *r, const char *ctype, const char *body,
                       apr_size_t len)
{
    ap_set_content_type(r, apr_pstrcat(r->pool, ctype, "; charset=utf-8",
                                       NULL));
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
}

static void write_outcome(request_rec *r, const char *ctype,
                          const cr_outcome_t *oc)
{
    apr_size_t len = 0;
    const char *text = cr_json_serialize(r->pool,
                                         cr_outcome_to_json(r->pool, oc),
                                         &len);
    write_body(r, ctype, text, len);
}

int cr_request_error(request_rec *r, int status, const char *code,
                     const char *text)
{
    cr_outcome_t *oc = cr_outcome_make(r->pool);

    cr_outcome_add(oc, CR_SEV_ERROR, code, NULL, NULL, "%s", text);
    r->status = status;
    write_outcome(r, CT_FHIR, oc);
    return status;
}

static const char *etag(request_rec *r, apr_int64_t v)
{
    return apr_psprintf(r->pool, "W/\"%" APR_INT64_T_FMT "\"", v);
}

int cr_request_respond(request_rec *r, cr_ctx_t *ctx, const char *ctype)
{
    cr_response_t *resp = &ctx->resp;
    int status, prefer;
    const char *unmasked;

    /* The output policy (operations.md 0.7), on everything that leaves:
     * restricted clients masked and provenance removed unless the caller
     * is privileged (cr_handler sets ctx->caller first; without one the
     * caller is not); restricted clients shown unmasked are audited by
     * cr_audit_writer. */
    unmasked = cr_privacy_apply(ctx);
    if (unmasked) {
        cr_req_get(r)->unmasked = unmasked;
        /* Not for shared caches: others get this client masked. */
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    status = resp->status ? resp->status : HTTP_INTERNAL_SERVER_ERROR;

    if (status >= 400 || (resp->body == NULL && resp->raw_body == NULL)) {
        if ((status == HTTP_SERVICE_UNAVAILABLE || status == HTTP_ACCEPTED)
            && resp->retry_after > 0) {
            apr_table_setn(r->headers_out, "Retry-After",
                           apr_itoa(r->pool, resp->retry_after));
        }
        r->status = status;
        if (resp->body_on_error && resp->body) {
            /* The BC operations' errors are response Bundles holding the
             * OperationOutcome (CR-GEN-009). */
            apr_size_t len = 0;
            const char *text = cr_json_serialize(r->pool, resp->body, &len);
            write_body(r, ctype, text, len);
            return OK;
        }
        write_outcome(r, ctype, ctx->oc);
        return OK;
    }
    if (resp->etag_version > 0) {
        const char *inm = apr_table_get(r->headers_in, "If-None-Match");
        const char *tag = etag(r, resp->etag_version);
        apr_table_setn(r->headers_out, "ETag", tag);
        if (inm && r->method_number == M_GET && status == 200
            && (strcmp(inm, tag) == 0
                || strcmp(inm, tag + 2) == 0)) {
            r->status = HTTP_NOT_MODIFIED;
            return OK;
        }
    }
    if (resp->last_modified) {
        cr_datetime_t dt;
        apr_time_t t;
        if (cr_datetime_parse_instant(&dt, resp->last_modified)
            == APR_SUCCESS
            && cr_datetime_to_apr_time(&t, &dt) == APR_SUCCESS) {
            char *date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);
            apr_rfc822_date(date, t);
            apr_table_setn(r->headers_out, "Last-Modified", date);
        }
    }
    if (resp->location) {
        apr_table_setn(r->headers_out, "Location", resp->location);
    }
    if (resp->content_location) {
        apr_table_setn(r->headers_out, "Content-Location",
                       resp->content_location);
    }
    r->status = status;
    prefer = (r->method_number == M_POST || r->method_number == M_PUT)
             ? cr_request_prefer_return(r) : CR_PREFER_REPRESENTATION;
    if (prefer == CR_PREFER_MINIMAL) {
        ap_set_content_length(r, 0);
        return OK;
    }
    if (prefer == CR_PREFER_OUTCOME) {
        cr_outcome_add(ctx->oc, CR_SEV_INFORMATION, "informational", NULL,
                       NULL, "%s", status == HTTP_CREATED
                       ? "the Patient was created" : "the Patient was "
                       "updated");
        write_outcome(r, ctype, ctx->oc);
        return OK;
    }
    if (resp->raw_body) {
        write_body(r, ctype, resp->raw_body, strlen(resp->raw_body));
    }
    else {
        apr_size_t len = 0;
        const char *text = cr_json_serialize(r->pool, resp->body, &len);
        write_body(r, ctype, text, len);
    }
    return OK;
}

/* ---- bodies of the errors httpd answers itself ---------------------- */

apr_status_t cr_request_error_ctype_filter(ap_filter_t *f,
                                          apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/fhir+json; charset=utf-8");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static const char *issue_code(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return "login";
    case HTTP_FORBIDDEN:
        return "forbidden";
    case HTTP_NOT_FOUND:
        return "not-found";
    case HTTP_METHOD_NOT_ALLOWED:
        return "not-supported";
    case HTTP_REQUEST_TIME_OUT:
        return "timeout";
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "too-long";
    case HTTP_SERVICE_UNAVAILABLE:
        return "transient";
    default:
        return status >= 500 ? "exception" : "invalid";
    }
}

void cr_request_insert_error_filter(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    cr_outcome_t *oc;
    const cr_req_t *q;
    const char *denied, *text;
    json_object *body;

    if (d == NULL || d->enabled != 1 || r->status < 400) {
        return;
    }
    oc = cr_outcome_make(r->pool);
    q = cr_req_get(r);
    denied = q->denied;
    if (r->status == HTTP_FORBIDDEN) {
        /* Only the kinds of access (read ... admin) are named. */
        text = denied && strcmp(denied, "source") != 0
               && strcmp(denied, "scope") != 0
               && strcmp(denied, "privileged") != 0
               ? apr_psprintf(r->pool, "access denied: this client may not "
                              "make %s requests here", denied)
               : "access denied: this client is not allowed here";
    }
    else if (r->status == HTTP_UNAUTHORIZED) {
        const char *problem = q->token_problem;
        text = apr_pstrcat(r->pool, "authentication required: a valid "
                           "bearer token", problem ? " (" : "", problem,
                           problem ? ")" : "", NULL);
    }
    else {
        text = apr_psprintf(r->pool, "the server refused the request (%d)",
                            r->status);
    }
    cr_outcome_add(oc, r->status >= 500 ? CR_SEV_FATAL : CR_SEV_ERROR,
                   issue_code(r->status), NULL, NULL, "%s", text);
    if (q->route && q->route->kind == CR_ROUTE_TYPE_OP
        && cr_ops_bundle_based(q->route->op)) {
        /* CR-GEN-009: a BC operation answers with a response Bundle,
         * also when httpd refuses it (401, the 403 of Require, 413). */
        char now[CR_DATETIME_INSTANT_SIZE];
        if (cr_datetime_format_instant(now, sizeof(now), r->request_time)
            != APR_SUCCESS) {
            now[0] = '\0';
        }
        body = cr_fhir_envelope_error_reply(
            r->pool, cr_bc_txn_for_operation(q->route->op->name), oc, NULL,
            now[0] ? apr_pstrdup(r->pool, now) : NULL);
    }
    else {
        body = cr_outcome_to_json(r->pool, oc);
    }
    /* A string that is neither a URL nor a path is sent as the body. */
    ap_custom_response(r, r->status,
                       cr_json_serialize(r->pool, body, NULL));
    ap_add_output_filter(CR_REQUEST_ERROR_FILTER, NULL, r, r->connection);
}
