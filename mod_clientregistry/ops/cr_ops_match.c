/* cr_ops_match: candidate search and scoring, $match, the duplicate review
 * list and a reviewer's decisions on it (see cr_ops_match.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "ops/cr_audit.h"
#include "fhir/cr_fhir_bundle.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_review.h"
#include "store/cr_store.h"
#include "store/cr_store_match.h"
#include "store/cr_store_review.h"
#include "store/cr_store_match_tune.h"

#define MATCH_GRADE_EXT "http://hl7.org/fhir/StructureDefinition/match-grade"

/* Most entries of Parameters.parameter examined (the JSON parser already
 * bounds arrays; this keeps the loops' bound visible). */
#define MAX_PARAMETERS 100

static cr_match_thresholds_t thresholds(const cr_ctx_t *ctx)
{
    cr_match_thresholds_t t;

    if (ctx->settings && ctx->settings->match.certain > 0.0) {
        return ctx->settings->match;
    }
    t.certain = CR_MATCH_DEFAULT_CERTAIN;
    t.probable = CR_MATCH_DEFAULT_PROBABLE;
    t.possible = CR_MATCH_DEFAULT_POSSIBLE;
    return t;
}

static int cmp_results(const void *x, const void *y)
{
    const cr_match_result_t *a = x, *b = y;

    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    if (a->weight != b->weight) {
        return a->weight > b->weight ? -1 : 1;
    }
    return strcmp(a->patient_id, b->patient_id);
}

apr_status_t cr_ops_match_find(apr_array_header_t **out, cr_ctx_t *ctx,
                               const cr_patient_t *query, int max_results,
                               cr_match_grade_e min_grade)
{
    cr_match_thresholds_t t = thresholds(ctx);
    cr_match_record_t q;
    cr_match_params_t params;
    cr_match_tf_t tf;
    const cr_identifier_t *phn;
    apr_array_header_t *keys = NULL, *cands = NULL, *res;
    apr_pool_t *scratch;
    apr_status_t rv;
    int i;

    *out = NULL;
    if (cr_match_record_parse(&q, ctx->pool,
                              cr_match_record_build(ctx->pool, query))
        != APR_SUCCESS) {
        return CR_OPS_MATCH_NOT_ENOUGH;
    }
    phn = cr_model_find_identifier(query, CR_IDK_PHN);
    cr_match_keys(&keys, ctx->pool, &q, phn ? phn->value : NULL);
    cr_match_keys_for_query(keys);
    if (keys->nelts == 0 || cr_match_record_fields(&q) < 2
        || !(q.birth[0] || q.nphones > 0 || q.naddrs > 0 || phn)) {
        /* A name alone finds namesakes, not a person. */
        return CR_OPS_MATCH_NOT_ENOUGH;
    }
    /* The parameters and the term-frequency adjustments of the query's
     * values (at most nine rows of the value counts), one statement. */
    rv = cr_store_match_params_freq_load(&params, &tf, ctx->db, ctx->pool,
                                         &q);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_match_candidates(&cands, ctx->db, ctx->pool, keys,
                                   query->id, CR_OPS_MATCH_PER_KEY,
                                   CR_OPS_MATCH_MAX_CANDIDATES);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    res = apr_array_make(ctx->pool, 8, sizeof(cr_match_result_t));
    apr_pool_create(&scratch, ctx->pool);
    for (i = 0; i < cands->nelts; i++) {
        const cr_store_match_cand_t *c = &APR_ARRAY_IDX(
            cands, i, cr_store_match_cand_t);
        cr_match_record_t rec;
        cr_match_result_t r;

        apr_pool_clear(scratch);
        if (cr_match_record_parse(&rec, scratch, c->record)
            != APR_SUCCESS) {
            continue;
        }
        cr_match_compare(&r.vector, &q, &rec);
        r.weight = cr_match_weight_tf(&params, &r.vector, &tf, &rec);
        r.score = cr_match_score(&params, r.weight);
        r.grade = cr_match_grade(&t, r.score, &r.vector);
        if (r.grade > min_grade) {
            continue;
        }
        r.patient_id = c->id;
        *(cr_match_result_t *)apr_array_push(res) = r;
    }
    apr_pool_destroy(scratch);
    qsort(res->elts, res->nelts, sizeof(cr_match_result_t), cmp_results);
    if (max_results < 1) {
        max_results = 1;
    }
    /* Only active patients are returned: walk the ranking, checking a
     * batch at a time, until max_results are kept (records merged into a
     * survivor are not checked for each candidate scored, only here). */
    {
        cr_match_result_t *r = (cr_match_result_t *)res->elts;
        int kept = 0, from = 0;
        while (from < res->nelts && kept < max_results) {
            int n = max_results - kept, j;
            const char **ids;
            int *active;
            if (n > res->nelts - from) {
                n = res->nelts - from;
            }
            ids = apr_palloc(ctx->pool, n * sizeof(char *));
            active = apr_palloc(ctx->pool, n * sizeof(int));
            for (j = 0; j < n; j++) {
                ids[j] = r[from + j].patient_id;
            }
            rv = cr_store_match_active(active, ctx->db, ctx->pool, ids, n);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            for (j = 0; j < n; j++) {
                if (active[j]) {
                    r[kept++] = r[from + j];
                }
            }
            from += n;
        }
        res->nelts = kept;
    }
    *out = res;
    return APR_SUCCESS;
}

apr_status_t cr_ops_match_record_duplicates(int *recorded, cr_ctx_t *ctx,
                                            const cr_patient_t *p,
                                            const char *operation)
{
    apr_array_header_t *res = NULL;
    apr_status_t rv;
    int i;

    if (recorded) {
        *recorded = 0;
    }
    rv = cr_ops_match_find(&res, ctx, p, CR_OPS_MATCH_MAX_DUPLICATES,
                           CR_MATCH_PROBABLE);
    if (rv == CR_OPS_MATCH_NOT_ENOUGH) {
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < res->nelts; i++) {
        const cr_match_result_t *r = &APR_ARRAY_IDX(res, i,
                                                    cr_match_result_t);
        rv = cr_store_match_duplicate_record(
            ctx->db, ctx->pool, p->id, r->patient_id, r->score, r->weight,
            cr_match_grade_name(r->grade), ctx->now_instant, operation,
            ctx->message_id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (recorded) {
            (*recorded)++;
        }
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Parameters input                                                    */
/* ------------------------------------------------------------------ */

static void bad(cr_ctx_t *ctx, const char *code, const char *expr,
                const char *text)
{
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, code, NULL, expr, "%s", text);
}

/* body must be a Parameters resource; returns its parameter array (or
 * NULL when it has none) and sets *ok. */
static json_object *parameters_of(cr_ctx_t *ctx, json_object *body, int *ok)
{
    const char *rt;
    json_object *arr;

    *ok = 0;
    if (body == NULL || !json_object_is_type(body, json_type_object)) {
        bad(ctx, "structure", NULL, "the body must be a FHIR Parameters "
            "resource (a JSON object)");
        return NULL;
    }
    rt = cr_json_get_string(body, "resourceType");
    if (rt == NULL || strcmp(rt, "Parameters") != 0) {
        bad(ctx, "invalid", "Parameters", "the body must be a Parameters "
            "resource");
        return NULL;
    }
    arr = cr_json_get(body, "parameter");
    if (arr && !json_object_is_type(arr, json_type_array)) {
        bad(ctx, "structure", "Parameters.parameter",
            "Parameters.parameter must be an array");
        return NULL;
    }
    if (arr && json_object_array_length(arr) > MAX_PARAMETERS) {
        bad(ctx, "too-costly", "Parameters.parameter",
            "too many parameters");
        return NULL;
    }
    *ok = 1;
    return arr;
}

/* Parameter i of arr (an object with a string name): *p_out and its
 * location *expr_out; returns its name, or NULL after recording why it
 * has none. */
static const char *param_at(cr_ctx_t *ctx, json_object *arr, int i,
                            json_object **p_out, const char **expr_out)
{
    json_object *p = json_object_array_get_idx(arr, i);
    const char *expr = apr_psprintf(ctx->pool, "Parameters.parameter[%d]",
                                    i);
    const char *name;

    *p_out = p;
    *expr_out = expr;
    if (!json_object_is_type(p, json_type_object)) {
        bad(ctx, "structure", expr, "a parameter must be a JSON object");
        return NULL;
    }
    name = cr_json_get_string(p, "name");
    if (name == NULL) {
        bad(ctx, "required", apr_pstrcat(ctx->pool, expr, ".name", NULL),
            "every parameter needs a name");
    }
    return name;
}

/* valueInteger of p within [lo, hi], or -1 after recording the error. */
static int param_int(cr_ctx_t *ctx, json_object *p, const char *expr,
                     const char *name, int lo, int hi)
{
    json_object *v = cr_json_get(p, "valueInteger");
    int64_t n;

    if (v == NULL || !json_object_is_type(v, json_type_int)) {
        bad(ctx, "invalid", apr_pstrcat(ctx->pool, expr, ".valueInteger",
                                        NULL),
            apr_psprintf(ctx->pool, "%s must be a valueInteger", name));
        return -1;
    }
    n = json_object_get_int64(v);
    if (n < lo || n > 1000000000) {
        bad(ctx, "invalid", apr_pstrcat(ctx->pool, expr, ".valueInteger",
                                        NULL),
            apr_psprintf(ctx->pool, "%s must be at least %d", name, lo));
        return -1;
    }
    return n > hi ? hi : (int)n;
}

/* valueBoolean of p as 0 or 1, or 0 after recording the error. */
static int param_bool(cr_ctx_t *ctx, json_object *p, const char *expr,
                      const char *name)
{
    json_object *v = cr_json_get(p, "valueBoolean");

    if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
        bad(ctx, "invalid", apr_pstrcat(ctx->pool, expr, ".valueBoolean",
                                        NULL),
            apr_psprintf(ctx->pool, "%s must be a valueBoolean", name));
        return 0;
    }
    return json_object_get_boolean(v) ? 1 : 0;
}

static int default_count(const cr_ctx_t *ctx)
{
    int n = ctx->settings ? ctx->settings->search.default_count : 0;

    return n > 0 ? n : 20;
}

static int max_count(const cr_ctx_t *ctx)
{
    int n = ctx->settings ? ctx->settings->search.max_count : 0;

    return n > 0 ? n : 100;
}

/* ------------------------------------------------------------------ */
/* $match                                                              */
/* ------------------------------------------------------------------ */

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
    return json_object_new_double_s(v, s);
}

static void add_outcome_entry(cr_ctx_t *ctx, json_object *bundle)
{
    json_object *e = cr_fhir_bundle_add_entry(
        bundle, apr_pstrcat(ctx->pool, "urn:uuid:",
                            cr_service_uuid(ctx->pool), NULL),
        cr_outcome_to_json(ctx->pool, ctx->oc));
    json_object *sr = cr_json_set_new_object(e, "search");

    cr_json_set_string(sr, "mode", "outcome");
}

void cr_ops_match_run(cr_ctx_t *ctx, json_object *body)
{
    json_object *arr, *resource = NULL, *bundle;
    const char *resource_expr = NULL;
    apr_array_header_t *res = NULL;
    cr_patient_t *p = NULL;
    int ok, only_certain = 0, count = default_count(ctx), i, n, shown = 0;
    int evidence = 0;
    cr_ops_review_t review;
    cr_match_record_t q;
    apr_status_t rv;

    arr = parameters_of(ctx, body, &ok);
    n = arr ? (int)json_object_array_length(arr) : 0;
    for (i = 0; ok && i < n; i++) {
        json_object *prm;
        const char *expr;
        const char *name = param_at(ctx, arr, i, &prm, &expr);
        if (name == NULL) {
            continue;
        }
        if (strcmp(name, "resource") == 0) {
            json_object *r = cr_json_get(prm, "resource");
            if (resource) {
                bad(ctx, "invalid", expr, "resource may be given only once");
            }
            else if (r == NULL) {
                bad(ctx, "required", apr_pstrcat(ctx->pool, expr,
                                                 ".resource", NULL),
                    "the resource parameter must carry the Patient in "
                    "resource");
            }
            else {
                resource = r;
                resource_expr = apr_pstrcat(ctx->pool, expr, ".resource",
                                            NULL);
            }
        }
        else if (strcmp(name, "onlyCertainMatches") == 0) {
            json_object *v = cr_json_get(prm, "valueBoolean");
            if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
                bad(ctx, "invalid", apr_pstrcat(ctx->pool, expr,
                                                ".valueBoolean", NULL),
                    "onlyCertainMatches must be a valueBoolean");
            }
            else {
                only_certain = json_object_get_boolean(v) ? 1 : 0;
            }
        }
        else if (strcmp(name, "count") == 0) {
            int c = param_int(ctx, prm, expr, "count", 1, max_count(ctx));
            if (c > 0) {
                count = c;
            }
        }
        else if (strcmp(name, "evidence") == 0) {
            evidence = param_bool(ctx, prm, expr, name);
        }
        else {
            bad(ctx, "not-supported", apr_pstrcat(ctx->pool, expr, ".name",
                                                  NULL),
                apr_psprintf(ctx->pool, "$match takes resource, "
                             "onlyCertainMatches, count and evidence, not "
                             "'%.40s'", name));
        }
    }
    if (ok && resource == NULL && cr_outcome_errors(ctx->oc) == 0) {
        bad(ctx, "required", "Parameters.parameter",
            "the resource parameter (the Patient to match) is required");
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        ctx->resp.status = 400;
        return;
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, resource, resource_expr,
                              ctx->today, &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        ctx->resp.status = cr_service_status_for_errors(ctx->oc);
        return;
    }
    /* With onlyCertainMatches two results are enough to tell "one" from
     * "several". */
    rv = cr_ops_match_find(&res, ctx, p, only_certain ? 2 : count,
                           only_certain ? CR_MATCH_CERTAIN
                                        : CR_MATCH_POSSIBLE);
    if (rv == CR_OPS_MATCH_NOT_ENOUGH) {
        ctx->resp.status = 422;
        bad(ctx, "business-rule", resource_expr,
            "the Patient has too little to match on: besides a name it "
            "needs a birth date, a postal code, a phone or a PHN");
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "matching");
        return;
    }
    if (only_certain && res->nelts > 1) {
        cr_outcome_add(ctx->oc, CR_SEV_WARNING, "multiple-matches", NULL,
                       NULL, "%d records match with certainty; with "
                       "onlyCertainMatches none is returned", res->nelts);
        res->nelts = 0;
    }

    if (evidence && res->nelts > 0) {
        cr_match_thresholds_t t = thresholds(ctx);
        rv = cr_ops_review_init(&review, ctx, &t);
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "matching");
            return;
        }
        (void)cr_match_record_parse(&q, ctx->pool,
                                    cr_match_record_build(ctx->pool, p));
    }
    bundle = cr_fhir_bundle_new(ctx->pool, "searchset",
                                cr_service_uuid(ctx->pool),
                                ctx->now_instant);
    for (i = 0; i < res->nelts; i++) {
        const cr_match_result_t *r = &APR_ARRAY_IDX(res, i,
                                                    cr_match_result_t);
        cr_stored_t *s = NULL;
        json_object *json = NULL, *e, *sr, *ext, *x;

        rv = cr_store_patient_get(&s, ctx->db, ctx->pool, r->patient_id);
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "reading a match");
            return;
        }
        if (cr_json_parse(&json, ctx->pool, s->resource,
                          strlen(s->resource), NULL, NULL) != APR_SUCCESS) {
            continue;
        }
        e = cr_fhir_bundle_add_entry(
            bundle, apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                "/Patient/", s->id, NULL), json);
        sr = cr_json_set_new_object(e, "search");
        ext = cr_json_set_new_array(sr, "extension");
        x = cr_json_array_add_object(ext);
        cr_json_set_string(x, "url", MATCH_GRADE_EXT);
        cr_json_set_string(x, "valueCode", cr_match_grade_name(r->grade));
        cr_json_set_string(sr, "mode", "match");
        json_object_object_add(sr, "score", decimal(ctx->pool, r->score));
        if (evidence) {
            rv = cr_ops_review_evidence_ext(&review, sr, &q, s->id);
            if (rv != APR_SUCCESS) {
                cr_service_db_failure(ctx, rv, "explaining a match");
                return;
            }
        }
        shown++;
    }
    cr_json_set_int(bundle, "total", shown);
    if (ctx->oc->issues->nelts > 0) {
        add_outcome_entry(ctx, bundle);
    }
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}

/* ------------------------------------------------------------------ */
/* $potential-duplicates                                               */
/* ------------------------------------------------------------------ */

static int token_ok(const char *s, int max, int allow_upper)
{
    int n;

    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '.' || (allow_upper && c >= 'A' && c <= 'Z'))) {
            return 0;
        }
    }
    return n > 0 && n <= max;
}

static json_object *part(json_object *parts, const char *name)
{
    json_object *o = cr_json_array_add_object(parts);

    cr_json_set_string(o, "name", name);
    return o;
}

static void reference_part(cr_ctx_t *ctx, json_object *parts,
                           const char *name, const char *id)
{
    json_object *ref = cr_json_set_new_object(part(parts, name),
                                              "valueReference");

    cr_json_set_string(ref, "reference",
                       apr_pstrcat(ctx->pool, "Patient/", id, NULL));
}

/* The resolutions a reviewer may give, each the status it sets. */
static const char *const resolutions[] = {
    CR_STORE_MATCH_DUP_NOT_DUPLICATE, CR_STORE_MATCH_DUP_OPEN, NULL
};

static const char *resolution_of(const char *code)
{
    int i;

    for (i = 0; code && resolutions[i]; i++) {
        if (strcmp(resolutions[i], code) == 0) {
            return resolutions[i];
        }
    }
    return NULL;
}

/* One pair of the review list as a "duplicate" parameter of list;
 * returns its part array. */
static json_object *duplicate_param(cr_ctx_t *ctx, json_object *list,
                                    const cr_store_match_dup_t *d)
{
    json_object *dp = cr_json_array_add_object(list);
    json_object *parts;

    cr_json_set_string(dp, "name", "duplicate");
    parts = cr_json_set_new_array(dp, "part");
    reference_part(ctx, parts, "patient", d->patient_lo);
    reference_part(ctx, parts, "other", d->patient_hi);
    json_object_object_add(part(parts, "score"), "valueDecimal",
                           decimal(ctx->pool, d->score));
    json_object_object_add(part(parts, "weight"), "valueDecimal",
                           decimal(ctx->pool, d->weight));
    cr_json_set_string(part(parts, "grade"), "valueCode", d->grade);
    cr_json_set_string(part(parts, "found"), "valueInstant", d->found);
    cr_json_set_string(part(parts, "foundBy"), "valueCode", d->found_by);
    if (d->message_id) {
        cr_json_set_string(part(parts, "messageId"), "valueString",
                           d->message_id);
    }
    cr_json_set_string(part(parts, "status"), "valueCode", d->status);
    return parts;
}

/* The patient id of parameter p (valueString "<id>" or valueReference
 * "Patient/<id>"), or NULL. */
static const char *patient_id_of(json_object *p)
{
    const char *v = cr_json_get_string(p, "valueString");
    json_object *ref = cr_json_get_object(p, "valueReference");

    if (v == NULL && ref) {
        v = cr_json_get_string(ref, "reference");
        if (v && strncmp(v, "Patient/", 8) == 0) {
            v += 8;
        }
    }
    return v && token_ok(v, 64, 1) ? v : NULL;
}

void cr_ops_match_duplicates(cr_ctx_t *ctx, json_object *body)
{
    json_object *arr, *out, *list;
    const char *patient = NULL, *other = NULL, *other_expr = NULL;
    const char *status = CR_STORE_MATCH_DUP_OPEN, *grade = NULL;
    const char *sort = NULL;
    apr_array_header_t *dups = NULL;
    int ok, count = default_count(ctx), offset = 0, i, n;
    int evidence = 0, history = 0, status_given = 0;
    cr_ops_review_t review;
    apr_status_t rv;

    arr = parameters_of(ctx, body, &ok);
    n = arr ? (int)json_object_array_length(arr) : 0;
    for (i = 0; ok && i < n; i++) {
        json_object *prm;
        const char *expr;
        const char *name = param_at(ctx, arr, i, &prm, &expr);
        if (name == NULL) {
            continue;
        }
        if (strcmp(name, "patient") == 0 || strcmp(name, "other") == 0) {
            const char *v = patient_id_of(prm);
            if (v == NULL) {
                bad(ctx, "invalid", expr, apr_psprintf(
                    ctx->pool, "%s must be a Patient id (valueString) or "
                    "a reference Patient/<id> (valueReference)", name));
            }
            else if (name[0] == 'p') {
                patient = v;
            }
            else {
                other = v;
                other_expr = expr;
            }
        }
        else if (strcmp(name, "status") == 0) {
            const char *v = cr_json_get_string(prm, "valueCode");
            const char *vexpr = apr_pstrcat(ctx->pool, expr, ".valueCode",
                                            NULL);
            if (v == NULL || !token_ok(v, 32, 0)) {
                bad(ctx, "invalid", vexpr,
                    "status must be a valueCode such as open");
            }
            else if (strcmp(v, CR_STORE_MATCH_DUP_MERGED) != 0
                     && resolution_of(v) == NULL) {
                bad(ctx, "code-invalid", vexpr, apr_psprintf(
                    ctx->pool, "unknown status '%.32s': use open, "
                    "not-duplicate or merged", v));
            }
            else {
                status = v;
                status_given = 1;
            }
        }
        else if (strcmp(name, "count") == 0) {
            int c = param_int(ctx, prm, expr, "count", 1, max_count(ctx));
            if (c > 0) {
                count = c;
            }
        }
        else if (strcmp(name, "offset") == 0) {
            int o = param_int(ctx, prm, expr, "offset", 0, 1000000);
            if (o >= 0) {
                offset = o;
            }
        }
        else if (strcmp(name, "evidence") == 0) {
            evidence = param_bool(ctx, prm, expr, name);
        }
        else if (strcmp(name, "history") == 0) {
            history = param_bool(ctx, prm, expr, name);
        }
        else if (strcmp(name, "grade") == 0 || strcmp(name, "sort") == 0) {
            static const char *const grades[] = { "certain", "probable",
                                                  "possible", NULL };
            static const char *const sorts[] = { "-found", "-score",
                                                 "score", NULL };
            const char *const *allowed = name[0] == 'g' ? grades : sorts;
            const char *v = cr_json_get_string(prm, "valueCode");
            int k;
            for (k = 0; v && allowed[k] && strcmp(allowed[k], v) != 0; k++) {
            }
            if (v == NULL || allowed[k] == NULL) {
                bad(ctx, v ? "code-invalid" : "invalid",
                    apr_pstrcat(ctx->pool, expr, ".valueCode", NULL),
                    name[0] == 'g'
                    ? "grade must be a valueCode: certain, probable or "
                      "possible"
                    : "sort must be a valueCode: -found (newest finding "
                      "first), -score (highest first) or score");
            }
            else if (name[0] == 'g') {
                grade = allowed[k];
            }
            else {
                sort = allowed[k];
            }
        }
        else {
            bad(ctx, "not-supported", apr_pstrcat(ctx->pool, expr, ".name",
                                                  NULL),
                apr_psprintf(ctx->pool, "$potential-duplicates takes "
                             "patient, other, status, grade, sort, count, "
                             "offset, evidence and history, not '%.40s'",
                             name));
        }
    }
    if (ok && other && patient == NULL) {
        bad(ctx, "required", other_expr, "other needs patient: together "
            "they name one pair");
    }
    else if (ok && other && strcmp(other, patient) == 0) {
        bad(ctx, "invalid", other_expr, "patient and other name the same "
            "Patient: a record is not its own duplicate");
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        ctx->resp.status = 400;
        return;
    }
    if (other) {
        /* One pair, whatever its status (unless a status was asked). */
        cr_store_match_dup_t *d = NULL;
        dups = apr_array_make(ctx->pool, 1, sizeof(cr_store_match_dup_t));
        rv = cr_store_match_duplicate_get(&d, ctx->db, ctx->pool, patient,
                                          other);
        if (rv == APR_SUCCESS && offset == 0
            && (!status_given || strcmp(d->status, status) == 0)
            && (grade == NULL || strcmp(d->grade, grade) == 0)) {
            *(cr_store_match_dup_t *)apr_array_push(dups) = *d;
        }
        if (rv == APR_NOTFOUND) {
            rv = APR_SUCCESS;
        }
    }
    else {
        rv = cr_store_match_duplicate_list_by(&dups, ctx->db, ctx->pool,
                                              status, grade, patient, sort,
                                              count, offset);
    }
    if (rv == APR_SUCCESS && evidence && dups->nelts > 0) {
        cr_match_thresholds_t t = thresholds(ctx);
        rv = cr_ops_review_init(&review, ctx, &t);
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "listing potential duplicates");
        return;
    }
    out = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(out, "resourceType", "Parameters");
    /* FHIR JSON has no empty arrays: no pairs, no parameter element. */
    list = dups->nelts > 0 ? cr_json_set_new_array(out, "parameter") : NULL;
    for (i = 0; i < dups->nelts; i++) {
        const cr_store_match_dup_t *d = &APR_ARRAY_IDX(dups, i,
                                                       cr_store_match_dup_t);
        json_object *parts = duplicate_param(ctx, list, d);
        if (evidence) {
            rv = cr_ops_review_evidence_part(&review, parts, d->patient_lo,
                                             d->patient_hi);
        }
        if (rv == APR_SUCCESS && history) {
            rv = cr_ops_review_history_parts(ctx, parts, d->patient_lo,
                                             d->patient_hi);
        }
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "explaining potential duplicates");
            return;
        }
    }
    ctx->resp.status = 200;
    ctx->resp.body = out;
}

/* ------------------------------------------------------------------ */
/* $resolve-duplicate                                                  */
/* ------------------------------------------------------------------ */

void cr_ops_match_resolve_duplicate(cr_ctx_t *ctx, json_object *body)
{
    json_object *arr, *out;
    const char *ids[2] = { NULL, NULL }, *resolution = NULL;
    const char *id_expr[2] = { NULL, NULL }, *comment = NULL;
    int seen_comment = 0;
    static const char *const id_names[2] = { "patient", "other" };
    cr_store_match_dup_t *d = NULL;
    int ok, i, n, k, seen_resolution = 0;
    apr_status_t rv;

    arr = parameters_of(ctx, body, &ok);
    n = arr ? (int)json_object_array_length(arr) : 0;
    for (i = 0; ok && i < n; i++) {
        json_object *prm;
        const char *expr;
        const char *name = param_at(ctx, arr, i, &prm, &expr);
        if (name == NULL) {
            continue;
        }
        k = strcmp(name, "patient") == 0 ? 0
            : strcmp(name, "other") == 0 ? 1 : -1;
        if (k >= 0) {
            const char *v = patient_id_of(prm);
            if (id_expr[k]) {
                bad(ctx, "invalid", expr, apr_psprintf(
                    ctx->pool, "%s may be given only once", name));
            }
            else if (v == NULL) {
                bad(ctx, "invalid", expr, apr_psprintf(
                    ctx->pool, "%s must be a Patient id (valueString) or "
                    "a reference Patient/<id> (valueReference)", name));
            }
            else {
                ids[k] = v;
            }
            id_expr[k] = expr;
        }
        else if (strcmp(name, "resolution") == 0) {
            const char *v = cr_json_get_string(prm, "valueCode");
            const char *vexpr = apr_pstrcat(ctx->pool, expr, ".valueCode",
                                            NULL);
            if (seen_resolution++) {
                bad(ctx, "invalid", expr,
                    "resolution may be given only once");
            }
            else if (v == NULL) {
                bad(ctx, "invalid", vexpr, "resolution must be a "
                    "valueCode: not-duplicate or open");
            }
            else if ((resolution = resolution_of(v)) == NULL) {
                bad(ctx, "code-invalid", vexpr, apr_psprintf(
                    ctx->pool, "unknown resolution '%.40s': use "
                    "not-duplicate (dismiss the pair) or open (reopen it)",
                    v));
            }
        }
        else if (strcmp(name, "comment") == 0) {
            const char *v = cr_json_get_string(prm, "valueString");
            const char *vexpr = apr_pstrcat(ctx->pool, expr, ".valueString",
                                            NULL);
            if (seen_comment++) {
                bad(ctx, "invalid", expr, "comment may be given only once");
            }
            else if (v == NULL || v[0] == '\0') {
                bad(ctx, "invalid", vexpr, "comment must be a non-empty "
                    "valueString");
            }
            else if (strlen(v) > CR_OPS_REVIEW_MAX_COMMENT) {
                bad(ctx, "too-long", vexpr, apr_psprintf(
                    ctx->pool, "comment is longer than %d bytes",
                    CR_OPS_REVIEW_MAX_COMMENT));
            }
            else {
                comment = v;
            }
        }
        else {
            bad(ctx, "not-supported", apr_pstrcat(ctx->pool, expr, ".name",
                                                  NULL),
                apr_psprintf(ctx->pool, "$resolve-duplicate takes patient, "
                             "other, resolution and comment, not '%.40s'",
                             name));
        }
    }
    if (ok && cr_outcome_errors(ctx->oc) == 0) {
        for (k = 0; k < 2; k++) {
            if (id_expr[k] == NULL) {
                bad(ctx, "required", "Parameters.parameter", apr_psprintf(
                    ctx->pool, "the %s parameter (a Patient of the pair) "
                    "is required", id_names[k]));
            }
        }
        if (!seen_resolution && !seen_comment) {
            bad(ctx, "required", "Parameters.parameter",
                "the resolution parameter (not-duplicate or open) is "
                "required");
        }
        if (ids[0] && ids[1] && strcmp(ids[0], ids[1]) == 0) {
            bad(ctx, "invalid", id_expr[1], "patient and other name the "
                "same Patient: a record is not its own duplicate");
        }
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        ctx->resp.status = 400;
        return;
    }

    /* One transaction: the decision and its audit record commit
     * together, or neither does. */
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv == APR_SUCCESS) {
        rv = cr_store_match_duplicate_get(&d, ctx->db, ctx->pool, ids[0],
                                          ids[1]);
    }
    if (rv == APR_NOTFOUND) {
        cr_db_rollback(ctx->db);
        ctx->resp.status = 404;
        bad(ctx, "not-found", "Parameters.parameter", apr_psprintf(
            ctx->pool, "Patient/%s and Patient/%s are not a pair of the "
            "review list", ids[0], ids[1]));
        return;
    }
    if (rv == APR_SUCCESS
        && strcmp(d->status, CR_STORE_MATCH_DUP_MERGED) == 0
        && resolution != NULL) {
        /* The records are one person now; only an unmerge reopens it. */
        cr_db_rollback(ctx->db);
        ctx->resp.status = 409;
        bad(ctx, "conflict", "Parameters.parameter", apr_psprintf(
            ctx->pool, "Patient/%s and Patient/%s were merged; only "
            "UnmergePatient reopens the pair", d->patient_lo,
            d->patient_hi));
        return;
    }
    /* A comment without a resolution is a note on the pair, in any
     * status (a merge's reason, say): the status stays. */
    if (rv == APR_SUCCESS && resolution != NULL) {
        rv = cr_store_match_duplicate_set_status(NULL, ctx->db, ctx->pool,
                                                 d->patient_lo,
                                                 d->patient_hi, resolution,
                                                 NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_ops_review_note(ctx, d->patient_lo, d->patient_hi,
                                resolution ? resolution
                                           : CR_STORE_REVIEW_NOTE,
                                resolution ? resolution : d->status,
                                comment);
    }
    if (rv == APR_SUCCESS) {
        d->status = resolution ? resolution : d->status;
        ctx->resp.patients = apr_pstrcat(ctx->pool, d->patient_lo, " ",
                                         d->patient_hi, NULL);
        rv = cr_audit_in_txn(ctx, "resolve-duplicate", "U", 200,
                             ctx->resp.patients);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        ctx->resp.patients = NULL;
        cr_service_db_failure(ctx, rv, "resolving a potential duplicate");
        return;
    }
    ctx->resp.audited = 1;
    out = cr_json_own(ctx->pool, json_object_new_object());
    cr_json_set_string(out, "resourceType", "Parameters");
    /* The answer shows the pair with its history, the new decision first
     * (read after the commit; a failure to read it loses nothing). */
    (void)cr_ops_review_history_parts(
        ctx, duplicate_param(ctx, cr_json_set_new_array(out, "parameter"),
                             d), d->patient_lo, d->patient_hi);
    ctx->resp.status = 200;
    ctx->resp.body = out;
}
