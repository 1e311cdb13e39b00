/* cr_op_demographics: $GetDemographics, $GetDemographics.History,
 * $HistoryPatient and the BC RESTful read (operations.md 2, 8 and 9.6;
 * declared in cr_ops_query.h), and the look-up and rendering of a stored
 * client the other query files share (cr_op_demographics.h).
 *
 * Every path ends in cr_bcop_finish(): one SearchResponseBundle with the
 * MetadataParametersOut, the OperationOutcome and the results, sent with
 * its HTTP status also when that is an error (CR-GEN-009).  Nothing here
 * opens a transaction or writes: the reads run on the request's
 * connection without one.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_phn.h"
#include "fhir/cr_fhir_rules.h"
#include "fhir/cr_fhir_view.h"
#include "ops/cr_bcop.h"
#include "core/cr_text.h"
#include "ops/cr_op_demographics.h"
#include "ops/cr_ops_query.h"
#include "store/cr_store_query.h"

/* Versions read to build history (the newest ones) and merge hops
 * followed (identifier rows: CR_BCOP_MAX_IDENTIFIER_ROWS). */
#define MAX_VERSIONS 100
#define MAX_MERGE_HOPS 8

/* ---- loading and rendering ------------------------------------------- */

/* The row of id, following merges (replaced_by) to the survivor; *merged
 * is set when a hop was taken. */
apr_status_t cr_op_demographics_survivor(cr_query_row_t **out, int *merged,
                                         cr_ctx_t *ctx, const char *id)
{
    apr_status_t rv;
    int hops;

    for (hops = 0; hops < MAX_MERGE_HOPS; hops++) {
        rv = cr_store_query_get(out, ctx->db, ctx->pool, id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if ((*out)->s.replaced_by == NULL || *(*out)->s.replaced_by == 0) {
            return APR_SUCCESS;
        }
        *merged = 1;
        id = (*out)->s.replaced_by;
    }
    return APR_EGENERAL;   /* a merge cycle: corrupt data */
}

apr_status_t cr_op_demographics_render(json_object **out, cr_bcop_t *q,
                                       const cr_query_row_t *row)
{
    cr_ctx_t *ctx = q->ctx;
    cr_view_input_t in;
    cr_view_options_t opt;
    apr_array_header_t *versions = NULL, *ids = NULL;
    int truncated = 0;
    apr_status_t rv;

    *out = NULL;
    memset(&in, 0, sizeof(in));
    rv = cr_store_query_versions(&versions, &truncated, ctx->db, ctx->pool,
                                 row->s.id, MAX_VERSIONS);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_query_identifiers(&ids, ctx->db, ctx->pool, row->s.id,
                                    CR_BCOP_MAX_IDENTIFIER_ROWS);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (versions->nelts > 0
        && APR_ARRAY_IDX(versions, versions->nelts - 1,
                         cr_view_version_t).version == row->s.version) {
        /* The newest version is the current row: parse it once. */
        in.current = APR_ARRAY_IDX(versions, versions->nelts - 1,
                                   cr_view_version_t).resource;
    }
    else if (cr_json_parse(&in.current, ctx->pool, row->s.resource,
                           strlen(row->s.resource), NULL, NULL)
             != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    in.id = row->s.id;
    in.last_updated = row->s.last_updated;
    in.versions = versions;
    in.identifiers = ids;
    in.masked = row->masked;
    in.full = 1;   /* the output policy masks (ops/cr_privacy) */
    opt.history = q->history;
    opt.identifiers_only = q->identifiers_only;
    opt.now = ctx->now;
    *out = cr_fhir_view_patient(ctx->pool, &in, &opt);
    return APR_SUCCESS;
}

/* ---- GetDemographics ---------------------------------------------------- */

void cr_op_demographics_run(cr_bcop_t *q,
                            const cr_op_demographics_key_t *lk)
{
    cr_ctx_t *ctx = q->ctx;
    cr_query_row_t *row = NULL;
    const char *pid = NULL, *status = NULL, *system = lk->system;
    json_object *res = NULL;
    int merged = 0;
    apr_status_t rv;

    if (system) {
        if (!cr_fhir_rules_gd_key(ctx->oc, q->txn, &system, lk->value,
                                  lk->expr)) {
            cr_bcop_finish(q, 422);
            return;
        }
        rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                       system, lk->value);
    }
    else if (cr_phn_looks_like(lk->id)) {
        /* DECISION-02: an id of ten digits is a PHN. */
        system = CR_SYS_PHN;
        if (!cr_fhir_rules_gd_key(ctx->oc, q->txn, &system, lk->id,
                                  lk->expr)) {
            cr_bcop_finish(q, 422);
            return;
        }
        rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                       system, lk->id);
    }
    else {
        pid = lk->id;
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        rv = cr_op_demographics_survivor(&row, &merged, ctx, pid);
    }
    if (rv == APR_NOTFOUND) {
        if (q->rest && lk->id) {
            /* CR-REST-007 */
            cr_bc_add(ctx->oc, q->txn, CR_BC_GD_NOT_FOUND, NULL,
                      "no Patient with id '%.64s'", lk->id);
            cr_bcop_finish(q, 404);
            return;
        }
        /* CR-GD-008, D-07: a valid query that found nobody. */
        cr_bc_add(ctx->oc, q->txn, CR_BC_GD_NO_RESULTS, NULL, NULL);
        cr_bcop_finish(q, 200);
        return;
    }
    if (rv == APR_SUCCESS) {
        rv = cr_op_demographics_render(&res, q, row);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(q, rv, "reading a patient");
        return;
    }
    if (merged || (status && strcmp(status, "merged") == 0)) {
        /* CR-GD-021 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_GD_MERGED, lk->expr, NULL);
    }
    cr_bc_add(ctx->oc, q->txn, CR_BC_GD_OK, NULL, NULL);
    cr_bcop_add_result(q, cr_bcop_patient_url(ctx, row->s.id), res, "match",
                       0, 0);
    cr_bcop_note_patient(q, row->s.id);
    cr_bcop_finish(q, 200);
}

static void get_demographics(cr_ctx_t *ctx, json_object *body,
                             int force_history, const char *op)
{
    static const cr_envelope_rules_t rules = {     /* CR-BND-002, D-17 */
        .txn = CR_BC_TXN_GD, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    const cr_envelope_in_t *in;
    const cr_envelope_entry_t *e;
    json_object *ids, *idv;
    cr_op_demographics_key_t lk;
    cr_bcop_t q;

    cr_bcop_init_search(&q, ctx, CR_BC_TXN_GD, op);
    if (!cr_bcop_open_search(&q, body, &rules)) {
        return;
    }
    in = q.in;
    if (force_history) {
        q.history = 1;
    }
    e = &APR_ARRAY_IDX(in->patients, 0, cr_envelope_entry_t);
    memset(&lk, 0, sizeof(lk));
    idv = cr_json_get(e->resource, "id");
    ids = cr_json_get(e->resource, "identifier");
    if (idv && ids) {
        /* CR-GD-005: both -> rejected (profile text, G5). */
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_BOTH, e->expr, NULL);
        cr_bcop_finish(&q, 400);
        return;
    }
    if (idv == NULL && ids == NULL) {
        /* CR-GD-006 */
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NEITHER, e->expr, NULL);
        cr_bcop_finish(&q, 400);
        return;
    }
    if (idv) {
        if (!json_object_is_type(idv, json_type_string)
            || !cr_text_id_ok(json_object_get_string(idv))) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID,
                      apr_pstrcat(ctx->pool, e->expr, ".id", NULL),
                      "an id is 1 to 64 letters, digits, '-' or '.'");
            cr_bcop_finish(&q, 400);
            return;
        }
        lk.id = json_object_get_string(idv);
        lk.expr = apr_pstrcat(ctx->pool, e->expr, ".id", NULL);
    }
    else {
        json_object *id0;
        if (!json_object_is_type(ids, json_type_array)
            || json_object_array_length(ids) != 1) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_ONE_IDENTIFIER,
                      apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                      NULL);
            cr_bcop_finish(&q, 400);
            return;
        }
        id0 = json_object_array_get_idx(ids, 0);
        lk.expr = apr_pstrcat(ctx->pool, e->expr, ".identifier[0]", NULL);
        lk.system = cr_json_get_string(id0, "system");
        lk.value = cr_json_get_string(id0, "value");
        if (lk.system == NULL || lk.value == NULL || *lk.system == '\0'
            || *lk.value == '\0' || strlen(lk.value) > 256) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NO_VALUE, lk.expr, NULL);
            cr_bcop_finish(&q, 400);
            return;
        }
    }
    cr_op_demographics_run(&q, &lk);
}

void cr_ops_query_get_demographics(cr_ctx_t *ctx, json_object *body)
{
    get_demographics(ctx, body, 0, "GetDemographics");
}

void cr_ops_query_get_demographics_history(cr_ctx_t *ctx, json_object *body)
{
    get_demographics(ctx, body, 1, "GetDemographics.History");
}

void cr_ops_query_history_patient(cr_ctx_t *ctx, const char *id)
{
    cr_op_demographics_key_t lk;
    cr_bcop_t q;

    cr_bcop_init_search(&q, ctx, CR_BC_TXN_GD, NULL);
    q.link_canonical = apr_pstrcat(ctx->pool, cr_bcop_patient_url(ctx, id),
                                   "/$HistoryPatient", NULL);
    q.rest = 1;
    q.history = 1;
    q.meta.history = 1;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    cr_op_demographics_run(&q, &lk);
}

void cr_ops_query_rest_read(cr_ctx_t *ctx, const char *id, int history,
                            int identifiers_only)
{
    cr_op_demographics_key_t lk;
    cr_bcop_t q;

    cr_bcop_init_search(&q, ctx, CR_BC_TXN_GD, NULL);
    q.link_self = apr_pstrcat(ctx->pool, cr_bcop_patient_url(ctx, id),
                              history ? "/_history"
                              : identifiers_only ? "/_identifiersOnly" : "",
                              NULL);
    q.rest = 1;
    q.history = history;
    q.identifiers_only = identifiers_only;
    q.meta.history = history ? 1 : -1;
    q.meta.identifiers_only = identifiers_only ? 1 : -1;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    cr_op_demographics_run(&q, &lk);
}

