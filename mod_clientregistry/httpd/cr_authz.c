/* cr_authz: access control through httpd's Require, and FHIR error bodies
 * for the errors httpd answers itself.
 *
 * Two authorization providers:
 *   Require clientregistry-operation read|write|merge|admin ...
 *       granted when the request asks for one of the listed kinds of
 *       access (reads and searches: read; create, update and the write
 *       operations: write; merges: merge; audit records and other
 *       administration: admin);
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
 * nothing about access.
 *
 * When httpd itself refuses a request below a registry location (a denial,
 * a body over LimitRequestBody, a timeout), the error body is replaced by
 * an OperationOutcome with a FHIR content type.
 */
#include <string.h>

#include <mod_auth.h>
#include <util_filter.h>

#include "ops/cr_ops.h"
#include "httpd/cr_private.h"

#define ERROR_CTYPE_FILTER "CR_ERROR_CTYPE"

static const char *const perm_names[] = {
    "read", "write", "merge", "admin", NULL
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
                                " '%s' is not read, write, merge or admin",
                                word);
        }
    }
    if (*mask == 0) {
        return "Require clientregistry-operation needs at least one of "
               "read, write, merge, admin";
    }
    *parsed = mask;
    return NULL;
}

static authz_status check_operations(request_rec *r, const char *line,
                                     const void *parsed)
{
    const int *mask = parsed;
    int perm = CR_PERM_READ;

    (void)line;
    if (cr_handler_permission(r, &perm) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CR_APLOGNO(00300)
                      "Require clientregistry-operation outside a "
                      "ClientRegistry location: denied");
        return AUTHZ_DENIED;
    }
    if (*mask & (1 << perm)) {
        return AUTHZ_GRANTED;
    }
    apr_table_setn(r->notes, "cr-denied", perm_names[perm]);
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
    if (apr_table_get(r->notes, "cr-denied") == NULL) {
        apr_table_setn(r->notes, "cr-denied", "source");
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
    apr_table_setn(r->notes, "cr-token-problem", problem);
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
    if (apr_table_get(r->notes, "cr-denied") == NULL) {
        apr_table_setn(r->notes, "cr-denied", "scope");
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
    (void)line;
    (void)parsed;
    if (needs_user(r)) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (cr_identity_caller(r)->privileged) {
        return AUTHZ_GRANTED;
    }
    if (apr_table_get(r->notes, "cr-denied") == NULL) {
        apr_table_setn(r->notes, "cr-denied", "privileged");
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

static apr_status_t error_ctype_filter(ap_filter_t *f,
                                       apr_bucket_brigade *bb)
{
    ap_set_content_type(f->r, "application/fhir+json; charset=utf-8");
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static const char *issue_code(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED:
        return "login";
    case HTTP_FORBIDDEN:
        return "forbidden";
    case HTTP_NOT_FOUND:
        return "not-found";
    case HTTP_METHOD_NOT_ALLOWED:
        return "not-supported";
    case HTTP_REQUEST_TIME_OUT:
        return "timeout";
    case HTTP_REQUEST_ENTITY_TOO_LARGE:
        return "too-long";
    case HTTP_SERVICE_UNAVAILABLE:
        return "transient";
    default:
        return status >= 500 ? "exception" : "invalid";
    }
}

static void insert_error_filter(request_rec *r)
{
    cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                            &clientregistry_module);
    cr_outcome_t *oc;
    const char *denied, *text;

    if (d == NULL || d->enabled != 1 || r->status < 400) {
        return;
    }
    oc = cr_outcome_make(r->pool);
    denied = apr_table_get(r->notes, "cr-denied");
    if (r->status == HTTP_FORBIDDEN) {
        text = denied && strcmp(denied, "source") != 0
               && strcmp(denied, "scope") != 0
               && strcmp(denied, "privileged") != 0
               ? apr_psprintf(r->pool, "access denied: this client may not "
                              "make %s requests here", denied)
               : "access denied: this client is not allowed here";
    }
    else if (r->status == HTTP_UNAUTHORIZED) {
        const char *problem = apr_table_get(r->notes, "cr-token-problem");
        text = apr_pstrcat(r->pool, "authentication required: a valid "
                           "bearer token", problem ? " (" : "", problem,
                           problem ? ")" : "", NULL);
    }
    else {
        text = apr_psprintf(r->pool, "the server refused the request (%d)",
                            r->status);
    }
    cr_outcome_add(oc, r->status >= 500 ? CR_SEV_FATAL : CR_SEV_ERROR,
                   issue_code(r->status), NULL, NULL, "%s", text);
    /* A string that is neither a URL nor a path is sent as the body. */
    ap_custom_response(r, r->status,
                       cr_json_serialize(r->pool,
                                         cr_outcome_to_json(r->pool, oc),
                                         NULL));
    ap_add_output_filter(ERROR_CTYPE_FILTER, NULL, r, r->connection);
}

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
    ap_register_output_filter(ERROR_CTYPE_FILTER, error_ctype_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}
