/*
 * cr_match_record.c: the match record (see cr_match.h): the names of the
 * compared fields and their agreement levels, the compact record text
 * built from a patient's demographics, and its parsing back into a
 * cr_match_record_t with the derived forms the comparisons need.
 *
 * The record is the first stage of matching: everything after it (keys,
 * comparison, weights, EM) reads records, never FHIR JSON or the model.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "match/cr_match.h"
#include "match/cr_normalize.h"
#include "match/cr_phonetic.h"

/* ------------------------------------------------------------------ */
/* Field and level names                                               */
/* ------------------------------------------------------------------ */

typedef struct field_info_t {
    const char *name;
    int levels;
    const char *const *level_names;
} field_info_t;

static const char *const given_levels[] = {
    "exact", "nickname", "similar", "phonetic", "partial", "swapped",
    "disagree"
};
static const char *const family_levels[] = {
    "exact", "similar", "phonetic", "partial", "swapped", "disagree"
};
static const char *const birth_levels[] = {
    "exact", "day-month-swapped", "one-digit", "year-off-by-one",
    "same-year-month", "disagree"
};
static const char *const sex_levels[] = { "agree", "disagree" };
static const char *const code_levels[] = { "exact", "typo", "disagree" };
static const char *const address_levels[] = {
    "exact", "similar", "street", "locality", "disagree"
};

static const field_info_t fields[CR_MF_COUNT] = {
    { "given", CR_ML_GIVEN_LEVELS, given_levels },
    { "family", CR_ML_FAMILY_LEVELS, family_levels },
    { "birth", CR_ML_BIRTH_LEVELS, birth_levels },
    { "sex", CR_ML_SEX_LEVELS, sex_levels },
    { "phone", CR_ML_CODE_LEVELS, code_levels },
    { "postal", CR_ML_CODE_LEVELS, code_levels },
    { "address", CR_ML_ADDR_LEVELS, address_levels }
};

const char *cr_match_field_name(int f)
{
    return f >= 0 && f < CR_MF_COUNT ? fields[f].name : NULL;
}

int cr_match_field_levels(int f)
{
    return f >= 0 && f < CR_MF_COUNT ? fields[f].levels : 0;
}

const char *cr_match_level_name(int f, int l)
{
    if (f < 0 || f >= CR_MF_COUNT || l < 0 || l >= fields[f].levels) {
        return NULL;
    }
    return fields[f].level_names[l];
}

int cr_match_field_from_name(const char *name)
{
    int f;

    for (f = 0; name && f < CR_MF_COUNT; f++) {
        if (strcmp(fields[f].name, name) == 0) {
            return f;
        }
    }
    return -1;
}

int cr_match_level_from_name(int f, const char *name)
{
    int l;

    if (f < 0 || f >= CR_MF_COUNT || name == NULL) {
        return -1;
    }
    for (l = 0; l < fields[f].levels; l++) {
        if (strcmp(fields[f].level_names[l], name) == 0) {
            return l;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Building the record text                                            */
/* ------------------------------------------------------------------ */

/* A bounded string builder: appends stop at the capacity, so the result
 * is always NUL-terminated and never longer than CR_MATCH_RECORD_MAX - 1
 * (the per-component caps keep real records far below it). */
typedef struct sbuf_t {
    char buf[CR_MATCH_RECORD_MAX];
    apr_size_t len;
} sbuf_t;

static void sb_put(sbuf_t *b, const char *s)
{
    while (s && *s && b->len + 1 < sizeof(b->buf)) {
        b->buf[b->len++] = *s++;
    }
    b->buf[b->len] = '\0';
}

static void sb_putc(sbuf_t *b, char c)
{
    char s[2];

    s[0] = c;
    s[1] = '\0';
    sb_put(b, s);
}

/* House number and street words of an address's lines. */
static void address_words(char *house, apr_size_t house_size, char *street,
                          const cr_address_t *a)
{
    char norm[CR_NORM_BUF_SIZE];
    apr_size_t slen = 0;
    int i;

    house[0] = '\0';
    street[0] = '\0';
    for (i = 0; a->line && i < a->line->nelts && i < CR_MATCH_MAX_ADDRS;
         i++) {
        cr_normalize_parts_t parts;
        int j;
        cr_normalize_text(norm, APR_ARRAY_IDX(a->line, i, const char *),
                          CR_NORM_MAX_LEN);
        cr_normalize_split(&parts, norm);
        for (j = 0; j < parts.n; j++) {
            const char *w = parts.part[j];
            const char *t;
            apr_size_t wl;
            if (*w >= '0' && *w <= '9') {
                if (house[0] == '\0') {
                    apr_cpystrn(house, w, house_size);
                }
                continue;   /* unit and other numbers: not street words */
            }
            t = cr_normalize_street_type(w);
            if (t) {
                w = t;
            }
            wl = strlen(w);
            if (slen + wl + 1 > CR_MATCH_MAX_STREET) {
                break;
            }
            if (slen > 0) {
                street[slen++] = ' ';
            }
            memcpy(street + slen, w, wl);
            slen += wl;
            street[slen] = '\0';
        }
    }
}

static void put_name(sbuf_t *b, const cr_name_t *n, int *count)
{
    char fam[CR_NORM_BUF_SIZE], giv[CR_NORM_BUF_SIZE], all[CR_NORM_BUF_SIZE];
    apr_size_t alen = 0;
    int j, k = 0;

    cr_normalize_text(fam, n->family, CR_MATCH_MAX_TEXT);
    all[0] = '\0';
    for (j = 0; n->given && j < n->given->nelts && k < CR_MATCH_MAX_GIVEN;
         j++) {
        apr_size_t gl;
        cr_normalize_text(giv, APR_ARRAY_IDX(n->given, j, const char *),
                          CR_MATCH_MAX_TEXT);
        gl = strlen(giv);
        if (gl == 0 || alen + gl + 1 > CR_MATCH_MAX_TEXT * CR_MATCH_MAX_GIVEN) {
            continue;
        }
        if (alen > 0) {
            all[alen++] = ' ';
        }
        memcpy(all + alen, giv, gl);
        alen += gl;
        all[alen] = '\0';
        k++;
    }
    if (fam[0] == '\0' && all[0] == '\0' && n->text) {
        /* Only a text form: the last word is taken as the family name. */
        char *sp;
        cr_normalize_text(all, n->text, CR_MATCH_MAX_TEXT * 2);
        sp = strrchr(all, ' ');
        if (sp) {
            *sp = '\0';
            apr_cpystrn(fam, sp + 1, CR_MATCH_MAX_TEXT + 1);
        }
        else {
            apr_cpystrn(fam, all, CR_MATCH_MAX_TEXT + 1);
            all[0] = '\0';
        }
    }
    if (fam[0] == '\0' && all[0] == '\0') {
        return;
    }
    if (*count > 0) {
        sb_putc(b, ';');
    }
    sb_put(b, fam);
    sb_putc(b, ',');
    sb_put(b, all);
    (*count)++;
}

const char *cr_match_record_build(apr_pool_t *pool, const cr_patient_t *p)
{
    sbuf_t *b = apr_palloc(pool, sizeof(*b));
    int i, n, pass;

    b->len = 0;
    b->buf[0] = '\0';
    sb_put(b, CR_MATCH_RECORD_VERSION "|");
    if (p->gender) {
        if (strcmp(p->gender, "male") == 0) {
            sb_putc(b, 'm');
        }
        else if (strcmp(p->gender, "female") == 0) {
            sb_putc(b, 'f');
        }
        else if (strcmp(p->gender, "other") == 0) {
            sb_putc(b, 'o');
        }
    }
    sb_putc(b, '|');
    if (p->birth_date) {
        cr_datetime_t dt;
        if (cr_datetime_parse_date(&dt, p->birth_date) == APR_SUCCESS) {
            char d[9];
            if (dt.precision == CR_DT_DAY) {
                apr_snprintf(d, sizeof(d), "%04d%02d%02d", dt.year, dt.month,
                             dt.day);
            }
            else if (dt.precision == CR_DT_MONTH) {
                apr_snprintf(d, sizeof(d), "%04d%02d", dt.year, dt.month);
            }
            else {
                apr_snprintf(d, sizeof(d), "%04d", dt.year);
            }
            sb_put(b, d);
        }
    }
    sb_putc(b, '|');

    /* Names: current ones (no period.end) first, then former names, which
     * still identify the person (a maiden name, say). */
    n = 0;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; p->names && i < p->names->nelts
                    && n < CR_MATCH_MAX_NAMES; i++) {
            const cr_name_t *nm = &APR_ARRAY_IDX(p->names, i, cr_name_t);
            if (nm->masked
                || (pass == 0) != (nm->period.end == NULL)) {
                continue;
            }
            put_name(b, nm, &n);
        }
    }
    sb_putc(b, '|');

    n = 0;
    for (i = 0; p->telecoms && i < p->telecoms->nelts
                && n < CR_MATCH_MAX_PHONES; i++) {
        const cr_telecom_t *t = &APR_ARRAY_IDX(p->telecoms, i, cr_telecom_t);
        char digits[CR_NORM_PHONE_SIZE];
        if (t->masked || t->value == NULL || t->system == NULL
            || strcmp(t->system, "phone") != 0) {
            continue;
        }
        if (cr_normalize_phone(digits, t->value, CR_NORM_ZTERM) < 7) {
            continue;
        }
        if (n > 0) {
            sb_putc(b, ';');
        }
        sb_put(b, digits);
        n++;
    }
    sb_putc(b, '|');

    n = 0;
    for (i = 0; p->addresses && i < p->addresses->nelts
                && n < CR_MATCH_MAX_ADDRS; i++) {
        const cr_address_t *a = &APR_ARRAY_IDX(p->addresses, i,
                                               cr_address_t);
        char postal[CR_NORM_POSTAL_SIZE], house[17];
        char street[CR_MATCH_MAX_STREET + 1], city[CR_NORM_BUF_SIZE];
        if (a->masked) {
            continue;
        }
        postal[0] = '\0';
        if (a->postal_code) {
            cr_normalize_postal(postal, a->postal_code, CR_NORM_ZTERM);
        }
        address_words(house, sizeof(house), street, a);
        cr_normalize_text(city, a->city, CR_MATCH_MAX_TEXT);
        if (!postal[0] && !house[0] && !street[0] && !city[0]) {
            continue;
        }
        if (n > 0) {
            sb_putc(b, ';');
        }
        sb_put(b, postal);
        sb_putc(b, ',');
        sb_put(b, house);
        sb_putc(b, ',');
        sb_put(b, street);
        sb_putc(b, ',');
        sb_put(b, city);
        n++;
    }
    return apr_pstrmemdup(pool, b->buf, b->len);
}

/* ------------------------------------------------------------------ */
/* Parsing the record text                                             */
/* ------------------------------------------------------------------ */

/* Split s in place at sep into at most max parts; returns the count. */
static int split(char **part, int max, char *s, char sep)
{
    int n = 0;

    if (s == NULL || *s == '\0') {
        return 0;
    }
    while (n < max) {
        char *e = strchr(s, sep);
        part[n++] = s;
        if (e == NULL) {
            break;
        }
        *e = '\0';
        s = e + 1;
    }
    return n;
}

static const char *compact(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, strlen(s) + 1);

    cr_normalize_compact(out, s);
    return out;
}

static int all_digits(const char *s)
{
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

static void derive_name(cr_match_name_t *n, apr_pool_t *pool)
{
    const char *sp;

    n->family_compact = compact(pool, n->family);
    cr_phonetic_dmetaphone(n->family_dm[0], n->family_dm[1],
                           n->family_compact);
    n->given_compact = compact(pool, n->given);
    sp = strchr(n->given, ' ');
    n->given_first = sp ? apr_pstrmemdup(pool, n->given, sp - n->given)
                        : n->given;
    n->given_canon = cr_normalize_given_canonical(n->given_first);
    cr_phonetic_dmetaphone(n->given_dm[0], n->given_dm[1], n->given_first);
}

apr_status_t cr_match_record_parse(cr_match_record_t *rec, apr_pool_t *pool,
                                   const char *text)
{
    char *copy, *top[7], *item[CR_MATCH_MAX_ADDRS + 1], *sub[5];
    int ntop, nitem, i, nsub;

    memset(rec, 0, sizeof(*rec));
    if (text == NULL || strlen(text) >= CR_MATCH_RECORD_MAX) {
        return APR_EINVAL;
    }
    copy = apr_pstrdup(pool, text);
    ntop = split(top, 7, copy, '|');
    if (ntop != 6 || strcmp(top[0], CR_MATCH_RECORD_VERSION) != 0) {
        return APR_EINVAL;
    }
    if (strlen(top[1]) > 1 || strlen(top[2]) > 8 || !all_digits(top[2])) {
        return APR_EINVAL;
    }
    rec->sex = top[1][0];
    apr_cpystrn(rec->birth, top[2], sizeof(rec->birth));

    nitem = split(item, CR_MATCH_MAX_NAMES, top[3], ';');
    for (i = 0; i < nitem; i++) {
        cr_match_name_t *n = &rec->name[rec->nnames];
        nsub = split(sub, 3, item[i], ',');
        if (nsub != 2) {
            memset(rec, 0, sizeof(*rec));
            return APR_EINVAL;
        }
        n->family = sub[0];
        n->given = sub[1];
        derive_name(n, pool);
        rec->nnames++;
    }
    nitem = split(item, CR_MATCH_MAX_PHONES, top[4], ';');
    for (i = 0; i < nitem; i++) {
        if (*item[i]) {
            rec->phone[rec->nphones++] = item[i];
        }
    }
    nitem = split(item, CR_MATCH_MAX_ADDRS, top[5], ';');
    for (i = 0; i < nitem; i++) {
        cr_match_addr_t *a = &rec->addr[rec->naddrs];
        nsub = split(sub, 5, item[i], ',');
        if (nsub != 4) {
            memset(rec, 0, sizeof(*rec));
            return APR_EINVAL;
        }
        a->postal = sub[0];
        a->house = sub[1];
        a->street = sub[2];
        a->street_compact = compact(pool, a->street);
        a->city = sub[3];
        a->city_compact = compact(pool, a->city);
        rec->naddrs++;
    }
    return APR_SUCCESS;
}

int cr_match_record_fields(const cr_match_record_t *rec)
{
    int n = 0, i, given = 0, family = 0, postal = 0, street = 0;

    for (i = 0; i < rec->nnames; i++) {
        given |= rec->name[i].given[0] != '\0';
        family |= rec->name[i].family[0] != '\0';
    }
    for (i = 0; i < rec->naddrs; i++) {
        postal |= rec->addr[i].postal[0] != '\0';
        street |= rec->addr[i].street[0] != '\0'
                  || rec->addr[i].city[0] != '\0';
    }
    n = given + family + postal + street + (rec->birth[0] != '\0')
        + (rec->sex != 0) + (rec->nphones > 0);
    return n;
}
