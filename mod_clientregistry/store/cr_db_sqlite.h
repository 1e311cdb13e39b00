/* cr_db_sqlite: what only SQLite needs, on a cr_db_t connection.
 *
 * The glue's audit batch writer commits records that are best effort
 * anyway; it relaxes SQLite's synchronous setting for that one
 * transaction and then moves the WAL into the database file itself (see
 * cr_db_sqlite.c for why).  Both are no-ops on other drivers.  This pair
 * is the only SQLite-specific code of the module, and cr_db_sqlite.c the
 * only file that includes <sqlite3.h>.
 */
#ifndef CR_DB_SQLITE_H
#define CR_DB_SQLITE_H

#include "store/cr_db.h"

/* SQLite only: switch db's connection to synchronous=NORMAL for one
 * transaction.  Returns the level to give back to
 * cr_db_sqlite_restore_sync, or -1 when nothing was changed (another
 * driver, or a level already NORMAL or lower).  Scratch memory from
 * pool. */
int cr_db_sqlite_relax_sync(cr_db_t *db, apr_pool_t *pool);

/* Restore the level cr_db_sqlite_relax_sync returned (-1: nothing). */
void cr_db_sqlite_restore_sync(cr_db_t *db, int level);

/* SQLite only: a PASSIVE checkpoint of the WAL, now. */
void cr_db_sqlite_checkpoint(cr_db_t *db);

#endif /* CR_DB_SQLITE_H */
