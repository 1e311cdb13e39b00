/* cr_ops_match_tune: one fit of the matcher's parameters and value
 * counts, saved as the current set and kept in the history (see
 * cr_ops_match_tune.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "match/cr_match_tf.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_match_tune.h"
#include "store/cr_store_match.h"
#include "store/cr_store_match_tune.h"

/* Records read per page when counting values. */
#define COUNT_PAGE 500
/* Most records whose values are counted (a bound on the walk). */
#define COUNT_MAX_RECORDS 50000000L

typedef struct value_n_t {
    const char *value;
    apr_int64_t n;
} value_n_t;

static int cmp_value_n(const void *x, const void *y)
{
    const value_n_t *a = x, *b = y;

    if (a->n != b->n) {
        return a->n > b->n ? -1 : 1;
    }
    return strcmp(a->value, b->value);
}

/* The frequency table's rows from the counts of every stored record:
 * per field the summary row (records with the field, sum of squared
 * shares), the floor row and the values seen at least twice, at most
 * CR_MATCH_TF_MAX_VALUES of the most frequent. */
static apr_status_t count_values(apr_array_header_t **rows, cr_db_t *db,
                                 apr_pool_t *pool,
                                 const cr_match_cancel_t *cancel)
{
    apr_hash_t *counts[CR_MATCH_TF_COUNT];
    double totals[CR_MATCH_TF_COUNT];
    apr_pool_t *page_pool, *scratch;
    const char *after = "";
    long records = 0;
    apr_status_t rv = APR_SUCCESS;
    int i, k;

    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        counts[i] = apr_hash_make(pool);
        totals[i] = 0.0;
    }
    apr_pool_create(&page_pool, pool);
    apr_pool_create(&scratch, pool);
    while (records < COUNT_MAX_RECORDS) {
        apr_array_header_t *page = NULL;
        if (cr_match_cancelled(cancel)) {
            rv = CR_MATCH_CANCELLED;
            break;
        }
        apr_pool_clear(page_pool);
        rv = cr_store_match_records(&page, db, page_pool, after, COUNT_PAGE);
        if (rv != APR_SUCCESS || page->nelts == 0) {
            break;
        }
        for (k = 0; k < page->nelts; k++) {
            const cr_store_match_cand_t *c = &APR_ARRAY_IDX(
                page, k, cr_store_match_cand_t);
            cr_match_record_t rec;
            apr_pool_clear(scratch);
            if (cr_match_record_parse(&rec, scratch, c->record)
                == APR_SUCCESS) {
                cr_match_tf_count(counts, totals, &rec);
            }
            records++;
        }
        after = apr_pstrdup(pool, APR_ARRAY_IDX(
            page, page->nelts - 1, cr_store_match_cand_t).id);
        if (page->nelts < COUNT_PAGE) {
            break;
        }
    }
    apr_pool_destroy(scratch);
    apr_pool_destroy(page_pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *rows = apr_array_make(pool, 64, sizeof(cr_store_match_freq_t));
    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        apr_array_header_t *vals = apr_array_make(pool, 64,
                                                  sizeof(value_n_t));
        apr_hash_index_t *hi;
        cr_store_match_freq_t *row;
        double sumsq = 0.0;
        apr_int64_t floor_n = 1;
        int kept;

        for (hi = apr_hash_first(pool, counts[i]); hi;
             hi = apr_hash_next(hi)) {
            const void *key;
            void *val;
            value_n_t *v;
            apr_hash_this(hi, &key, NULL, &val);
            if (totals[i] > 0.0) {
                double s = (double)*(apr_int64_t *)val / totals[i];
                sumsq += s * s;
            }
            if (*(apr_int64_t *)val < 2) {
                continue;
            }
            v = apr_array_push(vals);
            v->value = key;
            v->n = *(apr_int64_t *)val;
        }
        qsort(vals->elts, vals->nelts, sizeof(value_n_t), cmp_value_n);
        kept = vals->nelts < CR_MATCH_TF_MAX_VALUES ? vals->nelts
                                                    : CR_MATCH_TF_MAX_VALUES;
        if (kept < vals->nelts) {
            /* Values left out are no more frequent than the last kept. */
            floor_n = APR_ARRAY_IDX(vals, kept - 1, value_n_t).n;
        }
        row = apr_array_push(*rows);
        row->field = cr_match_tf_field_name(i);
        row->value = "";
        row->n = (apr_int64_t)totals[i];
        row->share = sumsq;
        row = apr_array_push(*rows);
        row->field = cr_match_tf_field_name(i);
        row->value = "#";
        row->n = floor_n;
        row->share = 0.0;
        for (k = 0; k < kept; k++) {
            const value_n_t *v = &APR_ARRAY_IDX(vals, k, value_n_t);
            row = apr_array_push(*rows);
            row->field = cr_match_tf_field_name(i);
            row->value = v->value;
            row->n = v->n;
            row->share = totals[i] > 0.0 ? (double)v->n / totals[i] : 0.0;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_ops_match_fit(cr_ops_match_fit_t *out, cr_db_t *db,
                              apr_pool_t *pool, long sample,
                              const char *source, const char *now,
                              const cr_match_cancel_t *cancel)
{
    cr_match_tally_t *tally = cr_match_tally_make(pool);
    cr_store_match_tally_info_t ti;
    cr_store_match_estimate_t est;
    cr_match_em_info_t info;
    apr_array_header_t *freq = NULL;
    const cr_match_pattern_t *pats;
    double prior;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    rv = cr_store_match_tune_records(&out->registry, db, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_match_tally(tally, &ti, db, pool, sample,
                              CR_OPS_MATCH_PER_KEY,
                              CR_OPS_MATCH_MAX_CANDIDATES, cancel);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out->records = ti.records;
    out->pairs = ti.pairs;
    out->patterns = tally->patterns->nelts;
    if (ti.records < CR_OPS_MATCH_FIT_MIN_RECORDS || ti.pairs == 0) {
        return CR_OPS_MATCH_FIT_TOO_FEW;
    }
    pats = (const cr_match_pattern_t *)tally->patterns->elts;
    /* Start from the defaults, which also act as a weak prior worth 1 %
     * of the pairs (at least 50), so that levels the data seldom or never
     * shows keep sensible values instead of extreme weights. */
    prior = ti.pairs / 100.0 > 50.0 ? ti.pairs / 100.0 : 50.0;
    cr_match_params_default(&out->params);
    if (cr_match_em_cancellable(&out->params, pats, tally->patterns->nelts,
                                prior, 1000, 1e-6, 0, cancel, &info)
        == CR_MATCH_CANCELLED) {
        return CR_MATCH_CANCELLED;
    }
    if (!cr_match_params_plausible(&out->params)) {
        /* Too few duplicates among the records to show what a match
         * looks like: keep m at its defaults and fit u and lambda, which
         * the candidate pairs (nearly all non-matches) do show. */
        out->m_fixed = 1;
        cr_match_params_default(&out->params);
        if (cr_match_em_cancellable(&out->params, pats,
                                    tally->patterns->nelts, prior, 1000,
                                    1e-6, CR_MATCH_EM_FIX_M, cancel, &info)
            == CR_MATCH_CANCELLED) {
            return CR_MATCH_CANCELLED;
        }
    }
    /* The fit projected onto each field's order (pool adjacent
     * violators on m/u), so that what is stored is ordered too.  (EM with
     * the projection inside every M-step, CR_MATCH_EM_ORDERED, gives the
     * same weights on the data sets of docs/matching.md but tends to
     * oscillate between pooling and not, and never reports convergence.) */
    cr_match_params_order(&out->params);
    cr_match_params_finish(&out->params);
    out->iterations = info.iterations;
    out->converged = info.converged;
    rv = count_values(&freq, db, pool, cancel);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out->tf_values = freq->nelts;
    est.estimated = now;
    /* The registry's size, which the tuner compares with the next. */
    est.records = out->registry;
    est.pairs = ti.pairs;
    est.iterations = info.iterations;
    est.converged = info.converged;
    rv = cr_db_begin(db, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_match_fit_save(&out->fit_id, db, pool, &out->params, &est,
                                 source);
    if (rv == APR_SUCCESS) {
        rv = cr_store_match_freq_replace(
            db, pool, (const cr_store_match_freq_t *)freq->elts,
            freq->nelts);
    }
    if (rv != APR_SUCCESS) {
        cr_db_rollback(db);
        return rv;
    }
    return cr_db_commit(db);
}
