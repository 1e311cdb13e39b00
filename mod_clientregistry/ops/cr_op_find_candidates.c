/* cr_op_find_candidates: $FindCandidates (operations.md 1; declared in
 * cr_ops_query.h): the search on a query Patient, ranked by the matching
 * engine (cr_ops_match_find) with the raw score of DECISION-13, and the
 * mother's-PHN search for newborns (D-14).  The RESTful search
 * (cr_op_bc_rest.c) runs the same candidate search.
 *
 * Every path ends in cr_bcop_finish(): one SearchResponseBundle, sent with
 * its HTTP status also on errors (CR-GEN-009).  Nothing here writes.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_phn.h"
#include "fhir/cr_fhir_rules.h"
#include "match/cr_index.h"
#include "ops/cr_bcop.h"
#include "ops/cr_op_demographics.h"
#include "ops/cr_op_find_candidates.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_query.h"
#include "store/cr_store_query.h"

/* Babies returned for one mother. */
#define MAX_CHILDREN 50

/* ---- the raw score (D-13) ----------------------------------------------- */

int cr_ops_query_score(double weight)
{
    double points = weight * 10.0;

    if (!(points > 0.0)) {
        return 0;   /* also NaN */
    }
    if (points >= CR_QUERY_SCORE_IDENTIFIER - 1) {
        return CR_QUERY_SCORE_IDENTIFIER - 1;
    }
    return (int)(points + 0.5);
}

/* ---- FindCandidates ----------------------------------------------------- */

/* Rank and render; count/offset page the ranked list (RESTful form). */
void cr_op_find_candidates_run(cr_bcop_t *q, json_object *json,
                               const char *root, int count, int offset,
                               const char *page_url)
{
    cr_ctx_t *ctx = q->ctx;
    cr_patient_t *p = NULL;
    apr_array_header_t *cands = NULL;
    apr_status_t rv;
    int i, max = ctx->settings->search.max_count;

    if (cr_fhir_rules_fc_wildcards(ctx->oc, q->txn, json, root) > 0) {
        cr_bcop_finish(q, 422);
        return;
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, json, root, ctx->today,
                              &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        cr_bcop_finish_errors(q);
        return;
    }
    if (!cr_fhir_rules_fc_criteria(ctx->oc, q->txn, p, root)) {
        cr_bcop_finish(q, 422);
        return;
    }
    /* The matching engine ranks; every grade from possible up is a
     * candidate (operations.md: all candidates above the threshold). */
    rv = cr_ops_match_find(&cands, ctx, p, max > 0 ? max : 50,
                           CR_MATCH_POSSIBLE);
    if (rv == CR_OPS_MATCH_NOT_ENOUGH) {
        /* Valid criteria that give the engine nothing to look up (an
         * address line without a house number or street word). */
        cands = apr_array_make(ctx->pool, 1, sizeof(cr_match_result_t));
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(q, rv, "finding candidates");
        return;
    }
    if (count < 0) {
        count = cands->nelts;
    }
    if (page_url) {
        /* FHIR paging of the RESTful form: total counts the candidates
         * the engine returned (at most ClientRegistryMaxPageSize). */
        q->total = cands->nelts;
        if (offset + count < cands->nelts) {
            q->link_next = apr_psprintf(ctx->pool, "%s_count=%d&_offset=%d",
                                        page_url, count, offset + count);
        }
        if (offset > 0) {
            q->link_previous = apr_psprintf(
                ctx->pool, "%s_count=%d&_offset=%d", page_url, count,
                offset - count > 0 ? offset - count : 0);
        }
    }
    for (i = offset; i < cands->nelts && i < offset + count; i++) {
        const cr_match_result_t *c = &APR_ARRAY_IDX(cands, i,
                                                    cr_match_result_t);
        cr_query_row_t *row = NULL;
        json_object *res = NULL;
        rv = cr_store_query_get(&row, ctx->db, ctx->pool, c->patient_id);
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv == APR_SUCCESS) {
            rv = cr_op_demographics_render(&res, q, row);
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(q, rv, "reading a candidate");
            return;
        }
        /* CR-FC-004, CR-FC-005: mode match, raw score (D-13), best
         * first.  The grade is not shown: the BC response carries the
         * score alone, as the IG's examples do. */
        cr_bcop_add_result(q, cr_bcop_patient_url(ctx, c->patient_id), res,
                           "match", 1, cr_ops_query_score(c->weight));
        cr_bcop_note_patient(q, c->patient_id);
    }
    cr_bc_add(ctx->oc, q->txn, cands->nelts > 0 ? CR_BC_FC_OK
                                                : CR_BC_FC_NO_RESULTS,
              NULL, NULL);
    cr_bcop_finish(q, 200);
}

/* The RelatedPerson of a newborn's mother in a mother's-PHN response
 * (D-14: with the mother's PHN and a resolvable patient reference). */
static json_object *related_person(apr_pool_t *pool, const char *phn,
                                   const char *child_url)
{
    json_object *rp = cr_json_own(pool, json_object_new_object());
    json_object *arr, *id, *ext, *o, *coding;

    cr_json_set_string(rp, "resourceType", "RelatedPerson");
    arr = cr_json_set_new_array(rp, "identifier");
    id = cr_json_array_add_object(arr);
    ext = cr_json_set_new_array(id, "extension");
    o = cr_json_array_add_object(ext);
    cr_json_set_string(o, "url", CR_EXT_IDENTIFIER_STATUS);
    cr_json_set_string(o, "valueCode", "active");
    cr_json_set_string(id, "use", "official");
    cr_json_set_string(id, "system", CR_SYS_PHN);
    cr_json_set_string(id, "value", phn);
    o = cr_json_set_new_object(rp, "patient");
    cr_json_set_string(o, "reference", child_url);
    arr = cr_json_set_new_array(rp, "relationship");
    o = cr_json_array_add_object(arr);
    coding = cr_json_set_new_array(o, "coding");
    o = cr_json_array_add_object(coding);
    cr_json_set_string(o, "system", CR_SYS_ROLE_CODE);
    cr_json_set_string(o, "code", "NMTH");
    return rp;
}

static void fc_mother(cr_bcop_t *q, const cr_envelope_entry_t *e)
{
    cr_ctx_t *ctx = q->ctx;
    json_object *ids = cr_json_get(e->resource, "identifier");
    json_object *mres = NULL, *links;
    const char *phn = NULL, *pid = NULL, *status = NULL, *mphn;
    cr_query_row_t *mother = NULL;
    apr_array_header_t *kids, *rps;
    apr_hash_t *seen = apr_hash_make(ctx->pool);
    cr_phn_result_e pr;
    apr_status_t rv;
    int merged = 0, i;
    size_t k, n;

    n = ids && json_object_is_type(ids, json_type_array)
        ? json_object_array_length(ids) : 0;
    for (k = 0; k < n && k < 20; k++) {
        json_object *id = json_object_array_get_idx(ids, k);
        const char *sys = cr_json_get_string(id, "system");
        if (sys && strcmp(sys, CR_SYS_PHN) == 0) {
            phn = phn ? "" : cr_json_get_string(id, "value");
        }
    }
    if (phn == NULL || *phn == '\0') {
        /* CR-FC-029 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_SHAPE,
                  apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                  "one identifier with the PHN system");
    }
    if (!cr_fhir_rules_is_mother(e->resource)) {
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_SHAPE,
                  apr_pstrcat(ctx->pool, e->expr, ".relationship", NULL),
                  "relationship v3-RoleCode#NMTH");
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        cr_bcop_finish(q, 422);
        return;
    }
    if ((pr = cr_phn_validate(phn)) != CR_PHN_OK) {
        /* CR-FC-027 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_PHN,
                  apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                  "%s", cr_phn_result_text(pr));
        cr_bcop_finish(q, 422);
        return;
    }
    rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                   CR_SYS_PHN, phn);
    if (rv == APR_SUCCESS) {
        rv = cr_op_demographics_survivor(&mother, &merged, ctx, pid);
    }
    if (rv == APR_NOTFOUND) {
        /* CR-FC-028 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_NO_RESULTS, NULL, NULL);
        cr_bcop_finish(q, 200);
        return;
    }
    kids = apr_array_make(ctx->pool, 4, sizeof(char *));
    if (rv == APR_SUCCESS) {
        rv = cr_store_query_by_key(kids, seen, ctx->db, ctx->pool,
                                   CR_IDX_MOTHER_PHN, phn, MAX_CHILDREN);
    }
    mphn = mother ? mother->s.phn : NULL;
    if (rv == APR_SUCCESS && mphn && strcmp(mphn, phn) != 0) {
        rv = cr_store_query_by_key(kids, seen, ctx->db, ctx->pool,
                                   CR_IDX_MOTHER_PHN, mphn, MAX_CHILDREN);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_op_demographics_render(&mres, q, mother);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(q, rv, "finding a mother's newborns");
        return;
    }
    rps = apr_array_make(ctx->pool, 4, sizeof(cr_envelope_result_t));
    for (i = 0; i < kids->nelts && i < MAX_CHILDREN; i++) {
        cr_query_row_t *kid = NULL;
        json_object *kres = NULL;
        const char *kurl, *rpurl;
        cr_envelope_result_t *r;
        int km = 0;
        rv = cr_op_demographics_survivor(&kid, &km, ctx, APR_ARRAY_IDX(kids, i,
                                                         const char *));
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv == APR_SUCCESS) {
            rv = cr_op_demographics_render(&kres, q, kid);
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(q, rv, "reading a newborn");
            return;
        }
        kurl = cr_bcop_patient_url(ctx, kid->s.id);
        rpurl = cr_fhir_envelope_urn(ctx->pool);
        cr_bcop_add_result(q, kurl, kres, "match", 1,
                           CR_QUERY_SCORE_IDENTIFIER);
        cr_bcop_note_patient(q, kid->s.id);
        /* CR-FC-024, CR-FC-025 */
        r = apr_array_push(rps);
        memset(r, 0, sizeof(*r));
        r->full_url = rpurl;
        r->resource = related_person(ctx->pool, mphn ? mphn : phn, kurl);
        r->mode = "include";
        /* CR-FC-026: the mother links to each RelatedPerson. */
        links = cr_json_get_array(mres, "link");
        if (links == NULL) {
            links = cr_json_set_new_array(mres, "link");
        }
        {
            json_object *l = cr_json_array_add_object(links);
            json_object *o = cr_json_set_new_object(l, "other");
            cr_json_set_string(o, "reference", rpurl);
            cr_json_set_string(l, "type", "seealso");
        }
    }
    /* CR-FC-023: the mother and her newborns. */
    cr_bcop_add_result(q, cr_bcop_patient_url(ctx, mother->s.id), mres,
                       "match", 1, CR_QUERY_SCORE_IDENTIFIER);
    cr_bcop_note_patient(q, mother->s.id);
    for (i = 0; i < rps->nelts; i++) {
        *(cr_envelope_result_t *)apr_array_push(q->results) =
            APR_ARRAY_IDX(rps, i, cr_envelope_result_t);
    }
    cr_bc_add(ctx->oc, q->txn, CR_BC_FC_OK, NULL, NULL);
    cr_bcop_finish(q, 200);
}

void cr_ops_query_find_candidates(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {     /* CR-BND-001 */
        .txn = CR_BC_TXN_FC, .min_entries = 2, .max_entries = 3,
        .min_patients = 0, .max_patients = 1,
        .min_related = 0, .max_related = 1
    };
    const cr_envelope_in_t *in;
    cr_bcop_t q;

    cr_bcop_init_search(&q, ctx, CR_BC_TXN_FC, "FindCandidates");
    if (!cr_bcop_open_search(&q, body, &rules)) {
        return;
    }
    in = q.in;
    if (in->patients->nelts + in->related->nelts != 1) {
        /* invariant-fc-1: CR-FC-008, CR-FC-009, CR-INV-001 */
        cr_bc_add(ctx->oc, q.txn, CR_BC_FC_EXACTLY_ONE, "Bundle.entry",
                  NULL);
        cr_bcop_finish(&q, 400);
        return;
    }
    if (in->history == 1) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID, NULL,
                  "history applies to GetDemographics only");
        cr_bcop_finish(&q, 400);
        return;
    }
    if (in->related->nelts == 1) {
        fc_mother(&q, &APR_ARRAY_IDX(in->related, 0, cr_envelope_entry_t));
        return;
    }
    cr_op_find_candidates_run(&q, APR_ARRAY_IDX(in->patients, 0,
                                cr_envelope_entry_t).resource,
              APR_ARRAY_IDX(in->patients, 0, cr_envelope_entry_t).expr,
              -1, 0, NULL);
}

