/* cr_ops_maintain: AddPatient, RevisePatient, MergePatient, unmerge (see
 * the header).
 *
 * Every path ends in finish(): one collection Bundle with the
 * MetadataParametersOut, the OperationOutcome and (add/revise) the
 * composite Patient, sent with its status also on errors.  Validation
 * happens before the transaction; resolution, PHN allocation and every
 * row inside it; the response is built after the commit.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "ops/cr_audit.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_view.h"
#include "match/cr_index.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_ops_match.h"
#include "core/cr_phn.h"
#include "store/cr_store.h"
#include "store/cr_store_match.h"
#include "store/cr_store_query.h"
#include "store/cr_store_source.h"

#define MAX_LINKS 20
#define MAX_IDENTIFIER_ROWS 200
#define ROLE_SYS "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
#define MERGE_PROFILE CR_ENV_PROFILE_BASE "bc-merge-response-bundle"

/* Detail codes of the maintenance rejections (registry-invented in the
 * IG's pattern, DECISION-08; listed in docs/bc-codes-maintain.md). */
typedef struct mcode_t {
    const char *code;
    const char *issue;
    const char *text;
} mcode_t;

static const mcode_t M_MINIMUM = { "BCHCIM.RP.2.0140", "business-rule",
    "The minimum data set is missing: name (use, family, given), birth "
    "date, gender and a PHN, the mother's PHN or an address (type, line, "
    "city, province)." };
static const mcode_t M_PHN = { "BCHCIM.RP.2.0141", "business-rule",
    "The PHN is not valid (check digit)." };
static const mcode_t M_NAME = { "BCHCIM.RP.2.0142", "business-rule",
    "A name contains characters that are not allowed." };
static const mcode_t M_USER = { "BCHCIM.RP.2.0143", "required",
    "The request has no user id (UserId header or enterer)." };
static const mcode_t M_DEATH = { "BCHCIM.RP.2.0144", "business-rule",
    "A date of death or death indicator needs a PHN." };
static const mcode_t M_NO_SRI = { "BCHCIM.RP.2.0145", "business-rule",
    "The request has no source record identifier and the sender is not "
    "a PHN-bound source." };
static const mcode_t M_MOTHER = { "BCHCIM.RP.2.0146", "business-rule",
    "The mother's PHN is not valid or not known to the registry." };
static const mcode_t M_RELATED = { "BCHCIM.RP.2.0147", "business-rule",
    "The RelatedPerson must have relationship NMTH and the mother's "
    "PHN." };
static const mcode_t M_DUPLICATE = { "BCHCIM.RP.2.0148", "duplicate",
    "An identifier of the request is already held by another client." };
static const mcode_t M_SENDER = { "BCHCIM.RP.2.0149", "forbidden",
    "The request's sender is not the authenticated organisation." };
static const mcode_t M_VERSION = { "BCHCIM.RP.2.0150", "conflict",
    "If-Match does not name the client's current version." };
static const mcode_t M_SRI_CHARS = { "BCHCIM.RP.2.0151", "business-rule",
    "The source record identifier contains forbidden characters." };
static const mcode_t M_SURVIVOR = { "BCHCIM.PM.2.0152", "not-found",
    "The surviving client was not found." };
static const mcode_t M_NONSURVIVOR = { "BCHCIM.PM.2.0153", "business-rule",
    "A non-surviving identifier does not resolve to one client." };
static const mcode_t M_SAME = { "BCHCIM.PM.2.0154", "business-rule",
    "The surviving and non-surviving identifiers are the same record." };
static const mcode_t M_MERGED = { "BCHCIM.PM.2.0155", "business-rule",
    "The non-surviving client has already been merged." };
static const mcode_t M_NO_MERGE = { "BCHCIM.PM.2.0156", "not-found",
    "No merge of that identifier into that survivor was found." };
static const mcode_t M_UNMERGED = { "BCHCIM.PM.0.0157", "business-rule",
    "The unmerge completed; the records are as before the merge." };
static const mcode_t M_EFFECTIVE = { "BCHCIM.RP.2.0163", "required",
    "The Patient has no effective date (root bc-business-period-extension "
    "with valuePeriod.start)." };
static const mcode_t M_REVIEW = { "BCHCIM.RP.1.0164", "business-rule",
    "A new client was created; existing clients that may be the same "
    "person were listed for review ($potential-duplicates)." };
static const mcode_t M_MERGE_SHAPE = { "BCHCIM.PM.2.0158", "required",
    "The merge Patient needs the survivor's identifier and at least one "
    "link of type replaces with the non-survivor's identifier." };

/* ---- one request ------------------------------------------------------- */

typedef struct mreq_t {
    cr_ctx_t *ctx;
    cr_bc_txn_e txn;
    const char *op;
    const char *profile;
    cr_envelope_meta_t meta;
    cr_envelope_in_t *in;
    json_object *patient;      /* response Patient or NULL */
    const char *patients;      /* ids written, for the audit trail */
    cr_attr_prov_t prov;
} mreq_t;

static void mreq_init(mreq_t *m, cr_ctx_t *ctx, cr_bc_txn_e txn,
                      const char *op, const char *profile)
{
    memset(m, 0, sizeof(*m));
    m->ctx = ctx;
    m->txn = txn;
    m->op = op;
    m->profile = profile;
    m->meta.message_id = cr_service_uuid(ctx->pool);    /* D-05 */
    m->meta.request_message_id = ctx->request_id;
    m->meta.history = -1;
    m->meta.identifiers_only = -1;
    m->meta.sender = ctx->caller ? ctx->caller->org_id : NULL;
    m->meta.enterer = ctx->caller ? ctx->caller->user_id : NULL;
}

static void finish(mreq_t *m, int status)
{
    cr_ctx_t *ctx = m->ctx;
    cr_envelope_reply_t r;
    cr_envelope_result_t *e;

    memset(&r, 0, sizeof(r));
    r.txn = m->txn;
    r.type = "collection";
    r.profile = m->profile;
    r.timestamp = ctx->now_instant;
    r.total = -1;
    r.link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                   "/Patient/$", m->op, NULL);
    r.meta = m->meta;
    r.oc = ctx->oc;
    if (status < 400 && m->patient) {
        r.results = apr_array_make(ctx->pool, 1,
                                   sizeof(cr_envelope_result_t));
        e = apr_array_push(r.results);
        memset(e, 0, sizeof(*e));
        e->full_url = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                  "/Patient/",
                                  cr_json_get_string(m->patient, "id"),
                                  NULL);
        e->resource = m->patient;
    }
    ctx->resp.status = status;
    ctx->resp.body = cr_fhir_envelope_reply(ctx->pool, &r);
    ctx->resp.body_on_error = 1;
    ctx->resp.raw_body = NULL;
    if (m->patients && status < 400) {
        ctx->resp.patients = m->patients;
    }
}

static void issue(mreq_t *m, const mcode_t *c, const char *expr)
{
    cr_outcome_add(m->ctx->oc, c->code[10] == '0' ? CR_SEV_INFORMATION
                               : c->code[10] == '1' ? CR_SEV_WARNING
                                                    : CR_SEV_ERROR,
                   c->issue, c->code, expr, "%s", c->text);
}

static void reject(mreq_t *m, const mcode_t *c, const char *expr,
                   int status)
{
    issue(m, c, expr);
    finish(m, status);
}

static void db_fail(mreq_t *m, apr_status_t rv, const char *what)
{
    cr_service_db_failure(m->ctx, rv, what);
    finish(m, m->ctx->resp.status ? m->ctx->resp.status : 500);
}

/* Rejected inside the transaction. */
static void abort_txn(mreq_t *m, const mcode_t *c, const char *expr,
                      int status)
{
    cr_db_rollback(m->ctx->db);
    reject(m, c, expr, status);
}

/* ---- sender, enterer, source ------------------------------------------ */

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

static const char *upper_source(apr_pool_t *pool, const char *s)
{
    char *u = apr_pstrdup(pool, s);
    char *c;

    for (c = u; *c; c++) {
        *c = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? *c - 32 : *c;
    }
    return u;
}

/* Envelope, sender check (issue 7: a sender that is not the
 * authenticated organisation is refused), enterer and user id. */
static int open_request(mreq_t *m, json_object *body,
                        const cr_envelope_rules_t *rules, int need_user)
{
    cr_ctx_t *ctx = m->ctx;
    const char *enterer;

    if (ctx->if_match == -2) {
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                       "If-Match must be W/\"<version>\"");
        finish(m, 400);
        return 0;
    }
    if (cr_fhir_envelope_parse(&m->in, ctx->pool, body, rules, ctx->oc)
        != APR_SUCCESS) {
        if (m->in) {
            m->meta.request_message_id = m->in->message_id;
        }
        finish(m, cr_service_status_for_errors(ctx->oc));
        return 0;
    }
    m->meta.request_message_id = m->in->message_id;
    if (m->in->sender && ctx->caller && ctx->caller->org_id
        && strcmp(m->in->sender, ctx->caller->org_id) != 0) {
        reject(m, &M_SENDER, "Bundle.entry[0].resource", 403);
        return 0;
    }
    if (m->meta.sender == NULL) {
        m->meta.sender = m->in->sender;
    }
    enterer = param_identifier(m->in->parameters, "enterer");
    if (m->meta.enterer == NULL) {
        m->meta.enterer = enterer;
    }
    if (need_user && m->meta.enterer == NULL) {
        reject(m, &M_USER, "Bundle.entry[0].resource", 400);
        return 0;
    }
    m->prov.org_id = m->meta.sender;
    m->prov.user_id = m->meta.enterer;
    m->prov.message_id = m->in->message_id ? m->in->message_id
                                           : ctx->message_id;
    m->prov.now = ctx->now_instant;
    m->prov.source_system = ctx->caller && ctx->caller->source_system
                            ? ctx->caller->source_system : m->meta.sender;
    return 1;
}

/* ---- validation ------------------------------------------------------- */

static int sri_chars_ok(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'
              || *s == '_' || *s == ':' || *s == '/')) {
            return 0;
        }
    }
    return 1;
}

static int names_ok(const cr_patient_t *p)
{
    int i, j;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->family && !cr_fhir_name_chars_ok(n->family)) {
            return 0;
        }
        for (j = 0; n->given && j < n->given->nelts; j++) {
            if (!cr_fhir_name_chars_ok(APR_ARRAY_IDX(n->given, j,
                                                     const char *))) {
                return 0;
            }
        }
    }
    return 1;
}

static int address_ok(const cr_address_t *a)
{
    if (a->type == NULL && a->use == NULL) {
        return 0;
    }
    if (a->line == NULL || a->line->nelts == 0 || a->city == NULL) {
        return 0;
    }
    if (a->country && (strcmp(a->country, "CA") == 0
                       || strcmp(a->country, "US") == 0)
        && a->state == NULL) {
        return 0;
    }
    return 1;
}

/* operations.md 3: the minimum data set. */
static int minimum_ok(const cr_patient_t *p, int has_phn)
{
    int i, name = 0, addr = 0;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->use && n->family && n->given && n->given->nelts > 0) {
            name = 1;
        }
    }
    for (i = 0; i < p->addresses->nelts; i++) {
        addr |= address_ok(&APR_ARRAY_IDX(p->addresses, i, cr_address_t));
    }
    return name && p->birth_date && p->gender && (has_phn || addr);
}

/* The source record identifier: the first SRI with use official (or any
 * SRI). */
static const cr_identifier_t *find_sri(const cr_patient_t *p)
{
    const cr_identifier_t *any = NULL;
    int i;

    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if ((id->kind == CR_IDK_SRI || id->kind == CR_IDK_LEGACY)
            && id->value && id->period.end == NULL) {
            if (id->use == NULL || strcmp(id->use, "secondary") != 0) {
                return id;
            }
            any = any ? any : id;
        }
    }
    return any;
}

static int phn_bound(const char *source)
{
    return source && (strcmp(source, "HIBC") == 0
                      || strcmp(source, "MSP") == 0
                      || strcmp(source, "MOH_CRS") == 0
                      || strcmp(source, "MOH") == 0);
}

/* Shared checks of Add and Revise on the request Patient. */
static cr_patient_t *check_patient(mreq_t *m, const cr_envelope_entry_t *e,
                                   const char *mother_phn)
{
    cr_ctx_t *ctx = m->ctx;
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
            reject(m, &M_PHN, apr_psprintf(ctx->pool, "%s.identifier[%d]",
                                           e->expr, (int)i), 422);
            return NULL;
        }
        if (sys && val && (strncmp(sys, CR_SYS_SRI_PREFIX,
                                   strlen(CR_SYS_SRI_PREFIX)) == 0
                           || strncmp(sys, CR_SYS_LEGACY_PREFIX,
                                      strlen(CR_SYS_LEGACY_PREFIX)) == 0)
            && !sri_chars_ok(val)) {
            /* Rule 1: forbidden characters in the SRI. */
            reject(m, &M_SRI_CHARS, apr_psprintf(
                ctx->pool, "%s.identifier[%d]", e->expr, (int)i), 422);
            return NULL;
        }
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, e->resource, e->expr,
                              ctx->today, &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        finish(m, cr_service_status_for_errors(ctx->oc));
        return NULL;
    }
    phn = cr_fhir_patient_find_identifier(p, CR_IDK_PHN);
    if (!names_ok(p)) {
        reject(m, &M_NAME, apr_pstrcat(ctx->pool, e->expr, ".name", NULL),
               422);
        return NULL;
    }
    if (!minimum_ok(p, (phn && phn->value) || mother_phn)) {
        reject(m, &M_MINIMUM, e->expr, 422);
        return NULL;
    }
    return p;
}

/* Rule 6 (operations.md 4): a death needs a PHN -- a BC PHN or another
 * jurisdiction's health number (the IG's max-data Revise example carries
 * a death date and a New Brunswick number only). */
static int death_ok(const cr_patient_t *p)
{
    int i;

    if (p->deceased == NULL && cr_json_get(p->json, "deceasedBoolean")
        == NULL) {
        return 1;
    }
    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if (id->value && (id->kind == CR_IDK_PHN
                          || (id->kind == CR_IDK_INFOWAY && id->system
                              && strstr(id->system,
                                        "patient-healthcare-id")))) {
            return 1;
        }
    }
    return 0;
}

/* ---- writing a person ------------------------------------------------- */

static void note(mreq_t *m, const char *id)
{
    m->patients = m->patients ? apr_pstrcat(m->ctx->pool, m->patients, " ",
                                            id, NULL)
                              : id;
}

static apr_status_t mark_merged(mreq_t *m, const char *id,
                                const apr_array_header_t *attrs)
{
    int i;

    for (i = 0; i < attrs->nelts; i++) {
        const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i, cr_compattr_t);
        json_object *v = NULL;
        const char *args[4];
        apr_status_t rv;
        if (!a->merged || strcmp(a->kind, "identifier") != 0
            || cr_json_parse(&v, m->ctx->pool, a->value, strlen(a->value),
                             NULL, NULL) != APR_SUCCESS) {
            continue;
        }
        args[0] = "merged";
        args[1] = id;
        args[2] = cr_json_get_string(v, "system");
        args[3] = cr_json_get_string(v, "value");
        if (args[2] == NULL || args[3] == NULL) {
            continue;
        }
        rv = cr_db_exec(m->ctx->db, m->ctx->pool,
                        "cr_identifier_source_set_status", NULL, 4, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Store resource json as version `version` of person id (1 = new); when
 * keep_ids is 0 its identifiers are not registered (a merged-away
 * record). */
static apr_status_t store_json(mreq_t *m, json_object *json, const char *id,
                               apr_int64_t version, const char *operation,
                               int keep_ids, cr_patient_t **out)
{
    cr_ctx_t *ctx = m->ctx;
    cr_outcome_t *scratch = cr_outcome_make(ctx->pool);
    cr_patient_t *p = NULL;
    cr_index_t *ix;
    cr_write_t w;
    const char *resource;
    apr_status_t rv;

    cr_fhir_patient_parse(&p, ctx->pool, json, "Patient", ctx->today,
                          &ctx->settings->fhir, scratch);
    if (p == NULL) {
        return APR_EGENERAL;
    }
    if (!keep_ids) {
        apr_array_clear(p->identifiers);
    }
    cr_fhir_patient_set_meta(p, ctx->pool, id, version, ctx->now_instant);
    cr_index_build(&ix, ctx->pool, p);
    resource = cr_json_serialize(ctx->pool, p->json, NULL);
    w.operation = operation;
    w.caller = ctx->caller;
    w.message_id = m->prov.message_id;
    w.now = ctx->now_instant;
    if (version == 1) {
        rv = cr_store_patient_insert(ctx->db, ctx->pool, p, resource, ix,
                                     &w);
    }
    else {
        rv = cr_store_patient_update(ctx->db, ctx->pool, p, version,
                                     resource, ix, &w);
    }
    note(m, id);
    if (out) {
        *out = p;
    }
    return rv;
}

/* Rebuild person id from its current attributes as version `version`. */
static apr_status_t rebuild(mreq_t *m, const char *id, apr_int64_t version,
                            const char *operation, cr_patient_t **out)
{
    apr_array_header_t *attrs;
    apr_status_t rv;

    rv = cr_store_source_attrs(&attrs, m->ctx->db, m->ctx->pool, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = store_json(m, cr_composite_build(m->ctx->pool, attrs, id, 1), id,
                    version, operation, 1, out);
    if (rv == APR_SUCCESS) {
        rv = mark_merged(m, id, attrs);
    }
    return rv;
}

/* The response Patient: the composite view of what was committed. */
static void respond_patient(mreq_t *m, const cr_patient_t *p)
{
    cr_ctx_t *ctx = m->ctx;
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
                                   p->id, MAX_IDENTIFIER_ROWS)
        != APR_SUCCESS) {
        in.identifiers = NULL;
    }
    opt.now = ctx->now;
    m->patient = cr_fhir_view_patient(ctx->pool, &in, &opt);
}

static const char *phn_value_json(apr_pool_t *pool, const char *phn)
{
    json_object *id = json_object_new_object();
    const char *s;

    json_object_object_add(id, "use", json_object_new_string("official"));
    json_object_object_add(id, "system", json_object_new_string(CR_SYS_PHN));
    json_object_object_add(id, "value", json_object_new_string(phn));
    s = cr_composite_canonical(pool, id);
    json_object_put(id);
    return s;
}

/* Inside the transaction: create person id with a new (or the purported)
 * PHN, its registry record and the source record of the request. */
static apr_status_t create_person(mreq_t *m, const char *id,
                                  const char *purported,
                                  const cr_identifier_t *sri,
                                  const char *sri_system,
                                  const char *sri_value,
                                  apr_array_header_t *snap,
                                  const char *snapshot, cr_patient_t **out)
{
    cr_ctx_t *ctx = m->ctx;
    apr_array_header_t *attrs = apr_array_make(ctx->pool, snap->nelts + 1,
                                               sizeof(cr_compattr_t));
    cr_snapattr_t phn_attr;
    cr_attr_prov_t reg = m->prov;
    const char *reg_id = cr_store_source_registry_id(ctx->pool, id);
    const char *src_id = cr_service_uuid(ctx->pool);
    char phn[CR_PHN_LEN + 1];
    cr_compattr_t *c;
    apr_status_t rv;
    int i;

    (void)sri;
    if (purported) {
        apr_cpystrn(phn, purported, sizeof(phn));
    }
    else {
        rv = cr_store_phn_allocate(phn, ctx->db, ctx->pool,
                                   &ctx->settings->phn_range);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    reg.source_system = CR_SOURCE_REGISTRY;
    phn_attr.kind = "identifier";
    phn_attr.value = phn_value_json(ctx->pool, phn);
    phn_attr.period_start = ctx->now_instant;
    phn_attr.period_end = NULL;
    c = apr_array_push(attrs);
    memset(c, 0, sizeof(*c));
    c->kind = phn_attr.kind;
    c->value = phn_attr.value;
    c->period_start = phn_attr.period_start;
    c->source_system = CR_SOURCE_REGISTRY;
    c->user_id = reg.user_id;
    c->registry = 1;
    for (i = 0; i < snap->nelts; i++) {
        const cr_snapattr_t *a = &APR_ARRAY_IDX(snap, i, cr_snapattr_t);
        if (a->period_end) {
            continue;
        }
        c = apr_array_push(attrs);
        memset(c, 0, sizeof(*c));
        c->kind = a->kind;
        c->value = a->value;
        c->period_start = a->period_start;
        c->source_system = m->prov.source_system;
        c->user_id = m->prov.user_id;
    }
    rv = store_json(m, cr_composite_build(ctx->pool, attrs, id, 1), id, 1,
                    "add", 1, out);
    if (rv == APR_SUCCESS) {
        rv = cr_store_source_insert(ctx->db, ctx->pool, reg_id, id,
                                    CR_SOURCE_REGISTRY, NULL, NULL, NULL,
                                    ctx->now_instant);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_source_add(ctx->db, ctx->pool, reg_id, id, &phn_attr,
                                 &reg);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_source_insert(ctx->db, ctx->pool, src_id, id,
                                    m->prov.source_system
                                    ? m->prov.source_system : "UNKNOWN",
                                    sri_system, sri_value, snapshot,
                                    ctx->now_instant);
    }
    for (i = 0; rv == APR_SUCCESS && i < snap->nelts; i++) {
        rv = cr_store_source_add(ctx->db, ctx->pool, src_id, id,
                                 &APR_ARRAY_IDX(snap, i, cr_snapattr_t),
                                 &m->prov);
    }
    return rv;
}

static apr_status_t commit(mreq_t *m, const char *op, const char *action,
                           int status)
{
    apr_status_t rv = cr_audit_in_txn(m->ctx, op, action, status,
                                      m->patients);

    if (rv == APR_SUCCESS && m->ctx->before_commit) {
        rv = m->ctx->before_commit(m->ctx, m->ctx->before_commit_baton);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(m->ctx->db);
    }
    if (rv == APR_SUCCESS) {
        m->ctx->resp.audited = 1;
    }
    return rv;
}

static int version_ok(mreq_t *m, apr_int64_t current)
{
    return m->ctx->if_match <= 0 || m->ctx->if_match == current;
}

/* A person written before source records existed (the RESTful create
 * and update): its current resource becomes the registry record's
 * attributes, so that rebuilding it loses nothing. */
static apr_status_t ensure_records(mreq_t *m, const char *pid)
{
    cr_ctx_t *ctx = m->ctx;
    const char *reg_id = cr_store_source_registry_id(ctx->pool, pid);
    cr_db_rows_t *rows;
    cr_stored_t *cur = NULL;
    json_object *json = NULL;
    apr_array_header_t *snap;
    cr_attr_prov_t reg = m->prov;
    const char *args[1];
    apr_status_t rv;
    int i;

    args[0] = reg_id;
    rv = cr_db_select(&rows, ctx->db, ctx->pool, "cr_source_get", 1, 1,
                      args);
    if (rv != APR_SUCCESS || rows->nrows > 0) {
        return rv;
    }
    rv = cr_store_patient_get(&cur, ctx->db, ctx->pool, pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cr_json_parse(&json, ctx->pool, cur->resource,
                      strlen(cur->resource), NULL, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    snap = cr_composite_extract(ctx->pool, json, cur->last_updated);
    rv = cr_store_source_insert(ctx->db, ctx->pool, reg_id, pid,
                                CR_SOURCE_REGISTRY, NULL, NULL, NULL,
                                ctx->now_instant);
    reg.source_system = CR_SOURCE_REGISTRY;
    reg.user_id = NULL;
    for (i = 0; rv == APR_SUCCESS && i < snap->nelts; i++) {
        rv = cr_store_source_add(ctx->db, ctx->pool, reg_id, pid,
                                 &APR_ARRAY_IDX(snap, i, cr_snapattr_t),
                                 &reg);
    }
    return rv;
}

/* ---- $AddPatient ------------------------------------------------------- */

/* The newborn's mother: RelatedPerson NMTH with a valid PHN of a known
 * client.  *mother_phn NULL when there is no RelatedPerson. */
static int mother_of(mreq_t *m, const char **mother_phn, json_object **rp)
{
    const cr_envelope_entry_t *e;
    json_object *ids, *rels;
    size_t i, j, n;
    int nmth = 0;

    *mother_phn = NULL;
    *rp = NULL;
    if (m->in->related == NULL || m->in->related->nelts == 0) {
        return 1;
    }
    e = &APR_ARRAY_IDX(m->in->related, 0, cr_envelope_entry_t);
    rels = cr_json_get_array(e->resource, "relationship");
    n = rels ? json_object_array_length(rels) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *cod = cr_json_get_array(
            json_object_array_get_idx(rels, i), "coding");
        size_t k = cod ? json_object_array_length(cod) : 0;
        for (j = 0; j < k && j < 20; j++) {
            json_object *c = json_object_array_get_idx(cod, j);
            const char *s = cr_json_get_string(c, "system");
            const char *code = cr_json_get_string(c, "code");
            nmth |= s && code && strcmp(s, ROLE_SYS) == 0
                    && strcmp(code, "NMTH") == 0;
        }
    }
    ids = cr_json_get_array(e->resource, "identifier");
    n = ids ? json_object_array_length(ids) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *s = cr_json_get_string(id, "system");
        if (s && strcmp(s, CR_SYS_PHN) == 0) {
            *mother_phn = cr_json_get_string(id, "value");
        }
    }
    if (!nmth || *mother_phn == NULL) {
        reject(m, &M_RELATED, e->expr, 422);
        return 0;
    }
    if (cr_phn_validate(*mother_phn) != CR_PHN_OK) {
        reject(m, &M_MOTHER, apr_pstrcat(m->ctx->pool, e->expr,
                                         ".identifier", NULL), 422);
        return 0;
    }
    *rp = e->resource;
    return 1;
}

static int identifiers_free(mreq_t *m, const cr_patient_t *p,
                            const char *self, apr_status_t *rv)
{
    int i;

    *rv = APR_SUCCESS;
    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        const char *owner = NULL;
        if (id->value == NULL) {
            continue;
        }
        *rv = cr_store_identifier_owner(&owner, m->ctx->db, m->ctx->pool,
                                        id->system, id->value);
        if (*rv != APR_SUCCESS) {
            return 0;
        }
        if (owner && (self == NULL || strcmp(owner, self) != 0)) {
            return 0;
        }
    }
    return 1;
}

void cr_ops_maintain_add(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_RP, 2, 3, 1, 1, 0, 1      /* CR-BND add */
    };
    mreq_t m;
    cr_patient_t *p, *stored = NULL;
    const cr_envelope_entry_t *e;
    const cr_identifier_t *phn, *sri;
    const char *mother_phn, *mother_id = NULL, *id, *snapshot;
    json_object *rp;
    apr_array_header_t *snap;
    apr_status_t rv;

    mreq_init(&m, ctx, CR_BC_TXN_RP, "AddPatient",
              CR_ENV_PROFILE_BASE "bc-add-response-bundle");
    if (!open_request(&m, body, &rules, 1) || !mother_of(&m, &mother_phn,
                                                           &rp)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    p = check_patient(&m, e, mother_phn);
    if (p == NULL) {
        return;
    }
    phn = cr_fhir_patient_find_identifier(p, CR_IDK_PHN);
    if (phn && phn->value == NULL) {
        phn = NULL;
    }
    if (!death_ok(p)) {
        reject(&m, &M_DEATH, apr_pstrcat(ctx->pool, e->expr,
                                         ".deceasedDateTime", NULL), 422);
        return;
    }
    sri = find_sri(p);
    snap = cr_composite_extract(ctx->pool, e->resource,
                                cr_composite_effective(e->resource)
                                ? cr_composite_effective(e->resource)
                                : ctx->today);
    id = cr_service_uuid(ctx->pool);
    if (rp) {
        /* The newborn's link to the mother (cr_store_query indexes it). */
        json_object *c = json_object_new_object();
        json_object *ids = json_object_new_array(), *rel, *cod, *coding;
        cr_snapattr_t *a;
        json_object_object_add(c, "resourceType",
                               json_object_new_string("RelatedPerson"));
        json_object_object_add(c, "id", json_object_new_string("mother"));
        json_object_array_add(ids, json_object_get(json_object_array_get_idx(
            cr_json_get_array(rp, "identifier"), 0)));
        json_object_object_add(c, "identifier", ids);
        rel = json_object_new_array();
        cod = json_object_new_object();
        coding = json_object_new_array();
        json_object_array_add(coding, json_object_new_object());
        json_object_object_add(json_object_array_get_idx(coding, 0),
                               "system", json_object_new_string(ROLE_SYS));
        json_object_object_add(json_object_array_get_idx(coding, 0),
                               "code", json_object_new_string("NMTH"));
        json_object_object_add(cod, "coding", coding);
        json_object_array_add(rel, cod);
        json_object_object_add(c, "relationship", rel);
        cod = json_object_new_object();
        json_object_object_add(cod, "reference", json_object_new_string(
            apr_pstrcat(ctx->pool, "Patient/", id, NULL)));
        json_object_object_add(c, "patient", cod);
        a = apr_array_push(snap);
        a->kind = "mother";
        a->value = cr_composite_canonical(ctx->pool, c);
        a->period_start = ctx->today;
        a->period_end = NULL;
        json_object_put(c);
    }
    snapshot = cr_json_serialize(ctx->pool, e->resource, NULL);

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "starting the add");
        return;
    }
    if (mother_phn) {
        rv = cr_store_identifier_owner(&mother_id, ctx->db, ctx->pool,
                                       CR_SYS_PHN, mother_phn);
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "finding the mother");
            return;
        }
        if (mother_id == NULL) {
            abort_txn(&m, &M_MOTHER, "Bundle.entry.resource.identifier",
                      422);
            return;
        }
    }
    if (!identifiers_free(&m, p, NULL, &rv)) {
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "checking identifiers");
            return;
        }
        abort_txn(&m, &M_DUPLICATE, apr_pstrcat(ctx->pool, e->expr,
                                                ".identifier", NULL), 422);
        return;
    }
    /* A force create: no duplicate matching (operations.md 3: the user
     * confirmed the client is new; CR-ADD-017). */
    rv = create_person(&m, id, phn ? phn->value : NULL, sri,
                       sri ? sri->system : NULL, sri ? sri->value : NULL,
                       snap, snapshot, &stored);
    if (rv == APR_SUCCESS) {
        rv = commit(&m, "AddPatient", "C", 201);
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "storing the new client");
        return;
    }
    /* A new PHN assigned -> RP.0.0000; the purported PHN kept ->
     * RP.0.0021 (the IG's AddPatient example). */
    cr_bc_add(ctx->oc, CR_BC_TXN_RP,
              phn ? CR_BC_RP_PROCESSED : CR_BC_RP_NEW_PHN, NULL, NULL);
    respond_patient(&m, stored);
    ctx->resp.location = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                     "/Patient/", id, NULL);
    finish(&m, 201);
}

/* ---- $RevisePatient ---------------------------------------------------- */

/* Apply snapshot snap of source record rec_id to person pid (current
 * version cur) and rebuild it. */
static apr_status_t revise_existing(mreq_t *m, const char *pid,
                                    apr_int64_t cur, const char *rec_id,
                                    int new_record, const char *sri_system,
                                    const char *sri_value,
                                    apr_array_header_t *snap,
                                    const char *snapshot,
                                    const char *end_date, cr_patient_t **out)
{
    cr_ctx_t *ctx = m->ctx;
    apr_status_t rv;
    int changed = 0;

    rv = ensure_records(m, pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (new_record) {
        rv = cr_store_source_insert(ctx->db, ctx->pool, rec_id, pid,
                                    m->prov.source_system
                                    ? m->prov.source_system : "UNKNOWN",
                                    sri_system, sri_value, snapshot,
                                    ctx->now_instant);
    }
    else {
        rv = cr_store_source_touch(ctx->db, ctx->pool, rec_id, snapshot,
                                   ctx->now_instant);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_source_apply(&changed, ctx->db, ctx->pool, rec_id,
                                   pid, snap, end_date, &m->prov);
    }
    if (rv == APR_SUCCESS) {
        rv = rebuild(m, pid, cur + 1, "revise", out);
    }
    return rv;
}

static apr_status_t current_version(apr_int64_t *v, mreq_t *m,
                                    const char *pid)
{
    cr_stored_t *s = NULL;
    apr_status_t rv = cr_store_patient_get(&s, m->ctx->db, m->ctx->pool,
                                           pid);

    *v = s ? s->version : 0;
    return rv;
}

void cr_ops_maintain_revise(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_RP, 2, 2, 1, 1, 0, 0
    };
    mreq_t m;
    cr_patient_t *p, *stored = NULL;
    const cr_envelope_entry_t *e;
    const cr_identifier_t *phn, *sri;
    const char *pid = NULL, *rec_id = NULL, *sri_system, *sri_value;
    const char *eff, *snapshot;
    cr_source_rec_t *rec = NULL;
    apr_array_header_t *snap;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int existing = 0, created = 0, review = 0;

    mreq_init(&m, ctx, CR_BC_TXN_RP, "RevisePatient",
              CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    if (!open_request(&m, body, &rules, 1)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    p = check_patient(&m, e, NULL);
    if (p == NULL) {
        return;
    }
    phn = cr_fhir_patient_find_identifier(p, CR_IDK_PHN);
    if (phn && phn->value == NULL) {
        phn = NULL;
    }
    sri = find_sri(p);
    if (sri) {
        sri_system = sri->system;
        sri_value = sri->value;
    }
    else if (phn && phn_bound(m.prov.source_system)) {
        /* A PHN-bound source identifies its records by PHN. */
        sri_system = apr_pstrcat(ctx->pool, CR_SYS_PHN, "#",
                                 m.prov.source_system, NULL);
        sri_value = phn->value;
    }
    else {
        reject(&m, &M_NO_SRI, apr_pstrcat(ctx->pool, e->expr, ".identifier",
                                          NULL), 422);
        return;
    }
    if (m.prov.source_system == NULL && sri && sri->source) {
        m.prov.source_system = upper_source(ctx->pool, sri->source);
    }
    eff = cr_composite_effective(e->resource);
    if (eff == NULL) {
        /* Rule 5 (G5): the effective date is mandatory. */
        reject(&m, &M_EFFECTIVE, apr_pstrcat(ctx->pool, e->expr,
                                             ".extension", NULL), 422);
        return;
    }
    snap = cr_composite_extract(ctx->pool, e->resource, eff);
    snapshot = cr_json_serialize(ctx->pool, e->resource, NULL);

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "starting the revise");
        return;
    }
    rv = cr_store_source_find(&rec, ctx->db, ctx->pool, sri_system,
                              sri_value);
    if (rv == APR_SUCCESS) {
        pid = rec->patient_id;
        rec_id = rec->id;
    }
    else if (rv != APR_NOTFOUND) {
        db_fail(&m, rv, "finding the source record");
        return;
    }
    if (pid == NULL && phn) {
        rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, CR_SYS_PHN,
                                       phn->value);
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "finding the PHN");
            return;
        }
    }
    if (pid == NULL && phn == NULL) {
        /* Known under another source?  Link only a sure match. */
        apr_array_header_t *res = NULL;
        rv = cr_ops_match_find(&res, ctx, p, 2, CR_MATCH_CERTAIN);
        if (rv == APR_SUCCESS && res->nelts == 1) {
            pid = APR_ARRAY_IDX(res, 0, cr_match_result_t).patient_id;
            existing = 1;
        }
        else if (rv != APR_SUCCESS && rv != CR_OPS_MATCH_NOT_ENOUGH) {
            db_fail(&m, rv, "matching");
            return;
        }
    }
    if (pid) {
        rv = current_version(&cur, &m, pid);
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "reading the client");
            return;
        }
        if (!version_ok(&m, cur)) {
            abort_txn(&m, &M_VERSION, NULL, 412);
            return;
        }
        if (!identifiers_free(&m, p, pid, &rv)) {
            if (rv != APR_SUCCESS) {
                db_fail(&m, rv, "checking identifiers");
                return;
            }
            abort_txn(&m, &M_DUPLICATE, apr_pstrcat(ctx->pool, e->expr,
                                                    ".identifier", NULL),
                      422);
            return;
        }
        rv = revise_existing(&m, pid, cur, rec_id ? rec_id
                             : cr_service_uuid(ctx->pool), rec_id == NULL,
                             sri_system, sri_value, snap, snapshot,
                             eff ? eff : ctx->now_instant, &stored);
        if (rv == APR_SUCCESS) {
            rv = commit(&m, "RevisePatient", "U", 200);
        }
    }
    else {
        if (!death_ok(p)) {
            abort_txn(&m, &M_DEATH, apr_pstrcat(ctx->pool, e->expr,
                                                ".deceasedDateTime", NULL),
                      422);
            return;
        }
        if (ctx->if_match > 0) {
            abort_txn(&m, &M_VERSION, NULL, 412);
            return;
        }
        if (!identifiers_free(&m, p, NULL, &rv)) {
            if (rv != APR_SUCCESS) {
                db_fail(&m, rv, "checking identifiers");
                return;
            }
            abort_txn(&m, &M_DUPLICATE, apr_pstrcat(ctx->pool, e->expr,
                                                    ".identifier", NULL),
                      422);
            return;
        }
        pid = cr_service_uuid(ctx->pool);
        rv = create_person(&m, pid, phn ? phn->value : NULL, sri,
                           sri_system, sri_value, snap, snapshot, &stored);
        if (rv == APR_SUCCESS) {
            /* Only a certain match links (above); probable ones are
             * recorded for review and reported. */
            rv = cr_ops_match_record_duplicates(&review, ctx, stored,
                                                "revise");
        }
        if (rv == APR_SUCCESS) {
            rv = commit(&m, "RevisePatient", "C", 201);
        }
        created = 1;
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "storing the revise");
        return;
    }
    if (created) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP,
                  phn ? CR_BC_RP_PROCESSED : CR_BC_RP_NEW_PHN, NULL, NULL);
        if (review > 0) {
            issue(&m, &M_REVIEW, NULL);
        }
    }
    else {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP,
                  existing ? CR_BC_RP_EXISTING_PHN : CR_BC_RP_PROCESSED,
                  NULL, NULL);
    }
    respond_patient(&m, stored);
    finish(&m, created ? 201 : 200);
}

/* ---- $MergePatient / unmerge ------------------------------------------ */

typedef struct side_t {
    const char *system, *value;
    const char *pid;
    cr_source_rec_t *rec;      /* when the identifier is an SRI */
} side_t;

static apr_status_t resolve(mreq_t *m, side_t *s)
{
    apr_status_t rv;
    const char *status = NULL;

    s->pid = NULL;
    rv = cr_store_source_find(&s->rec, m->ctx->db, m->ctx->pool, s->system,
                              s->value);
    if (rv == APR_SUCCESS) {
        s->pid = s->rec->patient_id;
        return APR_SUCCESS;
    }
    if (rv != APR_NOTFOUND) {
        return rv;
    }
    rv = cr_store_query_identifier(&s->pid, &status, m->ctx->db,
                                   m->ctx->pool, s->system, s->value);
    if (rv == APR_NOTFOUND) {
        s->pid = NULL;
        return APR_SUCCESS;
    }
    return rv;
}

static int read_merge(mreq_t *m, side_t *surv, side_t *ns, int *nns,
                      json_object **patient)
{
    const cr_envelope_entry_t *e = &APR_ARRAY_IDX(m->in->patients, 0,
                                                  cr_envelope_entry_t);
    json_object *ids = cr_json_get_array(e->resource, "identifier");
    json_object *links = cr_json_get_array(e->resource, "link");
    size_t i, n = links ? json_object_array_length(links) : 0;

    *patient = e->resource;
    *nns = 0;
    memset(surv, 0, sizeof(*surv));
    if (ids && json_object_array_length(ids) > 0) {
        json_object *id = json_object_array_get_idx(ids, 0);
        surv->system = cr_json_get_string(id, "system");
        surv->value = cr_json_get_string(id, "value");
    }
    for (i = 0; i < n && *nns < MAX_LINKS; i++) {
        json_object *l = json_object_array_get_idx(links, i);
        const char *type = cr_json_get_string(l, "type");
        json_object *oid = cr_json_get_object(cr_json_get_object(l, "other"),
                                              "identifier");
        if (type == NULL || strcmp(type, "replaces") != 0 || oid == NULL) {
            continue;
        }
        memset(&ns[*nns], 0, sizeof(ns[0]));
        ns[*nns].system = cr_json_get_string(oid, "system");
        ns[*nns].value = cr_json_get_string(oid, "value");
        if (ns[*nns].system && ns[*nns].value) {
            (*nns)++;
        }
    }
    if (surv->system == NULL || surv->value == NULL || *nns == 0) {
        reject(m, &M_MERGE_SHAPE, e->expr, 422);
        return 0;
    }
    return 1;
}

static const char *link_json(apr_pool_t *pool, const char *other,
                             const char *type)
{
    json_object *l = json_object_new_object();
    json_object *o = json_object_new_object();
    const char *s;

    json_object_object_add(o, "reference",
                           json_object_new_string(apr_pstrcat(
                               pool, "Patient/", other, NULL)));
    json_object_object_add(l, "other", o);
    json_object_object_add(l, "type", json_object_new_string(type));
    s = cr_composite_canonical(pool, l);
    json_object_put(l);
    return s;
}

/* Merge person ns into survivor: its source records move (status
 * merged), it becomes inactive with link replaced-by, the survivor gets
 * link replaces. */
static apr_status_t merge_person(mreq_t *m, const char *surv_pid,
                                 const side_t *ns, int *refused)
{
    cr_ctx_t *ctx = m->ctx;
    cr_stored_t *nsrow = NULL;
    apr_array_header_t *recs;
    json_object *json = NULL, *links, *l;
    const char *merge_id = cr_service_uuid(ctx->pool);
    const char *args[8];
    cr_snapattr_t la;
    cr_attr_prov_t reg = m->prov;
    apr_status_t rv;
    int i;

    *refused = 0;
    rv = ensure_records(m, ns->pid);
    if (rv == APR_SUCCESS) {
        rv = ensure_records(m, surv_pid);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_patient_get(&nsrow, ctx->db, ctx->pool, ns->pid);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (nsrow->replaced_by && *nsrow->replaced_by) {
        *refused = 1;
        return APR_SUCCESS;
    }
    args[0] = merge_id;
    args[1] = surv_pid;
    args[2] = ns->pid;
    args[3] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, nsrow->version);
    args[4] = ns->system;
    args[5] = ns->value;
    args[6] = ctx->now_instant;
    args[7] = m->prov.message_id;
    rv = cr_db_exec(ctx->db, ctx->pool, "cr_merge_insert", NULL, 8, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The non-survivor first: it gives up its identifiers. */
    if (cr_json_parse(&json, ctx->pool, nsrow->resource,
                      strlen(nsrow->resource), NULL, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    json_object_object_add(json, "active", json_object_new_boolean(0));
    links = cr_json_get_array(json, "link");
    if (links == NULL) {
        links = cr_json_set_new_array(json, "link");
    }
    l = cr_json_array_add_object(links);
    cr_json_set_string(cr_json_set_new_object(l, "other"), "reference",
                       apr_pstrcat(ctx->pool, "Patient/", surv_pid, NULL));
    cr_json_set_string(l, "type", "replaced-by");
    rv = store_json(m, json, ns->pid, nsrow->version + 1, "merge", 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    args[0] = surv_pid;
    args[1] = ns->pid;
    rv = cr_db_exec(ctx->db, ctx->pool, "cr_patient_source_set_replaced_by",
                    NULL, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The pair, if it was open on the duplicate review list, is settled
     * (a reviewer's "not-duplicate" is kept, so an unmerge cannot turn
     * it into "open"). */
    rv = cr_store_match_duplicate_set_status(NULL, ctx->db, ctx->pool,
                                             surv_pid, ns->pid,
                                             CR_STORE_MATCH_DUP_MERGED,
                                             CR_STORE_MATCH_DUP_OPEN);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_source_list(&recs, ctx->db, ctx->pool,
                              "cr_source_list_patient", ns->pid);
    for (i = 0; rv == APR_SUCCESS && i < recs->nelts; i++) {
        rv = cr_store_source_move(ctx->db, ctx->pool,
                                  APR_ARRAY_IDX(recs, i, const char *),
                                  surv_pid, "merged", merge_id,
                                  ctx->now_instant);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    reg.source_system = CR_SOURCE_REGISTRY;
    la.kind = "link";
    la.value = link_json(ctx->pool, ns->pid, "replaces");
    la.period_start = ctx->now_instant;
    la.period_end = NULL;
    return cr_store_source_add(ctx->db, ctx->pool,
                               cr_store_source_registry_id(ctx->pool,
                                                           surv_pid),
                               surv_pid, &la, &reg);
}

/* Open the transaction of a merge or unmerge and find the survivor at the
 * version If-Match names: 1, or 0 when the request was answered (store
 * failure, unknown survivor, 412). */
static int begin_on_survivor(mreq_t *m, side_t *surv, apr_int64_t *cur,
                             const char *what)
{
    cr_ctx_t *ctx = m->ctx;
    apr_status_t rv = cr_db_begin(ctx->db, ctx->pool);

    if (rv != APR_SUCCESS) {
        db_fail(m, rv, what);
        return 0;
    }
    rv = resolve(m, surv);
    if (rv != APR_SUCCESS) {
        db_fail(m, rv, "finding the survivor");
        return 0;
    }
    if (surv->pid == NULL) {
        abort_txn(m, &M_SURVIVOR, "Bundle.entry[1].resource.identifier[0]",
                  422);
        return 0;
    }
    rv = current_version(cur, m, surv->pid);
    if (rv != APR_SUCCESS) {
        db_fail(m, rv, "reading the survivor");
        return 0;
    }
    if (!version_ok(m, *cur)) {
        abort_txn(m, &M_VERSION, NULL, 412);
        return 0;
    }
    return 1;
}

static apr_status_t merge_security(mreq_t *m, const char *rec_id,
                                  const char *pid, json_object *patient);

void cr_ops_maintain_merge(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_PM, 2, 2, 1, 1, 0, 0
    };
    mreq_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient, *payload;
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i, refused, demographics;

    mreq_init(&m, ctx, CR_BC_TXN_PM, "MergePatient", MERGE_PROFILE);
    if (!open_request(&m, body, &rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    demographics = cr_json_get(patient, "name") != NULL
                   || cr_json_get(patient, "gender") != NULL
                   || cr_json_get(patient, "birthDate") != NULL
                   || cr_json_get(patient, "address") != NULL
                   || cr_json_get(patient, "telecom") != NULL;
    if (!begin_on_survivor(&m, &surv, &cur, "starting the merge")) {
        return;
    }
    rv = ensure_records(&m, surv.pid);
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "reading the survivor");
        return;
    }
    for (i = 0; i < nns; i++) {
        const char *expr = apr_psprintf(ctx->pool,
                                        "Bundle.entry[1].resource.link[%d]",
                                        i);
        rv = resolve(&m, &ns[i]);
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "finding a non-survivor");
            return;
        }
        if (ns[i].pid == NULL) {
            abort_txn(&m, &M_NONSURVIVOR, expr, 422);
            return;
        }
        if (strcmp(ns[i].pid, surv.pid) == 0) {
            /* Two source records of one client: the non-surviving
             * record is merged into the same person. */
            const char *args[8];
            if (ns[i].rec == NULL || surv.rec == NULL
                || strcmp(ns[i].rec->id, surv.rec->id) == 0) {
                abort_txn(&m, &M_SAME, expr, 422);
                return;
            }
            if (strcmp(ns[i].rec->status, "merged") == 0) {
                abort_txn(&m, &M_MERGED, expr, 422);
                return;
            }
            args[0] = cr_service_uuid(ctx->pool);
            args[1] = surv.pid;
            args[2] = surv.pid;
            args[3] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, cur);
            args[4] = ns[i].system;
            args[5] = ns[i].value;
            args[6] = ctx->now_instant;
            args[7] = m.prov.message_id;
            rv = cr_db_exec(ctx->db, ctx->pool, "cr_merge_insert", NULL, 8,
                            args);
            if (rv == APR_SUCCESS) {
                rv = cr_store_source_move(ctx->db, ctx->pool,
                                          ns[i].rec->id, surv.pid, "merged",
                                          args[0], ctx->now_instant);
            }
        }
        else {
            rv = merge_person(&m, surv.pid, &ns[i], &refused);
            if (rv == APR_SUCCESS && refused) {
                abort_txn(&m, &M_MERGED, expr, 422);
                return;
            }
        }
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "merging");
            return;
        }
    }
    if (demographics && surv.rec) {
        /* Demographics with the merge: a revise of the survivor's source
         * record after the merge (operations.md 5). */
        const char *eff = cr_composite_effective(patient);
        apr_array_header_t *snap;
        int changed = 0;
        payload = cr_json_copy(ctx->pool, patient);
        json_object_object_del(payload, "link");
        snap = cr_composite_extract(ctx->pool, payload,
                                    eff ? eff : ctx->today);
        rv = cr_store_source_touch(ctx->db, ctx->pool, surv.rec->id,
                                   cr_json_serialize(ctx->pool, payload,
                                                     NULL),
                                   ctx->now_instant);
        if (rv == APR_SUCCESS) {
            rv = cr_store_source_apply(&changed, ctx->db, ctx->pool,
                                       surv.rec->id, surv.pid, snap,
                                       eff ? eff : ctx->now_instant,
                                       &m.prov);
        }
    }
    else if (rv == APR_SUCCESS && surv.rec) {
        /* Only meta.security with the merge: the survivor's labels. */
        rv = merge_security(&m, surv.rec->id, surv.pid, patient);
    }
    if (rv == APR_SUCCESS) {
        rv = rebuild(&m, surv.pid, cur + 1, "merge", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = commit(&m, "MergePatient", "U", 200);
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "storing the merge");
        return;
    }
    if (demographics && surv.rec) {
        cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_EXISTING_PHN, NULL, NULL);
    }
    else {
        cr_bc_add(ctx->oc, CR_BC_TXN_PM, CR_BC_PM_OK, NULL, NULL);
    }
    finish(&m, 200);
}

void cr_ops_maintain_unmerge(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_PM, 2, 2, 1, 1, 0, 0
    };
    mreq_t m;
    side_t surv, ns[MAX_LINKS];
    json_object *patient;
    cr_db_rows_t *rows;
    const char *args[5];
    apr_int64_t cur = 0;
    apr_status_t rv;
    int nns, i;

    mreq_init(&m, ctx, CR_BC_TXN_PM, "UnmergePatient", MERGE_PROFILE);
    if (!open_request(&m, body, &rules, 1)
        || !read_merge(&m, &surv, ns, &nns, &patient)) {
        return;
    }
    if (!begin_on_survivor(&m, &surv, &cur, "starting the unmerge")) {
        return;
    }
    for (i = 0; i < nns; i++) {
        const char *mid, *nspid;
        apr_int64_t nsver;
        apr_array_header_t *recs;
        int r;
        args[0] = ns[i].system;
        args[1] = ns[i].value;
        rv = cr_db_select(&rows, ctx->db, ctx->pool, "cr_merge_find", 1, 2,
                          args);
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "finding the merge");
            return;
        }
        if (rows->nrows == 0
            || strcmp(cr_db_cell(rows, 0, 1), surv.pid) != 0) {
            abort_txn(&m, &M_NO_MERGE, apr_psprintf(
                ctx->pool, "Bundle.entry[1].resource.link[%d]", i), 422);
            return;
        }
        mid = cr_db_cell(rows, 0, 0);
        nspid = cr_db_cell(rows, 0, 2);
        nsver = apr_atoi64(cr_db_cell(rows, 0, 3));
        rv = cr_store_source_list(&recs, ctx->db, ctx->pool,
                                  "cr_source_list_merge", mid);
        for (r = 0; rv == APR_SUCCESS && r < recs->nelts; r++) {
            rv = cr_store_source_move(ctx->db, ctx->pool,
                                      APR_ARRAY_IDX(recs, r, const char *),
                                      nspid, "active", NULL,
                                      ctx->now_instant);
        }
        if (rv == APR_SUCCESS) {
            args[0] = ctx->now_instant;
            args[1] = mid;
            rv = cr_db_exec(ctx->db, ctx->pool, "cr_merge_undo", NULL, 2,
                            args);
        }
        if (rv == APR_SUCCESS && strcmp(nspid, surv.pid) != 0) {
            args[0] = ctx->today;
            args[1] = ctx->now_instant;
            args[2] = cr_store_source_registry_id(ctx->pool, surv.pid);
            args[3] = "link";
            args[4] = link_json(ctx->pool, nspid, "replaces");
            rv = cr_db_exec(ctx->db, ctx->pool, "cr_attr_end_value", NULL, 5,
                            args);
            /* The survivor gives the identifiers back first. */
            if (rv == APR_SUCCESS) {
                rv = rebuild(&m, surv.pid, ++cur, "unmerge", NULL);
            }
            if (rv == APR_SUCCESS) {
                cr_stored_t *old = NULL, *now = NULL;
                json_object *json = NULL;
                rv = cr_store_version_get(&old, ctx->db, ctx->pool, nspid,
                                          nsver);
                if (rv == APR_SUCCESS) {
                    rv = cr_store_patient_get(&now, ctx->db, ctx->pool,
                                              nspid);
                }
                if (rv == APR_SUCCESS
                    && cr_json_parse(&json, ctx->pool, old->resource,
                                     strlen(old->resource), NULL, NULL)
                       != APR_SUCCESS) {
                    rv = APR_EGENERAL;
                }
                if (rv == APR_SUCCESS) {
                    rv = store_json(&m, json, nspid, now->version + 1,
                                    "unmerge", 1, NULL);
                }
                if (rv == APR_SUCCESS) {
                    args[0] = NULL;
                    args[1] = nspid;
                    rv = cr_db_exec(ctx->db, ctx->pool,
                                    "cr_patient_source_set_replaced_by",
                                    NULL, 2, args);
                }
                if (rv == APR_SUCCESS) {
                    /* What the merge settled is open for review again
                     * (a reviewer's own decision is left alone). */
                    rv = cr_store_match_duplicate_set_status(
                        NULL, ctx->db, ctx->pool, surv.pid, nspid,
                        CR_STORE_MATCH_DUP_OPEN, CR_STORE_MATCH_DUP_MERGED);
                }
            }
        }
        if (rv != APR_SUCCESS) {
            db_fail(&m, rv, "undoing the merge");
            return;
        }
    }
    if (m.patients == NULL) {
        /* Only source records of one client: rebuild it. */
        rv = rebuild(&m, surv.pid, cur + 1, "unmerge", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = commit(&m, "UnmergePatient", "U", 200);
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "storing the unmerge");
        return;
    }
    issue(&m, &M_UNMERGED, NULL);
    finish(&m, 200);
}

/* ---- $PartialUpdatePatient / $PartialRevisePatient --------------------- */

#define UPDATE_OP_EXT CR_EXT_BASE "bc-update-patient-operation-extension"

static const mcode_t M_UPD_IDENTIFIER = { "BCHCIM.RP.2.0159",
    "business-rule",
    "A partial update names exactly one identifier, the sender's primary "
    "identifier, which must already exist in the registry." };
static const mcode_t M_UPD_NOTHING = { "BCHCIM.RP.2.0160", "invariant",
    "A partial update must change at least one of name, telecom, gender, "
    "birth date, deceased, address or multiple birth "
    "(invariant-update-1)." };
static const mcode_t M_UPD_OP = { "BCHCIM.RP.2.0161", "code-invalid",
    "The update operation must be add, delete or replace." };

/* The update operation of element el (its extension, removed from el):
 * "add", "delete", "replace", NULL when absent, "" when invalid. */
static const char *take_update_op(json_object *el)
{
    json_object *exts = cr_json_get_array(el, "extension");
    size_t i, n = exts ? json_object_array_length(exts) : 0;

    for (i = 0; i < n && i < 50; i++) {
        json_object *e = json_object_array_get_idx(exts, i);
        const char *url = cr_json_get_string(e, "url");
        json_object *cod;
        const char *code;
        if (url == NULL || strcmp(url, UPDATE_OP_EXT) != 0) {
            continue;
        }
        cod = cr_json_get_array(cr_json_get_object(e, "valueCodeableConcept"),
                                "coding");
        code = cod ? cr_json_get_string(json_object_array_get_idx(cod, 0),
                                        "code") : NULL;
        if (code == NULL) {
            code = cr_json_get_string(e, "valueCode");
        }
        /* code belongs to e, which the deletion below frees. */
        code = code == NULL ? ""
               : strcmp(code, "add") == 0 ? "add"
               : strcmp(code, "delete") == 0 ? "delete"
               : strcmp(code, "replace") == 0 ? "replace" : "";
        json_object_array_del_idx(exts, i, 1);
        if (json_object_array_length(exts) == 0) {
            json_object_object_del(el, "extension");
        }
        return code;
    }
    return NULL;
}

/* The key two values of a repeating kind share when one replaces the
 * other: name.use, telecom.system+use, address.type+use. */
static const char *elem_key(apr_pool_t *pool, const char *kind,
                            json_object *v)
{
    const char *use = cr_json_get_string(v, "use");

    if (strcmp(kind, "telecom") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "system")
                           ? cr_json_get_string(v, "system") : "", "|",
                           use ? use : "", NULL);
    }
    if (strcmp(kind, "address") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "type")
                           ? cr_json_get_string(v, "type") : "", "|",
                           use ? use : "", NULL);
    }
    return use ? use : "";
}

typedef struct upd_t {
    const char *op;
    cr_snapattr_t attr;
    json_object *value;        /* parsed attr.value */
} upd_t;

/* The changes a PartialPatientUpdate asks for (of upd_t). */
static int read_updates(mreq_t *m, json_object *patient,
                        apr_array_header_t *out, const char *start)
{
    static const char *const reps[] = { "name", "telecom", "address", NULL };
    static const char *const singles[][3] = {
        { "gender", "_gender", NULL },
        { "birthDate", "_birthDate", NULL },
        { "deceasedDateTime", "_deceasedDateTime", NULL },
        { "deceasedBoolean", "_deceasedBoolean", NULL },
        { "multipleBirthBoolean", "_multipleBirthBoolean", NULL },
        { "multipleBirthInteger", "_multipleBirthInteger", NULL },
        { NULL, NULL, NULL } };
    apr_pool_t *pool = m->ctx->pool;
    json_object *work = cr_json_copy(pool, patient);
    int k;
    size_t i, n;

    for (k = 0; reps[k]; k++) {
        json_object *arr = cr_json_get_array(work, reps[k]);
        n = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < n && i < 50; i++) {
            json_object *el = json_object_array_get_idx(arr, i);
            json_object *one = json_object_new_object(), *a1;
            apr_array_header_t *sa;
            upd_t *u;
            const char *op = take_update_op(el);
            if (op && *op == 0) {
                json_object_put(one);
                return 0;
            }
            a1 = json_object_new_array();
            json_object_array_add(a1, json_object_get(el));
            json_object_object_add(one, reps[k], a1);
            sa = cr_composite_extract(pool, one, start);
            json_object_put(one);
            if (sa->nelts == 0) {
                continue;
            }
            u = apr_array_push(out);
            u->op = op ? op : "replace";
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
            u->value = el;
        }
    }
    for (k = 0; singles[k][0]; k++) {
        json_object *v = cr_json_get(work, singles[k][0]);
        json_object *under = cr_json_get_object(work, singles[k][1]);
        json_object *one;
        apr_array_header_t *sa;
        const char *op = NULL;
        upd_t *u;
        if (v == NULL && under == NULL) {
            continue;
        }
        if (under) {
            op = take_update_op(under);
            if (op && *op == 0) {
                return 0;
            }
            if (json_object_object_length(under) == 0) {
                json_object_object_del(work, singles[k][1]);
            }
        }
        one = json_object_new_object();
        if (v) {
            json_object_object_add(one, singles[k][0], json_object_get(v));
        }
        under = cr_json_get_object(work, singles[k][1]);
        if (under) {
            json_object_object_add(one, singles[k][1],
                                   json_object_get(under));
        }
        sa = cr_composite_extract(pool, one, start);
        u = apr_array_push(out);
        u->op = op ? op : "replace";
        if (sa->nelts > 0) {
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
        }
        else {
            /* delete without a value: the kind is enough */
            memset(&u->attr, 0, sizeof(u->attr));
            u->attr.kind = strncmp(singles[k][0], "deceased", 8) == 0
                           ? "deceased"
                           : strncmp(singles[k][0], "multipleBirth", 13) == 0
                           ? "multipleBirth" : singles[k][0];
        }
        u->value = NULL;
        json_object_put(one);
    }
    {
        /* meta.security replaces the client's labels (operations.md 0.7:
         * R or V restrict, N lifts a restriction). */
        json_object *sec = cr_json_get_array(cr_json_get(work, "meta"),
                                             "security");
        if (sec && json_object_array_length(sec) > 0) {
            json_object *one = json_object_new_object();
            json_object *meta = cr_json_set_new_object(one, "meta");
            apr_array_header_t *sa;
            upd_t *u;
            json_object_object_add(meta, "security", json_object_get(sec));
            sa = cr_composite_extract(pool, one, start);
            json_object_put(one);
            if (sa->nelts > 0) {
                u = apr_array_push(out);
                u->op = "replace";
                u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
                u->value = NULL;
            }
        }
    }
    return 1;
}

static apr_status_t apply_updates(mreq_t *m, const char *rec_id,
                                  const char *pid,
                                  const apr_array_header_t *ups,
                                  const char *end_date)
{
    cr_ctx_t *ctx = m->ctx;
    apr_array_header_t *cur;
    apr_status_t rv;
    int i, j;

    rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
    for (i = 0; rv == APR_SUCCESS && i < ups->nelts; i++) {
        const upd_t *u = &APR_ARRAY_IDX(ups, i, upd_t);
        int single = strcmp(u->attr.kind, "name") != 0
                     && strcmp(u->attr.kind, "telecom") != 0
                     && strcmp(u->attr.kind, "address") != 0;
        const char *key = u->value ? elem_key(ctx->pool, u->attr.kind,
                                              u->value) : NULL;
        int present = 0;
        for (j = 0; rv == APR_SUCCESS && j < cur->nelts; j++) {
            cr_source_attr_t *a = &APR_ARRAY_IDX(cur, j, cr_source_attr_t);
            json_object *v = NULL;
            int hit;
            if (a->id == NULL || strcmp(a->kind, u->attr.kind) != 0) {
                continue;
            }
            if (u->attr.value && strcmp(a->value, u->attr.value) == 0) {
                present = 1;
            }
            if (strcmp(u->op, "add") == 0) {
                continue;
            }
            if (single) {
                hit = 1;
            }
            else if (strcmp(u->op, "delete") == 0 && u->attr.value
                     && strcmp(a->value, u->attr.value) == 0) {
                hit = 1;
            }
            else {
                hit = cr_json_parse(&v, ctx->pool, a->value,
                                    strlen(a->value), NULL, NULL)
                      == APR_SUCCESS
                      && strcmp(elem_key(ctx->pool, a->kind, v), key) == 0;
            }
            if (hit && !(strcmp(u->op, "replace") == 0 && u->attr.value
                         && strcmp(a->value, u->attr.value) == 0)) {
                rv = cr_store_source_end(ctx->db, ctx->pool, a->id, end_date,
                                         ctx->now_instant);
                a->id = NULL;
            }
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0
            && u->attr.value && !present) {
            rv = cr_store_source_add(ctx->db, ctx->pool, rec_id, pid,
                                     &u->attr, &m->prov);
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0) {
            /* later updates see this value as current */
            rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
        }
    }
    return rv;
}

/* A merge whose Patient carries meta.security and no demographics:
 * replace the survivor's security labels (operations.md 0.7), as a
 * partial update of its source record would. */
static apr_status_t merge_security(mreq_t *m, const char *rec_id,
                                   const char *pid, json_object *patient)
{
    apr_array_header_t *ups = apr_array_make(m->ctx->pool, 1, sizeof(upd_t));
    const char *eff = cr_composite_effective(patient);
    json_object *only = json_object_new_object();
    json_object *meta = cr_json_get(patient, "meta");
    apr_status_t rv = APR_SUCCESS;

    if (meta && cr_json_get_array(meta, "security")) {
        json_object_object_add(only, "meta", json_object_get(meta));
        if (read_updates(m, only, ups, eff ? eff : m->ctx->today)
            && ups->nelts > 0) {
            rv = apply_updates(m, rec_id, pid, ups,
                               eff ? eff : m->ctx->today);
        }
    }
    json_object_put(only);
    return rv;
}

static void partial(cr_ctx_t *ctx, json_object *body, const char *name)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_RP, 2, 2, 1, 1, 0, 0
    };
    mreq_t m;
    const cr_envelope_entry_t *e;
    json_object *ids;
    const char *sys, *val, *eff, *pid = NULL, *rec_id = NULL;
    apr_array_header_t *ups;
    cr_source_rec_t *rec = NULL;
    cr_patient_t *stored = NULL;
    apr_int64_t cur = 0;
    apr_status_t rv;

    mreq_init(&m, ctx, CR_BC_TXN_RP, name,
              CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    if (!open_request(&m, body, &rules, 1)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    ids = cr_json_get_array(e->resource, "identifier");
    if (ids == NULL || json_object_array_length(ids) != 1) {
        reject(&m, &M_UPD_IDENTIFIER, apr_pstrcat(ctx->pool, e->expr,
                                                  ".identifier", NULL), 422);
        return;
    }
    sys = cr_json_get_string(json_object_array_get_idx(ids, 0), "system");
    val = cr_json_get_string(json_object_array_get_idx(ids, 0), "value");
    if (sys == NULL || val == NULL) {
        reject(&m, &M_UPD_IDENTIFIER, apr_pstrcat(ctx->pool, e->expr,
                                                  ".identifier", NULL), 422);
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0 && cr_phn_validate(val) != CR_PHN_OK) {
        reject(&m, &M_PHN, apr_pstrcat(ctx->pool, e->expr, ".identifier",
                                       NULL), 422);
        return;
    }
    eff = cr_composite_effective(e->resource);
    ups = apr_array_make(ctx->pool, 8, sizeof(upd_t));
    if (!read_updates(&m, e->resource, ups, eff ? eff : ctx->today)) {
        reject(&m, &M_UPD_OP, e->expr, 422);
        return;
    }
    if (ups->nelts == 0) {
        reject(&m, &M_UPD_NOTHING, e->expr, 400);
        return;
    }
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "starting the partial update");
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0) {
        /* PHN: the registry's member record of the client holding it. */
        rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS && pid) {
            rv = ensure_records(&m, pid);
            rec_id = cr_store_source_registry_id(ctx->pool, pid);
        }
    }
    else {
        rv = cr_store_source_find(&rec, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS) {
            pid = rec->patient_id;
            rec_id = rec->id;
        }
        else if (rv == APR_NOTFOUND) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "finding the record");
        return;
    }
    if (pid == NULL) {
        abort_txn(&m, &M_UPD_IDENTIFIER, apr_pstrcat(ctx->pool, e->expr,
                                                     ".identifier", NULL),
                  422);
        return;
    }
    rv = current_version(&cur, &m, pid);
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "reading the client");
        return;
    }
    if (!version_ok(&m, cur)) {
        abort_txn(&m, &M_VERSION, NULL, 412);
        return;
    }
    rv = apply_updates(&m, rec_id, pid, ups, eff ? eff : ctx->now_instant);
    if (rv == APR_SUCCESS) {
        rv = rebuild(&m, pid, cur + 1, "partial-update", &stored);
    }
    if (rv == APR_SUCCESS) {
        rv = commit(&m, name, "U", 200);
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "storing the partial update");
        return;
    }
    cr_bc_add(ctx->oc, CR_BC_TXN_RP, CR_BC_RP_PROCESSED, NULL, NULL);
    respond_patient(&m, stored);
    finish(&m, 200);
}

void cr_ops_maintain_partial_update(cr_ctx_t *ctx, json_object *body)
{
    partial(ctx, body, "PartialUpdatePatient");
}

void cr_ops_maintain_partial_revise(cr_ctx_t *ctx, json_object *body)
{
    partial(ctx, body, "PartialRevisePatient");
}

/* ---- asynchronous variants (operations.md 6) --------------------------- */


static void enqueue(cr_ctx_t *ctx, json_object *body, const char *op)
{
    static const cr_envelope_rules_t rp_rules = {
        CR_BC_TXN_RP, 2, 3, 1, 1, 0, 1
    };
    static const cr_envelope_rules_t pm_rules = {
        CR_BC_TXN_PM, 2, 2, 1, 1, 0, 0
    };
    const char *opname = apr_pstrcat(ctx->pool, op, ".Async", NULL);
    const cr_envelope_rules_t *rules;
    const char *args[13], *settings, *id;
    json_object *st;
    mreq_t m;
    apr_status_t rv;

    rules = strcmp(op, "MergePatient") == 0 ? &pm_rules : &rp_rules;
    mreq_init(&m, ctx, rules->txn, opname,
              CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle");
    /* The shape, the sender and the user are checked now; the rules of
     * the operation itself when it runs (its response goes to the
     * callback). */
    if (!open_request(&m, body, rules, 1)) {
        return;
    }
    st = json_object_new_object();
    json_object_object_add(st, "base",
                           json_object_new_string(ctx->settings->base_url));
    json_object_object_add(st, "phnFirst", json_object_new_int64(
        ctx->settings->phn_range.first));
    json_object_object_add(st, "phnLast", json_object_new_int64(
        ctx->settings->phn_range.last));
    json_object_object_add(st, "maxRepeats", json_object_new_int(
        ctx->settings->fhir.max_repeats));
    json_object_object_add(st, "maxString", json_object_new_int64(
        (apr_int64_t)ctx->settings->fhir.max_string));
    json_object_object_add(st, "certain", json_object_new_double(
        ctx->settings->match.certain));
    json_object_object_add(st, "probable", json_object_new_double(
        ctx->settings->match.probable));
    json_object_object_add(st, "possible", json_object_new_double(
        ctx->settings->match.possible));
    settings = apr_pstrdup(ctx->pool, json_object_to_json_string_ext(
        st, JSON_C_TO_STRING_PLAIN));
    json_object_put(st);
    id = cr_service_uuid(ctx->pool);
    args[0] = id;
    args[1] = op;
    args[2] = cr_json_serialize(ctx->pool, body, NULL);
    args[3] = settings;
    args[4] = m.in->message_id;
    args[5] = m.meta.sender;
    args[6] = ctx->caller ? ctx->caller->source_system : NULL;
    args[7] = m.meta.enterer;
    args[8] = ctx->caller ? ctx->caller->client_dn : NULL;
    args[9] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT,
                           ctx->if_match > 0 ? ctx->if_match : 0);
    args[10] = ctx->now_instant;
    args[11] = ctx->now_instant;
    args[12] = ctx->now_instant;
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv == APR_SUCCESS) {
        rv = cr_db_exec(ctx->db, ctx->pool, "cr_async_insert", NULL, 13,
                        args);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_audit_in_txn(ctx, opname, "E", 202, NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(ctx->db);
    }
    if (rv != APR_SUCCESS) {
        db_fail(&m, rv, "queueing the request");
        return;
    }
    ctx->resp.audited = 1;
    /* Durably queued: acknowledge (Bundle-Revise-Async-ACK.json). */
    cr_bc_add(ctx->oc, m.txn, CR_BC_RP_ACCEPTED, NULL, NULL);
    m.profile = CR_ENV_PROFILE_BASE "bc-async-ack-response-bundle";
    {
        cr_envelope_reply_t r;
        memset(&r, 0, sizeof(r));
        r.txn = m.txn;
        r.type = "collection";
        r.profile = m.profile;
        r.params_profile = CR_ENV_PROFILE_PARAMS_ASYNC;
        r.timestamp = ctx->now_instant;
        r.total = -1;
        r.link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                       "/Patient/$", opname, NULL);
        r.meta = m.meta;
        r.oc = ctx->oc;
        ctx->resp.status = 202;
        ctx->resp.body = cr_fhir_envelope_reply(ctx->pool, &r);
        ctx->resp.body_on_error = 1;
    }
}

void cr_ops_maintain_add_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "AddPatient");
}

void cr_ops_maintain_revise_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "RevisePatient");
}

void cr_ops_maintain_partial_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "PartialUpdatePatient");
}

void cr_ops_maintain_merge_async(cr_ctx_t *ctx, json_object *body)
{
    enqueue(ctx, body, "MergePatient");
}
