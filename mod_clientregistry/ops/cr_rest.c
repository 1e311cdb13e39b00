/* cr_rest: Patient create/read/vread/update/history/search.
 *
 * Writes run in one transaction: validation happens before it starts,
 * identifier ownership checks, PHN allocation and every row are inside
 * it, and the response is prepared only after the commit succeeded, so a
 * 2xx always means the change is durable.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "fhir/cr_fhir_bundle.h"
#include "core/cr_phn.h"
#include "ops/cr_person.h"
#include "ops/cr_rest.h"
#include "store/cr_store.h"
#include "store/cr_store_search.h"
#include "store/cr_store_pg.h"

static void reject(cr_ctx_t *ctx)
{
    ctx->resp.status = cr_service_status_for_errors(ctx->oc);
}

static void not_found(cr_ctx_t *ctx, const char *what)
{
    ctx->resp.status = 404;
    cr_outcome_add(ctx->oc, CR_SEV_ERROR, "not-found", NULL, NULL,
                   "%s", what);
}

static const char *patient_url(cr_ctx_t *ctx, const char *id)
{
    return apr_pstrcat(ctx->pool, ctx->settings->base_url, "/Patient/", id,
                       NULL);
}

/* Validate a request body as a Patient; NULL after recording the
 * rejection. */
static cr_patient_t *parse_patient(cr_ctx_t *ctx, json_object *body)
{
    cr_patient_t *p = NULL;

    if (cr_fhir_patient_parse(&p, ctx->pool, body, "Patient", ctx->today,
                              &ctx->settings->fhir, ctx->oc)
        != APR_SUCCESS) {
        reject(ctx);
        return NULL;
    }
    return p;
}

/* Inside the write transaction: every identifier must be free or already
 * ours (self_id).  Returns 0 after recording the rejection of each one
 * that is not. */
static int identifiers_free(cr_ctx_t *ctx, const cr_patient_t *p,
                            const char *self_id, apr_status_t *rv)
{
    int i = 0, ok = 1;

    for (;;) {
        const cr_identifier_t *id;
        *rv = cr_person_identifier_taken(&i, ctx, p, self_id, i);
        if (*rv != APR_SUCCESS) {
            return 0;
        }
        if (i < 0) {
            return ok;
        }
        id = &APR_ARRAY_IDX(p->identifiers, i, cr_identifier_t);
        /* CR-ADD-006: an identifier (a PHN among them) belongs to one
         * client only. */
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "duplicate", NULL,
                       apr_psprintf(ctx->pool, "Patient.identifier[%d]", i),
                       "Patient.identifier[%d]: this %s is already held by "
                       "another client", i,
                       id->kind == CR_IDK_PHN ? "PHN" : "identifier");
        ok = 0;
        i++;
    }
}

static void respond_with(cr_ctx_t *ctx, int status, const cr_patient_t *p,
                         apr_int64_t version)
{
    ctx->resp.status = status;
    ctx->resp.body = p->json;
    ctx->resp.etag_version = version;
    ctx->resp.last_modified = ctx->now_instant;
    ctx->resp.content_location = apr_psprintf(
        ctx->pool, "%s/_history/%" APR_INT64_T_FMT,
        patient_url(ctx, p->id), version);
    if (status == 201) {
        ctx->resp.location = ctx->resp.content_location;
    }
}

/* A RESTful write of version `version` of p inside its transaction (the
 * person recipe, cr_person_write: potential duplicates go to the review
 * list, never merged; an update is carried into the person's source
 * records), then the audit record and the commit; the answer only once
 * the commit succeeded.  operation is "create" (201) or "update" (200);
 * what names the write in failure messages. */
static void write_person(cr_ctx_t *ctx, cr_patient_t *p, const char *id,
                         apr_int64_t version, const char *operation,
                         const char *what)
{
    int created = strcmp(operation, "create") == 0;
    cr_person_how_t how;
    apr_status_t rv;

    memset(&how, 0, sizeof(how));
    how.operation = operation;
    how.message_id = ctx->message_id;
    how.duplicates = operation;
    how.keep_in_sources = !created;
    rv = cr_person_write(NULL, ctx, p, id, version, &how);
    if (rv == APR_SUCCESS) {
        rv = cr_person_audit(ctx, operation, created ? "C" : "U",
                             created ? 201 : 200, p->id);
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, apr_pstrcat(ctx->pool, "storing ",
                                                   what, NULL));
        return;
    }
    rv = cr_person_commit(ctx);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, apr_pstrcat(ctx->pool, "committing ",
                                                   what, NULL));
        return;
    }
    respond_with(ctx, created ? 201 : 200, p, version);
}

static void do_create(cr_ctx_t *ctx, cr_patient_t *p, const char *id)
{
    apr_status_t rv;

    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "starting the create");
        return;
    }
    if (!identifiers_free(ctx, p, NULL, &rv)) {
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "checking identifiers");
            return;
        }
        cr_db_rollback(ctx->db);
        reject(ctx);
        return;
    }
    rv = cr_person_assign_phn(ctx, p, &ctx->settings->phn_range);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "assigning a PHN");
        return;
    }
    write_person(ctx, p, id, 1, "create", "the new patient");
}

void cr_rest_create(cr_ctx_t *ctx, json_object *body)
{
    cr_patient_t *p = parse_patient(ctx, body);

    if (p == NULL) {
        return;
    }
    /* FHIR create: a client-supplied id is ignored. */
    do_create(ctx, p, cr_service_uuid(ctx->pool));
}

static void send_stored(cr_ctx_t *ctx, const cr_stored_t *s)
{
    ctx->resp.patients = s->id;
    ctx->resp.status = 200;
    ctx->resp.raw_body = s->resource;
    ctx->resp.etag_version = s->version;
    ctx->resp.last_modified = s->last_updated;
}

void cr_rest_read(cr_ctx_t *ctx, const char *id)
{
    cr_stored_t *s = NULL;
    apr_status_t rv;

    if (cr_phn_looks_like(id)) {
        if (cr_phn_validate(id) != CR_PHN_OK) {
            ctx->resp.status = 422;
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "business-rule", NULL,
                           NULL, "the id looks like a PHN but fails the "
                           "PHN check digit");
            return;
        }
        rv = cr_store_patient_get_by_phn(&s, ctx->db, ctx->pool, id);
    }
    else {
        rv = cr_store_patient_get(&s, ctx->db, ctx->pool, id);
    }
    if (rv == APR_NOTFOUND) {
        not_found(ctx, apr_psprintf(ctx->pool, "no Patient with id '%.64s'",
                                    id));
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading a patient");
        return;
    }
    send_stored(ctx, s);
    ctx->resp.raw_current = 1;
}

static int parse_version(apr_int64_t *out, const char *s)
{
    char *end = NULL;
    apr_int64_t v;

    if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 12) {
        return 0;
    }
    v = apr_strtoi64(s, &end, 10);
    if (*end != '\0' || v < 1) {
        return 0;
    }
    *out = v;
    return 1;
}

void cr_rest_vread(cr_ctx_t *ctx, const char *id, const char *vid)
{
    cr_stored_t *s = NULL;
    apr_int64_t v = 0;
    apr_status_t rv;

    if (!parse_version(&v, vid)) {
        not_found(ctx, "a version id is a positive whole number");
        return;
    }
    rv = cr_store_version_get(&s, ctx->db, ctx->pool, id, v);
    if (rv == APR_NOTFOUND) {
        not_found(ctx, apr_psprintf(ctx->pool, "no version %.12s of Patient "
                                    "'%.64s'", vid, id));
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading a patient version");
        return;
    }
    send_stored(ctx, s);
}

/* The update keeps the registry-assigned PHN: an update that omits it gets
 * the stored PHN identifier back; one that changes it is refused. */
static int keep_phn(cr_ctx_t *ctx, cr_patient_t *p, const cr_stored_t *cur)
{
    const cr_identifier_t *sent = cr_model_find_identifier(
        p, CR_IDK_PHN);
    json_object *old = NULL, *ids;
    size_t i, n;

    if (cur->phn == NULL) {
        return 1;
    }
    if (sent) {
        if (strcmp(sent->value, cur->phn) != 0) {
            cr_outcome_add(ctx->oc, CR_SEV_ERROR, "business-rule", NULL,
                           "Patient.identifier",
                           "a client's PHN cannot be changed by an update "
                           "(a merge joins PHNs)");
            ctx->resp.status = 422;
            return 0;
        }
        return 1;
    }
    if (cr_json_parse(&old, ctx->pool, cur->resource,
                      strlen(cur->resource), NULL, NULL) != APR_SUCCESS) {
        return 1;
    }
    ids = cr_json_get_array(old, "identifier");
    n = ids ? json_object_array_length(ids) : 0;
    for (i = 0; i < n; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *sys = cr_json_get_string(id, "system");
        const char *val = cr_json_get_string(id, "value");
        if (sys && val && strcmp(sys, CR_SYS_PHN) == 0
            && strcmp(val, cur->phn) == 0) {
            json_object *arr = cr_json_get_array(p->json, "identifier");
            cr_identifier_t *mid;
            if (arr == NULL) {
                arr = cr_json_set_new_array(p->json, "identifier");
            }
            json_object_array_add(arr, json_object_get(id));
            mid = apr_array_push(p->identifiers);
            memset(mid, 0, sizeof(*mid));
            mid->system = CR_SYS_PHN;
            mid->value = cur->phn;
            mid->use = "official";
            mid->kind = CR_IDK_PHN;
            mid->json = id;
            return 1;
        }
    }
    cr_fhir_patient_add_phn(p, ctx->pool, cur->phn, ctx->now_instant);
    return 1;
}

void cr_rest_update(cr_ctx_t *ctx, const char *id, json_object *body,
                    apr_int64_t if_match)
{
    cr_patient_t *p = parse_patient(ctx, body);
    cr_stored_t *cur = NULL;
    apr_status_t rv;

    if (p == NULL) {
        return;
    }
    if (p->id == NULL || strcmp(p->id, id) != 0) {
        ctx->resp.status = 400;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "invalid", NULL, "Patient.id",
                       "Patient.id must be present and equal the id in the "
                       "URL");
        return;
    }
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "starting the update");
        return;
    }
    /* PostgreSQL: this person's writers take turns from here. */
    rv = cr_store_patient_lock(NULL, ctx->db, ctx->pool, id);
    if (rv == APR_SUCCESS || rv == APR_NOTFOUND) {
        rv = cr_store_patient_get(&cur, ctx->db, ctx->pool, id);
    }
    if (rv == APR_NOTFOUND) {
        cr_db_rollback(ctx->db);
        if (ctx->settings->allow_client_ids) {
            if (if_match >= 0) {
                ctx->resp.status = 412;
                cr_outcome_add(ctx->oc, CR_SEV_ERROR, "conflict", NULL,
                               NULL, "If-Match names a version of a "
                               "Patient that does not exist");
                return;
            }
            do_create(ctx, p, id);
            return;
        }
        not_found(ctx, apr_psprintf(ctx->pool, "no Patient with id '%.64s';"
                                    " this registry assigns ids itself "
                                    "(create with POST)", id));
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading the patient to update");
        return;
    }
    if (if_match >= 0 && if_match != cur->version) {
        cr_db_rollback(ctx->db);
        ctx->resp.status = 412;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "conflict", NULL, NULL,
                       "If-Match: version %" APR_INT64_T_FMT " is not the "
                       "current version (%" APR_INT64_T_FMT ")", if_match,
                       cur->version);
        return;
    }
    if (!keep_phn(ctx, p, cur)) {
        cr_db_rollback(ctx->db);
        return;
    }
    if (!identifiers_free(ctx, p, id, &rv)) {
        if (rv != APR_SUCCESS) {
            cr_service_db_failure(ctx, rv, "checking identifiers");
            return;
        }
        cr_db_rollback(ctx->db);
        reject(ctx);
        return;
    }
    /* A patient whose demographics come from source records (written by
     * the maintenance operations) is rebuilt from them by the next
     * maintenance write: the update is carried into the registry's own
     * source record so that it is not lost then (cr_person_write). */
    write_person(ctx, p, id, cur->version + 1, "update", "the update");
}

static json_object *parse_stored(cr_ctx_t *ctx, const char *text)
{
    json_object *o = NULL;

    if (text == NULL || cr_json_parse(&o, ctx->pool, text, strlen(text),
                                      NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    return o;
}

static void page_links(cr_ctx_t *ctx, json_object *bundle, const char *url,
                       const char *query, int count, int offset, int total)
{
    const char *sep = (query && *query) ? "&" : "";
    const char *q = query ? query : "";

    cr_fhir_bundle_add_link(bundle, "self", apr_psprintf(
        ctx->pool, "%s?%s%s_count=%d&_offset=%d", url, q, sep, count,
        offset));
    if (count > 0 && offset + count < total) {
        cr_fhir_bundle_add_link(bundle, "next", apr_psprintf(
            ctx->pool, "%s?%s%s_count=%d&_offset=%d", url, q, sep, count,
            offset + count));
    }
    if (offset > 0) {
        int prev = offset - count > 0 ? offset - count : 0;
        cr_fhir_bundle_add_link(bundle, "previous", apr_psprintf(
            ctx->pool, "%s?%s%s_count=%d&_offset=%d", url, q, sep, count,
            prev));
    }
}

void cr_rest_history(cr_ctx_t *ctx, const char *id, const char *query,
                     int lenient)
{
    cr_search_spec_t *spec = NULL;
    apr_array_header_t *list = NULL;
    json_object *bundle;
    cr_stored_t *cur = NULL;
    apr_status_t rv;
    int total = 0, i;

    cr_search_parse(&spec, ctx->pool, query, lenient,
                    &ctx->settings->search, ctx->oc);
    if (cr_outcome_errors(ctx->oc) == 0 && spec->clauses->nelts > 0) {
        cr_outcome_add(ctx->oc, lenient ? CR_SEV_WARNING : CR_SEV_ERROR,
                       "not-supported", NULL, NULL, "history takes only "
                       "_count and _offset");
    }
    if (cr_outcome_errors(ctx->oc) > 0) {
        ctx->resp.status = 400;
        return;
    }
    rv = cr_store_patient_get(&cur, ctx->db, ctx->pool, id);
    if (rv == APR_NOTFOUND) {
        not_found(ctx, apr_psprintf(ctx->pool, "no Patient with id '%.64s'",
                                    id));
        return;
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_history(&list, &total, ctx->db, ctx->pool, id,
                              spec->count, spec->offset);
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "reading history");
        return;
    }
    ctx->resp.patients = cur->id;
    bundle = cr_fhir_bundle_new(ctx->pool, "history",
                                cr_service_uuid(ctx->pool),
                                ctx->now_instant);
    cr_json_set_int(bundle, "total", total);
    page_links(ctx, bundle, apr_pstrcat(ctx->pool, patient_url(ctx, id),
                                        "/_history", NULL),
               "", spec->count, spec->offset, total);
    for (i = 0; i < list->nelts; i++) {
        const cr_stored_t *s = APR_ARRAY_IDX(list, i, cr_stored_t *);
        json_object *res = parse_stored(ctx, s->resource);
        json_object *e = cr_fhir_bundle_add_entry(
            bundle, apr_psprintf(ctx->pool, "%s/_history/%" APR_INT64_T_FMT,
                                 patient_url(ctx, id), s->version), res);
        json_object *req = cr_json_set_new_object(e, "request");
        json_object *resp = cr_json_set_new_object(e, "response");
        int created = s->operation && strcmp(s->operation, "create") == 0;
        cr_json_set_string(req, "method", created ? "POST" : "PUT");
        cr_json_set_string(req, "url", created ? "Patient"
                           : apr_pstrcat(ctx->pool, "Patient/", id, NULL));
        cr_json_set_string(resp, "status", created ? "201 Created"
                                                   : "200 OK");
        cr_json_set_string(resp, "etag", apr_psprintf(
            ctx->pool, "W/\"%" APR_INT64_T_FMT "\"", s->version));
        cr_json_set_string(resp, "lastModified", s->last_updated);
    }
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}

void cr_rest_search(cr_ctx_t *ctx, const char *query, int lenient)
{
    cr_search_spec_t *spec = NULL;
    cr_search_result_t *res = NULL;
    json_object *bundle;
    apr_status_t rv;
    int i;

    if (cr_search_parse(&spec, ctx->pool, query, lenient,
                        &ctx->settings->search, ctx->oc) != APR_SUCCESS) {
        ctx->resp.status = 400;
        return;
    }
    rv = cr_store_search(&res, ctx->db, ctx->pool, spec,
                         ctx->settings->search.max_candidates);
    if (rv == APR_ENOSPC) {
        ctx->resp.status = 400;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "too-costly", NULL, NULL,
                       "the search matches more than %d records; add "
                       "criteria (a client registry is searched for a "
                       "person, not browsed)",
                       ctx->settings->search.max_candidates);
        return;
    }
    if (rv != APR_SUCCESS) {
        cr_service_db_failure(ctx, rv, "searching");
        return;
    }
    bundle = cr_fhir_bundle_new(ctx->pool, "searchset",
                                cr_service_uuid(ctx->pool),
                                ctx->now_instant);
    if (!spec->total_none) {
        cr_json_set_int(bundle, "total", res->total);
    }
    page_links(ctx, bundle, apr_pstrcat(ctx->pool, ctx->settings->base_url,
                                        "/Patient", NULL),
               spec->canonical_query, spec->count, spec->offset,
               res->total);
    for (i = 0; i < res->page->nelts; i++) {
        const cr_stored_t *s = APR_ARRAY_IDX(res->page, i, cr_stored_t *);
        json_object *e, *sr;
        ctx->resp.patients = ctx->resp.patients
            ? apr_pstrcat(ctx->pool, ctx->resp.patients, " ", s->id, NULL)
            : s->id;
        e = cr_fhir_bundle_add_entry(
            bundle, patient_url(ctx, s->id), parse_stored(ctx, s->resource));
        sr = cr_json_set_new_object(e, "search");
        cr_json_set_string(sr, "mode", "match");
    }
    if (ctx->oc->issues->nelts > 0) {
        /* Ignored parameters (lenient handling) are reported in an
         * OperationOutcome entry, as FHIR search prescribes. */
        json_object *e = cr_fhir_bundle_add_entry(
            bundle, apr_pstrcat(ctx->pool, "urn:uuid:",
                                cr_service_uuid(ctx->pool), NULL),
            cr_outcome_to_json(ctx->pool, ctx->oc));
        json_object *sr = cr_json_set_new_object(e, "search");
        cr_json_set_string(sr, "mode", "outcome");
    }
    ctx->resp.status = 200;
    ctx->resp.body = bundle;
}
