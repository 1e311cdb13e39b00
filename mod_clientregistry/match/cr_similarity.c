/*
 * cr_similarity.c: Jaro, Jaro-Winkler, Levenshtein, Damerau (OSA), date
 * agreement levels and the digit-typo test.
 *
 * All comparators are straight dynamic programming or scanning over at
 * most CR_SIMILARITY_MAX_LEN bytes per string, with fixed-size stack
 * arrays (at most three rows of CR_SIMILARITY_MAX_LEN + 1 ints, about
 * 3 KB).  See cr_similarity.h for the definitions and bounds.
 */

#include <string.h>

#include "match/cr_similarity.h"

/* Winkler's prefix scale, longest prefix rewarded and boost threshold. */
#define JW_PREFIX_SCALE 0.1
#define JW_PREFIX_MAX   4
#define JW_BOOST_MIN    0.7

/* Length of s, reading at most CR_SIMILARITY_MAX_LEN bytes. */
static int bounded_len(const char *s)
{
    int n = 0;

    if (s == NULL) {
        return 0;
    }
    while (n < CR_SIMILARITY_MAX_LEN && s[n] != '\0') {
        n++;
    }
    return n;
}

static int min3(int x, int y, int z)
{
    int m = x < y ? x : y;

    return m < z ? m : z;
}

double cr_similarity_jaro(const char *a, const char *b)
{
    unsigned char a_matched[CR_SIMILARITY_MAX_LEN];
    unsigned char b_matched[CR_SIMILARITY_MAX_LEN];
    int la = bounded_len(a), lb = bounded_len(b);
    int window, i, j, k, m = 0, half_transpositions = 0;

    if (la == 0 && lb == 0) {
        return 1.0;
    }
    if (la == 0 || lb == 0) {
        return 0.0;
    }
    window = (la > lb ? la : lb) / 2 - 1;
    if (window < 0) {
        window = 0;
    }
    memset(a_matched, 0, (apr_size_t)la);
    memset(b_matched, 0, (apr_size_t)lb);

    for (i = 0; i < la; i++) {
        int lo = i > window ? i - window : 0;
        int hi = i + window + 1 < lb ? i + window + 1 : lb;

        for (j = lo; j < hi; j++) {
            if (!b_matched[j] && a[i] == b[j]) {
                a_matched[i] = 1;
                b_matched[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0) {
        return 0.0;
    }

    /* Matched characters of a and b, in order, that differ. */
    for (i = 0, k = 0; i < la; i++) {
        if (!a_matched[i]) {
            continue;
        }
        while (!b_matched[k]) {
            k++;
        }
        if (a[i] != b[k]) {
            half_transpositions++;
        }
        k++;
    }
    return ((double)m / la + (double)m / lb
            + (m - half_transpositions / 2.0) / m) / 3.0;
}

double cr_similarity_jaro_winkler(const char *a, const char *b)
{
    double jaro = cr_similarity_jaro(a, b);
    int l = 0;

    if (jaro <= JW_BOOST_MIN || a == NULL || b == NULL) {
        /* Below the threshold, or both empty (no prefix to reward). */
        return jaro;
    }
    while (l < JW_PREFIX_MAX && a[l] != '\0' && a[l] == b[l]) {
        l++;
    }
    return jaro + l * JW_PREFIX_SCALE * (1.0 - jaro);
}

/*
 * Normalize the caller's bound: without one, the distance can never
 * exceed CR_SIMILARITY_MAX_LEN, so that is bound enough.
 */
static int effective_max(int max)
{
    return (max < 0 || max > CR_SIMILARITY_MAX_LEN)
           ? CR_SIMILARITY_MAX_LEN : max;
}

int cr_similarity_levenshtein(const char *a, const char *b, int max)
{
    int rows[2][CR_SIMILARITY_MAX_LEN + 1];
    int *prev = rows[0], *cur = rows[1];
    int la = bounded_len(a), lb = bounded_len(b);
    int i, j, limit = effective_max(max);

    if (la - lb > limit || lb - la > limit) {
        return limit + 1;
    }
    for (j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (i = 1; i <= la; i++) {
        int row_min, *tmp;

        cur[0] = i;
        row_min = i;
        for (j = 1; j <= lb; j++) {
            int cost = (a[i - 1] != b[j - 1]);

            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (cur[j] < row_min) {
                row_min = cur[j];
            }
        }
        /* Every later cell descends from this row: none can be lower. */
        if (row_min > limit) {
            return limit + 1;
        }
        tmp = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[lb] > limit ? limit + 1 : prev[lb];
}

int cr_similarity_damerau(const char *a, const char *b, int max)
{
    int rows[3][CR_SIMILARITY_MAX_LEN + 1];
    int *pprev = rows[0], *prev = rows[1], *cur = rows[2];
    int la = bounded_len(a), lb = bounded_len(b);
    int i, j, limit = effective_max(max);

    if (la - lb > limit || lb - la > limit) {
        return limit + 1;
    }
    for (j = 0; j <= lb; j++) {
        prev[j] = j;
    }
    for (i = 1; i <= la; i++) {
        int row_min, *tmp;

        cur[0] = i;
        row_min = i;
        for (j = 1; j <= lb; j++) {
            int cost = (a[i - 1] != b[j - 1]);
            int v = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);

            if (i > 1 && j > 1 && a[i - 1] == b[j - 2]
                && a[i - 2] == b[j - 1] && pprev[j - 2] + 1 < v) {
                v = pprev[j - 2] + 1;
            }
            cur[j] = v;
            if (v < row_min) {
                row_min = v;
            }
        }
        /*
         * As for Levenshtein: a transposition from d[i-1][j-2] costs at
         * least d[i][j-1] (the diagonal step costs at most one), so no
         * later cell can be lower than this row's minimum.
         */
        if (row_min > limit) {
            return limit + 1;
        }
        tmp = pprev;
        pprev = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[lb] > limit ? limit + 1 : prev[lb];
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_date(int y, int m, int d)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };

    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return 0;
    }
    return d <= days[m - 1] + (m == 2 && is_leap(y));
}

/* The eight digits of YYYYMMDD, most significant first. */
static void date_digits(int out[8], int y, int m, int d)
{
    out[0] = y / 1000;
    out[1] = y / 100 % 10;
    out[2] = y / 10 % 10;
    out[3] = y % 10;
    out[4] = m / 10;
    out[5] = m % 10;
    out[6] = d / 10;
    out[7] = d % 10;
}

apr_status_t cr_similarity_date(cr_similarity_date_level_e *level,
                                int y1, int m1, int d1,
                                int y2, int m2, int d2)
{
    int g1[8], g2[8];
    int i, differing = 0;

    *level = CR_SIMILARITY_DATE_DISAGREE;
    if (!valid_date(y1, m1, d1) || !valid_date(y2, m2, d2)) {
        return APR_EINVAL;
    }
    if (y1 == y2 && m1 == m2 && d1 == d2) {
        *level = CR_SIMILARITY_DATE_EXACT;
        return APR_SUCCESS;
    }
    if (y1 == y2 && m1 == d2 && d1 == m2) {
        *level = CR_SIMILARITY_DATE_SWAP_DAY_MONTH;
        return APR_SUCCESS;
    }
    date_digits(g1, y1, m1, d1);
    date_digits(g2, y2, m2, d2);
    for (i = 0; i < 8; i++) {
        differing += (g1[i] != g2[i]);
    }
    if (differing == 1) {
        *level = CR_SIMILARITY_DATE_ONE_DIGIT_TYPO;
    }
    else if (m1 == m2 && d1 == d2 && (y1 - y2 == 1 || y2 - y1 == 1)) {
        *level = CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE;
    }
    else if (y1 == y2 && m1 == m2) {
        *level = CR_SIMILARITY_DATE_SAME_YEAR_MONTH;
    }
    return APR_SUCCESS;
}

cr_similarity_typo_e cr_similarity_digits_typo(const char *a, const char *b)
{
    int la = bounded_len(a), lb = bounded_len(b);
    int i, first = -1, differing = 0;

    if (la != lb) {
        return CR_SIMILARITY_TYPO_DIFFERENT;
    }
    for (i = 0; i < la; i++) {
        if (a[i] != b[i]) {
            if (first < 0) {
                first = i;
            }
            if (++differing > 2) {
                return CR_SIMILARITY_TYPO_DIFFERENT;
            }
        }
    }
    if (differing == 0) {
        return CR_SIMILARITY_TYPO_EQUAL;
    }
    if (differing == 1) {
        return CR_SIMILARITY_TYPO_SUBSTITUTION;
    }
    /* Two differences: a transposition only if adjacent and crossed. */
    if (first + 1 < la && a[first] == b[first + 1]
        && a[first + 1] == b[first]) {
        return CR_SIMILARITY_TYPO_TRANSPOSITION;
    }
    return CR_SIMILARITY_TYPO_DIFFERENT;
}
