/* cr_store_audit: appending to and reading the hash-chained audit trail.
 *
 * Appends happen inside a write transaction (cr_db_begin): the end of a
 * chain is read and the new records chained onto it.  The trail is one
 * or more chains (core/cr_hashchain.h, schema/013_audit_chains.sql):
 * SQLite's single writer appends to chain 0, a total order; PostgreSQL's
 * writers of every node append in parallel, each to one of chains 1..16
 * that no other transaction holds (store/cr_store_pg.c), so each chain is
 * a total order and verification checks every chain on its own.  A write
 * request's audit record is appended in the same transaction as the
 * write itself. */
#ifndef CR_STORE_AUDIT_H
#define CR_STORE_AUDIT_H

#include <apr_tables.h>

#include "store/cr_db.h"
#include "core/cr_hashchain.h"

/* Chain and insert recs (of cr_audit_rec_t *, their seq, chain,
 * chain_seq, prev_hash and hash are filled in) inside the open
 * transaction: SQLite chain 0, PostgreSQL a chain of its own. */
apr_status_t cr_store_audit_append(cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *recs);

/* The single writer's append to a given chain (seq MAX + 1): what
 * cr_store_audit_append does on SQLite with chain 0.  Only for a writer
 * that holds the database alone (SQLite; the unit tests build trails of
 * several chains with it). */
apr_status_t cr_store_audit_append_chain(cr_db_t *db, apr_pool_t *pool,
                                         apr_array_header_t *recs, int chain);

/* What verification found in one chain. */
typedef struct cr_audit_chain_t {
    int chain;
    apr_int64_t checked;        /* records read, the first broken one too */
    apr_int64_t length;         /* intact records from the start */
    apr_int64_t first_bad;      /* position (chain_seq) where it breaks, 0
                                 * when intact */
    apr_int64_t first_bad_seq;  /* seq of the record found there */
} cr_audit_chain_t;

/* Recompute every chain: *chains receives one cr_audit_chain_t per chain
 * that has records, by chain number.  A chain is broken at the first
 * record out of place (chain_seq not the next position: a record removed
 * or moved), not linked to the one before (prev_hash), or whose hash is
 * not the hash of its fields; the rest of that chain is not read. */
apr_status_t cr_store_audit_verify_chains(apr_array_header_t **chains,
                                          cr_db_t *db, apr_pool_t *pool);

/* The record number to report for a broken chain: chain 0's position,
 * which is the seq there (SQLite; records from before migration 013),
 * or the seq of the record found at the break in the other chains. */
apr_int64_t cr_audit_chain_first_bad(const cr_audit_chain_t *c);

/* Every chain at once.  *checked receives the number of records checked,
 * *first_bad the record number (cr_audit_chain_first_bad) of the first
 * broken chain's break (0 when every chain is intact). */
apr_status_t cr_store_audit_verify(apr_int64_t *checked,
                                   apr_int64_t *first_bad, cr_db_t *db,
                                   apr_pool_t *pool);

/* Audit record seq numbers, newest first, by one criterion: patient id,
 * organisation, or recorded in [from, to) (instants); all NULL: the most
 * recent.  At most limit. */
apr_status_t cr_store_audit_find(apr_array_header_t **seqs, cr_db_t *db,
                                 apr_pool_t *pool, const char *patient,
                                 const char *org, const char *from,
                                 const char *to, int limit);

/* One record. */
apr_status_t cr_store_audit_get(cr_audit_rec_t **out, cr_db_t *db,
                                apr_pool_t *pool, apr_int64_t seq);

#endif /* CR_STORE_AUDIT_H */
