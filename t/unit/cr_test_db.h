/* cr_test_db: the fixture of the unit tests that need a database -- a
 * fresh SQLite file per test in a temporary directory, every
 * schema/NNN_*.sql applied in numeric order as cr-admin does, the
 * statement catalogue prepared and wrapped as a cr_db_t.  The including
 * file defines CR_TOP_SRCDIR (Makefile.am) and may define
 * CR_TEST_DB_DIR, the mkdtemp template of its directories, before
 * including this header; group_setup / group_teardown, setup / teardown
 * are its cmocka fixtures, fixture_t what setup puts in *state.  A test
 * that needs more in its fixture defines CR_TEST_DB_EXTRA (more members of
 * fixture_t) and CR_TEST_DB_INIT(fx) (run at the end of setup). */
#ifndef CR_TEST_DB_H
#define CR_TEST_DB_H

#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "store/cr_db.h"

#ifndef CR_TOP_SRCDIR
#error "CR_TOP_SRCDIR must name the source tree (see Makefile.am)"
#endif
#define SCHEMA_DIR CR_TOP_SRCDIR "/schema"
#ifndef CR_TEST_DB_DIR
#define CR_TEST_DB_DIR "/tmp/cr-test-db-XXXXXX"
#endif

/* When each schema migration is recorded as applied. */
#define CR_TEST_DB_APPLIED "2026-01-15T10:00:00.000Z"

typedef struct fixture_t {
    apr_pool_t *pool;
    apr_dbd_t *handle;
    cr_db_t *db;
    char dir[64];
    const char *path;
#ifdef CR_TEST_DB_EXTRA
    CR_TEST_DB_EXTRA
#endif
} fixture_t;

static apr_pool_t *g_pool;
static const apr_dbd_driver_t *g_driver;

static int group_setup(void **state)
{
    (void)state;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&g_pool, NULL) != APR_SUCCESS
        || apr_dbd_init(g_pool) != APR_SUCCESS
        || apr_dbd_get_driver(g_pool, "sqlite3", &g_driver)
           != APR_SUCCESS) {
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    apr_pool_destroy(g_pool);
    apr_terminate();
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Apply every schema/NNN_*.sql in numeric order, as cr-admin does. */
static void migrate(fixture_t *fx)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    const char *names[100];
    int nums[100], order[100], n = 0, i, j;

    assert_int_equal(apr_dir_open(&d, SCHEMA_DIR, fx->pool), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS && n < 100) {
        size_t len = strlen(fi.name);
        if (len > 4 && fi.name[0] >= '0' && fi.name[0] <= '9'
            && strcmp(fi.name + len - 4, ".sql") == 0) {
            names[n] = apr_pstrdup(fx->pool, fi.name);
            nums[n] = atoi(fi.name);
            order[n] = nums[n] * 100 + n;
            n++;
        }
    }
    apr_dir_close(d);
    assert_true(n > 0);
    qsort(order, n, sizeof(int), cmp_int);
    for (i = 0; i < n; i++) {
        int k = order[i] % 100;
        char *text = NULL, *p, *stmt;
        apr_file_t *f;
        apr_finfo_t info;
        apr_size_t len;
        const char *path = apr_pstrcat(fx->pool, SCHEMA_DIR, "/", names[k],
                                       NULL);
        assert_int_equal(apr_file_open(&f, path, APR_READ, 0, fx->pool),
                         APR_SUCCESS);
        apr_file_info_get(&info, APR_FINFO_SIZE, f);
        len = (apr_size_t)info.size;
        text = apr_palloc(fx->pool, len + 1);
        apr_file_read_full(f, text, len, &len);
        text[len] = '\0';
        apr_file_close(f);
        stmt = text;
        for (p = text; ; p++) {
            int end = *p == '\0';
            if (end || ((p == text || p[-1] == '\n') && *p == ';'
                        && (p[1] == '\n' || p[1] == '\0'))) {
                char *s = apr_pstrndup(fx->pool, stmt, p - stmt);
                int nrows, rv;
                /* Skip statements of comments only. */
                const char *q = s;
                for (j = 0; *q; ) {
                    q += strspn(q, " \t\r\n");
                    if (q[0] == '-' && q[1] == '-') {
                        q = strchr(q, '\n');
                        if (q == NULL) {
                            break;
                        }
                        continue;
                    }
                    j = *q != '\0';
                    break;
                }
                if (j) {
                    rv = apr_dbd_query(g_driver, fx->handle, &nrows, s);
                    if (rv != 0) {
                        fail_msg("%s: %s", names[k],
                                 apr_dbd_error(g_driver, fx->handle, rv));
                    }
                }
                if (end) {
                    break;
                }
                stmt = p + 1;
            }
        }
        {
            int nrows;
            apr_dbd_query(g_driver, fx->handle, &nrows, apr_psprintf(
                fx->pool, "INSERT INTO cr_schema_version VALUES (%d, '%s', "
                "'test')", nums[k], CR_TEST_DB_APPLIED));
        }
    }
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    apr_hash_t *prepared = NULL;
    const char *label = NULL, *err = NULL;
    int nrows;

    apr_pool_create(&fx->pool, g_pool);
    strcpy(fx->dir, CR_TEST_DB_DIR);
    if (mkdtemp(fx->dir) == NULL) {
        return -1;
    }
    fx->path = apr_pstrcat(fx->pool, fx->dir, "/registry.db", NULL);
    if (apr_dbd_open(g_driver, fx->pool, fx->path, &fx->handle) != 0) {
        return -1;
    }
    apr_dbd_query(g_driver, fx->handle, &nrows, "PRAGMA foreign_keys=ON");
    *state = fx;
    migrate(fx);
    if (cr_db_prepare_catalogue(&prepared, fx->pool, g_driver, fx->handle,
                                &label, &err) != APR_SUCCESS) {
        fail_msg("statement %s does not prepare: %s", label, err);
    }
    fx->db = cr_db_wrap(fx->pool, g_driver, fx->handle, prepared);
#ifdef CR_TEST_DB_INIT
    CR_TEST_DB_INIT(fx);
#endif
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;

    apr_dbd_close(g_driver, fx->handle);
    apr_file_remove(fx->path, fx->pool);
    apr_file_remove(apr_pstrcat(fx->pool, fx->path, "-wal", NULL),
                    fx->pool);
    apr_file_remove(apr_pstrcat(fx->pool, fx->path, "-shm", NULL),
                    fx->pool);
    apr_file_remove(apr_pstrcat(fx->pool, fx->path, "-journal", NULL),
                    fx->pool);
    apr_dir_remove(fx->dir, fx->pool);
    apr_pool_destroy(fx->pool);
    free(fx);
    return 0;
}

#endif /* CR_TEST_DB_H */
