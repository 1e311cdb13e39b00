/* cr_index: the search and matching keys of one patient, derived from its
 * model.  The store writes them in the same transaction as the patient
 * version, so searches never see a patient without its keys.  Every value
 * is normalized by cr_normalize; a search term normalized by
 * cr_index_normalize_term compares equal (or as a prefix) to them. */
#ifndef CR_INDEX_H
#define CR_INDEX_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "core/cr_model.h"

/* Kinds of key (cr_search_index.kind). */
#define CR_IDX_FAMILY "family"
#define CR_IDX_GIVEN "given"
#define CR_IDX_NAME "name"
#define CR_IDX_PHONE "phone"
#define CR_IDX_EMAIL "email"
#define CR_IDX_POSTAL "postal"

/* Bound on keys per patient: a hostile resource with many names cannot
 * write an unbounded number of rows.  The matcher's rows (kinds "bk:...",
 * see cr_match.h) come on top, bounded by CR_MATCH_MAX_KEYS + 1. */
#define CR_INDEX_MAX_ROWS 400

typedef struct cr_index_row_t {
    const char *kind;
    const char *value;
} cr_index_row_t;

typedef struct cr_index_t {
    apr_array_header_t *rows;  /* of cr_index_row_t, no duplicates */
    const char *gender;        /* or NULL */
    const char *birth_lo;      /* 'YYYY-MM-DD' or NULL */
    const char *birth_hi;
} cr_index_t;

/* Build the keys of p (allocated from pool). */
apr_status_t cr_index_build(cr_index_t **out, apr_pool_t *pool,
                            const cr_patient_t *p);

/* Normalize a search term for comparison with keys of kind; *out is ""
 * when nothing searchable remains.  APR_EINVAL for invalid UTF-8. */
apr_status_t cr_index_normalize_term(const char **out, apr_pool_t *pool,
                                     const char *kind, const char *term);

#endif /* CR_INDEX_H */
