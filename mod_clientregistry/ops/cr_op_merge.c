/* cr_op_merge: $MergePatient and $UnmergePatient (operations.md 5.2; the
 * unmerge is the registry's own inverse of a merge, same request Bundle).
 *
 * The request Patient names the survivor by its first identifier and each
 * non-survivor by a link "replaces".  A merge moves the non-survivors'
 * source records to the survivor (status merged), makes each merged-away
 * person inactive with link replaced-by, gives the survivor link
 * replaces, settles the pair on the duplicate review list and records a
 * merge event; demographics sent with the merge revise the survivor's
 * source record, and meta.security sent alone replaces its security
 * labels (R or V restrict the client, N lifts that).  The unmerge undoes the events it names.  Both run in
 * one transaction from the survivor at the version If-Match names.
 * Declared in cr_ops_maintain.h.  The merge itself (cr_op_merge_apply,
 * cr_op_merge.h) is also what the G5 $merge runs (cr_op_fhir_merge.c).
 */
#include <string.h>

#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_merge.h"
#include "ops/cr_bcop.h"
#include "ops/cr_op_merge.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_ops_review.h"
#include "store/cr_store.h"
#include "store/cr_store_person.h"
#include "store/cr_store_pg.h"
#include "store/cr_store_match.h"
#include "store/cr_store_query.h"
#include "store/cr_store_review.h"
#include "store/cr_store_source.h"

#define MAX_LINKS 20
#define MERGE_PROFILE CR_ENV_PROFILE_BASE "bc-merge-response-bundle"
#define MERGE_PATIENT_PROFILE CR_ENV_PROFILE_BASE "bc-merge-patient"
#define MAX_PROFILES 10

typedef cr_merge_side_t side_t;

/* The request Bundle of a merge and of an unmerge. */
static const cr_envelope_rules_t merge_rules = {
    .txn = CR_BC_TXN_PM, .min_entries = 2, .max_entries = 2,
    .min_patients = 1, .max_patients = 1,
    .min_related = 0, .max_related = 0
};

apr_status_t cr_op_merge_resolve(cr_bcop_t *m, side_t *s)
{
    apr_status_t rv;
    const char *status = NULL;

    s->pid = NULL;
    rv = cr_store_source_find(&s->rec, m->ctx->db, m->ctx->pool, s->system,
                              s->value);
    if (rv == APR_SUCCESS) {
        s->pid = s->rec->patient_id;
        s->status = s->rec->status;
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
    s->status = status;
    return rv;
}

/* CR-BND-005: a Patient that declares profiles declares bc-merge-patient
 * (none declared is accepted: meta.profile is optional in FHIR).  Returns
 * the expression of the offending element, or NULL. */
static const char *merge_profile_bad(apr_pool_t *pool, json_object *pat,
                                     const char *expr)
{
    json_object *prof = cr_json_get(cr_json_get_object(pat, "meta"),
                                    "profile");
    size_t i, n;

    if (prof == NULL) {
        return NULL;
    }
    if (!json_object_is_type(prof, json_type_array)
        || json_object_array_length(prof) > MAX_PROFILES) {
        return apr_pstrcat(pool, expr, ".meta.profile", NULL);
    }
    n = json_object_array_length(prof);
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(prof, i);
        if (json_object_is_type(p, json_type_string)
            && strcmp(json_object_get_string(p), MERGE_PATIENT_PROFILE) == 0) {
            return NULL;
        }
    }
    return apr_pstrcat(pool, expr, ".meta.profile", NULL);
}

/* CR-EXT-004: every bc-merge-status-extension of a link has valueCode
 * obsolete or cancelled.  Returns the offending expression, or NULL. */
static const char *merge_status_bad(apr_pool_t *pool, json_object *link,
                                    const char *expr)
{
    json_object *ext = cr_json_get_array(link, "extension");
    size_t i, n = ext ? json_object_array_length(ext) : 0;

    for (i = 0; i < n && i < MAX_LINKS; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        const char *url = cr_json_get_string(e, "url");
        const char *code = cr_json_get_string(e, "valueCode");
        if (url == NULL || strcmp(url, CR_EXT_MERGE_STATUS) != 0) {
            continue;
        }
        if (!cr_fhir_merge_status_valid(code)) {
            return apr_psprintf(pool, "%s.extension[%d].valueCode", expr,
                                (int)i);
        }
    }
    return NULL;
}

static int read_merge(cr_bcop_t *m, side_t *surv, side_t *ns, int *nns,
                      json_object **patient)
{
    const cr_envelope_entry_t *e = &APR_ARRAY_IDX(m->in->patients, 0,
                                                  cr_envelope_entry_t);
    json_object *ids = cr_json_get_array(e->resource, "identifier");
    json_object *links = cr_json_get_array(e->resource, "link");
    size_t i, n = links ? json_object_array_length(links) : 0;

    const char *bad;

    *patient = e->resource;
    *nns = 0;
    memset(surv, 0, sizeof(*surv));
    bad = merge_profile_bad(m->ctx->pool, e->resource, e->expr);
    if (bad) {
        cr_bcop_reject(m, CR_BC_INVALID, bad, 400);
        return 0;
    }
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
        bad = merge_status_bad(m->ctx->pool, l, apr_psprintf(
            m->ctx->pool, "%s.link[%d]", e->expr, (int)i));
        if (bad) {
            cr_bcop_reject(m, CR_BC_PM_MERGE_STATUS, bad, 400);
            return 0;
        }
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
    int i, settled = 0;

    *refused = 0;
    rv = cr_bcop_ensure_records(m, ns->pid);
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_ensure_records(m, surv_pid);
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
    rv = cr_bcop_store(m, json, ns->pid, nsrow->version + 1, "merge", 0, NULL);
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
    rv = cr_store_match_duplicate_set_status(&settled, ctx->db, ctx->pool,
                                             surv_pid, ns->pid,
                                             CR_STORE_MATCH_DUP_MERGED,
                                             CR_STORE_MATCH_DUP_OPEN);
    if (rv == APR_SUCCESS && settled) {
        /* The pair's history shows the merge (docs/console.md). */
        rv = cr_ops_review_note(ctx, surv_pid, ns->pid,
                                CR_STORE_REVIEW_MERGED,
                                CR_STORE_MATCH_DUP_MERGED, NULL);
    }
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

/* Lock the survivor and the non-survivors ns (nns of them) in one fixed
 * order (PostgreSQL; cr_store_patients_lock), so that merges naming the
 * same persons the other way round take turns instead of deadlocking.
 * A non-survivor that does not resolve is left to the caller's checks. */
static apr_status_t lock_sides(cr_bcop_t *m, const side_t *surv,
                               side_t *ns, int nns)
{
    const char *ids[MAX_LINKS + 1];
    int i, n = 0;

    if (m->ctx->db->is_sqlite) {
        return APR_SUCCESS;
    }
    ids[n++] = surv->pid;
    for (i = 0; i < nns && i < MAX_LINKS; i++) {
        apr_status_t rv = cr_op_merge_resolve(m, &ns[i]);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        ids[n++] = ns[i].pid;
    }
    return cr_store_patients_lock(m->ctx->db, m->ctx->pool, ids, n);
}

/* Open the transaction of a merge or unmerge and find the survivor at the
 * version If-Match names: 1, or 0 when the request was answered (store
 * failure, unknown survivor, 412).  The non-survivors ns (nns, may be 0)
 * are locked with the survivor. */
static int begin_on_survivor(cr_bcop_t *m, json_object *body,
                             side_t *surv, side_t *ns, int nns,
                             apr_int64_t *cur)
{
    apr_status_t rv;

    /* The transaction, with the messageId claimed (CR-PARAM-004). */
    if (!cr_idem_begin(m, body)) {
        return 0;
    }
    rv = cr_op_merge_resolve(m, surv);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "finding the survivor");
        return 0;
    }
    if (surv->pid == NULL) {
        cr_bcop_abort(m, CR_BC_PM_SURVIVOR,
                      "Bundle.entry[1].resource.identifier[0]", 422);
        return 0;
    }
    rv = lock_sides(m, surv, ns, nns);
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_current_version(cur, m, surv->pid);
    }
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

/* A merge whose Patient carries meta.security and no demographics:
 * the labels replace the survivor's source record's (operations.md 0.7),
 * as a partial update of that record would. */
static apr_status_t merge_security(cr_bcop_t *m, const char *rec_id,
                                   const char *pid, json_object *patient)
{
    cr_ctx_t *ctx = m->ctx;
    json_object *sec = cr_json_get_array(cr_json_get(patient, "meta"),
                                         "security");
    const char *eff = cr_composite_effective(patient);
    const char *start = eff ? eff : ctx->today;
    json_object *only;
    apr_array_header_t *sa, *cur;
    const cr_snapattr_t *attr;
    apr_status_t rv;
    int i, present = 0;

    if (sec == NULL || json_object_array_length(sec) == 0) {
        return APR_SUCCESS;
    }
    only = json_object_new_object();
    json_object_object_add(cr_json_set_new_object(only, "meta"), "security",
                           json_object_get(sec));
    sa = cr_composite_extract(ctx->pool, only, start);
    json_object_put(only);
    if (sa->nelts == 0) {
        return APR_SUCCESS;
    }
    attr = &APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
    rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
    for (i = 0; rv == APR_SUCCESS && i < cur->nelts; i++) {
        const cr_source_attr_t *a = &APR_ARRAY_IDX(cur, i, cr_source_attr_t);
        if (strcmp(a->kind, attr->kind) != 0) {
            continue;
        }
        if (attr->value && strcmp(a->value, attr->value) == 0) {
            present = 1;
        }
        else {
            rv = cr_store_source_end(ctx->db, ctx->pool, a->id, start,
                                     ctx->now_instant);
        }
    }
    if (rv == APR_SUCCESS && attr->value && !present) {
        rv = cr_store_source_add(ctx->db, ctx->pool, rec_id, pid, attr,
                                 &m->prov);
    }
    return rv;
}

int cr_op_merge_has_demographics(json_object *patient)
{
    return patient != NULL
           && (cr_json_get(patient, "name") != NULL
               || cr_json_get(patient, "gender") != NULL
               || cr_json_get(patient, "birthDate") != NULL
               || cr_json_get(patient, "address") != NULL
               || cr_json_get(patient, "telecom") != NULL);
}

int cr_op_merge_apply(cr_bcop_t *m, side_t *surv, side_t *ns, int nns,
                      json_object *patient, apr_int64_t cur,
                      const char *audit_op, int *revised,
                      cr_patient_t **out)
{
    cr_ctx_t *ctx = m->ctx;
    json_object *payload;
    apr_status_t rv;
    int i, refused, demographics;

    *revised = 0;
    demographics = cr_op_merge_has_demographics(patient);
    rv = cr_bcop_ensure_records(m, surv->pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "reading the survivor");
        return 0;
    }
    for (i = 0; i < nns; i++) {
        if (strcmp(ns[i].pid, surv->pid) == 0) {
            /* Two source records of one client: the non-surviving
             * record is merged into the same person. */
            cr_merge_event_t ev;
            if (ns[i].rec == NULL || surv->rec == NULL
                || strcmp(ns[i].rec->id, surv->rec->id) == 0) {
                cr_bcop_abort(m, CR_BC_PM_SAME, ns[i].expr, 422);
                return 0;
            }
            if (strcmp(ns[i].rec->status, "merged") == 0) {
                cr_bcop_abort(m, CR_BC_PM_MERGED, ns[i].expr, 422);
                return 0;
            }
            ev.id = cr_service_uuid(ctx->pool);
            ev.survivor_id = surv->pid;
            ev.nonsurvivor_id = surv->pid;
            ev.nonsurvivor_version = cur;
            ev.ns_system = ns[i].system;
            ev.ns_value = ns[i].value;
            rv = cr_store_person_merge_insert(ctx->db, ctx->pool, &ev,
                                              ctx->now_instant,
                                              m->prov.message_id);
            if (rv == APR_SUCCESS) {
                rv = cr_store_source_move(ctx->db, ctx->pool,
                                          ns[i].rec->id, surv->pid,
                                          "merged", ev.id, ctx->now_instant);
            }
        }
        else {
            rv = merge_person(m, surv->pid, &ns[i], &refused);
            if (rv == APR_SUCCESS && refused) {
                cr_bcop_abort(m, CR_BC_PM_MERGED, ns[i].expr, 422);
                return 0;
            }
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(m, rv, "merging");
            return 0;
        }
    }
    if (demographics && surv->rec) {
        /* Demographics with the merge: a revise of the survivor's source
         * record after the merge (operations.md 5). */
        const char *eff = cr_composite_effective(patient);
        apr_array_header_t *snap;
        int changed = 0;
        payload = cr_json_copy(ctx->pool, patient);
        json_object_object_del(payload, "link");
        snap = cr_composite_extract(ctx->pool, payload,
                                    eff ? eff : ctx->today);
        rv = cr_store_source_touch(ctx->db, ctx->pool, surv->rec->id,
                                   cr_json_serialize(ctx->pool, payload,
                                                     NULL),
                                   ctx->now_instant);
        if (rv == APR_SUCCESS) {
            rv = cr_store_source_apply(&changed, ctx->db, ctx->pool,
                                       surv->rec->id, surv->pid, snap,
                                       eff ? eff : ctx->now_instant,
                                       &m->prov);
        }
        *revised = 1;
    }
    else if (patient && surv->rec) {
        /* Only meta.security with the merge: the survivor's labels. */
        rv = merge_security(m, surv->rec->id, surv->pid, patient);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_rebuild(m, surv->pid, cur + 1, "merge", out);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(m, audit_op, "U", 200);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "storing the merge");
        return 0;
    }
    return 1;
}

void cr_ops_maintain_merge(cr_ctx_t *ctx, json_object *body)
{
    cr_bcop_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i, revised;

    cr_bcop_init(&m, ctx, CR_BC_TXN_PM, "MergePatient", MERGE_PROFILE);
    if (!cr_bcop_open(&m, body, &merge_rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    if (!begin_on_survivor(&m, body, &surv, ns, nns, &cur)) {
        return;
    }
    for (i = 0; i < nns; i++) {
        ns[i].expr = apr_psprintf(ctx->pool,
                                  "Bundle.entry[1].resource.link[%d]", i);
        rv = cr_op_merge_resolve(&m, &ns[i]);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&m, rv, "finding a non-survivor");
            return;
        }
        if (ns[i].pid == NULL) {
            cr_bcop_abort(&m, CR_BC_PM_NONSURVIVOR, ns[i].expr, 422);
            return;
        }
    }
    if (!cr_op_merge_apply(&m, &surv, ns, nns, patient, cur, "MergePatient",
                           &revised, NULL)) {
        return;
    }
    if (revised) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_EXISTING_PHN, NULL, NULL);
    }
    else {
        cr_bc_add(ctx->oc, CR_BC_TXN_PM, CR_BC_PM_OK, NULL, NULL);
    }
    cr_bcop_finish(&m, 200);
}

void cr_ops_maintain_unmerge(cr_ctx_t *ctx, json_object *body)
{
    cr_bcop_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient;
    cr_merge_event_t *ev;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i;

    cr_bcop_init(&m, ctx, CR_BC_TXN_PM, "UnmergePatient", MERGE_PROFILE);
    if (!cr_bcop_open(&m, body, &merge_rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    if (!begin_on_survivor(&m, body, &surv, NULL, 0, &cur)) {
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
                rv = cr_bcop_rebuild(&m, surv.pid, ++cur, "unmerge", NULL);
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
                    rv = cr_bcop_store(&m, json, nspid, now->version + 1,
                                       "unmerge", 1, NULL);
                }
                if (rv == APR_SUCCESS) {
                    rv = cr_store_person_set_replaced_by(ctx->db, ctx->pool,
                                                         nspid, NULL);
                }
                if (rv == APR_SUCCESS) {
                    /* What the merge settled is open for review again
                     * (a reviewer's own decision is left alone). */
                    int reopened = 0;
                    rv = cr_store_match_duplicate_set_status(
                        &reopened, ctx->db, ctx->pool, surv.pid, nspid,
                        CR_STORE_MATCH_DUP_OPEN, CR_STORE_MATCH_DUP_MERGED);
                    if (rv == APR_SUCCESS && reopened) {
                        rv = cr_ops_review_note(ctx, surv.pid, nspid,
                                                CR_STORE_REVIEW_UNMERGED,
                                                CR_STORE_MATCH_DUP_OPEN,
                                                NULL);
                    }
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
        rv = cr_bcop_rebuild(&m, surv.pid, cur + 1, "unmerge", NULL);
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
