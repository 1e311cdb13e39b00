/* cr_ops_match_tune: fitting the matcher's parameters to the stored
 * records, for the module's background tuner (httpd/cr_match_tuner.c)
 * and 'cr-admin estimate' alike.
 *
 * A fit reads, outside any transaction: the comparison vectors of the
 * candidate pairs of (a sample of) the stored records, which EM turns
 * into m, u and lambda, projected onto each field's order
 * (cr_match_params_order); and the value counts of given names, family
 * names and cities for the term-frequency adjustment.  Then one short write
 * transaction keeps the fit in the history (cr_store_match_fit_save),
 * makes it current and replaces the value counts.  The matcher reads the
 * parameters on every query, so the next query uses them.
 */
#ifndef CR_OPS_MATCH_TUNE_H
#define CR_OPS_MATCH_TUNE_H

#include "match/cr_match.h"
#include "store/cr_db.h"

/* Default records sampled for a fit's candidate pairs (0: all). */
#define CR_OPS_MATCH_FIT_SAMPLE 20000
/* Records whose pairs give the population's agreement rates. */
#define CR_OPS_MATCH_FIT_RANDOM_RECORDS 1000
/* Fewest records worth fitting. */
#define CR_OPS_MATCH_FIT_MIN_RECORDS 200

typedef struct cr_ops_match_fit_t {
    cr_match_params_t params;    /* the fitted set */
    apr_int64_t fit_id;          /* its id in the history */
    long registry;               /* active patients when fitted (what
                                  * the history records) */
    long records;                /* records whose candidates were read */
    long pairs;                  /* candidate pairs */
    int patterns;                /* distinct comparison vectors */
    int iterations;
    int converged;
    int m_fixed;                 /* no match class found: m kept */
    long tf_values;              /* rows of the frequency table */
} cr_ops_match_fit_t;

/* cr_ops_match_fit: too few records or candidate pairs to fit. */
#define CR_OPS_MATCH_FIT_TOO_FEW (APR_OS_START_USERERR + 21)

/*
 * Fit and save (see above).  sample bounds the records whose candidates
 * are read (0: all); source is "auto" or "admin".  cancel (may be NULL)
 * is asked between records, EM rounds and pages of the value counts, up
 * to the save.  Returns APR_SUCCESS, CR_OPS_MATCH_FIT_TOO_FEW (nothing
 * saved), CR_MATCH_CANCELLED (abandoned, nothing saved), or a store error
 * (nothing saved).  db must have no open transaction.
 */
apr_status_t cr_ops_match_fit(cr_ops_match_fit_t *out, cr_db_t *db,
                              apr_pool_t *pool, long sample,
                              const char *source, const char *now,
                              const cr_match_cancel_t *cancel);

#endif /* CR_OPS_MATCH_TUNE_H */
