/* cr_store_source: source records and their attributes
 * (schema/003_source_records.sql), for the maintenance operations.
 *
 * Called inside the write transaction of the operation.  Attributes are
 * inserted or ended (period_end), never changed otherwise.  Nothing logs
 * or picks an HTTP status; results as in cr_db.h.
 */
#ifndef CR_STORE_SOURCE_H
#define CR_STORE_SOURCE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "core/cr_canon.h"
#include "fhir/cr_composite.h"
#include "store/cr_db.h"

/* The registry's own source system code (core/cr_canon.h), under the
 * name the services use. */
#define CR_SOURCE_REGISTRY CR_REGISTRY_CODE
/* Bound on source records of one person. */
#define CR_SOURCE_MAX_RECORDS 200

typedef struct cr_source_rec_t {
    const char *id;
    const char *patient_id;
    const char *source_system;
    const char *status;        /* active | merged */
    apr_int64_t version;
    const char *snapshot;
    const char *merge_id;
} cr_source_rec_t;

/* Who supplies attributes, and when. */
typedef struct cr_attr_prov_t {
    const char *source_system;
    const char *org_id;
    const char *user_id;
    const char *message_id;
    const char *now;           /* FHIR instant */
} cr_attr_prov_t;

/* The source record with SRI (system, value), APR_NOTFOUND if none. */
apr_status_t cr_store_source_find(cr_source_rec_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *system,
                                  const char *value);

/* The source record id, APR_NOTFOUND if none. */
apr_status_t cr_store_source_get(cr_source_rec_t **out, cr_db_t *db,
                                 apr_pool_t *pool, const char *id);

/* The registry's own record of patient_id ("reg:" + id). */
const char *cr_store_source_registry_id(apr_pool_t *pool,
                                        const char *patient_id);

apr_status_t cr_store_source_insert(cr_db_t *db, apr_pool_t *pool,
                                    const char *id, const char *patient_id,
                                    const char *source_system,
                                    const char *sri_system,
                                    const char *sri_value,
                                    const char *snapshot, const char *now);

/* New version of a source record's snapshot. */
apr_status_t cr_store_source_touch(cr_db_t *db, apr_pool_t *pool,
                                   const char *id, const char *snapshot,
                                   const char *now);

/* Make source record id's current attributes equal snap (of
 * cr_snapattr_t): values no longer sent are ended at end_date, new ones
 * inserted with prov.  *changed counts both. */
apr_status_t cr_store_source_apply(int *changed, cr_db_t *db,
                                   apr_pool_t *pool, const char *id,
                                   const char *patient_id,
                                   const apr_array_header_t *snap,
                                   const char *end_date,
                                   const cr_attr_prov_t *prov);

/* Insert one attribute. */
apr_status_t cr_store_source_add(cr_db_t *db, apr_pool_t *pool,
                                 const char *id, const char *patient_id,
                                 const cr_snapattr_t *a,
                                 const cr_attr_prov_t *prov);

/* End the current attributes of kind in record id (all of them when
 * kind is NULL). */
apr_status_t cr_store_source_end_kind(cr_db_t *db, apr_pool_t *pool,
                                      const char *id, const char *kind,
                                      const char *end_date,
                                      const char *now);

/* One current attribute of a source record. */
typedef struct cr_source_attr_t {
    const char *id;
    const char *kind;
    const char *value;
} cr_source_attr_t;

/* The current attributes of source record id (of cr_source_attr_t). */
apr_status_t cr_store_source_current(apr_array_header_t **out, cr_db_t *db,
                                     apr_pool_t *pool, const char *id);

/* End attribute attr_id at end_date. */
apr_status_t cr_store_source_end(cr_db_t *db, apr_pool_t *pool,
                                 const char *attr_id, const char *end_date,
                                 const char *now);

/* End the current attribute (kind, value) of record id at end_date
 * (a merge's link, when the merge is undone). */
apr_status_t cr_store_source_end_value(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *kind,
                                       const char *value,
                                       const char *end_date,
                                       const char *now);

/* The current attributes of patient_id's source records (of
 * cr_compattr_t). */
apr_status_t cr_store_source_attrs(apr_array_header_t **out, cr_db_t *db,
                                   apr_pool_t *pool,
                                   const char *patient_id);

/* The ids (of const char *) of patient_id's source records, oldest
 * first, at most CR_SOURCE_MAX_RECORDS. */
apr_status_t cr_store_source_list_patient(apr_array_header_t **out,
                                          cr_db_t *db, apr_pool_t *pool,
                                          const char *patient_id);

/* The ids (of const char *) of the source records merge merge_id moved,
 * at most CR_SOURCE_MAX_RECORDS. */
apr_status_t cr_store_source_list_merge(apr_array_header_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *merge_id);

/* Move record id to patient_id with status and merge_id (NULL). */
apr_status_t cr_store_source_move(cr_db_t *db, apr_pool_t *pool,
                                  const char *id, const char *patient_id,
                                  const char *status, const char *merge_id,
                                  const char *now);

#endif /* CR_STORE_SOURCE_H */
