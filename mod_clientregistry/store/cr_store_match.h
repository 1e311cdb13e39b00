/* cr_store_match: the matching engine's persistence.
 *
 * - Candidates: the patients sharing a blocking key with a query, each
 *   with its match record (index kind CR_MATCH_KIND_RECORD), from one
 *   bounded index look-up per key.  Never a scan: the number of rows one
 *   query touches is bounded by the number of keys times per_key.  And
 *   whether the ones a query returns are still active patients.
 * - The stored records page by page (for the estimation), and the
 *   comparison vectors of their candidate pairs (cr_store_match_tally).
 * - The Fellegi-Sunter parameters (m, u, lambda): load, with the built-in
 *   defaults when none were estimated, and save.
 * - The review list of potential duplicates found at write time.
 *
 * Like every store file, nothing here logs or picks HTTP statuses;
 * results are the apr_status_t values of cr_db.h.  Writers call inside
 * the write transaction they opened; readers need none.
 */
#ifndef CR_STORE_MATCH_H
#define CR_STORE_MATCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"
#include "match/cr_match.h"

/* A candidate (or a stored record): its patient id and record text, both
 * allocated from the caller's pool. */
typedef struct cr_store_match_cand_t {
    const char *id;
    const char *record;
} cr_store_match_cand_t;

/*
 * The distinct candidates of keys (cr_match_key_t), in key order.
 *
 * out:        receives an array of cr_store_match_cand_t from pool.
 * exclude_id: a patient id never returned (the query's own), or NULL.
 * per_key:    LIMIT of each look-up (a key shared by more patients than
 *             that is too common to tell anyone apart: its first per_key
 *             rows in id order are taken).
 * max_total:  most candidates returned; look-ups stop there.
 *
 * Candidates may include records merged into a survivor: check the ones
 * you return with cr_store_match_active.
 */
apr_status_t cr_store_match_candidates(apr_array_header_t **out,
                                       cr_db_t *db, apr_pool_t *pool,
                                       const apr_array_header_t *keys,
                                       const char *exclude_id, int per_key,
                                       int max_total);

/*
 * Which of ids[0..n-1] are patients that exist and were not merged away
 * (cr_patient.replaced_by unset): active[i] is set to 1 or 0.  Any n;
 * one query per 10 ids.
 */
apr_status_t cr_store_match_active(int *active, cr_db_t *db,
                                   apr_pool_t *pool, const char *const *ids,
                                   int n);

/* Up to limit stored records with ids above after_id ("" for the first
 * page), in id order: an array of cr_store_match_cand_t from pool. */
apr_status_t cr_store_match_records(apr_array_header_t **out, cr_db_t *db,
                                    apr_pool_t *pool, const char *after_id,
                                    int limit);

/* What cr_store_match_tally went through. */
typedef struct cr_store_match_tally_info_t {
    long records;                /* stored records read */
    long pairs;                  /* candidate pairs compared */
} cr_store_match_tally_info_t;

/*
 * The comparison vectors of the candidate pairs of the stored records:
 * for each of the first max_records records in id order (ids are random
 * UUIDs, so that is a random sample), its blocking keys are looked up as
 * a query's would be and every candidate is compared with it.  Each pair
 * is counted from both of its records, which scales every count alike
 * and so leaves EM's estimates unchanged.
 *
 * tally:       receives the vectors (cr_match_tally_add).
 * max_records: bound on the records read (0: all).
 * per_key, max_candidates: as for cr_store_match_candidates.
 * cancel:      asked before every record (may be NULL); when it says stop
 *              the walk returns CR_MATCH_CANCELLED with a partial tally.
 * Memory: one scratch pool cleared per record.
 */
apr_status_t cr_store_match_tally(cr_match_tally_t *tally,
                                  cr_store_match_tally_info_t *info,
                                  cr_db_t *db, apr_pool_t *pool,
                                  long max_records, int per_key,
                                  int max_candidates,
                                  const cr_match_cancel_t *cancel);

/*
 * Rebuild the matcher's rows (the match record and blocking keys, kinds
 * "bk:...") of up to limit patients with ids above after_id, from their
 * stored resources, as cr_index_build derives them: for databases written
 * by an engine version with other keys.  Runs inside the caller's
 * transaction.  *last receives the last id done (NULL when none was left:
 * the end); *done the number rebuilt, *skipped the number whose stored
 * resource no longer parses (they keep their rows).
 */
apr_status_t cr_store_match_rekey(const char **last, int *done, int *skipped,
                                  cr_db_t *db, apr_pool_t *pool,
                                  const char *after_id, int limit);

/* How the stored parameters were made (cr_match_estimate row). */
typedef struct cr_store_match_estimate_t {
    const char *estimated;       /* FHIR instant, NULL for the defaults */
    long records;
    long pairs;
    int iterations;
    int converged;
} cr_store_match_estimate_t;

/*
 * The current parameters into *p (finished): the stored estimate when
 * there is one, field by field, else cr_match_params_default.  A stored
 * row naming an unknown field or level is ignored.  *info (may be NULL)
 * says where they came from (estimated NULL: defaults).
 */
apr_status_t cr_store_match_params_load(cr_match_params_t *p,
                                        cr_store_match_estimate_t *info,
                                        cr_db_t *db, apr_pool_t *pool);

/* Fill p's m and u from rows of (field, level, m, u) by name: a field
 * the rows name is taken from them entirely (the others keep p's
 * values), unknown fields or levels are ignored, and a row of field ''
 * sets p->lambda from its m column.  p is not finished. */
void cr_store_match_params_rows(cr_match_params_t *p,
                                const cr_db_rows_t *rows);

/* Replace the stored parameters with p and info (inside a transaction the
 * caller opened). */
apr_status_t cr_store_match_params_save(cr_db_t *db, apr_pool_t *pool,
                                        const cr_match_params_t *p,
                                        const cr_store_match_estimate_t *info);

/* One pair of the review list. */
typedef struct cr_store_match_dup_t {
    const char *patient_lo;      /* the pair, smaller id first */
    const char *patient_hi;
    double score;
    double weight;
    const char *grade;           /* FHIR match grade */
    const char *found;           /* FHIR instant of the newest finding */
    const char *found_by;        /* the write that found it: "create", ... */
    const char *message_id;      /* that write's message id, or NULL */
    const char *status;          /* "open" until reviewed
                                  * (CR_STORE_MATCH_DUP_*) */
} cr_store_match_dup_t;

/* Record that patients a and b (any order, a != b) may be one person,
 * found by the write w_operation/message_id at instant now.  An existing
 * row for the pair gets the new score and finding; its status stays. */
apr_status_t cr_store_match_duplicate_record(cr_db_t *db, apr_pool_t *pool,
                                             const char *a, const char *b,
                                             double score, double weight,
                                             const char *grade,
                                             const char *now,
                                             const char *w_operation,
                                             const char *message_id);

/* The pairs with status, newest finding first: at most count from
 * offset; only those involving patient_id when it is not NULL.  An array
 * of cr_store_match_dup_t from pool. */
apr_status_t cr_store_match_duplicate_list(apr_array_header_t **out,
                                           cr_db_t *db, apr_pool_t *pool,
                                           const char *status,
                                           const char *patient_id,
                                           int count, int offset);

/* The same, also filtered by grade (NULL: any) and sorted by sort:
 * "-found" (NULL: newest finding first), "-score" (highest first) or
 * "score" (lowest first); ties newest first, then by ids.  Without grade
 * and with the default order it is cr_store_match_duplicate_list. */
apr_status_t cr_store_match_duplicate_list_by(apr_array_header_t **out,
                                              cr_db_t *db, apr_pool_t *pool,
                                              const char *status,
                                              const char *grade,
                                              const char *patient_id,
                                              const char *sort, int count,
                                              int offset);

/* Review statuses of a pair (cr_match_duplicate.status). */
#define CR_STORE_MATCH_DUP_OPEN "open"                   /* to review */
#define CR_STORE_MATCH_DUP_NOT_DUPLICATE "not-duplicate" /* dismissed */
#define CR_STORE_MATCH_DUP_MERGED "merged"               /* merged */

/*
 * The pair a, b (any order) of the review list into *out (from pool).
 * Returns APR_NOTFOUND when the pair is not listed, APR_EINVAL when a or
 * b is NULL or a equals b, or a store error.  Inside a write transaction
 * the caller's own changes are seen.
 */
apr_status_t cr_store_match_duplicate_get(cr_store_match_dup_t **out,
                                          cr_db_t *db, apr_pool_t *pool,
                                          const char *a, const char *b);

/*
 * Set the review status of the pair a, b (any order) to status (inside a
 * transaction the caller opened).  When only_from is not NULL the pair
 * changes only if its status is only_from.  *changed (may be NULL)
 * receives 1 when a row was updated, 0 when the pair is not listed (or
 * had another status than only_from): neither is an error.  Returns
 * APR_EINVAL when a or b is NULL or a equals b, or a store error.
 */
apr_status_t cr_store_match_duplicate_set_status(int *changed, cr_db_t *db,
                                                 apr_pool_t *pool,
                                                 const char *a,
                                                 const char *b,
                                                 const char *status,
                                                 const char *only_from);

#endif /* CR_STORE_MATCH_H */
