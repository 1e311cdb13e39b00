/* cr_store_audit: appending to and reading the hash-chained audit trail.
 *
 * Appends happen inside a write transaction (cr_db_begin): the last
 * record's seq and hash are read and the new records chained onto them,
 * so the chain is a total order even with many writers.  A write request's
 * audit record is appended in the same transaction as the write itself. */
#ifndef CR_STORE_AUDIT_H
#define CR_STORE_AUDIT_H

#include <apr_tables.h>

#include "store/cr_db.h"
#include "core/cr_hashchain.h"

/* Chain and insert recs (of cr_audit_rec_t *, their seq/prev_hash/hash
 * are filled in) inside the open transaction. */
apr_status_t cr_store_audit_append(cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *recs);

/* Recompute the whole chain.  *checked receives the number of records
 * checked, *first_bad the seq of the first record whose hash or link is
 * wrong (0 when the chain is intact). */
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
