/*
 * cr_match_keys.c: the blocking keys of a match record (see cr_match.h)
 * and their order for a query's look-ups.
 *
 * Keys are what makes matching scale: the store keeps them with each
 * version, and a query's candidates come from a few look-ups of its own
 * keys.  Which combinations make a key, and which keys a query tries
 * first, are decided here.
 */
#include <string.h>

#include <apr_strings.h>

#include "match/cr_match.h"
#include "match/cr_normalize.h"
#include "match/cr_phonetic.h"

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
    for (i = 0; i < parts.n && i < CR_MATCH_MAX_WORDS; i++) {
        if (strlen(parts.part[i]) >= 3
            && !cr_normalize_is_street_type(parts.part[i])) {
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
/* Key order for a query                                               */
/* ------------------------------------------------------------------ */

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
