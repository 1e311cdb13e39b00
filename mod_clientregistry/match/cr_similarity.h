/*
 * cr_similarity.h: string and date comparators for record linkage.
 *
 * This unit owns the comparison functions whose results become the
 * agreement levels of the Fellegi-Sunter score in cr_match: Jaro and
 * Jaro-Winkler similarity, Levenshtein and Damerau (optimal string
 * alignment) edit distances with an early-exit bound, birth-date
 * agreement levels, and a typo test for short digit strings such as
 * phone numbers and postal codes.
 *
 * Strings are compared byte by byte; they are meant to be the output of
 * cr_normalize (ASCII), where a byte is a character.  Comparison is case
 * sensitive: normalize first.
 *
 * Bounds: at most CR_SIMILARITY_MAX_LEN bytes of each string are read;
 * longer strings are compared as their first CR_SIMILARITY_MAX_LEN bytes
 * (truncated, never rejected).  The work arrays live on the stack, sized
 * by that bound, so nothing allocates; there is no state, so every
 * function is thread-safe.  NULL is taken as "".
 */

#ifndef CR_SIMILARITY_H
#define CR_SIMILARITY_H

#include <apr.h>
#include <apr_errno.h>

/* Most bytes of each string any comparator reads (as CR_NORM_MAX_LEN). */
#define CR_SIMILARITY_MAX_LEN 256

/*
 * Jaro similarity in [0, 1]: matching characters are equal characters no
 * further apart than max(|a|, |b|) / 2 - 1 positions; with m matches and
 * t half the number of matched characters out of order,
 * jaro = (m / |a| + m / |b| + (m - t) / m) / 3, and 0 when m = 0.
 *
 * Two empty strings give 1.0 (they are identical); one empty string gives
 * 0.0.  Callers should not compare missing values at all.
 */
double cr_similarity_jaro(const char *a, const char *b);

/*
 * Jaro-Winkler similarity in [0, 1] (Winkler 1990): with l the length of
 * the common prefix, at most 4, and p = 0.1,
 * jw = jaro + l * p * (1 - jaro).  As in Winkler's definition, the prefix
 * bonus applies only when jaro > 0.7 (the boost threshold), so strings
 * that share a prefix but little else are not lifted.
 * Examples: MARTHA/MARHTA 0.961, DWAYNE/DUANE 0.840, DIXON/DICKSONX 0.813.
 */
double cr_similarity_jaro_winkler(const char *a, const char *b);

/*
 * Levenshtein distance (insertions, deletions and substitutions, each of
 * cost 1) between a and b.
 *
 * max: the largest distance the caller cares about.  The result is exact
 *      when it is <= max; any larger distance is reported as max + 1,
 *      and the computation stops as soon as that is certain (a length
 *      difference above max, or a whole row of the table above max).  A
 *      negative max, or one above CR_SIMILARITY_MAX_LEN, means no bound.
 *
 * Returns the distance, or max + 1 as above.
 */
int cr_similarity_levenshtein(const char *a, const char *b, int max);

/*
 * Damerau-Levenshtein distance in its optimal string alignment form:
 * Levenshtein plus transposition of two adjacent characters at cost 1,
 * with no substring edited twice (so "ca" -> "abc" is 3, not 2).  max as
 * for cr_similarity_levenshtein(); returns the distance or max + 1.
 */
int cr_similarity_damerau(const char *a, const char *b, int max);

/*
 * Agreement level of two birth dates, strongest first.  The numeric
 * order is meaningful: a lower value is a stronger agreement, so callers
 * can index weight tables with it and compare levels with <.
 */
typedef enum {
    /* Same year, month and day. */
    CR_SIMILARITY_DATE_EXACT = 0,
    /* Same year; day and month exchanged (05-10 against 10-05). */
    CR_SIMILARITY_DATE_SWAP_DAY_MONTH,
    /* Exactly one digit differs in the YYYYMMDD strings. */
    CR_SIMILARITY_DATE_ONE_DIGIT_TYPO,
    /*
     * Same month and day, years one apart, where that is not already a
     * one-digit typo (1979/1980, 1999/2000): a year typed from an age
     * or a decade boundary slip.
     */
    CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE,
    /* Same year and month, day otherwise different. */
    CR_SIMILARITY_DATE_SAME_YEAR_MONTH,
    /* None of the above. */
    CR_SIMILARITY_DATE_DISAGREE,
    /* Number of levels (not a level). */
    CR_SIMILARITY_DATE_LEVELS
} cr_similarity_date_level_e;

/*
 * Compare two calendar dates given as year, month, day.
 *
 * level: receives the first level, in the order of the enum, that
 *        applies.
 * y1, m1, d1, y2, m2, d2: two full dates; years 1-9999, months 1-12,
 *        days valid for the month (leap years counted, Gregorian).
 *        Partial dates (a year or a year and month only, as FHIR allows)
 *        are not accepted: the caller decides how those compare.
 *
 * Returns APR_SUCCESS, or APR_EINVAL if either date is not a valid full
 * date (level is then CR_SIMILARITY_DATE_DISAGREE).
 */
apr_status_t cr_similarity_date(cr_similarity_date_level_e *level,
                                int y1, int m1, int d1,
                                int y2, int m2, int d2);

/* Result of cr_similarity_digits_typo(). */
typedef enum {
    /* The strings are equal. */
    CR_SIMILARITY_TYPO_EQUAL = 0,
    /* Same length, exactly one position differs ("2505550123" against
     * "2505550128"). */
    CR_SIMILARITY_TYPO_SUBSTITUTION,
    /* Same length, exactly one pair of adjacent characters exchanged
     * ("V8W1A1" against "V8W11A"). */
    CR_SIMILARITY_TYPO_TRANSPOSITION,
    /* Anything else, including different lengths. */
    CR_SIMILARITY_TYPO_DIFFERENT
} cr_similarity_typo_e;

/*
 * Whether two short identifiers (normalized phone numbers or postal
 * codes) differ by one typical keying error: one substituted character
 * or one transposition of adjacent characters.  Insertions and deletions
 * are not typos here, because these values have fixed lengths and a
 * shifted string is a different number.  Any characters are compared,
 * not only digits.  Two empty strings are EQUAL; callers should not
 * compare missing values.
 */
cr_similarity_typo_e cr_similarity_digits_typo(const char *a, const char *b);

#endif /* CR_SIMILARITY_H */
