/* cr_authz: access control through httpd's Require.
 *
 * Five authorization providers:
 *   Require clientregistry-operation read|write|merge|admin|subscribe ...
 *       granted when the request asks for one of the listed kinds of
 *       access (reads and searches: read; create, update and the write
 *       operations: write; merges: merge; audit records and other
 *       administration: admin; every Subscription interaction:
 *       subscribe);
 *   Require clientregistry-source CODE ...
 *       granted when the verified client certificate or bearer token maps
 *       (through ClientRegistrySource) to one of the listed source-system
 *       codes;
 *   Require clientregistry-token
 *       (with AuthType oauth20, mod_auth_openidc) granted when the request
 *       carries a bearer token that mod_auth_openidc validated and whose
 *       claims pass ClientRegistryTokenAudience/Issuer, exp and nbf;
 *       otherwise 401 with WWW-Authenticate (put it first in RequireAll);
 *   Require clientregistry-scope SCOPE ...
 *       granted when the bearer token has one of the listed scopes;
 *   Require clientregistry-privileged
 *       granted when the caller is privileged (ClientRegistryPrivileged).
 * Combined with <RequireAll>/<RequireAny>, "Require ssl-verify-client" and
 * "Require expr", they say who may do what; the module itself decides
 * nothing about access.  The route (cr_route) tells which kind of access
 * a request needs; a refusal is noted in the request's cr_req_t, so that
 * the error body (cr_request) can say which kind was refused.
 */
#include <string.h>

#include <mod_auth.h>

#include "ops/cr_ops.h"
#include "httpd/cr_authz.h"
#include "httpd/cr_identity.h"
#include "httpd/cr_req.h"
#include "httpd/cr_route.h"

static const char *const perm_names[] = {
    "read", "write", "merge", "admin", "subscribe", NULL
};

static const char *parse_operations(cmd_parms *cmd, const char *line,
                                    const void **parsed)
{
    int *mask = apr_pcalloc(cmd->pool, sizeof(*mask));
    const char *word, *rest = line;
    int i;

    while (*(word = ap_getword_conf(cmd->temp_pool, &rest))) {
        for (i = 0; perm_names[i]; i++) {
            if (strcmp(word, perm_names[i]) == 0) {
                *mask |= 1 << i;
                break;
            }
        }
        if (perm_names[i] == NULL) {
            return apr_psprintf(cmd->pool, "Require clientregistry-operation:"
                                " '%s' is not read, write, merge, admin or "
                                "subscribe",
                                word);
        }
    }
    if (*mask == 0) {
        return "Require clientregistry-operation needs at least one of "
               "read, write, merge, admin, subscribe";
    }
    *parsed = mask;
    return NULL;
}

static authz_status check_operations(request_rec *r, const char *line,
                                     const void *parsed)
{
    const int *mask = parsed;
    const cr_route_t *rt = cr_route_get(r);
    int perm;

    (void)line;
    if (rt == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CR_APLOGNO(00300)
                      "Require clientregistry-operation outside a "
                      "ClientRegistry location: denied");
        return AUTHZ_DENIED;
    }
    perm = rt->permission;
    if (*mask & (1 << perm)) {
        return AUTHZ_GRANTED;
    }
    cr_req_get(r)->denied = perm_names[perm];
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CR_APLOGNO(00301)
                  "clientregistry-operation: %s access not granted here",
                  perm_names[perm]);
    return AUTHZ_DENIED;
}

/* Before authentication (httpd asks first without a user), a location
 * with an AuthType cannot know a token's identity yet. */
static int needs_user(request_rec *r)
{
    return ap_auth_type(r) != NULL && r->user == NULL;
}

static const char *parse_sources(cmd_parms *cmd, const char *line,
                                 const void **parsed)
{
    apr_array_header_t *codes = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *word, *rest = line;

    while (*(word = ap_getword_conf(cmd->pool, &rest))) {
        APR_ARRAY_PUSH(codes, const char *) = word;
    }
    if (codes->nelts == 0) {
        return "Require clientregistry-source needs source-system codes";
    }
    *parsed = codes;
    return NULL;
}

static authz_status check_sources(request_rec *r, const char *line,
                                  const void *parsed)
{
    const apr_array_header_t *codes = parsed;
    const cr_caller_t *c;
    cr_req_t *q;
    int i;

    (void)line;
    if (needs_user(r)) {
        return AUTHZ_DENIED_NO_USER;
    }
    c = cr_identity_caller(r);
    if (c->source_system) {
        for (i = 0; i < codes->nelts; i++) {
            if (strcmp(APR_ARRAY_IDX(codes, i, const char *),
                       c->source_system) == 0) {
                return AUTHZ_GRANTED;
            }
        }
    }
    q = cr_req_get(r);
    if (q->denied == NULL) {
        q->denied = "source";
    }
    return AUTHZ_DENIED;
}

static authz_status check_token(request_rec *r, const char *line,
                                const void *parsed)
{
    const char *problem;

    (void)line;
    (void)parsed;
    if (r->user == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    problem = cr_identity_token_problem(r);
    if (problem == NULL) {
        return AUTHZ_GRANTED;
    }
    /* RFC 6750 3.1; authorization failing without a user is a 401. */
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool, "Bearer error=\"invalid_token\", "
                                "error_description=\"%s\"", problem));
    cr_req_get(r)->token_problem = problem;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CR_APLOGNO(00307)
                  "bearer token refused: %s", problem);
    r->user = NULL;
    return AUTHZ_DENIED_NO_USER;
}

static const char *parse_words(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    apr_array_header_t *words = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *word, *rest = line;

    while (*(word = ap_getword_conf(cmd->pool, &rest))) {
        APR_ARRAY_PUSH(words, const char *) = word;
    }
    if (words->nelts == 0) {
        return "Require clientregistry-scope needs scopes";
    }
    *parsed = words;
    return NULL;
}

static authz_status check_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const apr_array_header_t *words = parsed;
    const char *scopes;
    cr_req_t *q;
    int i;

    (void)line;
    if (needs_user(r)) {
        return AUTHZ_DENIED_NO_USER;
    }
    scopes = cr_identity_token_problem(r) ? NULL : cr_identity_scopes(r);
    for (i = 0; scopes && i < words->nelts; i++) {
        const char *w = APR_ARRAY_IDX(words, i, const char *);
        const char *p = scopes;
        apr_size_t n = strlen(w);
        while ((p = strstr(p, w)) != NULL) {
            if ((p == scopes || p[-1] == ' ')
                && (p[n] == '\0' || p[n] == ' ')) {
                return AUTHZ_GRANTED;
            }
            p += n;
        }
    }
    q = cr_req_get(r);
    if (q->denied == NULL) {
        q->denied = "scope";
    }
    return AUTHZ_DENIED;
}

static const char *parse_none(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    (void)cmd;
    *parsed = NULL;
    return *line ? "Require clientregistry-privileged takes no arguments "
                   "(ClientRegistryPrivileged says who is)" : NULL;
}

static authz_status check_privileged(request_rec *r, const char *line,
                                     const void *parsed)
{
    cr_req_t *q;

    (void)line;
    (void)parsed;
    if (needs_user(r)) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (cr_identity_caller(r)->privileged) {
        return AUTHZ_GRANTED;
    }
    q = cr_req_get(r);
    if (q->denied == NULL) {
        q->denied = "privileged";
    }
    return AUTHZ_DENIED;
}

static const authz_provider token_provider = {
    &check_token,
    &parse_none
};

static const authz_provider scope_provider = {
    &check_scope,
    &parse_words
};

static const authz_provider privileged_provider = {
    &check_privileged,
    &parse_none
};

static const authz_provider operations_provider = {
    &check_operations,
    &parse_operations
};

static const authz_provider sources_provider = {
    &check_sources,
    &parse_sources
};

void cr_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "clientregistry-operation",
                              AUTHZ_PROVIDER_VERSION, &operations_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "clientregistry-source",
                              AUTHZ_PROVIDER_VERSION, &sources_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "clientregistry-token",
                              AUTHZ_PROVIDER_VERSION, &token_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "clientregistry-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP,
                              "clientregistry-privileged",
                              AUTHZ_PROVIDER_VERSION, &privileged_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
