/* cr_op_add: $AddPatient (operations.md 3), a force create: the user
 * confirmed the client is new, so no duplicate matching (CR-ADD-017).
 *
 * A newborn may come with its mother (RelatedPerson NMTH with the PHN of
 * a known client), kept as the person's "mother" attribute.  The Patient
 * is checked before the transaction (cr_bcop_check_patient); inside it
 * the mother is found, the identifiers must be free, and the person is
 * created with a new PHN or the purported one (cr_bcop_create_person);
 * the answer (201, the composite Patient, Location) is built after the
 * commit.  Declared in cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_phn.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_rules.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops_maintain.h"
#include "store/cr_store.h"


/* The newborn's mother: RelatedPerson NMTH with a valid PHN of a known
 * client.  *mother_phn NULL when there is no RelatedPerson. */
static int mother_of(cr_bcop_t *m, const char **mother_phn, json_object **rp)
{
    const cr_envelope_entry_t *e;
    json_object *ids;
    size_t i, n;
    int nmth;

    *mother_phn = NULL;
    *rp = NULL;
    if (m->in->related == NULL || m->in->related->nelts == 0) {
        return 1;
    }
    e = &APR_ARRAY_IDX(m->in->related, 0, cr_envelope_entry_t);
    nmth = cr_fhir_rules_is_mother(e->resource);
    ids = cr_json_get_array(e->resource, "identifier");
    n = ids ? json_object_array_length(ids) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *s = cr_json_get_string(id, "system");
        if (s && strcmp(s, CR_SYS_PHN) == 0) {
            *mother_phn = cr_json_get_string(id, "value");
        }
    }
    if (!nmth || *mother_phn == NULL) {
        cr_bcop_reject(m, CR_BC_RP_RELATED, e->expr, 422);
        return 0;
    }
    if (cr_phn_validate(*mother_phn) != CR_PHN_OK) {
        cr_bcop_reject(m, CR_BC_RP_MOTHER,
                       apr_pstrcat(m->ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return 0;
    }
    *rp = e->resource;
    return 1;
}

void cr_ops_maintain_add(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {     /* CR-BND add */
        .txn = CR_BC_TXN_RP, .min_entries = 2, .max_entries = 3,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 1
    };
    cr_bcop_t m;
    cr_patient_t *p, *stored = NULL;
    const cr_envelope_entry_t *e;
    const cr_identifier_t *phn, *sri;
    const char *mother_phn, *mother_id = NULL, *id, *snapshot;
    json_object *rp;
    apr_array_header_t *snap;
    apr_status_t rv;

    cr_bcop_init(&m, ctx, CR_BC_TXN_RP, "AddPatient",
              CR_ENV_PROFILE_BASE "bc-add-response-bundle");
    if (!cr_bcop_open(&m, body, &rules, 1) || !mother_of(&m, &mother_phn,
                                                           &rp)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    p = cr_bcop_check_patient(&m, e, mother_phn);
    if (p == NULL) {
        return;
    }
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    if (phn && phn->value == NULL) {
        phn = NULL;
    }
    if (!cr_fhir_rules_death_ok(p)) {
        cr_bcop_reject(&m, CR_BC_RP_DEATH,
                       apr_pstrcat(ctx->pool, e->expr, ".deceasedDateTime",
                                   NULL), 422);
        return;
    }
    sri = cr_fhir_rules_find_sri(p);
    snap = cr_composite_extract(ctx->pool, e->resource,
                                cr_composite_effective(e->resource)
                                ? cr_composite_effective(e->resource)
                                : ctx->today);
    id = cr_service_uuid(ctx->pool);
    if (rp) {
        /* The newborn's link to the mother (cr_store_query indexes it). */
        json_object *c = json_object_new_object();
        json_object *ids = json_object_new_array(), *rel, *cod, *coding;
        cr_snapattr_t *a;
        json_object_object_add(c, "resourceType",
                               json_object_new_string("RelatedPerson"));
        json_object_object_add(c, "id", json_object_new_string("mother"));
        json_object_array_add(ids, json_object_get(json_object_array_get_idx(
            cr_json_get_array(rp, "identifier"), 0)));
        json_object_object_add(c, "identifier", ids);
        rel = json_object_new_array();
        cod = json_object_new_object();
        coding = json_object_new_array();
        json_object_array_add(coding, json_object_new_object());
        json_object_object_add(json_object_array_get_idx(coding, 0),
                               "system",
                               json_object_new_string(CR_SYS_ROLE_CODE));
        json_object_object_add(json_object_array_get_idx(coding, 0),
                               "code", json_object_new_string("NMTH"));
        json_object_object_add(cod, "coding", coding);
        json_object_array_add(rel, cod);
        json_object_object_add(c, "relationship", rel);
        cod = json_object_new_object();
        json_object_object_add(cod, "reference", json_object_new_string(
            apr_pstrcat(ctx->pool, "Patient/", id, NULL)));
        json_object_object_add(c, "patient", cod);
        a = apr_array_push(snap);
        a->kind = "mother";
        a->value = cr_composite_canonical(ctx->pool, c);
        a->period_start = ctx->today;
        a->period_end = NULL;
        json_object_put(c);
    }
    snapshot = cr_json_serialize(ctx->pool, e->resource, NULL);

    /* The transaction, with the messageId claimed (CR-PARAM-004). */
    if (!cr_idem_begin(&m, body)) {
        return;
    }
    if (mother_phn) {
        rv = cr_store_identifier_owner(&mother_id, ctx->db, ctx->pool,
                                       CR_SYS_PHN, mother_phn);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "finding the mother");
            return;
        }
        if (mother_id == NULL) {
            cr_bcop_abort(&m, CR_BC_RP_MOTHER,
                          "Bundle.entry.resource.identifier", 422);
            return;
        }
    }
    if (!cr_bcop_identifiers_free(&m, p, NULL, e->expr)) {
        return;
    }
    /* A force create: no duplicate matching (operations.md 3: the user
     * confirmed the client is new; CR-ADD-017). */
    rv = cr_bcop_create_person(&m, id, phn ? phn->value : NULL,
                               sri ? sri->system : NULL,
                               sri ? sri->value : NULL, snap, snapshot, NULL,
                               NULL, &stored);
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(&m, "AddPatient", "C", 201);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the new client");
        return;
    }
    /* A new PHN assigned -> RP.0.0000; the purported PHN kept ->
     * RP.0.0021 (the IG's AddPatient example). */
    cr_bc_add(ctx->oc, CR_BC_TXN_RP,
              phn ? CR_BC_RP_PROCESSED : CR_BC_RP_NEW_PHN, NULL, NULL);
    cr_bcop_respond_patient(&m, stored);
    ctx->resp.location = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                     "/Patient/", id, NULL);
    cr_bcop_finish(&m, 201);
}
