/* cr_identity: who is calling, and whether they are privileged.
 *
 * The caller is identified by a mod_ssl variable of the verified client
 * certificate (ClientRegistryIdentityField, default the subject DN in
 * RFC 2253 order) or, on a location where mod_auth_openidc validated a
 * bearer token (AuthType oauth20), by a claim of that token
 * (ClientRegistryTokenClaims, default client_id), and mapped by the same
 * ClientRegistrySource lines to the organisation (the IG's sender) and
 * the source-system code recorded in provenance and audit.  An
 * unverified or absent certificate or token gives a caller without
 * organisation; whether such a caller may do anything is for Require to
 * decide.  The UserId header names the end user.
 *
 * mod_auth_openidc checks a token's signature and, when present, its exp;
 * the claims it leaves to the application are checked here: exp must be
 * there, nbf must have passed, aud and iss must be the configured ones
 * (ClientRegistryTokenAudience, ClientRegistryTokenIssuer).  Require
 * clientregistry-token (cr_authz.c) answers 401 when they fail.
 *
 * ClientRegistryPrivileged lines (per location, parsed by cr_config) say
 * which callers are privileged (operations.md 0.7: restricted clients
 * unmasked, source details): a source-system code, a token scope, or an
 * ap_expr.  They are evaluated here once per request, into
 * cr_caller_t.privileged, which the output policy (ops/cr_privacy) reads.
 *
 * mod_ssl's ssl_var_lookup is imported here, once, into a file-static
 * pointer; without mod_ssl every certificate caller is anonymous.
 */
#include <stdlib.h>
#include <string.h>

#include "httpd/cr_config.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "core/cr_text.h"
#include "httpd/cr_private.h"

/* mod_auth_openidc's default prefix of the claims it passes on. */
#define CLAIM_ENV "OIDC_CLAIM_"

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

static const cr_dir_conf_t *dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &clientregistry_module);
}

int cr_identity_is_token(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, "oauth20") == 0 && r->user != NULL;
}

/* A claim mod_auth_openidc passed on (OIDCPassClaimsAs environment or
 * both; its default prefix), only for a request it authenticated. */
static const char *claim(request_rec *r, const char *name)
{
    if (!cr_identity_is_token(r)) {
        return NULL;
    }
    return apr_table_get(r->subprocess_env,
                         apr_pstrcat(r->pool, CLAIM_ENV, name, NULL));
}

const char *cr_identity_scopes(request_rec *r)
{
    const cr_dir_conf_t *d = dir_conf(r);

    return d ? claim(r, cr_config_token_scope_claim(d)) : NULL;
}

/* Is word one of the space- (scope) or comma- (aud list) separated
 * values of list? */
static int list_has(const char *list, const char *word, char sep)
{
    apr_size_t n = strlen(word);
    const char *p = list;

    while (p && *p) {
        const char *end = strchr(p, sep);
        apr_size_t len = end ? (apr_size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, word, n) == 0) {
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static int time_claim(request_rec *r, const char *name, apr_int64_t *out)
{
    const char *v = claim(r, name);
    char *end = NULL;

    if (v == NULL || *v == '\0') {
        return 0;
    }
    *out = apr_strtoi64(v, &end, 10);
    return end && (*end == '\0' || *end == '.');
}

const char *cr_identity_token_problem(request_rec *r)
{
    const cr_dir_conf_t *d = dir_conf(r);
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now()), t;
    const char *v, *want;

    if (!cr_identity_is_token(r)) {
        return "no valid bearer token";
    }
    if (!time_claim(r, "exp", &t)) {
        return "the token has no exp";
    }
    if (t < now) {
        return "the token has expired";
    }
    if (time_claim(r, "nbf", &t) && t > now) {
        return "the token is not valid yet";
    }
    if (d && (want = cr_config_token_audience(d)) != NULL) {
        v = claim(r, "aud");
        /* mod_auth_openidc joins an array claim with ','. */
        if (v == NULL || !list_has(v, want, ',')) {
            return "the token is not for this audience";
        }
    }
    if (d && (want = cr_config_token_issuer(d)) != NULL) {
        v = claim(r, "iss");
        if (v == NULL || strcmp(v, want) != 0) {
            return "the token is not from the expected issuer";
        }
    }
    return NULL;
}

/* Does any ClientRegistryPrivileged line of the location match c? */
static int privileged(request_rec *r, const cr_caller_t *c)
{
    const cr_dir_conf_t *d = dir_conf(r);
    const apr_array_header_t *rules = d ? cr_config_privileged(d) : NULL;
    const char *scopes = NULL;
    int i, j;

    if (rules == NULL) {
        return 0;
    }
    if (cr_identity_is_token(r)) {
        if (cr_identity_token_problem(r)) {
            return 0;
        }
        scopes = cr_identity_scopes(r);
    }
    for (i = 0; i < rules->nelts; i++) {
        const cr_config_priv_rule_t *rule =
            APR_ARRAY_IDX(rules, i, cr_config_priv_rule_t *);
        if (rule->kind == CR_CONFIG_PRIV_EXPR) {
            const char *err = NULL;
            int ok = ap_expr_exec(r, rule->expr, &err);
            if (err) {
                ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                              CR_APLOGNO(00306) "ClientRegistryPrivileged "
                              "expr: %s (not privileged)", err);
            }
            else if (ok > 0) {
                return 1;
            }
            continue;
        }
        for (j = 0; j < rule->words->nelts; j++) {
            const char *w = APR_ARRAY_IDX(rule->words, j, const char *);
            if (rule->kind == CR_CONFIG_PRIV_SOURCE
                ? c->source_system && strcmp(c->source_system, w) == 0
                : scopes && list_has(scopes, w, ' ')) {
                return 1;
            }
        }
    }
    return 0;
}

static void map_source(const cr_srv_conf_t *s, cr_caller_t *c,
                       const char *value)
{
    if (value && *value && s->sources) {
        cr_source_map_t *m = apr_hash_get(s->sources, value,
                                          APR_HASH_KEY_STRING);
        if (m) {
            c->org_id = m->org_id;
            c->source_system = m->source;
        }
    }
}

const cr_caller_t *cr_identity_caller(request_rec *r)
{
    cr_req_t *q;
    cr_caller_t *c;
    cr_srv_conf_t *s;
    const cr_dir_conf_t *d;
    const char *verify, *user;

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
        map_source(s, c, ssl_var(r, cr_config_identity_field(s)));
    }
    else if (cr_identity_is_token(r) && cr_identity_token_problem(r) == NULL
             && (d = dir_conf(r)) != NULL) {
        const char *id = claim(r, cr_config_token_id_claim(d));
        if (id && *id && strlen(id) <= 256) {
            c->client_dn = apr_pstrcat(r->pool, "bearer token of ", id,
                                       NULL);
            map_source(s, c, id);
        }
    }
    c->privileged = privileged(r, c);
    user = apr_table_get(r->headers_in, "UserId");
    if (user && *user && strlen(user) <= 256
        && cr_text_utf8_ok(user, strlen(user))) {
        c->user_id = user;
    }
    /* Before authentication has run (httpd asks authorization first
     * without a user) a token's identity is not known yet: kept only
     * once it is. */
    if (ap_auth_type(r) == NULL || r->user != NULL) {
        q->caller = c;
    }
    return c;
}
