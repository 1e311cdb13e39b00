/*
 * cr_match_tf.c: term-frequency adjustment of the weights (see
 * cr_match_tf.h for the formula and its bounds): the value a query's
 * adjustment looks at, its bits, the adjusted weight, and counting the
 * values of the stored records for the frequency table.
 */
#include <math.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "match/cr_match_tf.h"

const char *cr_match_tf_field_name(int i)
{
    static const char *const names[CR_MATCH_TF_COUNT] = {
        "given", "family", "city"
    };

    return i >= 0 && i < CR_MATCH_TF_COUNT ? names[i] : NULL;
}

/* Value j of tf field i of rec ("" or NULL past the end). */
static const char *value_at(const cr_match_record_t *rec, int i, int j)
{
    switch (i) {
    case CR_MATCH_TF_GIVEN:
        return j < rec->nnames ? rec->name[j].given_first : NULL;
    case CR_MATCH_TF_FAMILY:
        return j < rec->nnames ? rec->name[j].family_compact : NULL;
    case CR_MATCH_TF_CITY:
        return j < rec->naddrs ? rec->addr[j].city_compact : NULL;
    default:
        return NULL;
    }
}

const char *cr_match_tf_value(const cr_match_record_t *rec, int i)
{
    const char *v = value_at(rec, i, 0);

    return v ? v : "";
}

int cr_match_tf_has(const cr_match_record_t *rec, int i, const char *v)
{
    const char *x;
    int j;

    if (v == NULL || *v == '\0') {
        return 0;
    }
    for (j = 0; (x = value_at(rec, i, j)) != NULL; j++) {
        if (strcmp(x, v) == 0) {
            return 1;
        }
    }
    return 0;
}

double cr_match_tf_bits(double n, double total, double sumsq)
{
    double b;

    if (!(total > 0.0) || !(sumsq > 0.0)) {
        return 0.0;
    }
    if (!(n >= 1.0)) {
        n = 1.0;
    }
    b = log2(sumsq * total / n);
    if (b > CR_MATCH_TF_MAX_MORE) {
        return CR_MATCH_TF_MAX_MORE;
    }
    return b < -CR_MATCH_TF_MAX_LESS ? -CR_MATCH_TF_MAX_LESS : b;
}

/* Weight of level l of field f plus bits, kept within the field's order:
 * at exact, not below 0 nor the next level's weight; elsewhere, not
 * below disagreement's nor above the exact level's adjusted weight. */
static double adjusted(const cr_match_params_t *p, int f, int l, double bits)
{
    int last = cr_match_field_levels(f) - 1, k;
    double w = p->w[f][l] + bits, lo = p->w[f][last];

    if (l == 0) {
        lo = 0.0;
        for (k = 1; k <= last; k++) {
            if (p->w[f][k] > lo) {
                lo = p->w[f][k];
            }
        }
        return w < lo ? lo : w;
    }
    if (w < lo) {
        w = lo;
    }
    {
        double top = adjusted(p, f, 0, bits);
        return w > top ? top : w;
    }
}

double cr_match_weight_tf(const cr_match_params_t *p,
                          const cr_match_vector_t *v,
                          const cr_match_tf_t *tf,
                          const cr_match_record_t *c)
{
    double w = cr_match_weight(p, v);
    int l, k;

    if (tf == NULL || c == NULL) {
        return w;
    }
    for (k = 0; k < 2; k++) {
        /* given and family: at the exact level only */
        int f = k == 0 ? CR_MF_GIVEN : CR_MF_FAMILY;
        int i = k == 0 ? CR_MATCH_TF_GIVEN : CR_MATCH_TF_FAMILY;
        l = v->level[f];
        if (l == 0 && tf->bits[i] != 0.0
            && cr_match_tf_has(c, i, tf->value[i])) {
            w += adjusted(p, f, l, tf->bits[i]) - p->w[f][l];
        }
    }
    l = v->level[CR_MF_ADDRESS];
    if (l != CR_MATCH_MISSING && l <= CR_ML_ADDR_LOCALITY
        && tf->bits[CR_MATCH_TF_CITY] != 0.0
        && cr_match_tf_has(c, CR_MATCH_TF_CITY,
                           tf->value[CR_MATCH_TF_CITY])) {
        w += adjusted(p, CR_MF_ADDRESS, l, tf->bits[CR_MATCH_TF_CITY])
             - p->w[CR_MF_ADDRESS][l];
    }
    return w;
}

void cr_match_tf_count(apr_hash_t *counts[CR_MATCH_TF_COUNT],
                       double totals[CR_MATCH_TF_COUNT],
                       const cr_match_record_t *rec)
{
    int i, j, k;

    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        const char *x, *seen[CR_MATCH_MAX_NAMES + CR_MATCH_MAX_ADDRS];
        int nseen = 0;
        for (j = 0; (x = value_at(rec, i, j)) != NULL
                    && nseen < (int)(sizeof(seen) / sizeof(seen[0])); j++) {
            apr_int64_t *n;
            if (*x == '\0') {
                continue;
            }
            for (k = 0; k < nseen && strcmp(seen[k], x) != 0; k++) {
            }
            if (k < nseen) {
                continue;   /* counted once per record */
            }
            seen[nseen++] = x;
            n = apr_hash_get(counts[i], x, APR_HASH_KEY_STRING);
            if (n == NULL) {
                apr_pool_t *hp = apr_hash_pool_get(counts[i]);
                n = apr_pcalloc(hp, sizeof(*n));
                apr_hash_set(counts[i], apr_pstrdup(hp, x),
                             APR_HASH_KEY_STRING, n);
            }
            (*n)++;
        }
        if (nseen > 0) {
            totals[i] += 1.0;
        }
    }
}
