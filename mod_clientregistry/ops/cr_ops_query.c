/* cr_ops_query: FindCandidates, GetDemographics, $HistoryPatient and the
 * BC RESTful reads (see the header).
 *
 * Every path ends in finish(): one SearchResponseBundle with the
 * MetadataParametersOut, the OperationOutcome and the results, sent with
 * its HTTP status also when that is an error (CR-GEN-009).  Nothing here
 * opens a transaction or writes: the reads run on the request's
 * connection without one (STYLE.md section 6).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_view.h"
#include "match/cr_index.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_query.h"
#include "core/cr_phn.h"
#include "match/cr_search.h"
#include "store/cr_store_query.h"

/* Versions read to build history (the newest ones), identifier rows read
 * per patient, babies returned for one mother, merge hops followed. */
#define MAX_VERSIONS 100
#define MAX_IDENTIFIER_ROWS 200
#define MAX_CHILDREN 50
#define MAX_MERGE_HOPS 8
#define ROLE_CODE_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

/* ---- one query's response --------------------------------------------- */

typedef struct qreq_t {
    cr_ctx_t *ctx;
    cr_bc_txn_e txn;
    int history;               /* effective flags */
    int identifiers_only;
    int rest;                  /* RESTful form: unknown id is a 404 */
    cr_envelope_meta_t meta;
    const char *link_self, *link_next, *link_previous, *link_canonical;
    int total;                 /* -1: the number of matches returned */
    apr_array_header_t *results;   /* of cr_envelope_result_t */
    const char *patients;      /* ids returned, for the audit trail */
} qreq_t;

static void qreq_init(qreq_t *q, cr_ctx_t *ctx, cr_bc_txn_e txn,
                      const char *op)
{
    memset(q, 0, sizeof(*q));
    q->ctx = ctx;
    q->txn = txn;
    q->total = -1;
    q->results = apr_array_make(ctx->pool, 4, sizeof(cr_envelope_result_t));
    q->meta.message_id = cr_service_uuid(ctx->pool);    /* D-05 */
    q->meta.request_message_id = ctx->request_id;
    q->meta.history = -1;
    q->meta.identifiers_only = -1;
    /* D-20: the authenticated organisation, else the request's sender
     * (set from the envelope), else the registry itself. */
    q->meta.sender = ctx->caller ? ctx->caller->org_id : NULL;
    q->meta.enterer = ctx->caller ? ctx->caller->user_id : NULL;
    if (op) {
        q->link_canonical = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                        "/Patient/$", op, NULL);
    }
}

static void qreq_from_envelope(qreq_t *q, const cr_envelope_in_t *in)
{
    q->meta.request_message_id = in->message_id;
    if (q->meta.sender == NULL) {
        q->meta.sender = in->sender;
    }
    /* D-04: the flags echoed flat, and the request's parameters. */
    q->meta.history = in->history;
    q->meta.identifiers_only = in->identifiers_only;
    q->meta.request_parameters = in->parameters;
    q->history = in->history == 1;
    q->identifiers_only = in->identifiers_only == 1;
}

static void finish(qreq_t *q, int status)
{
    cr_ctx_t *ctx = q->ctx;
    cr_envelope_reply_t r;

    memset(&r, 0, sizeof(r));
    r.txn = q->txn;
    r.type = "searchset";
    r.profile = CR_ENV_PROFILE_SEARCH_RESPONSE;
    r.timestamp = ctx->now_instant;
    r.total = q->total;
    r.link_self = q->link_self;
    r.link_next = q->link_next;
    r.link_previous = q->link_previous;
    r.link_canonical = q->link_canonical;
    r.meta = q->meta;
    r.oc = ctx->oc;
    r.results = status < 400 ? q->results : NULL;
    if (status >= 400) {
        r.total = 0;
    }
    ctx->resp.status = status;
    ctx->resp.body = cr_fhir_envelope_reply(ctx->pool, &r);
    ctx->resp.body_on_error = 1;
    ctx->resp.raw_body = NULL;
    if (q->patients && status < 400) {
        ctx->resp.patients = q->patients;
    }
}

static void reject(qreq_t *q)
{
    finish(q, cr_service_status_for_errors(q->ctx->oc));
}

static void db_fail(qreq_t *q, apr_status_t rv, const char *what)
{
    cr_service_db_failure(q->ctx, rv, what);
    finish(q, q->ctx->resp.status ? q->ctx->resp.status : 500);
}

static const char *patient_url(cr_ctx_t *ctx, const char *id)
{
    return apr_pstrcat(ctx->pool, ctx->settings->base_url, "/Patient/", id,
                       NULL);
}

static void note_patient(qreq_t *q, const char *id)
{
    q->patients = q->patients ? apr_pstrcat(q->ctx->pool, q->patients, " ",
                                            id, NULL)
                              : id;
}

static void add_result(qreq_t *q, const char *full_url, json_object *res,
                       const char *mode, int has_score, int score)
{
    cr_envelope_result_t *e = apr_array_push(q->results);

    memset(e, 0, sizeof(*e));
    e->full_url = full_url;
    e->resource = res;
    e->mode = mode;
    e->has_score = has_score;
    e->score = score;
}

/* ---- loading and rendering ------------------------------------------- */

/* The row of id, following merges (replaced_by) to the survivor; *merged
 * is set when a hop was taken. */
static apr_status_t load_survivor(cr_query_row_t **out, int *merged,
                                  cr_ctx_t *ctx, const char *id)
{
    apr_status_t rv;
    int hops;

    for (hops = 0; hops < MAX_MERGE_HOPS; hops++) {
        rv = cr_store_query_get(out, ctx->db, ctx->pool, id);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if ((*out)->s.replaced_by == NULL || *(*out)->s.replaced_by == 0) {
            return APR_SUCCESS;
        }
        *merged = 1;
        id = (*out)->s.replaced_by;
    }
    return APR_EGENERAL;   /* a merge cycle: corrupt data */
}

static apr_status_t render_patient(json_object **out, qreq_t *q,
                                   const cr_query_row_t *row)
{
    cr_ctx_t *ctx = q->ctx;
    cr_view_input_t in;
    cr_view_options_t opt;
    apr_array_header_t *versions = NULL, *ids = NULL;
    int truncated = 0;
    apr_status_t rv;

    *out = NULL;
    memset(&in, 0, sizeof(in));
    rv = cr_store_query_versions(&versions, &truncated, ctx->db, ctx->pool,
                                 row->s.id, MAX_VERSIONS);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_store_query_identifiers(&ids, ctx->db, ctx->pool, row->s.id,
                                    MAX_IDENTIFIER_ROWS);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (versions->nelts > 0
        && APR_ARRAY_IDX(versions, versions->nelts - 1,
                         cr_view_version_t).version == row->s.version) {
        /* The newest version is the current row: parse it once. */
        in.current = APR_ARRAY_IDX(versions, versions->nelts - 1,
                                   cr_view_version_t).resource;
    }
    else if (cr_json_parse(&in.current, ctx->pool, row->s.resource,
                           strlen(row->s.resource), NULL, NULL)
             != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    in.id = row->s.id;
    in.last_updated = row->s.last_updated;
    in.versions = versions;
    in.identifiers = ids;
    in.masked = row->masked;
    in.full = 1;   /* the output policy masks (ops/cr_privacy) */
    opt.history = q->history;
    opt.identifiers_only = q->identifiers_only;
    opt.now = ctx->now;
    *out = cr_fhir_view_patient(ctx->pool, &in, &opt);
    return APR_SUCCESS;
}

/* ---- GetDemographics ---------------------------------------------------- */

typedef struct lookup_t {
    const char *id;            /* by resource id (or 10-digit PHN) */
    const char *system;        /* by identifier */
    const char *value;
    const char *expr;          /* FHIRPath of the identifier, for issues */
} lookup_t;

static int looks_like_phn(const char *s)
{
    int i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return i == CR_PHN_LEN;
}

/* Check an identifier used as a key; 0 after recording the problem. */
static int key_ok(qreq_t *q, const char **system, const char *value,
                  const char *expr)
{
    cr_ctx_t *ctx = q->ctx;
    cr_id_kind_e k = cr_fhir_identifier_kind(NULL, ctx->pool, *system);

    if (k == CR_IDK_UNKNOWN) {
        /* CR-GD-009 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_GD_SYSTEM,
                  expr ? apr_pstrcat(ctx->pool, expr, ".system", NULL)
                       : NULL, "%.120s", *system);
        return 0;
    }
    if (k == CR_IDK_PHN) {
        cr_phn_result_e r = cr_phn_validate(value);
        if (r != CR_PHN_OK) {
            /* CR-GD-010 */
            cr_bc_add(ctx->oc, q->txn, CR_BC_GD_PHN,
                      expr ? apr_pstrcat(ctx->pool, expr, ".value", NULL)
                           : NULL, "%s", cr_phn_result_text(r));
            return 0;
        }
        /* The legacy id-issuer/BC system names the same PHN. */
        *system = CR_SYS_PHN;
    }
    return 1;
}

static void gd_run(qreq_t *q, const lookup_t *lk)
{
    cr_ctx_t *ctx = q->ctx;
    cr_query_row_t *row = NULL;
    const char *pid = NULL, *status = NULL, *system = lk->system;
    json_object *res = NULL;
    int merged = 0;
    apr_status_t rv;

    if (system) {
        if (!key_ok(q, &system, lk->value, lk->expr)) {
            finish(q, 422);
            return;
        }
        rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                       system, lk->value);
    }
    else if (looks_like_phn(lk->id)) {
        /* DECISION-02: an id of ten digits is a PHN. */
        system = CR_SYS_PHN;
        if (!key_ok(q, &system, lk->id, lk->expr)) {
            finish(q, 422);
            return;
        }
        rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                       system, lk->id);
    }
    else {
        pid = lk->id;
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        rv = load_survivor(&row, &merged, ctx, pid);
    }
    if (rv == APR_NOTFOUND) {
        if (q->rest && lk->id) {
            /* CR-REST-007 */
            cr_bc_add(ctx->oc, q->txn, CR_BC_GD_NOT_FOUND, NULL,
                      "no Patient with id '%.64s'", lk->id);
            finish(q, 404);
            return;
        }
        /* CR-GD-008, D-07: a valid query that found nobody. */
        cr_bc_add(ctx->oc, q->txn, CR_BC_GD_NO_RESULTS, NULL, NULL);
        finish(q, 200);
        return;
    }
    if (rv == APR_SUCCESS) {
        rv = render_patient(&res, q, row);
    }
    if (rv != APR_SUCCESS) {
        db_fail(q, rv, "reading a patient");
        return;
    }
    if (merged || (status && strcmp(status, "merged") == 0)) {
        /* CR-GD-021 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_GD_MERGED, lk->expr, NULL);
    }
    cr_bc_add(ctx->oc, q->txn, CR_BC_GD_OK, NULL, NULL);
    add_result(q, patient_url(ctx, row->s.id), res, "match", 0, 0);
    note_patient(q, row->s.id);
    finish(q, 200);
}

static int valid_id(const char *s)
{
    apr_size_t n;

    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            return 0;
        }
    }
    return n > 0 && n <= 64;
}

static void get_demographics(cr_ctx_t *ctx, json_object *body,
                             int force_history, const char *op)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_GD, 2, 2, 1, 1, 0, 0     /* CR-BND-002, D-17 */
    };
    cr_envelope_in_t *in = NULL;
    const cr_envelope_entry_t *e;
    json_object *ids, *idv;
    lookup_t lk;
    qreq_t q;

    qreq_init(&q, ctx, CR_BC_TXN_GD, op);
    if (cr_fhir_envelope_parse(&in, ctx->pool, body, &rules, ctx->oc)
        != APR_SUCCESS) {
        qreq_from_envelope(&q, in);
        reject(&q);
        return;
    }
    qreq_from_envelope(&q, in);
    if (force_history) {
        q.history = 1;
    }
    e = &APR_ARRAY_IDX(in->patients, 0, cr_envelope_entry_t);
    memset(&lk, 0, sizeof(lk));
    idv = cr_json_get(e->resource, "id");
    ids = cr_json_get(e->resource, "identifier");
    if (idv && ids) {
        /* CR-GD-005: both -> rejected (profile text, G5). */
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_BOTH, e->expr, NULL);
        finish(&q, 400);
        return;
    }
    if (idv == NULL && ids == NULL) {
        /* CR-GD-006 */
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NEITHER, e->expr, NULL);
        finish(&q, 400);
        return;
    }
    if (idv) {
        if (!json_object_is_type(idv, json_type_string)
            || !valid_id(json_object_get_string(idv))) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID,
                      apr_pstrcat(ctx->pool, e->expr, ".id", NULL),
                      "an id is 1 to 64 letters, digits, '-' or '.'");
            finish(&q, 400);
            return;
        }
        lk.id = json_object_get_string(idv);
        lk.expr = apr_pstrcat(ctx->pool, e->expr, ".id", NULL);
    }
    else {
        json_object *id0;
        if (!json_object_is_type(ids, json_type_array)
            || json_object_array_length(ids) != 1) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_ONE_IDENTIFIER,
                      apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                      NULL);
            finish(&q, 400);
            return;
        }
        id0 = json_object_array_get_idx(ids, 0);
        lk.expr = apr_pstrcat(ctx->pool, e->expr, ".identifier[0]", NULL);
        lk.system = cr_json_get_string(id0, "system");
        lk.value = cr_json_get_string(id0, "value");
        if (lk.system == NULL || lk.value == NULL || *lk.system == '\0'
            || *lk.value == '\0' || strlen(lk.value) > 256) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NO_VALUE, lk.expr, NULL);
            finish(&q, 400);
            return;
        }
    }
    gd_run(&q, &lk);
}

void cr_ops_query_get_demographics(cr_ctx_t *ctx, json_object *body)
{
    get_demographics(ctx, body, 0, "GetDemographics");
}

void cr_ops_query_get_demographics_history(cr_ctx_t *ctx, json_object *body)
{
    get_demographics(ctx, body, 1, "GetDemographics.History");
}

void cr_ops_query_history_patient(cr_ctx_t *ctx, const char *id)
{
    lookup_t lk;
    qreq_t q;

    qreq_init(&q, ctx, CR_BC_TXN_GD, NULL);
    q.link_canonical = apr_pstrcat(ctx->pool, patient_url(ctx, id),
                                   "/$HistoryPatient", NULL);
    q.rest = 1;
    q.history = 1;
    q.meta.history = 1;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    gd_run(&q, &lk);
}

void cr_ops_query_rest_read(cr_ctx_t *ctx, const char *id, int history,
                            int identifiers_only)
{
    lookup_t lk;
    qreq_t q;

    qreq_init(&q, ctx, CR_BC_TXN_GD, NULL);
    q.link_self = apr_pstrcat(ctx->pool, patient_url(ctx, id),
                              history ? "/_history"
                              : identifiers_only ? "/_identifiersOnly" : "",
                              NULL);
    q.rest = 1;
    q.history = history;
    q.identifiers_only = identifiers_only;
    q.meta.history = history ? 1 : -1;
    q.meta.identifiers_only = identifiers_only ? 1 : -1;
    memset(&lk, 0, sizeof(lk));
    lk.id = id;
    gd_run(&q, &lk);
}

/* ---- the raw score (D-13) ------------------------------------------------ */

int cr_ops_query_score(double weight)
{
    double points = weight * 10.0;

    if (!(points > 0.0)) {
        return 0;   /* also NaN */
    }
    if (points >= CR_QUERY_SCORE_IDENTIFIER - 1) {
        return CR_QUERY_SCORE_IDENTIFIER - 1;
    }
    return (int)(points + 0.5);
}

/* ---- FindCandidates ----------------------------------------------------- */

static int has_wildcard(const char *s)
{
    return strpbrk(s, "*%?") != NULL;
}

/* CR-FC-018: report every search value holding a wildcard. */
static int wildcards(qreq_t *q, json_object *o, const char *path, int depth)
{
    int found = 0;

    if (depth > 8) {
        return 0;
    }
    if (json_object_is_type(o, json_type_string)) {
        if (has_wildcard(json_object_get_string(o))) {
            cr_bc_add(q->ctx->oc, q->txn, CR_BC_FC_WILDCARD, path, NULL);
            return 1;
        }
        return 0;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n && i < 100; i++) {
            found += wildcards(q, json_object_array_get_idx(o, i),
                               apr_psprintf(q->ctx->pool, "%s[%d]", path,
                                            (int)i), depth + 1);
        }
        return found;
    }
    if (json_object_is_type(o, json_type_object)) {
        static const char *const searched[] = {
            "name", "telecom", "address", "birthDate", "gender",
            "identifier", NULL
        };
        json_object_object_foreach(o, k, v) {
            int i, keep = depth > 0;
            for (i = 0; !keep && searched[i]; i++) {
                keep = strcmp(k, searched[i]) == 0;
            }
            /* The search values only: not the narrative or meta, and not
             * codes or URLs (system, url, use, type). */
            if (!keep || strcmp(k, "system") == 0 || strcmp(k, "url") == 0
                || strcmp(k, "use") == 0 || strcmp(k, "type") == 0
                || strcmp(k, "extension") == 0 || strcmp(k, "period") == 0) {
                continue;
            }
            found += wildcards(q, v, apr_pstrcat(q->ctx->pool, path, ".", k,
                                                 NULL), depth + 1);
        }
    }
    return found;
}

static int fc_criteria(qreq_t *q, const cr_patient_t *p, const char *root)
{
    cr_ctx_t *ctx = q->ctx;
    int i, name = 0, second = 0;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->family && *n->family && n->given && n->given->nelts > 0) {
            name = 1;
        }
    }
    if (!name) {
        /* CR-FC-011, CR-FC-012 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_NAME,
                  apr_pstrcat(ctx->pool, root, ".name", NULL), NULL);
    }
    second = p->birth_date != NULL;
    for (i = 0; i < p->addresses->nelts; i++) {
        const cr_address_t *a = &APR_ARRAY_IDX(p->addresses, i,
                                               cr_address_t);
        second |= (a->line && a->line->nelts > 0) || a->postal_code != NULL;
    }
    for (i = 0; i < p->telecoms->nelts; i++) {
        const cr_telecom_t *t = &APR_ARRAY_IDX(p->telecoms, i, cr_telecom_t);
        second |= t->system && strcmp(t->system, "phone") == 0 && t->value;
    }
    if (!second) {
        /* CR-FC-013 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_SECOND, root, NULL);
    }
    return name && second;
}

/* Rank and render; count/offset page the ranked list (RESTful form). */
static void fc_person(qreq_t *q, json_object *json, const char *root,
                      int count, int offset, const char *page_url)
{
    cr_ctx_t *ctx = q->ctx;
    cr_patient_t *p = NULL;
    apr_array_header_t *cands = NULL;
    apr_status_t rv;
    int i, max = ctx->settings->search.max_count;

    if (wildcards(q, json, root, 0) > 0) {
        finish(q, 422);
        return;
    }
    if (cr_fhir_patient_parse(&p, ctx->pool, json, root, ctx->today,
                              &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        reject(q);
        return;
    }
    if (!fc_criteria(q, p, root)) {
        finish(q, 422);
        return;
    }
    /* The matching engine ranks; every grade from possible up is a
     * candidate (operations.md: all candidates above the threshold). */
    rv = cr_ops_match_find(&cands, ctx, p, max > 0 ? max : 50,
                           CR_MATCH_POSSIBLE);
    if (rv == CR_OPS_MATCH_NOT_ENOUGH) {
        /* Valid criteria that give the engine nothing to look up (an
         * address line without a house number or street word). */
        cands = apr_array_make(ctx->pool, 1, sizeof(cr_match_result_t));
        rv = APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        db_fail(q, rv, "finding candidates");
        return;
    }
    if (count < 0) {
        count = cands->nelts;
    }
    if (page_url) {
        /* FHIR paging of the RESTful form: total counts the candidates
         * the engine returned (at most ClientRegistryMaxPageSize). */
        q->total = cands->nelts;
        if (offset + count < cands->nelts) {
            q->link_next = apr_psprintf(ctx->pool, "%s_count=%d&_offset=%d",
                                        page_url, count, offset + count);
        }
        if (offset > 0) {
            q->link_previous = apr_psprintf(
                ctx->pool, "%s_count=%d&_offset=%d", page_url, count,
                offset - count > 0 ? offset - count : 0);
        }
    }
    for (i = offset; i < cands->nelts && i < offset + count; i++) {
        const cr_match_result_t *c = &APR_ARRAY_IDX(cands, i,
                                                    cr_match_result_t);
        cr_query_row_t *row = NULL;
        json_object *res = NULL;
        rv = cr_store_query_get(&row, ctx->db, ctx->pool, c->patient_id);
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv == APR_SUCCESS) {
            rv = render_patient(&res, q, row);
        }
        if (rv != APR_SUCCESS) {
            db_fail(q, rv, "reading a candidate");
            return;
        }
        /* CR-FC-004, CR-FC-005: mode match, raw score (D-13), best
         * first.  The grade is not shown: the BC response carries the
         * score alone, as the IG's examples do. */
        add_result(q, patient_url(ctx, c->patient_id), res, "match", 1,
                   cr_ops_query_score(c->weight));
        note_patient(q, c->patient_id);
    }
    cr_bc_add(ctx->oc, q->txn, cands->nelts > 0 ? CR_BC_FC_OK
                                                : CR_BC_FC_NO_RESULTS,
              NULL, NULL);
    finish(q, 200);
}

static int is_nmth(json_object *rp)
{
    json_object *rels = cr_json_get_array(rp, "relationship");
    size_t i, j, n = rels ? json_object_array_length(rels) : 0;

    for (i = 0; i < n && i < 20; i++) {
        json_object *cod = cr_json_get_array(
            json_object_array_get_idx(rels, i), "coding");
        size_t m = cod ? json_object_array_length(cod) : 0;
        for (j = 0; j < m && j < 20; j++) {
            json_object *c = json_object_array_get_idx(cod, j);
            const char *sys = cr_json_get_string(c, "system");
            const char *code = cr_json_get_string(c, "code");
            if (sys && code && strcmp(sys, ROLE_CODE_SYSTEM) == 0
                && strcmp(code, "NMTH") == 0) {
                return 1;
            }
        }
    }
    return 0;
}

/* The RelatedPerson of a newborn's mother in a mother's-PHN response
 * (D-14: with the mother's PHN and a resolvable patient reference). */
static json_object *related_person(apr_pool_t *pool, const char *phn,
                                   const char *child_url)
{
    json_object *rp = cr_json_own(pool, json_object_new_object());
    json_object *arr, *id, *ext, *o, *coding;

    cr_json_set_string(rp, "resourceType", "RelatedPerson");
    arr = cr_json_set_new_array(rp, "identifier");
    id = cr_json_array_add_object(arr);
    ext = cr_json_set_new_array(id, "extension");
    o = cr_json_array_add_object(ext);
    cr_json_set_string(o, "url", CR_EXT_IDENTIFIER_STATUS);
    cr_json_set_string(o, "valueCode", "active");
    cr_json_set_string(id, "use", "official");
    cr_json_set_string(id, "system", CR_SYS_PHN);
    cr_json_set_string(id, "value", phn);
    o = cr_json_set_new_object(rp, "patient");
    cr_json_set_string(o, "reference", child_url);
    arr = cr_json_set_new_array(rp, "relationship");
    o = cr_json_array_add_object(arr);
    coding = cr_json_set_new_array(o, "coding");
    o = cr_json_array_add_object(coding);
    cr_json_set_string(o, "system", ROLE_CODE_SYSTEM);
    cr_json_set_string(o, "code", "NMTH");
    return rp;
}

static void fc_mother(qreq_t *q, const cr_envelope_entry_t *e)
{
    cr_ctx_t *ctx = q->ctx;
    json_object *ids = cr_json_get(e->resource, "identifier");
    json_object *mres = NULL, *links;
    const char *phn = NULL, *pid = NULL, *status = NULL, *mphn;
    cr_query_row_t *mother = NULL;
    apr_array_header_t *kids, *rps;
    apr_hash_t *seen = apr_hash_make(ctx->pool);
    cr_phn_result_e pr;
    apr_status_t rv;
    int merged = 0, i;
    size_t k, n;

    n = ids && json_object_is_type(ids, json_type_array)
        ? json_object_array_length(ids) : 0;
    for (k = 0; k < n && k < 20; k++) {
        json_object *id = json_object_array_get_idx(ids, k);
        const char *sys = cr_json_get_string(id, "system");
        if (sys && strcmp(sys, CR_SYS_PHN) == 0) {
            phn = phn ? "" : cr_json_get_string(id, "value");
        }
    }
    if (phn == NULL || *phn == '\0') {
        /* CR-FC-029 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_SHAPE,
                  apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                  "one identifier with the PHN system");
    }
    if (!is_nmth(e->resource)) {
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_SHAPE,
                  apr_pstrcat(ctx->pool, e->expr, ".relationship", NULL),
                  "relationship v3-RoleCode#NMTH");
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        finish(q, 422);
        return;
    }
    if ((pr = cr_phn_validate(phn)) != CR_PHN_OK) {
        /* CR-FC-027 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_MOTHER_PHN,
                  apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                  "%s", cr_phn_result_text(pr));
        finish(q, 422);
        return;
    }
    rv = cr_store_query_identifier(&pid, &status, ctx->db, ctx->pool,
                                   CR_SYS_PHN, phn);
    if (rv == APR_SUCCESS) {
        rv = load_survivor(&mother, &merged, ctx, pid);
    }
    if (rv == APR_NOTFOUND) {
        /* CR-FC-028 */
        cr_bc_add(ctx->oc, q->txn, CR_BC_FC_NO_RESULTS, NULL, NULL);
        finish(q, 200);
        return;
    }
    kids = apr_array_make(ctx->pool, 4, sizeof(char *));
    if (rv == APR_SUCCESS) {
        rv = cr_store_query_by_key(kids, seen, ctx->db, ctx->pool,
                                   CR_IDX_MOTHER_PHN, phn, MAX_CHILDREN);
    }
    mphn = mother ? mother->s.phn : NULL;
    if (rv == APR_SUCCESS && mphn && strcmp(mphn, phn) != 0) {
        rv = cr_store_query_by_key(kids, seen, ctx->db, ctx->pool,
                                   CR_IDX_MOTHER_PHN, mphn, MAX_CHILDREN);
    }
    if (rv == APR_SUCCESS) {
        rv = render_patient(&mres, q, mother);
    }
    if (rv != APR_SUCCESS) {
        db_fail(q, rv, "finding a mother's newborns");
        return;
    }
    rps = apr_array_make(ctx->pool, 4, sizeof(cr_envelope_result_t));
    for (i = 0; i < kids->nelts && i < MAX_CHILDREN; i++) {
        cr_query_row_t *kid = NULL;
        json_object *kres = NULL;
        const char *kurl, *rpurl;
        cr_envelope_result_t *r;
        int km = 0;
        rv = load_survivor(&kid, &km, ctx, APR_ARRAY_IDX(kids, i,
                                                         const char *));
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv == APR_SUCCESS) {
            rv = render_patient(&kres, q, kid);
        }
        if (rv != APR_SUCCESS) {
            db_fail(q, rv, "reading a newborn");
            return;
        }
        kurl = patient_url(ctx, kid->s.id);
        rpurl = cr_fhir_envelope_urn(ctx->pool);
        add_result(q, kurl, kres, "match", 1, CR_QUERY_SCORE_IDENTIFIER);
        note_patient(q, kid->s.id);
        /* CR-FC-024, CR-FC-025 */
        r = apr_array_push(rps);
        memset(r, 0, sizeof(*r));
        r->full_url = rpurl;
        r->resource = related_person(ctx->pool, mphn ? mphn : phn, kurl);
        r->mode = "include";
        /* CR-FC-026: the mother links to each RelatedPerson. */
        links = cr_json_get_array(mres, "link");
        if (links == NULL) {
            links = cr_json_set_new_array(mres, "link");
        }
        {
            json_object *l = cr_json_array_add_object(links);
            json_object *o = cr_json_set_new_object(l, "other");
            cr_json_set_string(o, "reference", rpurl);
            cr_json_set_string(l, "type", "seealso");
        }
    }
    /* CR-FC-023: the mother and her newborns. */
    add_result(q, patient_url(ctx, mother->s.id), mres, "match", 1,
               CR_QUERY_SCORE_IDENTIFIER);
    note_patient(q, mother->s.id);
    for (i = 0; i < rps->nelts; i++) {
        *(cr_envelope_result_t *)apr_array_push(q->results) =
            APR_ARRAY_IDX(rps, i, cr_envelope_result_t);
    }
    cr_bc_add(ctx->oc, q->txn, CR_BC_FC_OK, NULL, NULL);
    finish(q, 200);
}

void cr_ops_query_find_candidates(cr_ctx_t *ctx, json_object *body)
{
    static const cr_envelope_rules_t rules = {
        CR_BC_TXN_FC, 2, 3, 0, 1, 0, 1      /* CR-BND-001 */
    };
    cr_envelope_in_t *in = NULL;
    qreq_t q;

    qreq_init(&q, ctx, CR_BC_TXN_FC, "FindCandidates");
    if (cr_fhir_envelope_parse(&in, ctx->pool, body, &rules, ctx->oc)
        != APR_SUCCESS) {
        qreq_from_envelope(&q, in);
        reject(&q);
        return;
    }
    qreq_from_envelope(&q, in);
    if (in->patients->nelts + in->related->nelts != 1) {
        /* invariant-fc-1: CR-FC-008, CR-FC-009, CR-INV-001 */
        cr_bc_add(ctx->oc, q.txn, CR_BC_FC_EXACTLY_ONE, "Bundle.entry",
                  NULL);
        finish(&q, 400);
        return;
    }
    if (in->history == 1) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID, NULL,
                  "history applies to GetDemographics only");
        finish(&q, 400);
        return;
    }
    if (in->related->nelts == 1) {
        fc_mother(&q, &APR_ARRAY_IDX(in->related, 0, cr_envelope_entry_t));
        return;
    }
    fc_person(&q, APR_ARRAY_IDX(in->patients, 0,
                                cr_envelope_entry_t).resource,
              APR_ARRAY_IDX(in->patients, 0, cr_envelope_entry_t).expr,
              -1, 0, NULL);
}

/* ---- the RESTful forms -------------------------------------------------- */

typedef struct rparam_t {
    const char *name;
    const char *value;
} rparam_t;

/* Decode the query string into name/value pairs; 0 after recording a
 * problem. */
static int rest_params(apr_array_header_t **out, qreq_t *q,
                       const char *query)
{
    cr_ctx_t *ctx = q->ctx;
    apr_array_header_t *list = apr_array_make(ctx->pool, 8,
                                              sizeof(rparam_t));
    const char *p = query ? query : "";
    int n = 0;

    *out = list;
    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        rparam_t *r;
        if (len == 0) {
            p = amp ? amp + 1 : p + len;
            continue;
        }
        if (++n > ctx->settings->search.max_params) {
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, NULL,
                      "more than %d parameters",
                      ctx->settings->search.max_params);
            return 0;
        }
        r = apr_array_push(list);
        if (cr_search_decode(&r->name, ctx->pool, p,
                             eq ? (apr_size_t)(eq - p) : len) != APR_SUCCESS
            || cr_search_decode(&r->value, ctx->pool, eq ? eq + 1 : p + len,
                                eq ? len - (apr_size_t)(eq - p) - 1 : 0)
               != APR_SUCCESS) {
            /* CR-REST-012: well-formed %-escapes only. */
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, NULL,
                      "the query string has a bad %%-escape or is not "
                      "valid UTF-8");
            return 0;
        }
        p = amp ? amp + 1 : p + len;
    }
    return 1;
}

static const char *strip_paging(apr_pool_t *pool, const char *query)
{
    const char *p = query ? query : "", *out = "";

    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        if (len > 0 && strncmp(p, "_count=", 7) != 0
            && strncmp(p, "_offset=", 8) != 0) {
            out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, p, len), "&",
                              NULL);
        }
        p = amp ? amp + 1 : p + len;
    }
    return out;
}

static int int_param(int *out, const char *v, int lo, int hi)
{
    char *end = NULL;
    long n;

    if (*v == '\0' || strlen(v) > 9) {
        return 0;
    }
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        return 0;
    }
    *out = (int)n;
    return 1;
}

/* GET [base]/Patient?family=&given=&... (operations.md 8.1). */
static void rest_find(qreq_t *q, apr_array_header_t *params, int lenient,
                      const char *query)
{
    static const char *const known[] = {
        "family", "given", "gender", "birthdate", "address-line",
        "address-city", "address-province", "address-state",
        "address-postalcode", "address-country", "phone", "email", NULL
    };
    cr_ctx_t *ctx = q->ctx;
    json_object *p = cr_json_own(ctx->pool, json_object_new_object());
    apr_hash_t *vals = apr_hash_make(ctx->pool);
    json_object *o, *arr;
    int i, k, count = -1, offset = 0, bad = 0;
    const char *v;

    for (i = 0; i < params->nelts; i++) {
        const rparam_t *r = &APR_ARRAY_IDX(params, i, rparam_t);
        int ok = 0;
        if (strcmp(r->name, "_format") == 0
            || strcmp(r->name, "_pretty") == 0) {
            continue;
        }
        if (strcmp(r->name, "_count") == 0
            || strcmp(r->name, "_offset") == 0) {
            int *dst = r->name[1] == 'c' ? &count : &offset;
            if (!int_param(dst, r->value, r->name[1] == 'c' ? 1 : 0,
                           100000000)) {
                cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, r->name,
                          "%s must be a whole number", r->name);
                bad++;
            }
            continue;
        }
        for (k = 0; known[k]; k++) {
            ok |= strcmp(known[k], r->name) == 0;
        }
        if (!ok) {
            if (lenient) {
                cr_outcome_add(ctx->oc, CR_SEV_WARNING, "not-supported",
                               cr_bc_code(ctx->pool, q->txn, CR_BC_WARNING),
                               r->name, "unknown search parameter '%.64s' "
                               "(ignored)", r->name);
                continue;
            }
            cr_bc_add(ctx->oc, q->txn, CR_BC_FC_PARAM, r->name,
                      "unknown search parameter '%.64s'", r->name);
            bad++;
            continue;
        }
        if (apr_hash_get(vals, r->name, APR_HASH_KEY_STRING)) {
            /* CR-REST-011: one given name and one address line only. */
            cr_bc_add(ctx->oc, q->txn, CR_BC_FC_PARAM, r->name,
                      "%.64s may appear only once", r->name);
            bad++;
            continue;
        }
        if (*r->value == '\0' || strlen(r->value) > 256) {
            cr_bc_add(ctx->oc, q->txn, CR_BC_INVALID, r->name,
                      "%.64s needs a value of at most 256 bytes", r->name);
            bad++;
            continue;
        }
        apr_hash_set(vals, r->name, APR_HASH_KEY_STRING, r->value);
    }
    if (bad) {
        finish(q, 400);
        return;
    }
    if (count > 0 && count > ctx->settings->search.max_count) {
        count = ctx->settings->search.max_count;
    }
    /* The query as a Patient, checked like a FindCandidates Patient. */
    cr_json_set_string(p, "resourceType", "Patient");
    if (apr_hash_get(vals, "family", APR_HASH_KEY_STRING)
        || apr_hash_get(vals, "given", APR_HASH_KEY_STRING)) {
        arr = cr_json_set_new_array(p, "name");
        o = cr_json_array_add_object(arr);
        cr_json_set_string(o, "family", apr_hash_get(vals, "family",
                                                     APR_HASH_KEY_STRING));
        if ((v = apr_hash_get(vals, "given", APR_HASH_KEY_STRING))) {
            json_object_array_add(cr_json_set_new_array(o, "given"),
                                  json_object_new_string(v));
        }
    }
    if ((v = apr_hash_get(vals, "phone", APR_HASH_KEY_STRING))
        || apr_hash_get(vals, "email", APR_HASH_KEY_STRING)) {
        arr = cr_json_set_new_array(p, "telecom");
        if (v) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "system", "phone");
            cr_json_set_string(o, "value", v);
        }
        if ((v = apr_hash_get(vals, "email", APR_HASH_KEY_STRING))) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "system", "email");
            cr_json_set_string(o, "value", v);
        }
    }
    cr_json_set_string(p, "gender", apr_hash_get(vals, "gender",
                                                 APR_HASH_KEY_STRING));
    cr_json_set_string(p, "birthDate", apr_hash_get(vals, "birthdate",
                                                    APR_HASH_KEY_STRING));
    {
        static const char *const addr[][2] = {
            { "address-city", "city" }, { "address-province", "state" },
            { "address-state", "state" },
            { "address-postalcode", "postalCode" },
            { "address-country", "country" }, { NULL, NULL }
        };
        json_object *a = NULL;
        if ((v = apr_hash_get(vals, "address-line", APR_HASH_KEY_STRING))) {
            a = cr_json_array_add_object(cr_json_set_new_array(p,
                                                               "address"));
            json_object_array_add(cr_json_set_new_array(a, "line"),
                                  json_object_new_string(v));
        }
        for (k = 0; addr[k][0]; k++) {
            if ((v = apr_hash_get(vals, addr[k][0], APR_HASH_KEY_STRING))) {
                if (a == NULL) {
                    a = cr_json_array_add_object(
                        cr_json_set_new_array(p, "address"));
                }
                if (cr_json_get(a, addr[k][1]) == NULL) {
                    cr_json_set_string(a, addr[k][1], v);
                }
            }
        }
    }
    q->link_self = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                               "/Patient?", query ? query : "", NULL);
    fc_person(q, p, "Patient", count, offset,
              apr_pstrcat(ctx->pool, ctx->settings->base_url, "/Patient?",
                          strip_paging(ctx->pool, query), NULL));
}

void cr_ops_query_rest_search(cr_ctx_t *ctx, const char *query, int history,
                              int identifiers_only, int lenient)
{
    apr_array_header_t *params = NULL;
    const rparam_t *ident = NULL;
    lookup_t lk;
    qreq_t q;
    int i, others = 0;

    qreq_init(&q, ctx, CR_BC_TXN_GD, NULL);
    if (!rest_params(&params, &q, query)) {
        finish(&q, 400);
        return;
    }
    for (i = 0; i < params->nelts; i++) {
        const rparam_t *r = &APR_ARRAY_IDX(params, i, rparam_t);
        if (strcmp(r->name, "identifier") == 0) {
            if (ident) {
                cr_bc_add(ctx->oc, q.txn, CR_BC_GD_ONE_IDENTIFIER,
                          "identifier", NULL);
                finish(&q, 400);
                return;
            }
            ident = r;
        }
        else if (strcmp(r->name, "_format") != 0
                 && strcmp(r->name, "_pretty") != 0) {
            others++;
        }
    }
    if (ident == NULL && !history && !identifiers_only) {
        q.txn = CR_BC_TXN_FC;
        rest_find(&q, params, lenient, query);
        return;
    }
    q.link_self = apr_pstrcat(ctx->pool, ctx->settings->base_url,
                              "/Patient", history ? "/_history"
                              : identifiers_only ? "/_identifiersOnly" : "",
                              "?", query ? query : "", NULL);
    q.history = history;
    q.identifiers_only = identifiers_only;
    q.meta.history = history ? 1 : -1;
    q.meta.identifiers_only = identifiers_only ? 1 : -1;
    if (ident == NULL) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NEITHER, "identifier",
                  "identifier=<system>|<value> is required here");
        finish(&q, 400);
        return;
    }
    if (others > 0) {
        cr_bc_add(ctx->oc, q.txn, CR_BC_INVALID, NULL,
                  "identifier cannot be combined with other parameters");
        finish(&q, 400);
        return;
    }
    memset(&lk, 0, sizeof(lk));
    lk.expr = "identifier";
    {
        const char *bar = strchr(ident->value, '|');
        if (bar == NULL || bar == ident->value || bar[1] == '\0'
            || strlen(bar + 1) > 256) {
            cr_bc_add(ctx->oc, q.txn, CR_BC_GD_NO_VALUE, "identifier",
                      "identifier=<system>|<value>");
            finish(&q, 400);
            return;
        }
        lk.system = apr_pstrmemdup(ctx->pool, ident->value,
                                   bar - ident->value);
        lk.value = bar + 1;
    }
    gd_run(&q, &lk);
}
