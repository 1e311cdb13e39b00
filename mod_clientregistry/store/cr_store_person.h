/* cr_store_person: the storage half of writing a person.
 *
 * A person is more than its patient row: a version row, its identifiers
 * (each held by one person only), search index rows and match keys
 * (cr_store.c), the source records its demographics come from and the
 * registry's own record among them (cr_store_source.c), merge events,
 * the replaced-by pointer of a merged-away person and the status of the
 * identifiers it gave up.  This file owns the verbs that touch those
 * rows together, so that no service runs a statement of the catalogue
 * and the sequence "set id and meta, build the index, serialise, write
 * the version" exists once.  It is pure storage over the core's model
 * (no matcher, no audit, no settings): the recipe that adds duplicate
 * detection and the audit record is ops/cr_person.c, the registry over
 * this store (as mod_md's md_reg.c is over md_store.c).
 *
 * Writers call these inside the transaction opened with cr_db_begin.
 * Nothing logs or picks an HTTP status; results as in cr_db.h.
 */
#ifndef CR_STORE_PERSON_H
#define CR_STORE_PERSON_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "core/cr_model.h"
#include "fhir/cr_fhir_patient.h"
#include "store/cr_db.h"
#include "store/cr_store.h"
#include "store/cr_store_source.h"

/* Write p as version `version` of person id: p's id and meta are set
 * (w->now), its index (search rows, match record, blocking keys) built
 * and its resource serialised; then the patient row is inserted (version
 * 1) or updated from version - 1 (CR_DB_CONFLICT when another writer got
 * there first), with its version row, identifiers and index rows.  The
 * identifiers registered are p->identifiers (empty them to register
 * none). */
apr_status_t cr_store_person_write(cr_db_t *db, apr_pool_t *pool,
                                   cr_patient_t *p, const char *id,
                                   apr_int64_t version,
                                   const cr_write_t *w);

/* A Patient without a PHN gets the next free PHN of range, added to its
 * identifiers as of now; nothing happens when it has one.  CR_DB_EXHAUSTED
 * when the range is used up. */
apr_status_t cr_store_person_assign_phn(cr_db_t *db, apr_pool_t *pool,
                                        cr_patient_t *p,
                                        const cr_phn_range_t *range,
                                        const char *now);

/* Identifier uniqueness (CR-ADD-006): *taken is the index in
 * p->identifiers of the first identifier at or after from that a person
 * other than self (NULL: any person) holds, or -1 when all are free.
 * Identifiers without a value are skipped. */
apr_status_t cr_store_person_identifier_taken(int *taken, cr_db_t *db,
                                              apr_pool_t *pool,
                                              const cr_patient_t *p,
                                              const char *self, int from);

/* The identifiers among attrs (of cr_compattr_t, person id's current
 * attributes) that come from merged source records get the identifier
 * status "merged" (after the person's version was written). */
apr_status_t cr_store_person_mark_merged(cr_db_t *db, apr_pool_t *pool,
                                         const char *id,
                                         const apr_array_header_t *attrs);

/* A person written before source records existed (a RESTful create or
 * update) gets the registry's own record, holding its current resource
 * as attributes, so that rebuilding it from source records loses
 * nothing.  The attributes are the registry's (no user) with prov's
 * organisation, message id and time.  Nothing to do when the record
 * exists. */
apr_status_t cr_store_person_ensure_records(cr_db_t *db, apr_pool_t *pool,
                                            const char *id,
                                            const cr_attr_prov_t *prov);

/* After a RESTful update of person p (already written): when the person
 * has source records, p's content becomes the registry's own record
 * (created if need be; attributes p leaves out are ended there), so that
 * the next rebuild keeps what was PUT.  prov: the registry's provenance
 * of the update. */
apr_status_t cr_store_person_keep_in_sources(cr_db_t *db, apr_pool_t *pool,
                                             const cr_patient_t *p,
                                             const cr_attr_prov_t *prov);

/* Person id was merged into survivor (NULL: the merge was undone). */
apr_status_t cr_store_person_set_replaced_by(cr_db_t *db, apr_pool_t *pool,
                                             const char *id,
                                             const char *survivor);

/* One merge of a non-survivor (by one of its identifiers) into a
 * survivor. */
typedef struct cr_merge_event_t {
    const char *id;
    const char *survivor_id;
    const char *nonsurvivor_id;
    apr_int64_t nonsurvivor_version;   /* its version before the merge */
    const char *ns_system, *ns_value;  /* the identifier it was named by */
} cr_merge_event_t;

/* Record merge e (status merged) at now, for message_id. */
apr_status_t cr_store_person_merge_insert(cr_db_t *db, apr_pool_t *pool,
                                          const cr_merge_event_t *e,
                                          const char *now,
                                          const char *message_id);

/* The latest merge still in force of the non-survivor named by (system,
 * value); APR_NOTFOUND if none. */
apr_status_t cr_store_person_merge_find(cr_merge_event_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *system,
                                        const char *value);

/* Merge id is undone (status unmerged) at now. */
apr_status_t cr_store_person_merge_undo(cr_db_t *db, apr_pool_t *pool,
                                        const char *id, const char *now);

#endif /* CR_STORE_PERSON_H */
