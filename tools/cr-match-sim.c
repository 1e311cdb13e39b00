/*
 * cr-match-sim: the matching engine on a FEBRL-style data set, offline.
 *
 *   cr-match-sim [-e [-o]] [-v] [-k] FILE.ndjson
 *
 * Reads Patients (febrl-to-fhir output: identifier urn:febrl:rec carries
 * the ground truth), builds their match records and blocking keys as the
 * store would, and runs what $match runs for every record against all
 * the others through an in-memory blocking index (the same per-key and
 * total candidate bounds as the store): comparison, weight, score, grade.
 * With -e it first estimates the parameters as 'cr-admin estimate' does
 * (tally of every record's candidate pairs, EM, plausibility fallback).
 * -o adds CR_MATCH_EM_ORDERED to the estimation's flags.  -k prints, per
 * blocking-key kind, the distinct keys, rows, largest bucket and the mean
 * bucket a look-up meets (selectivity; scale it to the registry size).
 * Prints precision/recall/F1 per grade and, with -v, every missed true
 * pair (certain+probable) and every false positive with its comparison
 * vector, weight and whether blocking found it at all.
 *
 * Not built by make; from the top of a built tree:
 *   gcc -O2 -Imod_clientregistry -I. $(APR, json-c flags) -o cr-match-sim \
 *       tools/cr-match-sim.c .libs/libcrcore.a -laprutil-1 -lapr-1 \
 *       -ljson-c -lm -lcrypto
 * (add mod_clientregistry/match/cr_match_*.c before the library to try
 * an engine change without rebuilding it).
 *
 * A development aid: answers should agree with tools/cr-match-eval up to
 * the order of rows within a truncated key; cr-match-eval is the judge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "fhir/cr_fhir_patient.h"
#include "match/cr_match.h"
#include "core/cr_outcome.h"

#define PER_KEY 100
#define MAX_CANDIDATES 500
#define COUNT 10

typedef struct rec_t {
    const char *rid;             /* rec-N-org */
    const char *entity;          /* rec-N */
    cr_match_record_t m;
    apr_array_header_t *keys;
    int ok;                      /* enough to match on */
} rec_t;

static apr_pool_t *pool;
static rec_t *recs;
static int nrecs;
static apr_hash_t *index_;       /* "kind\tvalue" -> apr_array of int */

static const char *entity_of(const char *rid)
{
    char *e = apr_pstrdup(pool, rid), *p = strstr(e, "-org");
    if (!p) {
        p = strstr(e, "-dup-");
    }
    if (p) {
        *p = '\0';
    }
    return e;
}

static void load(const char *path)
{
    FILE *fh = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int cap_recs = 1024;
    static const char *const drop[] = { "birthDate", "address", "name",
                                        "telecom" };

    if (!fh) {
        perror(path);
        exit(1);
    }
    recs = calloc(cap_recs, sizeof(rec_t));
    while (getline(&line, &cap, fh) > 0) {
        json_object *j = json_tokener_parse(line), *ids;
        cr_patient_t *p = NULL;
        rec_t *r;
        apr_status_t rv;
        size_t d = 0;
        const cr_identifier_t *phn;
        if (!j) {
            continue;
        }
        if (nrecs == cap_recs) {
            cap_recs *= 2;
            recs = realloc(recs, cap_recs * sizeof(rec_t));
        }
        r = &recs[nrecs];
        memset(r, 0, sizeof(*r));
        json_object_object_get_ex(j, "identifier", &ids);
        r->rid = apr_pstrdup(pool, json_object_get_string(
            json_object_object_get(json_object_array_get_idx(ids, 0),
                                   "value")));
        r->entity = entity_of(r->rid);
        json_object_object_del(j, "identifier");
        for (;;) {
            cr_outcome_t *oc = cr_outcome_make(pool);
            rv = cr_fhir_patient_parse(&p, pool, j, "Patient", "2026-01-01",
                                       &cr_fhir_default_limits, oc);
            if (rv == APR_SUCCESS || d >= sizeof(drop) / sizeof(drop[0])) {
                break;
            }
            json_object_object_del(j, drop[d++]);
        }
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "%s: not a valid patient, skipped\n", r->rid);
            continue;
        }
        cr_match_record_parse(&r->m, pool, cr_match_record_build(pool, p));
        phn = cr_model_find_identifier(p, CR_IDK_PHN);
        cr_match_keys(&r->keys, pool, &r->m, phn ? phn->value : NULL);
        r->ok = r->keys->nelts > 0 && cr_match_record_fields(&r->m) >= 2
                && (r->m.birth[0] || r->m.nphones > 0 || r->m.naddrs > 0);
        nrecs++;
    }
    free(line);
    fclose(fh);
}

static void build_index(void)
{
    int i, k;

    index_ = apr_hash_make(pool);
    for (i = 0; i < nrecs; i++) {
        for (k = 0; k < recs[i].keys->nelts; k++) {
            const cr_match_key_t *key = &APR_ARRAY_IDX(recs[i].keys, k,
                                                       cr_match_key_t);
            const char *s = apr_pstrcat(pool, key->kind, "\t", key->value,
                                        NULL);
            apr_array_header_t *a = apr_hash_get(index_, s,
                                                 APR_HASH_KEY_STRING);
            if (!a) {
                a = apr_array_make(pool, 2, sizeof(int));
                apr_hash_set(index_, s, APR_HASH_KEY_STRING, a);
            }
            APR_ARRAY_PUSH(a, int) = i;
        }
    }
}

/* Per blocking-key kind: distinct keys, largest bucket and the mean
 * bucket a look-up meets (sum of squared sizes over rows), scaled to the
 * data set's size (-k). */
static void key_stats(void)
{
    apr_hash_t *kinds = apr_hash_make(pool);
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(pool, index_); hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *val;
        double *st;
        char *kind;
        apr_hash_this(hi, &k, NULL, &val);
        kind = apr_pstrdup(pool, k);
        *strchr(kind, '\t') = '\0';
        st = apr_hash_get(kinds, kind, APR_HASH_KEY_STRING);
        if (!st) {
            st = apr_pcalloc(pool, 4 * sizeof(double));
            apr_hash_set(kinds, kind, APR_HASH_KEY_STRING, st);
        }
        st[0] += 1;
        st[1] = st[1] > ((apr_array_header_t *)val)->nelts
                ? st[1] : ((apr_array_header_t *)val)->nelts;
        st[2] += ((apr_array_header_t *)val)->nelts;
        st[3] += (double)((apr_array_header_t *)val)->nelts
                 * ((apr_array_header_t *)val)->nelts;
    }
    for (hi = apr_hash_first(pool, kinds); hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *val;
        double *st;
        apr_hash_this(hi, &k, NULL, &val);
        st = val;
        printf("  key %-8s keys %6.0f rows %6.0f max %4.0f mean-lookup %.2f\n",
               (const char *)k, st[0], st[2], st[1], st[3] / st[2]);
    }
}

/* Candidates of record q (itself excluded), as the store finds them. */
static int candidates(int q, int *out, unsigned char *seen)
{
    int k, j, n = 0;

    for (k = 0; k < recs[q].keys->nelts && n < MAX_CANDIDATES; k++) {
        const cr_match_key_t *key = &APR_ARRAY_IDX(recs[q].keys, k,
                                                   cr_match_key_t);
        const char *s = apr_pstrcat(pool, key->kind, "\t", key->value, NULL);
        apr_array_header_t *a = apr_hash_get(index_, s, APR_HASH_KEY_STRING);
        for (j = 0; a && j < a->nelts && j < PER_KEY && n < MAX_CANDIDATES;
             j++) {
            int c = APR_ARRAY_IDX(a, j, int);
            if (c != q && !seen[c]) {
                seen[c] = 1;
                out[n++] = c;
            }
        }
    }
    for (j = 0; j < n; j++) {
        seen[out[j]] = 0;
    }
    return n;
}

static int em_flags;

static void estimate(cr_match_params_t *p)
{
    cr_match_tally_t *t = cr_match_tally_make(pool);
    int *c = malloc(sizeof(int) * MAX_CANDIDATES);
    unsigned char *seen = calloc(nrecs, 1);
    cr_match_em_info_t info;
    double prior;
    int i, j, f, l;

    for (i = 0; i < nrecs; i++) {
        int n = candidates(i, c, seen);
        for (j = 0; j < n; j++) {
            cr_match_vector_t v;
            cr_match_compare(&v, &recs[i].m, &recs[c[j]].m);
            cr_match_tally_add(t, &v);
        }
    }
    prior = t->pairs / 100.0 > 50.0 ? t->pairs / 100.0 : 50.0;
    cr_match_params_default(p);
    cr_match_em(p, (const cr_match_pattern_t *)t->patterns->elts,
                t->patterns->nelts, prior, 1000, 1e-6, em_flags, &info);
    if (!cr_match_params_plausible(p)) {
        printf("implausible: m fixed\n");
        cr_match_params_default(p);
        cr_match_em(p, (const cr_match_pattern_t *)t->patterns->elts,
                    t->patterns->nelts, prior, 1000, 1e-6,
                    CR_MATCH_EM_FIX_M | em_flags, &info);
    }
    printf("estimated from %.0f pairs (%d patterns): %d rounds%s, "
           "lambda %.4f\n", t->pairs, t->patterns->nelts, info.iterations,
           info.converged ? "" : " (not converged)", p->lambda);
    for (f = 0; f < CR_MF_COUNT; f++) {
        printf("  %-7s", cr_match_field_name(f));
        for (l = 0; l < cr_match_field_levels(f); l++) {
            printf(" %s %+.1f", cr_match_level_name(f, l), p->w[f][l]);
        }
        printf("\n");
    }
    free(c);
    free(seen);
}

typedef struct hit_t {
    int j;
    double w, s;
    cr_match_grade_e g;
} hit_t;

static int cmp_hit(const void *a, const void *b)
{
    const hit_t *x = a, *y = b;
    if (x->s != y->s) {
        return x->s > y->s ? -1 : 1;
    }
    return x->w > y->w ? -1 : x->w < y->w ? 1 : 0;
}

static void vec_text(char *buf, size_t sz, const cr_match_vector_t *v)
{
    int f;
    size_t n = 0;

    buf[0] = '\0';
    for (f = 0; f < CR_MF_COUNT; f++) {
        if (f == CR_MF_SEX || f == CR_MF_PHONE) {
            continue;
        }
        n += snprintf(buf + n, sz - n, "%s=%s ", cr_match_field_name(f),
                      v->level[f] == CR_MATCH_MISSING ? "-"
                      : cr_match_level_name(f, v->level[f]));
    }
}

static void run(const cr_match_params_t *p, int verbose)
{
    cr_match_thresholds_t t = { CR_MATCH_DEFAULT_CERTAIN,
                                CR_MATCH_DEFAULT_PROBABLE,
                                CR_MATCH_DEFAULT_POSSIBLE };
    int *c = malloc(sizeof(int) * MAX_CANDIDATES);
    hit_t *h = malloc(sizeof(hit_t) * MAX_CANDIDATES);
    unsigned char *seen = calloc(nrecs, 1);
    apr_hash_t *best = apr_hash_make(pool);   /* "i j" -> int grade+1 */
    apr_hash_t *ents = apr_hash_make(pool);
    apr_hash_index_t *hi;
    long truth = 0;
    int i, j, lvl;

    for (i = 0; i < nrecs; i++) {
        int n, k;
        if (!recs[i].ok) {
            continue;
        }
        n = candidates(i, c, seen);
        for (j = 0, k = 0; j < n; j++) {
            cr_match_vector_t v;
            cr_match_compare(&v, &recs[i].m, &recs[c[j]].m);
            h[k].j = c[j];
            h[k].w = cr_match_weight(p, &v);
            h[k].s = cr_match_score(p, h[k].w);
            h[k].g = cr_match_grade(&t, h[k].s, &v);
            if (h[k].g <= CR_MATCH_POSSIBLE) {
                k++;
            }
        }
        qsort(h, k, sizeof(hit_t), cmp_hit);
        for (j = 0; j < k && j < COUNT; j++) {
            int a = i < h[j].j ? i : h[j].j, b = i < h[j].j ? h[j].j : i;
            char *key = apr_psprintf(pool, "%d %d", a, b);
            int *g = apr_hash_get(best, key, APR_HASH_KEY_STRING);
            if (!g) {
                g = apr_palloc(pool, sizeof(int));
                *g = 9;
                apr_hash_set(best, key, APR_HASH_KEY_STRING, g);
            }
            if ((int)h[j].g < *g) {
                *g = h[j].g;
            }
        }
    }
    /* truth pairs */
    for (i = 0; i < nrecs; i++) {
        int *cnt = apr_hash_get(ents, recs[i].entity, APR_HASH_KEY_STRING);
        if (!cnt) {
            cnt = apr_pcalloc(pool, sizeof(int));
            apr_hash_set(ents, recs[i].entity, APR_HASH_KEY_STRING, cnt);
        }
        truth += (*cnt)++;
    }
    for (lvl = CR_MATCH_CERTAIN; lvl <= CR_MATCH_POSSIBLE; lvl++) {
        long tp = 0, pred = 0;
        double pr, rc;
        for (hi = apr_hash_first(pool, best); hi; hi = apr_hash_next(hi)) {
            const void *k;
            void *val;
            int a, b;
            apr_hash_this(hi, &k, NULL, &val);
            if (*(int *)val > lvl) {
                continue;
            }
            sscanf(k, "%d %d", &a, &b);
            pred++;
            tp += strcmp(recs[a].entity, recs[b].entity) == 0;
        }
        pr = pred ? (double)tp / pred : 0;
        rc = truth ? (double)tp / truth : 0;
        printf("  %-9s P %.4f R %.4f F1 %.4f (pairs %ld true %ld of %ld)\n",
               cr_match_grade_name(lvl), pr, rc,
               pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0, pred, tp, truth);
    }
    if (verbose) {
        /* false positives (certain+probable) */
        for (hi = apr_hash_first(pool, best); hi; hi = apr_hash_next(hi)) {
            const void *k;
            void *val;
            int a, b;
            char buf[512];
            cr_match_vector_t v;
            apr_hash_this(hi, &k, NULL, &val);
            sscanf(k, "%d %d", &a, &b);
            if (*(int *)val > CR_MATCH_PROBABLE
                || strcmp(recs[a].entity, recs[b].entity) == 0) {
                continue;
            }
            cr_match_compare(&v, &recs[a].m, &recs[b].m);
            vec_text(buf, sizeof(buf), &v);
            printf("FP %s %s w %.1f %s\n", recs[a].rid, recs[b].rid,
                   cr_match_weight(p, &v), buf);
        }
        /* misses */
        for (i = 0; i < nrecs; i++) {
            for (j = i + 1; j < nrecs; j++) {
                char *key, buf[512];
                int *g, n, x, found = 0;
                cr_match_vector_t v;
                if (strcmp(recs[i].entity, recs[j].entity) != 0) {
                    continue;
                }
                key = apr_psprintf(pool, "%d %d", i, j);
                g = apr_hash_get(best, key, APR_HASH_KEY_STRING);
                if (g && *g <= CR_MATCH_PROBABLE) {
                    continue;
                }
                n = candidates(i, c, seen);
                for (x = 0; x < n; x++) {
                    found |= c[x] == j;
                }
                n = candidates(j, c, seen);
                for (x = 0; x < n; x++) {
                    found |= c[x] == i;
                }
                cr_match_compare(&v, &recs[i].m, &recs[j].m);
                vec_text(buf, sizeof(buf), &v);
                printf("MISS %s %s %s w %.1f %s%s\n", recs[i].rid,
                       recs[j].rid,
                       !recs[i].ok || !recs[j].ok ? "too-little-data"
                       : found ? "scored-low" : "not-blocked",
                       cr_match_weight(p, &v), buf, g ? "(possible)" : "");
            }
        }
    }
    free(c);
    free(h);
    free(seen);
}

int main(int argc, char **argv)
{
    cr_match_params_t p;
    int em = 0, verbose = 0, kstats = 0, a = 1;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (; a < argc && argv[a][0] == '-'; a++) {
        em |= strcmp(argv[a], "-e") == 0;
        verbose |= strcmp(argv[a], "-v") == 0;
        kstats |= strcmp(argv[a], "-k") == 0;
        if (strcmp(argv[a], "-o") == 0) {
            em_flags |= CR_MATCH_EM_ORDERED;
        }
    }
    if (a >= argc) {
        fprintf(stderr, "usage: cr-match-sim [-e] [-v] FILE.ndjson\n");
        return 1;
    }
    load(argv[a]);
    build_index();
    printf("%d records from %s\n", nrecs, argv[a]);
    if (kstats) {
        key_stats();
    }
    cr_match_params_default(&p);
    if (em) {
        estimate(&p);
    }
    run(&p, verbose);
    return 0;
}
