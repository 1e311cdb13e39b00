/* cr_audit: audit records, AuditEvent rendering, search, verification.
 *
 * AuditEvent mapping (FHIR R4): type = rest (audit-event-type); subtype =
 * the RESTful interaction (restful-interaction) or the operation name;
 * action C/R/U/E; recorded; outcome 0 (success), 4 (4xx: minor failure)
 * or 8 (5xx: serious failure); agent = the requesting client (organisation
 * identifier, certificate subject as name, the end user as altId, network
 * address); entity = the patients touched plus the request query; the
 * chain position and hash ride in extensions so an auditor can pin them.
 */
#include <string.h>
#include <stdlib.h>

#include <apr_base64.h>
#include <apr_strings.h>

#include "ops/cr_audit.h"
#include "core/cr_canon.h"
#include "core/cr_datetime.h"
#include "fhir/cr_fhir_bundle.h"
#include "core/cr_text.h"
#include "store/cr_store_audit.h"

/* How cr_audit_writer records a response that showed restricted
 * clients unmasked: "<operation>+unmasked=<ids>". */
#define UNMASKED_MARK "+unmasked="
#define AUDIT_MAX_PAGE 100

void cr_audit_fill(cr_audit_rec_t *rec, const cr_ctx_t *ctx,
                   const char *operation, const char *action, int status,
                   const char *patients)
{
    memset(rec, 0, sizeof(*rec));
    rec->recorded = ctx->now_instant;
    rec->action = action;
    rec->operation = operation;
    rec->method = ctx->req ? ctx->req->method : "-";
    rec->path = ctx->req ? ctx->req->path : "-";
    rec->query = ctx->req ? ctx->req->query : NULL;
    rec->status = status;
    rec->remote_addr = ctx->req ? ctx->req->remote_addr : NULL;
    rec->message_id = ctx->message_id;
    rec->patients = patients;
    if (ctx->caller) {
        rec->client_dn = ctx->caller->client_dn;
        rec->org_id = ctx->caller->org_id;
        rec->source_system = ctx->caller->source_system;
        rec->user_id = ctx->caller->user_id;
    }
}

apr_status_t cr_audit_in_txn(cr_ctx_t *ctx, const char *operation,
                             const char *action, int status,
                             const char *patients)
{
    apr_array_header_t *recs = apr_array_make(ctx->pool, 1,
                                              sizeof(cr_audit_rec_t *));
    cr_audit_rec_t *rec = apr_palloc(ctx->pool, sizeof(*rec));

    cr_audit_fill(rec, ctx, operation, action, status, patients);
    APR_ARRAY_PUSH(recs, cr_audit_rec_t *) = rec;
    return cr_store_audit_append(ctx->db, ctx->pool, recs);
}

static json_object *coding(const char *system, const char *code)
{
    json_object *c = json_object_new_object();

    cr_json_set_string(c, "system", system);
    cr_json_set_string(c, "code", code);
    return c;
}

static int is_interaction(const char *op)
{
    static const char *const names[] = {
        "read", "vread", "update", "create", "search-type",
        "history-instance", "capabilities", NULL
    };
    int i;

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], op) == 0) {
            return 1;
        }
    }
    return 0;
}

static json_object *audit_event(apr_pool_t *pool, const cr_audit_rec_t *a)
{
    json_object *ev = json_object_new_object();
    json_object *arr, *o, *agent, *net;
    const char *op = a->operation;

    cr_json_set_string(ev, "resourceType", "AuditEvent");
    cr_json_set_string(ev, "id", apr_psprintf(pool, "%" APR_INT64_T_FMT,
                                              a->seq));
    arr = cr_json_set_new_array(ev, "extension");
    o = cr_json_array_add_object(arr);
    cr_json_set_string(o, "url", CR_EXT_AUDIT_SEQUENCE);
    cr_json_set_int(o, "valueInteger", a->seq);
    o = cr_json_array_add_object(arr);
    cr_json_set_string(o, "url", CR_EXT_AUDIT_HASH);
    cr_json_set_string(o, "valueString", a->hash);
    {
        /* A response that showed restricted clients unmasked to a
         * privileged caller was recorded as "<op>+unmasked=<ids>"
         * (cr_privacy): the operation, and the ids in an extension. */
        const char *mark = strstr(a->operation, UNMASKED_MARK);
        if (mark) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "url", CR_EXT_AUDIT_UNMASKED);
            cr_json_set_string(o, "valueString",
                               mark + sizeof(UNMASKED_MARK) - 1);
            op = apr_pstrmemdup(pool, a->operation,
                                (apr_size_t)(mark - a->operation));
        }
    }
    json_object_object_add(ev, "type", coding(
        "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"));
    arr = cr_json_set_new_array(ev, "subtype");
    if (is_interaction(op)) {
        json_object_array_add(arr, coding(
            "http://hl7.org/fhir/restful-interaction", op));
    }
    else {
        o = json_object_new_object();
        cr_json_set_string(o, "system", "urn:mod_clientregistry:operation");
        cr_json_set_string(o, "code", op);
        json_object_array_add(arr, o);
    }
    cr_json_set_string(ev, "action", a->action);
    cr_json_set_string(ev, "recorded", a->recorded);
    cr_json_set_string(ev, "outcome", a->status >= 500 ? "8"
                                      : a->status >= 400 ? "4" : "0");
    cr_json_set_string(ev, "outcomeDesc",
                       apr_psprintf(pool, "HTTP %d", a->status));
    arr = cr_json_set_new_array(ev, "agent");
    agent = cr_json_array_add_object(arr);
    if (a->org_id) {
        o = cr_json_set_new_object(agent, "who");
        o = cr_json_set_new_object(o, "identifier");
        cr_json_set_string(o, "system", CR_SYS_BC_ORG);
        cr_json_set_string(o, "value", a->org_id);
    }
    if (a->user_id) {
        cr_json_set_string(agent, "altId", a->user_id);
    }
    cr_json_set_string(agent, "name", a->client_dn ? a->client_dn
                                                   : "(no client certificate)");
    cr_json_set_bool(agent, "requestor", 1);
    if (a->remote_addr) {
        net = cr_json_set_new_object(agent, "network");
        cr_json_set_string(net, "address", a->remote_addr);
        cr_json_set_string(net, "type", "2");
    }
    o = cr_json_set_new_object(ev, "source");
    cr_json_set_string(o, "site", a->source_system);
    o = cr_json_set_new_object(o, "observer");
    cr_json_set_string(o, "display", "mod_clientregistry");
    arr = NULL;
    if (a->patients && *a->patients) {
        char *list = apr_pstrdup(pool, a->patients), *st = NULL, *id;
        int n = 0;
        arr = cr_json_set_new_array(ev, "entity");
        for (id = apr_strtok(list, " ", &st); id && n < 100;
             id = apr_strtok(NULL, " ", &st), n++) {
            json_object *e = cr_json_array_add_object(arr);
            json_object *what = cr_json_set_new_object(e, "what");
            cr_json_set_string(what, "reference",
                               apr_pstrcat(pool, "Patient/", id, NULL));
            json_object_object_add(e, "type", coding(
                "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "1"));
        }
    }
    {
        json_object *e, *what;
        if (arr == NULL) {
            arr = cr_json_set_new_array(ev, "entity");
        }
        e = cr_json_array_add_object(arr);
        what = cr_json_set_new_object(e, "what");
        cr_json_set_string(what, "display",
                           apr_pstrcat(pool, a->method, " ", a->path, NULL));
        if (a->message_id) {
            o = cr_json_set_new_object(what, "identifier");
            cr_json_set_string(o, "value", a->message_id);
        }
        if (a->query && *a->query) {
            /* base64Binary, as AuditEvent.entity.query requires. */
            int len = (int)strlen(a->query);
            char *b64 = apr_palloc(pool, apr_base64_encode_len(len));
            apr_base64_encode(b64, a->query, len);
            cr_json_set_string(e, "query", b64);
        }
    }
    return ev;
}

/* date=[prefix]YYYY-MM-DD... -> [from, to) instants. */
static int date_window(apr_pool_t *pool, const char *v, const char **from,
                       const char **to)
{
    static const char *const pfx[] = { "eq", "ge", "gt", "le", "lt", NULL };
    const char *p = "eq";
    cr_datetime_t dt;
    char lo[11], hi[11];
    int i;

    for (i = 0; pfx[i]; i++) {
        if (strncmp(v, pfx[i], 2) == 0) {
            p = pfx[i];
            v += 2;
            break;
        }
    }
    if (cr_datetime_parse_date(&dt, v) != APR_SUCCESS) {
        return 0;
    }
    cr_datetime_day_range(&dt, lo, hi);
    /* Instants compare as text; "T" sorts after the date, "~" after all. */
    if (strcmp(p, "eq") == 0) {
        *from = apr_pstrdup(pool, lo);
        *to = apr_pstrcat(pool, hi, "~", NULL);
    }
    else if (strcmp(p, "ge") == 0) {
        *from = apr_pstrdup(pool, lo);
    }
    else if (strcmp(p, "gt") == 0) {
        *from = apr_pstrcat(pool, hi, "~", NULL);
    }
    else if (strcmp(p, "le") == 0) {
        *to = apr_pstrcat(pool, hi, "~", NULL);
    }
    else {
        *to = apr_pstrdup(pool, lo);
    }
    return 1;
}

void cr_audit_search(cr_ctx_t *ctx, const char *query)
{
    const char *patient = NULL, *agent = NULL, *from = NULL, *to = NULL;
    const char *p = query ? query : "";
    int count = 20, i, n = 0;
    apr_array_header_t *seqs;
    json_object *bundle;
    apr_status_t rv;

    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        const char *name = NULL, *value = NULL;
        if (len > 0 && (eq == NULL
            || cr_text_url_decode(&name, ctx->pool, p, eq - p) != APR_SUCCESS
            || cr_text_url_decode(&value, ctx->pool, eq + 1,
                                  len - (eq - p) - 1) != APR_SUCCESS)) {
            ctx->resp.status = 400;
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                           "malformed query string");
            return;
        }
        p = amp ? amp + 1 : p + len;
        if (len == 0 || ++n > 10) {
            continue;
        }
        if (strcmp(name, "patient") == 0) {
            patient = strncmp(value, "Patient/", 8) == 0 ? value + 8
                                                         : value;
        }
        else if (strcmp(name, "agent") == 0) {
            agent = value;
        }
        else if (strcmp(name, "date") == 0) {
            if (!date_window(ctx->pool, value, &from, &to)) {
                ctx->resp.status = 400;
                cr_outcome_add(ctx->oc, CR_SEV_ERROR, "value", NULL, "date",
                               "date must be [eq|ge|gt|le|lt]YYYY[-MM[-DD]]");
                return;
            }
        }
        else if (strcmp(name, "_count") == 0) {
            count = atoi(value);
            if (count < 1 || count > AUDIT_MAX_PAGE) {
                count = AUDIT_MAX_PAGE;
            }
        }
        else if (strcmp(name, "_format") != 0) {
            ctx->resp.status = 400;
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-supported", NULL,
                           NULL, "AuditEvent search supports patient, "
                           "agent, date and _count; not '%.64s'", name);
            return;
        }
    }
    /* The first criterion drives the index look-up; the others filter. */
    rv = cr_store_audit_find(&seqs, ctx->db, ctx->pool, patient,
                             patient ? NULL : agent,
                             patient || agent ? NULL : from,
                             patient || agent ? NULL : to,
                             ctx->settings->search.max_candidates);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "searching the audit trail");
        return;
    }
    bundle = cr_fhir_bundle_new(ctx->pool, "searchset",
                                cr_service_uuid(ctx->pool),
                                ctx->now_instant);
    n = 0;
    for (i = 0; i < seqs->nelts && n < count; i++) {
        cr_audit_rec_t *a = NULL;
        json_object *ev, *e;
        rv = cr_store_audit_get(&a, ctx->db, ctx->pool,
                                APR_ARRAY_IDX(seqs, i, apr_int64_t));
        if (rv != APR_SUCCESS) {
            continue;
        }
        if ((agent && (a->org_id == NULL || strcmp(a->org_id, agent) != 0))
            || (from && strcmp(a->recorded, from) < 0)
            || (to && strcmp(a->recorded, to) >= 0)) {
            continue;
        }
        ev = cr_json_own(ctx->pool, audit_event(ctx->pool, a));
        e = cr_fhir_bundle_add_entry(bundle, apr_psprintf(
            ctx->pool, "%s/AuditEvent/%" APR_INT64_T_FMT,
            ctx->settings->base_url, a->seq), ev);
        cr_json_set_string(cr_json_set_new_object(e, "search"), "mode",
                           "match");
        n++;
    }
    cr_json_set_int(bundle, "total", n);
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}

/* A parameter (or part) name = value of $verify: valueInteger, or with
 * is_bool valueBoolean. */
static void verify_value(json_object *arr, const char *name, int is_bool,
                         apr_int64_t v)
{
    json_object *o = cr_json_array_add_object(arr);

    cr_json_set_string(o, "name", name);
    if (is_bool) {
        cr_json_set_bool(o, "valueBoolean", v != 0);
    }
    else {
        cr_json_set_int(o, "valueInteger", v);
    }
}

void cr_audit_verify(cr_ctx_t *ctx)
{
    apr_array_header_t *chains;
    apr_int64_t checked = 0, bad = 0;
    json_object *params, *arr;
    apr_status_t rv;
    int i;

    rv = cr_store_audit_verify_chains(&chains, ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "verifying the audit trail");
        return;
    }
    for (i = 0; i < chains->nelts; i++) {
        const cr_audit_chain_t *c = &APR_ARRAY_IDX(chains, i,
                                                   cr_audit_chain_t);
        checked += c->checked;
        if (c->first_bad && bad == 0) {
            bad = cr_audit_chain_first_bad(c);
        }
    }
    params = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(params, "resourceType", "Parameters");
    arr = cr_json_set_new_array(params, "parameter");
    verify_value(arr, "intact", 1, bad == 0);
    verify_value(arr, "checked", 0, checked);
    if (bad) {
        verify_value(arr, "firstBroken", 0, bad);
    }
    /* Several chains (PostgreSQL's parallel appenders): one part each,
     * with its number, its records and where it breaks. */
    for (i = 0; chains->nelts > 1 && i < chains->nelts; i++) {
        const cr_audit_chain_t *c = &APR_ARRAY_IDX(chains, i,
                                                   cr_audit_chain_t);
        json_object *o = cr_json_array_add_object(arr), *parts;
        cr_json_set_string(o, "name", "chain");
        parts = cr_json_set_new_array(o, "part");
        verify_value(parts, "chain", 0, c->chain);
        verify_value(parts, "intact", 1, c->first_bad == 0);
        verify_value(parts, "checked", 0, c->checked);
        if (c->first_bad) {
            verify_value(parts, "firstBroken", 0,
                         cr_audit_chain_first_bad(c));
        }
    }
    ctx->resp.status = 200;
    ctx->resp.body = params;
}
