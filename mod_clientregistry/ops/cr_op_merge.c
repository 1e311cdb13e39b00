/* cr_ops_maintain: AddPatient, RevisePatient, MergePatient, unmerge (see
 * the header).
 *
 * Every path ends in cr_bcop_finish(): one collection Bundle with the
 * MetadataParametersOut, the OperationOutcome and (add/revise) the
 * composite Patient, sent with its status also on errors.  Validation
 * happens before the transaction; resolution, PHN allocation and every
 * row inside it; the response is built after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "ops/cr_audit.h"
#include "ops/cr_bcop.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_rules.h"
#include "fhir/cr_fhir_view.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_person.h"
#include "core/cr_phn.h"
#include "store/cr_store.h"
#include "store/cr_store_async.h"
#include "store/cr_store_person.h"
#include "store/cr_store_match.h"
#include "store/cr_store_query.h"
#include "store/cr_store_source.h"

#define MAX_LINKS 20
#define MAX_IDENTIFIER_ROWS 200
#define ROLE_SYS CR_SYS_ROLE_CODE
#define MERGE_PROFILE CR_ENV_PROFILE_BASE "bc-merge-response-bundle"

/* ---- validation ------------------------------------------------------- */

/* Shared checks of Add and Revise on the request Patient. */
static cr_patient_t *check_patient(cr_bcop_t *m, const cr_envelope_entry_t *e,
                                   const char *mother_phn)
{
    cr_ctx_t *ctx = m->ctx;
    cr_patient_t *p = NULL;
    const cr_identifier_t *phn;
    json_object *ids = cr_json_get_array(e->resource, "identifier");
    size_t i, n = ids ? json_object_array_length(ids) : 0;

    /* Rule 3 before the profile checks, with its own code. */
    for (i = 0; i < n && i < 100; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = cr_json_get_string(id, "system");
        const char *val = cr_json_get_string(id, "value");
        if (sys && val && strcmp(sys, CR_SYS_PHN) == 0
            && cr_phn_validate(val) != CR_PHN_OK) {
            cr_bcop_reject(m, CR_BC_RP_PHN,
                           apr_psprintf(ctx->pool, "%s.identifier[%d]",
                                        e->expr, (int)i), 422);
            return NULL;
        }
        if (sys && val && cr_fhir_rules_is_sri_system(sys)
            && !cr_fhir_rules_sri_chars_ok(val)) {
            /* Rule 1: forbidden characters in the SRI. */
            cr_bcop_reject(m, CR_BC_RP_SRI_CHARS,
                           apr_psprintf(ctx->pool, "%s.identifier[%d]",
                                        e->expr, (int)i), 422);
            return NULL;
        }
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, e->resource, e->expr,
                              ctx->today, &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        cr_bcop_finish(m, cr_service_status_for_errors(ctx->oc));
        return NULL;
    }
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    if (!cr_fhir_rules_names_ok(p)) {
        cr_bcop_reject(m, CR_BC_RP_NAME,
                       apr_pstrcat(ctx->pool, e->expr, ".name", NULL), 422);
        return NULL;
    }
    if (!cr_fhir_rules_minimum_ok(p, (phn && phn->value) || mother_phn)) {
        cr_bcop_reject(m, CR_BC_RP_MINIMUM, e->expr, 422);
        return NULL;
    }
    return p;
}

/* ---- writing a person (ops/cr_person.c) ------------------------------ */

/* A version written by this operation: its message id, no duplicate
 * detection (only a RevisePatient that creates asks for it). */
static cr_person_how_t how_of(const cr_bcop_t *m, const char *operation)
{
    cr_person_how_t how;

    memset(&how, 0, sizeof(how));
    how.operation = operation;
    how.message_id = m->prov.message_id;
    return how;
}

/* Store resource json as version `version` of person id (1 = new); when
 * keep_ids is 0 its identifiers are not registered (a merged-away
 * record). */
static apr_status_t store_json(cr_bcop_t *m, json_object *json, const char *id,
                               apr_int64_t version, const char *operation,
                               int keep_ids, cr_patient_t **out)
{
    cr_person_how_t how = how_of(m, operation);
    apr_status_t rv = cr_person_write_json(out, m->ctx, json, id, version,
                                           keep_ids, &how);

    cr_bcop_note_patient(m, id);
    return rv;
}

/* Rebuild person id from its current attributes as version `version`. */
static apr_status_t rebuild(cr_bcop_t *m, const char *id, apr_int64_t version,
                            const char *operation, cr_patient_t **out)
{
    cr_person_how_t how = how_of(m, operation);
    apr_status_t rv = cr_person_rebuild(out, m->ctx, id, version, &how);

    cr_bcop_note_patient(m, id);
    return rv;
}

/* The response Patient: the composite view of what was committed. */
static void respond_patient(cr_bcop_t *m, const cr_patient_t *p)
{
    cr_ctx_t *ctx = m->ctx;
    cr_view_input_t in;
    cr_view_options_t opt;

    memset(&in, 0, sizeof(in));
    memset(&opt, 0, sizeof(opt));
    in.current = cr_json_copy(ctx->pool, p->json);
    in.id = p->id;
    in.last_updated = ctx->now_instant;
    in.masked = p->masked;
    if (cr_store_query_identifiers(&in.identifiers, ctx->db, ctx->pool,
                                   p->id, MAX_IDENTIFIER_ROWS)
        != APR_SUCCESS) {
        in.identifiers = NULL;
    }
    opt.now = ctx->now;
    m->patient = cr_fhir_view_patient(ctx->pool, &in, &opt);
}

/* Inside the transaction: create person id with a new (or the purported)
 * PHN, its registry record and the source record of the request;
 * duplicates names the operation recording potential duplicates (NULL:
 * none), *review how many were recorded. */
static apr_status_t create_person(cr_bcop_t *m, const char *id,
                                  const char *purported,
                                  const char *sri_system,
                                  const char *sri_value,
                                  apr_array_header_t *snap,
                                  const char *snapshot,
                                  const char *duplicates, int *review,
                                  cr_patient_t **out)
{
    cr_person_how_t how = how_of(m, "add");
    cr_person_record_t rec;
    apr_status_t rv;

    how.duplicates = duplicates;
    rec.sri_system = sri_system;
    rec.sri_value = sri_value;
    rec.snap = snap;
    rec.snapshot = snapshot;
    rv = cr_person_create(review, out, m->ctx, id, purported, &rec,
                          &m->prov, &how);
    cr_bcop_note_patient(m, id);
    return rv;
}

/* A person written before source records existed (the RESTful create
 * and update) gets its registry record (cr_person_ensure_records). */
static apr_status_t ensure_records(cr_bcop_t *m, const char *pid)
{
    return cr_person_ensure_records(m->ctx, pid, &m->prov);
}

/* ---- $AddPatient ------------------------------------------------------- */

/* The newborn's mother: RelatedPerson NMTH with a valid PHN of a known
 * client.  *mother_phn NULL when there is no RelatedPerson. */
static int mother_of(cr_bcop_t *m, const char **mother_phn, json_object **rp)
{
    const cr_envelope_entry_t *e;
    json_object *ids, *rels;
    size_t i, j, n;
    int nmth = 0;

    *mother_phn = NULL;
    *rp = NULL;
    if (m->in->related == NULL || m->in->related->nelts == 0) {
        return 1;
    }
    e = &APR_ARRAY_IDX(m->in->related, 0, cr_envelope_entry_t);
    rels = cr_json_get_array(e->resource, "relationship");
    n = rels ? json_object_array_length(rels) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *cod = cr_json_get_array(
            json_object_array_get_idx(rels, i), "coding");
        size_t k = cod ? json_object_array_length(cod) : 0;
        for (j = 0; j < k && j < 20; j++) {
            json_object *c = json_object_array_get_idx(cod, j);
            const char *s = cr_json_get_string(c, "system");
            const char *code = cr_json_get_string(c, "code");
            nmth |= s && code && strcmp(s, ROLE_SYS) == 0
                    && strcmp(code, "NMTH") == 0;
        }
    }
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

/* Every identifier of p is free or already self's (NULL: nobody's). */
static int identifiers_free(cr_bcop_t *m, const cr_patient_t *p,
                            const char *self, apr_status_t *rv)
{
    int taken = -1;

    *rv = cr_person_identifier_taken(&taken, m->ctx, p, self, 0);
    return *rv == APR_SUCCESS && taken < 0;
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
    p = check_patient(&m, e, mother_phn);
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
                               "system", json_object_new_string(ROLE_SYS));
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

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "starting the add");
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
    if (!identifiers_free(&m, p, NULL, &rv)) {
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "checking identifiers");
            return;
        }
        cr_bcop_abort(&m, CR_BC_RP_DUPLICATE,
                      apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                      422);
        return;
    }
    /* A force create: no duplicate matching (operations.md 3: the user
     * confirmed the client is new; CR-ADD-017). */
    rv = create_person(&m, id, phn ? phn->value : NULL,
                       sri ? sri->system : NULL, sri ? sri->value : NULL,
                       snap, snapshot, NULL, NULL, &stored);
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
    respond_patient(&m, stored);
    ctx->resp.location = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                     "/Patient/", id, NULL);
    cr_bcop_finish(&m, 201);
}

/* ---- $RevisePatient ---------------------------------------------------- */

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

    rv = ensure_records(m, pid);
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
        rv = rebuild(m, pid, cur + 1, "revise", out);
    }
    return rv;
}

static apr_status_t current_version(apr_int64_t *v, cr_bcop_t *m,
                                    const char *pid)
{
    cr_stored_t *s = NULL;
    apr_status_t rv = cr_store_patient_get(&s, m->ctx->db, m->ctx->pool,
                                           pid);

    *v = s ? s->version : 0;
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
    p = check_patient(&m, e, NULL);
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

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "starting the revise");
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
        rv = current_version(&cur, &m, pid);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "reading the client");
            return;
        }
        if (!cr_bcop_version_ok(&m, cur)) {
            cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
            return;
        }
        if (!identifiers_free(&m, p, pid, &rv)) {
            if (rv != APR_SUCCESS) {
                cr_bcop_db_fail(&m, rv, "checking identifiers");
                return;
            }
            cr_bcop_abort(&m, CR_BC_RP_DUPLICATE,
                          apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                          422);
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
        if (!identifiers_free(&m, p, NULL, &rv)) {
            if (rv != APR_SUCCESS) {
                cr_bcop_db_fail(&m, rv, "checking identifiers");
                return;
            }
            cr_bcop_abort(&m, CR_BC_RP_DUPLICATE,
                          apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                          422);
            return;
        }
        pid = cr_service_uuid(ctx->pool);
        /* Only a certain match links (above); probable ones are
         * recorded for review and reported. */
        rv = create_person(&m, pid, phn ? phn->value : NULL, sri_system,
                           sri_value, snap, snapshot, "revise", &review,
                           &stored);
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
    respond_patient(&m, stored);
    cr_bcop_finish(&m, created ? 201 : 200);
}

/* ---- $MergePatient / unmerge ------------------------------------------ */

typedef struct side_t {
    const char *system, *value;
    const char *pid;
    cr_source_rec_t *rec;      /* when the identifier is an SRI */
} side_t;

static apr_status_t resolve(cr_bcop_t *m, side_t *s)
{
    apr_status_t rv;
    const char *status = NULL;

    s->pid = NULL;
    rv = cr_store_source_find(&s->rec, m->ctx->db, m->ctx->pool, s->system,
                              s->value);
    if (rv == APR_SUCCESS) {
        s->pid = s->rec->patient_id;
        return APR_SUCCESS;
    }
    if (rv != APR_NOTFOUND) {
        return rv;
    }
    rv = cr_store_query_identifier(&s->pid, &status, m->ctx->db,
                                   m->ctx->pool, s->system, s->value);
    if (rv == APR_NOTFOUND) {
        s->pid = NULL;
        return APR_SUCCESS;
    }
    return rv;
}

static int read_merge(cr_bcop_t *m, side_t *surv, side_t *ns, int *nns,
                      json_object **patient)
{
    const cr_envelope_entry_t *e = &APR_ARRAY_IDX(m->in->patients, 0,
                                                  cr_envelope_entry_t);
    json_object *ids = cr_json_get_array(e->resource, "identifier");
    json_object *links = cr_json_get_array(e->resource, "link");
    size_t i, n = links ? json_object_array_length(links) : 0;

    *patient = e->resource;
    *nns = 0;
    memset(surv, 0, sizeof(*surv));
    if (ids && json_object_array_length(ids) > 0) {
        json_object *id = json_object_array_get_idx(ids, 0);
        surv->system = cr_json_get_string(id, "system");
        surv->value = cr_json_get_string(id, "value");
    }
    for (i = 0; i < n && *nns < MAX_LINKS; i++) {
        json_object *l = json_object_array_get_idx(links, i);
        const char *type = cr_json_get_string(l, "type");
        json_object *oid = cr_json_get_object(cr_json_get_object(l, "other"),
                                              "identifier");
        if (type == NULL || strcmp(type, "replaces") != 0 || oid == NULL) {
            continue;
        }
        memset(&ns[*nns], 0, sizeof(ns[0]));
        ns[*nns].system = cr_json_get_string(oid, "system");
        ns[*nns].value = cr_json_get_string(oid, "value");
        if (ns[*nns].system && ns[*nns].value) {
            (*nns)++;
        }
    }
    if (surv->system == NULL || surv->value == NULL || *nns == 0) {
        cr_bcop_reject(m, CR_BC_PM_MERGE_SHAPE, e->expr, 422);
        return 0;
    }
    return 1;
}

static const char *link_json(apr_pool_t *pool, const char *other,
                             const char *type)
{
    json_object *l = json_object_new_object();
    json_object *o = json_object_new_object();
    const char *s;

    json_object_object_add(o, "reference",
                           json_object_new_string(apr_pstrcat(
                               pool, "Patient/", other, NULL)));
    json_object_object_add(l, "other", o);
    json_object_object_add(l, "type", json_object_new_string(type));
    s = cr_composite_canonical(pool, l);
    json_object_put(l);
    return s;
}

/* Merge person ns into survivor: its source records move (status
 * merged), it becomes inactive with link replaced-by, the survivor gets
 * link replaces. */
static apr_status_t merge_person(cr_bcop_t *m, const char *surv_pid,
                                 const side_t *ns, int *refused)
{
    cr_ctx_t *ctx = m->ctx;
    cr_stored_t *nsrow = NULL;
    apr_array_header_t *recs;
    json_object *json = NULL, *links, *l;
    cr_merge_event_t ev;
    cr_snapattr_t la;
    cr_attr_prov_t reg = m->prov;
    apr_status_t rv;
    int i;

    *refused = 0;
    rv = ensure_records(m, ns->pid);
    if (rv == APR_SUCCESS) {
        rv = ensure_records(m, surv_pid);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_patient_get(&nsrow, ctx->db, ctx->pool, ns->pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (nsrow->replaced_by && *nsrow->replaced_by) {
        *refused = 1;
        return APR_SUCCESS;
    }
    ev.id = cr_service_uuid(ctx->pool);
    ev.survivor_id = surv_pid;
    ev.nonsurvivor_id = ns->pid;
    ev.nonsurvivor_version = nsrow->version;
    ev.ns_system = ns->system;
    ev.ns_value = ns->value;
    rv = cr_store_person_merge_insert(ctx->db, ctx->pool, &ev,
                                      ctx->now_instant, m->prov.message_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The non-survivor first: it gives up its identifiers. */
    if (cr_json_parse(&json, ctx->pool, nsrow->resource,
                      strlen(nsrow->resource), NULL, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    json_object_object_add(json, "active", json_object_new_boolean(0));
    links = cr_json_get_array(json, "link");
    if (links == NULL) {
        links = cr_json_set_new_array(json, "link");
    }
    l = cr_json_array_add_object(links);
    cr_json_set_string(cr_json_set_new_object(l, "other"), "reference",
                       apr_pstrcat(ctx->pool, "Patient/", surv_pid, NULL));
    cr_json_set_string(l, "type", "replaced-by");
    rv = store_json(m, json, ns->pid, nsrow->version + 1, "merge", 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_person_set_replaced_by(ctx->db, ctx->pool, ns->pid,
                                         surv_pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The pair, if it was open on the duplicate review list, is settled
     * (a reviewer's "not-duplicate" is kept, so an unmerge cannot turn
     * it into "open"). */
    rv = cr_store_match_duplicate_set_status(NULL, ctx->db, ctx->pool,
                                             surv_pid, ns->pid,
                                             CR_STORE_MATCH_DUP_MERGED,
                                             CR_STORE_MATCH_DUP_OPEN);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_source_list_patient(&recs, ctx->db, ctx->pool, ns->pid);
    for (i = 0; rv == APR_SUCCESS && i < recs->nelts; i++) {
        rv = cr_store_source_move(ctx->db, ctx->pool,
                                  APR_ARRAY_IDX(recs, i, const char *),
                                  surv_pid, "merged", ev.id,
                                  ctx->now_instant);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    reg.source_system = CR_SOURCE_REGISTRY;
    la.kind = "link";
    la.value = link_json(ctx->pool, ns->pid, "replaces");
    la.period_start = ctx->now_instant;
    la.period_end = NULL;
    return cr_store_source_add(ctx->db, ctx->pool,
                               cr_store_source_registry_id(ctx->pool,
                                                           surv_pid),
                               surv_pid, &la, &reg);
}

/* Open the transaction of a merge or unmerge and find the survivor at the
 * version If-Match names: 1, or 0 when the request was answered (store
 * failure, unknown survivor, 412). */
static int begin_on_survivor(cr_bcop_t *m, side_t *surv, apr_int64_t *cur,
                             const char *what)
{
    cr_ctx_t *ctx = m->ctx;
    apr_status_t rv = cr_db_begin(ctx->db, ctx->pool);

    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, what);
        return 0;
    }
    rv = resolve(m, surv);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "finding the survivor");
        return 0;
    }
    if (surv->pid == NULL) {
        cr_bcop_abort(m, CR_BC_PM_SURVIVOR,
                      "Bundle.entry[1].resource.identifier[0]", 422);
        return 0;
    }
    rv = current_version(cur, m, surv->pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "reading the survivor");
        return 0;
    }
    if (!cr_bcop_version_ok(m, *cur)) {
        cr_bcop_abort(m, CR_BC_RP_VERSION, NULL, 412);
        return 0;
    }
    return 1;
}

void cr_ops_maintain_merge(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        .txn = CR_BC_TXN_PM, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    cr_bcop_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient, *payload;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i, refused, demographics;

    cr_bcop_init(&m, ctx, CR_BC_TXN_PM, "MergePatient", MERGE_PROFILE);
    if (!cr_bcop_open(&m, body, &rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    demographics = cr_json_get(patient, "name") != NULL
                   || cr_json_get(patient, "gender") != NULL
                   || cr_json_get(patient, "birthDate") != NULL
                   || cr_json_get(patient, "address") != NULL
                   || cr_json_get(patient, "telecom") != NULL;
    if (!begin_on_survivor(&m, &surv, &cur, "starting the merge")) {
        return;
    }
    rv = ensure_records(&m, surv.pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "reading the survivor");
        return;
    }
    for (i = 0; i < nns; i++) {
        const char *expr = apr_psprintf(ctx->pool,
                                        "Bundle.entry[1].resource.link[%d]",
                                        i);
        rv = resolve(&m, &ns[i]);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "finding a non-survivor");
            return;
        }
        if (ns[i].pid == NULL) {
            cr_bcop_abort(&m, CR_BC_PM_NONSURVIVOR, expr, 422);
            return;
        }
        if (strcmp(ns[i].pid, surv.pid) == 0) {
            /* Two source records of one client: the non-surviving
             * record is merged into the same person. */
            cr_merge_event_t ev;
            if (ns[i].rec == NULL || surv.rec == NULL
                || strcmp(ns[i].rec->id, surv.rec->id) == 0) {
                cr_bcop_abort(&m, CR_BC_PM_SAME, expr, 422);
                return;
            }
            if (strcmp(ns[i].rec->status, "merged") == 0) {
                cr_bcop_abort(&m, CR_BC_PM_MERGED, expr, 422);
                return;
            }
            ev.id = cr_service_uuid(ctx->pool);
            ev.survivor_id = surv.pid;
            ev.nonsurvivor_id = surv.pid;
            ev.nonsurvivor_version = cur;
            ev.ns_system = ns[i].system;
            ev.ns_value = ns[i].value;
            rv = cr_store_person_merge_insert(ctx->db, ctx->pool, &ev,
                                              ctx->now_instant,
                                              m.prov.message_id);
            if (rv == APR_SUCCESS) {
                rv = cr_store_source_move(ctx->db, ctx->pool,
                                          ns[i].rec->id, surv.pid, "merged",
                                          ev.id, ctx->now_instant);
            }
        }
        else {
            rv = merge_person(&m, surv.pid, &ns[i], &refused);
            if (rv == APR_SUCCESS && refused) {
                cr_bcop_abort(&m, CR_BC_PM_MERGED, expr, 422);
                return;
            }
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "merging");
            return;
        }
    }
    if (demographics && surv.rec) {
        /* Demographics with the merge: a revise of the survivor's source
         * record after the merge (operations.md 5). */
        const char *eff = cr_composite_effective(patient);
        apr_array_header_t *snap;
        int changed = 0;
        payload = cr_json_copy(ctx->pool, patient);
        json_object_object_del(payload, "link");
        snap = cr_composite_extract(ctx->pool, payload,
                                    eff ? eff : ctx->today);
        rv = cr_store_source_touch(ctx->db, ctx->pool, surv.rec->id,
                                   cr_json_serialize(ctx->pool, payload,
                                                     NULL),
                                   ctx->now_instant);
        if (rv == APR_SUCCESS) {
            rv = cr_store_source_apply(&changed, ctx->db, ctx->pool,
                                       surv.rec->id, surv.pid, snap,
                                       eff ? eff : ctx->now_instant,
                                       &m.prov);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = rebuild(&m, surv.pid, cur + 1, "merge", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(&m, "MergePatient", "U", 200);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the merge");
        return;
    }
    if (demographics && surv.rec) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_EXISTING_PHN, NULL, NULL);
    }
    else {
        cr_bc_add(ctx->oc, CR_BC_TXN_PM, CR_BC_PM_OK, NULL, NULL);
    }
    cr_bcop_finish(&m, 200);
}

void cr_ops_maintain_unmerge(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        .txn = CR_BC_TXN_PM, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    cr_bcop_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient;
    cr_merge_event_t *ev;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i;

    cr_bcop_init(&m, ctx, CR_BC_TXN_PM, "UnmergePatient", MERGE_PROFILE);
    if (!cr_bcop_open(&m, body, &rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    if (!begin_on_survivor(&m, &surv, &cur, "starting the unmerge")) {
        return;
    }
    for (i = 0; i < nns; i++) {
        const char *mid, *nspid;
        apr_int64_t nsver;
        apr_array_header_t *recs;
        int r;
        rv = cr_store_person_merge_find(&ev, ctx->db, ctx->pool,
                                        ns[i].system, ns[i].value);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            cr_bcop_db_fail(&m, rv, "finding the merge");
            return;
        }
        if (rv == APR_NOTFOUND || strcmp(ev->survivor_id, surv.pid) != 0) {
            cr_bcop_abort(&m, CR_BC_PM_NO_MERGE, apr_psprintf(
                ctx->pool, "Bundle.entry[1].resource.link[%d]", i), 422);
            return;
        }
        mid = ev->id;
        nspid = ev->nonsurvivor_id;
        nsver = ev->nonsurvivor_version;
        rv = cr_store_source_list_merge(&recs, ctx->db, ctx->pool, mid);
        for (r = 0; rv == APR_SUCCESS && r < recs->nelts; r++) {
            rv = cr_store_source_move(ctx->db, ctx->pool,
                                      APR_ARRAY_IDX(recs, r, const char *),
                                      nspid, "active", NULL,
                                      ctx->now_instant);
        }
        if (rv == APR_SUCCESS) {
            rv = cr_store_person_merge_undo(ctx->db, ctx->pool, mid,
                                            ctx->now_instant);
        }
        if (rv == APR_SUCCESS && strcmp(nspid, surv.pid) != 0) {
            rv = cr_store_source_end_value(
                ctx->db, ctx->pool,
                cr_store_source_registry_id(ctx->pool, surv.pid), "link",
                link_json(ctx->pool, nspid, "replaces"), ctx->today,
                ctx->now_instant);
            /* The survivor gives the identifiers back first. */
            if (rv == APR_SUCCESS) {
                rv = rebuild(&m, surv.pid, ++cur, "unmerge", NULL);
            }
            if (rv == APR_SUCCESS) {
                cr_stored_t *old = NULL, *now = NULL;
                json_object *json = NULL;
                rv = cr_store_version_get(&old, ctx->db, ctx->pool, nspid,
                                          nsver);
                if (rv == APR_SUCCESS) {
                    rv = cr_store_patient_get(&now, ctx->db, ctx->pool,
                                              nspid);
                }
                if (rv == APR_SUCCESS
                    && cr_json_parse(&json, ctx->pool, old->resource,
                                     strlen(old->resource), NULL, NULL)
                       != APR_SUCCESS) {
                    rv = APR_EGENERAL;
                }
                if (rv == APR_SUCCESS) {
                    rv = store_json(&m, json, nspid, now->version + 1,
                                    "unmerge", 1, NULL);
                }
                if (rv == APR_SUCCESS) {
                    rv = cr_store_person_set_replaced_by(ctx->db, ctx->pool,
                                                         nspid, NULL);
                }
                if (rv == APR_SUCCESS) {
                    /* What the merge settled is open for review again
                     * (a reviewer's own decision is left alone). */
                    rv = cr_store_match_duplicate_set_status(
                        NULL, ctx->db, ctx->pool, surv.pid, nspid,
                        CR_STORE_MATCH_DUP_OPEN, CR_STORE_MATCH_DUP_MERGED);
                }
            }
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "undoing the merge");
            return;
        }
    }
    if (m.patients == NULL) {
        /* Only source records of one client: rebuild it. */
        rv = rebuild(&m, surv.pid, cur + 1, "unmerge", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(&m, "UnmergePatient", "U", 200);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the unmerge");
        return;
    }
    cr_bcop_issue(&m, CR_BC_PM_UNMERGED, NULL);
    cr_bcop_finish(&m, 200);
}

/* ---- $PartialUpdatePatient / $PartialRevisePatient --------------------- */

#define UPDATE_OP_EXT CR_EXT_BASE "bc-update-patient-operation-extension"

/* The update operation of element el (its extension, removed from el):
 * "add", "delete", "replace", NULL when absent, "" when invalid. */
static const char *take_update_op(json_object *el)
{
    json_object *exts = cr_json_get_array(el, "extension");
    size_t i, n = exts ? json_object_array_length(exts) : 0;

    for (i = 0; i < n && i < 50; i++) {
        json_object *e = json_object_array_get_idx(exts, i);
        const char *url = cr_json_get_string(e, "url");
        json_object *cod;
        const char *code;
        if (url == NULL || strcmp(url, UPDATE_OP_EXT) != 0) {
            continue;
        }
        cod = cr_json_get_array(cr_json_get_object(e, "valueCodeableConcept"),
                                "coding");
        code = cod ? cr_json_get_string(json_object_array_get_idx(cod, 0),
                                        "code") : NULL;
        if (code == NULL) {
            code = cr_json_get_string(e, "valueCode");
        }
        /* code belongs to e, which the deletion below frees. */
        code = code == NULL ? ""
               : strcmp(code, "add") == 0 ? "add"
               : strcmp(code, "delete") == 0 ? "delete"
               : strcmp(code, "replace") == 0 ? "replace" : "";
        json_object_array_del_idx(exts, i, 1);
        if (json_object_array_length(exts) == 0) {
            json_object_object_del(el, "extension");
        }
        return code;
    }
    return NULL;
}

/* The key two values of a repeating kind share when one replaces the
 * other: name.use, telecom.system+use, address.type+use. */
static const char *elem_key(apr_pool_t *pool, const char *kind,
                            json_object *v)
{
    const char *use = cr_json_get_string(v, "use");

    if (strcmp(kind, "telecom") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "system")
                           ? cr_json_get_string(v, "system") : "", "|",
                           use ? use : "", NULL);
    }
    if (strcmp(kind, "address") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "type")
                           ? cr_json_get_string(v, "type") : "", "|",
                           use ? use : "", NULL);
    }
    return use ? use : "";
}

typedef struct upd_t {
    const char *op;
    cr_snapattr_t attr;
    json_object *value;        /* parsed attr.value */
} upd_t;

/* The changes a PartialPatientUpdate asks for (of upd_t). */
static int read_updates(cr_bcop_t *m, json_object *patient,
                        apr_array_header_t *out, const char *start)
{
    static const char *const reps[] = { "name", "telecom", "address", NULL };
    static const char *const singles[][3] = {
        { "gender", "_gender", NULL },
        { "birthDate", "_birthDate", NULL },
        { "deceasedDateTime", "_deceasedDateTime", NULL },
        { "deceasedBoolean", "_deceasedBoolean", NULL },
        { "multipleBirthBoolean", "_multipleBirthBoolean", NULL },
        { "multipleBirthInteger", "_multipleBirthInteger", NULL },
        { NULL, NULL, NULL } };
    apr_pool_t *pool = m->ctx->pool;
    json_object *work = cr_json_copy(pool, patient);
    int k;
    size_t i, n;

    for (k = 0; reps[k]; k++) {
        json_object *arr = cr_json_get_array(work, reps[k]);
        n = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < n && i < 50; i++) {
            json_object *el = json_object_array_get_idx(arr, i);
            json_object *one = json_object_new_object(), *a1;
            apr_array_header_t *sa;
            upd_t *u;
            const char *op = take_update_op(el);
            if (op && *op == 0) {
                json_object_put(one);
                return 0;
            }
            a1 = json_object_new_array();
            json_object_array_add(a1, json_object_get(el));
            json_object_object_add(one, reps[k], a1);
            sa = cr_composite_extract(pool, one, start);
            json_object_put(one);
            if (sa->nelts == 0) {
                continue;
            }
            u = apr_array_push(out);
            u->op = op ? op : "replace";
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
            u->value = el;
        }
    }
    for (k = 0; singles[k][0]; k++) {
        json_object *v = cr_json_get(work, singles[k][0]);
        json_object *under = cr_json_get_object(work, singles[k][1]);
        json_object *one;
        apr_array_header_t *sa;
        const char *op = NULL;
        upd_t *u;
        if (v == NULL && under == NULL) {
            continue;
        }
        if (under) {
            op = take_update_op(under);
            if (op && *op == 0) {
                return 0;
            }
            if (json_object_object_length(under) == 0) {
                json_object_object_del(work, singles[k][1]);
            }
        }
        one = json_object_new_object();
        if (v) {
            json_object_object_add(one, singles[k][0], json_object_get(v));
        }
        under = cr_json_get_object(work, singles[k][1]);
        if (under) {
            json_object_object_add(one, singles[k][1],
                                   json_object_get(under));
        }
        sa = cr_composite_extract(pool, one, start);
        u = apr_array_push(out);
        u->op = op ? op : "replace";
        if (sa->nelts > 0) {
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
        }
        else {
            /* delete without a value: the kind is enough */
            memset(&u->attr, 0, sizeof(u->attr));
            u->attr.kind = strncmp(singles[k][0], "deceased", 8) == 0
                           ? "deceased"
                           : strncmp(singles[k][0], "multipleBirth", 13) == 0
                           ? "multipleBirth" : singles[k][0];
        }
        u->value = NULL;
        json_object_put(one);
    }
    return 1;
}

static apr_status_t apply_updates(cr_bcop_t *m, const char *rec_id,
                                  const char *pid,
                                  const apr_array_header_t *ups,
                                  const char *end_date)
{
    cr_ctx_t *ctx = m->ctx;
    apr_array_header_t *cur;
    apr_status_t rv;
    int i, j;

    rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
    for (i = 0; rv == APR_SUCCESS && i < ups->nelts; i++) {
        const upd_t *u = &APR_ARRAY_IDX(ups, i, upd_t);
        int single = strcmp(u->attr.kind, "name") != 0
                     && strcmp(u->attr.kind, "telecom") != 0
                     && strcmp(u->attr.kind, "address") != 0;
        const char *key = u->value ? elem_key(ctx->pool, u->attr.kind,
                                              u->value) : NULL;
        int present = 0;
        for (j = 0; rv == APR_SUCCESS && j < cur->nelts; j++) {
            cr_source_attr_t *a = &APR_ARRAY_IDX(cur, j, cr_source_attr_t);
            json_object *v = NULL;
            int hit;
            if (a->id == NULL || strcmp(a->kind, u->attr.kind) != 0) {
                continue;
            }
            if (u->attr.value && strcmp(a->value, u->attr.value) == 0) {
                present = 1;
            }
            if (strcmp(u->op, "add") == 0) {
                continue;
            }
            if (single) {
                hit = 1;
            }
            else if (strcmp(u->op, "delete") == 0 && u->attr.value
                     && strcmp(a->value, u->attr.value) == 0) {
                hit = 1;
            }
            else {
                hit = cr_json_parse(&v, ctx->pool, a->value,
                                    strlen(a->value), NULL, NULL)
                      == APR_SUCCESS
                      && strcmp(elem_key(ctx->pool, a->kind, v), key) == 0;
            }
            if (hit && !(strcmp(u->op, "replace") == 0 && u->attr.value
                         && strcmp(a->value, u->attr.value) == 0)) {
                rv = cr_store_source_end(ctx->db, ctx->pool, a->id, end_date,
                                         ctx->now_instant);
                a->id = NULL;
            }
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0
            && u->attr.value && !present) {
            rv = cr_store_source_add(ctx->db, ctx->pool, rec_id, pid,
                                     &u->attr, &m->prov);
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0) {
            /* later updates see this value as current */
            rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
        }
    }
    return rv;
}

static void partial(cr_ctx_t *ctx, json_object *body, const char *name)
{
    static const cr_envelope_rules_t rules = {
        .txn = CR_BC_TXN_RP, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    cr_bcop_t m;
    const cr_envelope_entry_t *e;
    json_object *ids;
    const char *sys, *val, *eff, *pid = NULL, *rec_id = NULL;
    apr_array_header_t *ups;
    cr_source_rec_t *rec = NULL;
    cr_patient_t *stored = NULL;
    apr_int64_t cur = 0;
    apr_status_t rv;

    cr_bcop_init(&m, ctx, CR_BC_TXN_RP, name,
              CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    if (!cr_bcop_open(&m, body, &rules, 1)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    ids = cr_json_get_array(e->resource, "identifier");
    if (ids == NULL || json_object_array_length(ids) != 1) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_IDENTIFIER,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    sys = cr_json_get_string(json_object_array_get_idx(ids, 0), "system");
    val = cr_json_get_string(json_object_array_get_idx(ids, 0), "value");
    if (sys == NULL || val == NULL) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_IDENTIFIER,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0 && cr_phn_validate(val) != CR_PHN_OK) {
        cr_bcop_reject(&m, CR_BC_RP_PHN,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    eff = cr_composite_effective(e->resource);
    ups = apr_array_make(ctx->pool, 8, sizeof(upd_t));
    if (!read_updates(&m, e->resource, ups, eff ? eff : ctx->today)) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_OP, e->expr, 422);
        return;
    }
    if (ups->nelts == 0) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_NOTHING, e->expr, 400);
        return;
    }
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "starting the partial update");
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0) {
        /* PHN: the registry's member record of the client holding it. */
        rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS && pid) {
            rv = ensure_records(&m, pid);
            rec_id = cr_store_source_registry_id(ctx->pool, pid);
        }
    }
    else {
        rv = cr_store_source_find(&rec, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS) {
            pid = rec->patient_id;
            rec_id = rec->id;
        }
        else if (rv == APR_NOTFOUND) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "finding the record");
        return;
    }
    if (pid == NULL) {
        cr_bcop_abort(&m, CR_BC_RP_UPD_IDENTIFIER,
                      apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                      422);
        return;
    }
    rv = current_version(&cur, &m, pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "reading the client");
        return;
    }
    if (!cr_bcop_version_ok(&m, cur)) {
        cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
        return;
    }
    rv = apply_updates(&m, rec_id, pid, ups, eff ? eff : ctx->now_instant);
    if (rv == APR_SUCCESS) {
        rv = rebuild(&m, pid, cur + 1, "partial-update", &stored);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(&m, name, "U", 200);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the partial update");
        return;
    }
    cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_PROCESSED, NULL, NULL);
    respond_patient(&m, stored);
    cr_bcop_finish(&m, 200);
}

void cr_ops_maintain_partial_update(cr_ctx_t *ctx, json_object *body)
{
    partial(ctx, body, "PartialUpdatePatient");
}

void cr_ops_maintain_partial_revise(cr_ctx_t *ctx, json_object *body)
{
    partial(ctx, body, "PartialRevisePatient");
}

/* ---- asynchronous variants (operations.md 6) --------------------------- */


static void enqueue(cr_ctx_t *ctx, json_object *body, const char *op)
{
    static const cr_envelope_rules_t rp_rules = {
        .txn = CR_BC_TXN_RP, .min_entries = 2, .max_entries = 3,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 1
    };
    static const cr_envelope_rules_t pm_rules = {
        .txn = CR_BC_TXN_PM, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    const char *opname = apr_pstrcat(ctx->pool, op, ".Async", NULL);
    const cr_envelope_rules_t *rules;
    const char *settings;
    cr_async_job_t job;
    json_object *st;
    cr_bcop_t m;
    apr_status_t rv;

    rules = strcmp(op, "MergePatient") == 0 ? &pm_rules : &rp_rules;
    cr_bcop_init(&m, ctx, rules->txn, opname,
              CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle");
    /* The shape, the sender and the user are checked now; the rules of
     * the operation itself when it runs (its response goes to the
     * callback). */
    if (!cr_bcop_open(&m, body, rules, 1)) {
        return;
    }
    st = json_object_new_object();
    json_object_object_add(st, "base",
                           json_object_new_string(ctx->settings->base_url));
    json_object_object_add(st, "phnFirst", json_object_new_int64(
        ctx->settings->phn_range.first));
    json_object_object_add(st, "phnLast", json_object_new_int64(
        ctx->settings->phn_range.last));
    json_object_object_add(st, "maxRepeats", json_object_new_int(
        ctx->settings->fhir.max_repeats));
    json_object_object_add(st, "maxString", json_object_new_int64(
        (apr_int64_t)ctx->settings->fhir.max_string));
    json_object_object_add(st, "certain", json_object_new_double(
        ctx->settings->match.certain));
    json_object_object_add(st, "probable", json_object_new_double(
        ctx->settings->match.probable));
    json_object_object_add(st, "possible", json_object_new_double(
        ctx->settings->match.possible));
    settings = apr_pstrdup(ctx->pool, json_object_to_json_string_ext(
        st, JSON_C_TO_STRING_PLAIN));
    json_object_put(st);
    memset(&job, 0, sizeof(job));
    job.id = cr_service_uuid(ctx->pool);
    job.operation = op;
    job.body = cr_json_serialize(ctx->pool, body, NULL);
    job.settings = settings;
    job.message_id = m.in->message_id;
    job.org_id = m.meta.sender;
    job.source_system = ctx->caller ? ctx->caller->source_system : NULL;
    job.user_id = m.meta.enterer;
    job.client_dn = ctx->caller ? ctx->caller->client_dn : NULL;
    job.if_match = ctx->if_match > 0 ? ctx->if_match : 0;
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv == APR_SUCCESS) {
        rv = cr_store_async_insert(ctx->db, ctx->pool, &job,
                                   ctx->now_instant);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_audit_in_txn(ctx, opname, "E", 202, NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "queueing the request");
        return;
    }
    ctx->resp.audited = 1;
    /* Durably queued: acknowledge (Bundle-Revise-Async-ACK.json). */
    cr_bc_add(ctx->oc, m.txn, CR_BC_RP_ACCEPTED, NULL, NULL);
    m.profile = CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle";
    {
        cr_envelope_reply_t r;
        memset(&r, 0, sizeof(r));
        r.txn = m.txn;
        r.type = "collection";
        r.profile = m.profile;
        r.params_profile = CR_ENV_PROFILE_PARAMS_ASYNC;
        r.timestamp = ctx->now_instant;
        r.total = -1;
        r.link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                       "/Patient/$", opname, NULL);
        r.meta = m.meta;
        r.oc = ctx->oc;
        ctx->resp.status = 202;
        ctx->resp.body = cr_fhir_envelope_reply(ctx->pool, &r);
        ctx->resp.body_on_error = 1;
    }
}

void cr_ops_maintain_add_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "AddPatient");
}

void cr_ops_maintain_revise_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "RevisePatient");
}

void cr_ops_maintain_partial_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "PartialUpdatePatient");
}

void cr_ops_maintain_merge_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "MergePatient");
}
