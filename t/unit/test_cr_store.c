/*
 * test_cr_store.c: store tests against a temporary SQLite file, through
 * apr_dbd directly (no httpd).
 *
 * Each test gets a fresh database in its own mkdtemp directory: every
 * migration in schema/ (001_initial.sql first) is applied the way
 * cr-admin applies it (numeric order, statements split on lines holding
 * only ';', one transaction each, its version recorded), and then the
 * whole statement catalogue is prepared.  That last step matters on its
 * own: mod_dbd prepares every statement on every new connection, so one
 * statement that does not fit the schema breaks every connection.  The
 * directory and its files are removed at the end of each test.
 *
 * Patients are written the way the REST create does it: parse, allocate
 * a PHN, add it, set id/meta, build the index, serialise, insert, all in
 * one transaction.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "core/cr_text.h"
#include "core/cr_phn.h"
#include "match/cr_search.h"
#include "store/cr_sql.h"
#include "store/cr_store.h"
#include "store/cr_store_search.h"

#include "cr_test_ig.h"

#ifndef CR_TOP_SRCDIR
#error "CR_TOP_SRCDIR must name the source tree (see Makefile.am)"
#endif
#define SCHEMA_DIR CR_TOP_SRCDIR "/schema"

#define CR_TEST(name, fn) \
    { name, fn, setup_db, teardown_db, NULL }

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NOW "2026-01-15T10:00:00.000Z"
#define LATER "2026-01-16T11:30:00.000Z"
#define SRI(src) "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-" src \
                 "-source-patient-id"
#define PT "{\"resourceType\":\"Patient\","

/* The whole body range (phn.md DECISION-16). */
static const cr_phn_range_t full_range = { 0, APR_INT64_C(99999999) };

static const cr_caller_t caller = {
    "FHA_MT", "FHA", "jdoe@idir", "CN=fha-mt,O=FHA,C=CA"
};

typedef struct fixture_t {
    int max_version;            /* highest migration applied */
    int migrations;             /* how many were applied */
    int versions[100];          /* their versions, ascending */
    apr_pool_t *pool;
    apr_pool_t *conn_pool;      /* handle and prepared statements */
    apr_dbd_t *handle;
    cr_db_t *db;
    char *dir;
    const char *path;
} fixture_t;

static apr_pool_t *g_pool;
static const apr_dbd_driver_t *g_driver;

/* The fixture set up last and not yet torn down: cmocka skips the
 * teardown when a setup fails, so the next setup (or the group teardown)
 * removes what such a setup left behind. */
static struct fixture_t *g_pending;
static void cleanup(struct fixture_t *fx);

static int group_setup(void **state)
{
    (void)state;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&g_pool, NULL) != APR_SUCCESS
        || apr_dbd_init(g_pool) != APR_SUCCESS) {
        return -1;
    }
    if (apr_dbd_get_driver(g_pool, "sqlite3", &g_driver) != APR_SUCCESS) {
        print_error("no APR DBD sqlite3 driver (libaprutil1-dbd-sqlite3)\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_pending) {
        cleanup(g_pending);
    }
    apr_pool_destroy(g_pool);
    apr_terminate();
    return 0;
}

/* Run one statement outside the catalogue (schema, checks). */
static int exec_sql(apr_dbd_t *h, const char *sql)
{
    int nrows = 0;

    return apr_dbd_query(g_driver, h, &nrows, sql);
}

/* True when stmt holds something other than white space and "--" comment
 * lines. */
static int has_code(const char *stmt)
{
    const char *p = stmt;

    while (*p) {
        p += strspn(p, " \t\r\n");
        if (p[0] == '-' && p[1] == '-') {
            p = strchr(p, '\n');
            if (p == NULL) {
                return 0;
            }
            continue;
        }
        return *p != '\0';
    }
    return 0;
}

/* Apply a migration file: its statements are separated by lines that
 * hold only ';' (cr-admin's rule), run in one transaction together with
 * the row recording its version.  Returns the number of statements. */
static int apply_migration(apr_pool_t *pool, apr_dbd_t *h, const char *file,
                           int version, const char *name)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t len;
    char *text, *line, *start;
    apr_dbd_transaction_t *txn = NULL;
    int statements = 0;

    assert_int_equal(apr_file_open(&f, file, APR_READ, 0, pool),
                     APR_SUCCESS);
    assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    len = (apr_size_t)fi.size;
    text = apr_palloc(pool, len + 1);
    assert_int_equal(apr_file_read_full(f, text, len, &len), APR_SUCCESS);
    text[len] = '\0';
    apr_file_close(f);

    assert_int_equal(apr_dbd_transaction_start(g_driver, pool, h, &txn), 0);
    start = text;
    for (line = text; ; ) {
        char *eol = strchr(line, '\n');
        apr_size_t n = eol ? (apr_size_t)(eol - line) : strlen(line);
        int sep = (n == 1 && line[0] == ';')
                  || (n == 2 && line[0] == ';' && line[1] == '\r');
        if (sep || eol == NULL) {
            char *stmt = apr_pstrndup(pool, start,
                                      (apr_size_t)(line - start)
                                      + (sep ? 0 : n));
            if (has_code(stmt)) {
                int rv = exec_sql(h, stmt);
                if (rv != 0) {
                    fail_msg("schema statement failed: %s\n%s",
                             apr_dbd_error(g_driver, h, rv), stmt);
                }
                statements++;
            }
            if (eol == NULL) {
                break;
            }
            start = eol + 1;
        }
        if (eol == NULL) {
            break;
        }
        line = eol + 1;
    }
    {
        apr_dbd_prepared_t *st = NULL;
        const char *args[3];
        int nrows = 0;
        assert_int_equal(apr_dbd_prepare(g_driver, pool, h,
                                         "INSERT INTO cr_schema_version"
                                         " (version, applied, description)"
                                         " VALUES (%d, %s, %s)", NULL, &st),
                         0);
        args[0] = apr_itoa(pool, version);
        args[1] = NOW;
        args[2] = name;
        assert_int_equal(apr_dbd_pquery(g_driver, pool, h, &nrows, st, 3,
                                        args), 0);
        assert_int_equal(nrows, 1);
    }
    assert_int_equal(apr_dbd_transaction_end(g_driver, pool, txn), 0);
    return statements;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Apply every NNN_name.sql of dir in numeric order. */
static void apply_migrations(fixture_t *fx, const char *dir)
{
    apr_pool_t *pool = fx->pool;
    apr_dir_t *d = NULL;
    apr_finfo_t fi;
    apr_hash_t *names = apr_hash_make(pool);
    int versions[100], n = 0, i;

    assert_int_equal(apr_dir_open(&d, dir, pool), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        size_t len = strlen(fi.name);
        if (fi.filetype != APR_REG || len < 8 || fi.name[0] < '0'
            || fi.name[0] > '9' || strcmp(fi.name + len - 4, ".sql") != 0) {
            continue;
        }
        assert_true(n < (int)ARRAY_LEN(versions));
        versions[n] = atoi(fi.name);
        apr_hash_set(names, apr_pmemdup(pool, &versions[n], sizeof(int)),
                     sizeof(int), apr_pstrdup(pool, fi.name));
        n++;
    }
    apr_dir_close(d);
    assert_true(n > 0);
    qsort(versions, (size_t)n, sizeof(int), cmp_int);
    assert_int_equal(versions[0], 1);
    for (i = 0; i < n; i++) {
        const char *file = apr_hash_get(names, &versions[i], sizeof(int));
        int statements = apply_migration(
            pool, fx->handle, apr_pstrcat(pool, dir, "/", file, NULL),
            versions[i], apr_pstrndup(pool, file, strlen(file) - 4));
        if (versions[i] == 1) {
            /* 001_initial.sql: 5 tables, 7 indexes and the allocator
             * row. */
            assert_int_equal(statements, 13);
        }
    }
    fx->max_version = versions[n - 1];
    fx->migrations = n;
    memcpy(fx->versions, versions, sizeof(versions));
}

static int setup_db(void **state)
{
    fixture_t *fx;
    apr_pool_t *pool = NULL;
    apr_hash_t *prepared = NULL;
    const char *label = NULL, *error = NULL, *tmp;

    if (g_pending) {
        cleanup(g_pending);
    }
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    fx = apr_pcalloc(pool, sizeof(*fx));
    fx->pool = pool;
    g_pending = fx;
    tmp = getenv("TMPDIR");
    fx->dir = apr_pstrcat(pool, tmp && *tmp ? tmp : "/tmp",
                          "/cr-store-XXXXXX", NULL);
    if (mkdtemp(fx->dir) == NULL) {
        print_error("mkdtemp %s failed\n", fx->dir);
        fx->dir = NULL;
        return -1;
    }
    fx->path = apr_pstrcat(pool, fx->dir, "/registry.db", NULL);
    apr_pool_create(&fx->conn_pool, pool);
    if (apr_dbd_open(g_driver, fx->conn_pool, fx->path, &fx->handle)
        != APR_SUCCESS) {
        print_error("cannot open %s\n", fx->path);
        return -1;
    }
    *state = fx;
    exec_sql(fx->handle, "PRAGMA foreign_keys=ON");
    apply_migrations(fx, SCHEMA_DIR);

    /* Every catalogue statement must prepare against the schema. */
    if (cr_db_prepare_catalogue(&prepared, fx->conn_pool, g_driver,
                                fx->handle, &label, &error) != APR_SUCCESS) {
        print_error("catalogue statement %s does not prepare: %s\n",
                    label, error);
        return -1;
    }
    fx->db = cr_db_wrap(pool, g_driver, fx->handle, prepared);
    return 0;
}

static int remove_if_present(apr_pool_t *pool, const char *path)
{
    apr_status_t rv = apr_file_remove(path, pool);

    return rv == APR_SUCCESS || APR_STATUS_IS_ENOENT(rv) ? 0 : -1;
}

/* Close the database, remove its directory, free the fixture.  Returns
 * 0, or -1 when a file or the directory could not be removed. */
static int cleanup_files(fixture_t *fx)
{
    apr_pool_t *pool = fx->pool;
    int rc = 0;

    g_pending = NULL;
    if (fx->db && fx->db->txn) {
        cr_db_rollback(fx->db);
    }
    if (fx->handle) {
        apr_dbd_close(g_driver, fx->handle);
    }
    if (fx->conn_pool) {
        apr_pool_destroy(fx->conn_pool);
    }
    if (fx->dir == NULL) {
        apr_pool_destroy(pool);
        return 0;
    }
    rc |= remove_if_present(pool, apr_pstrcat(pool, fx->dir, "/empty.db",
                                              NULL));
    rc |= remove_if_present(pool, fx->path);
    rc |= remove_if_present(pool, apr_pstrcat(pool, fx->path, "-journal",
                                              NULL));
    rc |= remove_if_present(pool, apr_pstrcat(pool, fx->path, "-wal",
                                              NULL));
    rc |= remove_if_present(pool, apr_pstrcat(pool, fx->path, "-shm",
                                              NULL));
    if (apr_dir_remove(fx->dir, pool) != APR_SUCCESS) {
        print_error("cannot remove %s\n", fx->dir);
        rc = -1;
    }
    apr_pool_destroy(pool);
    return rc;
}

static void cleanup(fixture_t *fx)
{
    cleanup_files(fx);
}

static int teardown_db(void **state)
{
    return cleanup_files(*state);
}

/* The single value of a query outside the catalogue (checks only). */
static const char *scalar(fixture_t *fx, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int rv;

    rv = apr_dbd_select(g_driver, fx->pool, fx->handle, &res, sql, 0);
    if (rv != 0) {
        fail_msg("%s: %s", sql, apr_dbd_error(g_driver, fx->handle, rv));
    }
    while (apr_dbd_get_row(g_driver, fx->pool, res, &row, -1) == 0) {
        if (v == NULL) {
            const char *e = apr_dbd_get_entry(g_driver, row, 0);
            v = apr_pstrdup(fx->pool, e ? e : "NULL");
        }
    }
    return v;
}

static int count(fixture_t *fx, const char *sql)
{
    const char *v = scalar(fx, sql);

    return v ? atoi(v) : -1;
}

static cr_patient_t *parse_patient(apr_pool_t *pool, const char *text)
{
    json_object *obj = NULL;
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_json_error_t err;

    if (cr_json_parse(&obj, pool, text, strlen(text), NULL, &err)
        != APR_SUCCESS) {
        fail_msg("fixture is not JSON: %s", err.message);
    }
    if (cr_fhir_patient_parse(&p, pool, obj, "Patient", "2026-01-15", NULL,
                              oc) != APR_SUCCESS) {
        fail_msg("fixture is not a valid Patient: %s",
                 cr_outcome_first_error(oc)->text);
    }
    return p;
}

static cr_write_t writer(const char *operation, const char *now)
{
    cr_write_t w;

    w.operation = operation;
    w.caller = &caller;
    w.message_id = "msg-0001";
    w.now = now;
    return w;
}

/* Create a patient as the REST create does, in one transaction.  *phn_out
 * (if not NULL) receives the PHN it holds.  On failure the transaction is
 * rolled back and the store's status returned. */
static apr_status_t create(fixture_t *fx, const char *id, const char *text,
                           const cr_phn_range_t *range,
                           const char **phn_out)
{
    apr_pool_t *pool = fx->pool;
    cr_patient_t *p = parse_patient(pool, text);
    cr_write_t w = writer("create", NOW);
    cr_index_t *ix = NULL;
    const cr_identifier_t *phn_id;
    apr_status_t rv;

    rv = cr_db_begin(fx->db, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cr_model_find_identifier(p, CR_IDK_PHN) == NULL) {
        char phn[CR_PHN_LEN + 1];
        rv = cr_store_phn_allocate(phn, fx->db, pool,
                                   range ? range : &full_range);
        if (rv != APR_SUCCESS) {
            cr_db_rollback(fx->db);
            return rv;
        }
        cr_fhir_patient_add_phn(p, pool, phn, NOW);
    }
    cr_fhir_patient_set_meta(p, pool, id, 1, NOW);
    assert_int_equal(cr_index_build(&ix, pool, p), APR_SUCCESS);
    rv = cr_store_patient_insert(fx->db, pool, p,
                                 cr_json_serialize(pool, p->json, NULL), ix,
                                 &w);
    if (rv != APR_SUCCESS) {
        cr_db_rollback(fx->db);
        return rv;
    }
    rv = cr_db_commit(fx->db);
    phn_id = cr_model_find_identifier(p, CR_IDK_PHN);
    if (phn_out) {
        *phn_out = phn_id ? phn_id->value : NULL;
    }
    return rv;
}

/* The catalogue prepared in setup; on a database without the schema it
 * fails and names the first statement. */
static void test_catalogue(void **state)
{
    fixture_t *fx = *state;
    const cr_sql_stmt_t *const *part;
    const cr_sql_stmt_t *s;
    apr_dbd_t *empty = NULL;
    apr_hash_t *prepared = (apr_hash_t *)1;
    apr_pool_t *sub = NULL;
    const char *label = NULL, *error = NULL;
    int n = 0;

    /* Every part of the catalogue, each label once. */
    assert_ptr_equal(cr_sql_catalogues[0], cr_sql_catalogue);
    for (part = cr_sql_catalogues; *part; part++) {
        for (s = *part; s->label; s++) {
            assert_non_null(apr_hash_get(fx->db->prepared, s->label,
                                         APR_HASH_KEY_STRING));
            assert_non_null(s->sql);
            n++;
        }
    }
    assert_int_equal((int)apr_hash_count(fx->db->prepared), n);
    assert_int_equal(fx->db->is_sqlite, 1);

    apr_pool_create(&sub, fx->pool);
    assert_int_equal(apr_dbd_open(g_driver, sub,
                                  apr_pstrcat(sub, fx->dir, "/empty.db",
                                              NULL), &empty), APR_SUCCESS);
    assert_int_equal(cr_db_prepare_catalogue(&prepared, sub, g_driver, empty,
                                             &label, &error), APR_EGENERAL);
    assert_null(prepared);
    assert_string_equal(label, cr_sql_catalogue[0].label);
    assert_non_null(error);
    assert_non_null(strstr(error, "no such table"));
    apr_dbd_close(g_driver, empty);
    apr_pool_destroy(sub);
    assert_int_equal(apr_file_remove(apr_pstrcat(fx->pool, fx->dir,
                                                 "/empty.db", NULL),
                                     fx->pool), APR_SUCCESS);
}

/* Whether the recorded versions are exactly the build's required ones. */
static int required_is(const int *versions, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (cr_store_schema_required[i] != versions[i]) {
            return 0;
        }
    }
    return cr_store_schema_required[n] == 0;
}

static void test_schema_version(void **state)
{
    fixture_t *fx = *state;
    int v = -1, exact = -1, i;
    static const int only_one[] = { 1 };

    /* Every migration of schema/ applied: the highest one; exact when
     * schema/ holds exactly what this build requires. */
    assert_int_equal(cr_store_schema_version(&v, &exact, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(v, fx->max_version);
    assert_int_equal(exact, required_is(fx->versions, fx->migrations));
    assert_int_equal(cr_store_schema_version(&v, NULL, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(v, fx->max_version);

    /* Only version 1 recorded. */
    assert_int_equal(exec_sql(fx->handle, "DELETE FROM cr_schema_version"
                              " WHERE version > 1"), 0);
    assert_int_equal(cr_store_schema_version(&v, &exact, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(v, 1);
    assert_int_equal(exact, required_is(only_one, 1));

    /* Nothing recorded. */
    assert_int_equal(exec_sql(fx->handle, "DELETE FROM cr_schema_version"),
                     0);
    assert_int_equal(cr_store_schema_version(&v, &exact, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(v, 0);
    assert_int_equal(exact, 0);

    /* Exactly the required versions, recorded in any order. */
    for (i = 0; cr_store_schema_required[i]; i++) {
        ;
    }
    while (i-- > 0) {
        assert_int_equal(exec_sql(fx->handle, apr_psprintf(
                                      fx->pool, "INSERT INTO "
                                      "cr_schema_version VALUES (%d, '"
                                      NOW "', 'x')",
                                      cr_store_schema_required[i])), 0);
        v = cr_store_schema_required[i] > v ? cr_store_schema_required[i] : v;
    }
    {
        int highest = v;
        assert_int_equal(cr_store_schema_version(&v, &exact, fx->db,
                                                 fx->pool), APR_SUCCESS);
        assert_int_equal(v, highest);
        assert_int_equal(exact, 1);
    }

    /* One more (unknown) version: no longer exact. */
    assert_int_equal(exec_sql(fx->handle, "INSERT INTO cr_schema_version"
                              " VALUES (999, '" NOW "', 'x')"), 0);
    assert_int_equal(cr_store_schema_version(&v, &exact, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(v, 999);
    assert_int_equal(exact, 0);
}

/* A statement that is not in the catalogue is refused. */
static void test_unprepared_label(void **state)
{
    fixture_t *fx = *state;
    cr_db_rows_t *rows = (cr_db_rows_t *)1;

    assert_int_equal(cr_db_select(&rows, fx->db, fx->pool, "cr_no_such",
                                  1, 0, NULL), APR_EGENERAL);
    assert_null(rows);
    assert_string_equal(fx->db->last_label, "cr_no_such");
    assert_int_equal(cr_db_exec(fx->db, fx->pool, "cr_no_such", NULL, 0,
                                NULL), APR_EGENERAL);
    assert_null(cr_db_cell(NULL, 0, 0));
}

/* A key look-up: no row is APR_NOTFOUND, an unknown statement the store
 * error; either way no row is handed back.  (Found rows: the getters of
 * test_insert_and_read.) */
static void test_select_one(void **state)
{
    fixture_t *fx = *state;
    cr_db_rows_t *row = (cr_db_rows_t *)1;
    const char *args[1] = { "no-such-id" };

    assert_int_equal(cr_db_select_one(&row, fx->db, fx->pool,
                                      "cr_patient_get", 1, args),
                     APR_NOTFOUND);
    assert_null(row);
    row = (cr_db_rows_t *)1;
    assert_int_equal(cr_db_select_one(&row, fx->db, fx->pool, "cr_no_such",
                                      1, args), APR_EGENERAL);
    assert_null(row);
}

/* CR-ADD-002: insert, then read back every way. */
static void test_insert_and_read(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    cr_patient_t *p = parse_patient(pool, cr_test_ig_revise_max_patient);
    cr_write_t w = writer("create", NOW);
    cr_index_t *ix = NULL;
    cr_stored_t *s = NULL;
    apr_array_header_t *hist = NULL;
    const char *resource, *owner = NULL;
    char phn[CR_PHN_LEN + 1];
    int total = -1;

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_non_null(fx->db->txn);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &full_range),
                     APR_SUCCESS);
    assert_int_equal(cr_phn_validate(phn), CR_PHN_OK);
    cr_fhir_patient_add_phn(p, pool, phn, NOW);
    cr_fhir_patient_set_meta(p, pool, "p-1", 1, NOW);
    assert_int_equal(cr_index_build(&ix, pool, p), APR_SUCCESS);
    resource = cr_json_serialize(pool, p->json, NULL);
    assert_int_equal(cr_store_patient_insert(fx->db, pool, p, resource, ix,
                                             &w), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_null(fx->db->txn);

    assert_int_equal(cr_store_patient_get(&s, fx->db, pool, "p-1"),
                     APR_SUCCESS);
    assert_string_equal(s->id, "p-1");
    assert_int_equal(s->version, 1);
    assert_string_equal(s->last_updated, NOW);
    assert_string_equal(s->resource, resource);
    assert_string_equal(s->phn, phn);
    assert_int_equal(s->active, 1);
    assert_null(s->replaced_by);

    s = NULL;
    assert_int_equal(cr_store_patient_get_by_phn(&s, fx->db, pool, phn),
                     APR_SUCCESS);
    assert_string_equal(s->id, "p-1");
    assert_string_equal(s->resource, resource);

    assert_int_equal(cr_store_patient_get(&s, fx->db, pool, "p-2"),
                     APR_NOTFOUND);
    assert_null(s);
    assert_int_equal(cr_store_patient_get_by_phn(&s, fx->db, pool,
                                                 "9253484802"),
                     APR_NOTFOUND);
    assert_null(s);

    assert_int_equal(cr_store_version_get(&s, fx->db, pool, "p-1", 1),
                     APR_SUCCESS);
    assert_string_equal(s->id, "p-1");
    assert_int_equal(s->version, 1);
    assert_string_equal(s->resource, resource);
    assert_string_equal(s->operation, "create");
    assert_string_equal(s->last_updated, NOW);
    assert_int_equal(cr_store_version_get(&s, fx->db, pool, "p-1", 2),
                     APR_NOTFOUND);
    assert_int_equal(cr_store_version_get(&s, fx->db, pool, "p-2", 1),
                     APR_NOTFOUND);

    assert_int_equal(cr_store_history(&hist, &total, fx->db, pool, "p-1",
                                      10, 0), APR_SUCCESS);
    assert_int_equal(total, 1);
    assert_int_equal(hist->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(hist, 0, cr_stored_t *)->version, 1);
    assert_int_equal(cr_store_history(&hist, &total, fx->db, pool, "p-2",
                                      10, 0), APR_SUCCESS);
    assert_int_equal(total, 0);
    assert_int_equal(hist->nelts, 0);

    /* CR-ID-006, CR-ID-007: identifiers belong to the patient. */
    assert_int_equal(cr_store_identifier_owner(&owner, fx->db, pool,
                                               CR_SYS_PHN, phn),
                     APR_SUCCESS);
    assert_string_equal(owner, "p-1");
    assert_int_equal(cr_store_identifier_owner(
                         &owner, fx->db, pool, SRI("vpp-pr"),
                         "R8ZNY8I1JI98M15K634C6LOU15375PA"), APR_SUCCESS);
    assert_string_equal(owner, "p-1");
    owner = "unset";
    assert_int_equal(cr_store_identifier_owner(&owner, fx->db, pool,
                                               SRI("vpp-pr"), "other"),
                     APR_SUCCESS);
    assert_null(owner);

    /* What the rows hold. */
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_identifier"), 10);
    assert_string_equal(scalar(fx, "SELECT use_code FROM cr_identifier"
                               " WHERE system = 'https://health.gov.bc.ca/"
                               "fhir/NamingSystem/ca-bc-vpp-cw-source-"
                               "patient-id'"), "secondary");
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"),
                     ix->rows->nelts);
    /* The search keys (other kinds belong to the matching engine). */
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                           " WHERE kind IN ('family', 'given', 'name',"
                           " 'phone', 'email', 'postal')"), 24);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                           " WHERE kind = 'family' AND value = 'banek'"), 1);
    assert_string_equal(scalar(fx, "SELECT gender || ' ' || birth_date || ' '"
                               " || birth_date_hi || ' ' || created"
                               " FROM cr_patient"),
                        "female 1956-12-17 1956-12-17 " NOW);
    assert_string_equal(scalar(fx, "SELECT operation || ' ' || source_system"
                               " || ' ' || org_id || ' ' || user_id || ' ' ||"
                               " client_dn || ' ' || message_id"
                               " FROM cr_patient_version"),
                        "create FHA_MT FHA jdoe@idir CN=fha-mt,O=FHA,C=CA "
                        "msg-0001");
}

/* Versioned update: the expected version wins once, a stale one loses. */
static void test_update(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    const char *phn = NULL, *resource, *owner = NULL;
    cr_stored_t *s = NULL;
    cr_patient_t *p;
    cr_index_t *ix = NULL;
    json_object *name0;
    apr_array_header_t *hist = NULL;
    cr_write_t w = writer("update", LATER);
    int total = 0;

    assert_int_equal(create(fx, "p-1", cr_test_ig_revise_max_patient, NULL,
                            &phn), APR_SUCCESS);
    assert_int_equal(cr_store_patient_get(&s, fx->db, pool, "p-1"),
                     APR_SUCCESS);

    /* Read, change the family name and one SRI, write version 2. */
    p = parse_patient(pool, s->resource);
    assert_string_equal(p->id, "p-1");
    assert_string_equal(cr_model_find_identifier(p, CR_IDK_PHN)->value,
                        phn);
    name0 = json_object_array_get_idx(cr_json_get_array(p->json, "name"), 0);
    cr_json_set_string(name0, "family", "Smithson");
    cr_json_set_string(json_object_array_get_idx(
                           cr_json_get_array(p->json, "identifier"), 1),
                       "value", "NEW-SRI-1");
    p = parse_patient(pool, cr_json_serialize(pool, p->json, NULL));
    cr_fhir_patient_set_meta(p, pool, "p-1", 2, LATER);
    assert_int_equal(cr_index_build(&ix, pool, p), APR_SUCCESS);
    resource = cr_json_serialize(pool, p->json, NULL);

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_patient_update(fx->db, pool, p, 2, resource,
                                             ix, &w), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);

    assert_int_equal(cr_store_patient_get(&s, fx->db, pool, "p-1"),
                     APR_SUCCESS);
    assert_int_equal(s->version, 2);
    assert_string_equal(s->last_updated, LATER);
    assert_string_equal(s->resource, resource);
    assert_string_equal(s->phn, phn);
    assert_string_equal(scalar(fx, "SELECT created FROM cr_patient"), NOW);

    /* Keys and identifiers were rewritten. */
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                           " WHERE value = 'banek'"), 0);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                           " WHERE kind = 'family'"
                           " AND value = 'smithson'"), 1);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"),
                     ix->rows->nelts);
    assert_int_equal(cr_store_identifier_owner(&owner, fx->db, pool,
                                               SRI("vpp-cer"), "NEW-SRI-1"),
                     APR_SUCCESS);
    assert_string_equal(owner, "p-1");
    assert_int_equal(cr_store_identifier_owner(&owner, fx->db, pool,
                                               SRI("vpp-cer"),
                                               "2B6F8GN410H1T27NPE"),
                     APR_SUCCESS);
    assert_null(owner);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_identifier"), 10);

    /* History: newest first, paged. */
    assert_int_equal(cr_store_history(&hist, &total, fx->db, pool, "p-1",
                                      10, 0), APR_SUCCESS);
    assert_int_equal(total, 2);
    assert_int_equal(hist->nelts, 2);
    assert_int_equal(APR_ARRAY_IDX(hist, 0, cr_stored_t *)->version, 2);
    assert_string_equal(APR_ARRAY_IDX(hist, 0, cr_stored_t *)->operation,
                        "update");
    assert_int_equal(APR_ARRAY_IDX(hist, 1, cr_stored_t *)->version, 1);
    assert_string_equal(APR_ARRAY_IDX(hist, 1, cr_stored_t *)->operation,
                        "create");
    assert_int_equal(cr_store_history(&hist, &total, fx->db, pool, "p-1",
                                      1, 1), APR_SUCCESS);
    assert_int_equal(total, 2);
    assert_int_equal(hist->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(hist, 0, cr_stored_t *)->version, 1);
    assert_int_equal(cr_store_version_get(&s, fx->db, pool, "p-1", 1),
                     APR_SUCCESS);
    assert_non_null(strstr(s->resource, "\"family\":\"Banek\""));

    /* A writer that read version 1 now loses: CR_DB_CONFLICT, and its
     * transaction leaves nothing behind. */
    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_patient_update(fx->db, pool, p, 2, resource,
                                             ix, &w), CR_DB_CONFLICT);
    cr_db_rollback(fx->db);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient_version"),
                     2);
    assert_int_equal(count(fx, "SELECT version_id FROM cr_patient"), 2);

    /* Updating a patient that does not exist is a conflict too. */
    cr_fhir_patient_set_meta(p, pool, "p-9", 2, LATER);
    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_patient_update(fx->db, pool, p, 2, resource,
                                             ix, &w), CR_DB_CONFLICT);
    cr_db_rollback(fx->db);
}

/* CR-PHN-007, CR-PHN-008: sequential allocations are valid, unique and
 * in order, and survive only when committed. */
static void test_phn_sequence(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    char phn[CR_PHN_LEN + 1];
    apr_int64_t prev = -1, body;
    apr_hash_t *seen = apr_hash_make(pool);
    int i;

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    for (i = 0; i < 200; i++) {
        assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool,
                                               &full_range), APR_SUCCESS);
        assert_int_equal(cr_phn_validate(phn), CR_PHN_OK);
        assert_null(apr_hash_get(seen, phn, APR_HASH_KEY_STRING));
        apr_hash_set(seen, apr_pstrdup(pool, phn), APR_HASH_KEY_STRING, "");
        body = cr_phn_body(phn);
        /* The next usable body after the previous one. */
        assert_int_equal(body, cr_phn_next_usable_body(prev + 1));
        prev = body;
    }
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(count(fx, "SELECT next_body FROM cr_phn_allocator"),
                     (int)prev + 1);

    /* A rolled-back allocation is not consumed. */
    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &full_range),
                     APR_SUCCESS);
    body = cr_phn_body(phn);
    assert_int_equal(body, cr_phn_next_usable_body(prev + 1));
    cr_db_rollback(fx->db);
    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &full_range),
                     APR_SUCCESS);
    assert_int_equal(cr_phn_body(phn), body);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);

    /* A range above the counter starts at its first body. */
    {
        cr_phn_range_t r = { 25348480, 25348490 };
        assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
        assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &r),
                         APR_SUCCESS);
        assert_string_equal(phn, "9253484802");
        assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    }
}

/* CR-PHN-008: a PHN already held (issued elsewhere) is skipped. */
static void test_phn_skips_held(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    cr_phn_range_t r = { 25348480, 25348490 };
    const char *held = NULL;
    char phn[CR_PHN_LEN + 1];

    /* The IG's AddPatient Patient holds 9253484802 (body 25348480). */
    assert_int_equal(create(fx, "p-1", cr_test_ig_add_patient, &r, &held),
                     APR_SUCCESS);
    assert_string_equal(held, "9253484802");
    assert_int_equal(count(fx, "SELECT next_body FROM cr_phn_allocator"), 0);

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &r),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_true(strcmp(phn, "9253484802") != 0);
    assert_int_equal(cr_phn_body(phn), cr_phn_next_usable_body(25348481));
    assert_int_equal(cr_phn_validate(phn), CR_PHN_OK);
}

/* CR-PHN-009: an exhausted range is CR_DB_EXHAUSTED. */
static void test_phn_exhausted(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    cr_phn_range_t r = { 1000, 1019 };
    char phn[CR_PHN_LEN + 1];
    apr_int64_t b;
    int usable = 0, i;

    for (b = r.first; b <= r.last; b++) {
        usable += cr_phn_check_digit(b) > 0;
    }
    assert_true(usable > 1 && usable < 20);

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    for (i = 0; i < usable; i++) {
        assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &r),
                         APR_SUCCESS);
        assert_true(cr_phn_body(phn) >= r.first);
        assert_true(cr_phn_body(phn) <= r.last);
    }
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &r),
                     CR_DB_EXHAUSTED);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &r),
                     CR_DB_EXHAUSTED);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);

    /* A create with no PHN left fails cleanly and stores nothing. */
    assert_int_equal(create(fx, "p-1", PT "\"gender\":\"male\"}", &r, NULL),
                     CR_DB_EXHAUSTED);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient"), 0);
    assert_null(fx->db->txn);

    /* A range with no usable body at all. */
    {
        cr_phn_range_t none = { 4, 4 };   /* 00000004 has r = 1 */
        assert_int_equal(cr_phn_check_digit(4), -1);
        assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
        assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &none),
                         CR_DB_EXHAUSTED);
        cr_db_rollback(fx->db);
    }
}

/* CR-ID-006, CR-ID-007: uniqueness constraints give APR_EEXIST, and the
 * failed create leaves nothing. */
static void test_unique(void **state)
{
    fixture_t *fx = *state;
    const char *phn = NULL;

    assert_int_equal(create(fx, "p-1", PT "\"identifier\":[{\"system\":\""
                            SRI("fha-mt") "\",\"value\":\"A1\"}]}", NULL,
                            &phn), APR_SUCCESS);

    /* Same SRI on another patient. */
    assert_int_equal(create(fx, "p-2", PT "\"identifier\":[{\"system\":\""
                            SRI("fha-mt") "\",\"value\":\"A1\"}]}", NULL,
                            NULL), APR_EEXIST);
    assert_non_null(fx->db->last_error);
    assert_string_equal(fx->db->last_label, "cr_identifier_insert");

    /* Same PHN on another patient. */
    assert_int_equal(create(fx, "p-3", apr_pstrcat(
                                fx->pool, PT "\"identifier\":[{\"system\":\""
                                CR_SYS_PHN "\",\"value\":\"", phn, "\"}]}",
                                NULL), NULL, NULL), APR_EEXIST);
    assert_string_equal(fx->db->last_label, "cr_patient_insert");

    /* Same id. */
    assert_int_equal(create(fx, "p-1", PT "\"gender\":\"male\"}", NULL,
                            NULL), APR_EEXIST);
    assert_string_equal(fx->db->last_label, "cr_patient_insert");

    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient"), 1);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient_version"), 1);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_identifier"), 2);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"
                           " WHERE patient_id <> 'p-1'"), 0);
}

/* Rollback leaves nothing: no rows, no PHN consumed. */
static void test_rollback(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    cr_patient_t *p = parse_patient(pool, cr_test_ig_revise_max_patient);
    cr_write_t w = writer("create", NOW);
    cr_index_t *ix = NULL;
    cr_stored_t *s = NULL;
    char phn[CR_PHN_LEN + 1];

    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_phn_allocate(phn, fx->db, pool, &full_range),
                     APR_SUCCESS);
    cr_fhir_patient_add_phn(p, pool, phn, NOW);
    cr_fhir_patient_set_meta(p, pool, "p-1", 1, NOW);
    cr_index_build(&ix, pool, p);
    assert_int_equal(cr_store_patient_insert(fx->db, pool, p,
                                             cr_json_serialize(pool, p->json,
                                                               NULL),
                                             ix, &w), APR_SUCCESS);
    cr_db_rollback(fx->db);
    assert_null(fx->db->txn);
    cr_db_rollback(fx->db);     /* no transaction: nothing happens */

    assert_int_equal(cr_store_patient_get(&s, fx->db, pool, "p-1"),
                     APR_NOTFOUND);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient"), 0);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient_version"), 0);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_identifier"), 0);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_search_index"), 0);
    assert_int_equal(count(fx, "SELECT next_body FROM cr_phn_allocator"), 0);

    /* Commit without a transaction is an error. */
    assert_int_equal(cr_db_commit(fx->db), APR_EGENERAL);
}

/* A transaction in which a statement failed cannot report a successful
 * commit: the driver rolls it back. */
static void test_commit_after_failure(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    cr_patient_t *p = parse_patient(pool, PT "\"identifier\":[{\"system\":\""
                                    SRI("fha-mt") "\",\"value\":\"A1\"}]}");
    cr_write_t w = writer("create", NOW);
    cr_index_t *ix = NULL;

    assert_int_equal(create(fx, "p-1", PT "\"identifier\":[{\"system\":\""
                            SRI("fha-mt") "\",\"value\":\"A1\"}]}", NULL,
                            NULL), APR_SUCCESS);

    cr_fhir_patient_set_meta(p, pool, "p-2", 1, NOW);
    cr_index_build(&ix, pool, p);
    assert_int_equal(cr_db_begin(fx->db, pool), APR_SUCCESS);
    assert_int_equal(cr_store_patient_insert(fx->db, pool, p,
                                             cr_json_serialize(pool, p->json,
                                                               NULL),
                                             ix, &w), APR_EEXIST);
    assert_true(cr_db_commit(fx->db) != APR_SUCCESS);
    assert_null(fx->db->txn);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient"), 1);

    /* The next transaction works normally. */
    assert_int_equal(create(fx, "p-3", PT "\"gender\":\"male\"}", NULL,
                            NULL), APR_SUCCESS);
    assert_int_equal(count(fx, "SELECT COUNT(*) FROM cr_patient"), 2);
}

/* Patients for the search tests (ids sort as listed). */
static const struct {
    const char *id, *json;
} people[] = {
    { "s-1", PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\","
      "\"value\":\"A1\"}],\"name\":[{\"family\":\"Smith\",\"given\":"
      "[\"Ann\"]}],\"telecom\":[{\"system\":\"phone\",\"value\":"
      "\"250-555-0101\"}],\"gender\":\"female\","
      "\"birthDate\":\"1980-02-03\"}" },
    { "s-2", PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\","
      "\"value\":\"A2\"}],\"name\":[{\"family\":\"Smith\",\"given\":"
      "[\"John\"]}],\"gender\":\"male\",\"birthDate\":\"1980\"}" },
    { "s-3", PT "\"identifier\":[{\"system\":\"" SRI("iha-iha") "\","
      "\"value\":\"B1\"}],\"name\":[{\"family\":\"Smithers\",\"given\":"
      "[\"Anna\"]}],\"telecom\":[{\"system\":\"email\",\"value\":"
      "\"anna@example.com\"}],\"gender\":\"female\","
      "\"birthDate\":\"1985-06-07\"}" },
    { "s-4", PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\","
      "\"value\":\"A4\"}],\"name\":[{\"family\":\"Jones\",\"given\":"
      "[\"Ann\"]}],\"gender\":\"female\",\"birthDate\":\"1980-02\"}" },
    { "s-5", PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\","
      "\"value\":\"A5\"}],\"name\":[{\"family\":\"de la Cruz\",\"given\":"
      "[\"Mar\xc3\xad" "a\"]}],\"gender\":\"female\","
      "\"birthDate\":\"1990-12-31\"}" },
    { "s-6", PT "\"identifier\":[{\"system\":\"" SRI("iha-iha") "\","
      "\"value\":\"B6\"}],\"name\":[{\"family\":\"Smith\",\"given\":"
      "[\"Mary\"]}],\"gender\":\"unknown\",\"address\":[{\"postalCode\":"
      "\"V8W 1A1\"}]}" },
};

static const char *load_people(fixture_t *fx)
{
    const char *phn5 = NULL, *phn = NULL;
    size_t i;

    for (i = 0; i < ARRAY_LEN(people); i++) {
        assert_int_equal(create(fx, people[i].id, people[i].json, NULL, &phn),
                         APR_SUCCESS);
        if (i == 4) {
            phn5 = phn;
        }
    }
    return phn5;
}

/* The ids of a page, space-separated. */
static const char *page_ids(apr_pool_t *pool, const cr_search_result_t *r)
{
    const char *s = "";
    int i;

    for (i = 0; i < r->page->nelts; i++) {
        const cr_stored_t *st = APR_ARRAY_IDX(r->page, i, cr_stored_t *);
        s = apr_pstrcat(pool, s, i ? " " : "", st->id, NULL);
        assert_non_null(st->resource);
        assert_int_equal(st->version, 1);
    }
    return s;
}

static apr_status_t run_search(cr_search_result_t **res, fixture_t *fx,
                               const char *query, int max_candidates)
{
    static const cr_search_limits_t lim = { 20, 5, 10, 100, 1000 };
    cr_search_spec_t *spec = NULL;
    cr_outcome_t *oc = cr_outcome_make(fx->pool);

    if (cr_search_parse(&spec, fx->pool, query, 0, &lim, oc)
        != APR_SUCCESS) {
        fail_msg("%s: %s", query, cr_outcome_first_error(oc)->text);
    }
    return cr_store_search(res, fx->db, fx->pool, spec, max_candidates);
}

/* cr_store_search: totals and pages for small specifications. */
static void test_search(void **state)
{
    fixture_t *fx = *state;
    apr_pool_t *pool = fx->pool;
    const char *phn5 = load_people(fx);
    static const struct {
        const char *query;
        int total;
        const char *page;
    } v[] = {
        { "family=smith", 4, "s-1 s-2 s-3 s-6" },
        { "family=Smith&birthdate=1980", 2, "s-1 s-2" },
        { "family=smi&gender=female", 2, "s-1 s-3" },
        { "gender=female", 4, "s-1 s-3 s-4 s-5" },
        { "gender=female,male", 5, "s-1 s-2 s-3 s-4 s-5" },
        { "identifier=" SRI("fha-mt") "|A2", 1, "s-2" },
        { "identifier=A4", 1, "s-4" },
        { "identifier=" SRI("iha-iha") "|", 2, "s-3 s-6" },
        { "identifier=" SRI("iha-iha") "|A1", 0, "" },
        { "identifier=A1,B1", 2, "s-1 s-3" },
        { "identifier=A1&family=jones", 0, "" },
        { "given=ann", 3, "s-1 s-3 s-4" },
        { "given=ann&family=jones", 1, "s-4" },
        { "name=cruz", 1, "s-5" },
        { "name=maria", 1, "s-5" },
        { "birthdate=ge1985", 2, "s-3 s-5" },
        { "birthdate=lt1980-02", 1, "s-2" },
        { "birthdate=1980-02", 2, "s-1 s-4" },
        { "birthdate=ne1980", 2, "s-3 s-5" },
        { "birthdate=ap1984-06-07", 1, "s-3" },
        { "birthdate=ge1980&birthdate=le1980-02", 3, "s-1 s-2 s-4" },
        { "phone=(250)%20555-0101", 1, "s-1" },
        { "email=ANNA@example.com", 1, "s-3" },
        { "address-postalcode=v8w", 1, "s-6" },
        { "_id=s-4", 1, "s-4" },
        { "_id=s-4&gender=male", 0, "" },
        { "family=nobody", 0, "" },
        { "", 6, "s-1 s-2 s-3 s-4 s-5 s-6" },
        { "family=smith&_count=2", 4, "s-1 s-2" },
        { "family=smith&_count=2&_offset=2", 4, "s-3 s-6" },
        { "family=smith&_offset=3", 4, "s-6" },
        { "family=smith&_offset=4", 4, "" },
        { "family=smith&_count=0", 4, "" },
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        cr_search_result_t *res = NULL;
        apr_status_t rv = run_search(&res, fx, v[i].query, 100);
        const char *ids;
        if (rv != APR_SUCCESS) {
            fail_msg("%s: status %d (%s)", v[i].query, rv,
                     fx->db->last_error ? fx->db->last_error : "");
        }
        ids = page_ids(pool, res);
        if (res->total != v[i].total || strcmp(ids, v[i].page) != 0) {
            fail_msg("%s: total %d page '%s', expected %d '%s'", v[i].query,
                     res->total, ids, v[i].total, v[i].page);
        }
    }

    /* CR-REST-001: by PHN. */
    {
        cr_search_result_t *res = NULL;
        assert_int_equal(run_search(&res, fx,
                                    apr_pstrcat(pool, "identifier=",
                                                cr_text_url_encode(pool,
                                                                   CR_SYS_PHN),
                                                "%7C", phn5, NULL), 100),
                         APR_SUCCESS);
        assert_int_equal(res->total, 1);
        assert_string_equal(page_ids(pool, res), "s-5");
    }
}

/* APR_ENOSPC when a look-up returns more candidates than the bound. */
static void test_search_bound(void **state)
{
    fixture_t *fx = *state;
    cr_search_result_t *res = NULL;

    load_people(fx);
    assert_int_equal(run_search(&res, fx, "gender=female", 4), APR_SUCCESS);
    assert_int_equal(res->total, 4);
    res = (cr_search_result_t *)1;
    assert_int_equal(run_search(&res, fx, "gender=female", 3), APR_ENOSPC);
    assert_null(res);
    assert_int_equal(run_search(&res, fx, "family=smith", 3), APR_ENOSPC);
    assert_int_equal(run_search(&res, fx, "family=smith", 4), APR_SUCCESS);
    assert_int_equal(run_search(&res, fx, "", 5), APR_ENOSPC);
    assert_int_equal(run_search(&res, fx, "", 6), APR_SUCCESS);
    assert_int_equal(res->total, 6);
    /* OR'ed values add up against the same bound. */
    assert_int_equal(run_search(&res, fx, "identifier=A1,A2,A4", 2),
                     APR_ENOSPC);
    assert_int_equal(run_search(&res, fx, "identifier=A1,A2,A4", 3),
                     APR_SUCCESS);
    assert_int_equal(res->total, 3);
    /* The most selective clause drives: identifier, not gender. */
    assert_int_equal(run_search(&res, fx, "gender=female&identifier=A4", 1),
                     APR_SUCCESS);
    assert_int_equal(res->total, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("every catalogue statement prepares against schema/",
                test_catalogue),
        CR_TEST("schema version", test_schema_version),
        CR_TEST("statements outside the catalogue are refused",
                test_unprepared_label),
        CR_TEST("a key look-up: not found, refused", test_select_one),
        CR_TEST("CR-ADD-002: insert; get, get_by_phn, version, history, "
                "owner", test_insert_and_read),
        CR_TEST("update with the expected version; stale is CR_DB_CONFLICT",
                test_update),
        CR_TEST("CR-PHN-007: sequential PHNs valid, unique, in order",
                test_phn_sequence),
        CR_TEST("CR-PHN-008: a PHN held in cr_identifier is skipped",
                test_phn_skips_held),
        CR_TEST("CR-PHN-009: exhausted range is CR_DB_EXHAUSTED",
                test_phn_exhausted),
        CR_TEST("CR-ID-006: unique constraints give APR_EEXIST",
                test_unique),
        CR_TEST("rollback leaves nothing", test_rollback),
        CR_TEST("commit after a failed statement is not a success",
                test_commit_after_failure),
        CR_TEST("CR-REST-008: search totals and pages", test_search),
        CR_TEST("search: APR_ENOSPC beyond max_candidates",
                test_search_bound),
    };

    return cmocka_run_group_tests_name("cr_store", tests, group_setup,
                                       group_teardown);
}
