/* cr_store_async: the asynchronous job queue (see the header). */
#include <stdlib.h>

#include <apr_strings.h>

#include "store/cr_store_async.h"

apr_status_t cr_store_async_insert(cr_db_t *db, apr_pool_t *pool,
                                   const cr_async_job_t *job,
                                   const char *now)
{
    const char *args[13];

    args[0] = job->id;
    args[1] = job->operation;
    args[2] = job->body;
    args[3] = job->settings;
    args[4] = job->message_id;
    args[5] = job->org_id;
    args[6] = job->source_system;
    args[7] = job->user_id;
    args[8] = job->client_dn;
    args[9] = apr_psprintf(pool, "%" APR_INT64_T_FMT, job->if_match);
    args[10] = now;
    args[11] = now;
    args[12] = now;
    return cr_db_exec(db, pool, "cr_async_insert", NULL, 13, args);
}

apr_status_t cr_store_async_due(apr_array_header_t **out, cr_db_t *db,
                                apr_pool_t *pool, const char *now, int max)
{
    cr_db_rows_t *rows;
    const char *args[3];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = now;
    args[1] = now;
    args[2] = apr_itoa(pool, max);
    rv = cr_db_select(&rows, db, pool, "cr_async_due", max, 3, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(const char *));
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(*out, const char *) = apr_pstrdup(
            pool, cr_db_cell(rows, r, 0));
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_async_claim(int *won, cr_db_t *db, apr_pool_t *pool,
                                  const char *id, const char *now,
                                  const char *locked_until)
{
    const char *args[5];
    int n = 0;
    apr_status_t rv;

    args[0] = locked_until;
    args[1] = now;
    args[2] = id;
    args[3] = now;
    args[4] = now;
    rv = cr_db_exec_txn(db, pool, "cr_async_claim", &n, 5, args);
    *won = rv == APR_SUCCESS && n == 1;
    return rv;
}

apr_status_t cr_store_async_get(cr_async_job_t *job, cr_db_t *db,
                                apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    args[0] = id;
    rv = cr_db_select_one(&rows, db, pool, "cr_async_get", 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    job->id = id;
    job->operation = cr_db_cell(rows, 0, 0);
    job->body = cr_db_cell(rows, 0, 1);
    job->settings = cr_db_cell(rows, 0, 2);
    job->message_id = cr_db_cell(rows, 0, 3);
    job->org_id = cr_db_cell(rows, 0, 4);
    job->source_system = cr_db_cell(rows, 0, 5);
    job->user_id = cr_db_cell(rows, 0, 6);
    job->client_dn = cr_db_cell(rows, 0, 7);
    job->if_match = apr_atoi64(cr_db_cell(rows, 0, 8));
    job->executed = atoi(cr_db_cell(rows, 0, 9));
    job->result = cr_db_cell(rows, 0, 10);
    job->result_status = cr_db_cell(rows, 0, 11)
                         ? atoi(cr_db_cell(rows, 0, 11)) : 0;
    job->attempts = atoi(cr_db_cell(rows, 0, 12));
    job->status = cr_db_cell(rows, 0, 13);
    job->last_error = cr_db_cell(rows, 0, 14);
    return APR_SUCCESS;
}

apr_status_t cr_store_async_mark_executed(cr_db_t *db, apr_pool_t *pool,
                                          const char *id)
{
    const char *args[1];

    args[0] = id;
    return cr_db_exec(db, pool, "cr_async_executed", NULL, 1, args);
}

apr_status_t cr_store_async_set_result(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *result,
                                       int status, const char *now)
{
    const char *args[5];

    args[0] = result;
    args[1] = apr_itoa(pool, status);
    args[2] = now;
    args[3] = now;
    args[4] = id;
    return cr_db_exec_txn(db, pool, "cr_async_result", NULL, 5, args);
}

apr_status_t cr_store_async_reschedule(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *status,
                                       int attempts, const char *next_at,
                                       const char *last_error,
                                       const char *now)
{
    const char *args[6];

    args[0] = status;
    args[1] = apr_itoa(pool, attempts);
    args[2] = next_at;
    args[3] = last_error;
    args[4] = now;
    args[5] = id;
    return cr_db_exec_txn(db, pool, "cr_async_retry", NULL, 6, args);
}
