/* cr_dbd: mod_dbd's optional functions, the connection wrap with the
 * cross-process write lock, and the schema-readiness check (see
 * cr_dbd.h for why these three live together). */
#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>

#include <mpm_common.h>
#include <util_mutex.h>

#include "httpd/cr_dbd.h"
#include "httpd/cr_version.h"
#include "store/cr_store.h"

/* mod_dbd's services: written in cr_dbd_retrieve, read afterwards. */
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *acquire_fn = NULL;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *open_fn = NULL;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *close_fn = NULL;

/* SQLite writers of all children take this lock before BEGIN (cr_db.h
 * says why).  Created in post_config, reopened in child_init, read-only
 * afterwards. */
#define WRITE_MUTEX_TYPE "clientregistry-write"
static apr_global_mutex_t *write_mutex = NULL;

/* server_rec * -> apr_uint32_t, 1 once that server's database was found
 * to have our schema.  Per server, because a virtual host may have a
 * database of its own (DBDParams); per process, because a child learns
 * it by asking.  The hash is built in child_init and only read
 * afterwards; the flags are set atomically. */
static apr_hash_t *schema_ok = NULL;

void cr_dbd_retrieve(void)
{
    acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
}

void cr_dbd_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, WRITE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

int cr_dbd_post_config(apr_pool_t *pconf, server_rec *s)
{
    if (ap_global_mutex_create(&write_mutex, NULL, WRITE_MUTEX_TYPE, NULL,
                               s, pconf, 0) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (acquire_fn == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CR_APLOGNO(00007)
                     "mod_dbd is not loaded: ClientRegistry locations will "
                     "answer 503");
    }
    return OK;
}

void cr_dbd_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *sv;

    if (write_mutex) {
        apr_status_t rv = apr_global_mutex_child_init(
            &write_mutex, apr_global_mutex_lockfile(write_mutex), pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CR_APLOGNO(00010)
                         "cannot attach to the write lock in this child");
        }
    }
    schema_ok = apr_hash_make(pchild);
    for (sv = s; sv; sv = sv->next) {
        apr_hash_set(schema_ok, apr_pmemdup(pchild, &sv, sizeof(sv)),
                     sizeof(sv), apr_pcalloc(pchild, sizeof(apr_uint32_t)));
    }
}

static apr_status_t write_lock(void *baton, int acquire)
{
    (void)baton;
    return acquire ? apr_global_mutex_lock(write_mutex)
                   : apr_global_mutex_unlock(write_mutex);
}

static cr_db_t *wrap(apr_pool_t *pool, ap_dbd_t *dbd)
{
    cr_db_t *db = cr_db_wrap(pool, dbd->driver, dbd->handle, dbd->prepared);

    if (db->is_sqlite && write_mutex) {
        db->write_lock = write_lock;
    }
    db->conn_pool = dbd->pool;
    return db;
}

cr_db_t *cr_dbd_acquire(request_rec *r)
{
    ap_dbd_t *dbd;

    if (acquire_fn == NULL || (dbd = acquire_fn(r)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00002)
                      "no database connection from mod_dbd (check DBDriver "
                      "and DBDParams)");
        return NULL;
    }
    return wrap(r->pool, dbd);
}

cr_db_t *cr_dbd_open(ap_dbd_t **conn, apr_pool_t *pool, server_rec *s)
{
    *conn = NULL;
    if (open_fn == NULL || close_fn == NULL
        || (*conn = open_fn(pool, s)) == NULL) {
        return NULL;
    }
    return wrap(pool, *conn);
}

void cr_dbd_close(server_rec *s, ap_dbd_t *conn)
{
    if (close_fn && conn) {
        close_fn(s, conn);
    }
}

int cr_dbd_schema_ready(cr_db_t *db, apr_pool_t *pool, server_rec *s,
                        request_rec *r)
{
    apr_uint32_t *ok = schema_ok ? apr_hash_get(schema_ok, &s, sizeof(s))
                                 : NULL;
    int version = 0, complete = 0;
    apr_status_t rv;

    if (ok && apr_atomic_read32(ok)) {
        return 1;
    }
    rv = cr_store_schema_version(&version, &complete, db, pool);
    if (rv != APR_SUCCESS) {
        if (r) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00001)
                          "cannot read the schema version (%s); create the "
                          "database with 'cr-admin init'",
                          db->last_error ? db->last_error : "?");
        }
        return 0;
    }
    if (!complete) {
        if (r) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CR_APLOGNO(00006)
                          "database schema version %d is not the version "
                          "this module serves (%d, migrations %s); run "
                          "'cr-admin migrate'", version, CR_SCHEMA_VERSION,
                          CR_SCHEMA_MIGRATIONS);
        }
        return 0;
    }
    if (ok) {
        apr_atomic_set32(ok, 1);
    }
    return 1;
}
