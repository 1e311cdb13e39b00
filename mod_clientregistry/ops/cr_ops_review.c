/* cr_ops_review: evidence and decision history of the duplicate review
 * (see cr_ops_review.h). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "match/cr_match_evidence.h"
#include "ops/cr_ops_review.h"
#include "store/cr_store_match.h"
#include "store/cr_store_review.h"

/* A decimal for JSON with at most four decimals and no trailing zeros. */
static json_object *decimal(apr_pool_t *pool, double v)
{
    char *s = apr_psprintf(pool, "%.4f", v);
    char *e = s + strlen(s) - 1;

    while (e > s && *e == '0') {
        *e-- = '\0';
    }
    if (*e == '.') {
        *e = '\0';
    }
    if (strcmp(s, "-0") == 0) {
        s = "0";
    }
    return json_object_new_double_s(v, s);
}

apr_status_t cr_ops_review_init(cr_ops_review_t *rv, cr_ctx_t *ctx,
                                const cr_match_thresholds_t *t)
{
    memset(rv, 0, sizeof(*rv));
    rv->ctx = ctx;
    rv->thresholds = *t;
    return cr_store_match_params_load(&rv->params, NULL, ctx->db, ctx->pool);
}

/* The match record of id (an empty record when it has none). */
static apr_status_t record_of(cr_match_record_t *rec, cr_ctx_t *ctx,
                              const char *id)
{
    const char *text = NULL;
    apr_status_t rv = cr_store_review_record_get(&text, ctx->db, ctx->pool,
                                                 id);

    if (rv == APR_NOTFOUND) {
        text = NULL;
    }
    else if (rv != APR_SUCCESS) {
        return rv;
    }
    /* A missing or unreadable record leaves rec empty: it agrees with
     * nothing. */
    (void)cr_match_record_parse(rec, ctx->pool, text);
    return APR_SUCCESS;
}

/* One named child: a Parameters part (key "name") or an extension (key
 * "url"). */
static json_object *child(json_object *arr, const char *key,
                          const char *name)
{
    json_object *o = cr_json_array_add_object(arr);

    cr_json_set_string(o, key, name);
    return o;
}

/* The evidence's fields and totals into arr (parts or extensions). */
static void fill(cr_ops_review_t *rv, json_object *arr, const char *key,
                 const char *nested, const cr_match_evidence_t *ev,
                 const char *a_name, const char *b_name)
{
    apr_pool_t *pool = rv->ctx->pool;
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        const cr_match_evidence_field_t *e = &ev->field[f];
        json_object *fa = cr_json_set_new_array(child(arr, key, "field"),
                                                nested);
        cr_json_set_string(child(fa, key, "name"), "valueCode", e->field);
        if (e->level) {
            cr_json_set_string(child(fa, key, "level"), "valueCode",
                               e->level);
        }
        json_object_object_add(child(fa, key, "weight"), "valueDecimal",
                               decimal(pool, e->weight));
        if (e->value_a[0]) {
            cr_json_set_string(child(fa, key, a_name), "valueString",
                               e->value_a);
        }
        if (e->value_b[0]) {
            cr_json_set_string(child(fa, key, b_name), "valueString",
                               e->value_b);
        }
    }
    json_object_object_add(child(arr, key, "weight"), "valueDecimal",
                           decimal(pool, ev->weight));
    json_object_object_add(child(arr, key, "score"), "valueDecimal",
                           decimal(pool, ev->score));
    cr_json_set_string(child(arr, key, "grade"), "valueCode",
                       cr_match_grade_name(ev->grade));
}

static void subject(apr_pool_t *pool, json_object *arr, const char *key,
                    const char *id)
{
    json_object *ref = cr_json_set_new_object(child(arr, key, "subject"),
                                              "valueReference");

    cr_json_set_string(ref, "reference",
                       apr_pstrcat(pool, "Patient/", id, NULL));
}

apr_status_t cr_ops_review_evidence_part(cr_ops_review_t *rv,
                                         json_object *parts,
                                         const char *patient,
                                         const char *other)
{
    cr_match_record_t a, b;
    cr_match_evidence_t ev;
    json_object *arr;
    apr_status_t st;

    if ((st = record_of(&a, rv->ctx, patient)) != APR_SUCCESS
        || (st = record_of(&b, rv->ctx, other)) != APR_SUCCESS) {
        return st;
    }
    cr_match_evidence(&ev, rv->ctx->pool, &rv->params, &rv->thresholds,
                      &a, &b);
    arr = cr_json_set_new_array(child(parts, "name", "evidence"), "part");
    subject(rv->ctx->pool, arr, "name", patient);
    subject(rv->ctx->pool, arr, "name", other);
    fill(rv, arr, "name", "part", &ev, "patientValue", "otherValue");
    return APR_SUCCESS;
}

apr_status_t cr_ops_review_evidence_ext(cr_ops_review_t *rv,
                                        json_object *search,
                                        const cr_match_record_t *query,
                                        const char *candidate)
{
    cr_match_record_t b;
    cr_match_evidence_t ev;
    json_object *ext, *arr;
    apr_status_t st;

    if ((st = record_of(&b, rv->ctx, candidate)) != APR_SUCCESS) {
        return st;
    }
    cr_match_evidence(&ev, rv->ctx->pool, &rv->params, &rv->thresholds,
                      query, &b);
    ext = cr_json_get_array(search, "extension");
    if (ext == NULL) {
        ext = cr_json_set_new_array(search, "extension");
    }
    arr = cr_json_set_new_array(child(ext, "url", CR_EXT_MATCH_EVIDENCE),
                                "extension");
    subject(rv->ctx->pool, arr, "url", candidate);
    fill(rv, arr, "url", "extension", &ev, "queryValue", "value");
    return APR_SUCCESS;
}

apr_status_t cr_ops_review_history_parts(cr_ctx_t *ctx, json_object *parts,
                                         const char *a, const char *b)
{
    apr_array_header_t *list = NULL;
    apr_status_t rv;
    int i;

    rv = cr_store_review_history(&list, ctx->db, ctx->pool, a, b);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < list->nelts; i++) {
        const cr_store_review_decision_t *d = &APR_ARRAY_IDX(
            list, i, cr_store_review_decision_t);
        json_object *dp = child(parts, "name", "decision");
        json_object *arr = cr_json_set_new_array(dp, "part");
        cr_json_set_int(child(arr, "name", "seq"), "valueInteger", d->seq);
        cr_json_set_string(child(arr, "name", "decided"), "valueInstant",
                           d->decided);
        cr_json_set_string(child(arr, "name", "action"), "valueCode",
                           d->action);
        cr_json_set_string(child(arr, "name", "status"), "valueCode",
                           d->status);
        if (d->comment && d->comment[0]) {
            cr_json_set_string(child(arr, "name", "comment"), "valueString",
                               d->comment);
        }
        if (d->decided_by && d->decided_by[0]) {
            cr_json_set_string(child(arr, "name", "decidedBy"),
                               "valueString", d->decided_by);
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_ops_review_note(cr_ctx_t *ctx, const char *a, const char *b,
                                const char *action, const char *status,
                                const char *comment)
{
    const cr_caller_t *c = ctx->caller;
    const char *who = NULL;

    if (c) {
        who = c->user_id ? c->user_id
              : c->client_dn ? c->client_dn : c->source_system;
    }
    return cr_store_review_decision_add(ctx->db, ctx->pool, a, b,
                                        ctx->now_instant, action, status,
                                        comment, who, ctx->message_id);
}
