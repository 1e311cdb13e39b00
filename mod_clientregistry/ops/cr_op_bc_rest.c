/* cr_op_bc_rest: the BC RESTful search forms (operations.md 8; declared
 * in cr_ops_query.h), chosen by the BCFhirVersion Accept parameter: the
 * query string is read into parameters, then answered as a FindCandidates
 * search (cr_op_find_candidates_run) or an identifier look-up
 * (cr_op_demographics_run).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_text.h"
#include "match/cr_search.h"
#include "ops/cr_bcop.h"
#include "ops/cr_op_demographics.h"
#include "ops/cr_op_find_candidates.h"
#include "ops/cr_ops_query.h"

/* ---- the RESTful forms -------------------------------------------------- */

typedef struct rparam_t {
    const char *name;
    const char *value;
} rparam_t;

/* Decode the query string into name/value pairs; 0 after recording a
 * problem. */
static int rest_params(apr_array_header_t **out, cr_bcop_t *q,
                       const char *query)
{
    cr_ctx_t *ctx = q->ctx;
    apr_array_header_t *list = apr_array_make(ctx->pool, 8,
                                              sizeof(rparam_t));
    const char *p = query ? query : "";
    int n = 0;

    *out = list;
    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        rparam_t *r;
        if (len == 0) {
            p = amp ? amp + 1 : p + len;
            continue;
        }
        if (++n > ctx->settings->search.max_params) {
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, NULL,
                      "more than %d parameters",
                      ctx->settings->search.max_params);
            return 0;
        }
        r = apr_array_push(list);
        if (cr_text_url_decode(&r->name, ctx->pool, p,
                               eq ? (apr_size_t)(eq - p) : len)
                != APR_SUCCESS
            || cr_text_url_decode(&r->value, ctx->pool,
                                  eq ? eq + 1 : p + len,
                                  eq ? len - (apr_size_t)(eq - p) - 1 : 0)
               != APR_SUCCESS) {
            /* CR-REST-012: well-formed %-escapes only. */
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, NULL,
                      "the query string has a bad %%-escape or is not "
                      "valid UTF-8");
            return 0;
        }
        p = amp ? amp + 1 : p + len;
    }
    return 1;
}

static const char *strip_paging(apr_pool_t *pool, const char *query)
{
    const char *p = query ? query : "", *out = "";

    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        if (len > 0 && strncmp(p, "_count=", 7) != 0
            && strncmp(p, "_offset=", 8) != 0) {
            out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, p, len), "&",
                              NULL);
        }
        p = amp ? amp + 1 : p + len;
    }
    return out;
}

static int int_param(int *out, const char *v, int lo, int hi)
{
    char *end = NULL;
    long n;

    if (*v == '\0' || strlen(v) > 9) {
        return 0;
    }
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        return 0;
    }
    *out = (int)n;
    return 1;
}

/* GET [base]/Patient?family=&given=&... (operations.md 8.1). */
static void rest_find(cr_bcop_t *q, apr_array_header_t *params, int lenient,
                      const char *query)
{
    static const char *const known[] = {
        "family", "given", "gender", "birthdate", "address-line",
        "address-city", "address-province", "address-state",
        "address-postalcode", "address-country", "phone", "email", NULL
    };
    cr_ctx_t *ctx = q->ctx;
    json_object *p = cr_json_own(ctx->pool, json_object_new_object());
    apr_hash_t *vals = apr_hash_make(ctx->pool);
    json_object *o, *arr;
    int i, k, count = -1, offset = 0, bad = 0;
    const char *v;

    for (i = 0; i < params->nelts; i++) {
        const rparam_t *r = &APR_ARRAY_IDX(params, i, rparam_t);
        int ok = 0;
        if (strcmp(r->name, "_format") == 0
            || strcmp(r->name, "_pretty") == 0) {
            continue;
        }
        if (strcmp(r->name, "_count") == 0
            || strcmp(r->name, "_offset") == 0) {
            int *dst = r->name[1] == 'c' ? &count : &offset;
            if (!int_param(dst, r->value, r->name[1] == 'c' ? 1 : 0,
                           100000000)) {
                cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, r->name,
                          "%s must be a whole number", r->name);
                bad++;
            }
            continue;
        }
        for (k = 0; known[k]; k++) {
            ok |= strcmp(known[k], r->name) == 0;
        }
        if (!ok) {
            if (lenient) {
                cr_outcome_add(ctx->oc, CR_SEV_WARNING, "not-supported",
                               cr_bc_code(ctx->pool, q->txn, CR_BC_WARNING),
                               r->name, "unknown search parameter '%.64s' "
                               "(ignored)", r->name);
                continue;
            }
            cr_bc_add(ctx->oc, q->txn, CR_BC_FC_PARAM, r->name,
                      "unknown search parameter '%.64s'", r->name);
            bad++;
            continue;
        }
        if (apr_hash_get(vals, r->name, APR_HASH_KEY_STRING)) {
            /* CR-REST-011: one given name and one address line only. */
            cr_bc_add(ctx->oc, q->txn, CR_BC_FC_PARAM, r->name,
                      "%.64s may appear only once", r->name);
            bad++;
            continue;
        }
        if (*r->value == '\0' || strlen(r->value) > 256) {
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, r->name,
                      "%.64s needs a value of at most 256 bytes", r->name);
            bad++;
            continue;
        }
        apr_hash_set(vals, r->name, APR_HASH_KEY_STRING, r->value);
    }
    if (bad) {
        cr_bcop_finish(q, 400);
        return;
    }
    if (count > 0 && count > ctx->settings->search.max_count) {
        count = ctx->settings->search.max_count;
    }
    /* The query as a Patient, checked like a FindCandidates Patient. */
    cr_json_set_string(p, "resourceType", "Patient");
    if (apr_hash_get(vals, "family", APR_HASH_KEY_STRING)
        || apr_hash_get(vals, "given", APR_HASH_KEY_STRING)) {
        arr = cr_json_set_new_array(p, "name");
        o = cr_json_array_add_object(arr);
        cr_json_set_string(o, "family", apr_hash_get(vals, "family",
                                                     APR_HASH_KEY_STRING));
        if ((v = apr_hash_get(vals, "given", APR_HASH_KEY_STRING))) {
            json_object_array_add(cr_json_set_new_array(o, "given"),
                                  json_object_new_string(v));
        }
    }
    if ((v = apr_hash_get(vals, "phone", APR_HASH_KEY_STRING))
        || apr_hash_get(vals, "email", APR_HASH_KEY_STRING)) {
        arr = cr_json_set_new_array(p, "telecom");
        if (v) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "system", "phone");
            cr_json_set_string(o, "value", v);
        }
        if ((v = apr_hash_get(vals, "email", APR_HASH_KEY_STRING))) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "system", "email");
            cr_json_set_string(o, "value", v);
        }
    }
    cr_json_set_string(p, "gender", apr_hash_get(vals, "gender",
                                                 APR_HASH_KEY_STRING));
    cr_json_set_string(p, "birthDate", apr_hash_get(vals, "birthdate",
                                                    APR_HASH_KEY_STRING));
    {
        static const char *const addr[][2] = {
            { "address-city", "city" }, { "address-province", "state" },
            { "address-state", "state" },
            { "address-postalcode", "postalCode" },
            { "address-country", "country" }, { NULL, NULL }
        };
        json_object *a = NULL;
        if ((v = apr_hash_get(vals, "address-line", APR_HASH_KEY_STRING))) {
            a = cr_json_array_add_object(cr_json_set_new_array(p,
                                                               "address"));
            json_object_array_add(cr_json_set_new_array(a, "line"),
                                  json_object_new_string(v));
        }
        for (k = 0; addr[k][0]; k++) {
            if ((v = apr_hash_get(vals, addr[k][0], APR_HASH_KEY_STRING))) {
                if (a == NULL) {
                    a = cr_json_array_add_object(
                        cr_json_set_new_array(p, "address"));
                }
                if (cr_json_get(a, addr[k][1]) == NULL) {
                    cr_json_set_string(a, addr[k][1], v);
                }
            }
        }
    }
    q->link_self = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                               "/Patient?", query ? query : "", NULL);
    cr_op_find_candidates_run(q, p, "Patient", count, offset,
              apr_pstrcat(ctx->pool, ctx->settings->base_url, "/Patient?",
                          strip_paging(ctx->pool, query), NULL));
}

void cr_ops_query_rest_search(cr_ctx_t *ctx, const char *query, int history,
                              int identifiers_only, int lenient)
{
    apr_array_header_t *params = NULL;
    const rparam_t *ident = NULL;
    cr_op_demographics_key_t lk;
    cr_bcop_t q;
    int i, others = 0;

    cr_bcop_init_search(&q, ctx, CR_BC_TXN_GD, NULL);
    if (!rest_params(&params, &q, query)) {
        cr_bcop_finish(&q, 400);
        return;
    }
    for (i = 0; i < params->nelts; i++) {
        const rparam_t *r = &APR_ARRAY_IDX(params, i, rparam_t);
        if (strcmp(r->name, "identifier") == 0) {
            if (ident) {
                cr_bc_add(ctx->oc, q.txn, CR_BC_GD_ONE_IDENTIFIER,
                          "identifier", NULL);
                cr_bcop_finish(&q, 400);
                return;
            }
            ident = r;
        }
        else if (strcmp(r->name, "_format") != 0
                 && strcmp(r->name, "_pretty") != 0) {
            others++;
        }
    }
    if (ident == NULL && !history && !identifiers_only) {
        q.txn = CR_BC_TXN_FC;
        rest_find(&q, params, lenient, query);
        return;
    }
    q.link_self = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                              "/Patient", history ? "/_history"
                              : identifiers_only ? "/_identifiersOnly" : "",
                              "?", query ? query : "", NULL);
    q.history = history;
    q.identifiers_only = identifiers_only;
    q.meta.history = history ? 1 : -1;
    q.meta.identifiers_only = identifiers_only ? 1 : -1;
    if (ident == NULL) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NEITHER, "identifier",
                  "identifier=<system>|<value> is required here");
        cr_bcop_finish(&q, 400);
        return;
    }
    if (others > 0) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID, NULL,
                  "identifier cannot be combined with other parameters");
        cr_bcop_finish(&q, 400);
        return;
    }
    memset(&lk, 0, sizeof(lk));
    lk.expr = "identifier";
    {
        const char *bar = strchr(ident->value, '|');
        if (bar == NULL || bar == ident->value || bar[1] == '\0'
            || strlen(bar + 1) > 256) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NO_VALUE, "identifier",
                      "identifier=<system>|<value>");
            cr_bcop_finish(&q, 400);
            return;
        }
        lk.system = apr_pstrmemdup(ctx->pool, ident->value,
                                   bar - ident->value);
        lk.value = bar + 1;
    }
    cr_op_demographics_run(&q, &lk);
}
