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
 * ClientRegistryPrivileged lines (per location) say which callers are
 * privileged (operations.md 0.7: restricted clients unmasked, source
 * details): a source-system code, a token scope, or an ap_expr; the
 * output policy (ops/cr_privacy) reads the result from the caller.
 */
#include <stdlib.h>
#include <string.h>

#include <ap_expr.h>

#include "httpd/cr_private.h"

#define DEFAULT_FIELD "SSL_CLIENT_S_DN"
#define CLAIM_ENV "OIDC_CLAIM_"
#define DEFAULT_ID_CLAIM "client_id"
#define DEFAULT_SCOPE_CLAIM "scope"

typedef enum { PRIV_SOURCE, PRIV_SCOPE, PRIV_EXPR } priv_kind_e;

typedef struct priv_rule_t {
    priv_kind_e kind;
    apr_array_header_t *words;      /* codes or scopes */
    ap_expr_info_t *expr;
} priv_rule_t;

struct cr_access_conf_t {
    apr_array_header_t *privileged; /* of priv_rule_t *, or NULL */
    const char *id_claim;           /* NULL: default */
    const char *scope_claim;
    const char *audience;           /* NULL: not checked */
    const char *issuer;
};

static struct cr_access_conf_t *access_of(cmd_parms *cmd, void *dv)
{
    cr_dir_conf_t *d = dv;

    if (d->access == NULL) {
        d->access = apr_pcalloc(cmd->pool, sizeof(*d->access));
    }
    return d->access;
}

struct cr_access_conf_t *cr_identity_merge(apr_pool_t *p,
                                           struct cr_access_conf_t *base,
                                           struct cr_access_conf_t *add)
{
    struct cr_access_conf_t *m;

    if (base == NULL || add == NULL) {
        return add ? add : base;
    }
    m = apr_pcalloc(p, sizeof(*m));
    m->privileged = add->privileged ? add->privileged : base->privileged;
    m->id_claim = add->id_claim ? add->id_claim : base->id_claim;
    m->scope_claim = add->scope_claim ? add->scope_claim : base->scope_claim;
    m->audience = add->audience ? add->audience : base->audience;
    m->issuer = add->issuer ? add->issuer : base->issuer;
    return m;
}

const char *cr_identity_set_privileged(cmd_parms *cmd, void *dv,
                                       const char *args)
{
    struct cr_access_conf_t *a = access_of(cmd, dv);
    priv_rule_t *rule = apr_pcalloc(cmd->pool, sizeof(*rule));
    const char *rest = args, *kind, *word;

    kind = ap_getword_conf(cmd->pool, &rest);
    if (strcmp(kind, "expr") == 0) {
        const char *err = NULL;
        rule->kind = PRIV_EXPR;
        rule->expr = ap_expr_parse_cmd(cmd, rest, 0, &err, NULL);
        if (err) {
            return apr_pstrcat(cmd->pool, "ClientRegistryPrivileged expr: ",
                               err, NULL);
        }
    }
    else if (strcmp(kind, "source") == 0 || strcmp(kind, "scope") == 0) {
        rule->kind = kind[1] == 'o' ? PRIV_SOURCE : PRIV_SCOPE;
        rule->words = apr_array_make(cmd->pool, 2, sizeof(char *));
        while (*(word = ap_getword_conf(cmd->pool, &rest))) {
            APR_ARRAY_PUSH(rule->words, const char *) = word;
        }
        if (rule->words->nelts == 0) {
            return "ClientRegistryPrivileged source|scope needs at least "
                   "one value";
        }
    }
    else {
        return "ClientRegistryPrivileged takes source CODE..., scope "
               "SCOPE... or expr EXPRESSION";
    }
    if (a->privileged == NULL) {
        a->privileged = apr_array_make(cmd->pool, 2, sizeof(priv_rule_t *));
    }
    APR_ARRAY_PUSH(a->privileged, priv_rule_t *) = rule;
    return NULL;
}

static int claim_name_ok(const char *c)
{
    apr_size_t n;

    for (n = 0; c[n]; n++) {
        if (!((c[n] >= 'A' && c[n] <= 'Z') || (c[n] >= 'a' && c[n] <= 'z')
              || (c[n] >= '0' && c[n] <= '9') || c[n] == '_')) {
            return 0;
        }
    }
    return n > 0 && n <= 64;
}

const char *cr_identity_set_token_claims(cmd_parms *cmd, void *dv,
                                         const char *id, const char *scope)
{
    struct cr_access_conf_t *a = access_of(cmd, dv);

    if (!claim_name_ok(id) || (scope && !claim_name_ok(scope))) {
        return "ClientRegistryTokenClaims: claim names are letters, digits "
               "and '_'";
    }
    a->id_claim = id;
    a->scope_claim = scope;
    return NULL;
}

const char *cr_identity_set_token_audience(cmd_parms *cmd, void *dv,
                                           const char *aud)
{
    access_of(cmd, dv)->audience = aud;
    return NULL;
}

const char *cr_identity_set_token_issuer(cmd_parms *cmd, void *dv,
                                         const char *iss)
{
    access_of(cmd, dv)->issuer = iss;
    return NULL;
}

static const struct cr_access_conf_t *access_conf(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);

    return d ? d->access : NULL;
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
    const struct cr_access_conf_t *a = access_conf(r);

    return claim(r, a && a->scope_claim ? a->scope_claim
                                        : DEFAULT_SCOPE_CLAIM);
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
    const struct cr_access_conf_t *a = access_conf(r);
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now()), t;
    const char *v;

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
    if (a && a->audience) {
        v = claim(r, "aud");
        /* mod_auth_openidc joins an array claim with ','. */
        if (v == NULL || !list_has(v, a->audience, ',')) {
            return "the token is not for this audience";
        }
    }
    if (a && a->issuer) {
        v = claim(r, "iss");
        if (v == NULL || strcmp(v, a->issuer) != 0) {
            return "the token is not from the expected issuer";
        }
    }
    return NULL;
}

static int privileged(request_rec *r, const cr_caller_t *c)
{
    const struct cr_access_conf_t *a = access_conf(r);
    const char *scopes = NULL;
    int i, j;

    if (a == NULL || a->privileged == NULL) {
        return 0;
    }
    if (cr_identity_is_token(r)) {
        if (cr_identity_token_problem(r)) {
            return 0;
        }
        scopes = cr_identity_scopes(r);
    }
    for (i = 0; i < a->privileged->nelts; i++) {
        const priv_rule_t *rule = APR_ARRAY_IDX(a->privileged, i,
                                                priv_rule_t *);
        if (rule->kind == PRIV_EXPR) {
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
            if (rule->kind == PRIV_SOURCE ? c->source_system
                                            && strcmp(c->source_system,
                                                      w) == 0
                                          : scopes && list_has(scopes, w,
                                                               ' ')) {
                return 1;
            }
        }
    }
    return 0;
}

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
    cr_caller_t *c;
    cr_srv_conf_t *s;
    const char *verify, *user, *field;

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
        map_source(s, c, cr_ssl_var(r, field));
    }
    else if (cr_identity_is_token(r)
             && cr_identity_token_problem(r) == NULL) {
        const struct cr_access_conf_t *a = access_conf(r);
        const char *id = claim(r, a && a->id_claim ? a->id_claim
                                                   : DEFAULT_ID_CLAIM);
        if (id && *id && strlen(id) <= 256) {
            c->client_dn = apr_pstrcat(r->pool, "bearer token of ", id,
                                       NULL);
            map_source(s, c, id);
        }
    }
    c->privileged = privileged(r, c);
    user = apr_table_get(r->headers_in, "UserId");
    if (user && *user && strlen(user) <= 256
        && cr_search_utf8_ok(user, strlen(user))) {
        c->user_id = user;
    }
    /* Before authentication has run (httpd asks authorization first
     * without a user) a token's identity is not known yet. */
    if (ap_auth_type(r) == NULL || r->user != NULL) {
        ap_set_module_config(r->request_config, &clientregistry_module, c);
    }
    return c;
}
