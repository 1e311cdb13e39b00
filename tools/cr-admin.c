/* cr-admin: database administration for mod_clientregistry.
 *
 *   cr-admin [--driver sqlite3|pgsql] [--schema-dir DIR] init PARAMS
 *   cr-admin [--driver ...] [--schema-dir DIR] migrate PARAMS
 *   cr-admin [--driver ...] version PARAMS
 *   cr-admin [--driver ...] [--sample N] estimate PARAMS
 *   cr-admin [--driver ...] fits PARAMS
 *   cr-admin [--driver ...] fit-use PARAMS N
 *   cr-admin [--driver ...] load PARAMS FILE.ndjson
 *   cr-admin [--driver ...] rekey PARAMS
 *   cr-admin [--driver ...] audit-verify PARAMS   (exit 3 when broken)
 *
 * PARAMS is what DBDParams says (the SQLite file name, or a PostgreSQL
 * connection string).  init creates the schema in an empty database;
 * migrate applies the numbered files of the schema directory
 * (NNN_name.sql) newer than the database's version, each in its own
 * transaction.  SQLite databases are switched to WAL mode.
 *
 * The module refuses to serve a database whose version it does not know,
 * so migrate runs before httpd starts (quickstart does so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <apr_uuid.h>

#include "core/cr_datetime.h"
#include "store/cr_db.h"
#include "store/cr_store_audit.h"
#include "store/cr_store_match.h"
#include "store/cr_store_match_tune.h"
#include "ops/cr_ops_match_tune.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "ops/cr_person.h"
#include "store/cr_store.h"

#ifndef CR_SCHEMA_DIR
#define CR_SCHEMA_DIR "schema"
#endif

typedef struct migration_t {
    int version;
    const char *path;
    const char *name;
} migration_t;

/* The store over an open connection, every statement of the catalogue
 * prepared; NULL (after a message) when a statement does not prepare,
 * which means the schema is older than this program. */
static cr_db_t *open_store(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                           apr_pool_t *pool)
{
    apr_hash_t *prepared = NULL;
    const char *label = NULL, *err = NULL;

    if (cr_db_prepare_catalogue(&prepared, pool, drv, h, &label, &err)
        != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: statement %s does not prepare (%s); "
                "run cr-admin migrate\n", label ? label : "?",
                err ? err : "?");
        return NULL;
    }
    return cr_db_wrap(pool, drv, h, prepared);
}

/* Recompute every chain of the audit trail (one on SQLite, up to 16 on
 * PostgreSQL: docs/postgresql.md), one line each when there are several;
 * exit 0 only when every chain is intact. */
static int audit_verify(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                        apr_pool_t *pool)
{
    apr_array_header_t *chains;
    apr_int64_t checked = 0, bad = 0;
    int i, broken = 0;
    cr_db_t *db;

    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    if (cr_store_audit_verify_chains(&chains, db, pool) != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: reading the audit trail failed: %s\n",
                db->last_error ? db->last_error : "?");
        return 1;
    }
    for (i = 0; i < chains->nelts; i++) {
        const cr_audit_chain_t *c = &APR_ARRAY_IDX(chains, i,
                                                   cr_audit_chain_t);
        checked += c->checked;
        if (c->first_bad) {
            broken++;
            if (bad == 0) {
                bad = cr_audit_chain_first_bad(c);
            }
        }
        if (chains->nelts > 1 || c->first_bad) {
            if (c->first_bad) {
                printf("chain %d: BROKEN at position %" APR_INT64_T_FMT
                       " (record %" APR_INT64_T_FMT ")\n", c->chain,
                       c->first_bad, c->first_bad_seq);
            }
            else {
                printf("chain %d: intact, %" APR_INT64_T_FMT " records\n",
                       c->chain, c->length);
            }
        }
    }
    if (bad) {
        printf("audit trail BROKEN at record %" APR_INT64_T_FMT
               " (%" APR_INT64_T_FMT " records checked, %d of %d chains "
               "broken)\n", bad, checked, broken, chains->nelts);
        return 3;
    }
    printf("audit trail intact: %" APR_INT64_T_FMT " records in %d "
           "chain%s\n", checked, chains->nelts,
           chains->nelts == 1 ? "" : "s");
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: cr-admin [--driver sqlite3|pgsql] [--schema-dir DIR] "
            "[--sample N] "
            "init|migrate|version|estimate|fits|rekey|audit-verify PARAMS\n"
            "       cr-admin [--driver sqlite3|pgsql] fit-use PARAMS N\n"
            "       cr-admin [--driver sqlite3|pgsql] load PARAMS "
            "FILE.ndjson\n");
    return 2;
}

static int cmp_migration(const void *a, const void *b)
{
    return ((const migration_t *)a)->version
           - ((const migration_t *)b)->version;
}

static apr_status_t list_migrations(apr_array_header_t **out,
                                    apr_pool_t *pool, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_array_header_t *list = apr_array_make(pool, 4, sizeof(migration_t));
    apr_status_t rv = apr_dir_open(&d, dir, pool);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        size_t n = strlen(fi.name);
        migration_t *m;
        if (fi.filetype != APR_REG || n < 8 || fi.name[0] < '0'
            || fi.name[0] > '9' || strcmp(fi.name + n - 4, ".sql") != 0) {
            continue;
        }
        m = apr_array_push(list);
        m->version = atoi(fi.name);
        m->path = apr_pstrcat(pool, dir, "/", fi.name, NULL);
        m->name = apr_pstrndup(pool, fi.name, n - 4);
    }
    apr_dir_close(d);
    qsort(list->elts, list->nelts, sizeof(migration_t), cmp_migration);
    *out = list;
    return APR_SUCCESS;
}

/* 1 when the database compares text byte by byte, as the schema needs
 * (name searches and matcher keys are byte-order ranges): a PostgreSQL
 * database created with another LC_COLLATE answers these differently.
 * SQLite's BINARY collation always does. */
static int bytewise_collation(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                              apr_pool_t *pool)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int ok = 0;

    if (apr_dbd_select(drv, pool, h, &res,
                       "SELECT CASE WHEN 'B' < 'a' AND 'Z' < '_'"
                       " AND 'bk:rec' < 'bk;' AND 'a b' < 'ab'"
                       " THEN 1 ELSE 0 END", 0) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(drv, pool, res, &row, -1) == 0) {
        const char *s = apr_dbd_get_entry(drv, row, 0);
        ok = s && strcmp(s, "1") == 0;
    }
    return ok;
}

static int current_version(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                           apr_pool_t *pool)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int v = 0;

    if (apr_dbd_select(drv, pool, h, &res,
                       "SELECT MAX(version) FROM cr_schema_version", 0)
        != 0) {
        return 0;
    }
    while (apr_dbd_get_row(drv, pool, res, &row, -1) == 0) {
        const char *s = apr_dbd_get_entry(drv, row, 0);
        if (s) {
            v = atoi(s);
        }
    }
    return v;
}

static int applied(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                   apr_pool_t *pool, int version)
{
    apr_dbd_prepared_t *st = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *args[1];
    int found = 0;

    if (apr_dbd_prepare(drv, pool, h, "SELECT version FROM "
                        "cr_schema_version WHERE version = %d", NULL, &st)
        != 0) {
        return 0;   /* no table yet */
    }
    args[0] = apr_itoa(pool, version);
    if (apr_dbd_pselect(drv, pool, h, &res, st, 0, 1, args) != 0) {
        return 0;
    }
    while (apr_dbd_get_row(drv, pool, res, &row, -1) == 0) {
        found = 1;
    }
    return found;
}

/* Run one migration file: statements are separated by lines holding only
 * ';'. */
static int apply(const apr_dbd_driver_t *drv, apr_dbd_t *h, apr_pool_t *pool,
                 const migration_t *m)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *text, *p, *stmt;
    apr_size_t len;
    apr_dbd_transaction_t *txn = NULL;
    int nrows, rv;
    char now[CR_DATETIME_INSTANT_SIZE];

    if (apr_file_open(&f, m->path, APR_READ, 0, pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: cannot read %s\n", m->path);
        return 1;
    }
    len = (apr_size_t)fi.size;
    text = apr_palloc(pool, len + 1);
    if (apr_file_read_full(f, text, len, &len) != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: cannot read %s\n", m->path);
        return 1;
    }
    text[len] = '\0';
    apr_file_close(f);

    if (apr_dbd_transaction_start(drv, pool, h, &txn) != 0) {
        fprintf(stderr, "cr-admin: cannot start a transaction: %s\n",
                apr_dbd_error(drv, h, 1));
        return 1;
    }
    stmt = text;
    for (p = text; ; p++) {
        int end = *p == '\0';
        int sep = (p == text || p[-1] == '\n') && *p == ';'
                  && (p[1] == '\n' || p[1] == '\0' || p[1] == '\r');
        if (sep || end) {
            char *s = apr_pstrndup(pool, stmt, p - stmt);
            if (strspn(s, " \t\r\n") != strlen(s)) {
                /* Strip comment-only statements. */
                char *q = s, *code = NULL;
                while (*q) {
                    while (*q == ' ' || *q == '\t' || *q == '\r'
                           || *q == '\n') {
                        q++;
                    }
                    if (q[0] == '-' && q[1] == '-') {
                        q = strchr(q, '\n');
                        if (q == NULL) {
                            break;
                        }
                        continue;
                    }
                    code = q;
                    break;
                }
                if (code && *code) {
                    rv = apr_dbd_query(drv, h, &nrows, s);
                    if (rv != 0) {
                        fprintf(stderr, "cr-admin: %s failed: %s\n",
                                m->name, apr_dbd_error(drv, h, rv));
                        apr_dbd_transaction_mode_set(
                            drv, txn, APR_DBD_TRANSACTION_ROLLBACK);
                        apr_dbd_transaction_end(drv, pool, txn);
                        return 1;
                    }
                }
            }
            if (end) {
                break;
            }
            stmt = p + 1;
        }
    }
    cr_datetime_format_instant(now, sizeof(now), apr_time_now());
    {
        apr_dbd_prepared_t *st = NULL;
        const char *args[3];
        if (apr_dbd_prepare(drv, pool, h,
                            "INSERT INTO cr_schema_version (version, "
                            "applied, description) VALUES (%d, %s, %s)",
                            NULL, &st) != 0) {
            fprintf(stderr, "cr-admin: %s\n", apr_dbd_error(drv, h, 1));
            return 1;
        }
        args[0] = apr_itoa(pool, m->version);
        args[1] = now;
        args[2] = m->name;
        rv = apr_dbd_pquery(drv, pool, h, &nrows, st, 3, args);
        if (rv != 0) {
            fprintf(stderr, "cr-admin: recording %s failed: %s\n", m->name,
                    apr_dbd_error(drv, h, rv));
            apr_dbd_transaction_mode_set(drv, txn,
                                         APR_DBD_TRANSACTION_ROLLBACK);
            apr_dbd_transaction_end(drv, pool, txn);
            return 1;
        }
    }
    if (apr_dbd_transaction_end(drv, pool, txn) != 0) {
        fprintf(stderr, "cr-admin: commit of %s failed\n", m->name);
        return 1;
    }
    printf("applied %s\n", m->name);
    return 0;
}

/* estimate: a fit of the matcher's parameters (ops/cr_ops_match_tune.c,
 * the same the module's background tuner runs: EM over the candidate
 * pairs of at most sample records, 0 for all, and the value counts),
 * kept in the history and made current in one transaction.  The module
 * reads them on every match, so no restart is needed. */
static int estimate(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                    apr_pool_t *pool, long sample)
{
    cr_db_t *db;
    cr_ops_match_fit_t fit;
    char now[CR_DATETIME_INSTANT_SIZE];
    apr_status_t rv;
    int f, l;

    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    cr_datetime_format_instant(now, sizeof(now), apr_time_now());
    rv = cr_ops_match_fit(&fit, db, pool, sample, "admin", now, NULL);
    if (rv == CR_OPS_MATCH_FIT_TOO_FEW) {
        fprintf(stderr, "cr-admin: %ld records, %ld candidate pairs: too "
                "few to estimate from (at least %d records and one pair); "
                "the current parameters stay\n", fit.records, fit.pairs,
                CR_OPS_MATCH_FIT_MIN_RECORDS);
        return 1;
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: the estimation failed: %s\n",
                db->last_error ? db->last_error : "?");
        return 1;
    }
    if (fit.m_fixed) {
        printf("no match class among the candidate pairs (few "
               "duplicates?): m kept at its defaults, u and lambda "
               "estimated\n");
    }
    printf("fit %" APR_INT64_T_FMT ": estimated from %ld records, %ld "
           "candidate pairs (%d patterns): %d EM rounds%s, match share "
           "lambda %.4f; %ld value counts\n", fit.fit_id, fit.records,
           fit.pairs, fit.patterns, fit.iterations,
           fit.converged ? "" : " (not converged)", fit.params.lambda,
           fit.tf_values);
    for (f = 0; f < CR_MF_COUNT; f++) {
        printf("  %-7s", cr_match_field_name(f));
        for (l = 0; l < cr_match_field_levels(f); l++) {
            printf(" %s %+.1f", cr_match_level_name(f, l),
                   fit.params.w[f][l]);
        }
        printf("\n");
    }
    return 0;
}

/* fits: the history of fitted parameter sets, newest first; '*' marks the
 * one in use. */
static int fits(const apr_dbd_driver_t *drv, apr_dbd_t *h, apr_pool_t *pool)
{
    apr_array_header_t *list;
    apr_int64_t active = 0;
    cr_db_t *db;
    int i;

    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    if (cr_store_match_fit_list(&list, &active, db, pool, 0)
        != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: reading the fits failed: %s\n",
                db->last_error ? db->last_error : "?");
        return 1;
    }
    printf("  %6s  %-24s %-5s %9s %10s %8s %s\n", "fit", "fitted", "by",
           "records", "pairs", "lambda", "EM");
    for (i = 0; i < list->nelts; i++) {
        const cr_store_match_fit_t *f = &APR_ARRAY_IDX(
            list, i, cr_store_match_fit_t);
        printf("%c %6" APR_INT64_T_FMT "  %-24s %-5s %9ld %10ld %8.4f %d "
               "rounds%s\n", f->id == active ? '*' : ' ', f->id, f->fitted,
               f->source, f->records, f->pairs, f->lambda, f->iterations,
               f->converged ? "" : " (not converged)");
    }
    if (list->nelts == 0) {
        printf("no fits yet: the built-in defaults%s are in use\n",
               active ? "" : " (or an estimate older than migration 009)");
    }
    return 0;
}

/* fit-use: make an earlier fit the current parameters again. */
static int fit_use(const apr_dbd_driver_t *drv, apr_dbd_t *h,
                   apr_pool_t *pool, const char *arg)
{
    apr_int64_t id;
    apr_status_t rv;
    cr_db_t *db;
    char *end = NULL;

    id = arg ? apr_strtoi64(arg, &end, 10) : 0;
    if (arg == NULL || end == arg || *end != '\0' || id < 1) {
        fprintf(stderr, "cr-admin: fit-use needs a fit number (cr-admin "
                "fits)\n");
        return 2;
    }
    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    rv = cr_db_begin(db, pool);
    if (rv == APR_SUCCESS) {
        rv = cr_store_match_fit_use(db, pool, id);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    if (rv == APR_NOTFOUND) {
        fprintf(stderr, "cr-admin: no fit %" APR_INT64_T_FMT "\n", id);
        return 1;
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: switching fits failed: %s\n",
                db->last_error ? db->last_error : "?");
        return 1;
    }
    printf("fit %" APR_INT64_T_FMT " is in use\n", id);
    return 0;
}

/* rekey: rebuild every patient's matching rows (match record and blocking
 * keys) from its stored resource, 1000 patients per transaction: after
 * an upgrade whose matching engine derives other keys.  The module can
 * serve meanwhile; a patient not yet re-keyed is simply found through
 * fewer keys. */
static int rekey(const apr_dbd_driver_t *drv, apr_dbd_t *h, apr_pool_t *pool)
{
    const char *after = "";
    apr_pool_t *page;
    cr_db_t *db;
    long total = 0, unparsed = 0;
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = APR_SUCCESS;

    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    apr_pool_create(&page, pool);
    for (;;) {
        const char *last = NULL;
        int done = 0, skipped = 0;
        apr_pool_clear(page);
        rv = cr_db_begin(db, page);
        if (rv == APR_SUCCESS) {
            rv = cr_store_match_rekey(&last, &done, &skipped, db, page,
                                      after, 1000);
        }
        if (rv != APR_SUCCESS) {
            cr_db_rollback(db);
            break;
        }
        rv = cr_db_commit(db);
        if (rv != APR_SUCCESS || last == NULL) {
            break;
        }
        if ((total + done) / 100000 > total / 100000) {
            fprintf(stderr, "cr-admin: %ld re-keyed\n", total + done);
        }
        total += done;
        unparsed += skipped;
        after = apr_pstrdup(pool, last);
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: rekey failed after %ld patients: %s\n",
                total, db->last_error ? db->last_error : "?");
        return 1;
    }
    if (unparsed > 0) {
        fprintf(stderr, "cr-admin: %ld stored resources do not parse with "
                "the default limits and kept their old keys\n", unparsed);
    }
    printf("re-keyed %ld patients in %.1f s\n", total,
           (apr_time_now() - t0) / 1e6);
    return 0;
}

/* load: bulk-load FHIR Patients (one JSON object a line) through the
 * person recipe (ops/cr_person.c), as a create writes them (validation, a
 * PHN when none is given, id and meta, the index with the match records
 * and blocking keys), LOAD_BATCH patients per transaction.  Meant for
 * benchmarks and initial loads: no audit records and no duplicate
 * detection (run 'estimate' afterwards).  Invalid lines are counted and
 * skipped. */
#define LOAD_BATCH 5000
#define LOAD_MAX_LINE (1024 * 1024)

static int load(const apr_dbd_driver_t *drv, apr_dbd_t *h, apr_pool_t *pool,
                const char *path)
{
    static const cr_phn_range_t range = { 0, APR_INT64_C(99999999) };
    cr_person_how_t how;
    cr_ctx_t ctx;
    apr_pool_t *scratch;
    apr_file_t *f;
    cr_db_t *db;
    char *line = apr_palloc(pool, LOAD_MAX_LINE);
    char now[CR_DATETIME_INSTANT_SIZE], today[11];
    long done = 0, skipped = 0, in_batch = 0;
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = APR_SUCCESS;
    int nrows;

    if ((db = open_store(drv, h, pool)) == NULL) {
        return 1;
    }
    if (apr_file_open(&f, path, APR_READ | APR_BUFFERED, 0, pool)
        != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: cannot read %s\n", path);
        return 1;
    }
    /* Index keys and identifiers a full multi-row statement at a time
     * across patients, and PHNs fetched 32 at a time (PostgreSQL: a round
     * trip costs more than a row).  Nothing the load writes is read back
     * before its commit but the patient rows, which are not kept back. */
    db->defer_rows = 1;
    apr_pool_create(&db->pending_pool, pool);
    db->phn_block = 32;
    if (db->is_sqlite) {
        /* One big writer: a large cache, and commits that need not wait
         * for the disk (a failed load is simply run again). */
        apr_dbd_query(drv, h, &nrows, "PRAGMA synchronous=OFF");
        apr_dbd_query(drv, h, &nrows, "PRAGMA cache_size=-1048576");
    }
    cr_datetime_format_instant(now, sizeof(now), apr_time_now());
    apr_cpystrn(today, now, sizeof(today));
    apr_pool_create(&scratch, pool);
    /* The person recipe's context: no caller, no settings (no duplicate
     * detection), the load's time; every row's memory in scratch. */
    memset(&ctx, 0, sizeof(ctx));
    ctx.pool = scratch;
    ctx.db = db;
    ctx.message_id = "cr-admin-load";
    ctx.now_instant = now;
    ctx.today = today;
    memset(&how, 0, sizeof(how));
    how.operation = "create";
    how.message_id = "cr-admin-load";
    while (rv == APR_SUCCESS
           && apr_file_gets(line, LOAD_MAX_LINE, f) == APR_SUCCESS) {
        json_object *o = NULL;
        cr_patient_t *p = NULL;
        cr_outcome_t *oc;
        apr_uuid_t u;
        char id[APR_UUID_FORMATTED_LENGTH + 1];

        apr_pool_clear(scratch);
        if (strspn(line, " \t\r\n") == strlen(line)) {
            continue;
        }
        oc = cr_outcome_make(scratch);
        if (cr_json_parse(&o, scratch, line, strlen(line), NULL, NULL)
            != APR_SUCCESS
            || cr_fhir_patient_parse(&p, scratch, o, "Patient", today, NULL,
                                     oc) != APR_SUCCESS) {
            skipped++;
            continue;
        }
        if (in_batch == 0 && (rv = cr_db_begin(db, pool)) != APR_SUCCESS) {
            break;
        }
        if (cr_model_find_identifier(p, CR_IDK_PHN) != NULL) {
            /* A PHN of the file's own: the rows kept back go first, so
             * that the allocator's held check sees every PHN before. */
            rv = cr_db_flush_rows(db);
            if (rv != APR_SUCCESS) {
                break;
            }
        }
        rv = cr_person_assign_phn(&ctx, p, &range);
        if (rv != APR_SUCCESS) {
            break;
        }
        apr_uuid_get(&u);
        apr_uuid_format(id, &u);
        rv = cr_person_write(NULL, &ctx, p, id, 1, &how);
        if (rv != APR_SUCCESS) {
            break;
        }
        done++;
        if (++in_batch == LOAD_BATCH) {
            rv = cr_db_commit(db);
            in_batch = 0;
            if (done % 100000 == 0) {
                fprintf(stderr, "cr-admin: %ld loaded, %.0f/s\n", done,
                        done / ((apr_time_now() - t0) / 1e6));
            }
        }
    }
    if (rv == APR_SUCCESS && in_batch > 0) {
        rv = cr_db_commit(db);
    }
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        cr_db_rollback(db);
        fprintf(stderr, "cr-admin: load failed after %ld patients: %s\n",
                done, db->last_error ? db->last_error : "?");
        return 1;
    }
    printf("loaded %ld patients (%ld lines skipped) in %.1f s: %.0f "
           "patients/s\n", done, skipped, (apr_time_now() - t0) / 1e6,
           done / ((apr_time_now() - t0) / 1e6 + 1e-9));
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    const char *driver_name = "sqlite3", *schema_dir = CR_SCHEMA_DIR;
    const char *cmd = NULL, *params = NULL, *file = NULL;
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h = NULL;
    apr_array_header_t *migs;
    int i, v, rc = 0, nrows;
    long sample = 20000;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc) {
            sample = atol(argv[++i]);
        }
        else if (strcmp(argv[i], "--driver") == 0 && i + 1 < argc) {
            driver_name = argv[++i];
        }
        else if (strcmp(argv[i], "--schema-dir") == 0 && i + 1 < argc) {
            schema_dir = argv[++i];
        }
        else if (cmd == NULL) {
            cmd = argv[i];
        }
        else if (params == NULL) {
            params = argv[i];
        }
        else if (file == NULL && (strcmp(cmd, "load") == 0
                                  || strcmp(cmd, "fit-use") == 0)) {
            file = argv[i];
        }
        else {
            return usage();
        }
    }
    if (cmd == NULL || params == NULL) {
        return usage();
    }
    apr_dbd_init(pool);
    if (apr_dbd_get_driver(pool, driver_name, &drv) != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: no APR DBD driver '%s' (install "
                "libaprutil1-dbd-%s)\n", driver_name, driver_name);
        return 1;
    }
    if (apr_dbd_open(drv, pool, params, &h) != APR_SUCCESS) {
        fprintf(stderr, "cr-admin: cannot open the database\n");
        return 1;
    }
    if (strcmp(driver_name, "sqlite3") == 0) {
        apr_dbd_query(drv, h, &nrows, "PRAGMA journal_mode=WAL");
        apr_dbd_query(drv, h, &nrows, "PRAGMA busy_timeout=10000");
    }
    v = current_version(drv, h, pool);
    if (strcmp(cmd, "estimate") == 0) {
        rc = estimate(drv, h, pool, sample);
    }
    else if (strcmp(cmd, "fits") == 0) {
        rc = fits(drv, h, pool);
    }
    else if (strcmp(cmd, "fit-use") == 0) {
        rc = fit_use(drv, h, pool, file);
    }
    else if (strcmp(cmd, "load") == 0 && file) {
        rc = load(drv, h, pool, file);
    }
    else if (strcmp(cmd, "rekey") == 0) {
        rc = rekey(drv, h, pool);
    }
    else if (strcmp(cmd, "audit-verify") == 0) {
        rc = audit_verify(drv, h, pool);
    }
    else if (strcmp(cmd, "version") == 0) {
        printf("%d\n", v);
    }
    else if (strcmp(cmd, "init") == 0 || strcmp(cmd, "migrate") == 0) {
        if (strcmp(cmd, "init") == 0 && v > 0) {
            printf("database already at schema version %d\n", v);
        }
        if (!bytewise_collation(drv, h, pool)) {
            fprintf(stderr, "cr-admin: this database does not compare text "
                    "byte by byte; create it with LC_COLLATE 'C' (README, "
                    "PostgreSQL)\n");
            rc = 1;
        }
        else if (list_migrations(&migs, pool, schema_dir) != APR_SUCCESS) {
            fprintf(stderr, "cr-admin: cannot read schema directory %s\n",
                    schema_dir);
            rc = 1;
        }
        /* Apply every file whose version is not recorded yet, in order:
         * features developed in parallel may add lower numbers later. */
        for (i = 0; rc == 0 && i < migs->nelts; i++) {
            const migration_t *m = &APR_ARRAY_IDX(migs, i, migration_t);
            if (!applied(drv, h, pool, m->version)) {
                rc = apply(drv, h, pool, m);
            }
        }
        if (rc == 0) {
            printf("schema version %d\n", current_version(drv, h, pool));
        }
    }
    else {
        rc = usage();
    }
    apr_dbd_close(drv, h);
    return rc;
}
