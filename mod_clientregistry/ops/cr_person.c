/* cr_person: the one recipe that writes a person (see the header). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "core/cr_json.h"
#include "core/cr_phn.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_events.h"
#include "ops/cr_audit.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_person.h"
#include "store/cr_store.h"
#include "store/cr_store_notify.h"
#include "store/cr_store_person.h"

apr_status_t cr_person_identifier_taken(int *taken, cr_ctx_t *ctx,
                                        const cr_patient_t *p,
                                        const char *self, int from)
{
    return cr_store_person_identifier_taken(taken, ctx->db, ctx->pool, p,
                                            self, from);
}

apr_status_t cr_person_assign_phn(cr_ctx_t *ctx, cr_patient_t *p,
                                  const cr_phn_range_t *range)
{
    return cr_store_person_assign_phn(ctx->db, ctx->pool, p, range,
                                      ctx->now_instant);
}

/* The change-notification events of a version (profiles.md 7.3,
 * fhir/cr_events.h), recorded in the write's own transaction so that
 * there is no change without its events and no event without its change
 * (docs/notifications.md).  before is the resource the version replaces,
 * NULL for a new person. */
static apr_status_t record_events(cr_ctx_t *ctx, json_object *before,
                                  const cr_patient_t *p, const char *id,
                                  apr_int64_t version,
                                  const cr_person_how_t *how)
{
    unsigned ev = cr_events_derive(ctx->pool, before, p->json);
    cr_notify_event_t e;
    char at[CR_DATETIME_INSTANT_SIZE];
    const char *created = ctx->now_instant;
    int i;

    /* The event is stamped when it is appended, inside the write
     * transaction moments before its commit, rather than at the
     * request's start (a write under load waits for the lock first): its
     * age is then the time since the change, which is what the
     * notification lag is measured from. */
    if (ev && cr_datetime_format_instant(at, sizeof(at), apr_time_now())
              == APR_SUCCESS) {
        created = at;
    }
    memset(&e, 0, sizeof(e));
    e.patient_id = id;
    e.patient_version = (int)version;
    e.operation = how->operation;
    e.message_id = how->message_id;
    for (i = 0; i < CR_EVENTS_COUNT; i++) {
        apr_status_t rv;
        if (!(ev & (1u << i))) {
            continue;
        }
        e.event_code = cr_events_code(i);
        rv = cr_store_notify_event(NULL, NULL, ctx->db, ctx->pool, &e,
                                   created);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* The version itself, and its events. */
static apr_status_t write_version(cr_ctx_t *ctx, cr_patient_t *p,
                                  const char *id, apr_int64_t version,
                                  const cr_person_how_t *how)
{
    json_object *before = NULL;
    cr_write_t w;
    apr_status_t rv;

    if (version > 1) {
        cr_stored_t *cur = NULL;
        rv = cr_store_patient_get(&cur, ctx->db, ctx->pool, id);
        if (rv == APR_SUCCESS
            && cr_json_parse(&before, ctx->pool, cur->resource,
                             strlen(cur->resource), NULL, NULL)
               != APR_SUCCESS) {
            rv = APR_EGENERAL;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    w.operation = how->operation;
    w.caller = ctx->caller;
    w.message_id = how->message_id;
    w.now = ctx->now_instant;
    rv = cr_store_person_write(ctx->db, ctx->pool, p, id, version, &w);
    if (rv == APR_SUCCESS) {
        rv = record_events(ctx, before, p, id, version, how);
    }
    return rv;
}

/* After the version: the source records of a RESTful update, then the
 * potential duplicates (never merged or linked, only listed). */
static apr_status_t after_version(int *recorded, cr_ctx_t *ctx,
                                  const cr_patient_t *p,
                                  const cr_person_how_t *how)
{
    apr_status_t rv = APR_SUCCESS;

    if (how->keep_in_sources) {
        cr_attr_prov_t prov;
        memset(&prov, 0, sizeof(prov));
        prov.source_system = CR_SOURCE_REGISTRY;
        prov.org_id = ctx->caller ? ctx->caller->org_id : NULL;
        prov.user_id = ctx->caller ? ctx->caller->user_id : NULL;
        prov.message_id = how->message_id;
        prov.now = ctx->now_instant;
        rv = cr_store_person_keep_in_sources(ctx->db, ctx->pool, p, &prov);
    }
    if (rv == APR_SUCCESS && how->duplicates) {
        rv = cr_ops_match_record_duplicates(recorded, ctx, p,
                                            how->duplicates);
    }
    return rv;
}

apr_status_t cr_person_write(int *recorded, cr_ctx_t *ctx, cr_patient_t *p,
                             const char *id, apr_int64_t version,
                             const cr_person_how_t *how)
{
    apr_status_t rv = write_version(ctx, p, id, version, how);

    if (rv == APR_SUCCESS) {
        rv = after_version(recorded, ctx, p, how);
    }
    return rv;
}

static apr_status_t parse_and_write(cr_patient_t **out, cr_ctx_t *ctx,
                                    json_object *json, const char *id,
                                    apr_int64_t version, int keep_ids,
                                    const cr_person_how_t *how)
{
    cr_outcome_t *scratch = cr_outcome_make(ctx->pool);
    cr_patient_t *p = NULL;
    apr_status_t rv;

    cr_fhir_patient_parse(&p, ctx->pool, json, "Patient", ctx->today,
                          &ctx->settings->fhir, scratch);
    if (p == NULL) {
        return APR_EGENERAL;
    }
    if (!keep_ids) {
        apr_array_clear(p->identifiers);
    }
    rv = write_version(ctx, p, id, version, how);
    if (out) {
        *out = p;
    }
    return rv;
}

apr_status_t cr_person_write_json(cr_patient_t **out, cr_ctx_t *ctx,
                                  json_object *json, const char *id,
                                  apr_int64_t version, int keep_ids,
                                  const cr_person_how_t *how)
{
    cr_patient_t *p = NULL;
    apr_status_t rv = parse_and_write(&p, ctx, json, id, version, keep_ids,
                                      how);

    if (rv == APR_SUCCESS) {
        rv = after_version(NULL, ctx, p, how);
    }
    if (out) {
        *out = p;
    }
    return rv;
}

apr_status_t cr_person_rebuild(cr_patient_t **out, cr_ctx_t *ctx,
                               const char *id, apr_int64_t version,
                               const cr_person_how_t *how)
{
    apr_array_header_t *attrs;
    apr_status_t rv;

    rv = cr_store_source_attrs(&attrs, ctx->db, ctx->pool, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_person_write_json(out, ctx,
                              cr_composite_build(ctx->pool, attrs, id, 1),
                              id, version, 1, how);
    if (rv == APR_SUCCESS) {
        rv = cr_store_person_mark_merged(ctx->db, ctx->pool, id, attrs);
    }
    return rv;
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

apr_status_t cr_person_create(int *recorded, cr_patient_t **out,
                              cr_ctx_t *ctx, const char *id,
                              const char *purported_phn,
                              const cr_person_record_t *rec,
                              const cr_attr_prov_t *prov,
                              const cr_person_how_t *how)
{
    const apr_array_header_t *snap = rec->snap;
    apr_array_header_t *attrs = apr_array_make(ctx->pool, snap->nelts + 1,
                                               sizeof(cr_compattr_t));
    cr_snapattr_t phn_attr;
    cr_attr_prov_t reg = *prov;
    const char *reg_id = cr_store_source_registry_id(ctx->pool, id);
    const char *src_id = cr_service_uuid(ctx->pool);
    char phn[CR_PHN_LEN + 1];
    cr_patient_t *p = NULL;
    cr_compattr_t *c;
    apr_status_t rv;
    int i;

    if (recorded) {
        *recorded = 0;
    }
    if (purported_phn) {
        apr_cpystrn(phn, purported_phn, sizeof(phn));
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
        c->source_system = prov->source_system;
        c->user_id = prov->user_id;
    }
    rv = parse_and_write(&p, ctx, cr_composite_build(ctx->pool, attrs, id,
                                                     1),
                         id, 1, 1, how);
    if (out) {
        *out = p;
    }
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
                                    prov->source_system
                                    ? prov->source_system : "UNKNOWN",
                                    rec->sri_system, rec->sri_value,
                                    rec->snapshot, ctx->now_instant);
    }
    for (i = 0; rv == APR_SUCCESS && i < snap->nelts; i++) {
        rv = cr_store_source_add(ctx->db, ctx->pool, src_id, id,
                                 &APR_ARRAY_IDX(snap, i, cr_snapattr_t),
                                 prov);
    }
    if (rv == APR_SUCCESS) {
        rv = after_version(recorded, ctx, p, how);
    }
    return rv;
}

apr_status_t cr_person_ensure_records(cr_ctx_t *ctx, const char *id,
                                      const cr_attr_prov_t *prov)
{
    return cr_store_person_ensure_records(ctx->db, ctx->pool, id, prov);
}

apr_status_t cr_person_audit(cr_ctx_t *ctx, const char *operation,
                             const char *action, int status,
                             const char *patients)
{
    apr_status_t rv = cr_audit_in_txn(ctx, operation, action, status,
                                      patients);

    if (rv == APR_SUCCESS && ctx->before_commit) {
        rv = ctx->before_commit(ctx, ctx->before_commit_baton);
    }
    return rv;
}

apr_status_t cr_person_commit(cr_ctx_t *ctx)
{
    apr_status_t rv = cr_db_commit(ctx->db);

    if (rv == APR_SUCCESS) {
        ctx->resp.audited = 1;
    }
    return rv;
}
