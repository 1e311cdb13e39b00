/* cr_identity: who is calling.
 *
 * The caller is identified by a mod_ssl variable of the verified client
 * certificate (ClientRegistryIdentityField, default the subject DN in
 * RFC 2253 order) and mapped by ClientRegistrySource lines to the
 * organisation (the IG's sender) and the source-system code recorded in
 * provenance and audit.  An unverified or absent certificate gives a
 * caller without organisation; whether such a caller may do anything is
 * for Require to decide.  The UserId header names the end user.
 */
#include <string.h>

#include "core/cr_text.h"
#include "httpd/cr_private.h"

#define DEFAULT_FIELD "SSL_CLIENT_S_DN"

const char *cr_identity_set_field(cmd_parms *cmd, void *dv, const char *a)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    (void)dv;
    if (strncmp(a, "SSL_CLIENT_", 11) != 0) {
        return "ClientRegistryIdentityField takes a mod_ssl client "
               "certificate variable, e.g. SSL_CLIENT_S_DN or "
               "SSL_CLIENT_S_DN_CN";
    }
    s->identity_field = a;
    return NULL;
}

static int code_ok(const char *c)
{
    apr_size_t n = 0;

    for (; c[n]; n++) {
        if (!((c[n] >= 'A' && c[n] <= 'Z') || (c[n] >= 'a' && c[n] <= 'z')
              || (c[n] >= '0' && c[n] <= '9') || c[n] == '_'
              || c[n] == '-')) {
            return 0;
        }
    }
    return n > 0 && n <= 32;
}

const char *cr_identity_add_source(cmd_parms *cmd, void *dv, const char *v,
                                   const char *org, const char *source)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    cr_source_map_t *m;

    (void)dv;
    if (!code_ok(org) || !code_ok(source)) {
        return "ClientRegistrySource: the organisation and source-system "
               "codes are 1 to 32 letters, digits, '_' or '-'";
    }
    if (s->sources == NULL) {
        s->sources = apr_hash_make(cmd->pool);
    }
    if (apr_hash_get(s->sources, v, APR_HASH_KEY_STRING)) {
        return apr_psprintf(cmd->pool, "ClientRegistrySource: '%s' is "
                            "mapped twice", v);
    }
    m = apr_pcalloc(cmd->pool, sizeof(*m));
    m->org_id = org;
    m->source = source;
    apr_hash_set(s->sources, v, APR_HASH_KEY_STRING, m);
    return NULL;
}

const cr_caller_t *cr_identity_caller(request_rec *r)
{
    cr_caller_t *c;
    cr_srv_conf_t *s;
    const char *verify, *user, *field, *value;

    c = ap_get_module_config(r->request_config, &clientregistry_module);
    if (c) {
        return c;   /* computed once per request (authz, handler, log) */
    }
    c = apr_pcalloc(r->pool, sizeof(*c));
    s = ap_get_module_config(r->server->module_config,
                             &clientregistry_module);
    verify = cr_ssl_var(r, "SSL_CLIENT_VERIFY");
    if (verify && strcmp(verify, "SUCCESS") == 0) {
        c->client_dn = cr_ssl_var(r, "SSL_CLIENT_S_DN");
        field = s->identity_field ? s->identity_field : DEFAULT_FIELD;
        value = cr_ssl_var(r, field);
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
    ap_set_module_config(r->request_config, &clientregistry_module, c);
    return c;
}
