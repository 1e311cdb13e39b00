/* cr_store_query: the reads of the BC query operations (FindCandidates,
 * GetDemographics, the BC RESTful reads) and the two derived facts they
 * need written with every version: the patient's masked flag and the
 * mother's-PHN key of a newborn.
 *
 * A newborn's mother is recorded in the baby's Patient as a contained
 * RelatedPerson with relationship v3-RoleCode#NMTH holding the mother's
 * PHN (the IG's G5 RESTful newborn and NEWBORN distribution form);
 * cr_store_query_write indexes it as cr_search_index kind "mother-phn" so
 * that a search by mother's PHN finds her babies with one index look-up.
 *
 * Every multi-row read is bounded by the caller's limit; no function
 * logs or picks an HTTP status (results as in cr_db.h).
 */
#ifndef CR_STORE_QUERY_H
#define CR_STORE_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "store/cr_store.h"

#define CR_IDX_MOTHER_PHN "mother-phn"

/* A current patient row. */
typedef struct cr_query_row_t {
    cr_stored_t s;             /* id, version, last_updated, resource, phn,
                                  active, replaced_by */
    int masked;
    const char *created;
} cr_query_row_t;

/* Inside a write transaction, after the patient row and its keys were
 * written: store p's masked flag and its mother-PHN key.  Called by
 * cr_store_patient_insert/update. */
apr_status_t cr_store_query_write(cr_db_t *db, apr_pool_t *pool,
                                  const cr_patient_t *p);

/* The mother's PHN recorded in p (contained RelatedPerson, NMTH), or
 * NULL. */
const char *cr_store_query_mother_phn(const cr_patient_t *p);

/* The current row of patient id, or APR_NOTFOUND. */
apr_status_t cr_store_query_get(cr_query_row_t **out, cr_db_t *db,
                                apr_pool_t *pool, const char *id);

/* Who holds identifier (system, value) and with which status ("active" |
 * "merged"); APR_NOTFOUND when nobody does. */
apr_status_t cr_store_query_identifier(const char **patient_id,
                                       const char **status, cr_db_t *db,
                                       apr_pool_t *pool, const char *system,
                                       const char *value);

/* The identifier rows of patient id (of cr_view_identifier_t), at most
 * max. */
apr_status_t cr_store_query_identifiers(apr_array_header_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *id, int max);

/* The newest max versions of patient id, oldest first (of
 * cr_view_version_t, resources parsed into pool).  *truncated is set when
 * older versions exist. */
apr_status_t cr_store_query_versions(apr_array_header_t **out,
                                     int *truncated, cr_db_t *db,
                                     apr_pool_t *pool, const char *id,
                                     int max);

/* Patients holding the index key (kind, value): their ids appended to
 * ids (of const char *) unless already in seen, at most limit. */
apr_status_t cr_store_query_by_key(apr_array_header_t *ids, apr_hash_t *seen,
                                   cr_db_t *db, apr_pool_t *pool,
                                   const char *kind, const char *value,
                                   int limit);

#endif /* CR_STORE_QUERY_H */
