/* cr_db_sqlite: the SQLite-only tuning of the audit batch writer (see
 * cr_db_sqlite.h).  The statements are constant PRAGMAs, never built
 * from input; they are not catalogue statements because mod_dbd would
 * prepare them on every connection of every driver. */
#include <stdlib.h>

#include <sqlite3.h>

#include "store/cr_db_sqlite.h"

static const char *const sync_levels[] = {
    "PRAGMA synchronous=OFF", "PRAGMA synchronous=NORMAL",
    "PRAGMA synchronous=FULL", "PRAGMA synchronous=EXTRA"
};

int cr_db_sqlite_relax_sync(cr_db_t *db, apr_pool_t *pool)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int n = 0, level = -1;

    if (!db->is_sqlite
        || apr_dbd_select(db->driver, pool, db->handle, &res,
                          "PRAGMA synchronous", 0) != 0) {
        return -1;
    }
    while (apr_dbd_get_row(db->driver, pool, res, &row, -1) == 0) {
        v = apr_dbd_get_entry(db->driver, row, 0);
        level = v ? atoi(v) : -1;
    }
    if (level < 2 || level > 3) {
        return -1;
    }
    apr_dbd_query(db->driver, db->handle, &n, "PRAGMA synchronous=NORMAL");
    return level;
}

void cr_db_sqlite_restore_sync(cr_db_t *db, int level)
{
    int n = 0;

    if (level >= 0 && level <= 3) {
        apr_dbd_query(db->driver, db->handle, &n, sync_levels[level]);
    }
}

/* Moves the WAL's new frames into the database file now, in the caller's
 * background thread and outside the driver's process mutex (sqlite3
 * itself is thread-safe; the driver's mutex guards nothing this
 * connection shares).  Left to SQLite's auto-checkpoint, the copy and its
 * fsync would run inside some request's commit, under the mutex, and
 * stall that child.  PASSIVE never blocks readers or writers. */
void cr_db_sqlite_checkpoint(cr_db_t *db)
{
    sqlite3 *h;
    int log = 0, done = 0;

    if (!db->is_sqlite) {
        return;
    }
    h = apr_dbd_native_handle(db->driver, db->handle);
    if (h) {
        sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &done);
    }
}
