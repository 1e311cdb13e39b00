/* cr_identity: who is calling.
 *
 * The caller is identified by a mod_ssl variable of the verified client
 * certificate (ClientRegistryIdentityField, default the subject DN in
 * RFC 2253 order) and mapped by ClientRegistrySource lines to the
 * organisation (the IG's sender) and the source-system code recorded in
 * provenance and audit.  An unverified or absent certificate gives a
 * caller without organisation; whether such a caller may do anything is
 * for Require to decide.  The UserId header names the end user.
 *
 * mod_ssl's ssl_var_lookup is imported here, once, into a file-static
 * pointer; without mod_ssl every caller is anonymous.
 */
#include <string.h>

#include "httpd/cr_config.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "core/cr_text.h"
#include "httpd/cr_private.h"

APR_DECLARE_OPTIONAL_FN(char *, ssl_var_lookup,
                        (apr_pool_t *, server_rec *, conn_rec *,
                         request_rec *, char *));

/* Written in cr_identity_retrieve, read afterwards. */
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_var_fn = NULL;

void cr_identity_retrieve(void)
{
    ssl_var_fn = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
}

void cr_identity_post_config(server_rec *s)
{
    if (ssl_var_fn == NULL) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00008)
                     "mod_ssl is not loaded: client certificates will not "
                     "be recorded");
    }
}

static char *ssl_var(request_rec *r, const char *name)
{
    if (ssl_var_fn == NULL) {
        return NULL;
    }
    return ssl_var_fn(r->pool, r->server, r->connection, r, (char *)name);
}

const cr_caller_t *cr_identity_caller(request_rec *r)
{
    cr_req_t *q;
    cr_caller_t *c;
    cr_srv_conf_t *s;
    const char *verify, *user, *field, *value;

    q = cr_req_get(r);
    if (q->caller) {
        return q->caller;   /* computed once per request (authz, handler,
                               log) */
    }
    c = apr_pcalloc(r->pool, sizeof(*c));
    s = ap_get_module_config(r->server->module_config,
                             &clientregistry_module);
    verify = ssl_var(r, "SSL_CLIENT_VERIFY");
    if (verify && strcmp(verify, "SUCCESS") == 0) {
        c->client_dn = ssl_var(r, "SSL_CLIENT_S_DN");
        field = cr_config_identity_field(s);
        value = ssl_var(r, field);
        if (value && *value && s->sources) {
            cr_source_map_t *m = apr_hash_get(s->sources, value,
                                              APR_HASH_KEY_STRING);
            if (m) {
                c->org_id = m->org_id;
                c->source_system = m->source;
            }
        }
    }
    user = apr_table_get(r->headers_in, "UserId");
    if (user && *user && strlen(user) <= 256
        && cr_text_utf8_ok(user, strlen(user))) {
        c->user_id = user;
    }
    q->caller = c;
    return c;
}
