/* cr_async_worker: the per-child worker of the asynchronous operations
 * (operations.md 6, DECISION-10).
 *
 * $<Op>.Async requests are queued in cr_async_job by ops/cr_op_async.c
 * before the 202.  One thread per child polls the queue: it claims a due
 * job (an UPDATE that only one worker of all children can win), runs the
 * synchronous operation on a cr_ctx_t built from the stored request,
 * sender and settings -- the job is marked executed inside the
 * operation's own transaction, so it is applied at most once even when
 * the worker dies -- stores the response Bundle and POSTs it to
 * [callback base]/Patient/$<Op>.Async of the sender's organisation
 * (ClientRegistryCallback); a sender without a callback endpoint fetches
 * the kept result at GET [base]/async/{id} (status "completed").  A
 * failed delivery is retried with
 * exponential back-off (ClientRegistryCallbackRetry) stored in the job
 * row (next_attempt_at), so retries survive restarts.  Request threads
 * never wait for this thread.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "core/cr_datetime.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_ops.h"
#include "ops/cr_privacy.h"
#include "store/cr_store.h"
#include "store/cr_store_async.h"
#include "httpd/cr_async_worker.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_notify_worker.h"
#include "httpd/cr_outbound.h"

#define POLL_INTERVAL apr_time_from_msec(250)
#define JOBS_PER_TICK 8
#define LOCK_SECONDS 120
#define CALLBACK_TIMEOUT 10L
#define MAX_BACKOFF CR_CONFIG_RETRY_MAX_DELAY

typedef struct async_worker_t {
    server_rec *s;
    apr_thread_t *thread;
    volatile apr_uint32_t stopping;
} async_worker_t;

static async_worker_t *worker = NULL;

/* ---- one job ---------------------------------------------------------- */

static const char *instant(apr_pool_t *pool, apr_time_t t)
{
    char buf[CR_DATETIME_INSTANT_SIZE];

    if (cr_datetime_format_instant(buf, sizeof(buf), t) != APR_SUCCESS) {
        return "1970-01-01T00:00:00.000Z";
    }
    return apr_pstrdup(pool, buf);
}

typedef cr_async_job_t job_t;

static apr_status_t mark_executed(cr_ctx_t *ctx, void *baton)
{
    return cr_store_async_mark_executed(ctx->db, ctx->pool, baton);
}

static void trace(void *baton, int is_error, const char *msg)
{
    server_rec *s = baton;

    ap_log_error(APLOG_MARK, is_error ? APLOG_ERR : APLOG_INFO, 0, s,
                 CR_APLOGNO(00400) "async: %s", msg);
}

/* Run the job's operation; *result is the response Bundle. */
static void execute(job_t *j, cr_db_t *db, apr_pool_t *pool, server_rec *s,
                    const char **result, int *status)
{
    cr_ctx_t ctx;
    cr_settings_t set;
    cr_caller_t caller;
    json_object *body = NULL, *st = NULL;
    const cr_op_t *op = cr_ops_find(j->operation);
    cr_json_limits_t lim;

    memset(&ctx, 0, sizeof(ctx));
    memset(&set, 0, sizeof(set));
    memset(&caller, 0, sizeof(caller));
    memset(&lim, 0, sizeof(lim));
    cr_service_ctx_init(&ctx, pool, apr_time_now());
    if (cr_json_parse(&st, pool, j->settings, strlen(j->settings), NULL,
                      NULL) != APR_SUCCESS
        || cr_json_parse(&body, pool, j->body, strlen(j->body), NULL, NULL)
           != APR_SUCCESS || op == NULL) {
        *result = NULL;
        *status = 500;
        return;
    }
    set.base_url = cr_json_get_string(st, "base");
    set.fhir = cr_fhir_default_limits;
    set.fhir.max_repeats = json_object_get_int(cr_json_get(st, "maxRepeats"));
    set.fhir.max_string = (apr_size_t)json_object_get_int64(
        cr_json_get(st, "maxString"));
    set.phn_range.first = json_object_get_int64(cr_json_get(st, "phnFirst"));
    set.phn_range.last = json_object_get_int64(cr_json_get(st, "phnLast"));
    set.match.certain = json_object_get_double(cr_json_get(st, "certain"));
    set.match.probable = json_object_get_double(cr_json_get(st, "probable"));
    set.match.possible = json_object_get_double(cr_json_get(st, "possible"));
    caller.org_id = j->org_id;
    caller.source_system = j->source_system;
    caller.user_id = j->user_id;
    caller.client_dn = j->client_dn;
    ctx.db = db;
    ctx.settings = &set;
    ctx.caller = &caller;
    ctx.message_id = j->message_id ? j->message_id : j->id;
    ctx.if_match = j->if_match > 0 ? j->if_match : -1;
    ctx.trace = trace;
    ctx.trace_baton = s;
    ctx.before_commit = mark_executed;
    ctx.before_commit_baton = (void *)j->id;
    op->run(&ctx, body);
    *status = ctx.resp.status ? ctx.resp.status : 500;
    /* The output policy: the job keeps no privilege, so the result is
     * masked as for any caller that is not privileged. */
    cr_privacy_apply(&ctx);
    *result = ctx.resp.body ? cr_json_serialize(pool, ctx.resp.body, NULL)
                            : NULL;
}

/* A delivery abandoned because the child stops: not a failed attempt
 * (the receiver did nothing wrong). */
#define POST_INTERRUPTED CR_OUTBOUND_INTERRUPTED

/* POST body to url with the registry's outbound credentials; 0 on a 2xx
 * answer, else the HTTP status (or -1 for a transport error, *err set). */
static long post(server_rec *s, const cr_srv_conf_t *sc, const char *url,
                 const char *body, const char **err, apr_pool_t *pool)
{
    long code = cr_outbound_post(s, sc, url, body, CALLBACK_TIMEOUT,
                                 &worker->stopping, err, pool);

    return code >= 200 && code < 300 ? 0 : code;
}

static int load(job_t *j, cr_db_t *db, apr_pool_t *pool)
{
    return cr_store_async_get(j, db, pool, j->id) == APR_SUCCESS;
}

/* A response for a job applied by a worker that died before storing it. */
static const char *lost_result(apr_pool_t *pool, const job_t *j)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_reply_t r;
    cr_bc_txn_e txn = cr_bc_txn_for_operation(j->operation);

    memset(&r, 0, sizeof(r));
    cr_bc_add(oc, txn, txn == CR_BC_TXN_PM ? CR_BC_PM_OK
                                           : CR_BC_RP_PROCESSED, NULL, NULL);
    r.txn = txn;
    r.type = "collection";
    r.timestamp = instant(pool, apr_time_now());
    r.total = -1;
    r.meta.message_id = apr_pstrdup(pool, j->id);
    r.meta.request_message_id = j->message_id;
    r.meta.sender = j->org_id;
    r.meta.enterer = j->user_id;
    r.meta.history = -1;
    r.meta.identifiers_only = -1;
    r.oc = oc;
    return cr_json_serialize(pool, cr_fhir_envelope_reply(pool, &r), NULL);
}

static void work_job(const char *id, cr_db_t *db, apr_pool_t *pool,
                     server_rec *s, const cr_srv_conf_t *sc)
{
    apr_time_t now = apr_time_now();
    const char *err = NULL, *url, *at;
    job_t j;
    int won = 0, base, max;
    long code;

    memset(&j, 0, sizeof(j));
    j.id = id;
    if (cr_store_async_claim(&won, db, pool, id, instant(pool, now),
                             instant(pool, now + apr_time_from_sec(
                                 LOCK_SECONDS))) != APR_SUCCESS
        || !won || !load(&j, db, pool)) {
        return;   /* another worker has it */
    }
    if (j.result == NULL) {
        const char *result = NULL;
        int status = 0;
        if (j.executed) {
            result = lost_result(pool, &j);
            status = 200;
        }
        else {
            execute(&j, db, pool, s, &result, &status);
        }
        if (status == 503 || result == NULL) {
            /* Busy (or broken): run it again later. */
            code = -1;
            err = "the operation could not run";
            goto retry;
        }
        /* The job stays claimed (running): this worker delivers it now. */
        j.result = result;
        j.result_status = status;
        if (cr_store_async_set_result(db, pool, id, result, status,
                                      instant(pool, apr_time_now()))
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, CR_APLOGNO(00401)
                         "async: job %s: storing the result failed", id);
            return;
        }
    }
    url = sc->callbacks && j.org_id
          ? apr_hash_get(sc->callbacks, j.org_id, APR_HASH_KEY_STRING)
          : NULL;
    if (url == NULL) {
        /* No callback for the sender's organisation: the result stays in
         * the job for the sender to fetch at the status URL the 202 gave
         * (GET [base]/async/{id}, docs/async.md). */
        at = instant(pool, now);
        cr_store_async_reschedule(db, pool, id, "completed", j.attempts, at,
                                  NULL, at);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00402)
                     "async: job %s: done; no callback endpoint for the "
                     "sender's organisation, the result waits to be "
                     "fetched", id);
        return;
    }
    url = apr_pstrcat(pool, url, "/Patient/$", j.operation, ".Async", NULL);
    code = post(s, sc, url, j.result, &err, pool);
    if (code == 0) {
        at = instant(pool, apr_time_now());
        cr_store_async_reschedule(db, pool, id, "delivered", j.attempts + 1,
                                  at, NULL, at);
        return;
    }
    if (code == POST_INTERRUPTED) {
        /* Back to the queue as it was, due at once, for the next child
         * (or this one's successor) to deliver; the receiver may get it
         * twice if the abort came after it had read the whole body:
         * delivery is at least once. */
        at = instant(pool, apr_time_now());
        cr_store_async_reschedule(db, pool, id, "queued", j.attempts, at,
                                  err, at);
        return;
    }
retry:
    cr_config_callback_retry(&base, &max, sc);
    {
        apr_int64_t delay = base;
        const char *why = err ? err : apr_psprintf(pool, "HTTP %ld", code);
        int k;
        for (k = 0; k < j.attempts && delay < MAX_BACKOFF; k++) {
            delay *= 2;
        }
        if (delay > MAX_BACKOFF) {
            delay = MAX_BACKOFF;
        }
        at = instant(pool, apr_time_now() + apr_time_from_sec(delay));
        cr_store_async_reschedule(db, pool, id,
                                  j.attempts + 1 >= max ? "failed"
                                                        : "queued",
                                  j.attempts + 1, at, why,
                                  instant(pool, apr_time_now()));
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00403)
                     "async: job %s: attempt %d failed (%s); %s", id,
                     j.attempts + 1, why,
                     j.attempts + 1 >= max ? "giving up" : "will retry");
    }
}

static void tick(apr_pool_t *pool, server_rec *s)
{
    const cr_srv_conf_t *sc = ap_get_module_config(s->module_config,
                                                   &clientregistry_module);
    ap_dbd_t *dbd;
    cr_db_t *db;
    apr_array_header_t *due;
    int r;

    if ((db = cr_dbd_open(&dbd, pool, s)) == NULL) {
        return;
    }
    if (!cr_dbd_schema_ready(db, pool, s, NULL)) {
        cr_dbd_close(s, dbd);
        return;
    }
    if (cr_store_async_due(&due, db, pool, instant(pool, apr_time_now()),
                           JOBS_PER_TICK) == APR_SUCCESS) {
        for (r = 0; r < due->nelts && !apr_atomic_read32(&worker->stopping);
             r++) {
            work_job(APR_ARRAY_IDX(due, r, const char *), db, pool, s, sc);
        }
    }
    cr_dbd_close(s, dbd);
}

static void *APR_THREAD_FUNC run(apr_thread_t *t, void *data)
{
    async_worker_t *w = data;
    apr_pool_t *scratch;

    apr_pool_create(&scratch, apr_thread_pool_get(t));
    while (!apr_atomic_read32(&w->stopping)) {
        apr_pool_clear(scratch);
        tick(scratch, w->s);
        apr_sleep(POLL_INTERVAL);
    }
    apr_pool_destroy(scratch);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t stop(void *data)
{
    async_worker_t *w = data;
    apr_status_t trv;

    apr_atomic_set32(&w->stopping, 1);
    if (w->thread) {
        apr_thread_join(&trv, w->thread);
    }
    return APR_SUCCESS;
}

/* The child is about to stop (child_stopping hook): no new job, and a
 * delivery under way is abandoned (it is retried later).  The thread is
 * joined in the pre-cleanup, stop(). */
void cr_async_worker_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    (void)graceful;
    if (worker != NULL) {
        apr_atomic_set32(&worker->stopping, 1);
    }
}

void cr_async_worker_child_init(apr_pool_t *pchild, server_rec *s)
{
    const cr_srv_conf_t *sc = ap_get_module_config(s->module_config,
                                                   &clientregistry_module);
    apr_threadattr_t *attr;
    apr_status_t rv;

    if (sc == NULL) {
        return;
    }
    /* Always: a queued job runs whether or not its sender takes
     * callbacks (without one its result is kept for polling). */
    cr_outbound_child_init(pchild, s);
    worker = apr_pcalloc(pchild, sizeof(*worker));
    worker->s = s;
    apr_threadattr_create(&attr, pchild);
    rv = apr_thread_create(&worker->thread, attr, run, worker, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CR_APLOGNO(00404)
                     "async: cannot start the worker thread");
        worker->thread = NULL;
        return;
    }
    /* The second thread of the worker: the notifications (its own
     * pre-cleanup, registered first, runs after this one's). */
    cr_notify_worker_start(pchild, s, &worker->stopping);
    /* A pre-cleanup: it must join the thread before pchild destroys its
     * subpools -- the thread's own pool (its scratch pool is a child of
     * it) and mod_dbd's connection pool, whose reslist asserts that every
     * connection is back and whose connections close with their pools.
     * A plain cleanup runs only after those, while the thread may still
     * hold a connection and use its pool: a stop that caught it inside a
     * delivery killed the child (reslist_cleanup's "rl->ntotal == 0"
     * assertion, SIGABRT; t/persistence/stop_delivery.t). */
    apr_pool_pre_cleanup_register(pchild, worker, stop);
}
