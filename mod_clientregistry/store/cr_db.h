/* cr_db: one database connection as the store sees it, whoever opened it
 * (mod_dbd in httpd, apr_dbd directly in tools and unit tests).
 *
 * Statements are looked up by label in the prepared-statement hash; only
 * statements from the catalogue (cr_sql) are ever executed.  Results are
 * copied into a small table bounded by the statement's LIMIT, and every
 * result set is read to its end so no SQLite snapshot is left open.
 */
#ifndef CR_DB_H
#define CR_DB_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <apr_dbd.h>

/* Called with acquire 1 before a write transaction begins and 0 after it
 * ended.  apr-util's sqlite3 driver serializes every SQLite call of a
 * process under one mutex, so a writer that waits for SQLite's write lock
 * (or fsyncs) inside the driver stalls every thread of its process; the
 * glue therefore serializes SQLite writers across processes itself, and
 * they wait here, outside the driver. */
typedef apr_status_t cr_db_lock_fn(void *baton, int acquire);

typedef struct cr_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_hash_t *prepared;          /* label -> apr_dbd_prepared_t * */
    apr_dbd_transaction_t *txn;    /* open write transaction or NULL */
    apr_pool_t *txn_pool;          /* pool the transaction began in */
    cr_db_lock_fn *write_lock;     /* or NULL */
    void *write_lock_baton;
    int locked;
    int is_sqlite;
    int last_rv;                   /* driver's code of the last failure */
    const char *last_error;        /* driver's message of the last failure */
    char last_error_buf[512];      /* its copy: the driver's own buffer is
                                    * overwritten by the next call (the
                                    * ROLLBACK that follows a failure) */
    const char *last_label;        /* statement label of the last failure */
    /* Bulk tools (cr-admin load): rows of cr_db_exec_rows are kept back
     * and written a full statement at a time, the rest just before the
     * commit, so that a load's index keys cost one round trip per 32 rows
     * across patients.  Only for writers that never read those rows back
     * in the same transaction. */
    int defer_rows;
    struct cr_db_pending_t *pending;
    apr_pool_t *pending_pool;
    /* PostgreSQL PHN bodies fetched ahead (bulk tools; 1 = none). */
    int phn_block;
    apr_int64_t phn_ahead[32], phn_ahead_floor;
    int phn_ahead_n, phn_ahead_used;
    /* The connection's own pool (mod_dbd's, as long-lived as the
     * connection and used by one thread at a time), or NULL: where store
     * verbs keep what is worth keeping between requests on the same
     * connection (the matcher's fitted parameters, cr_store_match_tune).
     * Set by whoever wraps a persistent connection. */
    apr_pool_t *conn_pool;
    /* Bulk tools (defer_rows): outbox seqs without a round trip each
     * (PostgreSQL's fetched 32 ahead from the sequence, SQLite's counted
     * on from one MAX + 1), and the subscriptions of each event code read
     * once (cr_store_notify_event). */
    apr_int64_t outbox_ahead[32];
    int outbox_ahead_n, outbox_ahead_used;
    apr_int64_t outbox_next;
    apr_hash_t *bulk_subs;
} cr_db_t;

/* Store-level results beyond APR_SUCCESS:
 *   APR_NOTFOUND   no such row
 *   APR_EAGAIN     the database is busy/locked or a serialization failure:
 *                  retry later (HTTP 503 with Retry-After)
 *   APR_EEXIST     a uniqueness constraint refused the write
 *   CR_DB_CONFLICT the row changed under us (version check failed)
 *   APR_EGENERAL   any other database failure (see last_error) */
#define CR_DB_CONFLICT (APR_OS_START_USERERR + 1)
#define CR_DB_EXHAUSTED (APR_OS_START_USERERR + 2)

typedef struct cr_db_rows_t {
    int ncols;
    int nrows;
    const char **cells;            /* nrows * ncols, NULL for SQL NULL */
} cr_db_rows_t;

/* Wrap an open connection.  prepared maps labels to prepared statements. */
cr_db_t *cr_db_wrap(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, apr_hash_t *prepared);

/* Begin a write transaction (SQLite: BEGIN IMMEDIATE, one writer at a
 * time; PostgreSQL: READ COMMITTED, writers in parallel). */
apr_status_t cr_db_begin(cr_db_t *db, apr_pool_t *pool);

/* Write the rows cr_db_exec_rows kept back (defer_rows), if any. */
apr_status_t cr_db_flush_rows(cr_db_t *db);

/* Commit (after cr_db_flush_rows); returns APR_SUCCESS only when the
 * commit itself succeeded, so a
 * 2xx may be sent.  On failure the transaction was rolled back. */
apr_status_t cr_db_commit(cr_db_t *db);

/* Roll back the open transaction, if any. */
void cr_db_rollback(cr_db_t *db);

/* Run a catalogue statement that returns no rows; *nrows (may be NULL)
 * receives the affected row count. */
apr_status_t cr_db_exec(cr_db_t *db, apr_pool_t *pool, const char *label,
                        int *nrows, int nargs, const char *const *args);

/* cr_db_exec in a transaction of its own (begin, run, commit; rolled
 * back on failure): a one-statement write by a caller that holds no
 * transaction (the queue workers). */
apr_status_t cr_db_exec_txn(cr_db_t *db, apr_pool_t *pool,
                            const char *label, int *nrows, int nargs,
                            const char *const *args);

/* Run a statement for each of nrows rows of ncols arguments (args holds
 * them row after row) in as few round trips as the catalogue allows:
 * label is the statement for one row, and label_2, label_4, ... up to
 * label_<max> (a power of two, at most 32) the same for that many rows,
 * so n rows take at most n / max + log2(max) + 1 statements.  For the
 * many small rows of a write (index keys, identifiers), where each round
 * trip to PostgreSQL costs more than the row. */
apr_status_t cr_db_exec_rows(cr_db_t *db, apr_pool_t *pool,
                             const char *label, int max, int ncols,
                             int nrows, const char *const *args);

/* Run a catalogue query, copying at most max_rows rows (the statement's
 * LIMIT is the real bound; this is a second fence).  Reads the result set
 * to its end. */
apr_status_t cr_db_select(cr_db_rows_t **out, cr_db_t *db, apr_pool_t *pool,
                          const char *label, int max_rows, int nargs,
                          const char *const *args);

/* Run a catalogue query that looks up one row by its key (at most the
 * first row is kept; the result set is read to its end).  Returns
 * APR_SUCCESS with *row a result of one row (read it with
 * cr_db_cell(*row, 0, col); cells from pool), APR_NOTFOUND when the query
 * gave no row (*row NULL), or the store error of cr_db_select. */
apr_status_t cr_db_select_one(cr_db_rows_t **row, cr_db_t *db,
                              apr_pool_t *pool, const char *label, int nargs,
                              const char *const *args);

/* Cell (row, col) of a result, or NULL. */
const char *cr_db_cell(const cr_db_rows_t *rows, int row, int col);

/* Prepare every catalogue statement on a connection (tools, unit tests). */
apr_status_t cr_db_prepare_catalogue(apr_hash_t **out, apr_pool_t *pool,
                                     const apr_dbd_driver_t *driver,
                                     apr_dbd_t *handle,
                                     const char **failed_label,
                                     const char **failed_error);

#endif /* CR_DB_H */
