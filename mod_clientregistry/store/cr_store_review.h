/*
 * cr_store_review: what the duplicate review (the steward's console,
 * $potential-duplicates with evidence or history, $resolve-duplicate)
 * needs besides the pair list of cr_store_match: a patient's current
 * match record, to explain a pair's score field by field, and the
 * pair's decision history (table cr_match_decision, migration 008).
 * Results are the apr_status_t values of cr_db.h.
 */
#ifndef CR_STORE_REVIEW_H
#define CR_STORE_REVIEW_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"

/* Most decisions of one pair returned by cr_store_review_history. */
#define CR_STORE_REVIEW_MAX_HISTORY 100

/* Decision actions (cr_match_decision.action). */
#define CR_STORE_REVIEW_MERGED "merged"
#define CR_STORE_REVIEW_UNMERGED "unmerged"
#define CR_STORE_REVIEW_NOTE "note"         /* a comment, status kept */

/* One decision on a pair. */
typedef struct cr_store_review_decision_t {
    int seq;                     /* 1 for the pair's first decision */
    const char *decided;         /* FHIR instant */
    const char *action;          /* not-duplicate, open, merged, unmerged */
    const char *status;          /* the pair's status afterwards */
    const char *comment;         /* the reviewer's, or NULL */
    const char *decided_by;      /* the caller, or NULL */
    const char *message_id;      /* the request's, or NULL */
} cr_store_review_decision_t;

/* The current match record text of patient id into *out (from pool);
 * APR_NOTFOUND when it has none. */
apr_status_t cr_store_review_record_get(const char **out, cr_db_t *db,
                                        apr_pool_t *pool, const char *id);

/* Append a decision on the pair a, b (any order, a != b) inside the
 * caller's transaction.  comment, decided_by and message_id may be NULL.
 * APR_EINVAL when a or b is NULL or a equals b. */
apr_status_t cr_store_review_decision_add(cr_db_t *db, apr_pool_t *pool,
                                          const char *a, const char *b,
                                          const char *decided,
                                          const char *action,
                                          const char *status,
                                          const char *comment,
                                          const char *decided_by,
                                          const char *message_id);

/* The decisions on the pair a, b (any order), newest first, at most
 * CR_STORE_REVIEW_MAX_HISTORY: an array of cr_store_review_decision_t
 * from pool (empty when none). */
apr_status_t cr_store_review_history(apr_array_header_t **out, cr_db_t *db,
                                     apr_pool_t *pool, const char *a,
                                     const char *b);

#endif /* CR_STORE_REVIEW_H */
