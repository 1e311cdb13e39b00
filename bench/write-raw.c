/* bench/write-raw.c: the reference rate of bench/write.sh -- a plain C
 * program doing the rows of one AddPatient and one RevisePatient straight
 * into the same SQLite schema with the module's durability settings
 * (WAL, synchronous=FULL, foreign_keys=ON, one transaction per write).
 *
 *   write-raw DB preload N          N clients, 5000 per transaction
 *   write-raw DB add SECONDS        AddPatient rows for SECONDS; rate
 *   write-raw DB revise SECONDS N   RevisePatient rows of the preloaded
 *                                   clients (SRI BENCH-<i>, i < N); rate
 *
 * Rows per AddPatient: cr_patient, cr_patient_version, 2 cr_identifier,
 * 12 cr_search_index, 2 cr_source_record, 7 cr_attribute, cr_audit +
 * cr_audit_patient.  Per RevisePatient: the patient row update, a version,
 * identifiers and keys rewritten, the source record touched, one attribute
 * ended and one inserted, the audit rows.  Prints "<mode> <rate>/s".
 * Build: cc -O2 -o write-raw write-raw.c -lsqlite3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

static sqlite3 *db;

/* Digits are not allowed in names: spell i with letters (bench/write.lua
 * does the same). */
static const char *letters(long k)
{
    static char buf[32];
    char tmp[32];
    int n = 0, j;

    do {
        tmp[n++] = (char)('a' + k % 26);
        k /= 26;
    } while (k > 0 && n < 30);
    for (j = 0; j < n; j++) {
        buf[j] = tmp[n - 1 - j];
    }
    buf[n] = 0;
    return buf;
}

/* Birth date of client i (bench/write.lua's dob()). */
static const char *dob(long k)
{
    static char buf[16];

    snprintf(buf, sizeof buf, "%04ld-%02ld-%02ld", 1940 + k % 60,
             1 + (k / 60) % 12, 1 + (k / 720) % 28);
    return buf;
}

static void die(const char *what)
{
    fprintf(stderr, "write-raw: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void exec(const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        die(sql);
    }
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        die(sql);
    }
    return s;
}

static void run(sqlite3_stmt *s, int n, const char **v)
{
    int i;

    sqlite3_reset(s);
    for (i = 0; i < n; i++) {
        sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
        die("step");
    }
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static sqlite3_stmt *s_pat, *s_ver, *s_id, *s_ix, *s_src, *s_attr, *s_aud,
                    *s_audp, *s_upd, *s_iddel, *s_ixdel, *s_srcupd, *s_end;
static long seq0;

static void prepare(void)
{
    s_pat = prep("INSERT INTO cr_patient (id, phn, version_id, created,"
                 " last_updated, active, gender, birth_date, birth_date_hi,"
                 " resource) VALUES (?, ?, 1, ?, ?, 1, 'female',"
                 " ?, ?, ?)");
    s_ver = prep("INSERT INTO cr_patient_version (patient_id, version_id,"
                 " last_updated, operation, source_system, org_id, user_id,"
                 " client_dn, message_id, resource) VALUES (?, ?, ?, 'add',"
                 " 'FHA_MT', 'FHA', 'u@idir', NULL, ?, ?)");
    s_id = prep("INSERT INTO cr_identifier (patient_id, system, value,"
                " use_code, status) VALUES (?, ?, ?, 'official', 'active')");
    s_ix = prep("INSERT INTO cr_search_index (patient_id, kind, value)"
                " VALUES (?, ?, ?)");
    s_src = prep("INSERT INTO cr_source_record (id, patient_id,"
                 " source_system, sri_system, sri_value, status, version,"
                 " created, last_updated, snapshot) VALUES (?, ?, ?, ?, ?,"
                 " 'active', 1, ?, ?, ?)");
    s_attr = prep("INSERT INTO cr_attribute (id, patient_id,"
                  " source_record_id, kind, value, period_start,"
                  " source_system, user_id, recorded_at) VALUES (?, ?, ?,"
                  " ?, ?, ?, 'FHA_MT', 'u@idir', ?)");
    /* Chain 0, the single writer's (schema 013): its position is seq. */
    s_aud = prep("INSERT INTO cr_audit (seq, chain_seq, recorded, action,"
                 " operation, method, path, status, org_id, message_id,"
                 " patients, prev_hash, hash) VALUES (?1, ?1, ?, 'C',"
                 " 'AddPatient', 'POST',"
                 " '/fhir/Patient/$AddPatient', 201, 'FHA', ?, ?, ?, ?)");
    s_audp = prep("INSERT INTO cr_audit_patient (patient_id, seq)"
                  " VALUES (?, ?)");
    s_upd = prep("UPDATE cr_patient SET version_id = version_id + 1,"
                 " last_updated = ?, resource = ? WHERE id = ?");
    s_iddel = prep("DELETE FROM cr_identifier WHERE patient_id = ?");
    s_ixdel = prep("DELETE FROM cr_search_index WHERE patient_id = ?");
    s_srcupd = prep("UPDATE cr_source_record SET version = version + 1,"
                    " last_updated = ?, snapshot = ? WHERE id = ?");
    s_end = prep("UPDATE cr_attribute SET period_end = ?, ended_at = ?"
                 " WHERE source_record_id = ? AND kind = 'telecom'"
                 " AND period_end IS NULL");
}

static const char *RES =
    "{\"resourceType\":\"Patient\",\"id\":\"%s\",\"identifier\":[{\"use\":"
    "\"official\",\"system\":\"https://fhir.infoway-inforoute.ca/"
    "NamingSystem/ca-bc-patient-healthcare-id\",\"value\":\"%s\"},{\"system"
    "\":\"https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt-source-"
    "patient-id\",\"value\":\"BENCH-%ld\"}],\"active\":true,\"name\":[{"
    "\"family\":\"Bench%s\",\"given\":[\"Ann\"],\"use\":\"official\"}],"
    "\"telecom\":[{\"system\":\"phone\",\"use\":\"home\",\"value\":"
    "\"250555%04ld\"}],\"gender\":\"female\",\"birthDate\":\"%s\","
    "\"address\":[{\"city\":\"Victoria\",\"country\":\"CA\",\"line\":[\"%ld "
    "Main St\"],\"state\":\"BC\",\"type\":\"physical\"}]}";

/* The rows of one AddPatient of client i. */
static void add_one(long i, const char *ts)
{
    char id[64], reg[80], src[64], phn[16], sri[32], res[2048], v[256];
    char aid[96], seq[32], prev[32];
    const char *a[8];
    static const char *kinds[] = { "family", "given", "name", "phone",
                                   "postal", "bk:a", "bk:b", "bk:c",
                                   "bk:d", "bk:e", "bk:f", "bk:rec" };
    int k;

    snprintf(id, sizeof id, "00000000-bench-%016ld", i);
    snprintf(reg, sizeof reg, "reg:%s", id);
    snprintf(src, sizeof src, "src-%016ld", i);
    snprintf(phn, sizeof phn, "8%09ld", i);
    snprintf(sri, sizeof sri, "BENCH-%ld", i);
    snprintf(res, sizeof res, RES, id, phn, i, letters(i), i % 10000, dob(i),
             i);
    a[0] = id; a[1] = phn; a[2] = ts; a[3] = ts; a[4] = dob(i);
    a[5] = a[4]; a[6] = res;
    run(s_pat, 7, a);
    a[1] = "1"; a[2] = ts; a[3] = sri; a[4] = res;
    run(s_ver, 5, a);
    a[1] = "https://fhir.infoway-inforoute.ca/NamingSystem/"
           "ca-bc-patient-healthcare-id"; a[2] = phn;
    run(s_id, 3, a);
    a[1] = "https://health.gov.bc.ca/fhir/NamingSystem/"
           "ca-bc-fha-mt-source-patient-id"; a[2] = sri;
    run(s_id, 3, a);
    for (k = 0; k < 12; k++) {
        snprintf(v, sizeof v, "%s-%ld", kinds[k], i);
        a[1] = kinds[k]; a[2] = v;
        run(s_ix, 3, a);
    }
    a[0] = reg; a[1] = id; a[2] = "MOH_CRS"; a[3] = NULL; a[4] = NULL;
    a[5] = ts; a[6] = ts; a[7] = NULL;
    run(s_src, 8, a);
    a[0] = src; a[2] = "FHA_MT";
    a[3] = "https://health.gov.bc.ca/fhir/NamingSystem/"
           "ca-bc-fha-mt-source-patient-id"; a[4] = sri; a[7] = res;
    run(s_src, 8, a);
    for (k = 0; k < 7; k++) {
        /* canonical values, as cr_composite_extract writes them */
        snprintf(aid, sizeof aid, "%s-a%d", id, k);
        switch (k) {
        case 0:
            snprintf(v, sizeof v, "{\"system\":\"https://fhir.infoway-"
                     "inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id"
                     "\",\"use\":\"official\",\"value\":\"%s\"}", phn);
            break;
        case 1:
            snprintf(v, sizeof v, "{\"system\":\"https://health.gov.bc.ca"
                     "/fhir/NamingSystem/ca-bc-fha-mt-source-patient-id\","
                     "\"use\":\"official\",\"value\":\"%s\"}", sri);
            break;
        case 2:
            snprintf(v, sizeof v, "{\"family\":\"Bench%s\",\"given\":"
                     "[\"Ann\"],\"use\":\"official\"}", letters(i));
            break;
        case 3:
            snprintf(v, sizeof v, "{\"system\":\"phone\",\"use\":"
                     "\"home\",\"value\":\"250555%04ld\"}", i % 10000);
            break;
        case 4:
            snprintf(v, sizeof v, "{\"city\":\"Victoria\",\"country\":"
                     "\"CA\",\"line\":[\"%ld Main St\"],\"state\":\"BC\","
                     "\"type\":\"physical\"}", i);
            break;
        case 5:
            snprintf(v, sizeof v, "{\"gender\":\"female\"}");
            break;
        default:
            snprintf(v, sizeof v, "{\"birthDate\":\"%s\"}", dob(i));
        }
        a[0] = aid; a[1] = id; a[2] = k == 0 ? reg : src;
        a[3] = k < 2 ? "identifier" : k == 2 ? "name" : k == 3 ? "telecom"
             : k == 4 ? "address" : k == 5 ? "gender" : "birthDate";
        a[4] = v; a[5] = "2024-01-01"; a[6] = ts;
        run(s_attr, 7, a);
    }
    snprintf(seq, sizeof seq, "%ld", seq0 + i);
    snprintf(prev, sizeof prev, "h%ld", seq0 + i - 1);
    a[0] = seq; a[1] = ts; a[2] = sri; a[3] = id; a[4] = prev; a[5] = seq;
    run(s_aud, 6, a);
    a[0] = id; a[1] = seq;
    run(s_audp, 2, a);
}

static void revise_one(long i, long n, const char *ts)
{
    char id[64], src[64], res[2048], aid[96], v[128], seq[32], prev[32];
    const char *a[8];
    long j = i % n;
    int k;

    snprintf(id, sizeof id, "00000000-bench-%016ld", j);
    snprintf(src, sizeof src, "src-%016ld", j);
    snprintf(res, sizeof res, RES, id, "8000000000", j, letters(j),
             i % 10000, dob(j), j);
    a[0] = ts; a[1] = res; a[2] = id;
    run(s_upd, 3, a);
    snprintf(v, sizeof v, "%ld", 2 + i / n);
    a[0] = id; a[1] = v; a[2] = ts; a[3] = "m"; a[4] = res;
    run(s_ver, 5, a);
    a[0] = id;
    run(s_iddel, 1, a);
    run(s_ixdel, 1, a);
    for (k = 0; k < 2; k++) {
        snprintf(v, sizeof v, "rev-%ld-%d", i, k);
        a[1] = k ? "s2" : "s1"; a[2] = v;
        run(s_id, 3, a);
    }
    for (k = 0; k < 12; k++) {
        snprintf(v, sizeof v, "k%d-%ld", k, i);
        a[1] = "bk"; a[2] = v;
        run(s_ix, 3, a);
    }
    a[0] = ts; a[1] = res; a[2] = src;
    run(s_srcupd, 3, a);
    a[0] = "2024-06-01"; a[1] = ts; a[2] = src;
    run(s_end, 3, a);
    snprintf(aid, sizeof aid, "%s-r%ld", id, i);
    snprintf(v, sizeof v, "{\"system\":\"phone\",\"value\":\"%ld\"}", i);
    a[0] = aid; a[1] = id; a[2] = src; a[3] = "telecom"; a[4] = v;
    a[5] = "2024-06-01"; a[6] = ts;
    run(s_attr, 7, a);
    snprintf(seq, sizeof seq, "%ld", seq0 + i);
    snprintf(prev, sizeof prev, "h%ld", seq0 + i - 1);
    a[0] = seq; a[1] = ts; a[2] = "m"; a[3] = id; a[4] = prev; a[5] = seq;
    run(s_aud, 6, a);
    a[0] = id; a[1] = seq;
    run(s_audp, 2, a);
}

int main(int argc, char **argv)
{
    const char *ts = "2026-01-01T00:00:00.000Z";
    sqlite3_stmt *q;
    double t0, secs;
    long i, n = 0, base;

    if (argc < 4 || sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "usage: write-raw DB preload N | add SECONDS | "
                "revise SECONDS N\n");
        return 2;
    }
    exec("PRAGMA busy_timeout=10000");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA wal_autocheckpoint=10000");
    q = prep("SELECT COALESCE(MAX(seq), 0) + 1 FROM cr_audit");
    sqlite3_step(q);
    seq0 = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    q = prep("SELECT COUNT(*) FROM cr_patient WHERE id LIKE '00000000-bench-%'");
    sqlite3_step(q);
    base = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    prepare();
    if (strcmp(argv[2], "preload") == 0) {
        n = atol(argv[3]);
        exec("PRAGMA synchronous=OFF");
        t0 = now();
        for (i = 0; i < n; i++) {
            if (i % 5000 == 0) {
                exec(i ? "COMMIT; BEGIN" : "BEGIN");
            }
            add_one(base + i, ts);
            seq0 += 0;
        }
        exec("COMMIT");
        exec("PRAGMA wal_checkpoint(TRUNCATE)");
        printf("preload %ld clients in %.1f s\n", n, now() - t0);
        return 0;
    }
    exec("PRAGMA synchronous=FULL");
    secs = atof(argv[3]);
    seq0 += base + 1000000000L;   /* clear of the module's sequence */
    t0 = now();
    for (i = 0; now() - t0 < secs; i++) {
        exec("BEGIN IMMEDIATE");
        if (strcmp(argv[2], "add") == 0) {
            add_one(base + 50000000L + i, ts);
        }
        else {
            revise_one(i, argc > 4 ? atol(argv[4]) : 1, ts);
        }
        exec("COMMIT");
    }
    printf("%s %.0f/s\n", argv[2], i / (now() - t0));
    return 0;
}
