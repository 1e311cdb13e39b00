/* cr_op_async: the .Async forms of AddPatient, RevisePatient,
 * PartialUpdatePatient and MergePatient (operations.md 6).
 *
 * The request is first checked by its own operation (ctx->check_only,
 * CR-ASYNC-004: envelope, sender, user and business rules, up to where
 * its transaction would begin); then it is queued in cr_async_job (with the settings it is to run
 * under) in one transaction with its audit record and acknowledged with
 * 202 and the acknowledgement Bundle.  The worker
 * (httpd/cr_async_worker.c) runs the synchronous operation later and
 * POSTs its response to the callback.  The 202 names the job's status URL
 * in Content-Location ([base]/async/{id}); cr_ops_async_status answers it
 * (FHIR asynchronous pattern: 202 while the job waits or runs, 200 with
 * the response Bundle once it ran; docs/async.md), so that a sender
 * without a callback endpoint gets its result too.  Declared in
 * cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_audit.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops.h"
#include "ops/cr_ops_maintain.h"
#include "store/cr_db.h"
#include "store/cr_store_async.h"

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
    const cr_op_t *target = cr_ops_find(op);
    const cr_envelope_rules_t *rules;
    cr_bcop_t m;

    rules = strcmp(op, "MergePatient") == 0 ? &pm_rules : &rp_rules;
    /* CR-ASYNC-004: the operation's own checks (its envelope rules, the
     * sender and user, its business rules on the Patient) run now, up to
     * where its transaction would begin; a request they reject gets
     * their answer (4xx) instead of the 202.  What needs the data (an
     * identifier held by another client, an unknown survivor) is
     * answered to the callback when the job runs. */
    if (target == NULL) {
        cr_bcop_init(&m, ctx, rules->txn, opname, NULL);
        cr_bcop_reject(&m, CR_BC_INVALID, NULL, 500);
        return;
    }
    ctx->check_only = 1;
    target->run(ctx, body);
    ctx->check_only = 0;
    if (ctx->resp.status >= 400) {
        return;
    }
    /* Passed (or answered without a write): its warnings go with the
     * job's own answer. */
    memset(&ctx->resp, 0, sizeof(ctx->resp));
    ctx->oc = cr_outcome_make(ctx->pool);
    cr_bcop_init(&m, ctx, rules->txn, opname,
              CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle");
    if (!cr_bcop_open(&m, body, rules, 1)) {
        return;
    }
    cr_op_async_queue(&m, body, op);
}

void cr_op_async_queue(cr_bcop_t *f, json_object *body, const char *op)
{
    cr_ctx_t *ctx = f->ctx;
    const char *opname = apr_pstrcat(ctx->pool, op, ".Async", NULL);
    const char *settings;
    cr_async_job_t job;
    json_object *st;
    apr_status_t rv;

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
    job.message_id = f->prov.message_id;
    job.org_id = f->meta.sender;
    job.source_system = ctx->caller ? ctx->caller->source_system : NULL;
    job.user_id = f->meta.enterer;
    job.client_dn = ctx->caller ? ctx->caller->client_dn : NULL;
    job.if_match = ctx->if_match > 0 ? ctx->if_match : 0;
    /* The transaction, with the messageId claimed (CR-PARAM-004): a
     * repeat gets this 202 and job again, not a second job. */
    if (!cr_idem_begin(f, body)) {
        return;
    }
    rv = cr_store_async_insert(ctx->db, ctx->pool, &job, ctx->now_instant);
    if (rv == APR_SUCCESS) {
        rv = cr_audit_in_txn(ctx, opname, "E", 202, NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(f, rv, "queueing the request");
        return;
    }
    ctx->resp.audited = 1;
    /* Durably queued: acknowledge (Bundle-Revise-Async-ACK.json). */
    cr_bc_add(ctx->oc, f->txn, CR_BC_RP_ACCEPTED, NULL, NULL);
    f->profile = CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle";
    {
        cr_envelope_reply_t r;
        memset(&r, 0, sizeof(r));
        r.txn = f->txn;
        r.type = "collection";
        r.profile = f->profile;
        r.params_profile = CR_ENV_PROFILE_PARAMS_ASYNC;
        r.timestamp = ctx->now_instant;
        r.total = -1;
        r.link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                       "/Patient/$", opname, NULL);
        r.meta = f->meta;
        r.oc = ctx->oc;
        ctx->resp.status = 202;
        ctx->resp.content_location = cr_ops_async_status_url(
            ctx->pool, ctx->settings->base_url, job.id);
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

const char *cr_ops_async_status_url(apr_pool_t *pool, const char *base,
                                    const char *job_id)
{
    apr_size_t n = base ? strlen(base) : 0;

    return apr_pstrcat(pool, base ? base : "",
                       n > 0 && base[n - 1] == '/' ? "" : "/", "async/",
                       job_id, NULL);
}

void cr_ops_async_status(cr_ctx_t *ctx, const char *id)
{
    cr_async_job_t j;
    json_object *body = NULL;
    apr_status_t rv;

    memset(&j, 0, sizeof(j));
    rv = cr_store_async_get(&j, ctx->db, ctx->pool, id);
    /* Another organisation's job is not there for this caller (the
     * caller without an identity holds the unguessable id, like the
     * sender that received it). */
    if (rv == APR_SUCCESS && ctx->caller && ctx->caller->org_id
        && !ctx->caller->privileged
        && (j.org_id == NULL || strcmp(j.org_id, ctx->caller->org_id) != 0)) {
        rv = APR_NOTFOUND;
    }
    if (rv == APR_NOTFOUND) {
        ctx->resp.status = 404;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-found", NULL, NULL,
                       "no asynchronous request %s", id);
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading the asynchronous request");
        return;
    }
    if (j.result != NULL) {
        /* Done: the operation's response Bundle (masked as for any caller
         * that is not privileged when it was stored); its OperationOutcome
         * says whether the request was applied. */
        if (cr_json_parse(&body, ctx->pool, j.result, strlen(j.result),
                          NULL, NULL) != APR_SUCCESS) {
            ctx->resp.status = 500;
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "exception", NULL, NULL,
                           "the stored result of %s cannot be read", id);
            return;
        }
        ctx->resp.status = 200;
        ctx->resp.body = body;
        return;
    }
    if (j.status && strcmp(j.status, "failed") == 0) {
        ctx->resp.status = 500;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "exception", NULL, NULL,
                       "the asynchronous request %s could not be run: %s",
                       id, j.last_error ? j.last_error : "unknown error");
        return;
    }
    /* Waiting or running: ask again later. */
    ctx->resp.status = 202;
    ctx->resp.retry_after = 1;
    cr_outcome_add(ctx->oc, CR_SEV_INFORMATION, "informational", NULL, NULL,
                   "the asynchronous request %s is %s", id,
                   j.status && strcmp(j.status, "running") == 0
                   ? "running" : "queued");
}
