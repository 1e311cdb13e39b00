/* cr_store_pg: what PostgreSQL writers in parallel share (see the
 * header); the statements are the PostgreSQL-only ones of cr_sql_pg.c. */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>

#include "core/cr_phn.h"
#include "store/cr_sql.h"
#include "store/cr_store_pg.h"

/* Sequence values tried per allocation: each unusable body (about 2 in
 * 11) or PHN held elsewhere costs one. */
#define PHN_MAX_PROBES 10000

/* Persons one call of cr_store_patients_lock locks at most (a merge names
 * a survivor and up to 20 non-survivors). */
#define LOCK_MAX 64

static const char *i64(apr_pool_t *pool, apr_int64_t v)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

apr_status_t cr_store_patient_lock(apr_int64_t *version, cr_db_t *db,
                                   apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    if (db->is_sqlite) {
        cr_stored_t *s = NULL;
        rv = cr_store_patient_get(&s, db, pool, id);
        if (version) {
            *version = s ? s->version : 0;
        }
        return rv;
    }
    args[0] = id;
    rv = cr_db_select(&rows, db, pool, "cr_pg_patient_lock", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    if (version) {
        *version = apr_atoi64(cr_db_cell(rows, 0, 0));
    }
    return APR_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

apr_status_t cr_store_patients_lock(cr_db_t *db, apr_pool_t *pool,
                                    const char *const *ids, int n)
{
    const char *sorted[LOCK_MAX];
    int i, k = 0;

    if (db->is_sqlite) {
        return APR_SUCCESS;
    }
    for (i = 0; i < n && k < LOCK_MAX; i++) {
        if (ids[i]) {
            sorted[k++] = ids[i];
        }
    }
    qsort(sorted, (size_t)k, sizeof(sorted[0]), cmp_str);
    for (i = 0; i < k; i++) {
        apr_status_t rv;
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0) {
            continue;
        }
        rv = cr_store_patient_lock(NULL, db, pool, sorted[i]);
        if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Move the sequence up to floor (the allocator row or the configured
 * range is ahead of it).  The transaction-scoped lock keeps two
 * catch-ups from rewinding each other; it is rare (a new range, or a
 * tool that loaded PHNs), so holding it to the end of this transaction
 * costs nothing. */
static apr_status_t catch_up(cr_db_t *db, apr_pool_t *pool,
                             apr_int64_t floor)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    args[0] = i64(pool, CR_SQL_PG_LOCK_PHN);
    rv = cr_db_select(&rows, db, pool, "cr_pg_lock_xact", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    args[0] = i64(pool, floor);
    args[1] = args[0];
    return cr_db_select(&rows, db, pool, "cr_pg_phn_catch_up", 1, 2, args);
}

/* The sequence's next value and the allocator row's floor: one value a
 * round trip, or (phn_block > 1, bulk tools) that many fetched ahead and
 * handed out in order; a value fetched ahead and not used is a gap, as a
 * rolled-back one is. */
static apr_status_t next_value(apr_int64_t *n, apr_int64_t *floor,
                               cr_db_t *db, apr_pool_t *pool)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;
    int block = db->phn_block, r;

    if (block > (int)(sizeof(db->phn_ahead) / sizeof(db->phn_ahead[0]))) {
        block = (int)(sizeof(db->phn_ahead) / sizeof(db->phn_ahead[0]));
    }
    if (block > 1 && db->phn_ahead_used < db->phn_ahead_n) {
        *n = db->phn_ahead[db->phn_ahead_used++];
        *floor = db->phn_ahead_floor;
        return APR_SUCCESS;
    }
    if (block <= 1) {
        rv = cr_db_select(&rows, db, pool, "cr_pg_phn_next", 1, 0, NULL);
    }
    else {
        args[0] = apr_itoa(pool, block);
        rv = cr_db_select(&rows, db, pool, "cr_pg_phn_next_n", block, 1,
                          args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0 || cr_db_cell(rows, 0, 0) == NULL) {
        return APR_EGENERAL;
    }
    *n = apr_atoi64(cr_db_cell(rows, 0, 0));
    *floor = cr_db_cell(rows, 0, 1) ? apr_atoi64(cr_db_cell(rows, 0, 1)) : 0;
    if (block > 1) {
        for (r = 1; r < rows->nrows; r++) {
            db->phn_ahead[r - 1] = apr_atoi64(cr_db_cell(rows, r, 0));
        }
        db->phn_ahead_n = rows->nrows - 1;
        db->phn_ahead_used = 0;
        db->phn_ahead_floor = *floor;
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_pg_phn_allocate(char phn[11], cr_db_t *db,
                                      apr_pool_t *pool,
                                      const cr_phn_range_t *range)
{
    int probes;

    /* CR-PHN-008, CR-PHN-010: a sequence value is handed out once, even
     * when its transaction rolls back, so no PHN is ever issued twice;
     * the UNIQUE (system, value) constraint backs it. */
    for (probes = 0; probes < PHN_MAX_PROBES; probes++) {
        apr_int64_t n, floor, body;
        apr_status_t rv;
        int held = 0;

        rv = next_value(&n, &floor, db, pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (floor < range->first) {
            floor = range->first;
        }
        if (n < floor) {
            db->phn_ahead_n = 0;   /* what was fetched ahead is below too */
            rv = catch_up(db, pool, floor);
            if (rv != APR_SUCCESS) {
                return rv;
            }
            continue;
        }
        if (n > range->last) {
            /* CR-PHN-009: the configured range is used up. */
            return CR_DB_EXHAUSTED;
        }
        body = cr_phn_next_usable_body(n);
        if (body != n) {
            /* No check digit for this body: the next value.  (Taking
             * body here would race with the writer whose value it is.) */
            if (body < 0) {
                return CR_DB_EXHAUSTED;
            }
            continue;
        }
        rv = cr_store_phn_held(&held, phn, db, pool, body);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!held) {
            return APR_SUCCESS;
        }
        /* issued elsewhere (external issuer): the next value */
    }
    return CR_DB_EXHAUSTED;
}

/* Once per process and sequence: the audit (outbox) sequence raised above
 * the records already there (chain 0's from before migration 013, events
 * from before it, a restored database), under a transaction-scoped lock so
 * two catch-ups never rewind each other.  After that every seq comes from
 * the sequence, so it stays ahead. */
static apr_uint32_t audit_seq_ready = 0, outbox_seq_ready = 0;

static apr_status_t seq_catch_up(cr_db_t *db, apr_pool_t *pool,
                                 apr_uint32_t *ready, apr_int64_t lock,
                                 const char *label)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    if (apr_atomic_read32(ready)) {
        return APR_SUCCESS;
    }
    args[0] = i64(pool, lock);
    rv = cr_db_select(&rows, db, pool, "cr_pg_lock_xact", 1, 1, args);
    if (rv == APR_SUCCESS) {
        rv = cr_db_select(&rows, db, pool, label, 1, 0, NULL);
    }
    if (rv == APR_SUCCESS) {
        apr_atomic_set32(ready, 1);
    }
    return rv;
}

static int cmp_i64(const void *a, const void *b)
{
    apr_int64_t x = *(const apr_int64_t *)a, y = *(const apr_int64_t *)b;

    return x < y ? -1 : x > y;
}

apr_status_t cr_store_pg_audit_chain(int *chain, apr_int64_t *seqs,
                                     apr_int64_t *end, const char **hash,
                                     cr_db_t *db, apr_pool_t *pool, int n)
{
    cr_db_rows_t *rows;
    const char *args[3];
    apr_status_t rv;
    int r;

    rv = seq_catch_up(db, pool, &audit_seq_ready, CR_SQL_PG_LOCK_AUDIT,
                      "cr_pg_audit_seq_catch_up");
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* A chain no other transaction holds, or (all held) this backend's
     * own, waited for. */
    args[0] = apr_itoa(pool, CR_AUDIT_PG_CHAINS);
    args[1] = apr_itoa(pool, CR_AUDIT_PG_CHAINS - 1);
    args[2] = apr_itoa(pool, CR_SQL_PG_LOCK_AUDIT_CHAIN);
    rv = cr_db_select(&rows, db, pool, "cr_pg_audit_chain_try", 1, 3, args);
    if (rv == APR_SUCCESS && rows->nrows == 0) {
        args[1] = args[2];
        rv = cr_db_select(&rows, db, pool, "cr_pg_audit_chain_wait", 1, 2,
                          args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows != 1 || cr_db_cell(rows, 0, 0) == NULL) {
        return APR_EGENERAL;
    }
    *chain = atoi(cr_db_cell(rows, 0, 0));
    if (*chain < 1 || *chain > CR_AUDIT_PG_CHAINS) {
        return APR_EGENERAL;
    }
    /* Its end, read now that the lock is granted, and the numbers. */
    args[0] = apr_itoa(pool, n);
    args[1] = apr_itoa(pool, *chain);
    rv = cr_db_select(&rows, db, pool, "cr_pg_audit_chain_end", n, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows != n) {
        return APR_EGENERAL;
    }
    for (r = 0; r < n; r++) {
        seqs[r] = apr_atoi64(cr_db_cell(rows, r, 0));
    }
    qsort(seqs, (size_t)n, sizeof(seqs[0]), cmp_i64);
    *end = cr_db_cell(rows, 0, 1) ? apr_atoi64(cr_db_cell(rows, 0, 1)) : 0;
    *hash = cr_db_cell(rows, 0, 2);
    return APR_SUCCESS;
}

apr_status_t cr_store_pg_outbox_seq(apr_int64_t *seq, cr_db_t *db,
                                    apr_pool_t *pool)
{
    cr_db_rows_t *rows;
    apr_status_t rv;

    int block = db->defer_rows ? 32 : 1, r;

    if (db->outbox_ahead_used < db->outbox_ahead_n) {
        *seq = db->outbox_ahead[db->outbox_ahead_used++];
        return APR_SUCCESS;
    }
    rv = seq_catch_up(db, pool, &outbox_seq_ready, CR_SQL_PG_LOCK_OUTBOX,
                      "cr_pg_outbox_seq_catch_up");
    if (rv == APR_SUCCESS && block == 1) {
        rv = cr_db_select(&rows, db, pool, "cr_pg_outbox_next", 1, 0, NULL);
    }
    else if (rv == APR_SUCCESS) {
        /* A bulk tool: a block fetched ahead, handed out in order; one
         * not used is a gap, as a rolled-back one is. */
        const char *args[1];
        args[0] = apr_itoa(pool, block);
        rv = cr_db_select(&rows, db, pool, "cr_pg_outbox_next_n", block, 1,
                          args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows < 1 || rows->nrows > 32
        || cr_db_cell(rows, 0, 0) == NULL) {
        return APR_EGENERAL;
    }
    *seq = apr_atoi64(cr_db_cell(rows, 0, 0));
    for (r = 1; r < rows->nrows; r++) {
        db->outbox_ahead[r - 1] = apr_atoi64(cr_db_cell(rows, r, 0));
    }
    db->outbox_ahead_n = rows->nrows - 1;
    db->outbox_ahead_used = 0;
    return APR_SUCCESS;
}

apr_status_t cr_store_pg_async_commit(cr_db_t *db, apr_pool_t *pool)
{
    cr_db_rows_t *rows;

    if (db->is_sqlite) {
        return APR_SUCCESS;
    }
    return cr_db_select(&rows, db, pool, "cr_pg_async_commit", 1, 0, NULL);
}
