/* cr_store_review: match records and decision history of the duplicate
 * review (see cr_store_review.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "store/cr_store_review.h"

apr_status_t cr_store_review_record_get(const char **out, cr_db_t *db,
                                        apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    apr_status_t rv;

    *out = NULL;
    rv = cr_db_select(&rows, db, pool, "cr_review_record_get", 1, 1, &id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0 || cr_db_cell(rows, 0, 0) == NULL) {
        return APR_NOTFOUND;
    }
    *out = cr_db_cell(rows, 0, 0);
    return APR_SUCCESS;
}

/* The pair a, b smaller id first; APR_EINVAL for a bad pair. */
static apr_status_t order(const char **lo, const char **hi, const char *a,
                          const char *b)
{
    if (a == NULL || b == NULL || strcmp(a, b) == 0) {
        return APR_EINVAL;
    }
    *lo = strcmp(a, b) < 0 ? a : b;
    *hi = *lo == a ? b : a;
    return APR_SUCCESS;
}

apr_status_t cr_store_review_decision_add(cr_db_t *db, apr_pool_t *pool,
                                          const char *a, const char *b,
                                          const char *decided,
                                          const char *action,
                                          const char *status,
                                          const char *comment,
                                          const char *decided_by,
                                          const char *message_id)
{
    const char *args[10];

    if (order(&args[0], &args[1], a, b) != APR_SUCCESS || decided == NULL
        || action == NULL || status == NULL) {
        return APR_EINVAL;
    }
    args[2] = decided;
    args[3] = action;
    args[4] = status;
    args[5] = comment;
    args[6] = decided_by;
    args[7] = message_id;
    args[8] = args[0];
    args[9] = args[1];
    return cr_db_exec(db, pool, "cr_review_decision_add", NULL, 10, args);
}

apr_status_t cr_store_review_history(apr_array_header_t **out, cr_db_t *db,
                                     apr_pool_t *pool, const char *a,
                                     const char *b)
{
    cr_db_rows_t *rows;
    const char *args[3];
    apr_array_header_t *list;
    apr_status_t rv;
    int r;

    *out = NULL;
    if (order(&args[0], &args[1], a, b) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    args[2] = apr_itoa(pool, CR_STORE_REVIEW_MAX_HISTORY);
    rv = cr_db_select(&rows, db, pool, "cr_review_history",
                      CR_STORE_REVIEW_MAX_HISTORY, 3, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    list = apr_array_make(pool, rows->nrows + 1,
                          sizeof(cr_store_review_decision_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_store_review_decision_t *d = apr_array_push(list);
        const char *seq = cr_db_cell(rows, r, 0);
        d->seq = seq ? atoi(seq) : 0;
        d->decided = cr_db_cell(rows, r, 1);
        d->action = cr_db_cell(rows, r, 2);
        d->status = cr_db_cell(rows, r, 3);
        d->comment = cr_db_cell(rows, r, 4);
        d->decided_by = cr_db_cell(rows, r, 5);
        d->message_id = cr_db_cell(rows, r, 6);
    }
    *out = list;
    return APR_SUCCESS;
}
