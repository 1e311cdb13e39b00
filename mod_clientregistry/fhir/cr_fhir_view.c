/* cr_fhir_view: composite Patient rendering (see cr_fhir_view.h).
 *
 * Versions are walked oldest first.  A repeating element (name, telecom,
 * address, identifier) is identified across versions by its content
 * without period and extensions (identifiers by system and value); the
 * version in which it first appeared gives its period.start, the first
 * version that no longer has it gives its period.end.  A single-valued
 * element's history is the list of runs of equal values.  Every loop is
 * bounded by the number of versions the caller loaded and by the
 * repeats each version may hold (validated when it was written, and
 * capped again here).
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_datetime.h"
#include "fhir/cr_fhir_patient.h"
#include "fhir/cr_fhir_view.h"
#include "core/cr_json.h"

#define EXT_VALIDATION CR_EXT_BASE "bc-validation-status-extension"
#define EXT_VERIFIED CR_EXT_BASE "bc-death-verified-flag-extension"
#define EXT_VERIFIED_HIST CR_EXT_BASE \
    "bc-death-verified-flag-history-extension"
#define EXT_GENDER_HIST CR_EXT_BASE "bc-gender-history-extension"
#define EXT_BIRTH_HIST CR_EXT_BASE "bc-birthdate-history-extension"
#define EXT_DEATH_HIST CR_EXT_BASE "bc-death-date-history-extension"
#define EXT_MBIRTH_HIST CR_EXT_BASE "bc-multiplebirth-history-extension"

/* Repeats considered per element per version: far above what writes
 * accept (cr_fhir_limits_t), a fence against a corrupt stored row. */
#define MAX_REPEATS 500

typedef struct vw_t {
    apr_pool_t *pool;
    const cr_view_input_t *in;
    const cr_view_options_t *opt;
    apr_array_header_t *versions;   /* of cr_view_version_t, last = now */
    apr_hash_t *rows;               /* "system|value" -> row */
} vw_t;

/* Known source systems (SRI/SSRI source-id -> assigner.display), as the
 * IG's examples name them. */
static const struct {
    const char *source;
    const char *display;
} sources[] = {
    { "fha-mt", "FHA Meditech - Fraser Valley - FHA_MT" },
    { "fha-fv", "FHA Meditech - Fraser Valley - FHA_FV" },
    { "fha-exp", "FHA Fraser Health Expanse - FHA_EXP" },
    { "fha-arh", "Abbotsford Regional Hospital" },
    { "fha-bh", "Burnaby Hospital" },
    { "viha-south", "VIHA Cerner - VIHA_SOUTH" },
    { NULL, NULL }
};

const char *cr_fhir_view_assigner(apr_pool_t *pool, const char *system)
{
    const char *source = NULL;
    cr_id_kind_e k = cr_fhir_identifier_kind(&source, pool, system);
    char *d, *c;
    int i;

    if (k == CR_IDK_PHN) {
        return CR_PHN_ASSIGNER;
    }
    if (k != CR_IDK_SRI || source == NULL) {
        return NULL;
    }
    for (i = 0; sources[i].source; i++) {
        if (strcmp(sources[i].source, source) == 0) {
            return sources[i].display;
        }
    }
    /* An unlisted source: its HCIM source code ("iha-iha" -> IHA_IHA). */
    d = apr_pstrdup(pool, source);
    for (c = d; *c; c++) {
        if (*c == '-') {
            *c = '_';
        }
        else if (*c >= 'a' && *c <= 'z') {
            *c = (char)(*c - 'a' + 'A');
        }
    }
    return d;
}

int cr_fhir_view_in_past(const char *s, apr_time_t now)
{
    cr_datetime_t dt;
    char lo[CR_DATETIME_DAY_SIZE], hi[CR_DATETIME_DAY_SIZE];
    char today[CR_DATETIME_INSTANT_SIZE];

    if (s == NULL || cr_datetime_parse_datetime(&dt, s) != APR_SUCCESS) {
        return 0;
    }
    if (dt.precision == CR_DT_SECOND) {
        apr_time_t t;
        return cr_datetime_to_apr_time(&t, &dt) == APR_SUCCESS && t <= now;
    }
    if (cr_datetime_format_instant(today, sizeof(today), now)
        != APR_SUCCESS) {
        return 0;
    }
    today[10] = '\0';
    cr_datetime_day_range(&dt, lo, hi);
    return strcmp(hi, today) < 0;
}

int cr_fhir_view_restricted(json_object *resource)
{
    json_object *sec = cr_json_get_array(cr_json_get(resource, "meta"),
                                         "security");
    size_t i, n = sec ? json_object_array_length(sec) : 0;

    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *c = json_object_array_get_idx(sec, i);
        const char *sys = cr_json_get_string(c, "system");
        const char *code = cr_json_get_string(c, "code");
        if (sys && code && strcmp(sys, CR_SYS_CONFIDENTIALITY) == 0
            && (strcmp(code, "R") == 0 || strcmp(code, "V") == 0)) {
            return 1;
        }
    }
    return 0;
}

/* ---- small JSON helpers (all results unowned, for embedding) -------- */

static json_object *ext_code(const char *url, const char *code)
{
    json_object *e = json_object_new_object();

    cr_json_set_string(e, "url", url);
    cr_json_set_string(e, "valueCode", code);
    return e;
}

static json_object *masked_ext_array(void)
{
    json_object *a = json_object_new_array();

    json_object_array_add(a, ext_code(CR_EXT_DATA_ABSENT, "masked"));
    return a;
}

static json_object *period_obj(const char *start, const char *end)
{
    json_object *p = json_object_new_object();

    cr_json_set_string(p, "start", start);
    cr_json_set_string(p, "end", end);
    return p;
}

static json_object *business_period(const char *start, const char *end)
{
    json_object *e = json_object_new_object();

    cr_json_set_string(e, "url", CR_EXT_BUSINESS_PERIOD);
    json_object_object_add(e, "valuePeriod", period_obj(start, end));
    return e;
}

static int ext_is(json_object *ext, const char *url)
{
    const char *u = cr_json_get_string(ext, "url");

    return u && strcmp(u, url) == 0;
}

static int is_history_ext(json_object *ext)
{
    const char *u = cr_json_get_string(ext, "url");

    return u && strncmp(u, CR_EXT_BASE, sizeof(CR_EXT_BASE) - 1) == 0
           && strstr(u, "-history-extension") != NULL;
}

/* A copy of period (or a new one) with start and end filled when
 * missing. */
static json_object *fill_period(json_object *period, const char *start,
                                const char *end)
{
    json_object *p = json_object_new_object();

    if (period && json_object_is_type(period, json_type_object)) {
        json_object_object_foreach(period, k, v) {
            json_object_object_add(p, k, json_object_get(v));
        }
    }
    if (cr_json_get(p, "start") == NULL && start) {
        /* "start" precedes "end" in FHIR's order: rebuild when needed. */
        json_object *q = json_object_new_object();
        cr_json_set_string(q, "start", start);
        {
            json_object_object_foreach(p, k2, v2) {
                json_object_object_add(q, k2, json_object_get(v2));
            }
        }
        json_object_put(p);
        p = q;
    }
    if (cr_json_get(p, "end") == NULL && end) {
        cr_json_set_string(p, "end", end);
    }
    return p;
}

static const char *string_of(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)
             : "";
}

/* ---- repeating elements --------------------------------------------- */

typedef enum { K_NAME, K_TELECOM, K_ADDRESS, K_IDENTIFIER } kind_e;

typedef struct rep_t {
    const char *key;
    const char *group;
    json_object *elem;          /* latest form seen */
    const char *first_time;
    int last_vi;
} rep_t;

static const char *elem_key(vw_t *w, json_object *elem, kind_e kind)
{
    json_object *tmp;
    const char *s;

    if (kind == K_IDENTIFIER) {
        return apr_pstrcat(w->pool, cr_json_get_string(elem, "system")
                           ? cr_json_get_string(elem, "system") : "", "|",
                           cr_json_get_string(elem, "value")
                           ? cr_json_get_string(elem, "value") : "", NULL);
    }
    tmp = json_object_new_object();
    if (json_object_is_type(elem, json_type_object)) {
        json_object_object_foreach(elem, k, v) {
            if (strcmp(k, "period") != 0 && strcmp(k, "extension") != 0
                && strcmp(k, "id") != 0) {
                json_object_object_add(tmp, k, json_object_get(v));
            }
        }
    }
    s = apr_pstrdup(w->pool, string_of(tmp));
    json_object_put(tmp);
    return s;
}

static const char *elem_group(vw_t *w, json_object *elem, kind_e kind)
{
    const char *a = NULL, *b = NULL;

    switch (kind) {
    case K_NAME:
        a = cr_json_get_string(elem, "use");
        break;
    case K_TELECOM:
        a = cr_json_get_string(elem, "system");
        b = cr_json_get_string(elem, "use");
        break;
    case K_ADDRESS:
        a = cr_json_get_string(elem, "type");
        b = cr_json_get_string(elem, "use");
        break;
    case K_IDENTIFIER:
        a = cr_json_get_string(elem, "system");
        break;
    }
    return apr_pstrcat(w->pool, a ? a : "", "|", b ? b : "", NULL);
}

static const char *field_of(kind_e kind)
{
    switch (kind) {
    case K_NAME:
        return "name";
    case K_TELECOM:
        return "telecom";
    case K_ADDRESS:
        return "address";
    default:
        return "identifier";
    }
}

/* Every distinct element of kind seen in any version, in order of first
 * appearance. */
static apr_array_header_t *collect_reps(vw_t *w, kind_e kind,
                                        apr_hash_t *index)
{
    apr_array_header_t *list = apr_array_make(w->pool, 8, sizeof(rep_t *));
    int vi;

    for (vi = 0; vi < w->versions->nelts; vi++) {
        const cr_view_version_t *v = &APR_ARRAY_IDX(w->versions, vi,
                                                    cr_view_version_t);
        json_object *arr = cr_json_get_array(v->resource, field_of(kind));
        size_t i, n = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < n && i < MAX_REPEATS; i++) {
            json_object *e = json_object_array_get_idx(arr, i);
            const char *key;
            rep_t *r;
            if (!json_object_is_type(e, json_type_object)) {
                continue;
            }
            key = elem_key(w, e, kind);
            r = apr_hash_get(index, key, APR_HASH_KEY_STRING);
            if (r == NULL) {
                r = apr_pcalloc(w->pool, sizeof(*r));
                r->key = key;
                r->group = elem_group(w, e, kind);
                r->first_time = v->time;
                apr_hash_set(index, key, APR_HASH_KEY_STRING, r);
                APR_ARRAY_PUSH(list, rep_t *) = r;
            }
            r->elem = e;
            r->last_vi = vi;
        }
    }
    return list;
}

/* name/telecom/address element with period and (addresses) the
 * validation status filled in. */
static json_object *decorate(vw_t *w, json_object *src, kind_e kind,
                             const char *start, const char *end)
{
    json_object *o = json_object_new_object();
    json_object *ext = cr_json_get_array(src, "extension");
    int has_period = 0;

    (void)w;
    if (kind == K_ADDRESS) {
        json_object *arr = json_object_new_array();
        size_t i, n = ext ? json_object_array_length(ext) : 0;
        int has_vs = 0;
        for (i = 0; i < n && i < MAX_REPEATS; i++) {
            has_vs |= ext_is(json_object_array_get_idx(ext, i),
                             EXT_VALIDATION);
        }
        if (!has_vs) {
            /* CR-GD-026: not validated against Canada Post. */
            json_object_array_add(arr, ext_code(EXT_VALIDATION, "unknown"));
        }
        for (i = 0; i < n && i < MAX_REPEATS; i++) {
            json_object_array_add(arr, json_object_get(
                json_object_array_get_idx(ext, i)));
        }
        json_object_object_add(o, "extension", arr);
    }
    {
        json_object_object_foreach(src, k, v) {
            if (strcmp(k, "extension") == 0 && kind == K_ADDRESS) {
                continue;
            }
            if (strcmp(k, "period") == 0) {
                json_object_object_add(o, k, fill_period(v, start, end));
                has_period = 1;
                continue;
            }
            json_object_object_add(o, k, json_object_get(v));
        }
    }
    if (!has_period) {
        json_object_object_add(o, "period", fill_period(NULL, start, end));
    }
    return o;
}

static json_object *decorate_identifier(vw_t *w, json_object *src,
                                        const char *status,
                                        const char *start, const char *end)
{
    static const char *const order[] = {
        "use", "type", "system", "value", "_value", NULL
    };
    json_object *o = json_object_new_object();
    json_object *ext = cr_json_get_array(src, "extension");
    json_object *arr = json_object_new_array();
    const char *system = cr_json_get_string(src, "system");
    size_t i, n = ext ? json_object_array_length(ext) : 0;
    int k;

    /* CR-GD-013: every identifier carries its status. */
    json_object_array_add(arr, ext_code(CR_EXT_IDENTIFIER_STATUS, status));
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        if (!ext_is(e, CR_EXT_IDENTIFIER_STATUS)) {
            json_object_array_add(arr, json_object_get(e));
        }
    }
    json_object_object_add(o, "extension", arr);
    if (cr_json_get(src, "use") == NULL) {
        /* The registry fills use in responses (profiles.md 3.1). */
        cr_json_set_string(o, "use", "official");
    }
    for (k = 0; order[k]; k++) {
        json_object *v = cr_json_get(src, order[k]);
        if (v) {
            json_object_object_add(o, order[k], json_object_get(v));
        }
    }
    /* CR-GD-014 */
    json_object_object_add(o, "period", fill_period(cr_json_get(src,
                                                                "period"),
                                                    start, end));
    if (cr_json_get(src, "assigner")) {
        json_object_object_add(o, "assigner", json_object_get(
            cr_json_get(src, "assigner")));
    }
    else {
        const char *d = system ? cr_fhir_view_assigner(w->pool, system)
                               : NULL;
        if (d) {
            json_object *a = json_object_new_object();
            cr_json_set_string(a, "display", d);
            json_object_object_add(o, "assigner", a);
        }
    }
    return o;
}

static const char *period_end(json_object *elem)
{
    return cr_json_get_string(cr_json_get(elem, "period"), "end");
}

typedef struct out_t {
    json_object *elem;
    const char *group;
} out_t;

/* Insert historical element h after the last element of its group. */
static void insert_hist(apr_array_header_t *out, json_object *h,
                        const char *group)
{
    int i, at = -1;
    out_t *slot;

    for (i = 0; i < out->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(out, i, out_t).group, group) == 0) {
            at = i;
        }
    }
    apr_array_push(out);
    if (at < 0) {
        at = out->nelts - 1;
    }
    else {
        at++;
        memmove(&APR_ARRAY_IDX(out, at + 1, out_t),
                &APR_ARRAY_IDX(out, at, out_t),
                (size_t)(out->nelts - 1 - at) * sizeof(out_t));
    }
    slot = &APR_ARRAY_IDX(out, at, out_t);
    slot->elem = h;
    slot->group = group;
}

static const char *identifier_status(vw_t *w, json_object *elem)
{
    const char *key = elem_key(w, elem, K_IDENTIFIER);
    const cr_view_identifier_t *row = w->rows
        ? apr_hash_get(w->rows, key, APR_HASH_KEY_STRING) : NULL;

    return row && row->status ? row->status : "active";
}

/* operations.md 0.7: a masked repeat keeps only what says which kind of
 * value it was (use; a telecom's system, an address's type). */
static json_object *masked_elem(json_object *e, kind_e kind)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "extension", masked_ext_array());
    if (kind == K_TELECOM && cr_json_get(e, "system")) {
        cr_json_set_string(o, "system", cr_json_get_string(e, "system"));
    }
    if (cr_json_get_string(e, "use")) {
        cr_json_set_string(o, "use", cr_json_get_string(e, "use"));
    }
    if (kind == K_ADDRESS && cr_json_get_string(e, "type")) {
        cr_json_set_string(o, "type", cr_json_get_string(e, "type"));
    }
    return o;
}

/* The array for a repeating element, current values first within each
 * group, then (history) the ended ones; NULL when there is none. */
static json_object *render_repeats(vw_t *w, json_object *cur, kind_e kind,
                                   int masked)
{
    apr_hash_t *index = apr_hash_make(w->pool);
    apr_array_header_t *reps = collect_reps(w, kind, index);
    apr_array_header_t *out = apr_array_make(w->pool, 8, sizeof(out_t));
    apr_array_header_t *hist = apr_array_make(w->pool, 4, sizeof(out_t));
    json_object *arr = cr_json_get_array(cur, field_of(kind));
    json_object *result;
    size_t i, n = arr ? json_object_array_length(arr) : 0;
    int last = w->versions->nelts - 1, j;
    int history = w->opt->history && !masked;

    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *key, *status = "active";
        rep_t *r;
        int ended;
        out_t o;
        if (!json_object_is_type(e, json_type_object)) {
            continue;
        }
        key = elem_key(w, e, kind);
        r = apr_hash_get(index, key, APR_HASH_KEY_STRING);
        ended = cr_fhir_view_in_past(period_end(e), w->opt->now);
        if (kind == K_IDENTIFIER) {
            status = identifier_status(w, e);
            /* A merged identifier is history even without period.end
             * (CR-GD-017); its end defaults to the current version. */
            ended |= strcmp(status, "merged") == 0;
        }
        if (ended && !history) {
            continue;
        }
        if (masked) {
            o.elem = masked_elem(e, kind);
        }
        else if (kind == K_IDENTIFIER) {
            o.elem = decorate_identifier(w, e, status,
                                         r ? r->first_time : NULL,
                                         ended ? w->in->last_updated
                                               : NULL);
        }
        else {
            o.elem = decorate(w, e, kind, r ? r->first_time : NULL, NULL);
        }
        o.group = elem_group(w, e, kind);
        *(out_t *)apr_array_push(ended ? hist : out) = o;
    }
    if (history) {
        /* Values older versions held that the current one dropped. */
        for (j = 0; j < reps->nelts; j++) {
            rep_t *r = APR_ARRAY_IDX(reps, j, rep_t *);
            const char *end;
            out_t o;
            if (r->last_vi >= last) {
                continue;
            }
            end = APR_ARRAY_IDX(w->versions, r->last_vi + 1,
                                cr_view_version_t).time;
            if (kind == K_IDENTIFIER) {
                o.elem = decorate_identifier(w, r->elem,
                                             identifier_status(w, r->elem),
                                             r->first_time, end);
            }
            else {
                o.elem = decorate(w, r->elem, kind, r->first_time, end);
            }
            o.group = r->group;
            *(out_t *)apr_array_push(hist) = o;
        }
        for (j = 0; j < hist->nelts; j++) {
            insert_hist(out, APR_ARRAY_IDX(hist, j, out_t).elem,
                        APR_ARRAY_IDX(hist, j, out_t).group);
        }
    }
    if (out->nelts == 0) {
        return NULL;
    }
    result = json_object_new_array();
    for (j = 0; j < out->nelts; j++) {
        json_object_array_add(result, APR_ARRAY_IDX(out, j, out_t).elem);
    }
    return result;
}

/* Identifiers the store holds that no version's JSON shows (e.g. moved
 * by a merge), as elements to decorate. */
static void add_row_identifiers(vw_t *w, json_object *ids, apr_hash_t *seen)
{
    const apr_array_header_t *rows = w->in->identifiers;
    int i;

    for (i = 0; rows && i < rows->nelts && i < MAX_REPEATS; i++) {
        const cr_view_identifier_t *r = &APR_ARRAY_IDX(
            rows, i, cr_view_identifier_t);
        const char *key = apr_pstrcat(w->pool, r->system, "|", r->value,
                                      NULL);
        json_object *src;
        int merged = r->status && strcmp(r->status, "merged") == 0;
        if (apr_hash_get(seen, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (merged && !w->opt->history) {
            continue;
        }
        src = json_object_new_object();
        cr_json_set_string(src, "use", r->use ? r->use : "official");
        cr_json_set_string(src, "system", r->system);
        cr_json_set_string(src, "value", r->value);
        json_object_array_add(ids, decorate_identifier(
            w, src, r->status ? r->status : "active", NULL,
            merged ? w->in->last_updated : NULL));
        json_object_put(src);
    }
}

/* ---- single-valued elements ----------------------------------------- */

typedef json_object *getter_fn(json_object *res);

static json_object *get_gender(json_object *r)
{
    return cr_json_get(r, "gender");
}

static json_object *get_birth(json_object *r)
{
    return cr_json_get(r, "birthDate");
}

static json_object *get_death(json_object *r)
{
    return cr_json_get(r, "deceasedDateTime");
}

static json_object *get_mbirth(json_object *r)
{
    json_object *v = cr_json_get(r, "multipleBirthBoolean");

    return v ? v : cr_json_get(r, "multipleBirthInteger");
}

static json_object *verified_ext(json_object *r)
{
    json_object *ext = cr_json_get_array(cr_json_get(r, "_deceasedDateTime"),
                                         "extension");
    size_t i, n = ext ? json_object_array_length(ext) : 0;

    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        if (ext_is(json_object_array_get_idx(ext, i), EXT_VERIFIED)) {
            return json_object_array_get_idx(ext, i);
        }
    }
    return NULL;
}

static json_object *get_verified(json_object *r)
{
    json_object *ext = cr_json_get_array(verified_ext(r), "extension");
    size_t i, n = ext ? json_object_array_length(ext) : 0;

    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        if (ext_is(e, "deathVerifiedFlag")) {
            return cr_json_get(e, "valueBoolean");
        }
    }
    return NULL;
}

typedef struct run_t {
    json_object *value;
    const char *start;
    const char *end;
} run_t;

static apr_array_header_t *runs_of(vw_t *w, getter_fn *get)
{
    apr_array_header_t *runs = apr_array_make(w->pool, 4, sizeof(run_t));
    int vi;

    for (vi = 0; vi < w->versions->nelts; vi++) {
        const cr_view_version_t *v = &APR_ARRAY_IDX(w->versions, vi,
                                                    cr_view_version_t);
        json_object *val = get(v->resource);
        run_t *last = runs->nelts
                      ? &APR_ARRAY_IDX(runs, runs->nelts - 1, run_t) : NULL;
        if (last && strcmp(string_of(last->value), string_of(val)) == 0) {
            continue;
        }
        if (last) {
            last->end = v->time;
        }
        last = apr_array_push(runs);
        last->value = val;
        last->start = v->time;
        last->end = NULL;
    }
    return runs;
}

/* The history extension for an earlier value. */
static json_object *history_ext(const char *url, const char *sub,
                                const char *value_key, json_object *value,
                                const char *start, const char *end)
{
    json_object *e = json_object_new_object();
    json_object *arr = cr_json_set_new_array(e, "extension");
    json_object *v = json_object_new_object();

    cr_json_set_string(v, "url", sub);
    json_object_object_add(v, value_key, json_object_get(value));
    json_object_array_add(arr, v);
    json_object_array_add(arr, business_period(start, end));
    cr_json_set_string(e, "url", url);
    return e;
}

static const char *value_key_of(json_object *v, const char *dflt)
{
    if (json_object_is_type(v, json_type_boolean)) {
        return "valueBoolean";
    }
    if (json_object_is_type(v, json_type_int)) {
        return "valueInteger";
    }
    return dflt;
}

/* Build "_<elem>": the stored extensions (history ones only with
 * history), a business period when none was sent, then derived history
 * extensions.  Returns NULL when there is nothing to say. */
static json_object *primitive_ext(vw_t *w, json_object *stored_under,
                                  json_object *current, getter_fn *get,
                                  const char *hist_url, const char *sub,
                                  const char *value_key)
{
    apr_array_header_t *runs = runs_of(w, get);
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    json_object *ext = cr_json_get_array(stored_under, "extension");
    size_t i, n = ext ? json_object_array_length(ext) : 0;
    int has_bp = 0, r;

    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        has_bp |= ext_is(json_object_array_get_idx(ext, i),
                         CR_EXT_BUSINESS_PERIOD);
    }
    if (current && !has_bp && runs->nelts > 0) {
        /* CR-GD-025: when the current value took effect. */
        json_object_array_add(arr, business_period(
            APR_ARRAY_IDX(runs, runs->nelts - 1, run_t).start, NULL));
    }
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        if (!w->opt->history && is_history_ext(e)) {
            continue;
        }
        json_object_array_add(arr, json_object_get(e));
    }
    if (w->opt->history && hist_url) {
        /* CR-GD-018: earlier values, oldest first. */
        for (r = 0; r + 1 < runs->nelts; r++) {
            const run_t *run = &APR_ARRAY_IDX(runs, r, run_t);
            if (run->value == NULL) {
                continue;
            }
            json_object_array_add(arr, history_ext(
                hist_url, sub, value_key_of(run->value, value_key),
                run->value, run->start, run->end));
        }
    }
    if (json_object_array_length(arr) == 0) {
        json_object_put(arr);
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "extension", arr);
    return o;
}

/* "_deceasedDateTime": as primitive_ext, and inside the death verified
 * flag extension its own business period and history. */
static json_object *death_ext(vw_t *w, json_object *cur)
{
    json_object *o = primitive_ext(w, cr_json_get(cur, "_deceasedDateTime"),
                                   get_death(cur), get_death, EXT_DEATH_HIST,
                                   "deathDate", "valueDateTime");
    json_object *arr;
    size_t i, n;

    if (o == NULL || !w->opt->history) {
        return o;
    }
    arr = cr_json_get_array(o, "extension");
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        apr_array_header_t *runs;
        json_object *copy = NULL, *sub;
        int r;
        if (!ext_is(e, EXT_VERIFIED)) {
            continue;
        }
        runs = runs_of(w, get_verified);
        if (runs->nelts < 2
            || json_object_deep_copy(e, &copy, NULL) != 0) {
            break;
        }
        sub = cr_json_get_array(copy, "extension");
        if (sub == NULL) {
            sub = cr_json_set_new_array(copy, "extension");
        }
        for (r = 0; r + 1 < runs->nelts; r++) {
            const run_t *run = &APR_ARRAY_IDX(runs, r, run_t);
            if (run->value) {
                json_object_array_add(sub, history_ext(
                    EXT_VERIFIED_HIST, "deathVerifiedFlag", "valueBoolean",
                    run->value, run->start, run->end));
            }
        }
        json_object_array_put_idx(arr, i, copy);
        break;
    }
    return o;
}

/* CR-GD-024: bc-sourceId-extension (which source and user supplied a
 * value) is for callers authorised for source details; a view that is not
 * full has it removed everywhere (the full view leaves that to the output
 * policy, ops/cr_privacy).  Bounded by depth. */
static void strip_source_ids(json_object *o, int depth)
{
    if (depth > 12 || o == NULL) {
        return;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n && i < MAX_REPEATS; i++) {
            strip_source_ids(json_object_array_get_idx(o, i), depth + 1);
        }
        return;
    }
    if (!json_object_is_type(o, json_type_object)) {
        return;
    }
    {
        json_object *ext = cr_json_get(o, "extension");
        if (ext && json_object_is_type(ext, json_type_array)) {
            size_t i, n = json_object_array_length(ext);
            int found = 0;
            for (i = 0; i < n && i < MAX_REPEATS; i++) {
                found |= ext_is(json_object_array_get_idx(ext, i),
                                CR_EXT_SOURCE_ID);
            }
            if (found) {
                json_object *keep = json_object_new_array();
                for (i = 0; i < n && i < MAX_REPEATS; i++) {
                    json_object *e = json_object_array_get_idx(ext, i);
                    if (!ext_is(e, CR_EXT_SOURCE_ID)) {
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
            }
        }
    }
    {
        json_object_object_foreach(o, k, v) {
            if (strcmp(k, "contained") != 0) {
                strip_source_ids(v, depth + 1);
            }
        }
    }
}

/* ---- the Patient ------------------------------------------------------ */

static json_object *render_meta(vw_t *w, json_object *cur)
{
    json_object *meta = cr_json_get(cur, "meta");
    json_object *o = json_object_new_object();
    json_object *prof = json_object_new_array();
    json_object *sp = cr_json_get_array(meta, "profile");
    size_t i, n = sp ? json_object_array_length(sp) : 0;

    (void)w;
    if (cr_json_get(meta, "versionId")) {
        json_object_object_add(o, "versionId", json_object_get(
            cr_json_get(meta, "versionId")));
    }
    if (cr_json_get(meta, "lastUpdated")) {
        json_object_object_add(o, "lastUpdated", json_object_get(
            cr_json_get(meta, "lastUpdated")));
    }
    /* CR-PAT-001 */
    json_object_array_add(prof, json_object_new_string(CR_PROFILE_PATIENT));
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        const char *p = json_object_get_string(
            json_object_array_get_idx(sp, i));
        if (p && strcmp(p, CR_PROFILE_PATIENT) != 0) {
            json_object_array_add(prof, json_object_new_string(p));
        }
    }
    json_object_object_add(o, "profile", prof);
    if (cr_json_get(meta, "security")) {
        json_object_object_add(o, "security", json_object_get(
            cr_json_get(meta, "security")));
    }
    if (cr_json_get(meta, "tag")) {
        json_object_object_add(o, "tag", json_object_get(
            cr_json_get(meta, "tag")));
    }
    return o;
}

static void copy_key(json_object *out, json_object *cur, const char *key)
{
    json_object *v = cr_json_get(cur, key);

    if (v) {
        json_object_object_add(out, key, json_object_get(v));
    }
}

static void add_if(json_object *out, const char *key, json_object *v)
{
    if (v) {
        json_object_object_add(out, key, v);
    }
}

static json_object *masked_primitive(void)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "extension", masked_ext_array());
    return o;
}

json_object *cr_fhir_view_patient(apr_pool_t *pool,
                                  const cr_view_input_t *in,
                                  const cr_view_options_t *opt)
{
    static const char *const handled[] = {
        "resourceType", "id", "meta", "text", "contained", "extension",
        "modifierExtension", "identifier", "active", "_active", "name",
        "telecom", "gender", "_gender", "birthDate", "_birthDate",
        "deceasedDateTime", "_deceasedDateTime", "deceasedBoolean",
        "address", "maritalStatus", "multipleBirthBoolean",
        "_multipleBirthBoolean", "multipleBirthInteger",
        "_multipleBirthInteger", "photo", "contact", "communication",
        "generalPractitioner", "managingOrganization", "link", NULL
    };
    json_object *cur = in->current;
    json_object *out = cr_json_own(pool, json_object_new_object());
    json_object *ids;
    vw_t w;
    int masked, i;

    w.pool = pool;
    w.in = in;
    w.opt = opt;
    w.rows = NULL;
    if (in->versions && in->versions->nelts > 0) {
        w.versions = in->versions;
    }
    else {
        cr_view_version_t *v;
        w.versions = apr_array_make(pool, 1, sizeof(cr_view_version_t));
        v = apr_array_push(w.versions);
        v->version = 0;
        v->time = in->last_updated;
        v->resource = cur;
    }
    if (in->identifiers) {
        w.rows = apr_hash_make(pool);
        for (i = 0; i < in->identifiers->nelts; i++) {
            const cr_view_identifier_t *r = &APR_ARRAY_IDX(
                in->identifiers, i, cr_view_identifier_t);
            apr_hash_set(w.rows, apr_pstrcat(pool, r->system, "|", r->value,
                                             NULL), APR_HASH_KEY_STRING, r);
        }
    }
    masked = !in->full && (in->masked || cr_fhir_view_restricted(cur));

    cr_json_set_string(out, "resourceType", "Patient");
    cr_json_set_string(out, "id", in->id ? in->id
                                         : cr_json_get_string(cur, "id"));
    json_object_object_add(out, "meta", render_meta(&w, cur));
    if (!opt->identifiers_only) {
        copy_key(out, cur, "contained");
        copy_key(out, cur, "extension");
    }

    ids = render_repeats(&w, cur, K_IDENTIFIER, 0);
    {
        apr_hash_t *seen = apr_hash_make(pool);
        int vi;
        for (vi = 0; vi < w.versions->nelts; vi++) {
            json_object *arr = cr_json_get_array(
                APR_ARRAY_IDX(w.versions, vi, cr_view_version_t).resource,
                "identifier");
            size_t k, n = arr ? json_object_array_length(arr) : 0;
            for (k = 0; k < n && k < MAX_REPEATS; k++) {
                const char *key = elem_key(&w, json_object_array_get_idx(
                    arr, k), K_IDENTIFIER);
                apr_hash_set(seen, key, APR_HASH_KEY_STRING, key);
            }
        }
        if (ids == NULL) {
            ids = json_object_new_array();
        }
        add_row_identifiers(&w, ids, seen);
        if (json_object_array_length(ids) > 0) {
            json_object_object_add(out, "identifier", ids);
        }
        else {
            json_object_put(ids);
        }
    }
    if (opt->identifiers_only) {
        /* CR-FC-022, CR-GD-020: identifiers only. */
        if (!in->full) {
            strip_source_ids(out, 0);
        }
        return out;
    }

    copy_key(out, cur, "active");
    copy_key(out, cur, "_active");
    add_if(out, "name", render_repeats(&w, cur, K_NAME, masked));
    add_if(out, "telecom", render_repeats(&w, cur, K_TELECOM, masked));
    if (masked) {
        /* CR-GD-022: no values, no history (CR-GD-023). */
        if (cr_json_get(cur, "gender")) {
            json_object_object_add(out, "_gender", masked_primitive());
        }
        if (cr_json_get(cur, "birthDate")) {
            json_object_object_add(out, "_birthDate", masked_primitive());
        }
    }
    else {
        copy_key(out, cur, "gender");
        add_if(out, "_gender", primitive_ext(
            &w, cr_json_get(cur, "_gender"), get_gender(cur), get_gender,
            EXT_GENDER_HIST, "gender", "valueCode"));
        copy_key(out, cur, "birthDate");
        add_if(out, "_birthDate", primitive_ext(
            &w, cr_json_get(cur, "_birthDate"), get_birth(cur), get_birth,
            EXT_BIRTH_HIST, "birthDate", "valueDate"));
    }
    copy_key(out, cur, "deceasedDateTime");
    add_if(out, "_deceasedDateTime", death_ext(&w, cur));
    add_if(out, "address", render_repeats(&w, cur, K_ADDRESS, masked));
    copy_key(out, cur, "maritalStatus");
    if (cr_json_get(cur, "multipleBirthInteger")) {
        copy_key(out, cur, "multipleBirthInteger");
        add_if(out, "_multipleBirthInteger", primitive_ext(
            &w, cr_json_get(cur, "_multipleBirthInteger"), get_mbirth(cur),
            get_mbirth, EXT_MBIRTH_HIST, "multipleBirth", "valueInteger"));
    }
    else {
        copy_key(out, cur, "multipleBirthBoolean");
        add_if(out, "_multipleBirthBoolean", primitive_ext(
            &w, cr_json_get(cur, "_multipleBirthBoolean"), get_mbirth(cur),
            get_mbirth, EXT_MBIRTH_HIST, "multipleBirth", "valueBoolean"));
    }
    if (!masked) {
        copy_key(out, cur, "photo");
        copy_key(out, cur, "contact");
    }
    copy_key(out, cur, "communication");
    copy_key(out, cur, "generalPractitioner");
    copy_key(out, cur, "managingOrganization");
    copy_key(out, cur, "link");
    {
        /* Whatever else the validator let through keeps its place at the
         * end (never the narrative). */
        json_object_object_foreach(cur, key, val) {
            int k, known = 0;
            for (k = 0; handled[k] && !known; k++) {
                known = strcmp(handled[k], key) == 0;
            }
            if (!known && key[0] != '_') {
                json_object_object_add(out, key, json_object_get(val));
            }
        }
    }
    if (!in->full) {
        strip_source_ids(out, 0);
    }
    return out;
}

/* A repeating element of a restricted Patient: its current values masked,
 * its ended ones (history) dropped. */
static void mask_repeats(json_object *p, kind_e kind, apr_time_t now)
{
    json_object *arr = cr_json_get(p, field_of(kind));
    json_object *keep;
    size_t i, n;

    if (arr == NULL) {
        return;
    }
    if (!json_object_is_type(arr, json_type_array)) {
        json_object_object_del(p, field_of(kind));
        return;
    }
    keep = json_object_new_array();
    n = json_object_array_length(arr);
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(e, json_type_object)
            || cr_fhir_view_in_past(period_end(e), now)) {
            continue;
        }
        json_object_array_add(keep, masked_elem(e, kind));
    }
    if (json_object_array_length(keep) > 0) {
        json_object_object_add(p, field_of(kind), keep);
    }
    else {
        json_object_put(keep);
        json_object_object_del(p, field_of(kind));
    }
}

static void mask_primitive(json_object *p, const char *key,
                           const char *ext_key)
{
    int had = cr_json_get(p, key) != NULL || cr_json_get(p, ext_key) != NULL;

    json_object_object_del(p, key);
    json_object_object_del(p, ext_key);
    if (had) {
        json_object_object_add(p, ext_key, masked_primitive());
    }
}

void cr_fhir_view_mask(json_object *patient, apr_time_t now)
{
    if (patient == NULL || !json_object_is_type(patient, json_type_object)) {
        return;
    }
    /* CR-GD-022, CR-GD-023: the same masked elements as the view's own
     * rendering; no history (ended repeats, bc-*-history-extensions). */
    mask_repeats(patient, K_NAME, now);
    mask_repeats(patient, K_TELECOM, now);
    mask_repeats(patient, K_ADDRESS, now);
    mask_primitive(patient, "gender", "_gender");
    mask_primitive(patient, "birthDate", "_birthDate");
    json_object_object_del(patient, "photo");
    json_object_object_del(patient, "contact");
    /* The narrative would repeat what was masked. */
    json_object_object_del(patient, "text");
}
