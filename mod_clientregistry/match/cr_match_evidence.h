/*
 * cr_match_evidence.h: why the matcher paired two records.
 *
 * For a reviewer (the steward's console, $potential-duplicates and $match
 * with evidence) the score alone says nothing: this unit lays the
 * comparison of two match records out field by field -- the values the
 * matcher compared, the agreement level it found and the Fellegi-Sunter
 * weight log2(m/u) that level carries -- with the total weight, score and
 * grade, computed exactly as cr_match_compare, cr_match_weight,
 * cr_match_score and cr_match_grade compute them for matching, so the
 * evidence always adds up to the score shown.  Pure computation on APR
 * pools, like the rest of match/.
 */
#ifndef CR_MATCH_EVIDENCE_H
#define CR_MATCH_EVIDENCE_H

#include "match/cr_match.h"

/* One compared field. */
typedef struct cr_match_evidence_field_t {
    const char *field;          /* cr_match_field_name: "given", ... */
    const char *level;          /* cr_match_level_name, or NULL when the
                                 * field is missing on either side */
    double weight;              /* log2(m/u) of the level; 0 when missing */
    const char *value_a;        /* the normalized values compared, several
                                 * joined by "; ", "" when absent */
    const char *value_b;
} cr_match_evidence_field_t;

typedef struct cr_match_evidence_t {
    cr_match_vector_t vector;
    cr_match_evidence_field_t field[CR_MF_COUNT];
    double weight;              /* sum of the fields' weights */
    double score;               /* cr_match_score of weight */
    cr_match_grade_e grade;     /* cr_match_grade of score and vector */
} cr_match_evidence_t;

/* The evidence of records a and b under parameters p (finished) and
 * thresholds t into *ev; strings from pool. */
void cr_match_evidence(cr_match_evidence_t *ev, apr_pool_t *pool,
                       const cr_match_params_t *p,
                       const cr_match_thresholds_t *t,
                       const cr_match_record_t *a,
                       const cr_match_record_t *b);

/* The values of field f of rec as the evidence shows them ("" when the
 * record has none): names, phones and postal codes joined by "; ", the
 * birth date as YYYY[-MM[-DD]], the sex as male/female/other, an address
 * as "house street, city". */
const char *cr_match_evidence_value(apr_pool_t *pool,
                                    const cr_match_record_t *rec, int f);

#endif /* CR_MATCH_EVIDENCE_H */
