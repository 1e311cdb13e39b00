/* mod_clientregistry: the module record, its hooks and the services it
 * imports from other modules (mod_dbd, mod_ssl).  Nothing else lives here.
 */
#define CR_MODULE_MAIN
#include <string.h>

#include <apr_global_mutex.h>
#include <mpm_common.h>
#include <util_mutex.h>

#include "core/cr_datetime.h"
#include "httpd/cr_private.h"

APR_DECLARE_OPTIONAL_FN(char *, ssl_var_lookup,
                        (apr_pool_t *, server_rec *, conn_rec *,
                         request_rec *, char *));

APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *cr_dbd_acquire_fn = NULL;
APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *cr_dbd_prepare_fn = NULL;
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_var_fn = NULL;

char *cr_ssl_var(request_rec *r, const char *name)
{
    if (ssl_var_fn == NULL) {
        return NULL;
    }
    return ssl_var_fn(r->pool, r->server, r->connection, r,
                      (char *)name);
}

/* SQLite writers of all children take this lock before BEGIN (cr_db.h
 * says why).  Created in post_config, reopened in child_init, read-only
 * afterwards. */
#define WRITE_MUTEX_TYPE "clientregistry-write"
static apr_global_mutex_t *write_mutex = NULL;

static apr_status_t write_lock(void *baton, int acquire)
{
    (void)baton;
    return acquire ? apr_global_mutex_lock(write_mutex)
                   : apr_global_mutex_unlock(write_mutex);
}

cr_db_t *cr_glue_db(apr_pool_t *pool, ap_dbd_t *dbd)
{
    cr_db_t *db = cr_db_wrap(pool, dbd->driver, dbd->handle, dbd->prepared);

    if (db->is_sqlite && write_mutex) {
        db->write_lock = write_lock;
    }
    return db;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    ap_mutex_register(pconf, WRITE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
    return OK;
}

static void optional_fn_retrieve(void)
{
    cr_dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    cr_dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    ssl_var_fn = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* optional_fn_retrieve runs after post_config: look now as well. */
    optional_fn_retrieve();
    if (ap_global_mutex_create(&write_mutex, NULL, WRITE_MUTEX_TYPE, NULL,
                               s, pconf, 0) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (cr_dbd_acquire_fn == NULL) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CR_APLOGNO(00007)
                     "mod_dbd is not loaded: ClientRegistry locations will "
                     "answer 503");
    }
    if (ssl_var_fn == NULL) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00008)
                     "mod_ssl is not loaded: client certificates will not "
                     "be recorded");
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00009)
                 "mod_clientregistry %s ready (schema version %d)",
                 CR_VERSION, CR_SCHEMA_VERSION);
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    if (write_mutex) {
        apr_status_t rv = apr_global_mutex_child_init(
            &write_mutex, apr_global_mutex_lockfile(write_mutex), pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CR_APLOGNO(00010)
                         "cannot attach to the write lock in this child");
        }
    }
    cr_worker_child_init(pchild, s);
    cr_async_child_init(pchild, s);
}

/* Every request below a registry location is audited: writes already were,
 * inside their transaction; everything else (reads, searches, rejections,
 * denials by Require) goes to the batch writer. */
static int log_transaction(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    const cr_caller_t *c;
    cr_audit_rec_t rec;
    const char *op, *unmasked;
    char now[32];

    if (d == NULL || d->enabled != 1 || r->main || r->prev) {
        return DECLINED;
    }
    unmasked = apr_table_get(r->notes, "cr-unmasked");
    /* Writes were audited with their transaction; a response that showed
     * restricted clients unmasked gets its own record all the same. */
    if (apr_table_get(r->notes, "cr-audited") && unmasked == NULL) {
        return DECLINED;
    }
    c = cr_identity_caller(r);
    memset(&rec, 0, sizeof(rec));
    op = apr_table_get(r->notes, "cr-operation");
    if (op == NULL) {
        op = r->status == HTTP_FORBIDDEN ? "denied" : "rejected";
    }
    cr_datetime_format_instant(now, sizeof(now), r->request_time);
    rec.recorded = now;
    rec.action = apr_table_get(r->notes, "cr-action");
    if (rec.action == NULL) {
        rec.action = r->method_number == M_GET ? "R" : "E";
    }
    /* The audit record of a response that showed restricted clients to a
     * privileged caller: "<operation>+unmasked=<ids>" (operations.md 0.7;
     * docs/security.md). */
    rec.operation = unmasked
                    ? apr_pstrcat(r->pool, op, "+unmasked=", unmasked, NULL)
                    : op;
    rec.method = r->method;
    rec.path = r->uri;
    rec.query = r->args;
    rec.status = r->status;
    rec.client_dn = c->client_dn;
    rec.org_id = c->org_id;
    rec.source_system = c->source_system;
    rec.user_id = c->user_id;
    rec.remote_addr = r->useragent_ip;
    rec.message_id = apr_table_get(r->notes, "cr-message-id");
    rec.patients = apr_table_get(r->notes, "cr-patients");
    cr_worker_audit(r, &rec);
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_optional_fn_retrieve(optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cr_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 110)
    ap_hook_child_stopping(cr_async_child_stopping, NULL, NULL,
                           APR_HOOK_MIDDLE);
#endif
    ap_hook_log_transaction(log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    cr_authz_register(p);
}

AP_DECLARE_MODULE(clientregistry) = {
    STANDARD20_MODULE_STUFF,
    cr_config_dir_create,
    cr_config_dir_merge,
    cr_config_srv_create,
    cr_config_srv_merge,
    cr_config_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
