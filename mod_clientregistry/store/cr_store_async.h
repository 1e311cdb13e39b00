/* cr_store_async: the asynchronous job queue (cr_async_job,
 * operations.md 6, DECISION-10).
 *
 * The maintenance operations enqueue a $<Op>.Async request inside their
 * own write transaction (cr_store_async_insert, next to its audit
 * record), so that the 202 is sent only for a durably queued job.  The
 * per-child worker finds due jobs, claims one (an UPDATE only one worker
 * of all children can win), reads it, marks it executed inside the
 * operation's own transaction, stores the response and reschedules the
 * delivery.  The claim, the result and the rescheduling are one-statement
 * writes that each run in their own transaction here, because the worker
 * holds no other write open around them.  Nothing logs or picks an HTTP
 * status; results as in cr_db.h.
 */
#ifndef CR_STORE_ASYNC_H
#define CR_STORE_ASYNC_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"

/* One queued job: the request as it was received, with its sender, and
 * (once run) its response. */
typedef struct cr_async_job_t {
    const char *id;
    const char *operation;     /* "AddPatient", "RevisePatient", ... */
    const char *body;          /* the request Bundle (JSON text) */
    const char *settings;      /* the settings it runs with (JSON text) */
    const char *message_id;
    const char *org_id, *source_system, *user_id, *client_dn;
    apr_int64_t if_match;      /* 0 when absent */
    int executed;              /* applied (its transaction committed) */
    const char *result;        /* the response Bundle, or NULL */
    int result_status;         /* its HTTP status, 0 when none */
    int attempts;              /* deliveries tried */
    const char *status;        /* "queued", "running", "delivered",
                                  "completed" (no callback: the result
                                  waits to be fetched), "failed" */
    const char *last_error;    /* or NULL */
} cr_async_job_t;

/* Inside the caller's write transaction: queue job (id, operation, body,
 * settings, message_id, org_id, source_system, user_id, client_dn,
 * if_match), due at now. */
apr_status_t cr_store_async_insert(cr_db_t *db, apr_pool_t *pool,
                                   const cr_async_job_t *job,
                                   const char *now);

/* The ids (of const char *) of at most max jobs due at now: queued and
 * due, or running with an expired lock (a worker that died), the oldest
 * first.  No transaction needed. */
apr_status_t cr_store_async_due(apr_array_header_t **out, cr_db_t *db,
                                apr_pool_t *pool, const char *now,
                                int max);

/* In its own transaction: claim job id, due at now, until locked_until.
 * *won is 1 when this caller got it, 0 when another worker was first. */
apr_status_t cr_store_async_claim(int *won, cr_db_t *db, apr_pool_t *pool,
                                  const char *id, const char *now,
                                  const char *locked_until);

/* Read job id into *job (job->id set to id); APR_NOTFOUND if none. */
apr_status_t cr_store_async_get(cr_async_job_t *job, cr_db_t *db,
                                apr_pool_t *pool, const char *id);

/* Inside the operation's write transaction: job id is applied, so that a
 * worker that dies after the commit never applies it twice. */
apr_status_t cr_store_async_mark_executed(cr_db_t *db, apr_pool_t *pool,
                                          const char *id);

/* In its own transaction: store the response of job id (its HTTP
 * status) and keep the job running with this worker, due again at now. */
apr_status_t cr_store_async_set_result(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *result,
                                       int status, const char *now);

/* In its own transaction: after a delivery attempt, job id gets status
 * ("queued", "delivered", "failed"), attempts, the time it is due again,
 * the last error (or NULL) and updated = now. */
apr_status_t cr_store_async_reschedule(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *status,
                                       int attempts, const char *next_at,
                                       const char *last_error,
                                       const char *now);

#endif /* CR_STORE_ASYNC_H */
