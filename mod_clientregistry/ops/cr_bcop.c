/* cr_bcop: the BC-operation request frame (see cr_bcop.h).
 *
 * It owns what every BC operation shares: the MetadataParametersOut of
 * the answer (D-05, D-20), reading the request envelope with the sender
 * and user checks, the response Bundle sent with its HTTP status also on
 * errors, and the end of a maintenance transaction (audit, commit).  For
 * the maintenance operations it also holds what more than one of them
 * does: the checks of the request Patient, the current version and the
 * identifier check inside the transaction, writing a person through
 * ops/cr_person and the committed Patient of the answer.  The operations
 * keep only their own rules and store calls.
 */
#include <string.h>

#include <apr_strings.h>

#include "ops/cr_audit.h"
#include "ops/cr_bcop.h"
#include "ops/cr_person.h"
#include "core/cr_phn.h"
#include "fhir/cr_fhir_rules.h"
#include "fhir/cr_fhir_view.h"
#include "store/cr_db.h"
#include "store/cr_store.h"
#include "store/cr_store_query.h"
#include "store/cr_store_pg.h"

static void frame_init(cr_bcop_t *f, cr_ctx_t *ctx, cr_bc_txn_e txn,
                       const char *op)
{
    memset(f, 0, sizeof(*f));
    f->ctx = ctx;
    f->txn = txn;
    f->op = op;
    f->total = -1;
    f->meta.message_id = cr_service_uuid(ctx->pool);    /* D-05 */
    f->meta.request_message_id = ctx->request_id;
    f->meta.history = -1;
    f->meta.identifiers_only = -1;
    /* D-20: the authenticated organisation, else the request's sender
     * (set from the envelope), else the registry itself. */
    f->meta.sender = ctx->caller ? ctx->caller->org_id : NULL;
    f->meta.enterer = ctx->caller ? ctx->caller->user_id : NULL;
    if (op) {
        f->link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                        "/Patient/$", op, NULL);
    }
}

void cr_bcop_init(cr_bcop_t *f, cr_ctx_t *ctx, cr_bc_txn_e txn,
                  const char *op, const char *profile)
{
    frame_init(f, ctx, txn, op);
    f->type = "collection";
    f->profile = profile;
}

void cr_bcop_init_search(cr_bcop_t *f, cr_ctx_t *ctx, cr_bc_txn_e txn,
                         const char *op)
{
    frame_init(f, ctx, txn, op);
    f->type = "searchset";
    f->profile = CR_ENV_PROFILE_SEARCH_RESPONSE;
    f->results = apr_array_make(ctx->pool, 4, sizeof(cr_envelope_result_t));
}

void cr_bcop_from_envelope(cr_bcop_t *f, const cr_envelope_in_t *in)
{
    f->meta.request_message_id = in->message_id;
    if (f->meta.sender == NULL) {
        f->meta.sender = in->sender;
    }
    /* D-04: the flags echoed flat, and the request's parameters. */
    f->meta.history = in->history;
    f->meta.identifiers_only = in->identifiers_only;
    f->meta.request_parameters = in->parameters;
    f->history = in->history == 1;
    f->identifiers_only = in->identifiers_only == 1;
}

int cr_bcop_open_search(cr_bcop_t *f, json_object *body,
                        const cr_envelope_rules_t *rules)
{
    apr_status_t rv = cr_fhir_envelope_parse(&f->in, f->ctx->pool, body,
                                             rules, f->ctx->oc);

    cr_bcop_from_envelope(f, f->in);
    if (rv != APR_SUCCESS) {
        cr_bcop_finish_errors(f);
        return 0;
    }
    return 1;
}

void cr_bcop_finish(cr_bcop_t *f, int status)
{
    cr_ctx_t *ctx = f->ctx;
    apr_array_header_t *results = f->results;
    cr_envelope_reply_t r;

    if (f->reply) {
        f->reply(f, status);
        return;
    }
    if (status < 400 && f->patient) {
        cr_envelope_result_t *e;
        results = results ? apr_array_copy(ctx->pool, results)
                  : apr_array_make(ctx->pool, 1,
                                   sizeof(cr_envelope_result_t));
        e = apr_array_push(results);
        memset(e, 0, sizeof(*e));
        e->full_url = cr_bcop_patient_url(
            ctx, cr_json_get_string(f->patient, "id"));
        e->resource = f->patient;
    }
    memset(&r, 0, sizeof(r));
    r.txn = f->txn;
    r.type = f->type;
    r.profile = f->profile;
    r.timestamp = ctx->now_instant;
    r.total = status < 400 ? f->total : 0;
    r.link_self = f->link_self;
    r.link_next = f->link_next;
    r.link_previous = f->link_previous;
    r.link_canonical = f->link_canonical;
    r.meta = f->meta;
    r.oc = ctx->oc;
    r.results = status < 400 ? results : NULL;
    ctx->resp.status = status;
    ctx->resp.body = cr_fhir_envelope_reply(ctx->pool, &r);
    ctx->resp.body_on_error = 1;
    ctx->resp.raw_body = NULL;
    if (f->patients && status < 400) {
        ctx->resp.patients = f->patients;
    }
}

void cr_bcop_finish_errors(cr_bcop_t *f)
{
    cr_bcop_finish(f, cr_service_status_for_errors(f->ctx->oc));
}

void cr_bcop_issue(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr)
{
    cr_bc_add(f->ctx->oc, f->txn, msg, expr, NULL);
}

void cr_bcop_reject(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr,
                    int status)
{
    cr_bcop_issue(f, msg, expr);
    cr_bcop_finish(f, status);
}

void cr_bcop_abort(cr_bcop_t *f, cr_bc_msg_e msg, const char *expr,
                   int status)
{
    cr_db_rollback(f->ctx->db);
    cr_bcop_reject(f, msg, expr, status);
}

void cr_bcop_db_fail(cr_bcop_t *f, apr_status_t rv, const char *what)
{
    cr_service_db_failure(f->ctx, rv, what);
    cr_bcop_finish(f, f->ctx->resp.status ? f->ctx->resp.status : 500);
}

void cr_bcop_note_patient(cr_bcop_t *f, const char *id)
{
    f->patients = f->patients ? apr_pstrcat(f->ctx->pool, f->patients, " ",
                                            id, NULL)
                              : id;
}

void cr_bcop_add_result(cr_bcop_t *f, const char *full_url,
                        json_object *resource, const char *mode,
                        int has_score, int score)
{
    cr_envelope_result_t *e;

    if (f->results == NULL) {
        f->results = apr_array_make(f->ctx->pool, 4,
                                    sizeof(cr_envelope_result_t));
    }
    e = apr_array_push(f->results);
    memset(e, 0, sizeof(*e));
    e->full_url = full_url;
    e->resource = resource;
    e->mode = mode;
    e->has_score = has_score;
    e->score = score;
}

const char *cr_bcop_patient_url(cr_ctx_t *ctx, const char *id)
{
    return apr_pstrcat(ctx->pool, ctx->settings->base_url, "/Patient/", id,
                       NULL);
}

/* ---- a maintenance request --------------------------------------------- */

static const char *param_identifier(json_object *params, const char *name)
{
    json_object *arr = cr_json_get_array(params, "parameter");
    size_t i, n = arr ? json_object_array_length(arr) : 0;

    for (i = 0; i < n && i < 50; i++) {
        json_object *p = json_object_array_get_idx(arr, i);
        const char *pn = cr_json_get_string(p, "name");
        if (pn && strcmp(pn, name) == 0) {
            json_object *vi = cr_json_get_object(p, "valueIdentifier");
            return vi ? cr_json_get_string(vi, "value")
                      : cr_json_get_string(p, "valueString");
        }
    }
    return NULL;
}

/* Who supplies what the request writes; message_id NULL: the
 * registry's own. */
static void set_prov(cr_bcop_t *f, const char *message_id)
{
    cr_ctx_t *ctx = f->ctx;

    f->prov.org_id = f->meta.sender;
    f->prov.user_id = f->meta.enterer;
    f->prov.message_id = message_id ? message_id : ctx->message_id;
    f->prov.now = ctx->now_instant;
    f->prov.source_system = ctx->caller && ctx->caller->source_system
                            ? ctx->caller->source_system : f->meta.sender;
}

/* The request f->in read: its sender against the authenticated
 * organisation, the enterer, the user, the provenance. */
static int open_tail(cr_bcop_t *f, const char *enterer, const char *expr,
                     int need_user)
{
    cr_ctx_t *ctx = f->ctx;

    f->meta.request_message_id = f->in->message_id;
    if (f->in->sender && ctx->caller && ctx->caller->org_id
        && strcmp(f->in->sender, ctx->caller->org_id) != 0) {
        cr_bcop_reject(f, CR_BC_RP_SENDER, expr, 403);
        return 0;
    }
    if (f->meta.sender == NULL) {
        f->meta.sender = f->in->sender;
    }
    if (f->meta.enterer == NULL) {
        f->meta.enterer = enterer;
    }
    if (need_user && f->meta.enterer == NULL) {
        cr_bcop_reject(f, CR_BC_RP_USER, expr, 400);
        return 0;
    }
    set_prov(f, f->in->message_id);
    return 1;
}

int cr_bcop_open(cr_bcop_t *f, json_object *body,
                 const cr_envelope_rules_t *rules, int need_user)
{
    cr_ctx_t *ctx = f->ctx;
    const char *enterer;

    if (ctx->if_match == -2) {
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                       "If-Match must be W/\"<version>\"");
        cr_bcop_finish(f, 400);
        return 0;
    }
    if (cr_fhir_envelope_parse(&f->in, ctx->pool, body, rules, ctx->oc)
        != APR_SUCCESS) {
        if (f->in) {
            f->meta.request_message_id = f->in->message_id;
        }
        cr_bcop_finish_errors(f);
        return 0;
    }
    enterer = param_identifier(f->in->parameters, "enterer");
    return open_tail(f, enterer, "Bundle.entry[0].resource", need_user);
}

int cr_bcop_open_in(cr_bcop_t *f, const char *enterer, const char *expr,
                    int need_user)
{
    if (f->ctx->if_match == -2) {
        cr_outcome_add(f->ctx->oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                       "If-Match must be W/\"<version>\"");
        cr_bcop_finish(f, 400);
        return 0;
    }
    return open_tail(f, enterer, expr, need_user);
}

int cr_bcop_open_plain(cr_bcop_t *f, int need_user)
{
    cr_ctx_t *ctx = f->ctx;

    if (ctx->if_match == -2) {
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                       "If-Match must be W/\"<version>\"");
        cr_bcop_finish(f, 400);
        return 0;
    }
    if (need_user && f->meta.enterer == NULL) {
        cr_bcop_reject(f, CR_BC_RP_USER, NULL, 400);
        return 0;
    }
    if (ctx->request_id) {
        /* The Request-Id is the message's id: it makes the request
         * idempotent (cr_idem_begin, CR-PARAM-004) like a messageId. */
        f->in = apr_pcalloc(ctx->pool, sizeof(*f->in));
        f->in->message_id = ctx->request_id;
    }
    set_prov(f, ctx->request_id);
    return 1;
}

int cr_bcop_version_ok(const cr_bcop_t *f, apr_int64_t current)
{
    return f->ctx->if_match <= 0 || f->ctx->if_match == current;
}

apr_status_t cr_bcop_commit(cr_bcop_t *f, const char *op,
                            const char *action, int status)
{
    apr_status_t rv = cr_person_audit(f->ctx, op, action, status,
                                      f->patients);

    if (rv == APR_SUCCESS) {
        rv = cr_person_commit(f->ctx);
    }
    return rv;
}

const char *cr_bcop_source_system(apr_pool_t *pool, const char *source)
{
    char *u = apr_pstrdup(pool, source);
    char *c;

    for (c = u; *c; c++) {
        *c = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? *c - 32 : *c;
    }
    return u;
}

/* ---- the request Patient (Add, Revise) --------------------------------- */

/* Shared checks of Add and Revise on the request Patient. */
cr_patient_t *cr_bcop_check_patient(cr_bcop_t *f,
                                    const cr_envelope_entry_t *e,
                                    const char *mother_phn)
{
    cr_ctx_t *ctx = f->ctx;
    cr_patient_t *p = NULL;
    const cr_identifier_t *phn;
    json_object *ids = cr_json_get_array(e->resource, "identifier");
    size_t i, n = ids ? json_object_array_length(ids) : 0;

    /* Rule 3 before the profile checks, with its own code. */
    for (i = 0; i < n && i < 100; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = cr_json_get_string(id, "system");
        const char *val = cr_json_get_string(id, "value");
        if (sys && val && strcmp(sys, CR_SYS_PHN) == 0
            && cr_phn_validate(val) != CR_PHN_OK) {
            cr_bcop_reject(f, CR_BC_RP_PHN,
                           apr_psprintf(ctx->pool, "%s.identifier[%d]",
                                        e->expr, (int)i), 422);
            return NULL;
        }
        if (sys && val && cr_fhir_rules_is_sri_system(sys)
            && !cr_fhir_rules_sri_chars_ok(val)) {
            /* Rule 1: forbidden characters in the SRI. */
            cr_bcop_reject(f, CR_BC_RP_SRI_CHARS,
                           apr_psprintf(ctx->pool, "%s.identifier[%d]",
                                        e->expr, (int)i), 422);
            return NULL;
        }
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, e->resource, e->expr,
                              ctx->today, &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        cr_bcop_finish(f, cr_service_status_for_errors(ctx->oc));
        return NULL;
    }
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    if (!cr_fhir_rules_names_ok(p)) {
        cr_bcop_reject(f, CR_BC_RP_NAME,
                       apr_pstrcat(ctx->pool, e->expr, ".name", NULL), 422);
        return NULL;
    }
    if (!cr_fhir_rules_minimum_ok(p, (phn && phn->value) || mother_phn)) {
        cr_bcop_reject(f, CR_BC_RP_MINIMUM, e->expr, 422);
        return NULL;
    }
    return p;
}

/* ---- inside the transaction: reading and checking ---------------------- */

/* The current version of person pid (0 when there is none). */
apr_status_t cr_bcop_current_version(apr_int64_t *v, cr_bcop_t *f,
                                     const char *pid)
{
    /* PostgreSQL: this person's writers take turns from here to the
     * commit (SQLite's are one at a time anyway). */
    apr_status_t rv = cr_store_patient_lock(v, f->ctx->db, f->ctx->pool,
                                            pid);

    if (rv != APR_SUCCESS) {
        *v = 0;
    }
    return rv;
}

int cr_bcop_identifiers_free(cr_bcop_t *f, const cr_patient_t *p,
                             const char *self, const char *expr)
{
    int taken = -1;
    apr_status_t rv = cr_person_identifier_taken(&taken, f->ctx, p, self, 0);

    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(f, rv, "checking identifiers");
        return 0;
    }
    if (taken >= 0) {
        cr_bcop_abort(f, CR_BC_RP_DUPLICATE,
                      apr_pstrcat(f->ctx->pool, expr, ".identifier", NULL),
                      422);
        return 0;
    }
    return 1;
}

/* ---- writing a person (ops/cr_person.c) -------------------------------- */

/* A version written by this operation: its message id, no duplicate
 * detection (only a RevisePatient that creates asks for it). */
static cr_person_how_t how_of(const cr_bcop_t *f, const char *operation)
{
    cr_person_how_t how;

    memset(&how, 0, sizeof(how));
    how.operation = operation;
    how.message_id = f->prov.message_id;
    return how;
}

/* Store resource json as version `version` of person id (1 = new); when
 * keep_ids is 0 its identifiers are not registered (a merged-away
 * record). */
apr_status_t cr_bcop_store(cr_bcop_t *f, json_object *json, const char *id,
                           apr_int64_t version, const char *operation,
                           int keep_ids, cr_patient_t **out)
{
    cr_person_how_t how = how_of(f, operation);
    apr_status_t rv = cr_person_write_json(out, f->ctx, json, id, version,
                                           keep_ids, &how);

    cr_bcop_note_patient(f, id);
    return rv;
}

/* Rebuild person id from its current attributes as version `version`. */
apr_status_t cr_bcop_rebuild(cr_bcop_t *f, const char *id, apr_int64_t version,
                             const char *operation, cr_patient_t **out)
{
    cr_person_how_t how = how_of(f, operation);
    apr_status_t rv = cr_person_rebuild(out, f->ctx, id, version, &how);

    cr_bcop_note_patient(f, id);
    return rv;
}

/* Inside the transaction: create person id with a new (or the purported)
 * PHN, its registry record and the source record of the request;
 * duplicates names the operation recording potential duplicates (NULL:
 * none), *review how many were recorded. */
apr_status_t cr_bcop_create_person(cr_bcop_t *f, const char *id,
                                   const char *purported,
                                   const char *sri_system,
                                   const char *sri_value,
                                   apr_array_header_t *snap,
                                   const char *snapshot,
                                   const char *duplicates, int *review,
                                   cr_patient_t **out)
{
    cr_person_how_t how = how_of(f, "add");
    cr_person_record_t rec;
    apr_status_t rv;

    how.duplicates = duplicates;
    rec.sri_system = sri_system;
    rec.sri_value = sri_value;
    rec.snap = snap;
    rec.snapshot = snapshot;
    rv = cr_person_create(review, out, f->ctx, id, purported, &rec,
                          &f->prov, &how);
    cr_bcop_note_patient(f, id);
    return rv;
}

/* A person written before source records existed (the RESTful create
 * and update) gets its registry record (cr_person_ensure_records). */
apr_status_t cr_bcop_ensure_records(cr_bcop_t *f, const char *pid)
{
    return cr_person_ensure_records(f->ctx, pid, &f->prov);
}

/* ---- the answer -------------------------------------------------------- */

/* The response Patient: the composite view of what was committed. */
void cr_bcop_respond_patient(cr_bcop_t *f, const cr_patient_t *p)
{
    cr_ctx_t *ctx = f->ctx;
    cr_view_input_t in;
    cr_view_options_t opt;

    memset(&in, 0, sizeof(in));
    memset(&opt, 0, sizeof(opt));
    in.current = cr_json_copy(ctx->pool, p->json);
    in.id = p->id;
    in.last_updated = ctx->now_instant;
    in.masked = p->masked;
    in.full = 1;   /* the output policy masks (ops/cr_privacy) */
    if (cr_store_query_identifiers(&in.identifiers, ctx->db, ctx->pool,
                                   p->id, CR_BCOP_MAX_IDENTIFIER_ROWS)
        != APR_SUCCESS) {
        in.identifiers = NULL;
    }
    opt.now = ctx->now;
    f->patient = cr_fhir_view_patient(ctx->pool, &in, &opt);
}

void cr_bcop_revise_and_answer(cr_bcop_t *f, const char *pid,
                               apr_int64_t version, const char *operation,
                               const char *op, const char *what)
{
    cr_patient_t *stored = NULL;
    apr_status_t rv = cr_bcop_rebuild(f, pid, version, operation, &stored);

    if (rv == APR_SUCCESS) {
        rv = cr_bcop_commit(f, op, "U", 200);
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(f, rv, what);
        return;
    }
    cr_bc_add(f->ctx->oc, CR_BC_TXN_RP, CR_BC_RP_PROCESSED, NULL, NULL);
    cr_bcop_respond_patient(f, stored);
    cr_bcop_finish(f, 200);
}
