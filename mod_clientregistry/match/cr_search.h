/* cr_search: FHIR search parameters for Patient -> a search specification,
 * and the matching rules applied to one candidate.  No SQL here: the store
 * (cr_store_search) picks index look-ups for a specification and uses
 * cr_search_matches to filter the candidates they return.
 *
 * Supported: _id, identifier (system|value, value, system|, |value),
 * family, given, name (starts-with, case- and accent-insensitive),
 * birthdate (prefixes eq ne lt gt le ge sa eb ap), gender, phone, email,
 * address-postalcode (starts-with); comma-separated values are OR'ed,
 * repeated parameters AND'ed; _count, _offset, _total, _format.  Modifiers
 * are refused.  Unknown parameters are errors unless lenient.
 */
#ifndef CR_SEARCH_H
#define CR_SEARCH_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_hash.h>

#include "core/cr_outcome.h"

typedef enum {
    CR_SP_ID = 0,
    CR_SP_IDENTIFIER,
    CR_SP_PHONE,
    CR_SP_EMAIL,
    CR_SP_FAMILY,
    CR_SP_GIVEN,
    CR_SP_NAME,
    CR_SP_POSTAL,
    CR_SP_BIRTHDATE,
    CR_SP_GENDER
} cr_sp_e;

typedef enum {
    CR_PFX_EQ = 0, CR_PFX_NE, CR_PFX_LT, CR_PFX_GT, CR_PFX_LE, CR_PFX_GE,
    CR_PFX_SA, CR_PFX_EB, CR_PFX_AP
} cr_prefix_e;

typedef struct cr_search_value_t {
    const char *raw;        /* decoded value as sent */
    const char *system;     /* identifier: system or NULL (any) */
    const char *term;       /* identifier value, normalized string, code */
    cr_prefix_e prefix;     /* birthdate */
    char lo[11];            /* birthdate: inclusive day range */
    char hi[11];
} cr_search_value_t;

typedef struct cr_search_clause_t {
    cr_sp_e param;
    const char *name;             /* parameter name as sent */
    const char *index_kind;       /* cr_index kind for string/token params */
    apr_array_header_t *values;   /* of cr_search_value_t, OR'ed */
} cr_search_clause_t;

typedef struct cr_search_limits_t {
    int max_params;         /* parameters in one query string */
    int max_values;         /* comma-separated values in one parameter */
    int default_count;      /* page size when _count is absent */
    int max_count;          /* largest _count honoured */
    int max_candidates;     /* rows one index look-up may return */
} cr_search_limits_t;

typedef struct cr_search_spec_t {
    apr_array_header_t *clauses;  /* of cr_search_clause_t, AND'ed */
    int count;
    int offset;
    int total_none;               /* _total=none */
    const char *canonical_query;  /* the applied parameters, re-encoded */
} cr_search_spec_t;

/* What a candidate offers for matching. */
typedef struct cr_search_target_t {
    const char *id;
    const char *gender;
    const char *birth_lo;
    const char *birth_hi;
    apr_hash_t *keys;      /* "kind|value" -> non-NULL, from the index */
    apr_array_header_t *key_list;  /* of const char * "kind|value" */
    apr_array_header_t *identifiers; /* of const char * "system|value" */
} cr_search_target_t;

/* Parse a raw (still percent-encoded) query string.  Problems go to oc
 * (code "not-supported" for unknown parameters and modifiers, "value" or
 * "invalid" for bad values); unknown parameters are only warnings when
 * lenient.  Returns APR_EINVAL when an error was recorded. */
apr_status_t cr_search_parse(cr_search_spec_t **out, apr_pool_t *pool,
                             const char *query, int lenient,
                             const cr_search_limits_t *lim,
                             cr_outcome_t *oc);

/* The i-th supported search parameter (0-based): its name and FHIR type.
 * Returns 0 past the end.  The CapabilityStatement is built from this. */
int cr_search_param_info(int i, const char **name, const char **type);

/* Does target satisfy every clause of spec? */
int cr_search_matches(const cr_search_spec_t *spec,
                      const cr_search_target_t *t);

/* Does target satisfy clause c? */
int cr_search_clause_matches(const cr_search_clause_t *c,
                             const cr_search_target_t *t);

/* The range of birth_date (a target's low day) that can hold a match for
 * birthdate value v: the store's index look-up for this value. */
void cr_search_birth_driver_range(char lo[11], char hi[11],
                                  const cr_search_value_t *v);

#endif /* CR_SEARCH_H */
