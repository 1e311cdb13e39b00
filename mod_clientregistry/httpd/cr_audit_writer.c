/* cr_audit_writer: the audit record of every request below a registry
 * location (built in the log phase from the request's cr_req_t) and the
 * per-child batch writer that stores the records of reads, searches and
 * denials.
 *
 * Reads, searches and denials are audited too, and a transaction with an
 * fsync for each of them would cap the read rate at the disk's sync rate.
 * So their records go into a per-process queue and one thread per child
 * appends them in batches (every 200 ms, or sooner when 256 are waiting),
 * each batch one transaction chained onto the trail.  Writes are audited
 * inside their own transaction instead (cr_audit_in_txn), so a change is
 * never committed without its audit record.  What a batch loses on a
 * crash is at most the last 200 ms of read records; at a graceful stop
 * the queue is flushed.  A batch that cannot be stored (no database
 * connection yet, a locked database) stays queued and is tried again
 * with the next flushes, for about 10 s, before it is given up with an
 * error in the log.
 */
#include <string.h>

#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "core/cr_datetime.h"
#include "ops/cr_audit.h"
#include "store/cr_db_sqlite.h"
#include "store/cr_store_audit.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "httpd/cr_audit_writer.h"

#define FLUSH_INTERVAL apr_time_from_msec(200)
#define FLUSH_AT 256
#define QUEUE_MAX 50000
/* A batch that cannot be stored (no connection, a database error) is
 * tried again with the next flushes, up to this many times (about 10 s),
 * then dropped with an error in the log. */
#define RETRIES 50

typedef struct queued_t {
    server_rec *s;
    cr_audit_rec_t *rec;
} queued_t;

typedef struct audit_queue_t {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    apr_pool_t *pool[2];
    apr_array_header_t *items[2];
    int cur;
    int stopping;
    apr_size_t dropped;
    int failures;           /* flushes in a row that stored nothing */
    apr_thread_t *thread;
    server_rec *main_s;
} audit_queue_t;

/* Written once in child_init, read afterwards. */
static audit_queue_t *queue = NULL;

/* Returns APR_SUCCESS when recs are stored (or not to be stored: a
 * database without our schema); anything else leaves them to the next
 * flush. */
static apr_status_t flush_server(audit_queue_t *q, apr_pool_t *pool,
                                 server_rec *s, apr_array_header_t *recs)
{
    ap_dbd_t *dbd;
    cr_db_t *db;
    apr_status_t rv;
    int sync;

    if ((db = cr_dbd_open(&dbd, pool, s)) == NULL) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, CR_APLOGNO(00302)
                     "audit: no database connection; %d audit records "
                     "kept for the next try", recs->nelts);
        return APR_EGENERAL;
    }
    /* A database this module does not serve (wrong schema) gets no
     * audit records; its requests were refused anyway. */
    if (!cr_dbd_schema_ready(db, pool, s, NULL)) {
        cr_dbd_close(s, dbd);
        return APR_SUCCESS;
    }
    /* These records are best effort within the flush interval anyway:
     * commit them without an fsync (WAL + synchronous=NORMAL keeps them
     * across a process crash), because the fsync would stall every
     * request thread of this child inside the driver's mutex. */
    sync = cr_db_sqlite_relax_sync(db, pool);
    rv = cr_db_begin(db, pool);
    if (rv == APR_SUCCESS) {
        rv = cr_store_audit_append(db, pool, recs);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    cr_db_sqlite_restore_sync(db, sync);
    cr_db_sqlite_checkpoint(db);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, CR_APLOGNO(00303)
                     "audit: appending %d records failed on %s: %s; kept "
                     "for the next try",
                     recs->nelts, db->last_label ? db->last_label : "?",
                     db->last_error ? db->last_error : "?");
    }
    cr_dbd_close(s, dbd);
    return rv;
}

/* Stores items; those of a server whose append failed are returned
 * (allocated in pool), NULL when all went in. */
static apr_array_header_t *flush(audit_queue_t *q, apr_pool_t *pool,
                                 apr_array_header_t *items)
{
    apr_array_header_t *failed = NULL;
    apr_hash_t *by_server = apr_hash_make(pool);
    apr_hash_index_t *hi;
    int i;

    for (i = 0; i < items->nelts; i++) {
        queued_t *it = &APR_ARRAY_IDX(items, i, queued_t);
        apr_array_header_t *recs = apr_hash_get(by_server, &it->s,
                                                sizeof(it->s));
        if (recs == NULL) {
            recs = apr_array_make(pool, 16, sizeof(cr_audit_rec_t *));
            apr_hash_set(by_server, apr_pmemdup(pool, &it->s, sizeof(it->s)),
                         sizeof(it->s), recs);
        }
        APR_ARRAY_PUSH(recs, cr_audit_rec_t *) = it->rec;
    }
    for (hi = apr_hash_first(pool, by_server); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        apr_hash_this(hi, &key, NULL, &val);
        if (flush_server(q, pool, *(server_rec *const *)key, val)
            != APR_SUCCESS) {
            apr_array_header_t *recs = val;
            int k;
            if (failed == NULL) {
                failed = apr_array_make(pool, recs->nelts, sizeof(queued_t));
            }
            for (k = 0; k < recs->nelts; k++) {
                queued_t *it = apr_array_push(failed);
                it->s = *(server_rec *const *)key;
                it->rec = APR_ARRAY_IDX(recs, k, cr_audit_rec_t *);
            }
        }
    }
    return failed;
}

/* Puts records a flush could not store back in front of the queue's
 * current side (copied into its pool), as far as QUEUE_MAX allows; the
 * caller holds q->mutex. */
static void requeue(audit_queue_t *q, apr_array_header_t *failed)
{
    apr_array_header_t *cur = q->items[q->cur], *merged;
    int i, room = QUEUE_MAX - cur->nelts, lost = 0;

    merged = apr_array_make(q->pool[q->cur], failed->nelts + cur->nelts + 64,
                            sizeof(queued_t));
    for (i = 0; i < failed->nelts; i++) {
        queued_t *from = &APR_ARRAY_IDX(failed, i, queued_t), *to;
        if (i >= room) {
            lost++;
            continue;
        }
        to = apr_array_push(merged);
        to->s = from->s;
        to->rec = cr_hashchain_copy(q->pool[q->cur], from->rec);
    }
    apr_array_cat(merged, cur);
    q->items[q->cur] = merged;
    if (lost > 0) {
        q->dropped += (apr_size_t)lost;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, q->main_s, CR_APLOGNO(00322)
                     "audit: the queue is full; %d records that could not "
                     "be stored were dropped", lost);
    }
}

static void *APR_THREAD_FUNC writer(apr_thread_t *t, void *data)
{
    audit_queue_t *q = data;
    apr_pool_t *scratch;

    apr_pool_create(&scratch, apr_thread_pool_get(t));
    for (;;) {
        apr_array_header_t *failed;
        int batch, stop;
        apr_thread_mutex_lock(q->mutex);
        if (!q->stopping && q->items[q->cur]->nelts == 0) {
            apr_thread_cond_timedwait(q->cond, q->mutex, FLUSH_INTERVAL);
        }
        batch = q->cur;
        q->cur = 1 - q->cur;
        stop = q->stopping;
        apr_thread_mutex_unlock(q->mutex);

        failed = NULL;
        if (q->items[batch]->nelts > 0) {
            apr_pool_clear(scratch);
            failed = flush(q, scratch, q->items[batch]);
        }
        /* Only this thread clears the drained side, and only after it was
         * swapped out, so request threads never see it. */
        apr_thread_mutex_lock(q->mutex);
        q->failures = failed != NULL ? q->failures + 1 : 0;
        if (failed != NULL && q->failures <= RETRIES) {
            requeue(q, failed);
        }
        else if (failed != NULL) {
            q->dropped += (apr_size_t)failed->nelts;
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, q->main_s,
                         CR_APLOGNO(00320)
                         "audit: %d records could not be stored in %d "
                         "tries and were dropped", failed->nelts, RETRIES);
            q->failures = 0;
        }
        apr_array_clear(q->items[batch]);
        apr_pool_clear(q->pool[batch]);
        q->items[batch] = apr_array_make(q->pool[batch], 64,
                                         sizeof(queued_t));
        apr_thread_mutex_unlock(q->mutex);
        if (stop) {
            break;
        }
    }
    apr_pool_destroy(scratch);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t stop_writer(void *data)
{
    audit_queue_t *q = data;
    apr_status_t trv;

    apr_thread_mutex_lock(q->mutex);
    q->stopping = 1;
    apr_thread_cond_signal(q->cond);
    apr_thread_mutex_unlock(q->mutex);
    apr_thread_join(&trv, q->thread);
    /* Anything queued after the last swap. */
    if (q->items[q->cur]->nelts > 0) {
        apr_pool_t *p;
        apr_pool_create(&p, NULL);
        if (flush(q, p, q->items[q->cur]) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, q->main_s,
                         CR_APLOGNO(00321)
                         "audit: records left at the stop could not be "
                         "stored");
        }
        apr_pool_destroy(p);
    }
    return APR_SUCCESS;
}

void cr_audit_writer_child_init(apr_pool_t *pchild, server_rec *s)
{
    audit_queue_t *q = apr_pcalloc(pchild, sizeof(*q));
    apr_threadattr_t *attr;
    int i;

    q->main_s = s;
    if (apr_thread_mutex_create(&q->mutex, APR_THREAD_MUTEX_DEFAULT, pchild)
        != APR_SUCCESS
        || apr_thread_cond_create(&q->cond, pchild) != APR_SUCCESS) {
        return;
    }
    for (i = 0; i < 2; i++) {
        apr_pool_create(&q->pool[i], pchild);
        q->items[i] = apr_array_make(q->pool[i], 64, sizeof(queued_t));
    }
    apr_threadattr_create(&attr, pchild);
    if (apr_thread_create(&q->thread, attr, writer, q, pchild)
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, CR_APLOGNO(00304)
                     "audit: cannot start the writer thread");
        return;
    }
    /* Registered after the thread, so it runs before the pool frees what
     * the thread uses. */
    apr_pool_pre_cleanup_register(pchild, q, stop_writer);
    queue = q;
}

static void queue_record(request_rec *r, const cr_audit_rec_t *rec)
{
    audit_queue_t *q = queue;
    queued_t *it;
    int n;

    if (q == NULL) {
        return;
    }
    apr_thread_mutex_lock(q->mutex);
    if (q->stopping || q->items[q->cur]->nelts >= QUEUE_MAX) {
        q->dropped++;
        apr_thread_mutex_unlock(q->mutex);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00305)
                      "audit: queue full or stopping; record dropped");
        return;
    }
    it = apr_array_push(q->items[q->cur]);
    it->s = r->server;
    it->rec = cr_hashchain_copy(q->pool[q->cur], rec);
    n = q->items[q->cur]->nelts;
    if (n >= FLUSH_AT) {
        apr_thread_cond_signal(q->cond);
    }
    apr_thread_mutex_unlock(q->mutex);
}

/* Every request below a registry location is audited: writes already were,
 * inside their transaction; everything else (reads, searches, rejections,
 * denials by Require) goes to the batch writer. */
int cr_audit_writer_log_transaction(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    const cr_req_t *q;
    const cr_caller_t *c;
    cr_audit_rec_t rec;
    const char *op;
    char now[32];

    if (d == NULL || d->enabled != 1 || r->main || r->prev) {
        return DECLINED;
    }
    q = cr_req_get(r);
    /* Writes were audited with their transaction; a response that showed
     * restricted clients unmasked gets its own record all the same. */
    if (q->audited && q->unmasked == NULL) {
        return DECLINED;
    }
    c = cr_identity_caller(r);
    memset(&rec, 0, sizeof(rec));
    op = q->operation;
    if (op == NULL) {
        op = r->status == HTTP_FORBIDDEN ? "denied" : "rejected";
    }
    cr_datetime_format_instant(now, sizeof(now), r->request_time);
    rec.recorded = now;
    rec.action = q->action;
    if (rec.action == NULL) {
        rec.action = r->method_number == M_GET ? "R" : "E";
    }
    /* The audit record of a response that showed restricted clients to a
     * privileged caller: "<operation>+unmasked=<ids>" (operations.md 0.7;
     * docs/security.md). */
    rec.operation = q->unmasked
                    ? apr_pstrcat(r->pool, op, "+unmasked=", q->unmasked,
                                  NULL)
                    : op;
    rec.method = r->method;
    rec.path = r->uri;
    rec.query = r->args;
    rec.status = r->status;
    rec.client_dn = c->client_dn;
    rec.org_id = c->org_id;
    rec.source_system = c->source_system;
    rec.user_id = c->user_id;
    rec.remote_addr = r->useragent_ip;
    rec.message_id = q->message_id;
    rec.patients = q->patients;
    queue_record(r, &rec);
    return DECLINED;
}
