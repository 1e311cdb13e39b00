/* cr_op_revise: $RevisePatient (operations.md 4): a source system sends
 * its record of a client.
 *
 * The record is found by its source record identifier (SRI; a PHN-bound
 * source by PHN), else the person by the PHN, else by a certain match;
 * a known person gets the record's attributes as of the effective date
 * (rule 5) and is rebuilt at the next version (If-Match), an unknown one
 * is created as by AddPatient, recording probable duplicates for review.
 * Declared in cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_rules.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_ops_match.h"
#include "store/cr_store.h"
#include "store/cr_store_source.h"

/* Apply snapshot snap of source record rec_id to person pid (current
 * version cur) and rebuild it. */
static apr_status_t revise_existing(cr_bcop_t *m, const char *pid,
                                    apr_int64_t cur, const char *rec_id,
                                    int new_record, const char *sri_system,
                                    const char *sri_value,
                                    apr_array_header_t *snap,
                                    const char *snapshot,
                                    const char *end_date, cr_patient_t **out)
{
    cr_ctx_t *ctx = m->ctx;
    apr_status_t rv;
    int changed = 0;

    rv = cr_bcop_ensure_records(m, pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (new_record) {
        rv = cr_store_source_insert(ctx->db, ctx->pool, rec_id, pid,
                                    m->prov.source_system
                                    ? m->prov.source_system : "UNKNOWN",
                                    sri_system, sri_value, snapshot,
                                    ctx->now_instant);
    }
    else {
        rv = cr_store_source_touch(ctx->db, ctx->pool, rec_id, snapshot,
                                   ctx->now_instant);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_source_apply(&changed, ctx->db, ctx->pool, rec_id,
                                   pid, snap, end_date, &m->prov);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_rebuild(m, pid, cur + 1, "revise", out);
    }
    return rv;
}

void cr_ops_maintain_revise(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        .txn = CR_BC_TXN_RP, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    cr_bcop_t m;
    cr_patient_t *p, *stored = NULL;
    const cr_envelope_entry_t *e;
    const cr_identifier_t *phn, *sri;
    const char *pid = NULL, *rec_id = NULL, *sri_system, *sri_value;
    const char *eff, *snapshot;
    cr_source_rec_t *rec = NULL;
    apr_array_header_t *snap;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int existing = 0, created = 0, review = 0;

    cr_bcop_init(&m, ctx, CR_BC_TXN_RP, "RevisePatient",
              CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    if (!cr_bcop_open(&m, body, &rules, 1)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    p = cr_bcop_check_patient(&m, e, NULL);
    if (p == NULL) {
        return;
    }
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    if (phn && phn->value == NULL) {
        phn = NULL;
    }
    sri = cr_fhir_rules_find_sri(p);
    if (sri) {
        sri_system = sri->system;
        sri_value = sri->value;
    }
    else if (phn && cr_fhir_rules_phn_bound(m.prov.source_system)) {
        /* A PHN-bound source identifies its records by PHN. */
        sri_system = apr_pstrcat(ctx->pool, CR_SYS_PHN, "#",
                                 m.prov.source_system, NULL);
        sri_value = phn->value;
    }
    else {
        cr_bcop_reject(&m, CR_BC_RP_NO_SRI,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    if (m.prov.source_system == NULL && sri && sri->source) {
        m.prov.source_system = cr_bcop_source_system(ctx->pool, sri->source);
    }
    eff = cr_composite_effective(e->resource);
    if (eff == NULL) {
        /* Rule 5 (G5): the effective date is mandatory. */
        cr_bcop_reject(&m, CR_BC_RP_EFFECTIVE,
                       apr_pstrcat(ctx->pool, e->expr, ".extension", NULL),
                       422);
        return;
    }
    snap = cr_composite_extract(ctx->pool, e->resource, eff);
    snapshot = cr_json_serialize(ctx->pool, e->resource, NULL);

    /* The transaction, with the messageId claimed (CR-PARAM-004). */
    if (!cr_idem_begin(&m, body)) {
        return;
    }
    rv = cr_store_source_find(&rec, ctx->db, ctx->pool, sri_system,
                              sri_value);
    if (rv == APR_SUCCESS) {
        pid = rec->patient_id;
        rec_id = rec->id;
    }
    else if (rv != APR_NOTFOUND) {
        cr_bcop_db_fail(&m, rv, "finding the source record");
        return;
    }
    if (pid == NULL && phn) {
        rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, CR_SYS_PHN,
                                       phn->value);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "finding the PHN");
            return;
        }
    }
    if (pid == NULL && phn == NULL) {
        /* Known under another source?  Link only a sure match. */
        apr_array_header_t *res = NULL;
        rv = cr_ops_match_find(&res, ctx, p, 2, CR_MATCH_CERTAIN);
        if (rv == APR_SUCCESS && res->nelts == 1) {
            pid = APR_ARRAY_IDX(res, 0, cr_match_result_t).patient_id;
            existing = 1;
        }
        else if (rv != APR_SUCCESS && rv != CR_OPS_MATCH_NOT_ENOUGH) {
            cr_bcop_db_fail(&m, rv, "matching");
            return;
        }
    }
    if (pid) {
        rv = cr_bcop_current_version(&cur, &m, pid);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "reading the client");
            return;
        }
        if (!cr_bcop_version_ok(&m, cur)) {
            cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
            return;
        }
        if (!cr_bcop_identifiers_free(&m, p, pid, e->expr)) {
            return;
        }
        rv = revise_existing(&m, pid, cur, rec_id ? rec_id
                             : cr_service_uuid(ctx->pool), rec_id == NULL,
                             sri_system, sri_value, snap, snapshot,
                             eff ? eff : ctx->now_instant, &stored);
        if (rv == APR_SUCCESS) {
            rv = cr_bcop_commit(&m, "RevisePatient", "U", 200);
        }
    }
    else {
        if (!cr_fhir_rules_death_ok(p)) {
            cr_bcop_abort(&m, CR_BC_RP_DEATH,
                          apr_pstrcat(ctx->pool, e->expr, ".deceasedDateTime",
                                      NULL), 422);
            return;
        }
        if (ctx->if_match > 0) {
            cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
            return;
        }
        if (!cr_bcop_identifiers_free(&m, p, NULL, e->expr)) {
            /* PostgreSQL: no person was found by the source record above,
             * yet an identifier is held: a parallel writer may have just
             * created this SRI's person (two first revises of one SRI at
             * once, on one node or two).  Run the request again: its
             * look-up then finds that person and revises it; a genuine
             * duplicate gets its 422 again. */
            ctx->resp.race_lost = !ctx->db->is_sqlite
                                  && ctx->resp.status == 422;
            return;
        }
        pid = cr_service_uuid(ctx->pool);
        /* Only a certain match links (above); probable ones are
         * recorded for review and reported. */
        rv = cr_bcop_create_person(&m, pid, phn ? phn->value : NULL,
                                   sri_system, sri_value, snap, snapshot,
                                   "revise", &review, &stored);
        if (rv == APR_SUCCESS) {
            rv = cr_bcop_commit(&m, "RevisePatient", "C", 201);
        }
        created = 1;
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the revise");
        return;
    }
    if (created) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP,
                  phn ? CR_BC_RP_PROCESSED : CR_BC_RP_NEW_PHN, NULL, NULL);
        if (review > 0) {
            cr_bcop_issue(&m, CR_BC_RP_REVIEW, NULL);
        }
    }
    else {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP,
                  existing ? CR_BC_RP_EXISTING_PHN : CR_BC_RP_PROCESSED,
                  NULL, NULL);
    }
    cr_bcop_respond_patient(&m, stored);
    cr_bcop_finish(&m, created ? 201 : 200);
}
