/* cr_db: transactions, statement execution and result copying.
 *
 * Error mapping is driver-aware: apr_dbd's sqlite3 driver returns SQLite's
 * own result codes (5 BUSY, 6 LOCKED, 19 CONSTRAINT); the pgsql driver's
 * codes carry no SQLSTATE, so its message text is inspected for the two
 * cases the services must tell apart (unique violation, serialization
 * failure or deadlock).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "store/cr_db.h"
#include "store/cr_sql.h"

#define SQLITE_CODE_BUSY 5
#define SQLITE_CODE_LOCKED 6
#define SQLITE_CODE_CONSTRAINT 19

cr_db_t *cr_db_wrap(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, apr_hash_t *prepared)
{
    cr_db_t *db = apr_pcalloc(pool, sizeof(*db));

    db->driver = driver;
    db->handle = handle;
    db->prepared = prepared;
    db->is_sqlite = strcmp(apr_dbd_name(driver), "sqlite3") == 0;
    db->phn_block = 1;
    return db;
}

static apr_status_t map_error(cr_db_t *db, const char *label, int rv)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, rv);

    db->last_rv = rv;
    if (msg && *msg) {
        apr_cpystrn(db->last_error_buf, msg, sizeof(db->last_error_buf));
        db->last_error = db->last_error_buf;
    }
    else {
        db->last_error = "unknown database error";
    }
    db->last_label = label;
    if (db->is_sqlite) {
        int primary = rv & 0xff;
        if (primary == SQLITE_CODE_BUSY || primary == SQLITE_CODE_LOCKED) {
            return APR_EAGAIN;
        }
        /* apr-util's driver prepares statements with the legacy
         * sqlite3_prepare, so a failed step reports the generic
         * SQLITE_ERROR (1) and only the message names the constraint. */
        if (primary == SQLITE_CODE_CONSTRAINT
            || (msg && (strstr(msg, "UNIQUE constraint failed")
                        || strstr(msg, "is not unique")))) {
            return APR_EEXIST;
        }
        if (msg && strstr(msg, "database table is locked")) {
            return APR_EAGAIN;
        }
        return APR_EGENERAL;
    }
    if (msg && (strstr(msg, "duplicate key") || strstr(msg, "unique"))) {
        return APR_EEXIST;
    }
    /* lock_timeout (DBDInitSQL "SET lock_timeout ...") is the pgsql
     * counterpart of SQLite's busy timeout: busy, try again later. */
    if (msg && (strstr(msg, "could not serialize")
                || strstr(msg, "deadlock") || strstr(msg, "lock timeout"))) {
        return APR_EAGAIN;
    }
    return APR_EGENERAL;
}

/* A PostgreSQL-only statement (cr_sql_pg.c), prepared on this connection
 * now and kept in its hash for the connection's life (the hash's pool is
 * the connection's). */
static apr_dbd_prepared_t *prepare_pg(cr_db_t *db, const char *label)
{
    const cr_sql_stmt_t *s;
    apr_dbd_prepared_t *st = NULL;
    apr_pool_t *pool;

    if (db->is_sqlite || db->prepared == NULL) {
        return NULL;
    }
    for (s = cr_sql_pg_catalogue; s->label; s++) {
        if (strcmp(s->label, label) == 0) {
            break;
        }
    }
    if (s->label == NULL) {
        return NULL;
    }
    pool = apr_hash_pool_get(db->prepared);
    if (apr_dbd_prepare(db->driver, pool, db->handle, s->sql, s->label, &st)
        != 0) {
        return NULL;
    }
    apr_hash_set(db->prepared, s->label, APR_HASH_KEY_STRING, st);
    return st;
}

static apr_dbd_prepared_t *lookup(cr_db_t *db, const char *label)
{
    apr_dbd_prepared_t *st = NULL;

    if (db->prepared) {
        st = apr_hash_get(db->prepared, label, APR_HASH_KEY_STRING);
    }
    if (st == NULL && strncmp(label, "cr_pg_", 6) == 0) {
        st = prepare_pg(db, label);
    }
    if (st == NULL) {
        db->last_rv = -1;
        db->last_label = label;
        db->last_error = "statement is not prepared on this connection";
    }
    return st;
}

static void unlock(cr_db_t *db)
{
    if (db->locked) {
        db->locked = 0;
        db->write_lock(db->write_lock_baton, 0);
    }
}

static apr_status_t unlock_cleanup(void *data)
{
    cr_db_t *db = data;

    if (db->txn) {
        apr_dbd_transaction_mode_set(db->driver, db->txn,
                                     APR_DBD_TRANSACTION_ROLLBACK);
        apr_dbd_transaction_end(db->driver, db->txn_pool, db->txn);
        db->txn = NULL;
    }
    unlock(db);
    return APR_SUCCESS;
}

apr_status_t cr_db_begin(cr_db_t *db, apr_pool_t *pool)
{
    int rv;

    db->txn = NULL;
    db->txn_pool = pool;
    db->last_rv = 0;    /* cr_db_commit checks for failures since here */
    if (db->write_lock && !db->locked) {
        apr_status_t lrv = db->write_lock(db->write_lock_baton, 1);
        if (lrv != APR_SUCCESS) {
            db->last_label = "write lock";
            db->last_error = "the cross-process write lock failed";
            return APR_EGENERAL;
        }
        db->locked = 1;
        /* Never leave the lock held past the transaction's pool. */
        apr_pool_cleanup_register(pool, db, unlock_cleanup,
                                  apr_pool_cleanup_null);
    }
    rv = apr_dbd_transaction_start(db->driver, pool, db->handle, &db->txn);
    if (rv != 0) {
        db->txn = NULL;
        unlock(db);
        return map_error(db, "BEGIN", rv);
    }
    /* PostgreSQL: no global lock; writers run in parallel.  What they
     * share is guarded where it is used: a row lock per person
     * (cr_store_patient_lock), PHNs from a sequence, identifiers by their
     * UNIQUE constraints, and a short serialised audit append
     * (docs/postgresql.md). */
    return APR_SUCCESS;
}

apr_status_t cr_db_commit(cr_db_t *db)
{
    int rv;

    if (db->txn == NULL) {
        return APR_EGENERAL;
    }
    if (db->pending && cr_db_flush_rows(db) != APR_SUCCESS) {
        cr_db_rollback(db);
        return APR_EGENERAL;
    }
    if (db->last_rv != 0) {
        /* A statement of this transaction failed: the drivers then end
         * it with a ROLLBACK that reports success, so say so here. */
        cr_db_rollback(db);
        return APR_EGENERAL;
    }
    rv = apr_dbd_transaction_end(db->driver, db->txn_pool, db->txn);
    db->txn = NULL;
    unlock(db);
    if (rv != 0) {
        return map_error(db, "COMMIT", rv);
    }
    return APR_SUCCESS;
}

void cr_db_rollback(cr_db_t *db)
{
    db->pending = NULL;   /* rows kept back go with the transaction */
    if (db->pending_pool) {
        apr_pool_clear(db->pending_pool);
    }
    if (db->txn == NULL) {
        return;
    }
    apr_dbd_transaction_mode_set(db->driver, db->txn,
                                 APR_DBD_TRANSACTION_ROLLBACK);
    apr_dbd_transaction_end(db->driver, db->txn_pool, db->txn);
    db->txn = NULL;
    unlock(db);
}

apr_status_t cr_db_exec(cr_db_t *db, apr_pool_t *pool, const char *label,
                        int *nrows, int nargs, const char *const *args)
{
    apr_dbd_prepared_t *st = lookup(db, label);
    int n = 0, rv;

    if (st == NULL) {
        return APR_EGENERAL;
    }
    rv = apr_dbd_pquery(db->driver, pool, db->handle, &n, st, nargs,
                        (const char **)args);
    if (rv != 0) {
        return map_error(db, label, rv);
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}

apr_status_t cr_db_exec_txn(cr_db_t *db, apr_pool_t *pool,
                            const char *label, int *nrows, int nargs,
                            const char *const *args)
{
    apr_status_t rv = cr_db_begin(db, pool);

    if (rv == APR_SUCCESS) {
        rv = cr_db_exec(db, pool, label, nrows, nargs, args);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    return rv;
}

static apr_status_t exec_rows_now(cr_db_t *db, apr_pool_t *pool,
                                  const char *label, int max, int ncols,
                                  int nrows, const char *const *args)
{
    apr_status_t rv = APR_SUCCESS;
    int done = 0;

    while (rv == APR_SUCCESS && done < nrows) {
        int n = max;
        while (n > nrows - done) {
            n /= 2;
        }
        rv = cr_db_exec(db, pool, n > 1 ? apr_psprintf(pool, "%s_%d", label,
                                                       n)
                                        : label,
                        NULL, n * ncols, args + (apr_size_t)done * ncols);
        done += n;
    }
    if (rv != APR_SUCCESS) {
        db->last_label = label;   /* the statement, whatever its size */
    }
    return rv;
}

/* Rows kept back for one statement (defer_rows). */
typedef struct cr_db_pending_t {
    struct cr_db_pending_t *next;
    const char *label;
    int max, ncols;
    apr_array_header_t *args;      /* const char *, row after row */
} cr_db_pending_t;

apr_status_t cr_db_flush_rows(cr_db_t *db)
{
    cr_db_pending_t *q;
    apr_status_t rv = APR_SUCCESS;

    for (q = db->pending; q && rv == APR_SUCCESS; q = q->next) {
        rv = exec_rows_now(db, db->pending_pool, q->label, q->max, q->ncols,
                           q->args->nelts / q->ncols,
                           (const char *const *)q->args->elts);
    }
    db->pending = NULL;
    if (db->pending_pool) {
        apr_pool_clear(db->pending_pool);
    }
    return rv;
}

apr_status_t cr_db_exec_rows(cr_db_t *db, apr_pool_t *pool,
                             const char *label, int max, int ncols,
                             int nrows, const char *const *args)
{
    cr_db_pending_t *q;
    int i;

    if (!db->defer_rows || db->pending_pool == NULL) {
        return exec_rows_now(db, pool, label, max, ncols, nrows, args);
    }
    /* When the first statement kept back (the patient rows of a load)
     * has a full batch and a new row of it comes, everything kept so far
     * goes, in order: the rows of a patient are then never split. */
    if (db->pending && strcmp(db->pending->label, label) == 0
        && db->pending->args->nelts / db->pending->ncols
           >= db->pending->max) {
        apr_status_t rv = cr_db_flush_rows(db);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    for (q = db->pending; q; q = q->next) {
        if (strcmp(q->label, label) == 0) {
            break;
        }
    }
    if (q == NULL) {
        cr_db_pending_t **tail = &db->pending;
        q = apr_pcalloc(db->pending_pool, sizeof(*q));
        q->label = label;
        q->max = max;
        q->ncols = ncols;
        q->args = apr_array_make(db->pending_pool, 4 * max * ncols,
                                 sizeof(const char *));
        /* Kept in first-use order, which is the order the rows must be
         * written in (patients before the rows that refer to them). */
        while (*tail) {
            tail = &(*tail)->next;
        }
        *tail = q;
    }
    for (i = 0; i < nrows * ncols; i++) {
        APR_ARRAY_PUSH(q->args, const char *) =
            args[i] ? apr_pstrdup(db->pending_pool, args[i]) : NULL;
    }
    return APR_SUCCESS;
}

apr_status_t cr_db_select(cr_db_rows_t **out, cr_db_t *db, apr_pool_t *pool,
                          const char *label, int max_rows, int nargs,
                          const char *const *args)
{
    apr_dbd_prepared_t *st = lookup(db, label);
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    cr_db_rows_t *rows;
    apr_array_header_t *cells;
    int rv, c;

    *out = NULL;
    if (st == NULL) {
        return APR_EGENERAL;
    }
    /* PostgreSQL: random access, so that the driver fetches the whole
     * result (and reports its error) here; in sequential mode it sends the
     * query only, and apr_dbd_num_cols is 0 until the first row is read. */
    rv = apr_dbd_pselect(db->driver, pool, db->handle, &res, st,
                         db->is_sqlite ? 0 : 1, nargs, (const char **)args);
    if (rv != 0) {
        return map_error(db, label, rv);
    }
    rows = apr_pcalloc(pool, sizeof(*rows));
    rows->ncols = apr_dbd_num_cols(db->driver, res);
    cells = apr_array_make(pool, 8, sizeof(const char *));
    /* Read to the end even past max_rows (bounded by the SQL LIMIT). */
    while ((rv = apr_dbd_get_row(db->driver, pool, res, &row, -1)) == 0) {
        if (rows->nrows >= max_rows) {
            continue;
        }
        for (c = 0; c < rows->ncols; c++) {
            const char *v = apr_dbd_get_entry(db->driver, row, c);
            if (v && *v == '\0' && !db->is_sqlite) {
                /* The pgsql driver answers "" for NULL too; datum_get
                 * tells them apart. */
                char *d = NULL;
                if (apr_dbd_datum_get(db->driver, row, c,
                                      APR_DBD_TYPE_STRING, &d)
                    == APR_ENOENT) {
                    v = NULL;
                }
            }
            APR_ARRAY_PUSH(cells, const char *) =
                v ? apr_pstrdup(pool, v) : NULL;
        }
        rows->nrows++;
    }
    if (rv != -1) {
        return map_error(db, label, rv);
    }
    rows->cells = (const char **)cells->elts;
    *out = rows;
    return APR_SUCCESS;
}

apr_status_t cr_db_select_one(cr_db_rows_t **row, cr_db_t *db,
                              apr_pool_t *pool, const char *label, int nargs,
                              const char *const *args)
{
    cr_db_rows_t *rows = NULL;
    apr_status_t rv;

    *row = NULL;
    rv = cr_db_select(&rows, db, pool, label, 1, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    *row = rows;
    return APR_SUCCESS;
}

const char *cr_db_cell(const cr_db_rows_t *rows, int row, int col)
{
    if (rows == NULL || row < 0 || row >= rows->nrows || col < 0
        || col >= rows->ncols) {
        return NULL;
    }
    return rows->cells[row * rows->ncols + col];
}

static apr_status_t prepare_part(apr_hash_t *h, apr_pool_t *pool,
                                 const apr_dbd_driver_t *driver,
                                 apr_dbd_t *handle,
                                 const cr_sql_stmt_t *part,
                                 const char **failed_label,
                                 const char **failed_error)
{
    const cr_sql_stmt_t *s;

    for (s = part; s->label; s++) {
        apr_dbd_prepared_t *st = NULL;
        int rv = apr_dbd_prepare(driver, pool, handle, s->sql, s->label, &st);
        if (rv != 0) {
            if (failed_label) {
                *failed_label = s->label;
            }
            if (failed_error) {
                *failed_error = apr_pstrdup(pool,
                                            apr_dbd_error(driver, handle,
                                                          rv));
            }
            return APR_EGENERAL;
        }
        apr_hash_set(h, s->label, APR_HASH_KEY_STRING, st);
    }
    return APR_SUCCESS;
}

apr_status_t cr_db_prepare_catalogue(apr_hash_t **out, apr_pool_t *pool,
                                     const apr_dbd_driver_t *driver,
                                     apr_dbd_t *handle,
                                     const char **failed_label,
                                     const char **failed_error)
{
    apr_hash_t *h = apr_hash_make(pool);
    const cr_sql_stmt_t *const *part;
    apr_status_t rv;

    *out = NULL;
    for (part = cr_sql_catalogues; *part; part++) {
        rv = prepare_part(h, pool, driver, handle, *part, failed_label,
                          failed_error);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *out = h;
    return APR_SUCCESS;
}
