/* mod_clientregistry: the module record, its hooks and the services it
 * imports from other modules (mod_dbd, mod_ssl).  Nothing else lives here.
 */
#define CR_MODULE_MAIN
#include "cr_private.h"

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

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_optional_fn_retrieve(optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cr_handler, NULL, NULL, APR_HOOK_MIDDLE);
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
