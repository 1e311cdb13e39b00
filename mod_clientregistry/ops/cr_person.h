/* cr_person: the one recipe that writes a person, the registry over the
 * store (as mod_md's md_reg.c is over md_store.c).
 *
 * Every write of a patient -- the RESTful create and update, the
 * maintenance operations (AddPatient, RevisePatient, MergePatient and
 * unmerge, the partial updates) and cr-admin load -- goes through here
 * inside its transaction: identifier uniqueness, a PHN when one is to be
 * assigned, the new version (id and meta, serialisation, version row,
 * identifiers, search index, match keys), its change-notification events
 * (fhir/cr_events.h, docs/notifications.md), the person's source records
 * where the path keeps them, duplicate detection where the path asks for
 * it, and the audit record last, in the same transaction.  The writers
 * differ today, and those differences are options here rather than
 * copies of the recipe: which operation and message id the version
 * records, whether potential duplicates are recorded (a create, an update
 * and a RevisePatient that creates; not an AddPatient, which is a force
 * create, CR-ADD-017, not a merge, not cr-admin load), whether a RESTful
 * update is carried into the source records.
 *
 * It lives in ops/ because it needs two services besides the store: the
 * matcher (cr_ops_match_record_duplicates) and the audit trail
 * (cr_audit_in_txn).  The parts that are pure storage are
 * store/cr_store_person.c; callers use this file, not those verbs, so the
 * recipe exists once.  Results as in cr_db.h; nothing here logs, answers
 * or rolls back: the caller reports a failure (cr_service_db_failure)
 * and its transaction is rolled back by it.
 */
#ifndef CR_PERSON_H
#define CR_PERSON_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "fhir/cr_fhir_patient.h"
#include "ops/cr_service.h"
#include "store/cr_store_source.h"

/* How a version is written: what the writers do differently. */
typedef struct cr_person_how_t {
    const char *operation;    /* recorded with the version ("create",
                                 "update", "add", "revise", "merge",
                                 "unmerge", "partial-update") */
    const char *message_id;   /* recorded with the version */
    const char *duplicates;   /* NULL: no duplicate detection; otherwise
                                 the potential duplicates of the person
                                 written are recorded for review as found
                                 by this operation */
    int keep_in_sources;      /* a RESTful update: the content becomes the
                                 registry's own source record when the
                                 person has source records */
} cr_person_how_t;

/* A source record as a maintenance operation delivers it. */
typedef struct cr_person_record_t {
    const char *sri_system;   /* its source record identifier */
    const char *sri_value;
    const apr_array_header_t *snap;   /* its attributes (cr_snapattr_t) */
    const char *snapshot;     /* the resource as sent (JSON text) */
} cr_person_record_t;

/* Identifier uniqueness, inside the transaction: *taken is the index in
 * p->identifiers of the first identifier at or after from held by a
 * person other than self (NULL: by anybody), -1 when all are free. */
apr_status_t cr_person_identifier_taken(int *taken, cr_ctx_t *ctx,
                                        const cr_patient_t *p,
                                        const char *self, int from);

/* p without a PHN gets the next one of range (the RESTful create,
 * cr-admin load); nothing happens when it has one.  CR_DB_EXHAUSTED when
 * the range is used up. */
apr_status_t cr_person_assign_phn(cr_ctx_t *ctx, cr_patient_t *p,
                                  const cr_phn_range_t *range);

/* Write p as version `version` (1: a new person) of person id, as how
 * says: the version with ctx->caller and ctx->now_instant, then the
 * source records (how->keep_in_sources), then the duplicates
 * (how->duplicates; *recorded, may be NULL, receives how many pairs were
 * recorded).  Uses ctx->db and ctx->pool (and ctx->settings only for
 * duplicate detection). */
apr_status_t cr_person_write(int *recorded, cr_ctx_t *ctx, cr_patient_t *p,
                             const char *id, apr_int64_t version,
                             const cr_person_how_t *how);

/* The maintenance operations' write of a resource they built or edited:
 * json is parsed as a Patient (ctx->settings->fhir, ctx->today;
 * APR_EGENERAL when it does not parse), its identifiers are dropped when
 * keep_ids is 0 (a merged-away person gives them up), and it is written
 * with cr_person_write.  *out (may be NULL) receives the Patient. */
apr_status_t cr_person_write_json(cr_patient_t **out, cr_ctx_t *ctx,
                                  json_object *json, const char *id,
                                  apr_int64_t version, int keep_ids,
                                  const cr_person_how_t *how);

/* Rebuild person id from the current attributes of its source records
 * (the composite record) as version `version`; identifiers of merged
 * source records are then marked merged. */
apr_status_t cr_person_rebuild(cr_patient_t **out, cr_ctx_t *ctx,
                               const char *id, apr_int64_t version,
                               const cr_person_how_t *how);

/* A new person id from a maintenance operation's source record rec: a
 * new PHN (or the purported one, not NULL) in the registry's own record,
 * the version built from both records, then the two source records
 * (prov: who supplies rec; a NULL source system is stored as "UNKNOWN"
 * on the record), then the duplicates if how asks (*recorded). */
apr_status_t cr_person_create(int *recorded, cr_patient_t **out,
                              cr_ctx_t *ctx, const char *id,
                              const char *purported_phn,
                              const cr_person_record_t *rec,
                              const cr_attr_prov_t *prov,
                              const cr_person_how_t *how);

/* A person written before source records existed (RESTful create and
 * update) gets the registry's own record holding its current resource,
 * so that rebuilding it loses nothing (prov: the operation's provenance;
 * the attributes are recorded as the registry's). */
apr_status_t cr_person_ensure_records(cr_ctx_t *ctx, const char *id,
                                      const cr_attr_prov_t *prov);

/* The last step inside the transaction: the audit record of the write
 * (operation, action, HTTP status, the patients written, space
 * separated), then ctx->before_commit if set (the async worker marks its
 * job executed there). */
apr_status_t cr_person_audit(cr_ctx_t *ctx, const char *operation,
                             const char *action, int status,
                             const char *patients);

/* Commit; once committed the response is marked audited. */
apr_status_t cr_person_commit(cr_ctx_t *ctx);

#endif /* CR_PERSON_H */
