/* cr_store: persistence of patients, their versions, identifiers and
 * index keys, and PHN allocation.
 *
 * Writers call these inside one transaction opened with cr_db_begin: the
 * patient row, its version row, its identifiers and its index keys are
 * written together or not at all.  Readers call them without a
 * transaction.  Nothing here logs or chooses HTTP statuses: results are
 * apr_status_t values documented in cr_db.h.
 */
#ifndef CR_STORE_H
#define CR_STORE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_model.h"

/* One stored version of a patient. */
typedef struct cr_stored_t {
    const char *id;
    apr_int64_t version;
    const char *last_updated;   /* FHIR instant */
    const char *resource;       /* JSON text */
    const char *phn;            /* current PHN (current row only) */
    int active;
    const char *replaced_by;    /* survivor id after a merge, or NULL */
    const char *operation;      /* version rows: what wrote it */
} cr_stored_t;

/* Provenance of a write. */
typedef struct cr_write_t {
    const char *operation;      /* "create", "update", ... */
    const cr_caller_t *caller;
    const char *message_id;
    const char *now;            /* FHIR instant of the write */
} cr_write_t;

/* The schema migrations this build needs, ascending, 0-terminated. */
extern const int cr_store_schema_required[];

/* The highest recorded schema version (0 when the table is missing or
 * empty); *exact (may be NULL) is set when the recorded migrations are
 * exactly cr_store_schema_required. */
apr_status_t cr_store_schema_version(int *out, int *exact, cr_db_t *db,
                                     apr_pool_t *pool);

/* Current version of patient id, or APR_NOTFOUND. */
apr_status_t cr_store_patient_get(cr_stored_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *id);

/* Current version of the patient whose current PHN is phn. */
apr_status_t cr_store_patient_get_by_phn(cr_stored_t **out, cr_db_t *db,
                                         apr_pool_t *pool, const char *phn);

/* Version vid of patient id, or APR_NOTFOUND. */
apr_status_t cr_store_version_get(cr_stored_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *id,
                                  apr_int64_t vid);

/* Versions of patient id, newest first: at most count from offset.
 * *total receives the number of versions. */
apr_status_t cr_store_history(apr_array_header_t **out, int *total,
                              cr_db_t *db, apr_pool_t *pool, const char *id,
                              int count, int offset);

/* Who holds identifier (system, value): *patient_id (NULL if nobody). */
apr_status_t cr_store_identifier_owner(const char **patient_id,
                                       cr_db_t *db, apr_pool_t *pool,
                                       const char *system,
                                       const char *value);

/* Allocate the next unused PHN within range (inside the write
 * transaction).  CR_DB_EXHAUSTED when the range is used up. */
apr_status_t cr_store_phn_allocate(char phn[11], cr_db_t *db,
                                   apr_pool_t *pool,
                                   const cr_phn_range_t *range);

/* The PHN of body into phn, and *held = 1 when it belongs to a person
 * already (under the PHN system or as a legacy system's current PHN). */
apr_status_t cr_store_phn_held(int *held, char phn[11], cr_db_t *db,
                               apr_pool_t *pool, apr_int64_t body);

/* Insert a new patient at version 1 (resource is the final JSON text,
 * with id and meta already set). */
apr_status_t cr_store_patient_insert(cr_db_t *db, apr_pool_t *pool,
                                     const cr_patient_t *p,
                                     const char *resource,
                                     const cr_index_t *ix,
                                     const cr_write_t *w);

/* Write version `version` of an existing patient whose current version
 * must still be version - 1 (CR_DB_CONFLICT otherwise). */
apr_status_t cr_store_patient_update(cr_db_t *db, apr_pool_t *pool,
                                     const cr_patient_t *p,
                                     apr_int64_t version,
                                     const char *resource,
                                     const cr_index_t *ix,
                                     const cr_write_t *w);

#endif /* CR_STORE_H */
