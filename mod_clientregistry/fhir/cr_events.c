/* cr_events: the change-notification event codes and the events of a
 * change (see the header for the rules). */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_events.h"
#include "fhir/cr_fhir_patient.h"

/* Most identifiers and links looked at in one resource. */
#define MAX_REPEATS 256

static const char *const codes[CR_EVENTS_COUNT][2] = {
    { "NEW", "new PHN" },
    { "NEWBORN", "newborn" },
    { "NEWBORN_GENDER", "newborn gender" },
    { "COMPOSITE", "composite" },
    { "DEATH", "death" },
    { "PHN", "PHN change" },
    { "PHNMERGE", "PHN Merge" },
    { "PHNJOIN", "PHN Join" },
    { "SSRI", "SSRI Sync" },
    { "EID", "eid" }
};

const char *cr_events_code(int i)
{
    return i >= 0 && i < CR_EVENTS_COUNT ? codes[i][0] : NULL;
}

const char *cr_events_display(int i)
{
    return i >= 0 && i < CR_EVENTS_COUNT ? codes[i][1] : NULL;
}

unsigned cr_events_bit(const char *code)
{
    int i;

    for (i = 0; code && i < CR_EVENTS_COUNT; i++) {
        if (strcmp(code, codes[i][0]) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

/* What the rules need of one resource. */
typedef struct facts_t {
    const char *phn;          /* the first current PHN, or NULL */
    apr_hash_t *phns;         /* every current PHN value */
    apr_hash_t *sris;         /* "system|value" of current SRIs */
    apr_hash_t *ssris;        /* ... of current secondary SRIs */
    int mother;               /* a contained RelatedPerson */
    int replaced;             /* a link of type replaced-by */
    const char *gender;
    const char *deceased;     /* canonical deceased[x], or NULL */
    const char *content;      /* canonical resource without versioning */
} facts_t;

static int ended(json_object *id)
{
    json_object *per = cr_json_get_object(id, "period");

    return per && cr_json_get_string(per, "end") != NULL;
}

static void collect(facts_t *f, apr_pool_t *pool, json_object *r)
{
    json_object *arr, *copy, *meta;
    size_t i, n;

    memset(f, 0, sizeof(*f));
    f->phns = apr_hash_make(pool);
    f->sris = apr_hash_make(pool);
    f->ssris = apr_hash_make(pool);
    arr = cr_json_get_array(r, "identifier");
    n = arr ? json_object_array_length(arr) : 0;
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        json_object *id = json_object_array_get_idx(arr, i);
        const char *system = cr_json_get_string(id, "system");
        const char *value = cr_json_get_string(id, "value");
        const char *use = cr_json_get_string(id, "use");
        cr_id_kind_e kind;
        if (system == NULL || value == NULL || ended(id)) {
            continue;
        }
        kind = cr_fhir_identifier_kind(NULL, pool, system);
        if (kind == CR_IDK_PHN) {
            if (f->phn == NULL) {
                f->phn = value;
            }
            apr_hash_set(f->phns, value, APR_HASH_KEY_STRING, value);
        }
        else if (kind == CR_IDK_SRI) {
            const char *key = apr_pstrcat(pool, system, "|", value, NULL);
            apr_hash_set(use && strcmp(use, "secondary") == 0 ? f->ssris
                                                              : f->sris,
                         key, APR_HASH_KEY_STRING, key);
        }
    }
    arr = cr_json_get_array(r, "contained");
    n = arr ? json_object_array_length(arr) : 0;
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        const char *rt = cr_json_get_string(json_object_array_get_idx(arr, i),
                                            "resourceType");
        if (rt && strcmp(rt, "RelatedPerson") == 0) {
            f->mother = 1;
        }
    }
    arr = cr_json_get_array(r, "link");
    n = arr ? json_object_array_length(arr) : 0;
    for (i = 0; i < n && i < MAX_REPEATS; i++) {
        const char *type = cr_json_get_string(json_object_array_get_idx(arr,
                                                                        i),
                                              "type");
        if (type && strcmp(type, "replaced-by") == 0) {
            f->replaced = 1;
        }
    }
    f->gender = cr_json_get_string(r, "gender");
    if (cr_json_get_bool(r, "deceasedBoolean") == 1) {
        f->deceased = "true";
    }
    else if (cr_json_get_string(r, "deceasedDateTime")) {
        f->deceased = cr_json_get_string(r, "deceasedDateTime");
    }
    /* The content: everything but what every new version changes. */
    copy = cr_json_copy(pool, r);
    json_object_object_del(copy, "id");
    json_object_object_del(copy, "text");
    meta = cr_json_get_object(copy, "meta");
    if (meta) {
        json_object_object_del(meta, "versionId");
        json_object_object_del(meta, "lastUpdated");
    }
    f->content = cr_composite_canonical(pool, copy);
}

/* Whether a has a key b has not. */
static int gains(apr_pool_t *pool, apr_hash_t *a, apr_hash_t *b)
{
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(pool, a); hi; hi = apr_hash_next(hi)) {
        const void *key;
        apr_ssize_t klen;
        apr_hash_this(hi, &key, &klen, NULL);
        if (apr_hash_get(b, key, klen) == NULL) {
            return 1;
        }
    }
    return 0;
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

unsigned cr_events_derive(apr_pool_t *pool, json_object *before,
                          json_object *after)
{
    facts_t b, a;
    unsigned ev = 0;

    if (after == NULL) {
        return 0;
    }
    collect(&a, pool, after);
    if (before == NULL) {
        if (a.phn) {
            ev |= CR_EVT_NEW;
            if (a.mother) {
                ev |= CR_EVT_NEWBORN;
            }
        }
        if (a.deceased) {
            ev |= CR_EVT_DEATH;
        }
        return ev;
    }
    collect(&b, pool, before);
    if (strcmp(a.content, b.content) == 0) {
        return 0;
    }
    ev |= CR_EVT_COMPOSITE;
    if (a.deceased && !same(a.deceased, b.deceased)) {
        ev |= CR_EVT_DEATH;
    }
    if (a.mother && a.gender && b.gender && strcmp(a.gender, b.gender) != 0
        && (strcmp(b.gender, "unknown") == 0
            || strcmp(b.gender, "other") == 0)
        && strcmp(a.gender, "unknown") != 0) {
        ev |= CR_EVT_NEWBORN_GENDER;
    }
    if ((a.phn && b.phn && strcmp(a.phn, b.phn) == 0
         && gains(pool, a.phns, b.phns))
        || (a.replaced && !b.replaced)) {
        ev |= CR_EVT_PHNMERGE;
    }
    else if (!same(a.phn, b.phn) || (b.replaced && !a.replaced)) {
        ev |= CR_EVT_PHN;
    }
    if (a.phn && gains(pool, a.sris, b.sris)) {
        ev |= CR_EVT_PHNJOIN;
    }
    if (gains(pool, a.ssris, b.ssris)) {
        ev |= CR_EVT_SSRI;
    }
    if (gains(pool, b.sris, a.sris) || gains(pool, b.ssris, a.ssris)) {
        ev |= CR_EVT_EID;
    }
    return ev;
}
