/* cr_store_idem: the idempotent messageId verbs (see the header). */
#include <stdlib.h>

#include <apr_strings.h>

#include "store/cr_store_idem.h"

apr_status_t cr_store_idem_get(cr_idem_row_t **out, cr_db_t *db,
                               apr_pool_t *pool, const char *sender,
                               const char *message_id)
{
    const char *args[2];
    cr_db_rows_t *rows;
    cr_idem_row_t *w;
    apr_status_t rv;

    *out = NULL;
    args[0] = sender;
    args[1] = message_id;
    rv = cr_db_select(&rows, db, pool, "cr_idem_get", 1, 2, args);
    if (rv != APR_SUCCESS || rows->nrows == 0) {
        return rv;
    }
    w = apr_pcalloc(pool, sizeof(*w));
    w->request_hash = cr_db_cell(rows, 0, 0);
    w->operation = cr_db_cell(rows, 0, 1);
    w->claim = cr_db_cell(rows, 0, 2);
    w->created = cr_db_cell(rows, 0, 3);
    w->answered = cr_db_cell(rows, 0, 4) != NULL;
    w->status = w->answered ? atoi(cr_db_cell(rows, 0, 4)) : 0;
    w->body = cr_db_cell(rows, 0, 5);
    w->location = cr_db_cell(rows, 0, 6);
    w->patients = cr_db_cell(rows, 0, 7);
    *out = w;
    return APR_SUCCESS;
}

apr_status_t cr_store_idem_claim(int *claimed, cr_db_t *db,
                                 apr_pool_t *pool, const char *sender,
                                 const char *message_id, const char *hash,
                                 const char *operation, const char *claim,
                                 const char *now, const char *expired)
{
    const char *args[6];
    apr_status_t rv;
    int n = 0;

    *claimed = 0;
    args[0] = sender;
    args[1] = message_id;
    args[2] = expired;
    rv = cr_db_exec(db, pool, "cr_idem_expire", NULL, 3, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    args[2] = hash;
    args[3] = operation;
    args[4] = claim;
    args[5] = now;
    rv = cr_db_exec(db, pool, "cr_idem_claim", &n, 6, args);
    *claimed = rv == APR_SUCCESS && n == 1;
    return rv;
}

apr_status_t cr_store_idem_answer(cr_db_t *db, apr_pool_t *pool,
                                  const char *sender,
                                  const char *message_id,
                                  const char *claim, int status,
                                  const char *body, const char *location,
                                  const char *patients, const char *now,
                                  const char *purge_before)
{
    const char *args[8];
    apr_status_t rv = cr_db_begin(db, pool);

    args[0] = apr_itoa(pool, status);
    args[1] = body;
    args[2] = location;
    args[3] = patients;
    args[4] = now;
    args[5] = sender;
    args[6] = message_id;
    args[7] = claim;
    if (rv == APR_SUCCESS) {
        rv = cr_db_exec(db, pool, "cr_idem_answer", NULL, 8, args);
    }
    if (rv == APR_SUCCESS && purge_before) {
        args[0] = purge_before;
        rv = cr_db_exec(db, pool, "cr_idem_purge", NULL, 1, args);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    return rv;
}
