/* cr_store_pg: what PostgreSQL writers share when they run in parallel
 * (several httpd nodes on one database; docs/postgresql.md): the
 * per-person row locks of updates and merges, PHN allocation from a
 * sequence, and the audit chains appended in parallel.  On SQLite, whose
 * writers are one at a time, each verb does nothing (or defers to the
 * single writer's path).
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

/* The audit chains PostgreSQL's appenders use (schema 013): 1..this. */
#define CR_AUDIT_PG_CHAINS 16

/* Before an audit append of n records on PostgreSQL: take one of the
 * chains 1..CR_AUDIT_PG_CHAINS that no other transaction (of any node)
 * holds -- or, when all are held, wait for this backend's own -- until
 * this transaction ends; *chain receives it, *end and *hash its last
 * record's position and hash (0 and NULL for a new chain), seqs[0..n-1]
 * n new record numbers from the sequence, ascending.  The first call of a
 * process raises the sequence above the records already there. */
apr_status_t cr_store_pg_audit_chain(int *chain, apr_int64_t *seqs,
                                     apr_int64_t *end, const char **hash,
                                     cr_db_t *db, apr_pool_t *pool, int n);

/* An event's outbox seq on PostgreSQL, from the sequence of migration
 * 013, without a lock: the writer holds its person's row lock (or the
 * person is new), so the events of one client are numbered in the order
 * their writes commit, which is the order deliveries of one client keep;
 * across clients the order is the order the numbers were drawn.  The
 * first call of a process raises the sequence above the events already
 * there. */
apr_status_t cr_store_pg_outbox_seq(apr_int64_t *seq, cr_db_t *db,
                                    apr_pool_t *pool);

/* PostgreSQL: the current transaction's commit returns before its WAL
 * is flushed (synchronous_commit off, for this transaction only; a crash
 * of the server can lose it, never corrupt anything).  SQLite:
 * nothing. */
apr_status_t cr_store_pg_async_commit(cr_db_t *db, apr_pool_t *pool);

#endif /* CR_STORE_PG_H */
