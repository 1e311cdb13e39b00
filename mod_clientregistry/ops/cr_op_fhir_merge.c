/* cr_op_fhir_merge: the G5 `POST [base]/Patient/$merge` and
 * `$merge.Async` (operations.md 5.1, DECISION-09).
 *
 * The request is a plain Parameters (read by fhir/cr_fhir_merge.c); each
 * side, named by a reference and/or identifiers, must resolve to exactly
 * one client, inside the transaction.  The merge itself is the engine
 * $MergePatient runs (cr_op_merge_apply, ops/cr_op_merge.c), so both forms
 * leave the same store state and $UnmergePatient undoes either.  The
 * answer is a Parameters with `input` (the request), `outcome` and, on
 * success, `result` (the survivor as committed); the handler's output
 * policy (ops/cr_privacy.c) masks it like any other response.  The .Async
 * form runs every check of the synchronous one (rolled back, nothing
 * written) before it queues the request (CR-ASYNC-004).  Both are
 * idempotent by their Request-Id (CR-PARAM-004, ops/cr_idem.c): the check
 * begins its transaction with the Request-Id claimed, so a repeat gets
 * the first answer before any rule is looked at again.  Declared in
 * cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_merge.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_op_merge.h"
#include "ops/cr_ops_maintain.h"
#include "store/cr_db.h"
#include "store/cr_store.h"
#include "store/cr_store_pg.h"
#include "store/cr_store_source.h"

/* At most this many source records looked at for the survivor's own. */
#define MAX_RECORDS 50

typedef struct fmerge_t {
    cr_bcop_t m;
    json_object *body;
    cr_merge_params_t *in;
    cr_merge_side_t target, source;
    apr_int64_t cur;
} fmerge_t;

/* The answer: Parameters input / outcome / result (DECISION-09). */
static void reply(cr_bcop_t *f, int status)
{
    cr_ctx_t *ctx = f->ctx;
    json_object *out = cr_json_own(ctx->pool, json_object_new_object());
    json_object *params, *p;
    json_object *body = f->baton;
    const char *rt = cr_json_get_string(body, "resourceType");

    cr_json_set_string(out, "resourceType", "Parameters");
    params = cr_json_set_new_array(out, "parameter");
    if (rt && strcmp(rt, "Parameters") == 0) {
        p = cr_json_array_add_object(params);
        cr_json_set_string(p, "name", "input");
        json_object_object_add(p, "resource", json_object_get(
            cr_json_copy(ctx->pool, body)));
    }
    p = cr_json_array_add_object(params);
    cr_json_set_string(p, "name", "outcome");
    json_object_object_add(p, "resource",
                           cr_outcome_to_json_unowned(ctx->oc));
    if (status < 400 && f->patient) {
        p = cr_json_array_add_object(params);
        cr_json_set_string(p, "name", "result");
        json_object_object_add(p, "resource", json_object_get(f->patient));
    }
    ctx->resp.status = status;
    ctx->resp.body = out;
    ctx->resp.body_on_error = 1;
    ctx->resp.raw_body = NULL;
    if (f->patients && status < 400) {
        ctx->resp.patients = f->patients;
    }
}

/* Refuse inside the transaction: rolled back, answered. */
static int refuse(fmerge_t *x, cr_bc_msg_e msg, const char *expr,
                  int status)
{
    cr_bcop_abort(&x->m, msg, expr, status);
    return 0;
}

/* The client side in names, into *out: 1, or 0 when answered (not found,
 * several clients, a merged-away target, a store failure). */
static int resolve_side(fmerge_t *x, const cr_merge_side_in_t *in,
                        cr_merge_side_t *out, int is_target)
{
    cr_ctx_t *ctx = x->m.ctx;
    cr_bc_msg_e none = is_target ? CR_BC_PM_SURVIVOR
                                 : CR_BC_PM_SOURCE_UNKNOWN;
    cr_bc_msg_e several = is_target ? CR_BC_PM_TARGET_SEVERAL
                                    : CR_BC_PM_SOURCE_SEVERAL;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    if (in->ref_id) {
        cr_stored_t *row = NULL;
        rv = cr_store_patient_get(&row, ctx->db, ctx->pool, in->ref_id);
        if (rv == APR_NOTFOUND) {
            return refuse(x, none, in->ref_expr, 422);
        }
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&x->m, rv, "finding the patient");
            return 0;
        }
        if (is_target && row->replaced_by && *row->replaced_by) {
            /* A client merged away cannot survive a merge. */
            return refuse(x, CR_BC_PM_SURVIVOR, in->ref_expr, 422);
        }
        out->pid = in->ref_id;
        out->expr = in->ref_expr;
    }
    for (i = 0; i < in->ids->nelts; i++) {
        const cr_merge_ident_t *id = &APR_ARRAY_IDX(in->ids, i,
                                                    cr_merge_ident_t);
        cr_merge_side_t s;
        memset(&s, 0, sizeof(s));
        s.system = id->system;
        s.value = id->value;
        rv = cr_op_merge_resolve(&x->m, &s);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(&x->m, rv, "finding the patient");
            return 0;
        }
        if (s.pid == NULL) {
            return refuse(x, none, id->expr, 422);
        }
        if (!is_target && s.status && strcmp(s.status, "merged") == 0) {
            /* The identifier was merged away with its client: the
             * client it names now is the survivor, not a source. */
            return refuse(x, CR_BC_PM_MERGED, id->expr, 422);
        }
        if (out->pid && strcmp(out->pid, s.pid) != 0) {
            return refuse(x, several, id->expr, 422);
        }
        out->pid = s.pid;
        if (out->system == NULL) {
            out->system = s.system;
            out->value = s.value;
        }
        if (out->rec == NULL && s.rec && s.rec->status
            && strcmp(s.rec->status, "active") == 0) {
            out->rec = s.rec;
        }
        if (out->expr == NULL) {
            out->expr = id->expr;
        }
    }
    return 1;
}

/* A non-survivor named by reference only: the identifier the merge
 * event records, so that $UnmergePatient can name it -- its PHN, else
 * its first identifier, else its id under [base]/Patient. */
static apr_status_t source_identifier(fmerge_t *x)
{
    cr_ctx_t *ctx = x->m.ctx;
    cr_stored_t *row = NULL;
    json_object *json = NULL, *id;
    apr_status_t rv;

    if (x->source.system) {
        return APR_SUCCESS;
    }
    rv = cr_store_patient_get(&row, ctx->db, ctx->pool, x->source.pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (row->phn && *row->phn) {
        x->source.system = CR_SYS_PHN;
        x->source.value = row->phn;
        return APR_SUCCESS;
    }
    if (cr_json_parse(&json, ctx->pool, row->resource,
                      strlen(row->resource), NULL, NULL) == APR_SUCCESS
        && (id = json_object_array_get_idx(
                cr_json_get_array(json, "identifier"), 0)) != NULL
        && cr_json_get_string(id, "system")
        && cr_json_get_string(id, "value")) {
        x->source.system = cr_json_get_string(id, "system");
        x->source.value = cr_json_get_string(id, "value");
        return APR_SUCCESS;
    }
    x->source.system = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                   "/Patient", NULL);
    x->source.value = x->source.pid;
    return APR_SUCCESS;
}

/* The survivor's source record the result-patient's demographics revise
 * when the target was not named by one: the caller's own record of the
 * client, else its first active record from a source. */
static apr_status_t target_record(fmerge_t *x)
{
    cr_ctx_t *ctx = x->m.ctx;
    const char *reg = cr_store_source_registry_id(ctx->pool, x->target.pid);
    apr_array_header_t *ids;
    cr_source_rec_t *first = NULL;
    apr_status_t rv;
    int i;

    if (x->target.rec) {
        return APR_SUCCESS;
    }
    rv = cr_store_source_list_patient(&ids, ctx->db, ctx->pool,
                                      x->target.pid);
    for (i = 0; rv == APR_SUCCESS && i < ids->nelts && i < MAX_RECORDS;
         i++) {
        const char *rid = APR_ARRAY_IDX(ids, i, const char *);
        cr_source_rec_t *rec = NULL;
        if (strcmp(rid, reg) == 0) {
            continue;
        }
        rv = cr_store_source_get(&rec, ctx->db, ctx->pool, rid);
        if (rv != APR_SUCCESS || strcmp(rec->status, "active") != 0) {
            continue;
        }
        if (x->m.prov.source_system && rec->source_system
            && strcmp(rec->source_system, x->m.prov.source_system) == 0) {
            x->target.rec = rec;
            return APR_SUCCESS;
        }
        if (first == NULL) {
            first = rec;
        }
    }
    x->target.rec = first;
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}

/* result-patient: the target's id (CR-MRG-012) and a link replaces to
 * the source (CR-MRG-013), by reference or by an identifier of the
 * source.  1, or 0 when answered. */
static int check_result(fmerge_t *x)
{
    cr_ctx_t *ctx = x->m.ctx;
    json_object *res = x->in->result;
    const char *id = cr_json_get_string(res, "id");
    json_object *links = cr_json_get_array(res, "link");
    size_t i, n = links ? json_object_array_length(links) : 0;

    if (id == NULL || strcmp(id, x->target.pid) != 0) {
        return refuse(x, CR_BC_PM_RESULT_ID,
                      apr_pstrcat(ctx->pool, x->in->result_expr, ".id",
                                  NULL), 422);
    }
    for (i = 0; i < n; i++) {
        json_object *l = json_object_array_get_idx(links, i);
        json_object *oid = cr_json_get_object(cr_json_get_object(l, "other"),
                                              "identifier");
        const char *type = cr_json_get_string(l, "type");
        cr_merge_side_t s;
        if (cr_fhir_merge_link_is(l, x->source.pid)) {
            return 1;
        }
        if (oid == NULL || type == NULL || strcmp(type, "replaces") != 0) {
            continue;
        }
        memset(&s, 0, sizeof(s));
        s.system = cr_json_get_string(oid, "system");
        s.value = cr_json_get_string(oid, "value");
        if (s.system && s.value
            && cr_op_merge_resolve(&x->m, &s) == APR_SUCCESS && s.pid
            && strcmp(s.pid, x->source.pid) == 0) {
            return 1;
        }
    }
    return refuse(x, CR_BC_PM_RESULT_LINK,
                  apr_pstrcat(ctx->pool, x->in->result_expr, ".link", NULL),
                  422);
}

/* Every rule of $merge: the request read, the transaction begun and both
 * sides resolved at the target's current version.  1 with the
 * transaction open, or 0 when the request was answered. */
static int check(fmerge_t *x, cr_ctx_t *ctx, json_object *body,
                 const char *op)
{
    apr_status_t rv;
    int status;

    cr_bcop_init(&x->m, ctx, CR_BC_TXN_PM, op, NULL);
    x->m.reply = reply;
    x->m.baton = body;
    x->body = body;
    if (!cr_bcop_open_plain(&x->m, 1)) {
        return 0;
    }
    status = cr_fhir_merge_parse(&x->in, ctx->pool, body, ctx->oc);
    if (status) {
        cr_bcop_finish(&x->m, status);
        return 0;
    }
    /* The transaction, with the Request-Id claimed as the messageId
     * (CR-PARAM-004): a repeat gets the first answer here. */
    if (!cr_idem_begin(&x->m, body)) {
        return 0;
    }
    if (!resolve_side(x, &x->in->target, &x->target, 1)
        || !resolve_side(x, &x->in->source, &x->source, 0)) {
        return 0;
    }
    if (strcmp(x->target.pid, x->source.pid) == 0) {
        return refuse(x, CR_BC_PM_SAME, x->source.expr, 422);  /* MRG-011 */
    }
    if (x->in->result && !check_result(x)) {
        return 0;
    }
    {
        /* Both clients locked in one order (PostgreSQL: parallel writers;
         * a no-op on SQLite's single writer), as $MergePatient does. */
        const char *ids[2];
        ids[0] = x->target.pid;
        ids[1] = x->source.pid;
        rv = ctx->db->is_sqlite ? APR_SUCCESS
             : cr_store_patients_lock(ctx->db, ctx->pool, ids, 2);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_bcop_current_version(&x->cur, &x->m, x->target.pid);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&x->m, rv, "reading the target");
        return 0;
    }
    if (!cr_bcop_version_ok(&x->m, x->cur)) {
        return refuse(x, CR_BC_RP_VERSION, NULL, 412);
    }
    return 1;
}

/* The result-patient as the revise after the merge sees it: without id
 * and link, with the identifiers the survivor's record holds now (a
 * revise ends what it is not sent; the merge moves identifiers, the
 * result-patient does not). */
static json_object *payload(fmerge_t *x)
{
    cr_ctx_t *ctx = x->m.ctx;
    json_object *p = cr_json_copy(ctx->pool, x->in->result), *ids;
    apr_array_header_t *cur;
    int i;

    json_object_object_del(p, "id");
    json_object_object_del(p, "link");
    json_object_object_del(p, "identifier");
    if (x->target.rec == NULL
        || cr_store_source_current(&cur, ctx->db, ctx->pool,
                                   x->target.rec->id) != APR_SUCCESS) {
        return p;
    }
    ids = cr_json_set_new_array(p, "identifier");
    for (i = 0; i < cur->nelts; i++) {
        const cr_source_attr_t *a = &APR_ARRAY_IDX(cur, i, cr_source_attr_t);
        json_object *v = NULL;
        if (strcmp(a->kind, "identifier") == 0
            && cr_json_parse(&v, ctx->pool, a->value, strlen(a->value),
                             NULL, NULL) == APR_SUCCESS) {
            json_object_array_add(ids, json_object_get(v));
        }
    }
    return p;
}

void cr_ops_maintain_fhir_merge(cr_ctx_t *ctx, json_object *body)
{
    fmerge_t x;
    cr_patient_t *p = NULL;
    json_object *patient = NULL;
    apr_status_t rv;
    int revised = 0;

    memset(&x, 0, sizeof(x));
    if (!check(&x, ctx, body, "merge")) {
        return;
    }
    rv = source_identifier(&x);
    if (rv == APR_SUCCESS && x.in->result) {
        rv = target_record(&x);
        patient = payload(&x);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&x.m, rv, "reading the merge's clients");
        return;
    }
    if (!cr_op_merge_apply(&x.m, &x.target, &x.source, 1, patient, x.cur,
                           "merge", &revised, &p)) {
        return;
    }
    cr_bc_add(ctx->oc, CR_BC_TXN_PM, CR_BC_PM_OK, NULL, NULL);
    if (cr_op_merge_has_demographics(patient) && x.target.rec == NULL) {
        /* A client written only through the RESTful API has no source
         * record a revise could apply the demographics to. */
        cr_bc_add(ctx->oc, CR_BC_TXN_PM, CR_BC_WARNING,
                  x.in->result_expr,
                  "the result-patient's demographics were not applied: the "
                  "target has no source record");
    }
    if (p) {
        cr_bcop_respond_patient(&x.m, p);
    }
    cr_bcop_finish(&x.m, 200);
}

void cr_ops_maintain_fhir_merge_async(cr_ctx_t *ctx, json_object *body)
{
    fmerge_t x;

    memset(&x, 0, sizeof(x));
    if (!check(&x, ctx, body, "merge.Async")) {
        return;
    }
    /* Checked as $merge checks it (CR-ASYNC-004); the worker runs it.
     * The claim made for the check goes with its transaction; queueing
     * claims the Request-Id again, with the job. */
    cr_db_rollback(ctx->db);
    ctx->idem_claim = NULL;
    cr_op_async_queue(&x.m, body, "merge");
}
