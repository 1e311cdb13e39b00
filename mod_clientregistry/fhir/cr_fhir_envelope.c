/* cr_fhir_envelope: request Bundle checks and response Bundle assembly
 * (see cr_fhir_envelope.h). */
#include <string.h>

#include <apr_strings.h>
#include <apr_uuid.h>

#include "fhir/cr_fhir_envelope.h"
#include "core/cr_json.h"

const char *cr_fhir_envelope_urn(apr_pool_t *pool)
{
    apr_uuid_t u;
    char buf[APR_UUID_FORMATTED_LENGTH + 1];

    apr_uuid_get(&u);
    apr_uuid_format(buf, &u);
    return apr_pstrcat(pool, "urn:uuid:", buf, NULL);
}

static int is_string(json_object *o)
{
    return o && json_object_is_type(o, json_type_string)
           && json_object_get_string_len(o) > 0;
}

/* Read the MetadataParametersIn parameters (profiles.md 5.1).  The slicing
 * is open: unknown parameters are ignored (CR-GEN-021). */
static void read_parameters(cr_envelope_in_t *in, apr_pool_t *pool,
                            const cr_envelope_entry_t *e,
                            const cr_envelope_rules_t *rules,
                            cr_outcome_t *oc)
{
    json_object *params = cr_json_get(e->resource, "parameter");
    size_t i, n;
    int message_ids = 0, histories = 0, ids_only = 0;

    in->parameters = e->resource;
    if (params && !json_object_is_type(params, json_type_array)) {
        cr_bc_add(oc, rules->txn, CR_BC_MESSAGE_ID,
                  apr_pstrcat(pool, e->expr, ".parameter", NULL),
                  "Parameters.parameter must be an array");
        return;
    }
    n = params ? json_object_array_length(params) : 0;
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(params, i);
        const char *name = cr_json_get_string(p, "name");
        const char *expr = apr_psprintf(pool, "%s.parameter[%d]", e->expr,
                                        (int)i);
        if (name == NULL) {
            cr_bc_add(oc, rules->txn, CR_BC_INVALID,
                      apr_pstrcat(pool, expr, ".name", NULL),
                      "every parameter needs a name");
            continue;
        }
        if (strcmp(name, "messageId") == 0) {
            json_object *v = cr_json_get(p, "valueString");
            if (++message_ids > 1) {
                /* CR-PARAM-003 */
                cr_bc_add(oc, rules->txn, CR_BC_PARAM_REPEATED, expr,
                          "messageId");
                continue;
            }
            if (!is_string(v)) {
                cr_bc_add(oc, rules->txn, CR_BC_MESSAGE_ID,
                          apr_pstrcat(pool, expr, ".valueString", NULL),
                          NULL);
                continue;
            }
            if (json_object_get_string_len(v) > 256) {
                cr_bc_add(oc, rules->txn, CR_BC_MESSAGE_ID,
                          apr_pstrcat(pool, expr, ".valueString", NULL),
                          "longer than 256 characters");
                continue;
            }
            in->message_id = json_object_get_string(v);
        }
        else if (strcmp(name, "history") == 0
                 || strcmp(name, "withHistory") == 0
                 || strcmp(name, "identifiersOnly") == 0) {
            int is_hist = name[0] != 'i';
            json_object *v = cr_json_get(p, "valueBoolean");
            if (++(*(is_hist ? &histories : &ids_only)) > 1) {
                cr_bc_add(oc, rules->txn, CR_BC_PARAM_REPEATED, expr, "%s",
                          is_hist ? "history/withHistory" : name);
                continue;
            }
            if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
                /* CR-PARAM-002 */
                cr_bc_add(oc, rules->txn, CR_BC_FLAG_TYPE,
                          apr_pstrcat(pool, expr, ".valueBoolean", NULL),
                          "%s", name);
                continue;
            }
            if (is_hist) {
                in->history = json_object_get_boolean(v) ? 1 : 0;
            }
            else {
                in->identifiers_only = json_object_get_boolean(v) ? 1 : 0;
            }
        }
        else if (strcmp(name, "sender") == 0) {
            json_object *v = cr_json_get(p, "valueIdentifier");
            const char *val = cr_json_get_string(v, "value");
            if (val && strlen(val) <= 64) {
                in->sender = val;
            }
        }
        /* messageDateTime (deprecated in G5, CR-GEN-019) and any other
         * parameter are accepted and ignored. */
    }
    if (message_ids == 0) {
        /* CR-GEN-018 */
        cr_bc_add(oc, rules->txn, CR_BC_MESSAGE_ID,
                  apr_pstrcat(pool, e->expr, ".parameter", NULL), NULL);
    }
}

/* Unwrap the alternate form: Parameters { parameter: [ { name:
 * operationBundle, resource: Bundle } ] } (operations.md 0.3). */
static json_object *unwrap(apr_pool_t *pool, json_object *body,
                           const cr_envelope_rules_t *rules, int *wrapped,
                           cr_outcome_t *oc)
{
    json_object *params, *p, *b;

    (void)pool;
    *wrapped = 1;
    params = cr_json_get(body, "parameter");
    if (params == NULL || !json_object_is_type(params, json_type_array)
        || json_object_array_length(params) != 1) {
        cr_bc_add(oc, rules->txn, CR_BC_WRAPPER, "Parameters.parameter",
                  NULL);
        return NULL;
    }
    p = json_object_array_get_idx(params, 0);
    b = cr_json_get(p, "resource");
    if (cr_json_get_string(p, "name") == NULL
        || strcmp(cr_json_get_string(p, "name"), "operationBundle") != 0
        || b == NULL
        || cr_json_get_string(b, "resourceType") == NULL
        || strcmp(cr_json_get_string(b, "resourceType"), "Bundle") != 0) {
        cr_bc_add(oc, rules->txn, CR_BC_WRAPPER,
                  "Parameters.parameter[0]", NULL);
        return NULL;
    }
    return b;
}

apr_status_t cr_fhir_envelope_parse(cr_envelope_in_t **out,
                                    apr_pool_t *pool, json_object *body,
                                    const cr_envelope_rules_t *rules,
                                    cr_outcome_t *oc)
{
    cr_envelope_in_t *in = apr_pcalloc(pool, sizeof(*in));
    const char *rt, *type;
    json_object *entries;
    int errors0 = cr_outcome_errors(oc), params = 0, others = 0;
    size_t i, n;

    in->history = -1;
    in->identifiers_only = -1;
    in->patients = apr_array_make(pool, 2, sizeof(cr_envelope_entry_t));
    in->related = apr_array_make(pool, 2, sizeof(cr_envelope_entry_t));
    *out = in;

    rt = cr_json_get_string(body, "resourceType");
    if (rt && strcmp(rt, "Parameters") == 0) {
        body = unwrap(pool, body, rules, &in->wrapped, oc);
        if (body == NULL) {
            return APR_EINVAL;
        }
        rt = "Bundle";
    }
    if (rt == NULL || strcmp(rt, "Bundle") != 0) {
        /* CR-GEN-011 */
        cr_bc_add(oc, rules->txn, CR_BC_NOT_BUNDLE, NULL, NULL);
        return APR_EINVAL;
    }
    in->bundle = body;
    type = cr_json_get_string(body, "type");
    if (type == NULL || strcmp(type, "collection") != 0) {
        /* CR-GEN-012 */
        cr_bc_add(oc, rules->txn, CR_BC_BUNDLE_TYPE, "Bundle.type",
                  "found '%.32s'", type ? type : "(none)");
    }
    entries = cr_json_get(body, "entry");
    if (entries && !json_object_is_type(entries, json_type_array)) {
        cr_bc_add(oc, rules->txn, CR_BC_ENTRY_COUNT, "Bundle.entry",
                  "Bundle.entry must be an array");
        return APR_EINVAL;
    }
    n = entries ? json_object_array_length(entries) : 0;
    if ((int)n < rules->min_entries || (int)n > rules->max_entries) {
        /* CR-BND-001, CR-BND-002 */
        cr_bc_add(oc, rules->txn, CR_BC_ENTRY_COUNT, "Bundle.entry",
                  "%d entries; this operation takes %d to %d", (int)n,
                  rules->min_entries, rules->max_entries);
        if ((int)n > rules->max_entries + 8) {
            return APR_EINVAL;   /* do not walk a hostile list */
        }
    }
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(entries, i);
        cr_envelope_entry_t ent;
        const char *ep = apr_psprintf(pool, "Bundle.entry[%d]", (int)i);

        memset(&ent, 0, sizeof(ent));
        ent.index = (int)i;
        ent.expr = apr_pstrcat(pool, ep, ".resource", NULL);
        if (!json_object_is_type(e, json_type_object)) {
            cr_bc_add(oc, rules->txn, CR_BC_ENTRY_RESOURCE, ep,
                      "an entry must be a JSON object");
            continue;
        }
        ent.full_url = cr_json_get_string(e, "fullUrl");
        if (!is_string(cr_json_get(e, "fullUrl"))) {
            /* CR-GEN-013 */
            cr_bc_add(oc, rules->txn, CR_BC_ENTRY_FULLURL,
                      apr_pstrcat(pool, ep, ".fullUrl", NULL), NULL);
        }
        ent.resource = cr_json_get(e, "resource");
        if (ent.resource == NULL
            || !json_object_is_type(ent.resource, json_type_object)) {
            /* CR-GEN-014 */
            cr_bc_add(oc, rules->txn, CR_BC_ENTRY_RESOURCE, ent.expr, NULL);
            continue;
        }
        ent.type = cr_json_get_string(ent.resource, "resourceType");
        if (ent.type == NULL) {
            cr_bc_add(oc, rules->txn, CR_BC_ENTRY_RESOURCE,
                      apr_pstrcat(pool, ent.expr, ".resourceType", NULL),
                      "the resource has no resourceType");
            continue;
        }
        /* CR-GEN-015: entries are identified by type, not position. */
        if (strcmp(ent.type, "Parameters") == 0) {
            if (++params == 1) {
                read_parameters(in, pool, &ent, rules, oc);
            }
        }
        else if (strcmp(ent.type, "Patient") == 0) {
            *(cr_envelope_entry_t *)apr_array_push(in->patients) = ent;
        }
        else if (strcmp(ent.type, "RelatedPerson") == 0) {
            *(cr_envelope_entry_t *)apr_array_push(in->related) = ent;
        }
        else {
            others++;
            cr_bc_add(oc, rules->txn, CR_BC_ENTRY_TYPE,
                      apr_pstrcat(pool, ent.expr, ".resourceType", NULL),
                      "%.40s", ent.type);
        }
    }
    if (params != 1) {
        /* CR-GEN-017 */
        cr_bc_add(oc, rules->txn, CR_BC_PARAMETERS, "Bundle.entry",
                  "found %d", params);
    }
    if (in->patients->nelts < rules->min_patients
        || in->patients->nelts > rules->max_patients) {
        cr_bc_add(oc, rules->txn, CR_BC_PATIENT_COUNT, "Bundle.entry",
                  "found %d Patient entries; this operation takes %d to %d",
                  in->patients->nelts, rules->min_patients,
                  rules->max_patients);
    }
    if (in->related->nelts < rules->min_related
        || in->related->nelts > rules->max_related) {
        cr_bc_add(oc, rules->txn, CR_BC_RELATED_COUNT, "Bundle.entry",
                  "found %d RelatedPerson entries; this operation takes "
                  "%d to %d", in->related->nelts, rules->min_related,
                  rules->max_related);
    }
    (void)others;
    return cr_outcome_errors(oc) > errors0 ? APR_EINVAL : APR_SUCCESS;
}

static void add_param_string(json_object *arr, const char *name,
                             const char *value)
{
    json_object *p = cr_json_array_add_object(arr);

    cr_json_set_string(p, "name", name);
    cr_json_set_string(p, "valueString", value);
}

static void add_param_identifier(json_object *arr, const char *name,
                                 const char *system, const char *value)
{
    json_object *p = cr_json_array_add_object(arr);
    json_object *v;

    cr_json_set_string(p, "name", name);
    v = cr_json_set_new_object(p, "valueIdentifier");
    cr_json_set_string(v, "system", system);
    cr_json_set_string(v, "value", value);
}

static void add_param_bool(json_object *arr, const char *name, int value)
{
    json_object *p = cr_json_array_add_object(arr);

    cr_json_set_string(p, "name", name);
    cr_json_set_bool(p, "valueBoolean", value);
}

#define CR_ENV_ECHO_MAX_DEPTH 8

/* The echo of the request's Parameters for requestParameters: a
 * Parameters resource holding the request's parameters (the profile's
 * slice forbids nothing else).  Unowned. */
static json_object *echo_parameters(json_object *req)
{
    json_object *o = json_object_new_object();
    json_object *params = cr_json_get(req, "parameter");
    json_object *arr = NULL;
    size_t i, n;

    cr_json_set_string(o, "resourceType", "Parameters");
    if (params == NULL || !json_object_is_type(params, json_type_array)) {
        return o;
    }
    /* A parameter of MetadataParametersIn nests three deep at most
     * (valueIdentifier.assigner.identifier); one nested deeper is not
     * echoed, so the reply (five levels around the echo) stays inside
     * the depth every JSON reader here accepts. */
    n = json_object_array_length(params);
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(params, i), *copy = NULL;
        if (cr_json_depth(p, CR_ENV_ECHO_MAX_DEPTH) > CR_ENV_ECHO_MAX_DEPTH
            || json_object_deep_copy(p, &copy, NULL) != 0) {
            continue;
        }
        if (arr == NULL) {
            arr = cr_json_set_new_array(o, "parameter");
        }
        json_object_array_add(arr, copy);
    }
    return o;
}

static json_object *parameters_out(apr_pool_t *pool,
                                   const cr_envelope_reply_t *r)
{
    const cr_envelope_meta_t *m = &r->meta;
    json_object *o = json_object_new_object();
    json_object *meta, *prof, *arr;

    cr_json_set_string(o, "resourceType", "Parameters");
    meta = cr_json_set_new_object(o, "meta");
    prof = cr_json_set_new_array(meta, "profile");
    json_object_array_add(prof, json_object_new_string(
        r->params_profile ? r->params_profile : CR_ENV_PROFILE_PARAMS_OUT));
    arr = cr_json_set_new_array(o, "parameter");
    /* The order of the IG's examples. */
    add_param_string(arr, "messageId", m->message_id
                                       ? m->message_id
                                       : cr_fhir_envelope_urn(pool) + 9);
    add_param_identifier(arr, "sender", CR_SYS_BC_ORG,
                         m->sender ? m->sender : CR_REGISTRY_CODE);
    if (m->history >= 0) {
        add_param_bool(arr, "history", m->history);
    }
    if (m->identifiers_only >= 0) {
        add_param_bool(arr, "identifiersOnly", m->identifiers_only);
    }
    if (m->enterer) {
        add_param_identifier(arr, "enterer", CR_SYS_BC_USER, m->enterer);
    }
    if (m->request_message_id) {
        add_param_string(arr, "requestMessageId", m->request_message_id);
    }
    if (m->request_parameters) {
        json_object *p = cr_json_array_add_object(arr);
        cr_json_set_string(p, "name", "requestParameters");
        json_object_object_add(p, "resource",
                               echo_parameters(m->request_parameters));
    }
    return o;
}

/* A copy of oc where every issue carries a detail code. */
static cr_outcome_t *with_codes(apr_pool_t *pool, cr_bc_txn_e txn,
                                const cr_outcome_t *oc)
{
    cr_outcome_t *c = cr_outcome_make(pool);
    int i;

    c->max_issues = oc ? oc->max_issues : c->max_issues;
    c->dropped = oc ? oc->dropped : 0;
    for (i = 0; oc && i < oc->issues->nelts; i++) {
        cr_issue_t is = APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
        if (is.detail == NULL && is.severity >= CR_SEV_ERROR) {
            cr_bc_msg_e m = CR_BC_INVALID;
            if (strcmp(is.code, "transient") == 0) {
                m = CR_BC_UNAVAILABLE;
            }
            else if (strcmp(is.code, "exception") == 0) {
                m = CR_BC_INTERNAL;
            }
            is.detail = cr_bc_code(pool, txn, m);
        }
        else if (is.detail == NULL && is.severity == CR_SEV_WARNING) {
            is.detail = cr_bc_code(pool, txn, CR_BC_WARNING);
        }
        *(cr_issue_t *)apr_array_push(c->issues) = is;
    }
    return c;
}

json_object *cr_fhir_envelope_reply(apr_pool_t *pool,
                                    const cr_envelope_reply_t *r)
{
    json_object *b = cr_json_own(pool, json_object_new_object());
    json_object *o, *arr, *entries, *e;
    int searchset = strcmp(r->type, "searchset") == 0;
    int i, total = 0;
    const char *id = r->id ? r->id : cr_fhir_envelope_urn(pool) + 9;

    cr_json_set_string(b, "resourceType", "Bundle");
    cr_json_set_string(b, "id", id);
    if (r->profile) {
        o = cr_json_set_new_object(b, "meta");
        arr = cr_json_set_new_array(o, "profile");
        json_object_array_add(arr, json_object_new_string(r->profile));
    }
    o = cr_json_set_new_object(b, "identifier");
    cr_json_set_string(o, "system", "urn:ietf:rfc:3986");
    cr_json_set_string(o, "value", apr_pstrcat(pool, "urn:uuid:", id, NULL));
    cr_json_set_string(b, "type", r->type);
    if (r->timestamp) {
        cr_json_set_string(b, "timestamp", r->timestamp);
    }
    for (i = 0; r->results && i < r->results->nelts; i++) {
        const cr_envelope_result_t *res = &APR_ARRAY_IDX(
            r->results, i, cr_envelope_result_t);
        if (res->mode && strcmp(res->mode, "match") == 0) {
            total++;
        }
    }
    if (searchset) {
        /* Bundle.total counts the matched Patients, not the RelatedPersons
         * (operations.md 0.4, CR-FC-006) -- or, for a paged RESTful
         * search, every match. */
        cr_json_set_int(b, "total", r->total >= 0 ? r->total : total);
    }
    if (r->link_self || r->link_next || r->link_previous
        || r->link_canonical) {
        arr = cr_json_set_new_array(b, "link");
        if (r->link_self) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "relation", "self");
            cr_json_set_string(o, "url", r->link_self);
        }
        if (r->link_next) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "relation", "next");
            cr_json_set_string(o, "url", r->link_next);
        }
        if (r->link_previous) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "relation", "previous");
            cr_json_set_string(o, "url", r->link_previous);
        }
        if (r->link_canonical) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "relation", "canonical");
            cr_json_set_string(o, "url", r->link_canonical);
        }
    }
    entries = cr_json_set_new_array(b, "entry");

    e = cr_json_array_add_object(entries);
    cr_json_set_string(e, "fullUrl", cr_fhir_envelope_urn(pool));
    json_object_object_add(e, "resource", parameters_out(pool, r));

    e = cr_json_array_add_object(entries);
    cr_json_set_string(e, "fullUrl", cr_fhir_envelope_urn(pool));
    json_object_object_add(e, "resource", cr_outcome_to_json_unowned(
        with_codes(pool, r->txn, r->oc)));
    if (searchset) {
        o = cr_json_set_new_object(e, "search");
        cr_json_set_string(o, "mode", "outcome");
    }

    for (i = 0; r->results && i < r->results->nelts; i++) {
        const cr_envelope_result_t *res = &APR_ARRAY_IDX(
            r->results, i, cr_envelope_result_t);
        e = cr_json_array_add_object(entries);
        cr_json_set_string(e, "fullUrl", res->full_url
                                         ? res->full_url
                                         : cr_fhir_envelope_urn(pool));
        if (res->resource) {
            json_object_object_add(e, "resource",
                                   json_object_get(res->resource));
        }
        if (searchset && res->mode) {
            o = cr_json_set_new_object(e, "search");
            cr_json_set_string(o, "mode", res->mode);
            if (res->has_score) {
                json_object_object_add(o, "score", json_object_new_int(
                    res->score));
            }
        }
    }
    return b;
}

json_object *cr_fhir_envelope_error_reply(apr_pool_t *pool, cr_bc_txn_e txn,
                                          const cr_outcome_t *oc,
                                          const cr_envelope_meta_t *meta,
                                          const char *timestamp)
{
    cr_envelope_reply_t r;

    memset(&r, 0, sizeof(r));
    r.txn = txn;
    if (txn == CR_BC_TXN_FC || txn == CR_BC_TXN_GD) {
        r.type = "searchset";
        r.profile = CR_ENV_PROFILE_SEARCH_RESPONSE;
    }
    else {
        r.type = "collection";
    }
    r.timestamp = timestamp;
    r.total = 0;
    if (meta) {
        r.meta = *meta;
    }
    else {
        r.meta.history = -1;
        r.meta.identifiers_only = -1;
    }
    r.oc = oc;
    return cr_fhir_envelope_reply(pool, &r);
}
