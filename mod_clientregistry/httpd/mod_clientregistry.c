/* mod_clientregistry: the module record and the wiring of its hooks.
 * Nothing else lives here: each hook's work is done by the glue file
 * that owns it (cr_dbd: mod_dbd and the write lock; cr_identity: mod_ssl;
 * cr_handler; cr_request: error bodies; cr_authz: Require providers;
 * cr_audit_writer: the audit record of every request and its writer;
 * cr_async_worker: the asynchronous operations' worker).  This file defines
 * no symbol but clientregistry_module, so no other glue file depends on
 * it.
 */
#define CR_MODULE_MAIN
#include <mpm_common.h>

#include "httpd/cr_async_worker.h"
#include "httpd/cr_audit_writer.h"
#include "httpd/cr_match_tuner.h"
#include "httpd/cr_authz.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_handler.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_request.h"
#include "httpd/cr_route.h"
#include "httpd/cr_version.h"

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
    {
        server_rec *sv;
        for (sv = s; sv; sv = sv->next) {
            const char *why = cr_config_outbound_check(
                ap_get_module_config(sv->module_config,
                                     &clientregistry_module));
            if (why) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sv,
                             CR_APLOGNO(00522) "%s", why);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00009)
                 "mod_clientregistry %s ready (schema version %d)",
                 CR_VERSION, CR_SCHEMA_VERSION);
    return OK;
}

/* The write lock first: the threads started next may write at once. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    cr_dbd_child_init(pchild, s);
    cr_audit_writer_child_init(pchild, s);
    cr_async_worker_child_init(pchild, s);
    cr_match_tuner_child_init(pchild, s);
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 110)
    ap_hook_child_stopping(cr_async_worker_child_stopping, NULL, NULL,
                           APR_HOOK_MIDDLE);
    ap_hook_child_stopping(cr_match_tuner_child_stopping, NULL, NULL,
                           APR_HOOK_MIDDLE);
#endif
    cr_authz_register(p);
    ap_hook_translate_name(cr_route_translate_name, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_map_to_storage(cr_route_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_handler(cr_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(CR_REQUEST_ERROR_FILTER,
                              cr_request_error_ctype_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(cr_request_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_log_transaction(cr_audit_writer_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
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
