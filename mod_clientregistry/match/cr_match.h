/*
 * cr_match.h: the probabilistic record-linkage engine (Fellegi-Sunter).
 *
 * This unit owns everything about matching that needs no database:
 *
 *  - the match record: the demographics the matcher compares (names,
 *    birth date, sex, phones, addresses), normalized once, written as a
 *    compact text (cr_match_record_build) that the store keeps next to the
 *    blocking keys, and read back (cr_match_record_parse) for every
 *    candidate without parsing its FHIR JSON;
 *  - the blocking keys of a record (cr_match_keys): short values stored
 *    in cr_search_index with each version, so that the candidates of a
 *    query come from a few index look-ups and never from a scan;
 *  - the comparison vector of two records (cr_match_compare): one
 *    agreement level per field, strongest first;
 *  - Fellegi-Sunter weights log2(m/u) per field and level, the total
 *    weight, its 0..1 score and the FHIR match grade
 *    (cr_match_weight, cr_match_score, cr_match_grade);
 *  - the m and u probabilities: defaults (cr_match_params_default) and
 *    their estimation from the stored records by EM with a latent match
 *    class (cr_match_em, Winkler 1988/1993), on plain arrays.
 *
 * Only name, birth date, sex, phone and address are compared.  Record
 * ids, PHNs and other identifiers never contribute to a score (a PHN is
 * only a blocking key: it finds a candidate, the demographics judge it).
 *
 * The stages live in one file each, with this header as their shared
 * types: cr_match_record.c (field and level names, record build and
 * parse), cr_match_keys.c (blocking keys and their order for a query),
 * cr_match_compare.c (comparison vectors), cr_match_weight.c (m/u
 * parameters, weights, scores, grades) and cr_match_em.c (EM).
 *
 * Everything here is pure computation on APR pools: no SQL, no logging,
 * no globals written, so it is thread-safe.  Every loop is bounded by the
 * CR_MATCH_MAX_* limits below.
 */
#ifndef CR_MATCH_H
#define CR_MATCH_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "core/cr_model.h"
#include "match/cr_phonetic.h"

/* ------------------------------------------------------------------ */
/* Fields and agreement levels                                         */
/* ------------------------------------------------------------------ */

/* The compared fields (the columns of a comparison vector). */
typedef enum {
    CR_MF_GIVEN = 0,     /* first given name (and the others) */
    CR_MF_FAMILY,        /* family name, multi-part aware */
    CR_MF_BIRTH,         /* birth date */
    CR_MF_SEX,           /* administrative gender (male/female/other) */
    CR_MF_PHONE,         /* phone digits */
    CR_MF_POSTAL,        /* postal code */
    CR_MF_ADDRESS,       /* address lines (house number, street words) and
                          * city, judged together */
    CR_MF_COUNT
} cr_match_field_e;

/* Most agreement levels of any field (disagreement included). */
#define CR_MATCH_MAX_LEVELS 8

/* Level of a field that could not be compared (missing on either side):
 * it contributes weight 0 and is ignored by EM. */
#define CR_MATCH_MISSING 0xff

/*
 * Agreement levels.  Within a field a lower number is a stronger
 * agreement, and the last level is disagreement.  The numbers index the
 * m/u tables; the names (cr_match_level_name) are what the database
 * stores, so reordering levels does not corrupt stored parameters.
 */
enum {
    /* given */
    CR_ML_GIVEN_EXACT = 0,   /* first given equal (or whole, spaces aside) */
    CR_ML_GIVEN_NICKNAME,    /* same canonical name: Bob / Robert */
    CR_ML_GIVEN_SIMILAR,     /* Jaro-Winkler >= 0.92, or at most one
                              * edit (Damerau) per four letters of the
                              * longer name */
    CR_ML_GIVEN_PHONETIC,    /* a Double Metaphone key in common */
    CR_ML_GIVEN_PARTIAL,     /* another given name, an initial, or just
                              * the first letter agrees (most misspellings
                              * keep the first letter) */
    CR_ML_GIVEN_SWAPPED,     /* given and family names exchanged: one
                              * of them equal or similar to the other
                              * record's opposite name.  The exchange is
                              * one event and is counted here only: the
                              * family field then holds the level of the
                              * other name compared crosswise (exact,
                              * similar, phonetic or disagree) */
    CR_ML_GIVEN_DISAGREE,
    CR_ML_GIVEN_LEVELS
};
enum {
    /* family */
    CR_ML_FAMILY_EXACT = 0,  /* equal, spaces and hyphens aside */
    CR_ML_FAMILY_SIMILAR,    /* as CR_ML_GIVEN_SIMILAR */
    CR_ML_FAMILY_PHONETIC,   /* a Double Metaphone key in common */
    CR_ML_FAMILY_PARTIAL,    /* one part of a multi-part name agrees */
    CR_ML_FAMILY_SWAPPED,    /* no longer produced (an exchange is
                              * counted in the given field); kept so that
                              * stored parameters keep their meaning */
    CR_ML_FAMILY_DISAGREE,
    CR_ML_FAMILY_LEVELS
};
/* birth: the levels of cr_similarity_date_level_e (6 levels), with
 * partial dates (year, year-month) that agree as far as both go counted
 * as CR_SIMILARITY_DATE_SAME_YEAR_MONTH. */
#define CR_ML_BIRTH_LEVELS 6
enum {
    CR_ML_SEX_AGREE = 0, CR_ML_SEX_DISAGREE, CR_ML_SEX_LEVELS
};
enum {
    /* phone and postal code */
    CR_ML_CODE_EXACT = 0,    /* equal */
    CR_ML_CODE_TYPO,         /* one substitution or adjacent transposition */
    CR_ML_CODE_DISAGREE,
    CR_ML_CODE_LEVELS
};
/*
 * address: one field, because its parts are not independent (a person
 * who moves changes them all at once, and everybody in a household shares
 * them all), so counting each part's agreement separately would count one
 * fact several times.  The level combines three comparisons of the parts:
 * the house number (equal or not), the street words (the significant
 * words of all lines, in any order: the same, every word of one found in
 * the other allowing a typo of Jaro-Winkler >= 0.92, some word in common,
 * none) and the city (equal, Jaro-Winkler >= 0.92, different), each part
 * compared only when present on both sides.
 */
enum {
    CR_ML_ADDR_EXACT = 0,    /* same street words, house and city agree */
    CR_ML_ADDR_SIMILAR,      /* street words agree up to typos or an
                              * omitted line; house and city do not
                              * disagree */
    CR_ML_ADDR_STREET,       /* the same street, another house or city */
    CR_ML_ADDR_LOCALITY,     /* only the city, a street word or the
                              * house number agrees */
    CR_ML_ADDR_DISAGREE,
    CR_ML_ADDR_LEVELS
};

/* One agreement level per field (CR_MATCH_MISSING when not compared). */
typedef struct cr_match_vector_t {
    unsigned char level[CR_MF_COUNT];
} cr_match_vector_t;

/* Name of field f ("given", "family", "birth", "sex", "phone", "postal",
 * "house", "street", "city"), or NULL when f is out of range. */
const char *cr_match_field_name(int f);

/* Number of levels of field f (0 when out of range). */
int cr_match_field_levels(int f);

/* Name of level l of field f ("exact", "nickname", ..., "disagree"), or
 * NULL when out of range. */
const char *cr_match_level_name(int f, int l);

/* Field and level from their names; -1 when unknown. */
int cr_match_field_from_name(const char *name);
int cr_match_level_from_name(int f, const char *name);

/* ------------------------------------------------------------------ */
/* The match record                                                    */
/* ------------------------------------------------------------------ */

/* Bounds on what one record holds; later elements are ignored. */
#define CR_MATCH_MAX_NAMES 4
#define CR_MATCH_MAX_GIVEN 3
#define CR_MATCH_MAX_PHONES 4
#define CR_MATCH_MAX_ADDRS 4
/* Longest name, city or street text kept (bytes, after normalization). */
#define CR_MATCH_MAX_TEXT 64
#define CR_MATCH_MAX_STREET 96
/* Most words of an address compared (and scanned for a key) word by
 * word. */
#define CR_MATCH_MAX_WORDS 16
/* Longest record text cr_match_record_build can produce, with the NUL. */
#define CR_MATCH_RECORD_MAX 2048

/* Version tag the record text starts with. */
#define CR_MATCH_RECORD_VERSION "1"

/* One name, normalized (cr_normalize_name), with the derived forms the
 * comparisons need.  Every string is "" when absent, never NULL. */
typedef struct cr_match_name_t {
    const char *family;          /* "de la cruz" */
    const char *family_compact;  /* "delacruz" */
    char family_dm[2][CR_PHONETIC_DMETAPHONE_SIZE];
    const char *given;           /* all given names: "mary ann" */
    const char *given_compact;   /* "maryann" */
    const char *given_first;     /* "mary" */
    const char *given_canon;     /* nickname-canonical first given */
    char given_dm[2][CR_PHONETIC_DMETAPHONE_SIZE];
} cr_match_name_t;

/* One address: postal code (cr_normalize_postal), house number (the first
 * word of the lines that starts with a digit), the other words of the
 * lines with common street-type words spelled out ("st" -> "street"),
 * and the city. */
typedef struct cr_match_addr_t {
    const char *postal;
    const char *house;
    const char *street;          /* words separated by single spaces */
    const char *street_compact;
    const char *city;
    const char *city_compact;
} cr_match_addr_t;

typedef struct cr_match_record_t {
    char sex;                    /* 'm', 'f', 'o', or 0 when unknown */
    char birth[9];               /* "YYYYMMDD", "YYYYMM", "YYYY" or "" */
    int nnames;
    cr_match_name_t name[CR_MATCH_MAX_NAMES];
    int nphones;
    const char *phone[CR_MATCH_MAX_PHONES];
    int naddrs;
    cr_match_addr_t addr[CR_MATCH_MAX_ADDRS];
} cr_match_record_t;

/*
 * The compact text of the demographics of p, as stored with each version
 * (index kind CR_MATCH_KIND_RECORD):
 *
 *   1|sex|birth|family,given;...|phone;...|postal,house,street,city;...
 *
 * Every component is normalized, so it holds only [a-z0-9 ] (names,
 * street, city), digits (phone, house may hold letters) or [A-Z0-9]
 * (postal): the separators cannot occur inside a value.  Masked names,
 * telecoms and addresses (data-absent-reason masked) are left out, as are
 * e-mail addresses.  The result is at most CR_MATCH_RECORD_MAX - 1 bytes
 * and allocated from pool; it never fails (a patient without usable
 * demographics gives "1|||||").
 */
const char *cr_match_record_build(apr_pool_t *pool, const cr_patient_t *p);

/*
 * Parse a record text into *rec, computing the derived forms (compact
 * names, Double Metaphone keys, nickname canonical forms).  Strings point
 * into a copy allocated from pool.
 *
 * Returns APR_SUCCESS, or APR_EINVAL when text is NULL, not of version
 * CR_MATCH_RECORD_VERSION or malformed (rec is then an empty record,
 * which agrees with nothing).
 */
apr_status_t cr_match_record_parse(cr_match_record_t *rec, apr_pool_t *pool,
                                   const char *text);

/* Number of fields of rec that have a value (a record with fewer than two
 * is not enough to match on). */
int cr_match_record_fields(const cr_match_record_t *rec);

/* ------------------------------------------------------------------ */
/* Blocking keys                                                       */
/* ------------------------------------------------------------------ */

/* cr_search_index kinds written by the matcher (the "bk:" namespace).
 * DM(x) is the primary Double Metaphone key of x; "initial" the first
 * letter of the first given or family name. */
#define CR_MATCH_KIND_RECORD "bk:rec"   /* the record text itself */
#define CR_MATCH_KIND_DOB "bk:dob"      /* YYYYMMDD|given or family initial */
#define CR_MATCH_KIND_FAM_YEAR "bk:fy"  /* DM(family)|given initial|YYYY */
#define CR_MATCH_KIND_FAM_DAY "bk:fd"   /* DM(family)|given initial|MMDD */
#define CR_MATCH_KIND_GIV_YEAR "bk:gy"  /* DM(given)|family initial|YYYY */
#define CR_MATCH_KIND_NAMES "bk:fg"     /* DM(family), DM(given) sorted */
#define CR_MATCH_KIND_DOB_CITY "bk:dc" /* YYYYMMDD|DM(city) */
/* "MMDD" in the next two: the birth month and day in ascending order
 * (0304 for both 4 March and 3 April), so a day-month exchange keeps
 * them. */
#define CR_MATCH_KIND_DAY_STREET "bk:ms" /* MMDD|DM(street word) */
#define CR_MATCH_KIND_DAY_POSTAL "bk:mp" /* MMDD|postal */
#define CR_MATCH_KIND_HOUSEHOLD "bk:hs" /* house|DM(street word)|
                                         * DM(city) */
/* bk:fh and bk:fs hold the family name's and the given name's sound
 * (in earlier versions only the family name's: records stored before lack
 * the given-name keys until they are written again or re-keyed by
 * 'cr-admin rekey'; the kinds dc, ms, mp and hs are new likewise). */
#define CR_MATCH_KIND_FAM_HOUSE "bk:fh" /* DM(family or given)|house */
#define CR_MATCH_KIND_FAM_STREET "bk:fs" /* DM(family or given)|
                                          * DM(street word) */
#define CR_MATCH_KIND_POSTAL_GIV "bk:pg" /* postal|given initial */
#define CR_MATCH_KIND_POSTAL_FAM "bk:pf" /* postal|DM(family) */
#define CR_MATCH_KIND_POSTAL_HOUSE "bk:ph" /* postal|house number */
#define CR_MATCH_KIND_PHONE "bk:tel"    /* 10 phone digits */
#define CR_MATCH_KIND_PHN "bk:phn"      /* the current PHN */

/* Most blocking keys of one record (the record row not counted). */
#define CR_MATCH_MAX_KEYS 48

typedef struct cr_match_key_t {
    const char *kind;
    const char *value;
} cr_match_key_t;

/*
 * The blocking keys of rec, plus a CR_MATCH_KIND_PHN key when phn is not
 * NULL: appended to *keys (an array of cr_match_key_t created from pool
 * when *keys is NULL), without duplicates, at most CR_MATCH_MAX_KEYS.
 *
 * Each key is built so that a duplicate with errors in one or two fields
 * still shares a key with its original: the birth date with the initial
 * of either name (so exchanged names still share it); the family
 * name's sound with the given initial and the birth year, or the birth
 * month and day; the given name's sound with the family initial and the
 * birth year; the sounds of both names in either order (given and family
 * exchanged); the family or the given name's sound with the house
 * number or with the first street word's sound (either name, so that a
 * copy with one name misspelt or both exchanged still shares a key with
 * its household); without any name, the birth date with the city's
 * sound, the birth month and day (either order) with the street's sound
 * or the postal code, and the house number with the street's and the
 * city's sounds; the postal code with the given initial,
 * the family name's sound or the house number; each phone.  Every key
 * combines enough to stay selective in a registry of millions, so one
 * look-up returns tens of rows, not thousands.
 */
void cr_match_keys(apr_array_header_t **keys, apr_pool_t *pool,
                   const cr_match_record_t *rec, const char *phn);

/*
 * Reorder keys (from cr_match_keys) for a query's look-ups, stably, most
 * selective kinds first: phone and PHN, birth date with an initial, the
 * names with the birth year or day, the name-free address keys, the
 * postal code keys, then a name with the house or street.  The look-ups
 * of one query stop at a total number of rows, so a coarse key of a
 * crowded address (a care home, an apartment block) must not use that
 * budget up before the keys that single a person out.  Stored keys are
 * a set, so this changes nothing stored.
 */
void cr_match_keys_for_query(apr_array_header_t *keys);

/* ------------------------------------------------------------------ */
/* Comparison, weights, scores, grades                                 */
/* ------------------------------------------------------------------ */

/*
 * Compare two records field by field.  A field missing on either side is
 * CR_MATCH_MISSING.  Fields with several values (names, phones,
 * addresses) take the strongest agreement of any pair of values.  The
 * comparison is symmetric: compare(a, b) equals compare(b, a).
 */
void cr_match_compare(cr_match_vector_t *v, const cr_match_record_t *a,
                      const cr_match_record_t *b);

/* The m and u probabilities of every field and level, and the prior
 * proportion of matches among candidate pairs. */
typedef struct cr_match_params_t {
    double m[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double u[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double lambda;
    /* log2(m/u), filled by cr_match_params_finish. */
    double w[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
} cr_match_params_t;

/* The defaults used before any estimation: values chosen from the record
 * linkage literature for person records, not fitted to any data set. */
void cr_match_params_default(cr_match_params_t *p);

/* Bounds of every probability in cr_match_params_t. */
#define CR_MATCH_P_MIN 1e-6
#define CR_MATCH_P_MAX (1.0 - 1e-6)

/* x clamped into [CR_MATCH_P_MIN, CR_MATCH_P_MAX]; NaN gives
 * CR_MATCH_P_MIN. */
double cr_match_params_clamp(double x);

/*
 * Make p usable: clamp every probability into [1e-6, 1 - 1e-6], rescale
 * each field's m and u rows to sum to 1, clamp lambda likewise and
 * compute the weights log2(m/u), except that the strongest level's weight
 * is never below 0 and disagreement's never above 0.  Call it after
 * filling or changing m, u, lambda.
 */
void cr_match_params_finish(cr_match_params_t *p);

/* The Fellegi-Sunter weight of v: the sum of log2(m/u) of the levels of
 * the compared fields (missing fields add 0). */
double cr_match_weight(const cr_match_params_t *p,
                       const cr_match_vector_t *v);

/* Least prior used for scoring (see cr_match_score). */
#define CR_MATCH_MIN_PRIOR 0.01

/*
 * The score in [0, 1] of a weight: the posterior probability that the
 * pair is a match, 1 / (1 + 2^-(weight + log2(prior / (1 - prior)))),
 * with prior = max(lambda, CR_MATCH_MIN_PRIOR).  lambda says how many of
 * the candidate pairs among the stored records are matches, and is close
 * to 0 in a registry cleaned of duplicates; a query, though, often comes
 * from a person who is registered, so the prior of a query's candidate
 * is never taken below one in a hundred.  It is what FHIR's
 * Bundle.entry.search.score carries.
 */
double cr_match_score(const cr_match_params_t *p, double weight);

/* FHIR match grades (http://hl7.org/fhir/match-grade), strongest first. */
typedef enum {
    CR_MATCH_CERTAIN = 0,
    CR_MATCH_PROBABLE,
    CR_MATCH_POSSIBLE,
    CR_MATCH_CERTAINLY_NOT
} cr_match_grade_e;

/* Lowest scores of the grades (ClientRegistryMatchThresholds);
 * 1 >= certain >= probable >= possible >= 0. */
typedef struct cr_match_thresholds_t {
    double certain;
    double probable;
    double possible;
} cr_match_thresholds_t;

/* Default thresholds (see docs/directives.md). */
#define CR_MATCH_DEFAULT_CERTAIN 0.99
#define CR_MATCH_DEFAULT_PROBABLE 0.5
#define CR_MATCH_DEFAULT_POSSIBLE 0.05

/*
 * The grade of a pair with this score and comparison vector under t.
 * v may be NULL (the score alone decides).  Safety rule: a pair whose
 * given names, family names or birth dates disagree outright (present on
 * both sides, level "disagree") is at most probable whatever its score:
 * twins and other members of one household share everything else, a
 * changed family name (marriage) deserves a look, and a certain match may
 * be acted on without review.
 */
cr_match_grade_e cr_match_grade(const cr_match_thresholds_t *t,
                                double score, const cr_match_vector_t *v);

/* "certain", "probable", "possible", "certainly-not". */
const char *cr_match_grade_name(cr_match_grade_e g);

/* ------------------------------------------------------------------ */
/* EM estimation                                                       */
/* ------------------------------------------------------------------ */

/* A way to abandon a long estimate (a fit in a stopping httpd child):
 * fn(baton) returns nonzero once the caller wants the work stopped.  The
 * estimator (cr_match_em_cancellable) asks between rounds, the walks that
 * feed it (cr_store_match_tally, the fit's value counts) between records
 * or pages.  A NULL cancel, or a NULL fn, never cancels. */
typedef struct cr_match_cancel_t {
    int (*fn)(void *baton);
    void *baton;
} cr_match_cancel_t;

/* What a cancelled estimate or walk returns (its results are partial and
 * must be discarded). */
#define CR_MATCH_CANCELLED (APR_OS_START_USERERR + 23)

/* Nonzero when cancel asks to stop now. */
int cr_match_cancelled(const cr_match_cancel_t *cancel);

/* A distinct comparison vector and how many candidate pairs had it. */
typedef struct cr_match_pattern_t {
    cr_match_vector_t v;
    double count;
} cr_match_pattern_t;

/* Counts of distinct vectors, for feeding EM (a hash keyed by the
 * vector's bytes). */
typedef struct cr_match_tally_t {
    apr_pool_t *pool;
    apr_hash_t *seen;            /* vector bytes -> index in patterns */
    apr_array_header_t *patterns;  /* of cr_match_pattern_t */
    double pairs;                /* total count */
} cr_match_tally_t;

/* A new, empty tally allocated from pool. */
cr_match_tally_t *cr_match_tally_make(apr_pool_t *pool);

/* Count one pair with vector v.  At most 9^9 distinct vectors exist, but
 * only those seen are stored. */
void cr_match_tally_add(cr_match_tally_t *t, const cr_match_vector_t *v);

/* Result details of cr_match_em. */
typedef struct cr_match_em_info_t {
    int iterations;              /* EM rounds run */
    int converged;               /* 1 when the change fell below tol */
    double pairs;                /* total count of the patterns */
    double max_change;           /* largest parameter change, last round */
} cr_match_em_info_t;

/*
 * Estimate m, u and lambda from comparison vectors by the EM algorithm
 * for a two-class latent model with conditionally independent fields
 * (Winkler 1988; Jaro 1989).  E-step: the posterior match probability of
 * every pattern; M-step: the probabilities re-estimated from the patterns
 * weighted by it.  Missing fields are marginalised out (they neither
 * count for nor against a level).
 *
 * flags:    CR_MATCH_EM_FIX_M keeps m at its starting values and estimates
 *           only u and lambda: for data with too few duplicates to show a
 *           match class (see cr_match_params_plausible).
 * p:        in: the starting values (the defaults, or the last estimate);
 *           they also act as a weak Dirichlet prior worth prior_pairs
 *           pairs per field, so levels or fields the data never shows
 *           keep sensible values instead of collapsing to 0.  out: the
 *           estimate, finished (cr_match_params_finish).
 * patterns, npatterns: the distinct vectors and their counts.
 * max_iter: bound on the rounds (e.g. 500).
 * tol:      stop when no probability changes by more than tol.
 * info:     may be NULL.
 *
 * After convergence the class whose vectors agree more is taken as the
 * match class (the two classes of the latent model are otherwise
 * interchangeable).  Allocates nothing (work is on the caller's arrays
 * and the stack); cost O(max_iter * npatterns * CR_MF_COUNT).
 *
 * Returns APR_SUCCESS, or APR_EINVAL for no patterns (p is then left as
 * it was, finished).
 */
#define CR_MATCH_EM_FIX_M 1
/* CR_MATCH_EM_ORDERED: after every M-step, keep the likelihood ratio m/u
 * non-increasing along each field's ordinal levels (cr_match_params_order). */
#define CR_MATCH_EM_ORDERED 2

apr_status_t cr_match_em(cr_match_params_t *p,
                         const cr_match_pattern_t *patterns, int npatterns,
                         double prior_pairs, int max_iter, double tol,
                         int flags, cr_match_em_info_t *info);

/* cr_match_em, asking cancel before every round: returns
 * CR_MATCH_CANCELLED as soon as it says stop (p then holds a partial
 * estimate, to be discarded; info the rounds run).  cancel may be NULL. */
apr_status_t cr_match_em_cancellable(cr_match_params_t *p,
                                     const cr_match_pattern_t *patterns,
                                     int npatterns, double prior_pairs,
                                     int max_iter, double tol, int flags,
                                     const cr_match_cancel_t *cancel,
                                     cr_match_em_info_t *info);

/*
 * Pool adjacent violators so that m/u never increases from a stronger to
 * a weaker level on each field's ordinal scale (exact, nickname, similar,
 * phonetic, partial, disagree for given names; exact, similar, phonetic,
 * disagree for family names; exact, one digit, year off by one, same
 * year and month, disagree for birth dates; exact, typo, disagree for
 * codes; exact, similar, street, locality, disagree for addresses).
 * Levels for error patterns (names or day and month exchanged, a partial
 * family name) are left alone.  u is kept; m is moved within each pooled
 * run, so rows still sum to 1.  Call cr_match_params_finish afterwards.
 */
void cr_match_params_order(cr_match_params_t *p);

/* The ordinal levels of field f, strongest first, ended by -1 (see
 * cr_match_params_order), or NULL when f is out of range. */
const int *cr_match_field_scale(int f);

/*
 * Make the weights w[0..levels-1] of field f non-increasing along the
 * field's ordinal scale (each level at most the one before it), and keep
 * every level off the scale (exchanged names or day and month, a partial
 * family name) at most the strongest level's weight.  With these, and the
 * strongest level's weight never below 0, no comparison vector weighs
 * more than that of an exact copy: an exact copy is always ranked first.
 * cr_match_params_finish applies it.
 */
void cr_match_weights_monotone(double *w, int f);

/*
 * Whether the match class of p looks like records of one person: for
 * each of the given name, the family name and the birth date, the
 * strong agreement levels (given: exact, nickname, similar; family:
 * exact, similar, phonetic; birth: exact, day-month swapped, one digit)
 * hold at least 60 % of m, and more of m than of u.  Any data-entry
 * process that deserves matching at all keeps most names and birth dates
 * of one person about right.  When the stored records hold few or no
 * duplicates, EM's two classes instead split the candidate pairs along
 * some other line (say, "same given name and sex" against the rest),
 * which this test rejects.
 */
int cr_match_params_plausible(const cr_match_params_t *p);

#endif /* CR_MATCH_H */
