/*
 * cr_match_tf.h: term-frequency adjustment of the Fellegi-Sunter weights
 * (Winkler 1989's frequency-based matching, in the simple form Splink
 * uses).  Agreeing on a rare family name, given name or city is stronger
 * evidence than agreeing on a common one: "Zyskowski" shared by two
 * records says more than "Smith".
 *
 * This unit owns the pure part: which value of a query each adjustment
 * looks at, how many bits a value's frequency is worth, and the adjusted
 * weight of a comparison vector.  The value counts themselves are kept in
 * the database (cr_match_freq, migration 009, rebuilt with every fit by
 * ops/cr_ops_match_tune.c) and read for the query's values only.
 *
 * Formula.  For field f and value v with count n_v among the N records
 * that have the field, and s_f = sum over values of (n_v / N)^2 (the
 * chance that two random records agree on f at all):
 *
 *     tf(v) = log2(s_f * N / n_v), bounded to
 *             [-CR_MATCH_TF_MAX_LESS, +CR_MATCH_TF_MAX_MORE] bits,
 *
 * i.e. log2(u_f / u_v) with u_v = n_v / N the chance that a random record
 * has v and u_f = s_f its average over the population.  A value of
 * average frequency gets 0, one twice as rare as the average +1 bit.
 * A value not counted gets n_v = the table's floor (1, or the smallest
 * count kept when the table was cut at CR_MATCH_TF_MAX_VALUES).
 *
 * The adjustment is added to the field's weight only when the candidate
 * agrees exactly on the very value looked up (the query's first family
 * name, first given name, first city); for the address, at the levels
 * where the city may agree (exact to locality) and only if the cities are
 * equal.  An adjusted exact weight is never below 0 nor below the field's
 * next level, so an exact copy still ranks first and agreeing exactly
 * still never weighs less than agreeing loosely.
 */
#ifndef CR_MATCH_TF_H
#define CR_MATCH_TF_H

#include "match/cr_match.h"

/* Bounds of one adjustment, in bits. */
#define CR_MATCH_TF_MAX_MORE 4.0
#define CR_MATCH_TF_MAX_LESS 3.0
/* Most values kept per field in cr_match_freq (the most frequent ones;
 * values seen once are never kept: the floor stands for them). */
#define CR_MATCH_TF_MAX_VALUES 50000

/* The fields adjusted, and the name the frequency table files them
 * under (cr_match_field_name). */
enum { CR_MATCH_TF_GIVEN = 0, CR_MATCH_TF_FAMILY, CR_MATCH_TF_CITY,
       CR_MATCH_TF_COUNT };

/* Name of tf field i ("given", "family", "city"), NULL out of range. */
const char *cr_match_tf_field_name(int i);

/* The value of record rec that tf field i looks at ("" when absent):
 * first given name, first family name (compact), first city (compact). */
const char *cr_match_tf_value(const cr_match_record_t *rec, int i);

/* Whether rec has value v in tf field i (any of its names or addresses). */
int cr_match_tf_has(const cr_match_record_t *rec, int i, const char *v);

/* Bits of a value counted n times among total records with the field,
 * with sumsq = s_f; 0 when total or sumsq is not positive. */
double cr_match_tf_bits(double n, double total, double sumsq);

/* The adjustments of one query: bits[i] for the query's value of tf
 * field i (0: none) and that value. */
typedef struct cr_match_tf_t {
    double bits[CR_MATCH_TF_COUNT];
    const char *value[CR_MATCH_TF_COUNT];
} cr_match_tf_t;

/* The weight of vector v (query q against candidate c) under p with the
 * adjustments tf (may be NULL: cr_match_weight). */
double cr_match_weight_tf(const cr_match_params_t *p,
                          const cr_match_vector_t *v,
                          const cr_match_tf_t *tf,
                          const cr_match_record_t *c);

/* Counting values for the table: one record's distinct values of each
 * tf field are added to counts[i] (a hash value -> apr_int64_t *) and
 * totals[i] (records having field i). */
void cr_match_tf_count(apr_hash_t *counts[CR_MATCH_TF_COUNT],
                       double totals[CR_MATCH_TF_COUNT],
                       const cr_match_record_t *rec);

#endif /* CR_MATCH_TF_H */
