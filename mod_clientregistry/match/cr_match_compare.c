/*
 * cr_match_compare.c: the comparison vector of two match records (see
 * cr_match.h): one agreement level per field.
 *
 * The comparisons follow the usual practice of person-record linkage
 * (Winkler's string comparator thresholds, phonetic agreement as a
 * weaker level, nickname tables, date transpositions); every threshold is
 * a property of the comparator, fixed here and documented, never fitted
 * to a data set.  How much each level counts is not decided here but by
 * the m and u probabilities (cr_match_weight.c), which EM estimates from
 * the stored records (cr_match_em.c).
 */
#include <stdlib.h>
#include <string.h>

#include "match/cr_match.h"
#include "match/cr_normalize.h"
#include "match/cr_similarity.h"

/* Winkler's customary agreement threshold for names. */
#define JW_AGREE 0.92

/* ------------------------------------------------------------------ */
/* Comparison                                                          */
/* ------------------------------------------------------------------ */

static int dm_common(const char a[2][CR_PHONETIC_DMETAPHONE_SIZE],
                     const char b[2][CR_PHONETIC_DMETAPHONE_SIZE])
{
    int i, j;

    for (i = 0; i < 2; i++) {
        for (j = 0; j < 2; j++) {
            if (a[i][0] && strcmp(a[i], b[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int same(const char *a, const char *b)
{
    return *a && strcmp(a, b) == 0;
}

static int similar(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    /* Jaro is at most (2 + shorter / longer) / 3, and the Winkler bonus
     * at most 0.4 of the rest, so JW_AGREE (0.92) needs shorter / longer
     * >= 0.6: skip the comparison when the lengths already rule it out. */
    if (la == 0 || lb == 0 || (la < lb ? la * 5 < lb * 3 : lb * 5 < la * 3)) {
        return 0;
    }
    return cr_similarity_jaro_winkler(a, b) >= JW_AGREE;
}

/* Names are similar when Jaro-Winkler says so, or when at most one edit
 * (Damerau: a letter substituted, inserted, deleted or two exchanged) per
 * four letters of the longer name turns one into the other: Jaro-Winkler
 * forgives little in short names and two typos in a long one, which
 * data entry makes about as often. */
static int name_similar(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);
    int edits = (int)((la > lb ? la : lb) / 4);

    if (similar(a, b)) {
        return 1;
    }
    return la >= 4 && lb >= 4 && edits >= 1
           && cr_similarity_damerau(a, b, edits) <= edits;
}

/* Any word of a equal to any word of b (words of two letters or more). */
static int word_in_common(const char *a, const char *b)
{
    cr_normalize_parts_t pa, pb;
    int i, j;

    cr_normalize_split(&pa, a);
    cr_normalize_split(&pb, b);
    for (i = 0; i < pa.n; i++) {
        if (strlen(pa.part[i]) < 2) {
            continue;
        }
        for (j = 0; j < pb.n; j++) {
            if (strcmp(pa.part[i], pb.part[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int given_level(const cr_match_name_t *a, const cr_match_name_t *b)
{
    if (!*a->given || !*b->given) {
        return CR_MATCH_MISSING;
    }
    if (same(a->given_first, b->given_first)
        || same(a->given_compact, b->given_compact)) {
        return CR_ML_GIVEN_EXACT;
    }
    if (same(a->given_canon, b->given_canon)) {
        return CR_ML_GIVEN_NICKNAME;
    }
    if (name_similar(a->given_first, b->given_first)
        || ((a->given_first != a->given || b->given_first != b->given)
            && name_similar(a->given_compact, b->given_compact))) {
        return CR_ML_GIVEN_SIMILAR;
    }
    if (dm_common(a->given_dm, b->given_dm)) {
        return CR_ML_GIVEN_PHONETIC;
    }
    if (word_in_common(a->given, b->given)
        || a->given_first[0] == b->given_first[0]) {
        /* Another given name in common, or the first letter (an
         * initial against a name, or a name misspelt beyond similarity,
         * which mostly keeps it).  The first letter alone is weak
         * evidence: one pair of different people in fifteen or so
         * shares it. */
        return CR_ML_GIVEN_PARTIAL;
    }
    return CR_ML_GIVEN_DISAGREE;
}

static int family_level(const cr_match_name_t *a, const cr_match_name_t *b)
{
    if (!*a->family || !*b->family) {
        return CR_MATCH_MISSING;
    }
    if (same(a->family_compact, b->family_compact)) {
        return CR_ML_FAMILY_EXACT;
    }
    if (name_similar(a->family_compact, b->family_compact)) {
        return CR_ML_FAMILY_SIMILAR;
    }
    if (dm_common(a->family_dm, b->family_dm)) {
        return CR_ML_FAMILY_PHONETIC;
    }
    if (word_in_common(a->family, b->family)) {
        return CR_ML_FAMILY_PARTIAL;
    }
    return CR_ML_FAMILY_DISAGREE;
}

/* How a family name compares with a given name of the other record, on
 * the family name's scale: exact, similar (name_similar),
 * phonetic (a Double Metaphone key in common) or disagree. */
static int cross_level(const cr_match_name_t *fam, const cr_match_name_t *giv)
{
    if (same(fam->family_compact, giv->given_compact)
        || same(fam->family_compact, giv->given_first)) {
        return CR_ML_FAMILY_EXACT;
    }
    if (name_similar(fam->family_compact, giv->given_compact)
        || name_similar(fam->family_compact, giv->given_first)) {
        return CR_ML_FAMILY_SIMILAR;
    }
    return dm_common(fam->family_dm, giv->given_dm) ? CR_ML_FAMILY_PHONETIC
                                                    : CR_ML_FAMILY_DISAGREE;
}

/* Given and family exchanged: one name agrees closely (exact or similar)
 * with the other record's opposite one.  Returns the family-scale level of
 * the other crosswise pair (the name that was not the evidence of the
 * exchange, compared where it moved to), or -1 when not exchanged. */
static int swapped(const cr_match_name_t *a, const cr_match_name_t *b)
{
    int x, y;

    if (!*a->given || !*b->given || !*a->family || !*b->family) {
        return -1;
    }
    x = cross_level(a, b);
    y = cross_level(b, a);
    if (x > y) {
        int t = x;
        x = y;
        y = t;
    }
    return x <= CR_ML_FAMILY_SIMILAR ? y : -1;
}

/* Badness of a level for choosing the best pair of names: 0 for the
 * strongest agreement, 1 for disagreement, 0.5 for missing. */
static double badness(int level, int levels)
{
    if (level == CR_MATCH_MISSING) {
        return 0.5;
    }
    return (double)level / (double)(levels - 1);
}

static void compare_names(cr_match_vector_t *v, const cr_match_record_t *a,
                          const cr_match_record_t *b)
{
    double best = 3.0;
    int i, j;

    v->level[CR_MF_GIVEN] = CR_MATCH_MISSING;
    v->level[CR_MF_FAMILY] = CR_MATCH_MISSING;
    for (i = 0; i < a->nnames; i++) {
        for (j = 0; j < b->nnames; j++) {
            const cr_match_name_t *x = &a->name[i], *y = &b->name[j];
            int g = given_level(x, y), f = family_level(x, y);
            double bad;
            int s;
            if ((g == CR_ML_GIVEN_DISAGREE || g == CR_ML_GIVEN_PARTIAL)
                && (f == CR_ML_FAMILY_DISAGREE || f == CR_ML_FAMILY_PARTIAL)
                && (s = swapped(x, y)) >= 0) {
                /* The exchange is one event, counted once (in the given
                 * name's field); the other name is compared where it
                 * moved to. */
                g = CR_ML_GIVEN_SWAPPED;
                f = s;
            }
            bad = badness(g, CR_ML_GIVEN_LEVELS)
                  + badness(f, CR_ML_FAMILY_LEVELS);
            /* Ties go to the stronger given level, then family level:
             * a rule on the pair's levels alone, so that compare(a, b)
             * equals compare(b, a) whatever the order of the names. */
            if (bad < best
                || (bad == best
                    && (g < v->level[CR_MF_GIVEN]
                        || (g == v->level[CR_MF_GIVEN]
                            && f < v->level[CR_MF_FAMILY])))) {
                best = bad;
                v->level[CR_MF_GIVEN] = (unsigned char)g;
                v->level[CR_MF_FAMILY] = (unsigned char)f;
            }
        }
    }
}

/* The number written by the n digits at s. */
static int digits(const char *s, int n)
{
    int v = 0;

    while (n-- > 0) {
        v = v * 10 + (*s++ - '0');
    }
    return v;
}

static int birth_level(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    if (la < 4 || lb < 4) {
        return CR_MATCH_MISSING;
    }
    if (la == 8 && lb == 8) {
        cr_similarity_date_level_e level;
        int y1 = digits(a, 4), m1 = digits(a + 4, 2), d1 = digits(a + 6, 2);
        int y2 = digits(b, 4), m2 = digits(b + 4, 2), d2 = digits(b + 6, 2);
        if (cr_similarity_date(&level, y1, m1, d1, y2, m2, d2)
            != APR_SUCCESS) {
            return CR_SIMILARITY_DATE_DISAGREE;
        }
        return (int)level;
    }
    /* A partial date agrees as far as both go, or not at all. */
    if (strncmp(a, b, la < lb ? la : lb) == 0) {
        return CR_SIMILARITY_DATE_SAME_YEAR_MONTH;
    }
    return CR_SIMILARITY_DATE_DISAGREE;
}

static int code_level(const char *a, const char *b)
{
    if (!*a || !*b) {
        return CR_MATCH_MISSING;
    }
    switch (cr_similarity_digits_typo(a, b)) {
    case CR_SIMILARITY_TYPO_EQUAL:
        return CR_ML_CODE_EXACT;
    case CR_SIMILARITY_TYPO_SUBSTITUTION:
    case CR_SIMILARITY_TYPO_TRANSPOSITION:
        return CR_ML_CODE_TYPO;
    default:
        return CR_ML_CODE_DISAGREE;
    }
}

/* The significant words of an address text (street types left out unless
 * nothing else remains). */
static int street_words(const char **w, cr_normalize_parts_t *parts,
                        const char *s)
{
    int i, n = 0;

    cr_normalize_split(parts, s);
    for (i = 0; i < parts->n && n < CR_MATCH_MAX_WORDS; i++) {
        if (!cr_normalize_is_street_type(parts->part[i])
            && strlen(parts->part[i]) >= 2) {
            w[n++] = parts->part[i];
        }
    }
    for (i = 0; n == 0 && i < parts->n && i < CR_MATCH_MAX_WORDS; i++) {
        w[n++] = parts->part[i];
    }
    return n;
}

static int word_found(const char *w, const char *const *set, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (strcmp(w, set[i]) == 0
            || (strlen(w) >= 4 && similar(w, set[i]))) {
            return 1;
        }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Parts of an address compared on their own (see CR_ML_ADDR_*). */
enum { PART_EXACT = 0, PART_SUBSET, PART_PARTIAL, PART_DISAGREE };

static int street_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    const char *wa[CR_MATCH_MAX_WORDS], *wb[CR_MATCH_MAX_WORDS];
    cr_normalize_parts_t pa, pb;
    int na, nb, i, fa = 0, fb = 0;

    if (!*a->street || !*b->street) {
        return CR_MATCH_MISSING;
    }
    if (same(a->street_compact, b->street_compact)) {
        return PART_EXACT;
    }
    na = street_words(wa, &pa, a->street);
    nb = street_words(wb, &pb, b->street);
    if (na == nb) {
        /* The same words in another order (lines exchanged). */
        qsort(wa, na, sizeof(char *), cmp_str);
        qsort(wb, nb, sizeof(char *), cmp_str);
        for (i = 0; i < na && strcmp(wa[i], wb[i]) == 0; i++) {
        }
        if (i == na) {
            return PART_EXACT;
        }
    }
    for (i = 0; i < na; i++) {
        fa += word_found(wa[i], wb, nb);
    }
    for (i = 0; i < nb; i++) {
        fb += word_found(wb[i], wa, na);
    }
    if ((na > 0 && fa == na) || (nb > 0 && fb == nb)
        || similar(a->street_compact, b->street_compact)) {
        return PART_SUBSET;
    }
    if (fa > 0 || fb > 0) {
        return PART_PARTIAL;
    }
    return PART_DISAGREE;
}

static int city_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    if (!*a->city_compact || !*b->city_compact) {
        return CR_MATCH_MISSING;
    }
    if (same(a->city_compact, b->city_compact)) {
        return PART_EXACT;
    }
    if (similar(a->city_compact, b->city_compact)) {
        return PART_SUBSET;
    }
    return PART_DISAGREE;
}

/* The address level of two addresses from their parts' levels. */
static int address_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    int h = CR_MATCH_MISSING, st = street_level(a, b), c = city_level(a, b);
    int street_ok = st == PART_EXACT || st == PART_SUBSET;

    if (*a->house && *b->house) {
        h = strcmp(a->house, b->house) == 0 ? PART_EXACT : PART_DISAGREE;
    }
    if (h == CR_MATCH_MISSING && st == CR_MATCH_MISSING
        && c == CR_MATCH_MISSING) {
        return CR_MATCH_MISSING;
    }
    if (st == PART_EXACT && h != PART_DISAGREE
        && (c == PART_EXACT || c == CR_MATCH_MISSING)) {
        return CR_ML_ADDR_EXACT;
    }
    if (street_ok && h != PART_DISAGREE && c != PART_DISAGREE) {
        return CR_ML_ADDR_SIMILAR;
    }
    if (street_ok || (st == PART_PARTIAL && h == PART_EXACT)) {
        return CR_ML_ADDR_STREET;
    }
    if (h == PART_EXACT || st == PART_PARTIAL || c == PART_EXACT
        || c == PART_SUBSET) {
        return CR_ML_ADDR_LOCALITY;
    }
    return CR_ML_ADDR_DISAGREE;
}

/* Keep the stronger of two levels (missing is weakest). */
static void keep_best(unsigned char *slot, int level)
{
    if (level == CR_MATCH_MISSING) {
        return;
    }
    if (*slot == CR_MATCH_MISSING || level < *slot) {
        *slot = (unsigned char)level;
    }
}

void cr_match_compare(cr_match_vector_t *v, const cr_match_record_t *a,
                      const cr_match_record_t *b)
{
    int i, j;

    memset(v->level, CR_MATCH_MISSING, sizeof(v->level));
    compare_names(v, a, b);
    keep_best(&v->level[CR_MF_BIRTH], birth_level(a->birth, b->birth));
    if (a->sex && b->sex) {
        v->level[CR_MF_SEX] = a->sex == b->sex ? CR_ML_SEX_AGREE
                                               : CR_ML_SEX_DISAGREE;
    }
    for (i = 0; i < a->nphones; i++) {
        for (j = 0; j < b->nphones; j++) {
            keep_best(&v->level[CR_MF_PHONE],
                      code_level(a->phone[i], b->phone[j]));
        }
    }
    for (i = 0; i < a->naddrs; i++) {
        for (j = 0; j < b->naddrs; j++) {
            const cr_match_addr_t *x = &a->addr[i], *y = &b->addr[j];
            keep_best(&v->level[CR_MF_POSTAL],
                      code_level(x->postal, y->postal));
            keep_best(&v->level[CR_MF_ADDRESS], address_level(x, y));
        }
    }
}
