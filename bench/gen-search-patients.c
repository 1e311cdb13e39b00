/* bench/gen-search-patients: load N synthetic patients straight into a
 * registry database through the store (cr_store_patient_insert), so the
 * rows, versions, identifiers and index keys are exactly the module's,
 * in transactions of 10,000 patients.  Writes the query inputs for
 * bench/search.sh: one line per sampled patient (every STEP-th),
 *   PHN<TAB>family<TAB>given<TAB>birthDate<TAB>gender
 *
 *   gen-search-patients DB COUNT SAMPLES_FILE [STEP]
 *
 * Patient i is generated from its own seed, so the same COUNT gives the
 * same data.  Built by bench/search.sh (not part of "make"): it links the
 * store and core libraries of the build tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_dbd.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "core/cr_datetime.h"
#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "core/cr_phn.h"
#include "store/cr_store.h"

#define BATCH 10000

static const char *const syl[] = {
    "ka", "lo", "mi", "ra", "ten", "sa", "vo", "ne", "li", "dor", "ha",
    "ri", "bel", "tan", "mor", "qui", "zu", "pe", "gan", "fi", "wen", "do",
    "stra", "lee", "mac", "son", "ber", "chen", "sing", "pat", "gill", "no",
    "va", "el", "ar", "is", "on", "us", "ey", "ton"
};
#define NSYL (sizeof(syl) / sizeof(syl[0]))
static const char *const streets[] = {
    "Main St", "Douglas St", "Fort St", "Granville St", "Kingsway",
    "Broadway", "Hastings St", "Yates St", "Cook St", "Oak Bay Ave",
    "Quadra St", "Bernard Ave", "River Rd", "Hill Dr", "Lake Cres"
};
static const char *const cities[] = {
    "Victoria", "Vancouver", "Kelowna", "Kamloops", "Nanaimo", "Surrey",
    "Burnaby", "Prince George", "Abbotsford", "Richmond"
};

/* A small deterministic generator (xorshift64*). */
static apr_uint64_t next(apr_uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static unsigned pick(apr_uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

/* A name of 2-3 syllables from a pool of `pool` distinct names, drawn
 * with a skew (squared uniform) so some names are common. */
static void make_name(char *out, apr_size_t len, apr_uint64_t *s,
                      unsigned pool)
{
    double u = (double)(next(s) % 1000000) / 1000000.0;
    unsigned k = (unsigned)(u * u * pool);
    unsigned a = k % NSYL, b = (k / NSYL) % NSYL, c = (k / NSYL / NSYL)
                                                      % (NSYL + 1);

    apr_snprintf(out, len, "%s%s%s", syl[a], syl[b],
                 c < NSYL ? syl[c] : "");
    out[0] = (char)(out[0] - 'a' + 'A');
}

int main(int argc, char **argv)
{
    apr_pool_t *root, *pool, *scratch;
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h = NULL;
    apr_hash_t *prepared = NULL;
    const char *fl = NULL, *fe = NULL;
    cr_db_t *db;
    FILE *samples;
    long count, i, step;
    apr_int64_t body = 0;
    apr_time_t t0;
    cr_write_t w;
    cr_caller_t caller;
    char now[CR_DATETIME_INSTANT_SIZE];
    int nr;

    if (argc < 4) {
        fprintf(stderr, "usage: %s DB COUNT SAMPLES_FILE [STEP]\n", argv[0]);
        return 2;
    }
    count = atol(argv[2]);
    step = argc > 4 ? atol(argv[4]) : 1000;
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&root, NULL);
    apr_dbd_init(root);
    if (apr_dbd_get_driver(root, "sqlite3", &drv) != APR_SUCCESS
        || apr_dbd_open(drv, root, argv[1], &h) != APR_SUCCESS) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    /* A bulk load: no fsync per transaction (the run is repeatable). */
    apr_dbd_query(drv, h, &nr, "PRAGMA synchronous=OFF");
    apr_dbd_query(drv, h, &nr, "PRAGMA cache_size=-1000000");
    apr_dbd_query(drv, h, &nr, "PRAGMA foreign_keys=OFF");
    if (cr_db_prepare_catalogue(&prepared, root, drv, h, &fl, &fe)
        != APR_SUCCESS) {
        fprintf(stderr, "prepare %s: %s\n", fl ? fl : "?", fe ? fe : "?");
        return 1;
    }
    db = cr_db_wrap(root, drv, h, prepared);
    samples = fopen(argv[3], "w");
    if (samples == NULL) {
        perror(argv[3]);
        return 1;
    }
    memset(&caller, 0, sizeof(caller));
    caller.source_system = "BENCH";
    caller.org_id = "MOH_CRS";
    cr_datetime_format_instant(now, sizeof(now), apr_time_now());
    w.operation = "create";
    w.caller = &caller;
    w.message_id = "bench-load";
    w.now = now;
    apr_pool_create(&pool, root);
    apr_pool_create(&scratch, root);
    t0 = apr_time_now();
    for (i = 0; i < count; i++) {
        apr_uint64_t s = 0x9E3779B97F4A7C15ULL ^ (apr_uint64_t)(i + 1)
                                                 * 0xBF58476D1CE4E5B9ULL;
        char fam[40], giv[40], phn[CR_PHN_LEN + 1], bd[11], text[2048];
        const char *gender = pick(&s, 2) ? "female" : "male";
        json_object *json = NULL;
        cr_patient_t *p = NULL;
        cr_index_t *ix = NULL;
        cr_outcome_t *oc;
        const char *res;
        apr_status_t rv;
        int k;

        if (i % BATCH == 0) {
            if (i > 0 && cr_db_commit(db) != APR_SUCCESS) {
                fprintf(stderr, "commit failed: %s\n", db->last_error);
                return 1;
            }
            apr_pool_clear(pool);
            if (cr_db_begin(db, pool) != APR_SUCCESS) {
                fprintf(stderr, "begin failed\n");
                return 1;
            }
            if (i > 0 && i % 100000 == 0) {
                fprintf(stderr, "  %ld patients, %.0f/s\n", i,
                        i / ((double)(apr_time_now() - t0) / 1e6));
            }
        }
        for (k = 0; ; k++) {
            next(&s);
            make_name(fam, sizeof(fam), &s, 20000);
            make_name(giv, sizeof(giv), &s, 4000);
            if (strcmp(fam, giv) != 0 || k > 3) {
                break;
            }
        }
        apr_snprintf(bd, sizeof(bd), "%04u-%02u-%02u", 1930 + pick(&s, 94),
                     1 + pick(&s, 12), 1 + pick(&s, 28));
        body = cr_phn_next_usable_body(body);
        cr_phn_format(phn, body);
        body++;
        apr_snprintf(text, sizeof(text),
            "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
            "\"https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-"
            "healthcare-id\",\"value\":\"%s\",\"use\":\"official\"},"
            "{\"system\":\"https://health.gov.bc.ca/fhir/NamingSystem/"
            "ca-bc-fha-mt-source-patient-id\",\"value\":\"B%08ld\","
            "\"use\":\"official\"}],\"name\":[{\"use\":\"official\","
            "\"family\":\"%s\",\"given\":[\"%s\"]}],\"telecom\":[{\"system\":"
            "\"phone\",\"value\":\"%s%07u\",\"use\":\"home\"}],\"gender\":"
            "\"%s\",\"birthDate\":\"%s\",\"address\":[{\"type\":\"physical\","
            "\"line\":[\"%u %s\"],\"city\":\"%s\",\"state\":\"BC\","
            "\"postalCode\":\"V%uA %u%c%u\",\"country\":\"CA\"}]}",
            phn, i, fam, giv, pick(&s, 2) ? "250" : "604",
            pick(&s, 10000000), gender, bd, 1 + pick(&s, 9999),
            streets[pick(&s, 15)], cities[pick(&s, 10)], pick(&s, 10),
            pick(&s, 10), 'A' + pick(&s, 26), pick(&s, 10));
        apr_pool_clear(scratch);
        oc = cr_outcome_make(scratch);
        if (cr_json_parse(&json, scratch, text, strlen(text), NULL, NULL)
            != APR_SUCCESS
            || cr_fhir_patient_parse(&p, scratch, json, "Patient",
                                     "2100-01-01", NULL, oc)
               != APR_SUCCESS) {
            fprintf(stderr, "patient %ld does not validate: %s\n", i,
                    oc->issues->nelts ? APR_ARRAY_IDX(oc->issues, 0,
                                                      cr_issue_t).text
                                      : "?");
            return 1;
        }
        cr_fhir_patient_set_meta(p, scratch,
                                 apr_psprintf(scratch, "b%011ld-0000-4000-"
                                              "8000-000000000000", i),
                                 1, now);
        cr_index_build(&ix, scratch, p);
        res = cr_json_serialize(scratch, p->json, NULL);
        rv = cr_store_patient_insert(db, scratch, p, res, ix, &w);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "insert %ld failed: %s\n", i,
                    db->last_error ? db->last_error : "?");
            return 1;
        }
        if (i % step == 0) {
            fprintf(samples, "%s\t%s\t%s\t%s\t%s\n", phn, fam, giv, bd,
                    gender);
        }
    }
    if (cr_db_commit(db) != APR_SUCCESS) {
        fprintf(stderr, "commit failed\n");
        return 1;
    }
    fclose(samples);
    {
        /* Past the PHNs the load used, for the module's allocator. */
        char sql[128];
        apr_snprintf(sql, sizeof(sql), "UPDATE cr_phn_allocator SET "
                     "next_body = %" APR_INT64_T_FMT " WHERE id = 1", body);
        apr_dbd_query(drv, h, &nr, sql);
    }
    apr_dbd_query(drv, h, &nr, "ANALYZE");
    fprintf(stderr, "loaded %ld patients in %.1f s\n", count,
            (double)(apr_time_now() - t0) / 1e6);
    apr_dbd_close(drv, h);
    apr_pool_destroy(root);
    apr_terminate();
    return 0;
}
