/* cr_composite: composite Patient from attributes (see the header). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"

#define MAX_DEPTH 16
#define MAX_KEYS 64
#define CR_MSP_ASSIGNER "HIBC - Health Insurance British Columbia MSP"

/* ---- canonical JSON ---------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void canon(apr_pool_t *pool, struct apr_array_header_t *out,
                  json_object *v, int depth)
{
    const char *s;

    if (depth > MAX_DEPTH) {
        APR_ARRAY_PUSH(out, const char *) = "null";
        return;
    }
    if (v && json_object_is_type(v, json_type_object)) {
        const char *keys[MAX_KEYS];
        int n = 0, i;
        json_object_object_foreach(v, k, val) {
            (void)val;
            if (n < MAX_KEYS) {
                keys[n++] = k;
            }
        }
        qsort(keys, n, sizeof(keys[0]), key_cmp);
        APR_ARRAY_PUSH(out, const char *) = "{";
        for (i = 0; i < n; i++) {
            json_object *ks = json_object_new_string(keys[i]);
            APR_ARRAY_PUSH(out, const char *) = i ? "," : "";
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(
                pool, json_object_to_json_string_ext(
                          ks, JSON_C_TO_STRING_PLAIN));
            json_object_put(ks);
            APR_ARRAY_PUSH(out, const char *) = ":";
            canon(pool, out, json_object_object_get(v, keys[i]), depth + 1);
        }
        APR_ARRAY_PUSH(out, const char *) = "}";
        return;
    }
    if (v && json_object_is_type(v, json_type_array)) {
        size_t i, n = json_object_array_length(v);
        APR_ARRAY_PUSH(out, const char *) = "[";
        for (i = 0; i < n; i++) {
            APR_ARRAY_PUSH(out, const char *) = i ? "," : "";
            canon(pool, out, json_object_array_get_idx(v, i), depth + 1);
        }
        APR_ARRAY_PUSH(out, const char *) = "]";
        return;
    }
    s = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
          : "null";
    APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(pool, s);
}

const char *cr_composite_canonical(apr_pool_t *pool, json_object *v)
{
    apr_array_header_t *parts = apr_array_make(pool, 32,
                                               sizeof(const char *));

    canon(pool, parts, v, 0);
    return apr_array_pstrcat(pool, parts, 0);
}

/* ---- snapshot -> attributes ------------------------------------------- */

const char *cr_composite_effective(json_object *patient)
{
    json_object *exts = cr_json_get_array(patient, "extension");
    size_t i, n = exts ? json_object_array_length(exts) : 0;

    for (i = 0; i < n && i < MAX_KEYS; i++) {
        json_object *e = json_object_array_get_idx(exts, i);
        const char *url = cr_json_get_string(e, "url");
        if (url && strcmp(url, CR_EXT_BUSINESS_PERIOD) == 0) {
            return cr_json_get_string(cr_json_get_object(e, "valuePeriod"),
                                      "start");
        }
    }
    return NULL;
}

/* A copy of element without period and without the extensions the
 * registry adds (status, source id). */
static json_object *strip(apr_pool_t *pool, json_object *el)
{
    json_object *c = cr_json_copy(pool, el);
    json_object *exts;

    if (!json_object_is_type(c, json_type_object)) {
        return c;
    }
    json_object_object_del(c, "period");
    exts = cr_json_get_array(c, "extension");
    if (exts) {
        json_object *keep = json_object_new_array();
        size_t i, n = json_object_array_length(exts);
        for (i = 0; i < n && i < MAX_KEYS; i++) {
            json_object *e = json_object_array_get_idx(exts, i);
            const char *url = cr_json_get_string(e, "url");
            if (url && (strcmp(url, CR_EXT_IDENTIFIER_STATUS) == 0
                        || strcmp(url, CR_EXT_SOURCE_ID) == 0)) {
                continue;
            }
            json_object_array_add(keep, json_object_get(e));
        }
        if (json_object_array_length(keep) == 0) {
            json_object_put(keep);
            json_object_object_del(c, "extension");
        }
        else {
            json_object_object_add(c, "extension", keep);
        }
    }
    return c;
}

static void push(apr_array_header_t *out, const char *kind,
                 const char *value, const char *start, const char *end)
{
    cr_snapattr_t *a;

    if (out->nelts >= CR_COMPOSITE_MAX_ATTRS) {
        return;
    }
    a = apr_array_push(out);
    a->kind = kind;
    a->value = value;
    a->period_start = start;
    a->period_end = end;
}

/* The group in which member's element el may have one current value
 * (CR-PAT-009: a name per use, a phone and an e-mail per telecom use, an
 * address per type), or NULL when el has none (no use or type). */
static const char *use_group(apr_pool_t *pool, const char *member,
                             json_object *el)
{
    if (strcmp(member, "name") == 0) {
        return cr_json_get_string(el, "use");
    }
    if (strcmp(member, "telecom") == 0) {
        const char *sys = cr_json_get_string(el, "system");
        const char *use = cr_json_get_string(el, "use");
        return sys && use ? apr_pstrcat(pool, sys, "|", use, NULL) : NULL;
    }
    if (strcmp(member, "address") == 0) {
        return cr_json_get_string(el, "type");
    }
    return NULL;
}

/* Whether the value started at a (listed at ia) is older than the one
 * started at b (listed at ib): the earlier start, or on the same start
 * the one listed first. */
static int older(const char *a, size_t ia, const char *b, size_t ib)
{
    int c = strcmp(a ? a : "", b ? b : "");

    return c < 0 || (c == 0 && ia < ib);
}

static void repeating(apr_pool_t *pool, apr_array_header_t *out,
                      json_object *patient, const char *member,
                      const char *kind, const char *dflt)
{
    json_object *arr = cr_json_get_array(patient, member);
    size_t i, j, n = arr ? json_object_array_length(arr) : 0;
    const char **start, **end, **group;

    if (n > CR_COMPOSITE_MAX_ATTRS) {
        n = CR_COMPOSITE_MAX_ATTRS;
    }
    start = apr_pcalloc(pool, sizeof(*start) * (n + 1));
    end = apr_pcalloc(pool, sizeof(*end) * (n + 1));
    group = apr_pcalloc(pool, sizeof(*group) * (n + 1));
    for (i = 0; i < n; i++) {
        json_object *el = json_object_array_get_idx(arr, i);
        json_object *per = cr_json_get_object(el, "period");
        start[i] = cr_json_get_string(per, "start");
        start[i] = start[i] ? start[i] : dflt;
        end[i] = cr_json_get_string(per, "end");
        group[i] = use_group(pool, member, el);
    }
    /* CR-PAT-009: of two current values in one group, the older one is
     * ended where the newer one starts. */
    for (i = 0; i < n; i++) {
        for (j = 0; j < n && group[i] && end[i] == NULL; j++) {
            if (j != i && group[j] && end[j] == NULL
                && strcmp(group[i], group[j]) == 0
                && older(start[i], i, start[j], j)) {
                end[i] = start[j] ? start[j] : dflt;
            }
        }
    }
    for (i = 0; i < n; i++) {
        push(out, kind, cr_composite_canonical(
                 pool, strip(pool, json_object_array_get_idx(arr, i))),
             start[i], end[i]);
    }
}

/* Business start of a single-valued element: its _member business
 * period extension. */
static const char *single_start(json_object *patient, const char *member)
{
    char under[64];

    apr_snprintf(under, sizeof(under), "_%s", member);
    return cr_composite_effective(cr_json_get_object(patient, under));
}

static void single(apr_pool_t *pool, apr_array_header_t *out,
                   json_object *patient, const char *kind,
                   const char *const *members, const char *dflt)
{
    json_object *v = json_object_new_object();
    const char *start = NULL;
    int i, any = 0;

    for (i = 0; members[i]; i++) {
        char under[64];
        json_object *m = cr_json_get(patient, members[i]);
        if (m == NULL) {
            continue;
        }
        any = 1;
        json_object_object_add(v, members[i], json_object_get(m));
        apr_snprintf(under, sizeof(under), "_%s", members[i]);
        m = cr_json_get(patient, under);
        if (m) {
            json_object_object_add(v, under, json_object_get(m));
        }
        if (start == NULL) {
            start = single_start(patient, members[i]);
        }
    }
    if (any) {
        push(out, kind, cr_composite_canonical(pool, v),
             start ? start : dflt, NULL);
    }
    json_object_put(v);
}

apr_array_header_t *cr_composite_extract(apr_pool_t *pool,
                                         json_object *patient,
                                         const char *default_start)
{
    static const char *const gender[] = { "gender", NULL };
    static const char *const birth[] = { "birthDate", NULL };
    static const char *const deceased[] = {
        "deceasedDateTime", "deceasedBoolean", NULL };
    static const char *const multiple[] = {
        "multipleBirthBoolean", "multipleBirthInteger", NULL };
    apr_array_header_t *out = apr_array_make(pool, 16,
                                             sizeof(cr_snapattr_t));
    json_object *cont;
    size_t i, n;

    repeating(pool, out, patient, "identifier", "identifier",
              default_start);
    repeating(pool, out, patient, "name", "name", default_start);
    repeating(pool, out, patient, "telecom", "telecom", default_start);
    repeating(pool, out, patient, "address", "address", default_start);
    single(pool, out, patient, "gender", gender, default_start);
    single(pool, out, patient, "birthDate", birth, default_start);
    single(pool, out, patient, "deceased", deceased, default_start);
    single(pool, out, patient, "multipleBirth", multiple, default_start);
    {
        /* meta.security (operations.md 0.7: a restricted client) is one
         * single-valued attribute: the newest snapshot's labels win, so a
         * source restricts with R or V and lifts it with N. */
        json_object *sec = cr_json_get_array(cr_json_get(patient, "meta"),
                                             "security");
        if (sec && json_object_array_length(sec) > 0) {
            json_object *v = json_object_new_object();
            json_object_object_add(v, "security", json_object_get(sec));
            push(out, "security", cr_composite_canonical(pool, v),
                 default_start, NULL);
            json_object_put(v);
        }
    }
    cont = cr_json_get_array(patient, "contained");
    n = cont ? json_object_array_length(cont) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *rp = json_object_array_get_idx(cont, i);
        const char *rt = cr_json_get_string(rp, "resourceType");
        if (rt && strcmp(rt, "RelatedPerson") == 0) {
            push(out, "mother", cr_composite_canonical(pool, rp),
                 default_start, NULL);
        }
    }
    return out;
}

/* ---- attributes -> composite ------------------------------------------ */

static json_object *source_ext(const cr_compattr_t *a)
{
    json_object *ext = json_object_new_object();
    json_object *sub = json_object_new_array();
    json_object *e;

    json_object_object_add(ext, "url",
                           json_object_new_string(CR_EXT_SOURCE_ID));
    if (a->source_system) {
        e = json_object_new_object();
        json_object_object_add(e, "url", json_object_new_string("sourceID"));
        json_object_object_add(e, "valueString",
                               json_object_new_string(a->source_system));
        json_object_array_add(sub, e);
    }
    if (a->user_id) {
        e = json_object_new_object();
        json_object_object_add(e, "url", json_object_new_string("userID"));
        json_object_object_add(e, "valueString",
                               json_object_new_string(a->user_id));
        json_object_array_add(sub, e);
    }
    json_object_object_add(ext, "extension", sub);
    return ext;
}

static void add_extension(json_object *el, json_object *ext)
{
    json_object *arr = cr_json_get_array(el, "extension");

    if (arr == NULL) {
        arr = json_object_new_array();
        json_object_object_add(el, "extension", arr);
    }
    json_object_array_add(arr, ext);
}

static json_object *parse_value(apr_pool_t *pool, const char *text)
{
    json_object *v = NULL;

    if (text == NULL
        || cr_json_parse(&v, pool, text, strlen(text), NULL, NULL)
           != APR_SUCCESS) {
        return NULL;
    }
    return v;
}

static const char *id_key(apr_pool_t *pool, json_object *id)
{
    return apr_pstrcat(pool, cr_json_get_string(id, "system") ? 
                       cr_json_get_string(id, "system") : "", "|",
                       cr_json_get_string(id, "value") ?
                       cr_json_get_string(id, "value") : "", NULL);
}

static void add_repeat(apr_pool_t *pool, json_object *patient,
                       const char *member, const cr_compattr_t *a,
                       apr_hash_t *seen)
{
    json_object *v = parse_value(pool, a->value);
    json_object *arr;
    const char *key;

    if (v == NULL || !json_object_is_type(v, json_type_object)) {
        return;
    }
    key = strcmp(member, "identifier") == 0
          ? apr_pstrcat(pool, member, ":", id_key(pool, v), NULL)
          : apr_pstrcat(pool, member, ":", a->value, NULL);
    if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
    v = json_object_get(v);   /* the composite holds its own reference */
    if (a->period_start) {
        json_object *per = json_object_new_object();
        json_object_object_add(per, "start",
                               json_object_new_string(a->period_start));
        json_object_object_add(v, "period", per);
    }
    add_extension(v, source_ext(a));
    if (strcmp(member, "identifier") == 0
        && cr_json_get(v, "assigner") == NULL
        && cr_json_get_string(v, "system")
        && strcmp(cr_json_get_string(v, "system"), CR_SYS_MSP) == 0) {
        cr_json_set_string(cr_json_set_new_object(v, "assigner"), "display",
                           CR_MSP_ASSIGNER);
    }
    arr = cr_json_get_array(patient, member);
    if (arr == NULL) {
        arr = json_object_new_array();
        json_object_object_add(patient, member, arr);
    }
    json_object_array_add(arr, v);
}

static int newer(const char *a, const char *b)
{
    if (b == NULL) {
        return 1;
    }
    if (a == NULL) {
        return 0;
    }
    return strcmp(a, b) >= 0;
}

json_object *cr_composite_build(apr_pool_t *pool,
                                const apr_array_header_t *attrs,
                                const char *id, int active)
{
    static const char *const singles[] = {
        "gender", "birthDate", "deceased", "multipleBirth", "security",
        NULL };
    static const char *const repeats[][2] = {
        { "name", "name" }, { "telecom", "telecom" },
        { "address", "address" }, { NULL, NULL } };
    json_object *p = cr_json_own(pool, json_object_new_object());
    json_object *meta, *prof;
    apr_hash_t *seen = apr_hash_make(pool);
    const cr_compattr_t *best[5] = { NULL, NULL, NULL, NULL, NULL };
    int i, k, pass;

    json_object_object_add(p, "resourceType",
                           json_object_new_string("Patient"));
    if (id) {
        json_object_object_add(p, "id", json_object_new_string(id));
    }
    meta = cr_json_set_new_object(p, "meta");
    prof = cr_json_set_new_array(meta, "profile");
    json_object_array_add(prof, json_object_new_string(CR_PROFILE_PATIENT));
    /* Identifiers: the registry's, then the sources', then merged. */
    for (pass = 0; pass < 3; pass++) {
        for (i = 0; i < attrs->nelts; i++) {
            const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i,
                                                    cr_compattr_t);
            int p_of = a->merged ? 2 : a->registry ? 0 : 1;
            if (strcmp(a->kind, "identifier") == 0 && p_of == pass) {
                add_repeat(pool, p, "identifier", a, seen);
            }
        }
    }
    json_object_object_add(p, "active", json_object_new_boolean(active));
    for (k = 0; repeats[k][0]; k++) {
        /* CR-PAT-009: one current value per use (type), the newest;
         * what an older version showed comes back in the history. */
        apr_hash_t *newest = apr_hash_make(pool);
        for (pass = 0; pass < 2; pass++) {
            for (i = 0; i < attrs->nelts; i++) {
                const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i,
                                                        cr_compattr_t);
                const char *g;
                const int *w;
                if (a->merged || strcmp(a->kind, repeats[k][0]) != 0) {
                    continue;
                }
                g = use_group(pool, repeats[k][0],
                              parse_value(pool, a->value));
                w = g ? apr_hash_get(newest, g, APR_HASH_KEY_STRING) : NULL;
                if (pass == 0 && g && (w == NULL || older(
                        APR_ARRAY_IDX(attrs, *w, cr_compattr_t).period_start,
                        (size_t)*w, a->period_start, (size_t)i))) {
                    int *at = apr_palloc(pool, sizeof(*at));
                    *at = i;
                    apr_hash_set(newest, g, APR_HASH_KEY_STRING, at);
                }
                if (pass == 1 && (w == NULL || *w == i)) {
                    add_repeat(pool, p, repeats[k][1], a, seen);
                }
            }
        }
    }
    for (i = 0; i < attrs->nelts; i++) {
        const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i, cr_compattr_t);
        if (a->merged) {
            continue;
        }
        for (k = 0; singles[k]; k++) {
            if (strcmp(a->kind, singles[k]) == 0
                && (best[k] == NULL
                    || newer(a->period_start, best[k]->period_start))) {
                best[k] = a;
            }
        }
    }
    for (k = 0; singles[k]; k++) {
        json_object *v = best[k] ? parse_value(pool, best[k]->value) : NULL;
        if (v == NULL || !json_object_is_type(v, json_type_object)) {
            continue;
        }
        {
            /* "security" belongs in meta. */
            json_object *into = strcmp(singles[k], "security") == 0 ? meta
                                                                   : p;
            json_object_object_foreach(v, key, val) {
                json_object_object_add(into, key, json_object_get(val));
            }
        }
    }
    /* The newborn's mother, and merge links. */
    for (i = 0; i < attrs->nelts; i++) {
        const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i, cr_compattr_t);
        json_object *v, *arr;
        const char *member;
        if (a->merged) {
            continue;
        }
        if (strcmp(a->kind, "mother") == 0) {
            member = "contained";
        }
        else if (strcmp(a->kind, "link") == 0) {
            member = "link";
        }
        else {
            continue;
        }
        v = parse_value(pool, a->value);
        if (v == NULL) {
            continue;
        }
        arr = cr_json_get_array(p, member);
        if (arr == NULL) {
            arr = cr_json_set_new_array(p, member);
        }
        json_object_array_add(arr, json_object_get(v));
    }
    return p;
}
