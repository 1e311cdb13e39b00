/* cr_op_partial_patch: the G2 `$PartialRevisePatient` in its FHIR-Patch
 * form (operations.md 9.3, CR-LEG-002), the same route as the G4 partial
 * update under that name (ops/cr_op_partial.c), told apart by its body: a
 * Parameters with PHN and patchOperation instead of the BC Bundle.
 *
 * fhir/cr_fhir_patch.c reads the request and its operations; here they
 * are applied, in request order and in one transaction, to the client
 * holding the PHN: a path's where() selects among the client's current
 * values across its active records (cr_fhir_patch_select: one key of the
 * composite, CR-PAT-009), the values under the selected key are ended
 * wherever they are held, and added values go to the registry's own
 * record of the client (as a partial update by PHN does), with today as
 * their business start.  The client is then rebuilt at the next version
 * (If-Match) and answered like a Revise.  docs/partial-revise-patch.md.
 * Declared (through cr_ops_maintain_partial_revise) in cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_phn.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_patch.h"
#include "fhir/cr_fhir_patient.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops_maintain.h"
#include "store/cr_store.h"
#include "store/cr_store_source.h"

/* At most this many records of one client are looked at. */
#define MAX_RECORDS 50

#define OP_NAME "PartialRevisePatient"

/* One current value of the client. */
typedef struct held_t {
    cr_source_attr_t attr;      /* attr.id NULL once ended */
    json_object *json;
} held_t;

/* The current values of every active record of pid (of held_t). */
static apr_status_t gather(apr_array_header_t **out, cr_ctx_t *ctx,
                           const char *pid)
{
    apr_array_header_t *ids, *all;
    apr_status_t rv;
    int i, j;

    all = apr_array_make(ctx->pool, 16, sizeof(held_t));
    *out = all;
    rv = cr_store_source_list_patient(&ids, ctx->db, ctx->pool, pid);
    for (i = 0; rv == APR_SUCCESS && i < ids->nelts && i < MAX_RECORDS;
         i++) {
        const char *rid = APR_ARRAY_IDX(ids, i, const char *);
        cr_source_rec_t *rec = NULL;
        apr_array_header_t *cur;
        rv = cr_store_source_get(&rec, ctx->db, ctx->pool, rid);
        if (rv != APR_SUCCESS || strcmp(rec->status, "active") != 0) {
            rv = rv == APR_NOTFOUND ? APR_SUCCESS : rv;
            continue;
        }
        rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rid);
        for (j = 0; rv == APR_SUCCESS && j < cur->nelts
             && all->nelts < CR_COMPOSITE_MAX_ATTRS; j++) {
            held_t *h = apr_array_push(all);
            h->attr = APR_ARRAY_IDX(cur, j, cr_source_attr_t);
            h->json = NULL;
            if (cr_json_parse(&h->json, ctx->pool, h->attr.value,
                              strlen(h->attr.value), NULL, NULL)
                != APR_SUCCESS) {
                h->json = NULL;
            }
        }
    }
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

/* The attribute op's value makes (kind and canonical value), checked as
 * part of a Patient; NULL after recording the problems in ctx->oc. */
static const cr_snapattr_t *value_attr(cr_bcop_t *m, const cr_patch_op_t *op)
{
    cr_ctx_t *ctx = m->ctx;
    json_object *pt = json_object_new_object();
    apr_array_header_t *sa;
    cr_patient_t *p = NULL;
    apr_status_t rv;

    cr_json_own(ctx->pool, pt);
    cr_json_set_string(pt, "resourceType", "Patient");
    if (op->repeating) {
        json_object *a = cr_json_set_new_array(pt, op->kind);
        json_object_array_add(a, json_object_get(op->value));
    }
    else {
        json_object_object_add(pt, op->member, json_object_get(op->value));
    }
    rv = cr_fhir_patient_parse(&p, ctx->pool, pt, op->expr, ctx->today,
                               &ctx->settings->fhir, ctx->oc);
    if (rv != APR_SUCCESS) {
        return NULL;
    }
    sa = cr_composite_extract(ctx->pool, pt, ctx->today);
    if (sa->nelts != 1) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_PATCH_UNSUPPORTED,
                  op->expr, "the value holds nothing the registry keeps");
        return NULL;
    }
    return &APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
}

/* Apply op to the client's values held; 0 when answered (refused, or a
 * store failure; rolled back). */
static int apply(cr_bcop_t *m, const cr_patch_op_t *op, const char *pid,
                 const char *reg_id, apr_array_header_t **held)
{
    cr_ctx_t *ctx = m->ctx;
    const cr_snapattr_t *nv = NULL;
    json_object **vals;
    held_t **who;
    int *sel, i, n = 0, present = 0;
    apr_status_t rv = APR_SUCCESS;

    if (op->value) {
        nv = value_attr(m, op);
        if (nv == NULL) {
            cr_db_rollback(ctx->db);
            cr_bcop_finish(m, 422);
            return 0;
        }
    }
    vals = apr_pcalloc(ctx->pool, sizeof(*vals) * ((*held)->nelts + 1));
    who = apr_pcalloc(ctx->pool, sizeof(*who) * ((*held)->nelts + 1));
    sel = apr_pcalloc(ctx->pool, sizeof(*sel) * ((*held)->nelts + 1));
    for (i = 0; i < (*held)->nelts; i++) {
        held_t *h = &APR_ARRAY_IDX(*held, i, held_t);
        if (h->attr.id == NULL || h->json == NULL
            || strcmp(h->attr.kind, op->kind) != 0) {
            continue;
        }
        if (nv && strcmp(h->attr.value, nv->value) == 0) {
            present = 1;
        }
        vals[n] = h->json;
        who[n++] = h;
    }
    if (op->repeating && op->action != CR_PATCH_ADD) {
        switch (cr_fhir_patch_select(ctx->pool, op, vals, n, sel)) {
        case CR_PATCH_SEL_NONE:
            cr_bcop_abort(m, CR_BC_RP_PATCH_NONE, op->path_expr, 422);
            return 0;
        case CR_PATCH_SEL_AMBIGUOUS:
            cr_bcop_abort(m, CR_BC_RP_PATCH_AMBIGUOUS, op->path_expr, 422);
            return 0;
        default:
            break;
        }
    }
    else {
        /* A single: every current value of the kind is the selection. */
        for (i = 0; i < n; i++) {
            sel[i] = op->repeating ? 0 : 1;
        }
        if (!op->repeating && op->action == CR_PATCH_DELETE && n == 0) {
            cr_bcop_abort(m, CR_BC_RP_PATCH_NONE, op->path_expr, 422);
            return 0;
        }
    }
    for (i = 0; rv == APR_SUCCESS && i < n; i++) {
        if (!sel[i] || (nv && strcmp(who[i]->attr.value, nv->value) == 0)) {
            continue;   /* the value asked for stays as it is */
        }
        rv = cr_store_source_end(ctx->db, ctx->pool, who[i]->attr.id,
                                 ctx->now_instant, ctx->now_instant);
        who[i]->attr.id = NULL;
    }
    if (rv == APR_SUCCESS && nv && !present) {
        rv = cr_store_source_add(ctx->db, ctx->pool, reg_id, pid, nv,
                                 &m->prov);
        if (rv == APR_SUCCESS) {
            /* later operations see the value added */
            rv = gather(held, ctx, pid);
        }
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(m, rv, "applying the patch");
        return 0;
    }
    return 1;
}

void cr_op_partial_patch(cr_ctx_t *ctx, json_object *body)
{
    cr_bcop_t m;
    cr_patch_req_t *q = NULL;
    const char *pid = NULL, *reg_id;
    apr_array_header_t *held;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int status, i;

    cr_bcop_init(&m, ctx, CR_BC_TXN_RP, OP_NAME,
                 CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    status = cr_fhir_patch_parse(&q, ctx->pool, body, ctx->oc);
    m.meta.request_message_id = q->message_id;
    if (status) {
        cr_bcop_finish(&m, status);
        return;
    }
    m.in = apr_pcalloc(ctx->pool, sizeof(*m.in));
    m.in->message_id = q->message_id;
    m.in->sender = q->sender;
    m.in->parameters = body;
    if (!cr_bcop_open_in(&m, q->enterer, "Parameters", 1)) {
        return;
    }
    if (cr_phn_validate(q->phn) != CR_PHN_OK) {
        cr_bcop_reject(&m, CR_BC_RP_PHN, q->phn_expr, 422);
        return;
    }
    /* The transaction, with the messageId claimed (CR-PARAM-004). */
    if (!cr_idem_begin(&m, body)) {
        return;
    }
    rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, CR_SYS_PHN,
                                   q->phn);
    if (rv == APR_SUCCESS && pid == NULL) {
        cr_bcop_abort(&m, CR_BC_RP_UPD_IDENTIFIER, q->phn_expr, 422);
        return;
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_ensure_records(&m, pid);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_current_version(&cur, &m, pid);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "reading the client");
        return;
    }
    if (!cr_bcop_version_ok(&m, cur)) {
        cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
        return;
    }
    reg_id = cr_store_source_registry_id(ctx->pool, pid);
    rv = gather(&held, ctx, pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "reading the client's values");
        return;
    }
    for (i = 0; i < q->ops->nelts && i < CR_PATCH_MAX_OPS; i++) {
        if (!apply(&m, &APR_ARRAY_IDX(q->ops, i, cr_patch_op_t), pid,
                   reg_id, &held)) {
            return;
        }
    }
    cr_bcop_revise_and_answer(&m, pid, cur + 1, "partial-revise", OP_NAME,
                              "storing the partial revise");
}
