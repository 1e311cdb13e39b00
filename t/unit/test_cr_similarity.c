/*
 * test_cr_similarity.c: unit tests for cr_similarity (Jaro, Jaro-Winkler,
 * Levenshtein, Damerau OSA, date agreement, digit typos).
 *
 * The Jaro and Jaro-Winkler values are the classic examples of Winkler,
 * "String Comparator Metrics and Enhanced Decision Rules in the
 * Fellegi-Sunter Model of Record Linkage" (1990), as reproduced in the
 * Jaro-Winkler literature (MARTHA/MARHTA, DWAYNE/DUANE, DIXON/DICKSONX).
 * The edit distances are checked against textbook pairs and, for the
 * early-exit bound, against a plain full-matrix reference written here.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "match/cr_similarity.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Published values are given to three decimals. */
#define TOLERANCE 0.0005

typedef struct {
    const char *a;
    const char *b;
    double jaro;
    double jaro_winkler;
} jw_vector_t;

static const jw_vector_t jw_vectors[] = {
    /* Winkler (1990). */
    { "MARTHA", "MARHTA", 0.944, 0.961 },
    { "DWAYNE", "DUANE", 0.822, 0.840 },
    { "DIXON", "DICKSONX", 0.767, 0.813 },
    /* Identity and disjoint strings. */
    { "SMITH", "SMITH", 1.0, 1.0 },
    { "ABC", "XYZ", 0.0, 0.0 },
    { "A", "A", 1.0, 1.0 },
    { "A", "B", 0.0, 0.0 },
    /* Empty strings (see the header). */
    { "", "", 1.0, 1.0 },
    { "", "A", 0.0, 0.0 },
    { "A", "", 0.0, 0.0 },
    /*
     * Below the 0.7 boost threshold the common prefix earns nothing:
     * two matches of eight, jaro = (2/8 + 2/8 + 1) / 3 = 0.5.
     */
    { "ABCDEFGH", "ABWXYZUV", 0.5, 0.5 },
    /* The prefix bonus stops at four characters: jaro 8/9, jw 14/15. */
    { "ABCDEX", "ABCDEY", 0.889, 0.933 },
};

static void test_jaro_winkler_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(jw_vectors); i++) {
        const jw_vector_t *v = &jw_vectors[i];
        double j = cr_similarity_jaro(v->a, v->b);
        double jw = cr_similarity_jaro_winkler(v->a, v->b);
        double j_rev = cr_similarity_jaro(v->b, v->a);
        double jw_rev = cr_similarity_jaro_winkler(v->b, v->a);

        if (j < v->jaro - TOLERANCE || j > v->jaro + TOLERANCE
            || jw < v->jaro_winkler - TOLERANCE
            || jw > v->jaro_winkler + TOLERANCE) {
            fail_msg("%s/%s: jaro %.4f jw %.4f, want %.3f %.3f", v->a,
                     v->b, j, jw, v->jaro, v->jaro_winkler);
        }
        /* Both measures are symmetric. */
        assert_true(j == j_rev);
        assert_true(jw == jw_rev);
        assert_true(jw >= j && jw <= 1.0 && j >= 0.0);
    }
}

static void test_jaro_edges(void **state)
{
    char a[1024], b[1024];

    (void)state;
    assert_true(cr_similarity_jaro(NULL, NULL) == 1.0);
    assert_true(cr_similarity_jaro_winkler(NULL, NULL) == 1.0);
    assert_true(cr_similarity_jaro(NULL, "A") == 0.0);
    assert_true(cr_similarity_jaro_winkler("A", NULL) == 0.0);

    /* Strings equal in their first CR_SIMILARITY_MAX_LEN bytes. */
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[CR_SIMILARITY_MAX_LEN] = 'y';
    b[sizeof(b) - 2] = 'z';
    assert_true(cr_similarity_jaro(a, b) == 1.0);
    assert_true(cr_similarity_jaro_winkler(a, b) == 1.0);

    /* Maximal different strings still compute within [0, 1]. */
    b[0] = 'y';
    b[CR_SIMILARITY_MAX_LEN - 1] = 'q';
    assert_true(cr_similarity_jaro(a, b) < 1.0);
    assert_true(cr_similarity_jaro(a, b) > 0.99);
}

typedef struct {
    const char *a;
    const char *b;
    int levenshtein;
    int damerau;
} edit_vector_t;

static const edit_vector_t edit_vectors[] = {
    { "kitten", "sitting", 3, 3 },
    { "flaw", "lawn", 2, 2 },
    { "saturday", "sunday", 3, 3 },
    { "", "", 0, 0 },
    { "", "abc", 3, 3 },
    { "abc", "", 3, 3 },
    { "smith", "smith", 0, 0 },
    { "smith", "smyth", 1, 1 },
    /* Adjacent transpositions cost 1 in OSA, 2 in Levenshtein. */
    { "teh", "the", 2, 1 },
    { "abcd", "acbd", 2, 1 },
    { "jonh", "john", 2, 1 },
    { "2505550123", "2505551023", 2, 1 },
    /* OSA edits no substring twice: "ca" -> "abc" is 3 (true DL: 2). */
    { "ca", "abc", 3, 3 },
    { "a cat", "an act", 3, 2 },
};

static void test_edit_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(edit_vectors); i++) {
        const edit_vector_t *v = &edit_vectors[i];
        int l = cr_similarity_levenshtein(v->a, v->b, -1);
        int d = cr_similarity_damerau(v->a, v->b, -1);

        if (l != v->levenshtein || d != v->damerau) {
            fail_msg("%s/%s: lev %d osa %d, want %d %d", v->a, v->b, l, d,
                     v->levenshtein, v->damerau);
        }
        assert_int_equal(cr_similarity_levenshtein(v->b, v->a, -1), l);
        assert_int_equal(cr_similarity_damerau(v->b, v->a, -1), d);
        /* A bound at the distance is exact; one below reports max + 1. */
        assert_int_equal(cr_similarity_levenshtein(v->a, v->b, l), l);
        assert_int_equal(cr_similarity_damerau(v->a, v->b, d), d);
        if (l > 0) {
            assert_int_equal(cr_similarity_levenshtein(v->a, v->b, l - 1), l);
        }
        if (d > 0) {
            assert_int_equal(cr_similarity_damerau(v->a, v->b, d - 1), d);
        }
    }
}

/* Plain full-matrix references, written independently of the unit. */
#define REF_MAX 12

static int ref_min3(int x, int y, int z)
{
    int m = x < y ? x : y;

    return m < z ? m : z;
}

static int ref_edit(const char *a, const char *b, int osa)
{
    int d[REF_MAX + 1][REF_MAX + 1];
    int la = (int)strlen(a), lb = (int)strlen(b), i, j;

    for (i = 0; i <= la; i++) {
        d[i][0] = i;
    }
    for (j = 0; j <= lb; j++) {
        d[0][j] = j;
    }
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            d[i][j] = ref_min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
                               d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
            if (osa && i > 1 && j > 1 && a[i - 1] == b[j - 2]
                && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j]) {
                d[i][j] = d[i - 2][j - 2] + 1;
            }
        }
    }
    return d[la][lb];
}

/*
 * Pseudo-random strings over a three-letter alphabet (so that matches
 * and transpositions are frequent), every bound from 0 to 6 and none:
 * the bounded result is always min(distance, max + 1).
 */
static void test_edit_bound_against_reference(void **state)
{
    apr_uint32_t seed = 12345;
    int round;

    (void)state;
    for (round = 0; round < 3000; round++) {
        char a[REF_MAX + 1], b[REF_MAX + 1];
        int la, lb, i, max, ref_l, ref_d;

        seed = seed * 1103515245u + 12345u;
        la = (int)((seed >> 16) % (REF_MAX + 1));
        seed = seed * 1103515245u + 12345u;
        lb = (int)((seed >> 16) % (REF_MAX + 1));
        for (i = 0; i < la; i++) {
            seed = seed * 1103515245u + 12345u;
            a[i] = (char)('a' + (seed >> 16) % 3);
        }
        a[la] = '\0';
        for (i = 0; i < lb; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = (char)('a' + (seed >> 16) % 3);
        }
        b[lb] = '\0';

        ref_l = ref_edit(a, b, 0);
        ref_d = ref_edit(a, b, 1);
        assert_int_equal(cr_similarity_levenshtein(a, b, -1), ref_l);
        assert_int_equal(cr_similarity_damerau(a, b, -1), ref_d);
        for (max = 0; max <= 6; max++) {
            int want_l = ref_l <= max ? ref_l : max + 1;
            int want_d = ref_d <= max ? ref_d : max + 1;
            int got_l = cr_similarity_levenshtein(a, b, max);
            int got_d = cr_similarity_damerau(a, b, max);

            if (got_l != want_l || got_d != want_d) {
                fail_msg("%s/%s max %d: lev %d osa %d, want %d %d", a, b,
                         max, got_l, got_d, want_l, want_d);
            }
        }
    }
}

static void test_edit_edges(void **state)
{
    char a[1024], b[1024];

    (void)state;
    assert_int_equal(cr_similarity_levenshtein(NULL, NULL, -1), 0);
    assert_int_equal(cr_similarity_levenshtein(NULL, "abc", -1), 3);
    assert_int_equal(cr_similarity_damerau("abc", NULL, -1), 3);

    /* Early exit on the length difference alone. */
    assert_int_equal(cr_similarity_levenshtein("a", "abcdefgh", 2), 3);
    assert_int_equal(cr_similarity_damerau("abcdefgh", "a", 2), 3);

    /* Maximal strings: completely different, unbounded and bounded. */
    memset(a, 'a', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memset(b, 'b', sizeof(b) - 1);
    b[sizeof(b) - 1] = '\0';
    assert_int_equal(cr_similarity_levenshtein(a, b, -1),
                     CR_SIMILARITY_MAX_LEN);
    assert_int_equal(cr_similarity_damerau(a, b, -1), CR_SIMILARITY_MAX_LEN);
    assert_int_equal(cr_similarity_levenshtein(a, b, 100000),
                     CR_SIMILARITY_MAX_LEN);
    assert_int_equal(cr_similarity_levenshtein(a, b, 2), 3);
    assert_int_equal(cr_similarity_damerau(a, b, 2), 3);

    /* Equal in the first CR_SIMILARITY_MAX_LEN bytes: distance 0. */
    memcpy(b, a, sizeof(b));
    b[CR_SIMILARITY_MAX_LEN + 5] = 'b';
    assert_int_equal(cr_similarity_levenshtein(a, b, -1), 0);
    assert_int_equal(cr_similarity_damerau(a, b, 0), 0);
}

typedef struct {
    int y1, m1, d1, y2, m2, d2;
    cr_similarity_date_level_e level;
} date_vector_t;

static const date_vector_t date_vectors[] = {
    { 1980, 5, 10, 1980, 5, 10, CR_SIMILARITY_DATE_EXACT },
    { 1980, 5, 5, 1980, 5, 5, CR_SIMILARITY_DATE_EXACT },
    { 1980, 5, 10, 1980, 10, 5, CR_SIMILARITY_DATE_SWAP_DAY_MONTH },
    { 1980, 1, 12, 1980, 12, 1, CR_SIMILARITY_DATE_SWAP_DAY_MONTH },
    /* A swap in another year is not a swap. */
    { 1980, 5, 10, 1981, 10, 5, CR_SIMILARITY_DATE_DISAGREE },
    /* One digit of YYYYMMDD. */
    { 1980, 5, 10, 1980, 5, 11, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    { 1980, 5, 10, 1980, 6, 10, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    { 1980, 5, 10, 1981, 5, 10, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    { 1980, 5, 10, 1930, 5, 10, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    { 1980, 5, 10, 2980, 5, 10, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    { 1980, 5, 1, 1980, 5, 21, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
    /* Years one apart that are not one digit apart. */
    { 1979, 5, 10, 1980, 5, 10, CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE },
    { 1999, 12, 31, 2000, 12, 31, CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE },
    { 2000, 2, 29, 1999, 2, 28, CR_SIMILARITY_DATE_DISAGREE },
    /* Same year and month. */
    { 1980, 5, 10, 1980, 5, 23, CR_SIMILARITY_DATE_SAME_YEAR_MONTH },
    { 1980, 5, 9, 1980, 5, 10, CR_SIMILARITY_DATE_SAME_YEAR_MONTH },
    /* Transposed digits are two differences. */
    { 1987, 5, 10, 1978, 5, 10, CR_SIMILARITY_DATE_DISAGREE },
    { 1980, 5, 10, 1990, 7, 1, CR_SIMILARITY_DATE_DISAGREE },
    /* Leap days. */
    { 2000, 2, 29, 2000, 2, 29, CR_SIMILARITY_DATE_EXACT },
    { 2004, 2, 29, 2004, 2, 28, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO },
};

static void test_date_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(date_vectors); i++) {
        const date_vector_t *v = &date_vectors[i];
        cr_similarity_date_level_e level, level_rev;

        assert_int_equal(cr_similarity_date(&level, v->y1, v->m1, v->d1,
                                            v->y2, v->m2, v->d2),
                         APR_SUCCESS);
        assert_int_equal(cr_similarity_date(&level_rev, v->y2, v->m2, v->d2,
                                            v->y1, v->m1, v->d1),
                         APR_SUCCESS);
        if (level != v->level || level_rev != v->level) {
            fail_msg("%04d-%02d-%02d / %04d-%02d-%02d: level %d, want %d",
                     v->y1, v->m1, v->d1, v->y2, v->m2, v->d2, (int)level,
                     (int)v->level);
        }
    }
}

static void test_date_invalid(void **state)
{
    static const int bad[][3] = {
        { 1981, 2, 29 },            /* not a leap year */
        { 1900, 2, 29 },            /* century, not a leap year */
        { 1980, 2, 30 },
        { 1980, 4, 31 },
        { 1980, 13, 1 },
        { 1980, 0, 1 },             /* partial date: month unknown */
        { 1980, 5, 0 },             /* partial date: day unknown */
        { 0, 5, 10 },
        { 10000, 5, 10 },
        { -1980, 5, 10 },
        { 1980, 5, -1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        cr_similarity_date_level_e level = CR_SIMILARITY_DATE_EXACT;

        assert_int_equal(cr_similarity_date(&level, bad[i][0], bad[i][1],
                                            bad[i][2], 1980, 5, 10),
                         APR_EINVAL);
        assert_int_equal(level, CR_SIMILARITY_DATE_DISAGREE);
        level = CR_SIMILARITY_DATE_EXACT;
        assert_int_equal(cr_similarity_date(&level, 1980, 5, 10, bad[i][0],
                                            bad[i][1], bad[i][2]),
                         APR_EINVAL);
        assert_int_equal(level, CR_SIMILARITY_DATE_DISAGREE);
    }
    /* Extremes of the valid range. */
    {
        cr_similarity_date_level_e level;

        assert_int_equal(cr_similarity_date(&level, 1, 1, 1, 9999, 12, 31),
                         APR_SUCCESS);
        assert_int_equal(level, CR_SIMILARITY_DATE_DISAGREE);
    }
    /* The levels are ordered strongest first. */
    assert_true(CR_SIMILARITY_DATE_EXACT < CR_SIMILARITY_DATE_DISAGREE);
    assert_int_equal(CR_SIMILARITY_DATE_LEVELS, 6);
}

typedef struct {
    const char *a;
    const char *b;
    cr_similarity_typo_e expect;
} typo_vector_t;

static const typo_vector_t typo_vectors[] = {
    { "2505550123", "2505550123", CR_SIMILARITY_TYPO_EQUAL },
    { "2505550123", "2505550128", CR_SIMILARITY_TYPO_SUBSTITUTION },
    { "2505550123", "3505550123", CR_SIMILARITY_TYPO_SUBSTITUTION },
    { "2505550123", "2505550132", CR_SIMILARITY_TYPO_TRANSPOSITION },
    { "2505550123", "5205550123", CR_SIMILARITY_TYPO_TRANSPOSITION },
    { "V8W1A1", "V8W11A", CR_SIMILARITY_TYPO_TRANSPOSITION },
    { "V8W1A1", "V8W1A2", CR_SIMILARITY_TYPO_SUBSTITUTION },
    /* Two substitutions, a distant swap, a shift, lengths. */
    { "2505550123", "2505550198", CR_SIMILARITY_TYPO_DIFFERENT },
    { "1234", "4231", CR_SIMILARITY_TYPO_DIFFERENT },
    { "1234", "1324", CR_SIMILARITY_TYPO_TRANSPOSITION },
    { "1234", "2341", CR_SIMILARITY_TYPO_DIFFERENT },
    { "2505550123", "250555012", CR_SIMILARITY_TYPO_DIFFERENT },
    { "12", "21", CR_SIMILARITY_TYPO_TRANSPOSITION },
    { "1", "2", CR_SIMILARITY_TYPO_SUBSTITUTION },
    { "", "", CR_SIMILARITY_TYPO_EQUAL },
    { "", "1", CR_SIMILARITY_TYPO_DIFFERENT },
};

static void test_digits_typo(void **state)
{
    char a[1024], b[1024];
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(typo_vectors); i++) {
        const typo_vector_t *v = &typo_vectors[i];
        cr_similarity_typo_e got = cr_similarity_digits_typo(v->a, v->b);
        cr_similarity_typo_e rev = cr_similarity_digits_typo(v->b, v->a);

        if (got != v->expect || rev != v->expect) {
            fail_msg("typo(%s, %s) = %d/%d, want %d", v->a, v->b, (int)got,
                     (int)rev, (int)v->expect);
        }
    }
    assert_int_equal(cr_similarity_digits_typo(NULL, NULL),
                     CR_SIMILARITY_TYPO_EQUAL);
    assert_int_equal(cr_similarity_digits_typo(NULL, "1"),
                     CR_SIMILARITY_TYPO_DIFFERENT);

    /* Bounded: a difference past the limit is not seen. */
    memset(a, '7', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[CR_SIMILARITY_MAX_LEN + 1] = '8';
    assert_int_equal(cr_similarity_digits_typo(a, b),
                     CR_SIMILARITY_TYPO_EQUAL);
    b[CR_SIMILARITY_MAX_LEN - 1] = '8';
    assert_int_equal(cr_similarity_digits_typo(a, b),
                     CR_SIMILARITY_TYPO_SUBSTITUTION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jaro_winkler_vectors),
        cmocka_unit_test(test_jaro_edges),
        cmocka_unit_test(test_edit_vectors),
        cmocka_unit_test(test_edit_bound_against_reference),
        cmocka_unit_test(test_edit_edges),
        cmocka_unit_test(test_date_vectors),
        cmocka_unit_test(test_date_invalid),
        cmocka_unit_test(test_digits_typo),
    };

    return cmocka_run_group_tests_name("cr_similarity", tests, NULL, NULL);
}
