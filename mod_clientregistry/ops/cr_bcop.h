/* cr_bcop: the frame of one BC Client Registry operation request
 * (operations.md 0.4), shared by the query operations (FindCandidates,
 * GetDemographics, the BC RESTful forms) and the maintenance operations
 * (Add, Revise, Merge, Partial update, the .Async forms).
 *
 * A BC operation reads the request Bundle (cr_fhir_envelope), answers
 * with one response Bundle (MetadataParametersOut, OperationOutcome,
 * results) whose HTTP status is also sent on errors (CR-GEN-009), and
 * fills the same MetadataParametersOut (D-05, D-20).  This file owns that
 * frame, so that each operation file reads top-down as "open, check,
 * (begin, write, commit), answer":
 *
 *   cr_bcop_t f;
 *   cr_bcop_init(&f, ctx, CR_BC_TXN_RP, "AddPatient", profile);
 *   if (!cr_bcop_open(&f, body, &rules, 1)) return;   (answered)
 *   ...
 *   cr_bcop_finish(&f, 201);
 *
 * It is also the frame a BC maintenance operation (ops/cr_op_add.c,
 * cr_op_revise.c, cr_op_merge.c, cr_op_partial.c) is written in: open,
 * check (cr_bcop_check_patient), write through ops/cr_person
 * (cr_bcop_create_person, cr_bcop_rebuild, cr_bcop_store), answer
 * (cr_bcop_respond_patient, cr_bcop_finish).  Nothing here holds SQL; it
 * reads through store verbs, and cr_bcop_commit ends a maintenance
 * transaction with its audit record.
 */
#ifndef CR_BCOP_H
#define CR_BCOP_H

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_envelope.h"
#include "ops/cr_service.h"
#include "store/cr_store_source.h"

/* At most this many identifier rows in an answered Patient. */
#define CR_BCOP_MAX_IDENTIFIER_ROWS 200

typedef struct cr_bcop_t {
    cr_ctx_t *ctx;
    cr_bc_txn_e txn;
    const char *op;            /* operation name ("AddPatient") or NULL */
    const char *type;          /* response Bundle.type */
    const char *profile;       /* response Bundle profile */
    cr_envelope_meta_t meta;   /* the response's MetadataParametersOut */
    cr_envelope_in_t *in;      /* the request, once opened */
    /* The answer. */
    const char *link_self, *link_next, *link_previous, *link_canonical;
    int total;                 /* searchset total; -1: the matches sent */
    apr_array_header_t *results;   /* of cr_envelope_result_t */
    json_object *patient;      /* a maintenance answer's Patient, or NULL */
    const char *patients;      /* ids read or written, for the audit */
    /* Query flags (effective values). */
    int history;
    int identifiers_only;
    int rest;                  /* RESTful form: unknown id is a 404 */
    /* Maintenance: who supplies what is written. */
    cr_attr_prov_t prov;
    /* An operation answering with something other than the BC Bundle
     * ($merge: Parameters) sets this; cr_bcop_finish calls it instead. */
    void (*reply)(struct cr_bcop_t *f, int status);
    void *baton;               /* reply's own data */
} cr_bcop_t;

/* A maintenance operation answered with a collection Bundle of profile
 * (the Patient written, if any); op names the canonical link. */
void cr_bcop_init(cr_bcop_t *f, cr_ctx_t *ctx, cr_bc_txn_e txn,
                  const char *op, const char *profile);

/* A query answered with a SearchResponseBundle; op (may be NULL) names
 * the canonical link. */
void cr_bcop_init_search(cr_bcop_t *f, cr_ctx_t *ctx, cr_bc_txn_e txn,
                         const char *op);

/* Take the request's message id, sender and flags (D-04) from in. */
void cr_bcop_from_envelope(cr_bcop_t *f, const cr_envelope_in_t *in);

/* A query's request: read body against rules into f->in and echo it; 1,
 * or 0 when the request was answered (its problems, 400/422). */
int cr_bcop_open_search(cr_bcop_t *f, json_object *body,
                        const cr_envelope_rules_t *rules);

/* A maintenance request: If-Match shape, the envelope, the sender
 * (issue 7: a sender that is not the authenticated organisation is
 * refused), the enterer and, when need_user, a user id; sets f->prov.  1,
 * or 0 when the request was answered. */
int cr_bcop_open(cr_bcop_t *f, json_object *body,
                 const cr_envelope_rules_t *rules, int need_user);

/* A maintenance request whose Parameters the operation read into f->in
 * itself (the G2 $PartialRevisePatient): the If-Match shape, the sender
 * against the authenticated organisation (403), the enterer (UserId,
 * else enterer) and, when need_user, a user id (400), refused at expr;
 * sets f->prov.  1, or 0 when the request was answered. */
int cr_bcop_open_in(cr_bcop_t *f, const char *enterer, const char *expr,
                    int need_user);

/* A maintenance request without the BC envelope ($merge): the If-Match
 * shape, the enterer from the caller (UserId) and, when need_user, a user
 * id; the message id is the Request-Id header's (else the registry's
 * own).  With a Request-Id, f->in holds it as the messageId, so that
 * cr_idem_begin makes the request idempotent.  Sets f->prov.  1, or 0
 * when the request was answered. */
int cr_bcop_open_plain(cr_bcop_t *f, int need_user);

/* Send the response Bundle with HTTP status (results only below 400). */
void cr_bcop_finish(cr_bcop_t *f, int status);

/* Finish with the status the recorded errors call for. */
void cr_bcop_finish_errors(cr_bcop_t *f);

/* Record msg (its table severity, issue code, detail code of f's
 * transaction and text) at expr (may be NULL). */
void cr_bcop_issue(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr);

/* Record msg and finish with status. */
void cr_bcop_reject(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr,
                    int status);

/* Inside a transaction: roll it back, record msg and finish with
 * status. */
void cr_bcop_abort(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr,
                   int status);

/* A store failure: rolled back, recorded and answered with the status
 * cr_service_db_failure chose (500 when it chose none). */
void cr_bcop_db_fail(cr_bcop_t *f, apr_status_t rv, const char *what);

/* Record a patient id read or written (the audit trail). */
void cr_bcop_note_patient(cr_bcop_t *f, const char *id);

/* Append a result entry. */
void cr_bcop_add_result(cr_bcop_t *f, const char *full_url,
                        json_object *resource, const char *mode,
                        int has_score, int score);

/* [base]/Patient/{id}. */
const char *cr_bcop_patient_url(cr_ctx_t *ctx, const char *id);

/* True unless If-Match names a version other than current. */
int cr_bcop_version_ok(const cr_bcop_t *f, apr_int64_t current);

/* End the transaction: the audit record of op (action C/U/E, status),
 * the before-commit hook, the commit. */
apr_status_t cr_bcop_commit(cr_bcop_t *f, const char *op,
                            const char *action, int status);

/* A source system code from an identifier's source ("moh-crs" ->
 * "MOH_CRS"). */
const char *cr_bcop_source_system(apr_pool_t *pool, const char *source);

/* ---- the frame of a maintenance operation ------------------------------ */

/* The checks Add and Revise share on the request Patient e, before the
 * transaction: PHN check digits and SRI characters of its identifiers
 * (rules 3 and 1), the Patient profile, the names and the minimum data
 * set (a PHN, or the mother's mother_phn, may stand in).  The parsed
 * Patient, or NULL when the request was answered (422, or the profile's
 * errors). */
cr_patient_t *cr_bcop_check_patient(cr_bcop_t *f,
                                    const cr_envelope_entry_t *e,
                                    const char *mother_phn);

/* Inside the transaction: *v the current version of person pid (0 when
 * there is none). */
apr_status_t cr_bcop_current_version(apr_int64_t *v, cr_bcop_t *f,
                                     const char *pid);

/* Inside the transaction: 1 when every identifier of p is free or
 * already self's (self NULL: nobody's); else 0 after answering and
 * rolling back: the store failure, or CR_BC_RP_DUPLICATE at
 * expr.identifier (CR-ADD-006: an identifier belongs to one client). */
int cr_bcop_identifiers_free(cr_bcop_t *f, const cr_patient_t *p,
                             const char *self, const char *expr);

/* The writes below go through ops/cr_person.c as versions of operation
 * ("add", "revise", "merge", ...) with the request's message id, and
 * record the person written (cr_bcop_note_patient). */

/* Store resource json as version `version` of person id (1 = new); when
 * keep_ids is 0 its identifiers are not registered (a merged-away
 * record).  *out (out may be NULL) the person written. */
apr_status_t cr_bcop_store(cr_bcop_t *f, json_object *json, const char *id,
                           apr_int64_t version, const char *operation,
                           int keep_ids, cr_patient_t **out);

/* Rebuild person id from its current attributes as version `version`. */
apr_status_t cr_bcop_rebuild(cr_bcop_t *f, const char *id,
                             apr_int64_t version, const char *operation,
                             cr_patient_t **out);

/* Create person id with a new (or the purported) PHN, its registry
 * record and the source record of the request (sri_system/sri_value,
 * the attributes snap, the request Patient snapshot); duplicates names
 * the operation recording potential duplicates (NULL: none), *review
 * how many were recorded (review may be NULL). */
apr_status_t cr_bcop_create_person(cr_bcop_t *f, const char *id,
                                   const char *purported,
                                   const char *sri_system,
                                   const char *sri_value,
                                   apr_array_header_t *snap,
                                   const char *snapshot,
                                   const char *duplicates, int *review,
                                   cr_patient_t **out);

/* A person written before source records existed (the RESTful create
 * and update) gets its registry record (cr_person_ensure_records). */
apr_status_t cr_bcop_ensure_records(cr_bcop_t *f, const char *pid);

/* After the commit: the answer's Patient (f->patient), the composite
 * view of p as committed, with its identifiers. */
void cr_bcop_respond_patient(cr_bcop_t *f, const cr_patient_t *p);

/* The end of a revise of one client, its changes written under f's
 * transaction: rebuild person pid as `version` (recorded as `operation`),
 * commit it as op's update, and answer 200 RP processed with the stored
 * Patient; a store failure answers as cr_bcop_db_fail(f, rv, what). */
void cr_bcop_revise_and_answer(cr_bcop_t *f, const char *pid,
                               apr_int64_t version, const char *operation,
                               const char *op, const char *what);

#endif /* CR_BCOP_H */
