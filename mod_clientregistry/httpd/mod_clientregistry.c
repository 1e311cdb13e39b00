/* mod_clientregistry: the module record, its hooks and the audit record
 * of each request.  The services imported from other modules live with
 * their users (cr_dbd: mod_dbd; cr_identity: mod_ssl).
 */
#define CR_MODULE_MAIN
#include <string.h>

#include <mpm_common.h>

#include "core/cr_datetime.h"
#include "httpd/cr_async.h"
#include "httpd/cr_authz.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_handler.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "httpd/cr_version.h"
#include "httpd/cr_worker.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    cr_dbd_pre_config(pconf);
    return OK;
}

static void optional_fn_retrieve(void)
{
    cr_dbd_retrieve();
    cr_identity_retrieve();
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    int rc;

    (void)plog;
    (void)ptemp;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    /* optional_fn_retrieve runs after post_config: look now as well. */
    optional_fn_retrieve();
    if ((rc = cr_dbd_post_config(pconf, s)) != OK) {
        return rc;
    }
    cr_identity_post_config(s);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00009)
                 "mod_clientregistry %s ready (schema version %d)",
                 CR_VERSION, CR_SCHEMA_VERSION);
    return OK;
}

/* The write lock first: the threads started next may write at once. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    cr_dbd_child_init(pchild, s);
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
    const cr_req_t *q;
    const cr_caller_t *c;
    cr_audit_rec_t rec;
    const char *op;
    char now[32];

    if (d == NULL || d->enabled != 1 || r->main || r->prev) {
        return DECLINED;
    }
    q = cr_req_get(r);
    if (q->audited) {
        return DECLINED;
    }
    c = cr_identity_caller(r);
    memset(&rec, 0, sizeof(rec));
    op = q->operation;
    if (op == NULL) {
        op = r->status == HTTP_FORBIDDEN ? "denied" : "rejected";
    }
    cr_datetime_format_instant(now, sizeof(now), r->request_time);
    rec.recorded = now;
    rec.action = q->action;
    if (rec.action == NULL) {
        rec.action = r->method_number == M_GET ? "R" : "E";
    }
    rec.operation = op;
    rec.method = r->method;
    rec.path = r->uri;
    rec.query = r->args;
    rec.status = r->status;
    rec.client_dn = c->client_dn;
    rec.org_id = c->org_id;
    rec.source_system = c->source_system;
    rec.user_id = c->user_id;
    rec.remote_addr = r->useragent_ip;
    rec.message_id = q->message_id;
    rec.patients = q->patients;
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
