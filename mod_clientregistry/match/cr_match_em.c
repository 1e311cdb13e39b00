/*
 * cr_match_em.c: estimation of the m and u probabilities from the stored
 * records (see cr_match.h): the tally of comparison vectors, EM with a
 * latent match class (Winkler 1988/1993), the ordinal projection of the
 * likelihood ratios and the plausibility test of an estimate.
 */
#include <math.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "match/cr_match.h"
#include "match/cr_similarity.h"

/* ------------------------------------------------------------------ */
/* EM                                                                  */
/* ------------------------------------------------------------------ */

cr_match_tally_t *cr_match_tally_make(apr_pool_t *pool)
{
    cr_match_tally_t *t = apr_pcalloc(pool, sizeof(*t));

    t->pool = pool;
    t->seen = apr_hash_make(pool);
    t->patterns = apr_array_make(pool, 64, sizeof(cr_match_pattern_t));
    return t;
}

void cr_match_tally_add(cr_match_tally_t *t, const cr_match_vector_t *v)
{
    int *idx = apr_hash_get(t->seen, v->level, sizeof(v->level));
    cr_match_pattern_t *pat;

    t->pairs += 1.0;
    if (idx) {
        APR_ARRAY_IDX(t->patterns, *idx, cr_match_pattern_t).count += 1.0;
        return;
    }
    pat = apr_array_push(t->patterns);
    pat->v = *v;
    pat->count = 1.0;
    idx = apr_palloc(t->pool, sizeof(*idx));
    *idx = t->patterns->nelts - 1;
    /* The key must outlive the array's reallocations: copy it. */
    apr_hash_set(t->seen, apr_pmemdup(t->pool, v->level, sizeof(v->level)),
                 sizeof(v->level), idx);
}

/*
 * The ordinal levels of each field, strongest first: levels that grade one
 * kind of agreement (equal, close spelling, same sound, partial, none).
 * Levels that record a particular error pattern instead (names exchanged,
 * day and month exchanged, one part of a multi-part family name) are not
 * on the scale: how much such a pattern says depends on how rare it is
 * between different people, not on how close the values are.  -1 ends a
 * chain.
 */
static const int ordinal[CR_MF_COUNT][CR_MATCH_MAX_LEVELS + 1] = {
    { CR_ML_GIVEN_EXACT, CR_ML_GIVEN_NICKNAME, CR_ML_GIVEN_SIMILAR,
      CR_ML_GIVEN_PHONETIC, CR_ML_GIVEN_PARTIAL, CR_ML_GIVEN_DISAGREE, -1 },
    { CR_ML_FAMILY_EXACT, CR_ML_FAMILY_SIMILAR, CR_ML_FAMILY_PHONETIC,
      CR_ML_FAMILY_DISAGREE, -1 },
    { CR_SIMILARITY_DATE_EXACT, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO,
      CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE, CR_SIMILARITY_DATE_SAME_YEAR_MONTH,
      CR_SIMILARITY_DATE_DISAGREE, -1 },
    { CR_ML_SEX_AGREE, CR_ML_SEX_DISAGREE, -1 },
    { CR_ML_CODE_EXACT, CR_ML_CODE_TYPO, CR_ML_CODE_DISAGREE, -1 },
    { CR_ML_CODE_EXACT, CR_ML_CODE_TYPO, CR_ML_CODE_DISAGREE, -1 },
    { CR_ML_ADDR_EXACT, CR_ML_ADDR_SIMILAR, CR_ML_ADDR_STREET,
      CR_ML_ADDR_LOCALITY, CR_ML_ADDR_DISAGREE, -1 }
};

/*
 * Make the likelihood ratio m/u non-increasing along each field's ordinal
 * levels (a closer agreement is never less evidence of a match than a
 * looser one), by pooling adjacent violators: a run of levels that
 * violates the order gets the run's pooled ratio sum(m) / sum(u), with u
 * kept and m redistributed in proportion to u, so both rows still sum to
 * 1.  This is the maximum-likelihood projection under a likelihood-ratio
 * order (pool-adjacent-violators on the ratio, weighted by u); EM applies
 * it after every M-step.  Candidate pairs found by blocking break the
 * order otherwise: non-matches found through a family-name sound key
 * agree on that sound far more often than matches with a misspelt name,
 * and so "same sound" came out as evidence against a match, and "exact"
 * below "similar".
 */
void cr_match_params_order(cr_match_params_t *p)
{
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        const int *ch = ordinal[f];
        int start[CR_MATCH_MAX_LEVELS], len[CR_MATCH_MAX_LEVELS];
        double sm[CR_MATCH_MAX_LEVELS], su[CR_MATCH_MAX_LEVELS];
        int nb = 0, i, b, k;

        for (i = 0; ch[i] >= 0; i++) {
            start[nb] = i;
            len[nb] = 1;
            sm[nb] = p->m[f][ch[i]];
            su[nb] = p->u[f][ch[i]];
            nb++;
            /* Merge while the last block's ratio exceeds the one before
             * it (ratios compared as products: u > 0 after clamping). */
            while (nb > 1 && sm[nb - 1] * su[nb - 2]
                             > sm[nb - 2] * su[nb - 1]) {
                sm[nb - 2] += sm[nb - 1];
                su[nb - 2] += su[nb - 1];
                len[nb - 2] += len[nb - 1];
                nb--;
            }
        }
        for (b = 0; b < nb; b++) {
            if (len[b] < 2 || !(su[b] > 0.0)) {
                continue;
            }
            for (k = start[b]; k < start[b] + len[b]; k++) {
                p->m[f][ch[k]] = p->u[f][ch[k]] * sm[b] / su[b];
            }
        }
    }
}

const int *cr_match_field_scale(int f)
{
    return f >= 0 && f < CR_MF_COUNT ? ordinal[f] : NULL;
}

void cr_match_weights_monotone(double *w, int f)
{
    const int *ch;
    int i, l, on[CR_MATCH_MAX_LEVELS];

    if (f < 0 || f >= CR_MF_COUNT) {
        return;
    }
    ch = ordinal[f];
    memset(on, 0, sizeof(on));
    on[ch[0]] = 1;
    for (i = 1; ch[i] >= 0; i++) {
        on[ch[i]] = 1;
        if (w[ch[i]] > w[ch[i - 1]]) {
            w[ch[i]] = w[ch[i - 1]];
        }
    }
    /* Error patterns off the scale never beat full agreement. */
    for (l = 0; l < cr_match_field_levels(f); l++) {
        if (!on[l] && w[l] > w[ch[0]]) {
            w[l] = w[ch[0]];
        }
    }
}

/* How strongly the m side agrees more than the u side: used to name the
 * match class after EM (the class with more agreement). */
static double agreement_margin(const cr_match_params_t *p)
{
    double d = 0.0;
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        d += p->m[f][0] - p->u[f][0];
    }
    return d;
}

int cr_match_cancelled(const cr_match_cancel_t *cancel)
{
    return cancel != NULL && cancel->fn != NULL && cancel->fn(cancel->baton);
}

apr_status_t cr_match_em(cr_match_params_t *p,
                         const cr_match_pattern_t *patterns, int npatterns,
                         double prior_pairs, int max_iter, double tol,
                         int flags, cr_match_em_info_t *info)
{
    return cr_match_em_cancellable(p, patterns, npatterns, prior_pairs,
                                   max_iter, tol, flags, NULL, info);
}

apr_status_t cr_match_em_cancellable(cr_match_params_t *p,
                                     const cr_match_pattern_t *patterns,
                                     int npatterns, double prior_pairs,
                                     int max_iter, double tol, int flags,
                                     const cr_match_cancel_t *cancel,
                                     cr_match_em_info_t *info)
{
    double m0[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double u0[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double total = 0.0, change = 0.0;
    int nlev[CR_MF_COUNT];
    int iter = 0, j, f, l, converged = 0;

    for (f = 0; f < CR_MF_COUNT; f++) {
        nlev[f] = cr_match_field_levels(f);
    }
    cr_match_params_finish(p);
    if (info) {
        memset(info, 0, sizeof(*info));
    }
    for (j = 0; j < npatterns; j++) {
        total += patterns[j].count;
    }
    if (npatterns <= 0 || total <= 0.0) {
        return APR_EINVAL;
    }
    if (prior_pairs < 0.0) {
        prior_pairs = 0.0;
    }
    /* The starting values are also the prior's centre. */
    memcpy(m0, p->m, sizeof(m0));
    memcpy(u0, p->u, sizeof(u0));

    for (iter = 1; iter <= max_iter; iter++) {
        double am[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double au[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double gm_total = 0.0, lambda;
        double lm[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double lu[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double loglam = log(p->lambda), log1lam = log(1.0 - p->lambda);
        double old_m[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double old_u[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];

        if (cr_match_cancelled(cancel)) {
            if (info) {
                info->iterations = iter - 1;
                info->pairs = total;
                info->max_change = change;
            }
            return CR_MATCH_CANCELLED;
        }
        memset(am, 0, sizeof(am));
        memset(au, 0, sizeof(au));
        memcpy(old_m, p->m, sizeof(old_m));
        memcpy(old_u, p->u, sizeof(old_u));
        for (f = 0; f < CR_MF_COUNT; f++) {
            for (l = 0; l < nlev[f]; l++) {
                lm[f][l] = log(p->m[f][l]);
                lu[f][l] = log(p->u[f][l]);
            }
        }
        /* E-step: the posterior match probability g of each pattern,
         * computed in logs so that long vectors cannot underflow. */
        for (j = 0; j < npatterns; j++) {
            const cr_match_pattern_t *pat = &patterns[j];
            double a = loglam, b = log1lam, g;
            for (f = 0; f < CR_MF_COUNT; f++) {
                l = pat->v.level[f];
                if (l != CR_MATCH_MISSING && l < nlev[f]) {
                    a += lm[f][l];
                    b += lu[f][l];
                }
            }
            g = a - b > 50.0 ? 1.0
                : a - b < -50.0 ? 0.0 : 1.0 / (1.0 + exp(b - a));
            gm_total += pat->count * g;
            for (f = 0; f < CR_MF_COUNT; f++) {
                l = pat->v.level[f];
                if (l != CR_MATCH_MISSING && l < nlev[f]) {
                    am[f][l] += pat->count * g;
                    au[f][l] += pat->count * (1.0 - g);
                }
            }
        }
        /* M-step, with the starting values as a Dirichlet prior worth
         * prior_pairs pairs per field and class. */
        change = 0.0;
        lambda = cr_match_params_clamp(gm_total / total);
        change = fabs(lambda - p->lambda);
        p->lambda = lambda;
        for (f = 0; f < CR_MF_COUNT; f++) {
            double sm = 0.0, su = 0.0;
            for (l = 0; l < nlev[f]; l++) {
                sm += am[f][l];
                su += au[f][l];
            }
            for (l = 0; l < nlev[f]; l++) {
                double nm = (am[f][l] + prior_pairs * m0[f][l])
                            / (sm + prior_pairs);
                double nu = (au[f][l] + prior_pairs * u0[f][l])
                            / (su + prior_pairs);
                if (sm + prior_pairs <= 0.0 || (flags & CR_MATCH_EM_FIX_M)) {
                    nm = p->m[f][l];
                }
                if (su + prior_pairs <= 0.0) {
                    nu = p->u[f][l];
                }
                nm = cr_match_params_clamp(nm);
                nu = cr_match_params_clamp(nu);
                if (fabs(nm - p->m[f][l]) > change) {
                    change = fabs(nm - p->m[f][l]);
                }
                if (fabs(nu - p->u[f][l]) > change) {
                    change = fabs(nu - p->u[f][l]);
                }
                p->m[f][l] = nm;
                p->u[f][l] = nu;
            }
        }
        if (flags & CR_MATCH_EM_ORDERED) {
            /* The change is measured after the projection, which can
             * undo part of the M-step's. */
            cr_match_params_order(p);
            for (f = 0; f < CR_MF_COUNT; f++) {
                for (l = 0; l < nlev[f]; l++) {
                    if (fabs(p->m[f][l] - old_m[f][l]) > change) {
                        change = fabs(p->m[f][l] - old_m[f][l]);
                    }
                    if (fabs(p->u[f][l] - old_u[f][l]) > change) {
                        change = fabs(p->u[f][l] - old_u[f][l]);
                    }
                }
            }
        }
        if (change < tol) {
            converged = 1;
            break;
        }
    }
    if (iter > max_iter) {
        iter = max_iter;
    }
    /* The latent classes are interchangeable: the match class is the one
     * whose vectors agree more. */
    if (!(flags & CR_MATCH_EM_FIX_M) && agreement_margin(p) < 0.0) {
        double tmp[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        memcpy(tmp, p->m, sizeof(tmp));
        memcpy(p->m, p->u, sizeof(tmp));
        memcpy(p->u, tmp, sizeof(tmp));
        p->lambda = 1.0 - p->lambda;
    }
    cr_match_params_finish(p);
    if (info) {
        info->iterations = iter;
        info->converged = converged;
        info->pairs = total;
        info->max_change = change;
    }
    return APR_SUCCESS;
}

int cr_match_params_plausible(const cr_match_params_t *p)
{
    static const struct {
        int field;
        int strong[3];
    } core[] = {
        { CR_MF_GIVEN, { CR_ML_GIVEN_EXACT, CR_ML_GIVEN_NICKNAME,
                         CR_ML_GIVEN_SIMILAR } },
        { CR_MF_FAMILY, { CR_ML_FAMILY_EXACT, CR_ML_FAMILY_SIMILAR,
                          CR_ML_FAMILY_PHONETIC } },
        { CR_MF_BIRTH, { CR_SIMILARITY_DATE_EXACT,
                         CR_SIMILARITY_DATE_SWAP_DAY_MONTH,
                         CR_SIMILARITY_DATE_ONE_DIGIT_TYPO } }
    };
    apr_size_t i;
    int k;

    for (i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
        double m = 0.0, u = 0.0;
        for (k = 0; k < 3; k++) {
            m += p->m[core[i].field][core[i].strong[k]];
            u += p->u[core[i].field][core[i].strong[k]];
        }
        if (m < 0.6 || m <= u) {
            return 0;
        }
    }
    return 1;
}
