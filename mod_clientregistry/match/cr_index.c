/* cr_index: patient -> search/matching keys.
 *
 * Names give three kinds of key: the whole normalized family name and each
 * of its parts ("de la cruz", "cruz"), each normalized given name, and
 * "name" (any of those), so that FHIR's family/given/name parameters are
 * each one index range scan.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "match/cr_index.h"
#include "match/cr_match.h"
#include "match/cr_normalize.h"

typedef struct builder_t {
    apr_pool_t *pool;
    apr_hash_t *seen;
    apr_array_header_t *rows;
} builder_t;

static void add(builder_t *b, const char *kind, const char *value)
{
    const char *key;

    if (value == NULL || *value == '\0'
        || b->rows->nelts >= CR_INDEX_MAX_ROWS) {
        return;
    }
    key = apr_pstrcat(b->pool, kind, "|", value, NULL);
    if (apr_hash_get(b->seen, key, APR_HASH_KEY_STRING)) {
        return;
    }
    apr_hash_set(b->seen, key, APR_HASH_KEY_STRING, key);
    {
        cr_index_row_t *r = apr_array_push(b->rows);
        r->kind = kind;
        r->value = apr_pstrdup(b->pool, value);
    }
}

/* Add the whole name and (for multi-part names) each part. */
static void add_name(builder_t *b, const char *kind, const char *raw)
{
    char norm[CR_NORM_BUF_SIZE];
    apr_size_t len = 0;
    cr_normalize_parts_t parts;
    apr_status_t rv;
    int i;

    if (raw == NULL
        || cr_normalize_name(norm, &len, raw, CR_NORM_ZTERM) != APR_SUCCESS
        || len == 0) {
        return;
    }
    add(b, kind, norm);
    add(b, CR_IDX_NAME, norm);
    /* A name of more than CR_NORM_MAX_PARTS words still gets keys for
     * the words split kept (APR_INCOMPLETE). */
    rv = cr_normalize_split(&parts, norm);
    if ((rv == APR_SUCCESS || rv == APR_INCOMPLETE) && parts.n > 1) {
        for (i = 0; i < parts.n; i++) {
            add(b, kind, parts.part[i]);
            add(b, CR_IDX_NAME, parts.part[i]);
        }
    }
}

/* Matching (cr_match): the match record and its blocking keys, kinds
 * "bk:...".  They have their own bound (CR_MATCH_MAX_KEYS) and are not
 * counted against CR_INDEX_MAX_ROWS, so a patient with very many names
 * still gets them. */
static void add_match_keys(builder_t *b, const cr_patient_t *p)
{
    const cr_identifier_t *phn = cr_model_find_identifier(p, CR_IDK_PHN);
    const char *text = cr_match_record_build(b->pool, p);
    apr_array_header_t *keys = NULL;
    cr_match_record_t rec;
    cr_index_row_t *r;
    int i;

    r = apr_array_push(b->rows);
    r->kind = CR_MATCH_KIND_RECORD;
    r->value = text;
    if (cr_match_record_parse(&rec, b->pool, text) != APR_SUCCESS) {
        return;
    }
    cr_match_keys(&keys, b->pool, &rec, phn ? phn->value : NULL);
    for (i = 0; i < keys->nelts; i++) {
        const cr_match_key_t *k = &APR_ARRAY_IDX(keys, i, cr_match_key_t);
        r = apr_array_push(b->rows);
        r->kind = k->kind;
        r->value = k->value;
    }
}

static const char *lower_email(apr_pool_t *pool, const char *s)
{
    char *out = apr_pstrdup(pool, s);
    char *c;

    for (c = out; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return out;
}

apr_status_t cr_index_build(cr_index_t **out, apr_pool_t *pool,
                            const cr_patient_t *p)
{
    builder_t b;
    cr_index_t *ix = apr_pcalloc(pool, sizeof(*ix));
    int i, j;

    b.pool = pool;
    b.seen = apr_hash_make(pool);
    b.rows = apr_array_make(pool, 16, sizeof(cr_index_row_t));

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        add_name(&b, CR_IDX_FAMILY, n->family);
        for (j = 0; n->given && j < n->given->nelts; j++) {
            add_name(&b, CR_IDX_GIVEN,
                     APR_ARRAY_IDX(n->given, j, const char *));
        }
    }
    for (i = 0; i < p->telecoms->nelts; i++) {
        const cr_telecom_t *t = &APR_ARRAY_IDX(p->telecoms, i, cr_telecom_t);
        if (t->value == NULL || t->system == NULL) {
            continue;
        }
        if (strcmp(t->system, "phone") == 0) {
            char digits[CR_NORM_PHONE_SIZE];
            if (cr_normalize_phone(digits, t->value, CR_NORM_ZTERM) > 0) {
                add(&b, CR_IDX_PHONE, digits);
            }
        }
        else if (strcmp(t->system, "email") == 0) {
            add(&b, CR_IDX_EMAIL, lower_email(pool, t->value));
        }
    }
    for (i = 0; i < p->addresses->nelts; i++) {
        const cr_address_t *a = &APR_ARRAY_IDX(p->addresses, i, cr_address_t);
        char postal[CR_NORM_POSTAL_SIZE];
        if (a->postal_code
            && cr_normalize_postal(postal, a->postal_code, CR_NORM_ZTERM)
               > 0) {
            add(&b, CR_IDX_POSTAL, postal);
        }
    }
    add_match_keys(&b, p);
    ix->rows = b.rows;
    ix->gender = p->gender;
    if (p->birth_date) {
        cr_datetime_t dt;
        if (cr_datetime_parse_date(&dt, p->birth_date) == APR_SUCCESS) {
            char lo[11], hi[11];
            cr_datetime_day_range(&dt, lo, hi);
            ix->birth_lo = apr_pstrdup(pool, lo);
            ix->birth_hi = apr_pstrdup(pool, hi);
        }
    }
    *out = ix;
    return APR_SUCCESS;
}

apr_status_t cr_index_normalize_term(const char **out, apr_pool_t *pool,
                                     const char *kind, const char *term)
{
    *out = "";
    if (strcmp(kind, CR_IDX_PHONE) == 0) {
        char digits[CR_NORM_PHONE_SIZE];
        cr_normalize_phone(digits, term, CR_NORM_ZTERM);
        *out = apr_pstrdup(pool, digits);
    }
    else if (strcmp(kind, CR_IDX_POSTAL) == 0) {
        char postal[CR_NORM_POSTAL_SIZE];
        cr_normalize_postal(postal, term, CR_NORM_ZTERM);
        *out = apr_pstrdup(pool, postal);
    }
    else if (strcmp(kind, CR_IDX_EMAIL) == 0) {
        *out = lower_email(pool, term);
    }
    else {
        char norm[CR_NORM_BUF_SIZE];
        apr_size_t len = 0;
        if (cr_normalize_name(norm, &len, term, CR_NORM_ZTERM)
            != APR_SUCCESS) {
            return APR_EINVAL;
        }
        *out = apr_pstrmemdup(pool, norm, len);
    }
    return APR_SUCCESS;
}
