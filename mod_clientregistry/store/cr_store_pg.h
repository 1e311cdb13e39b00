/* cr_store_pg: what PostgreSQL writers share when they run in parallel
 * (several httpd nodes on one database; docs/postgresql.md): the
 * per-person row locks of updates and merges, PHN allocation from a
 * sequence, and the serialised audit append.  On SQLite, whose writers
 * are one at a time, each verb does nothing (or defers to the single
 * writer's path).
 */
#ifndef CR_STORE_PG_H
#define CR_STORE_PG_H

#include "store/cr_store.h"

/* Lock person id for the rest of the write transaction (SELECT ... FOR
 * UPDATE) and read its committed version into *version (may be NULL).
 * SQLite: nothing to lock; the version is read.  APR_NOTFOUND when there
 * is no such person. */
apr_status_t cr_store_patient_lock(apr_int64_t *version, cr_db_t *db,
                                   apr_pool_t *pool, const char *id);

/* Lock the persons of ids (n of them, any order, NULLs and repeats
 * ignored) in one fixed order (by id), so that two merges naming the same
 * persons the other way round do not deadlock.  Unknown ids are skipped. */
apr_status_t cr_store_patients_lock(cr_db_t *db, apr_pool_t *pool,
                                    const char *const *ids, int n);

/* PostgreSQL's PHN allocation (cr_store_phn_allocate calls it): the next
 * usable body from the sequence of migration 010, never below the
 * allocator row's next_body nor the range's first body, skipping PHNs
 * already held.  No lock is held past the statements themselves; the
 * UNIQUE constraints back a PHN that an external issuer supplies at the
 * same moment. */
apr_status_t cr_store_pg_phn_allocate(char phn[11], cr_db_t *db,
                                      apr_pool_t *pool,
                                      const cr_phn_range_t *range);

/* Before an audit append on PostgreSQL: wait for the appenders of other
 * transactions (all nodes) and hold the chain's end until this
 * transaction ends.  SQLite: nothing. */
apr_status_t cr_store_pg_audit_lock(cr_db_t *db, apr_pool_t *pool);

/* Before an event is appended to the outbox on PostgreSQL: its seq is
 * MAX + 1, so appenders of other transactions (all nodes) wait until this
 * one ends, and seq order stays commit order (the order deliveries of one
 * client keep).  Taken before the audit lock wherever both are taken.
 * SQLite: nothing (its single writer already serialises them). */
apr_status_t cr_store_pg_outbox_lock(cr_db_t *db, apr_pool_t *pool);

/* PostgreSQL: the current transaction's commit returns before its WAL
 * is flushed (synchronous_commit off, for this transaction only; a crash
 * of the server can lose it, never corrupt anything).  SQLite:
 * nothing. */
apr_status_t cr_store_pg_async_commit(cr_db_t *db, apr_pool_t *pool);

#endif /* CR_STORE_PG_H */
