/* cr_store_match_tune: persistence of the matcher's self-tuning
 * (migration 009).
 *
 * - The history of fits: every fitted set of m/u parameters with its
 *   date, kept when it is saved as the current set; listing them; making
 *   an earlier one current again.
 * - The value counts of given names, family names and cities behind the
 *   term-frequency adjustment (match/cr_match_tf.h): replaced with every
 *   fit, and read for one query's values.
 * - The tuner's claim row, so that of all the children of all the
 *   servers on one database only one fits at a time, and the count of
 *   records that triggers a re-fit.
 *
 * Like every store file, nothing here logs; results are the apr_status_t
 * values of cr_db.h.  Writers run inside a transaction the caller opened.
 */
#ifndef CR_STORE_MATCH_TUNE_H
#define CR_STORE_MATCH_TUNE_H

#include "store/cr_db.h"
#include "store/cr_store_match.h"
#include "match/cr_match_tf.h"

/* One fit of the history. */
typedef struct cr_store_match_fit_t {
    apr_int64_t id;
    const char *fitted;          /* FHIR instant */
    double lambda;
    long records;
    long pairs;
    int iterations;
    int converged;
    const char *source;          /* "auto" or "admin" */
} cr_store_match_fit_t;

/* Most fits cr_store_match_fit_list returns. */
#define CR_STORE_MATCH_MAX_FITS 1000

/*
 * Save p as a new fit of the history (info->estimated its date, source
 * "auto" or "admin") and make it the current parameters
 * (cr_store_match_params_save) and the active fit.  *id (may be NULL)
 * receives its id.  Inside the caller's transaction.
 */
apr_status_t cr_store_match_fit_save(apr_int64_t *id, cr_db_t *db,
                                     apr_pool_t *pool,
                                     const cr_match_params_t *p,
                                     const cr_store_match_estimate_t *info,
                                     const char *source);

/* The newest fits first, at most limit (capped at
 * CR_STORE_MATCH_MAX_FITS): an array of cr_store_match_fit_t from pool;
 * *active receives the id of the fit in use (0: none of them). */
apr_status_t cr_store_match_fit_list(apr_array_header_t **out,
                                     apr_int64_t *active, cr_db_t *db,
                                     apr_pool_t *pool, int limit);

/* Make fit id the current parameters again (inside the caller's
 * transaction).  APR_NOTFOUND when there is no such fit. */
apr_status_t cr_store_match_fit_use(cr_db_t *db, apr_pool_t *pool,
                                    apr_int64_t id);

/* Claim the next fit until the instant until, unless a claim that has not
 * expired by now is held: *won is 1 when this caller holds it. */
apr_status_t cr_store_match_tune_claim(int *won, cr_db_t *db,
                                       apr_pool_t *pool, const char *until,
                                       const char *now);

/* Give the claim up. */
apr_status_t cr_store_match_tune_release(cr_db_t *db, apr_pool_t *pool);

/* The active patients (what a fit would read). */
apr_status_t cr_store_match_tune_records(long *n, cr_db_t *db,
                                         apr_pool_t *pool);

/* One row of the frequency table. */
typedef struct cr_store_match_freq_t {
    const char *field;           /* cr_match_tf_field_name */
    const char *value;           /* '' summary, '#' floor, or a value */
    apr_int64_t n;
    double share;
} cr_store_match_freq_t;

/* Replace the frequency table with rows[0..n-1] (inside the caller's
 * transaction). */
apr_status_t cr_store_match_freq_replace(cr_db_t *db, apr_pool_t *pool,
                                         const cr_store_match_freq_t *rows,
                                         int n);

/* The adjustments of query q (cr_match_tf_bits of its value of each tf
 * field) into *tf; all 0 when the table is empty (never fitted). */
apr_status_t cr_store_match_freq_lookup(cr_match_tf_t *tf, cr_db_t *db,
                                        apr_pool_t *pool,
                                        const cr_match_record_t *q);

/* What a query needs, with one statement: the current parameters into
 * *p (as cr_store_match_params_load) and the adjustments of q's values
 * into *tf (as cr_store_match_freq_lookup).  A connection with a
 * conn_pool keeps the parameters there and reads only the current fit's
 * key with the adjustments; the parameters again only when the key
 * changed (cr_store_match_params_save rewrites it with them). */
apr_status_t cr_store_match_params_freq_load(cr_match_params_t *p,
                                             cr_match_tf_t *tf,
                                             cr_db_t *db, apr_pool_t *pool,
                                             const cr_match_record_t *q);

#endif /* CR_STORE_MATCH_TUNE_H */
