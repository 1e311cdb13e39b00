/* cr_store_search: runs a cr_search specification against the store.
 *
 * One clause (the most selective kind present) is answered by index
 * look-ups that return candidate ids, at most max_candidates of them; the
 * other clauses are checked on each candidate's stored keys.  A query
 * whose best look-up returns more candidates than the bound is refused
 * (APR_ENOSPC, "too-costly"), so no search ever scans the database: a
 * client registry is not for browsing. */
#ifndef CR_STORE_SEARCH_H
#define CR_STORE_SEARCH_H

#include "store/cr_db.h"
#include "match/cr_search.h"
#include "store/cr_store.h"

typedef struct cr_search_result_t {
    int total;                   /* matches in all */
    apr_array_header_t *page;    /* of cr_stored_t *, current versions */
} cr_search_result_t;

apr_status_t cr_store_search(cr_search_result_t **out, cr_db_t *db,
                             apr_pool_t *pool, const cr_search_spec_t *spec,
                             int max_candidates);

#endif /* CR_STORE_SEARCH_H */
