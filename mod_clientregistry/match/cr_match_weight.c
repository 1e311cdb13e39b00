/*
 * cr_match_weight.c: the m and u probabilities of matching (see
 * cr_match.h): their defaults and normalisation, the Fellegi-Sunter
 * weight of a comparison vector, its score and its FHIR match grade.
 */
#include <math.h>
#include <string.h>

#include "match/cr_match.h"
#include "match/cr_similarity.h"

/* ------------------------------------------------------------------ */
/* Parameters, weights, scores, grades                                 */
/* ------------------------------------------------------------------ */

/*
 * Defaults: m (how often a true match shows the level) from the error
 * rates reported for person records in the record-linkage literature
 * (a few percent of typing errors per field, more for phones and
 * addresses, which change); u (how often two different people among the
 * candidates of a query show it) for candidates found by blocking, where
 * chance agreement on the blocked fields is far more common than between
 * random people.  They only need to be roughly right: the first EM
 * estimation replaces them with values fitted to the stored records.
 */
static const double default_m[CR_MF_COUNT][CR_MATCH_MAX_LEVELS] = {
    { 0.85, 0.02, 0.04, 0.02, 0.02, 0.01, 0.04 },      /* given */
    { 0.86, 0.05, 0.02, 0.02, 0.01, 0.04 },            /* family */
    { 0.86, 0.01, 0.05, 0.01, 0.02, 0.05 },            /* birth */
    { 0.97, 0.03 },                                    /* sex */
    { 0.70, 0.03, 0.27 },                              /* phone */
    { 0.78, 0.04, 0.18 },                              /* postal */
    { 0.60, 0.15, 0.05, 0.05, 0.15 }                   /* address */
};
static const double default_u[CR_MF_COUNT][CR_MATCH_MAX_LEVELS] = {
    { 0.03, 0.003, 0.01, 0.01, 0.06, 0.0005, 0.8865 }, /* given */
    { 0.06, 0.01, 0.02, 0.005, 0.0005, 0.9045 },       /* family */
    { 0.10, 0.001, 0.01, 0.003, 0.02, 0.866 },         /* birth */
    { 0.50, 0.50 },                                    /* sex */
    { 0.01, 0.002, 0.988 },                            /* phone */
    { 0.03, 0.01, 0.96 },                              /* postal */
    { 0.01, 0.01, 0.02, 0.10, 0.86 }                   /* address */
};
#define DEFAULT_LAMBDA 0.02

void cr_match_params_default(cr_match_params_t *p)
{
    memset(p, 0, sizeof(*p));
    memcpy(p->m, default_m, sizeof(p->m));
    memcpy(p->u, default_u, sizeof(p->u));
    p->lambda = DEFAULT_LAMBDA;
    cr_match_params_finish(p);
}

double cr_match_params_clamp(double x)
{
    if (!(x >= CR_MATCH_P_MIN)) {   /* also catches NaN */
        return CR_MATCH_P_MIN;
    }
    return x > CR_MATCH_P_MAX ? CR_MATCH_P_MAX : x;
}

/* Scale a row of probabilities to sum to 1 with every entry within
 * [CR_MATCH_P_MIN, CR_MATCH_P_MAX]; negative or NaN entries count as 0,
 * an all-zero row becomes uniform. */
static void normalize_row(double *row, int n)
{
    double sum = 0.0;
    int l, round;

    for (l = 0; l < n; l++) {
        if (!(row[l] > 0.0)) {
            row[l] = 0.0;
        }
        sum += row[l];
    }
    for (l = 0; l < n; l++) {
        row[l] = sum > 0.0 ? row[l] / sum : 1.0 / n;
    }
    /* Clamping moves the sum a little; twice is plenty. */
    for (round = 0; round < 2; round++) {
        sum = 0.0;
        for (l = 0; l < n; l++) {
            row[l] = cr_match_params_clamp(row[l]);
            sum += row[l];
        }
        for (l = 0; l < n; l++) {
            row[l] /= sum;
        }
    }
}

void cr_match_params_finish(cr_match_params_t *p)
{
    cr_match_params_t ord;
    int f, l;

    for (f = 0; f < CR_MF_COUNT; f++) {
        int levels = cr_match_field_levels(f);
        normalize_row(p->m[f], levels);
        normalize_row(p->u[f], levels);
    }
    /* The weights come from the ratios projected onto each field's order
     * (pool adjacent violators, cr_match_params_order), whatever m and u
     * say: stored, default or fitted, an exact agreement never weighs
     * less than a looser one.  m and u themselves are kept as given. */
    memcpy(ord.m, p->m, sizeof(ord.m));
    memcpy(ord.u, p->u, sizeof(ord.u));
    cr_match_params_order(&ord);
    for (f = 0; f < CR_MF_COUNT; f++) {
        int levels = cr_match_field_levels(f), last = levels - 1;
        for (l = 0; l < CR_MATCH_MAX_LEVELS; l++) {
            p->w[f][l] = l <= last ? log2(ord.m[f][l] / ord.u[f][l]) : 0.0;
        }
        /* Full agreement is never evidence against a match, and plain
         * disagreement never evidence for one.  Estimated from candidate
         * pairs, which blocking selected for agreeing on some fields, the
         * probabilities can say otherwise (non-matches found through a
         * family-name key agree on the family name more often than the
         * matches with a misspelt one); such a weight would not carry
         * over to candidates found through another key. */
        if (p->w[f][0] < 0.0) {
            p->w[f][0] = 0.0;
        }
        if (p->w[f][last] > 0.0) {
            p->w[f][last] = 0.0;
        }
        cr_match_weights_monotone(p->w[f], f);
    }
    p->lambda = cr_match_params_clamp(p->lambda);
}

double cr_match_weight(const cr_match_params_t *p,
                       const cr_match_vector_t *v)
{
    double w = 0.0;
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        int l = v->level[f];
        if (l != CR_MATCH_MISSING && l < cr_match_field_levels(f)) {
            w += p->w[f][l];
        }
    }
    return w;
}

double cr_match_score(const cr_match_params_t *p, double weight)
{
    double prior = p->lambda > CR_MATCH_MIN_PRIOR ? p->lambda
                                                  : CR_MATCH_MIN_PRIOR;
    double x = weight + log2(prior / (1.0 - prior));

    if (x > 60.0) {
        return 1.0;
    }
    if (x < -60.0) {
        return 0.0;
    }
    return 1.0 / (1.0 + exp2(-x));
}

cr_match_grade_e cr_match_grade(const cr_match_thresholds_t *t,
                                double score, const cr_match_vector_t *v)
{
    if (score >= t->certain) {
        if (v == NULL
            || (v->level[CR_MF_GIVEN] != CR_ML_GIVEN_DISAGREE
                && v->level[CR_MF_FAMILY] != CR_ML_FAMILY_DISAGREE
                && v->level[CR_MF_BIRTH] != CR_SIMILARITY_DATE_DISAGREE)) {
            return CR_MATCH_CERTAIN;
        }
        return CR_MATCH_PROBABLE;
    }
    if (score >= t->probable) {
        return CR_MATCH_PROBABLE;
    }
    if (score >= t->possible) {
        return CR_MATCH_POSSIBLE;
    }
    return CR_MATCH_CERTAINLY_NOT;
}

const char *cr_match_grade_name(cr_match_grade_e g)
{
    switch (g) {
    case CR_MATCH_CERTAIN:
        return "certain";
    case CR_MATCH_PROBABLE:
        return "probable";
    case CR_MATCH_POSSIBLE:
        return "possible";
    default:
        return "certainly-not";
    }
}
