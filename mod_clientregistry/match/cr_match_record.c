/*
 * cr_match.c: match records, blocking keys, comparison vectors,
 * Fellegi-Sunter weights and EM estimation (see cr_match.h).
 *
 * The comparisons follow the usual practice of person-record linkage
 * (Winkler's string comparator thresholds, phonetic agreement as a
 * weaker level, nickname tables, date transpositions); every threshold is
 * a property of the comparator, fixed here and documented, never fitted
 * to a data set.  How much each level counts is not decided here but by
 * the m and u probabilities, which EM estimates from the stored records.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "match/cr_match.h"
#include "match/cr_normalize.h"
#include "match/cr_similarity.h"

/* Winkler's customary agreement threshold for names. */
#define JW_AGREE 0.92

/* Most words of an address compared word by word. */
#define MAX_WORDS 16

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

/* Normalize a name-like text into out (CR_NORM_BUF_SIZE), cut to max
 * bytes at a word boundary when possible; "" for unusable input. */
static void norm_text(char *out, const char *raw, apr_size_t max)
{
    apr_size_t len = 0;

    if (raw == NULL
        || cr_normalize_name(out, &len, raw, CR_NORM_ZTERM) != APR_SUCCESS) {
        out[0] = '\0';
        return;
    }
    if (len > max) {
        apr_size_t cut = max;
        while (cut > 0 && out[cut] != ' ') {
            cut--;
        }
        out[cut > 0 ? cut : max] = '\0';
        len = strlen(out);
        while (len > 0 && out[len - 1] == ' ') {
            out[--len] = '\0';
        }
    }
}

/* Street-type words and their spelled-out forms: "12 Main St" and "12
 * main street" must agree, and these words say little about identity, so
 * word-by-word comparison ignores them. */
static const char *const street_types[][2] = {
    { "av", "avenue" }, { "ave", "avenue" }, { "avenue", "avenue" },
    { "bv", "boulevard" }, { "blvd", "boulevard" },
    { "boulevard", "boulevard" },
    { "cct", "circuit" }, { "circuit", "circuit" },
    { "cl", "close" }, { "close", "close" },
    { "cr", "crescent" }, { "cres", "crescent" },
    { "crescent", "crescent" },
    { "ct", "court" }, { "court", "court" },
    { "dr", "drive" }, { "drive", "drive" },
    { "hwy", "highway" }, { "highway", "highway" },
    { "la", "lane" }, { "ln", "lane" }, { "lane", "lane" },
    { "pde", "parade" }, { "parade", "parade" },
    { "pkwy", "parkway" }, { "parkway", "parkway" },
    { "pl", "place" }, { "place", "place" },
    { "rd", "road" }, { "road", "road" },
    { "sq", "square" }, { "square", "square" },
    { "st", "street" }, { "str", "street" }, { "street", "street" },
    { "tce", "terrace" }, { "ter", "terrace" }, { "terrace", "terrace" },
    { "way", "way" }
};

static const char *street_type(const char *w)
{
    apr_size_t i;

    for (i = 0; i < sizeof(street_types) / sizeof(street_types[0]); i++) {
        if (strcmp(street_types[i][0], w) == 0) {
            return street_types[i][1];
        }
    }
    return NULL;
}

static int is_street_type_word(const char *w)
{
    apr_size_t i;

    for (i = 0; i < sizeof(street_types) / sizeof(street_types[0]); i++) {
        if (strcmp(street_types[i][1], w) == 0) {
            return 1;
        }
    }
    return 0;
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
        norm_text(norm, APR_ARRAY_IDX(a->line, i, const char *),
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
            t = street_type(w);
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

    norm_text(fam, n->family, CR_MATCH_MAX_TEXT);
    all[0] = '\0';
    for (j = 0; n->given && j < n->given->nelts && k < CR_MATCH_MAX_GIVEN;
         j++) {
        apr_size_t gl;
        norm_text(giv, APR_ARRAY_IDX(n->given, j, const char *),
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
        norm_text(all, n->text, CR_MATCH_MAX_TEXT * 2);
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
        norm_text(city, a->city, CR_MATCH_MAX_TEXT);
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

/* ------------------------------------------------------------------ */
/* Blocking keys                                                       */
/* ------------------------------------------------------------------ */

static void add_key(apr_array_header_t *keys, apr_pool_t *pool,
                    const char *kind, const char *value)
{
    int i;
    cr_match_key_t *k;

    if (value == NULL || *value == '\0' || keys->nelts >= CR_MATCH_MAX_KEYS) {
        return;
    }
    for (i = 0; i < keys->nelts; i++) {
        k = &APR_ARRAY_IDX(keys, i, cr_match_key_t);
        if (strcmp(k->kind, kind) == 0 && strcmp(k->value, value) == 0) {
            return;
        }
    }
    k = apr_array_push(keys);
    k->kind = kind;
    k->value = value;
}

/* DM of the first significant word of a street text (not a street type,
 * three letters or more), into out (CR_PHONETIC_DMETAPHONE_SIZE). */
static void street_sound(char *out, const char *street)
{
    char alt[CR_PHONETIC_DMETAPHONE_SIZE];
    cr_normalize_parts_t parts;
    int i;

    out[0] = '\0';
    cr_normalize_split(&parts, street);
    for (i = 0; i < parts.n && i < MAX_WORDS; i++) {
        if (strlen(parts.part[i]) >= 3
            && !is_street_type_word(parts.part[i])) {
            cr_phonetic_dmetaphone(out, alt, parts.part[i]);
            return;
        }
    }
}

void cr_match_keys(apr_array_header_t **keys, apr_pool_t *pool,
                   const cr_match_record_t *rec, const char *phn)
{
    apr_array_header_t *k = *keys;
    char year[5] = "", mmdd[5] = "", md[5] = "";
    char gi[2] = "";
    const char *fam_dm = "";
    int i, j;

    if (k == NULL) {
        k = *keys = apr_array_make(pool, 16, sizeof(cr_match_key_t));
    }
    /* Identifying keys first: the bound CR_MATCH_MAX_KEYS cuts name
     * combinations of records with many names, never these. */
    for (i = 0; i < rec->nphones; i++) {
        add_key(k, pool, CR_MATCH_KIND_PHONE, rec->phone[i]);
    }
    if (phn && *phn) {
        add_key(k, pool, CR_MATCH_KIND_PHN, phn);
    }
    if (strlen(rec->birth) >= 4) {
        memcpy(year, rec->birth, 4);
        year[4] = '\0';
    }
    if (strlen(rec->birth) == 8) {
        /* The birth date with an initial, given or family (either, so
         * that exchanged names still share it): a birth date alone is
         * shared by some thirty people per million. */
        int any = 0;
        memcpy(mmdd, rec->birth + 4, 4);
        mmdd[4] = '\0';
        for (i = 0; i < rec->nnames; i++) {
            char ini[3];
            ini[0] = rec->name[i].given_first[0];
            ini[1] = rec->name[i].family_compact[0];
            ini[2] = '\0';
            for (j = 0; j < 2; j++) {
                if (ini[j]) {
                    add_key(k, pool, CR_MATCH_KIND_DOB,
                            apr_pstrcat(pool, rec->birth, "|",
                                        apr_pstrndup(pool, ini + j, 1),
                                        NULL));
                    any = 1;
                }
            }
        }
        if (!any) {
            add_key(k, pool, CR_MATCH_KIND_DOB,
                    apr_pstrcat(pool, rec->birth, "|", NULL));
        }
    }
    if (mmdd[0]) {
        /* Month and day in ascending order: a day-month exchange, a
         * common error, keeps the keys built from them. */
        int swap = memcmp(mmdd, mmdd + 2, 2) > 0;
        memcpy(md, mmdd + (swap ? 2 : 0), 2);
        memcpy(md + 2, mmdd + (swap ? 0 : 2), 2);
        md[4] = '\0';
    }
    for (i = 0; i < rec->naddrs; i++) {
        /* Keys without names: a copy with both names misspelt still
         * shares its birth date with the sound of the city (a postal code
         * typo aside), its birth day and month with the street (a year
         * typo aside), or its household (house number, street and city
         * sounds). */
        const cr_match_addr_t *a = &rec->addr[i];
        char cd[CR_PHONETIC_DMETAPHONE_SIZE], alt[CR_PHONETIC_DMETAPHONE_SIZE];
        char ss[CR_PHONETIC_DMETAPHONE_SIZE];
        cd[0] = '\0';
        if (a->city_compact[0]) {
            cr_phonetic_dmetaphone(cd, alt, a->city_compact);
        }
        street_sound(ss, a->street);
        if (mmdd[0] && cd[0]) {
            add_key(k, pool, CR_MATCH_KIND_DOB_CITY,
                    apr_pstrcat(pool, rec->birth, "|", cd, NULL));
        }
        if (mmdd[0] && ss[0]) {
            add_key(k, pool, CR_MATCH_KIND_DAY_STREET,
                    apr_pstrcat(pool, md, "|", ss, NULL));
        }
        if (mmdd[0] && a->postal[0]) {
            add_key(k, pool, CR_MATCH_KIND_DAY_POSTAL,
                    apr_pstrcat(pool, md, "|", a->postal, NULL));
        }
        if (a->house[0] && ss[0] && cd[0]) {
            add_key(k, pool, CR_MATCH_KIND_HOUSEHOLD,
                    apr_pstrcat(pool, a->house, "|", ss, "|", cd, NULL));
        }
    }
    if (rec->nnames > 0) {
        gi[0] = rec->name[0].given_first[0];
        fam_dm = rec->name[0].family_dm[0];
    }
    for (i = 0; i < rec->naddrs; i++) {
        const cr_match_addr_t *a = &rec->addr[i];
        if (a->postal[0] == '\0') {
            continue;
        }
        if (gi[0]) {
            add_key(k, pool, CR_MATCH_KIND_POSTAL_GIV,
                    apr_pstrcat(pool, a->postal, "|", gi, NULL));
        }
        if (fam_dm[0]) {
            add_key(k, pool, CR_MATCH_KIND_POSTAL_FAM,
                    apr_pstrcat(pool, a->postal, "|", fam_dm, NULL));
        }
        if (a->house[0]) {
            add_key(k, pool, CR_MATCH_KIND_POSTAL_HOUSE,
                    apr_pstrcat(pool, a->postal, "|", a->house, NULL));
        }
    }
    for (i = 0; i < rec->nnames; i++) {
        const cr_match_name_t *n = &rec->name[i];
        const char *fd = n->family_dm[0], *gd = n->given_dm[0];
        char g[2], f[2];
        g[0] = n->given_first[0];
        g[1] = '\0';
        f[0] = n->family_compact[0];
        f[1] = '\0';
        if (fd[0]) {
            if (year[0]) {
                add_key(k, pool, CR_MATCH_KIND_FAM_YEAR,
                        apr_pstrcat(pool, fd, "|", g, "|", year, NULL));
            }
            if (mmdd[0]) {
                add_key(k, pool, CR_MATCH_KIND_FAM_DAY,
                        apr_pstrcat(pool, fd, "|", g, "|", mmdd, NULL));
            }
        }
        if (gd[0] && year[0]) {
            add_key(k, pool, CR_MATCH_KIND_GIV_YEAR,
                    apr_pstrcat(pool, gd, "|", f, "|", year, NULL));
        }
        if (fd[0] && gd[0]) {
            /* Sorted, so that exchanged names give the same key. */
            add_key(k, pool, CR_MATCH_KIND_NAMES,
                    strcmp(fd, gd) <= 0
                    ? apr_pstrcat(pool, fd, "|", gd, NULL)
                    : apr_pstrcat(pool, gd, "|", fd, NULL));
        }
        for (j = 0; j < rec->naddrs; j++) {
            const cr_match_addr_t *a = &rec->addr[j];
            char ss[CR_PHONETIC_DMETAPHONE_SIZE];
            street_sound(ss, a->street);
            /* Either name's sound, under one kind: a copy with the names
             * exchanged, or with one of them misspelt, still shares the
             * other with its household. */
            if (a->house[0]) {
                add_key(k, pool, CR_MATCH_KIND_FAM_HOUSE, fd[0]
                        ? apr_pstrcat(pool, fd, "|", a->house, NULL) : NULL);
                add_key(k, pool, CR_MATCH_KIND_FAM_HOUSE, gd[0]
                        ? apr_pstrcat(pool, gd, "|", a->house, NULL) : NULL);
            }
            if (ss[0]) {
                add_key(k, pool, CR_MATCH_KIND_FAM_STREET, fd[0]
                        ? apr_pstrcat(pool, fd, "|", ss, NULL) : NULL);
                add_key(k, pool, CR_MATCH_KIND_FAM_STREET, gd[0]
                        ? apr_pstrcat(pool, gd, "|", ss, NULL) : NULL);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Comparison                                                          */
/* ------------------------------------------------------------------ */

static int dm_common(const char a[2][CR_PHONETIC_DMETAPHONE_SIZE],
                     const char b[2][CR_PHONETIC_DMETAPHONE_SIZE])
{
    int i, j;

    for (i = 0; i < 2; i++) {
        for (j = 0; j < 2; j++) {
            if (a[i][0] && strcmp(a[i], b[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int same(const char *a, const char *b)
{
    return *a && strcmp(a, b) == 0;
}

static int similar(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    /* Jaro is at most (2 + shorter / longer) / 3, and the Winkler bonus
     * at most 0.4 of the rest, so JW_AGREE (0.92) needs shorter / longer
     * >= 0.6: skip the comparison when the lengths already rule it out. */
    if (la == 0 || lb == 0 || (la < lb ? la * 5 < lb * 3 : lb * 5 < la * 3)) {
        return 0;
    }
    return cr_similarity_jaro_winkler(a, b) >= JW_AGREE;
}

/* Names are similar when Jaro-Winkler says so, or when at most one edit
 * (Damerau: a letter substituted, inserted, deleted or two exchanged) per
 * four letters of the longer name turns one into the other: Jaro-Winkler
 * forgives little in short names and two typos in a long one, which
 * data entry makes about as often. */
static int name_similar(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);
    int edits = (int)((la > lb ? la : lb) / 4);

    if (similar(a, b)) {
        return 1;
    }
    return la >= 4 && lb >= 4 && edits >= 1
           && cr_similarity_damerau(a, b, edits) <= edits;
}

/* Any word of a equal to any word of b (words of two letters or more). */
static int word_in_common(const char *a, const char *b)
{
    cr_normalize_parts_t pa, pb;
    int i, j;

    cr_normalize_split(&pa, a);
    cr_normalize_split(&pb, b);
    for (i = 0; i < pa.n; i++) {
        if (strlen(pa.part[i]) < 2) {
            continue;
        }
        for (j = 0; j < pb.n; j++) {
            if (strcmp(pa.part[i], pb.part[j]) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int given_level(const cr_match_name_t *a, const cr_match_name_t *b)
{
    if (!*a->given || !*b->given) {
        return CR_MATCH_MISSING;
    }
    if (same(a->given_first, b->given_first)
        || same(a->given_compact, b->given_compact)) {
        return CR_ML_GIVEN_EXACT;
    }
    if (same(a->given_canon, b->given_canon)) {
        return CR_ML_GIVEN_NICKNAME;
    }
    if (name_similar(a->given_first, b->given_first)
        || ((a->given_first != a->given || b->given_first != b->given)
            && name_similar(a->given_compact, b->given_compact))) {
        return CR_ML_GIVEN_SIMILAR;
    }
    if (dm_common(a->given_dm, b->given_dm)) {
        return CR_ML_GIVEN_PHONETIC;
    }
    if (word_in_common(a->given, b->given)
        || a->given_first[0] == b->given_first[0]) {
        /* Another given name in common, or the first letter (an
         * initial against a name, or a name misspelt beyond similarity,
         * which mostly keeps it).  The first letter alone is weak
         * evidence: one pair of different people in fifteen or so
         * shares it. */
        return CR_ML_GIVEN_PARTIAL;
    }
    return CR_ML_GIVEN_DISAGREE;
}

static int family_level(const cr_match_name_t *a, const cr_match_name_t *b)
{
    if (!*a->family || !*b->family) {
        return CR_MATCH_MISSING;
    }
    if (same(a->family_compact, b->family_compact)) {
        return CR_ML_FAMILY_EXACT;
    }
    if (name_similar(a->family_compact, b->family_compact)) {
        return CR_ML_FAMILY_SIMILAR;
    }
    if (dm_common(a->family_dm, b->family_dm)) {
        return CR_ML_FAMILY_PHONETIC;
    }
    if (word_in_common(a->family, b->family)) {
        return CR_ML_FAMILY_PARTIAL;
    }
    return CR_ML_FAMILY_DISAGREE;
}

/* How a family name compares with a given name of the other record, on
 * the family name's scale: exact, similar (name_similar),
 * phonetic (a Double Metaphone key in common) or disagree. */
static int cross_level(const cr_match_name_t *fam, const cr_match_name_t *giv)
{
    if (same(fam->family_compact, giv->given_compact)
        || same(fam->family_compact, giv->given_first)) {
        return CR_ML_FAMILY_EXACT;
    }
    if (name_similar(fam->family_compact, giv->given_compact)
        || name_similar(fam->family_compact, giv->given_first)) {
        return CR_ML_FAMILY_SIMILAR;
    }
    return dm_common(fam->family_dm, giv->given_dm) ? CR_ML_FAMILY_PHONETIC
                                                    : CR_ML_FAMILY_DISAGREE;
}

/* Given and family exchanged: one name agrees closely (exact or similar)
 * with the other record's opposite one.  Returns the family-scale level of
 * the other crosswise pair (the name that was not the evidence of the
 * exchange, compared where it moved to), or -1 when not exchanged. */
static int swapped(const cr_match_name_t *a, const cr_match_name_t *b)
{
    int x, y;

    if (!*a->given || !*b->given || !*a->family || !*b->family) {
        return -1;
    }
    x = cross_level(a, b);
    y = cross_level(b, a);
    if (x > y) {
        int t = x;
        x = y;
        y = t;
    }
    return x <= CR_ML_FAMILY_SIMILAR ? y : -1;
}

/* Badness of a level for choosing the best pair of names: 0 for the
 * strongest agreement, 1 for disagreement, 0.5 for missing. */
static double badness(int level, int levels)
{
    if (level == CR_MATCH_MISSING) {
        return 0.5;
    }
    return (double)level / (double)(levels - 1);
}

static void compare_names(cr_match_vector_t *v, const cr_match_record_t *a,
                          const cr_match_record_t *b)
{
    double best = 3.0;
    int i, j;

    v->level[CR_MF_GIVEN] = CR_MATCH_MISSING;
    v->level[CR_MF_FAMILY] = CR_MATCH_MISSING;
    for (i = 0; i < a->nnames; i++) {
        for (j = 0; j < b->nnames; j++) {
            const cr_match_name_t *x = &a->name[i], *y = &b->name[j];
            int g = given_level(x, y), f = family_level(x, y);
            double bad;
            int s;
            if ((g == CR_ML_GIVEN_DISAGREE || g == CR_ML_GIVEN_PARTIAL)
                && (f == CR_ML_FAMILY_DISAGREE || f == CR_ML_FAMILY_PARTIAL)
                && (s = swapped(x, y)) >= 0) {
                /* The exchange is one event, counted once (in the given
                 * name's field); the other name is compared where it
                 * moved to. */
                g = CR_ML_GIVEN_SWAPPED;
                f = s;
            }
            bad = badness(g, CR_ML_GIVEN_LEVELS)
                  + badness(f, CR_ML_FAMILY_LEVELS);
            /* Ties go to the stronger given level, then family level:
             * a rule on the pair's levels alone, so that compare(a, b)
             * equals compare(b, a) whatever the order of the names. */
            if (bad < best
                || (bad == best
                    && (g < v->level[CR_MF_GIVEN]
                        || (g == v->level[CR_MF_GIVEN]
                            && f < v->level[CR_MF_FAMILY])))) {
                best = bad;
                v->level[CR_MF_GIVEN] = (unsigned char)g;
                v->level[CR_MF_FAMILY] = (unsigned char)f;
            }
        }
    }
}

/* The number written by the n digits at s. */
static int digits(const char *s, int n)
{
    int v = 0;

    while (n-- > 0) {
        v = v * 10 + (*s++ - '0');
    }
    return v;
}

static int birth_level(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    if (la < 4 || lb < 4) {
        return CR_MATCH_MISSING;
    }
    if (la == 8 && lb == 8) {
        cr_similarity_date_level_e level;
        int y1 = digits(a, 4), m1 = digits(a + 4, 2), d1 = digits(a + 6, 2);
        int y2 = digits(b, 4), m2 = digits(b + 4, 2), d2 = digits(b + 6, 2);
        if (cr_similarity_date(&level, y1, m1, d1, y2, m2, d2)
            != APR_SUCCESS) {
            return CR_SIMILARITY_DATE_DISAGREE;
        }
        return (int)level;
    }
    /* A partial date agrees as far as both go, or not at all. */
    if (strncmp(a, b, la < lb ? la : lb) == 0) {
        return CR_SIMILARITY_DATE_SAME_YEAR_MONTH;
    }
    return CR_SIMILARITY_DATE_DISAGREE;
}

static int code_level(const char *a, const char *b)
{
    if (!*a || !*b) {
        return CR_MATCH_MISSING;
    }
    switch (cr_similarity_digits_typo(a, b)) {
    case CR_SIMILARITY_TYPO_EQUAL:
        return CR_ML_CODE_EXACT;
    case CR_SIMILARITY_TYPO_SUBSTITUTION:
    case CR_SIMILARITY_TYPO_TRANSPOSITION:
        return CR_ML_CODE_TYPO;
    default:
        return CR_ML_CODE_DISAGREE;
    }
}

/* The significant words of an address text (street types left out unless
 * nothing else remains). */
static int street_words(const char **w, cr_normalize_parts_t *parts,
                        const char *s)
{
    int i, n = 0;

    cr_normalize_split(parts, s);
    for (i = 0; i < parts->n && n < MAX_WORDS; i++) {
        if (!is_street_type_word(parts->part[i])
            && strlen(parts->part[i]) >= 2) {
            w[n++] = parts->part[i];
        }
    }
    for (i = 0; n == 0 && i < parts->n && i < MAX_WORDS; i++) {
        w[n++] = parts->part[i];
    }
    return n;
}

static int word_found(const char *w, const char *const *set, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (strcmp(w, set[i]) == 0
            || (strlen(w) >= 4 && similar(w, set[i]))) {
            return 1;
        }
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Parts of an address compared on their own (see CR_ML_ADDR_*). */
enum { PART_EXACT = 0, PART_SUBSET, PART_PARTIAL, PART_DISAGREE };

static int street_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    const char *wa[MAX_WORDS], *wb[MAX_WORDS];
    cr_normalize_parts_t pa, pb;
    int na, nb, i, fa = 0, fb = 0;

    if (!*a->street || !*b->street) {
        return CR_MATCH_MISSING;
    }
    if (same(a->street_compact, b->street_compact)) {
        return PART_EXACT;
    }
    na = street_words(wa, &pa, a->street);
    nb = street_words(wb, &pb, b->street);
    if (na == nb) {
        /* The same words in another order (lines exchanged). */
        qsort(wa, na, sizeof(char *), cmp_str);
        qsort(wb, nb, sizeof(char *), cmp_str);
        for (i = 0; i < na && strcmp(wa[i], wb[i]) == 0; i++) {
        }
        if (i == na) {
            return PART_EXACT;
        }
    }
    for (i = 0; i < na; i++) {
        fa += word_found(wa[i], wb, nb);
    }
    for (i = 0; i < nb; i++) {
        fb += word_found(wb[i], wa, na);
    }
    if ((na > 0 && fa == na) || (nb > 0 && fb == nb)
        || similar(a->street_compact, b->street_compact)) {
        return PART_SUBSET;
    }
    if (fa > 0 || fb > 0) {
        return PART_PARTIAL;
    }
    return PART_DISAGREE;
}

static int city_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    if (!*a->city_compact || !*b->city_compact) {
        return CR_MATCH_MISSING;
    }
    if (same(a->city_compact, b->city_compact)) {
        return PART_EXACT;
    }
    if (similar(a->city_compact, b->city_compact)) {
        return PART_SUBSET;
    }
    return PART_DISAGREE;
}

/* The address level of two addresses from their parts' levels. */
static int address_level(const cr_match_addr_t *a, const cr_match_addr_t *b)
{
    int h = CR_MATCH_MISSING, st = street_level(a, b), c = city_level(a, b);
    int street_ok = st == PART_EXACT || st == PART_SUBSET;

    if (*a->house && *b->house) {
        h = strcmp(a->house, b->house) == 0 ? PART_EXACT : PART_DISAGREE;
    }
    if (h == CR_MATCH_MISSING && st == CR_MATCH_MISSING
        && c == CR_MATCH_MISSING) {
        return CR_MATCH_MISSING;
    }
    if (st == PART_EXACT && h != PART_DISAGREE
        && (c == PART_EXACT || c == CR_MATCH_MISSING)) {
        return CR_ML_ADDR_EXACT;
    }
    if (street_ok && h != PART_DISAGREE && c != PART_DISAGREE) {
        return CR_ML_ADDR_SIMILAR;
    }
    if (street_ok || (st == PART_PARTIAL && h == PART_EXACT)) {
        return CR_ML_ADDR_STREET;
    }
    if (h == PART_EXACT || st == PART_PARTIAL || c == PART_EXACT
        || c == PART_SUBSET) {
        return CR_ML_ADDR_LOCALITY;
    }
    return CR_ML_ADDR_DISAGREE;
}

/* Keep the stronger of two levels (missing is weakest). */
static void keep_best(unsigned char *slot, int level)
{
    if (level == CR_MATCH_MISSING) {
        return;
    }
    if (*slot == CR_MATCH_MISSING || level < *slot) {
        *slot = (unsigned char)level;
    }
}

/* Rank of a key kind for cr_match_keys_for_query, 0 most selective. */
static int key_rank(const char *kind)
{
    static const struct {
        const char *kind;
        int rank;
    } ranks[] = {
        { CR_MATCH_KIND_PHONE, 0 }, { CR_MATCH_KIND_PHN, 0 },
        { CR_MATCH_KIND_DOB, 1 },
        { CR_MATCH_KIND_FAM_YEAR, 2 }, { CR_MATCH_KIND_FAM_DAY, 2 },
        { CR_MATCH_KIND_GIV_YEAR, 2 }, { CR_MATCH_KIND_NAMES, 2 },
        { CR_MATCH_KIND_DOB_CITY, 3 }, { CR_MATCH_KIND_DAY_POSTAL, 3 },
        { CR_MATCH_KIND_DAY_STREET, 4 }, { CR_MATCH_KIND_HOUSEHOLD, 4 },
        { CR_MATCH_KIND_POSTAL_FAM, 5 }, { CR_MATCH_KIND_POSTAL_HOUSE, 5 },
        { CR_MATCH_KIND_POSTAL_GIV, 5 },
        { CR_MATCH_KIND_FAM_HOUSE, 6 }, { CR_MATCH_KIND_FAM_STREET, 6 }
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
        if (strcmp(kind, ranks[i].kind) == 0) {
            return ranks[i].rank;
        }
    }
    return 7;
}

void cr_match_keys_for_query(apr_array_header_t *keys)
{
    cr_match_key_t *k = (cr_match_key_t *)keys->elts;
    int rank[CR_MATCH_MAX_KEYS];
    int i, j, n = keys->nelts < CR_MATCH_MAX_KEYS ? keys->nelts
                                                  : CR_MATCH_MAX_KEYS;

    for (i = 0; i < n; i++) {
        rank[i] = key_rank(k[i].kind);
    }
    /* Insertion sort: stable, and n <= CR_MATCH_MAX_KEYS. */
    for (i = 1; i < n; i++) {
        cr_match_key_t x = k[i];
        int r = rank[i];
        for (j = i; j > 0 && rank[j - 1] > r; j--) {
            k[j] = k[j - 1];
            rank[j] = rank[j - 1];
        }
        k[j] = x;
        rank[j] = r;
    }
}

void cr_match_compare(cr_match_vector_t *v, const cr_match_record_t *a,
                      const cr_match_record_t *b)
{
    int i, j;

    memset(v->level, CR_MATCH_MISSING, sizeof(v->level));
    compare_names(v, a, b);
    keep_best(&v->level[CR_MF_BIRTH], birth_level(a->birth, b->birth));
    if (a->sex && b->sex) {
        v->level[CR_MF_SEX] = a->sex == b->sex ? CR_ML_SEX_AGREE
                                               : CR_ML_SEX_DISAGREE;
    }
    for (i = 0; i < a->nphones; i++) {
        for (j = 0; j < b->nphones; j++) {
            keep_best(&v->level[CR_MF_PHONE],
                      code_level(a->phone[i], b->phone[j]));
        }
    }
    for (i = 0; i < a->naddrs; i++) {
        for (j = 0; j < b->naddrs; j++) {
            const cr_match_addr_t *x = &a->addr[i], *y = &b->addr[j];
            keep_best(&v->level[CR_MF_POSTAL],
                      code_level(x->postal, y->postal));
            keep_best(&v->level[CR_MF_ADDRESS], address_level(x, y));
        }
    }
}

/* ------------------------------------------------------------------ */
/* Parameters, weights, scores, grades                                 */
/* ------------------------------------------------------------------ */

/*
 * Defaults: m (how often a true match shows the level) from the error
 * rates reported for person records in the record-linkage literature
 * (a few percent of typing errors per field, more for phones and
 * addresses, which change); u (how often two different people among the
 * candidates of a query show it) for candidates found by blocking, where
 * chance agreement on the blocked fields is far more common than between
 * random people.  They only need to be roughly right: the first EM
 * estimation replaces them with values fitted to the stored records.
 */
static const double default_m[CR_MF_COUNT][CR_MATCH_MAX_LEVELS] = {
    { 0.85, 0.02, 0.04, 0.02, 0.02, 0.01, 0.04 },      /* given */
    { 0.86, 0.05, 0.02, 0.02, 0.01, 0.04 },            /* family */
    { 0.86, 0.01, 0.05, 0.01, 0.02, 0.05 },            /* birth */
    { 0.97, 0.03 },                                    /* sex */
    { 0.70, 0.03, 0.27 },                              /* phone */
    { 0.78, 0.04, 0.18 },                              /* postal */
    { 0.60, 0.15, 0.05, 0.05, 0.15 }                   /* address */
};
static const double default_u[CR_MF_COUNT][CR_MATCH_MAX_LEVELS] = {
    { 0.03, 0.003, 0.01, 0.01, 0.06, 0.0005, 0.8865 }, /* given */
    { 0.06, 0.01, 0.02, 0.005, 0.0005, 0.9045 },       /* family */
    { 0.10, 0.001, 0.01, 0.003, 0.02, 0.866 },         /* birth */
    { 0.50, 0.50 },                                    /* sex */
    { 0.01, 0.002, 0.988 },                            /* phone */
    { 0.03, 0.01, 0.96 },                              /* postal */
    { 0.01, 0.01, 0.02, 0.10, 0.86 }                   /* address */
};
#define DEFAULT_LAMBDA 0.02

#define P_MIN 1e-6
#define P_MAX (1.0 - 1e-6)

void cr_match_params_default(cr_match_params_t *p)
{
    memset(p, 0, sizeof(*p));
    memcpy(p->m, default_m, sizeof(p->m));
    memcpy(p->u, default_u, sizeof(p->u));
    p->lambda = DEFAULT_LAMBDA;
    cr_match_params_finish(p);
}

static double clamp(double x)
{
    if (!(x >= P_MIN)) {      /* also catches NaN */
        return P_MIN;
    }
    return x > P_MAX ? P_MAX : x;
}

/* Scale a row of probabilities to sum to 1 with every entry within
 * [P_MIN, P_MAX]; negative or NaN entries count as 0, an all-zero row
 * becomes uniform. */
static void normalize_row(double *row, int n)
{
    double sum = 0.0;
    int l, round;

    for (l = 0; l < n; l++) {
        if (!(row[l] > 0.0)) {
            row[l] = 0.0;
        }
        sum += row[l];
    }
    for (l = 0; l < n; l++) {
        row[l] = sum > 0.0 ? row[l] / sum : 1.0 / n;
    }
    /* Clamping moves the sum a little; twice is plenty. */
    for (round = 0; round < 2; round++) {
        sum = 0.0;
        for (l = 0; l < n; l++) {
            row[l] = clamp(row[l]);
            sum += row[l];
        }
        for (l = 0; l < n; l++) {
            row[l] /= sum;
        }
    }
}

void cr_match_params_finish(cr_match_params_t *p)
{
    int f, l;

    for (f = 0; f < CR_MF_COUNT; f++) {
        int last = fields[f].levels - 1;
        normalize_row(p->m[f], fields[f].levels);
        normalize_row(p->u[f], fields[f].levels);
        for (l = 0; l < CR_MATCH_MAX_LEVELS; l++) {
            p->w[f][l] = l <= last ? log2(p->m[f][l] / p->u[f][l]) : 0.0;
        }
        /* Full agreement is never evidence against a match, and plain
         * disagreement never evidence for one.  Estimated from candidate
         * pairs, which blocking selected for agreeing on some fields, the
         * probabilities can say otherwise (non-matches found through a
         * family-name key agree on the family name more often than the
         * matches with a misspelt one); such a weight would not carry
         * over to candidates found through another key. */
        if (p->w[f][0] < 0.0) {
            p->w[f][0] = 0.0;
        }
        if (p->w[f][last] > 0.0) {
            p->w[f][last] = 0.0;
        }
    }
    p->lambda = clamp(p->lambda);
}

double cr_match_weight(const cr_match_params_t *p,
                       const cr_match_vector_t *v)
{
    double w = 0.0;
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        int l = v->level[f];
        if (l != CR_MATCH_MISSING && l < fields[f].levels) {
            w += p->w[f][l];
        }
    }
    return w;
}

double cr_match_score(const cr_match_params_t *p, double weight)
{
    double prior = p->lambda > CR_MATCH_MIN_PRIOR ? p->lambda
                                                  : CR_MATCH_MIN_PRIOR;
    double x = weight + log2(prior / (1.0 - prior));

    if (x > 60.0) {
        return 1.0;
    }
    if (x < -60.0) {
        return 0.0;
    }
    return 1.0 / (1.0 + exp2(-x));
}

cr_match_grade_e cr_match_grade(const cr_match_thresholds_t *t,
                                double score, const cr_match_vector_t *v)
{
    if (score >= t->certain) {
        if (v == NULL
            || (v->level[CR_MF_GIVEN] != CR_ML_GIVEN_DISAGREE
                && v->level[CR_MF_FAMILY] != CR_ML_FAMILY_DISAGREE
                && v->level[CR_MF_BIRTH] != CR_SIMILARITY_DATE_DISAGREE)) {
            return CR_MATCH_CERTAIN;
        }
        return CR_MATCH_PROBABLE;
    }
    if (score >= t->probable) {
        return CR_MATCH_PROBABLE;
    }
    if (score >= t->possible) {
        return CR_MATCH_POSSIBLE;
    }
    return CR_MATCH_CERTAINLY_NOT;
}

const char *cr_match_grade_name(cr_match_grade_e g)
{
    switch (g) {
    case CR_MATCH_CERTAIN:
        return "certain";
    case CR_MATCH_PROBABLE:
        return "probable";
    case CR_MATCH_POSSIBLE:
        return "possible";
    default:
        return "certainly-not";
    }
}

/* ------------------------------------------------------------------ */
/* EM                                                                  */
/* ------------------------------------------------------------------ */

cr_match_tally_t *cr_match_tally_make(apr_pool_t *pool)
{
    cr_match_tally_t *t = apr_pcalloc(pool, sizeof(*t));

    t->pool = pool;
    t->seen = apr_hash_make(pool);
    t->patterns = apr_array_make(pool, 64, sizeof(cr_match_pattern_t));
    return t;
}

void cr_match_tally_add(cr_match_tally_t *t, const cr_match_vector_t *v)
{
    int *idx = apr_hash_get(t->seen, v->level, sizeof(v->level));
    cr_match_pattern_t *pat;

    t->pairs += 1.0;
    if (idx) {
        APR_ARRAY_IDX(t->patterns, *idx, cr_match_pattern_t).count += 1.0;
        return;
    }
    pat = apr_array_push(t->patterns);
    pat->v = *v;
    pat->count = 1.0;
    idx = apr_palloc(t->pool, sizeof(*idx));
    *idx = t->patterns->nelts - 1;
    /* The key must outlive the array's reallocations: copy it. */
    apr_hash_set(t->seen, apr_pmemdup(t->pool, v->level, sizeof(v->level)),
                 sizeof(v->level), idx);
}

/*
 * The ordinal levels of each field, strongest first: levels that grade one
 * kind of agreement (equal, close spelling, same sound, partial, none).
 * Levels that record a particular error pattern instead (names exchanged,
 * day and month exchanged, one part of a multi-part family name) are not
 * on the scale: how much such a pattern says depends on how rare it is
 * between different people, not on how close the values are.  -1 ends a
 * chain.
 */
static const int ordinal[CR_MF_COUNT][CR_MATCH_MAX_LEVELS + 1] = {
    { CR_ML_GIVEN_EXACT, CR_ML_GIVEN_NICKNAME, CR_ML_GIVEN_SIMILAR,
      CR_ML_GIVEN_PHONETIC, CR_ML_GIVEN_PARTIAL, CR_ML_GIVEN_DISAGREE, -1 },
    { CR_ML_FAMILY_EXACT, CR_ML_FAMILY_SIMILAR, CR_ML_FAMILY_PHONETIC,
      CR_ML_FAMILY_DISAGREE, -1 },
    { CR_SIMILARITY_DATE_EXACT, CR_SIMILARITY_DATE_ONE_DIGIT_TYPO,
      CR_SIMILARITY_DATE_YEAR_OFF_BY_ONE, CR_SIMILARITY_DATE_SAME_YEAR_MONTH,
      CR_SIMILARITY_DATE_DISAGREE, -1 },
    { CR_ML_SEX_AGREE, CR_ML_SEX_DISAGREE, -1 },
    { CR_ML_CODE_EXACT, CR_ML_CODE_TYPO, CR_ML_CODE_DISAGREE, -1 },
    { CR_ML_CODE_EXACT, CR_ML_CODE_TYPO, CR_ML_CODE_DISAGREE, -1 },
    { CR_ML_ADDR_EXACT, CR_ML_ADDR_SIMILAR, CR_ML_ADDR_STREET,
      CR_ML_ADDR_LOCALITY, CR_ML_ADDR_DISAGREE, -1 }
};

/*
 * Make the likelihood ratio m/u non-increasing along each field's ordinal
 * levels (a closer agreement is never less evidence of a match than a
 * looser one), by pooling adjacent violators: a run of levels that
 * violates the order gets the run's pooled ratio sum(m) / sum(u), with u
 * kept and m redistributed in proportion to u, so both rows still sum to
 * 1.  This is the maximum-likelihood projection under a likelihood-ratio
 * order (pool-adjacent-violators on the ratio, weighted by u); EM applies
 * it after every M-step.  Candidate pairs found by blocking break the
 * order otherwise: non-matches found through a family-name sound key
 * agree on that sound far more often than matches with a misspelt name,
 * and so "same sound" came out as evidence against a match, and "exact"
 * below "similar".
 */
void cr_match_params_order(cr_match_params_t *p)
{
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        const int *ch = ordinal[f];
        int start[CR_MATCH_MAX_LEVELS], len[CR_MATCH_MAX_LEVELS];
        double sm[CR_MATCH_MAX_LEVELS], su[CR_MATCH_MAX_LEVELS];
        int nb = 0, i, b, k;

        for (i = 0; ch[i] >= 0; i++) {
            start[nb] = i;
            len[nb] = 1;
            sm[nb] = p->m[f][ch[i]];
            su[nb] = p->u[f][ch[i]];
            nb++;
            /* Merge while the last block's ratio exceeds the one before
             * it (ratios compared as products: u > 0 after clamping). */
            while (nb > 1 && sm[nb - 1] * su[nb - 2]
                             > sm[nb - 2] * su[nb - 1]) {
                sm[nb - 2] += sm[nb - 1];
                su[nb - 2] += su[nb - 1];
                len[nb - 2] += len[nb - 1];
                nb--;
            }
        }
        for (b = 0; b < nb; b++) {
            if (len[b] < 2 || !(su[b] > 0.0)) {
                continue;
            }
            for (k = start[b]; k < start[b] + len[b]; k++) {
                p->m[f][ch[k]] = p->u[f][ch[k]] * sm[b] / su[b];
            }
        }
    }
}

/* How strongly the m side agrees more than the u side: used to name the
 * match class after EM (the class with more agreement). */
static double agreement_margin(const cr_match_params_t *p)
{
    double d = 0.0;
    int f;

    for (f = 0; f < CR_MF_COUNT; f++) {
        d += p->m[f][0] - p->u[f][0];
    }
    return d;
}

apr_status_t cr_match_em(cr_match_params_t *p,
                         const cr_match_pattern_t *patterns, int npatterns,
                         double prior_pairs, int max_iter, double tol,
                         int flags, cr_match_em_info_t *info)
{
    double m0[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double u0[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
    double total = 0.0, change = 0.0;
    int iter = 0, j, f, l, converged = 0;

    cr_match_params_finish(p);
    if (info) {
        memset(info, 0, sizeof(*info));
    }
    for (j = 0; j < npatterns; j++) {
        total += patterns[j].count;
    }
    if (npatterns <= 0 || total <= 0.0) {
        return APR_EINVAL;
    }
    if (prior_pairs < 0.0) {
        prior_pairs = 0.0;
    }
    /* The starting values are also the prior's centre. */
    memcpy(m0, p->m, sizeof(m0));
    memcpy(u0, p->u, sizeof(u0));

    for (iter = 1; iter <= max_iter; iter++) {
        double am[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double au[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double gm_total = 0.0, lambda;
        double lm[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double lu[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double loglam = log(p->lambda), log1lam = log(1.0 - p->lambda);
        double old_m[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        double old_u[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];

        memset(am, 0, sizeof(am));
        memset(au, 0, sizeof(au));
        memcpy(old_m, p->m, sizeof(old_m));
        memcpy(old_u, p->u, sizeof(old_u));
        for (f = 0; f < CR_MF_COUNT; f++) {
            for (l = 0; l < fields[f].levels; l++) {
                lm[f][l] = log(p->m[f][l]);
                lu[f][l] = log(p->u[f][l]);
            }
        }
        /* E-step: the posterior match probability g of each pattern,
         * computed in logs so that long vectors cannot underflow. */
        for (j = 0; j < npatterns; j++) {
            const cr_match_pattern_t *pat = &patterns[j];
            double a = loglam, b = log1lam, g;
            for (f = 0; f < CR_MF_COUNT; f++) {
                l = pat->v.level[f];
                if (l != CR_MATCH_MISSING && l < fields[f].levels) {
                    a += lm[f][l];
                    b += lu[f][l];
                }
            }
            g = a - b > 50.0 ? 1.0
                : a - b < -50.0 ? 0.0 : 1.0 / (1.0 + exp(b - a));
            gm_total += pat->count * g;
            for (f = 0; f < CR_MF_COUNT; f++) {
                l = pat->v.level[f];
                if (l != CR_MATCH_MISSING && l < fields[f].levels) {
                    am[f][l] += pat->count * g;
                    au[f][l] += pat->count * (1.0 - g);
                }
            }
        }
        /* M-step, with the starting values as a Dirichlet prior worth
         * prior_pairs pairs per field and class. */
        change = 0.0;
        lambda = clamp(gm_total / total);
        change = fabs(lambda - p->lambda);
        p->lambda = lambda;
        for (f = 0; f < CR_MF_COUNT; f++) {
            double sm = 0.0, su = 0.0;
            for (l = 0; l < fields[f].levels; l++) {
                sm += am[f][l];
                su += au[f][l];
            }
            for (l = 0; l < fields[f].levels; l++) {
                double nm = (am[f][l] + prior_pairs * m0[f][l])
                            / (sm + prior_pairs);
                double nu = (au[f][l] + prior_pairs * u0[f][l])
                            / (su + prior_pairs);
                if (sm + prior_pairs <= 0.0 || (flags & CR_MATCH_EM_FIX_M)) {
                    nm = p->m[f][l];
                }
                if (su + prior_pairs <= 0.0) {
                    nu = p->u[f][l];
                }
                nm = clamp(nm);
                nu = clamp(nu);
                if (fabs(nm - p->m[f][l]) > change) {
                    change = fabs(nm - p->m[f][l]);
                }
                if (fabs(nu - p->u[f][l]) > change) {
                    change = fabs(nu - p->u[f][l]);
                }
                p->m[f][l] = nm;
                p->u[f][l] = nu;
            }
        }
        if (flags & CR_MATCH_EM_ORDERED) {
            /* The change is measured after the projection, which can
             * undo part of the M-step's. */
            cr_match_params_order(p);
            for (f = 0; f < CR_MF_COUNT; f++) {
                for (l = 0; l < fields[f].levels; l++) {
                    if (fabs(p->m[f][l] - old_m[f][l]) > change) {
                        change = fabs(p->m[f][l] - old_m[f][l]);
                    }
                    if (fabs(p->u[f][l] - old_u[f][l]) > change) {
                        change = fabs(p->u[f][l] - old_u[f][l]);
                    }
                }
            }
        }
        if (change < tol) {
            converged = 1;
            break;
        }
    }
    if (iter > max_iter) {
        iter = max_iter;
    }
    /* The latent classes are interchangeable: the match class is the one
     * whose vectors agree more. */
    if (!(flags & CR_MATCH_EM_FIX_M) && agreement_margin(p) < 0.0) {
        double tmp[CR_MF_COUNT][CR_MATCH_MAX_LEVELS];
        memcpy(tmp, p->m, sizeof(tmp));
        memcpy(p->m, p->u, sizeof(tmp));
        memcpy(p->u, tmp, sizeof(tmp));
        p->lambda = 1.0 - p->lambda;
    }
    cr_match_params_finish(p);
    if (info) {
        info->iterations = iter;
        info->converged = converged;
        info->pairs = total;
        info->max_change = change;
    }
    return APR_SUCCESS;
}

int cr_match_params_plausible(const cr_match_params_t *p)
{
    static const struct {
        int field;
        int strong[3];
    } core[] = {
        { CR_MF_GIVEN, { CR_ML_GIVEN_EXACT, CR_ML_GIVEN_NICKNAME,
                         CR_ML_GIVEN_SIMILAR } },
        { CR_MF_FAMILY, { CR_ML_FAMILY_EXACT, CR_ML_FAMILY_SIMILAR,
                          CR_ML_FAMILY_PHONETIC } },
        { CR_MF_BIRTH, { CR_SIMILARITY_DATE_EXACT,
                         CR_SIMILARITY_DATE_SWAP_DAY_MONTH,
                         CR_SIMILARITY_DATE_ONE_DIGIT_TYPO } }
    };
    apr_size_t i;
    int k;

    for (i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
        double m = 0.0, u = 0.0;
        for (k = 0; k < 3; k++) {
            m += p->m[core[i].field][core[i].strong[k]];
            u += p->u[core[i].field][core[i].strong[k]];
        }
        if (m < 0.6 || m <= u) {
            return 0;
        }
    }
    return 1;
}
