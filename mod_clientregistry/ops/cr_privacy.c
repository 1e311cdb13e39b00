/* cr_privacy: the output policy applied where responses leave the
 * registry (see cr_privacy.h).  Two walks over the response: the first
 * finds the Patients and which clients are restricted (their own
 * meta.security, or -- for versions that do not say so themselves, as a
 * vread or a history entry of a client restricted later -- the store's
 * current flag), the second masks, strips and scrubs.  Both walks cover
 * the whole document (the registry's own, bounded by its page sizes) to
 * a depth far beyond any response's; they never log.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "fhir/cr_fhir_view.h"
#include "ops/cr_ops_review.h"
#include "ops/cr_privacy.h"
#include "store/cr_store_query.h"

#define MAX_DEPTH 64
#define MAX_SECRETS 2000
#define MAX_LOOKUPS 200
#define MIN_SECRET 3
#define SCRUBBED "***"

typedef struct walk_t {
    cr_ctx_t *ctx;
    apr_hash_t *restricted;     /* id -> "" for restricted clients */
    apr_hash_t *unknown;        /* ids whose versions say nothing: ask */
    apr_array_header_t *secrets;  /* values of restricted clients */
    apr_array_header_t *order;  /* restricted ids in order of finding */
    int changed;
} walk_t;

static const char *resource_type(json_object *o)
{
    return cr_json_get_string(o, "resourceType");
}

/* Marks an id of w->unknown that only an evidence names (no Patient
 * resource to collect secrets from). */
static char evidence_only;

/* The items of a duplicate-review evidence (ops/cr_ops_review.h): a
 * Parameters part "evidence" (items keyed "name") or the $match
 * extension (keyed "url"); NULL when o is neither. */
static json_object *evidence_items(json_object *o, const char **key)
{
    const char *name = cr_json_get_string(o, "name");
    const char *url = cr_json_get_string(o, "url");

    if (name && strcmp(name, "evidence") == 0) {
        *key = "name";
        return cr_json_get_array(o, "part");
    }
    if (url && strcmp(url, CR_EXT_MATCH_EVIDENCE) == 0) {
        *key = "url";
        return cr_json_get_array(o, "extension");
    }
    return NULL;
}

/* The id of evidence item e when it is a "subject", else NULL. */
static const char *evidence_subject(json_object *e, const char *key)
{
    const char *k = cr_json_get_string(e, key);
    const char *ref;

    if (k == NULL || strcmp(k, "subject") != 0) {
        return NULL;
    }
    ref = cr_json_get_string(cr_json_get(e, "valueReference"), "reference");
    return ref && strncmp(ref, "Patient/", 8) == 0 ? ref + 8 : NULL;
}

static void add_secret(walk_t *w, const char *s)
{
    if (s && strlen(s) >= MIN_SECRET && w->secrets->nelts < MAX_SECRETS) {
        /* A copy: masking frees the JSON strings. */
        APR_ARRAY_PUSH(w->secrets, const char *) = apr_pstrdup(w->ctx->pool,
                                                               s);
    }
}

static void add_secret_strings(walk_t *w, json_object *arr)
{
    size_t i, n;

    if (arr == NULL) {
        return;
    }
    if (json_object_is_type(arr, json_type_string)) {
        add_secret(w, json_object_get_string(arr));
        return;
    }
    if (!json_object_is_type(arr, json_type_array)) {
        return;
    }
    n = json_object_array_length(arr);
    for (i = 0; i < n && i < 50; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (json_object_is_type(v, json_type_string)) {
            add_secret(w, json_object_get_string(v));
        }
    }
}

/* The values a masked client must not show anywhere: OperationOutcome
 * texts are scrubbed of them. */
static void collect_secrets(walk_t *w, json_object *p)
{
    static const char *const arrays[] = { "name", "telecom", "address",
                                          NULL };
    int k;

    for (k = 0; arrays[k]; k++) {
        json_object *arr = cr_json_get_array(p, arrays[k]);
        size_t i, n = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < n && i < 50; i++) {
            json_object *e = json_object_array_get_idx(arr, i);
            add_secret_strings(w, cr_json_get(e, "family"));
            add_secret_strings(w, cr_json_get(e, "given"));
            add_secret_strings(w, cr_json_get(e, "text"));
            add_secret_strings(w, cr_json_get(e, "value"));
            add_secret_strings(w, cr_json_get(e, "line"));
            add_secret_strings(w, cr_json_get(e, "city"));
            add_secret_strings(w, cr_json_get(e, "postalCode"));
        }
    }
    add_secret_strings(w, cr_json_get(p, "birthDate"));
}

static void mark_restricted(walk_t *w, const char *id)
{
    if (id && apr_hash_get(w->restricted, id, APR_HASH_KEY_STRING) == NULL) {
        apr_hash_set(w->restricted, id, APR_HASH_KEY_STRING, "");
        APR_ARRAY_PUSH(w->order, const char *) = id;
    }
}

/* First walk: which Patients are restricted.  Versions that do not say
 * so themselves are looked up when they may be older than the client's
 * current state (a top-level Patient, a history Bundle's entries). */
static void find(walk_t *w, json_object *o, int depth, int ask)
{
    const char *rt;

    if (o == NULL || depth > MAX_DEPTH) {
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            find(w, json_object_array_get_idx(o, i), depth + 1, ask);
        }
        return;
    }
    if (!json_object_is_type(o, json_type_object)) {
        return;
    }
    {
        const char *key;
        json_object *items = evidence_items(o, &key);
        size_t i, n = items ? json_object_array_length(items) : 0;
        for (i = 0; i < n && i < 50; i++) {
            const char *id = evidence_subject(
                json_object_array_get_idx(items, i), key);
            if (id && apr_hash_get(w->unknown, id, APR_HASH_KEY_STRING)
                          == NULL) {
                apr_hash_set(w->unknown, apr_pstrdup(w->ctx->pool, id),
                             APR_HASH_KEY_STRING, &evidence_only);
            }
        }
    }
    rt = resource_type(o);
    if (rt && strcmp(rt, "Patient") == 0) {
        const char *id = cr_json_get_string(o, "id");
        if (cr_fhir_view_restricted(o)) {
            mark_restricted(w, id ? id : "");
            collect_secrets(w, o);
        }
        else if (ask && id) {
            /* A Patient replaces an evidence's mark: its values count. */
            apr_hash_set(w->unknown, id, APR_HASH_KEY_STRING, o);
        }
    }
    if (rt && strcmp(rt, "Bundle") == 0) {
        const char *type = cr_json_get_string(o, "type");
        ask = type && strcmp(type, "history") == 0;
    }
    {
        json_object_object_foreach(o, k, v) {
            (void)k;
            if (json_object_is_type(v, json_type_object)
                || json_object_is_type(v, json_type_array)) {
                find(w, v, depth + 1, ask);
            }
        }
    }
}

/* Versions that do not carry the restriction of their client's current
 * state (only the clients an evidence names, when only_evidence).  A
 * failed look-up masks (fail closed). */
static void ask_store(walk_t *w, int only_evidence)
{
    apr_hash_index_t *hi;
    int n = 0;

    if (apr_hash_count(w->unknown) == 0) {
        return;
    }
    for (hi = apr_hash_first(w->ctx->pool, w->unknown); hi;
         hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        cr_query_row_t *row = NULL;
        apr_status_t rv;
        apr_hash_this(hi, &key, NULL, &val);
        if (apr_hash_get(w->restricted, key, APR_HASH_KEY_STRING)
            || (only_evidence && val != &evidence_only)) {
            continue;
        }
        rv = w->ctx->db == NULL ? APR_NOTFOUND
             : n++ < MAX_LOOKUPS
               ? cr_store_query_get(&row, w->ctx->db, w->ctx->pool, key)
               : APR_EGENERAL;
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv != APR_SUCCESS || row->masked) {
            mark_restricted(w, key);
            if (val != &evidence_only) {
                collect_secrets(w, val);
            }
        }
    }
}

static int strip_source_ids(json_object *o)
{
    json_object *ext = cr_json_get(o, "extension"), *keep;
    size_t i, n;
    int found = 0;

    if (ext == NULL || !json_object_is_type(ext, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(ext);
    for (i = 0; i < n; i++) {
        const char *url = cr_json_get_string(
            json_object_array_get_idx(ext, i), "url");
        found |= url && strcmp(url, CR_EXT_SOURCE_ID) == 0;
    }
    if (!found) {
        return 0;
    }
    keep = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        const char *url = cr_json_get_string(e, "url");
        if (!(url && strcmp(url, CR_EXT_SOURCE_ID) == 0)) {
            json_object_array_add(keep, json_object_get(e));
        }
    }
    if (json_object_array_length(keep) > 0) {
        json_object_object_add(o, "extension", keep);
    }
    else {
        json_object_put(keep);
        json_object_object_del(o, "extension");
    }
    return 1;
}

/* s with every secret replaced, or NULL when it holds none. */
static const char *scrub_text(walk_t *w, const char *s)
{
    const char *out = NULL;
    int i;

    for (i = 0; s && i < w->secrets->nelts; i++) {
        const char *secret = APR_ARRAY_IDX(w->secrets, i, const char *);
        const char *cur = out ? out : s, *hit;
        apr_size_t sl = strlen(secret);
        char *buf;
        if ((hit = strstr(cur, secret)) == NULL) {
            continue;
        }
        buf = apr_palloc(w->ctx->pool, strlen(cur) * 2 + 8);
        buf[0] = '\0';
        while (hit) {
            strncat(buf, cur, (apr_size_t)(hit - cur));
            strcat(buf, SCRUBBED);
            cur = hit + sl;
            hit = strstr(cur, secret);
        }
        strcat(buf, cur);
        out = buf;
    }
    return out;
}

static void scrub_key(walk_t *w, json_object *o, const char *key)
{
    const char *clean = scrub_text(w, cr_json_get_string(o, key));

    if (clean) {
        json_object_object_add(o, key, json_object_new_string(clean));
        w->changed = 1;
    }
}

static void scrub_outcome(walk_t *w, json_object *oo)
{
    json_object *issues = cr_json_get_array(oo, "issue");
    size_t i, n = issues ? json_object_array_length(issues) : 0;

    for (i = 0; i < n && i < 100; i++) {
        json_object *issue = json_object_array_get_idx(issues, i);
        scrub_key(w, issue, "diagnostics");
        scrub_key(w, cr_json_get(issue, "details"), "text");
    }
}

/* An evidence about a restricted client keeps its subjects and totals
 * (the score is shown anyway) but not its fields, which hold the values
 * compared; an item "withheld" (valueBoolean true) says so. */
static void withhold_evidence(walk_t *w, json_object *o)
{
    const char *key;
    json_object *items = evidence_items(o, &key), *keep, *mark;
    size_t i, n = items ? json_object_array_length(items) : 0;
    int restricted = 0;

    for (i = 0; i < n && i < 50; i++) {
        const char *id = evidence_subject(json_object_array_get_idx(items, i),
                                          key);
        restricted |= id && apr_hash_get(w->restricted, id,
                                         APR_HASH_KEY_STRING) != NULL;
    }
    if (!restricted) {
        return;
    }
    keep = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(items, i);
        const char *k = cr_json_get_string(e, key);
        if (!(k && strcmp(k, "field") == 0)) {
            json_object_array_add(keep, json_object_get(e));
        }
    }
    mark = json_object_new_object();
    json_object_object_add(mark, key, json_object_new_string("withheld"));
    json_object_object_add(mark, "valueBoolean", json_object_new_boolean(1));
    json_object_array_add(keep, mark);
    json_object_object_add(o, strcmp(key, "name") == 0 ? "part"
                                                       : "extension", keep);
    w->changed = 1;
}

/* Second walk (callers that are not privileged). */
static void apply(walk_t *w, json_object *o, int depth)
{
    const char *rt;

    if (o == NULL || depth > MAX_DEPTH) {
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            apply(w, json_object_array_get_idx(o, i), depth + 1);
        }
        return;
    }
    if (!json_object_is_type(o, json_type_object)) {
        return;
    }
    rt = resource_type(o);
    if (rt && strcmp(rt, "Patient") == 0) {
        const char *id = cr_json_get_string(o, "id");
        if (cr_fhir_view_restricted(o)
            || apr_hash_get(w->restricted, id ? id : "",
                            APR_HASH_KEY_STRING)) {
            cr_fhir_view_mask(o, w->ctx->now);
            w->changed = 1;
        }
    }
    else if (rt && strcmp(rt, "OperationOutcome") == 0
             && w->secrets->nelts > 0) {
        scrub_outcome(w, o);
    }
    w->changed |= strip_source_ids(o);
    withhold_evidence(w, o);
    {
        json_object_object_foreach(o, k, v) {
            (void)k;
            if (json_object_is_type(v, json_type_object)
                || json_object_is_type(v, json_type_array)) {
                apply(w, v, depth + 1);
            }
        }
    }
}

/* current: doc is a client's current version, so its own meta.security
 * decides and the store is not asked. */
static const char *run(cr_ctx_t *ctx, json_object *doc, int current,
                       int *changed)
{
    walk_t w;
    int privileged = ctx->caller && ctx->caller->privileged;
    const char *rt = resource_type(doc);
    int i;
    char *ids = NULL;

    *changed = 0;
    if (doc == NULL) {
        return NULL;
    }
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.restricted = apr_hash_make(ctx->pool);
    w.unknown = apr_hash_make(ctx->pool);
    w.secrets = apr_array_make(ctx->pool, 8, sizeof(const char *));
    w.order = apr_array_make(ctx->pool, 4, sizeof(const char *));
    find(&w, doc, 0, !current && rt && strcmp(rt, "Patient") == 0);
    if (privileged) {
        /* An evidence shows the values it compared: a privileged caller
         * shown a restricted client's is recorded like one shown its
         * Patient. */
        ask_store(&w, 1);
        for (i = 0; i < w.order->nelts && i < 100; i++) {
            const char *id = APR_ARRAY_IDX(w.order, i, const char *);
            ids = ids ? apr_pstrcat(ctx->pool, ids, " ", id, NULL)
                      : apr_pstrdup(ctx->pool, id);
        }
        return ids;
    }
    ask_store(&w, 0);
    apply(&w, doc, 0);
    *changed = w.changed;
    return NULL;
}

const char *cr_privacy_apply_json(cr_ctx_t *ctx, json_object *doc)
{
    int changed;

    return run(ctx, doc, 0, &changed);
}

const char *cr_privacy_apply(cr_ctx_t *ctx)
{
    cr_response_t *resp = &ctx->resp;
    json_object *doc = NULL;
    const char *ids;
    int changed;

    if (resp->body) {
        return run(ctx, resp->body, 0, &changed);
    }
    if (resp->raw_body == NULL) {
        return NULL;
    }
    /* A client's current version as stored (the read path): the text is
     * the registry's own serialisation, where a "security" key and the
     * source-id extension's URL appear literally.  With neither there is
     * nothing to mask, strip or report, and the text goes out unparsed. */
    if (resp->raw_current
        && strstr(resp->raw_body, "\"security\"") == NULL
        && strstr(resp->raw_body, "bc-sourceId-extension") == NULL) {
        return NULL;
    }
    if (cr_json_parse(&doc, ctx->pool, resp->raw_body,
                      strlen(resp->raw_body), NULL, NULL) != APR_SUCCESS) {
        /* Stored text the registry wrote itself always parses; what
         * does not is not sent. */
        resp->raw_body = NULL;
        resp->status = 500;
        cr_outcome_add(ctx->oc, CR_SEV_FATAL, "exception", NULL, NULL,
                       "%s", "a stored resource could not be read");
        return NULL;
    }
    ids = run(ctx, doc, resp->raw_current, &changed);
    if (changed) {
        resp->body = doc;
        resp->raw_body = NULL;
    }
    return ids;
}
