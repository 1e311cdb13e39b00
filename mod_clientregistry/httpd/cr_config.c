/* cr_config: directives, create/merge and the effective settings.
 *
 * Every field starts unset (-1 or NULL) in one constructor used by both
 * create and merge; merge takes the child's value when set, else the
 * parent's; defaults are applied only in cr_config_settings, so a
 * <Location> inside another inherits what it does not set itself.
 */
#include <stdlib.h>

#include "httpd/cr_private.h"
#include "store/cr_sql.h"

/* Defaults (docs/directives.md lists them too; t/unit checks both). */
#define DEF_MAX_BODY (1024 * 1024)
#define DEF_MAX_DEPTH 32
#define DEF_MAX_STRING 65536
#define DEF_MAX_REPEATS 100
#define DEF_MAX_PARAMS 20
#define DEF_PAGE_SIZE 20
#define DEF_MAX_PAGE_SIZE 100
#define DEF_MAX_CANDIDATES 1000
#define DEF_PHN_FIRST APR_INT64_C(0)
#define DEF_PHN_LAST APR_INT64_C(99999999)

static cr_dir_conf_t *dir_new(apr_pool_t *p)
{
    cr_dir_conf_t *d = apr_pcalloc(p, sizeof(*d));

    d->enabled = -1;
    d->base_path = NULL;
    d->base_url = NULL;
    d->max_body = -1;
    d->max_depth = -1;
    d->max_string = -1;
    d->max_repeats = -1;
    d->max_params = -1;
    d->page_size = -1;
    d->max_page_size = -1;
    d->max_candidates = -1;
    d->client_ids = -1;
    d->match_certain = -1.0;
    d->match_probable = -1.0;
    d->match_possible = -1.0;
    return d;
}

void *cr_config_dir_create(apr_pool_t *p, char *dir)
{
    (void)dir;
    return dir_new(p);
}

#define PICK(f, unset) (add->f != (unset) ? add->f : base->f)

void *cr_config_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    const cr_dir_conf_t *base = basev, *add = addv;
    cr_dir_conf_t *d = dir_new(p);

    d->enabled = PICK(enabled, -1);
    /* The base path belongs with the enabling directive. */
    d->base_path = add->enabled != -1 ? add->base_path : base->base_path;
    d->base_url = PICK(base_url, NULL);
    d->max_body = PICK(max_body, -1);
    d->max_depth = PICK(max_depth, -1);
    d->max_string = PICK(max_string, -1);
    d->max_repeats = PICK(max_repeats, -1);
    d->max_params = PICK(max_params, -1);
    d->page_size = PICK(page_size, -1);
    d->max_page_size = PICK(max_page_size, -1);
    d->max_candidates = PICK(max_candidates, -1);
    d->client_ids = PICK(client_ids, -1);
    d->access = cr_identity_merge(p, base->access, add->access);
    /* The three thresholds are set together, so they merge together. */
    if (add->match_certain >= 0.0) {
        d->match_certain = add->match_certain;
        d->match_probable = add->match_probable;
        d->match_possible = add->match_possible;
    }
    else {
        d->match_certain = base->match_certain;
        d->match_probable = base->match_probable;
        d->match_possible = base->match_possible;
    }
    return d;
}

static cr_srv_conf_t *srv_new(apr_pool_t *p)
{
    cr_srv_conf_t *s = apr_pcalloc(p, sizeof(*s));

    s->prepared = 0;
    s->identity_field = NULL;
    s->sources = NULL;
    s->phn_first = -1;
    s->phn_last = -1;
    s->schema_ok = 0;
    return s;
}

void *cr_config_srv_create(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return srv_new(p);
}

void *cr_config_srv_merge(apr_pool_t *p, void *basev, void *addv)
{
    const cr_srv_conf_t *base = basev, *add = addv;
    cr_srv_conf_t *s = srv_new(p);

    s->prepared = add->prepared;
    s->identity_field = PICK(identity_field, NULL);
    s->sources = PICK(sources, NULL);
    s->phn_first = PICK(phn_first, -1);
    s->phn_last = PICK(phn_last, -1);
    s->callbacks = PICK(callbacks, NULL);
    s->retry_base = PICK(retry_base, 0);
    s->retry_max = PICK(retry_max, 0);
    return s;
}

#define DEF(v, d) ((v) >= 0 ? (v) : (d))

void cr_config_settings(cr_settings_t *out, request_rec *r,
                        const cr_dir_conf_t *d, const cr_srv_conf_t *s)
{
    const char *base = d->base_url;

    if (base == NULL) {
        base = ap_construct_url(r->pool, d->base_path ? d->base_path : "",
                                r);
    }
    out->base_url = base;
    out->json.max_depth = DEF(d->max_depth, DEF_MAX_DEPTH);
    out->json.max_string = (apr_size_t)DEF(d->max_string, DEF_MAX_STRING);
    out->json.max_array = (apr_size_t)DEF(d->max_repeats, DEF_MAX_REPEATS)
                          * 10;
    out->fhir.max_repeats = DEF(d->max_repeats, DEF_MAX_REPEATS);
    out->fhir.max_string = (apr_size_t)DEF(d->max_string, DEF_MAX_STRING);
    out->search.max_params = DEF(d->max_params, DEF_MAX_PARAMS);
    out->search.max_values = 10;
    out->search.default_count = DEF(d->page_size, DEF_PAGE_SIZE);
    out->search.max_count = DEF(d->max_page_size, DEF_MAX_PAGE_SIZE);
    if (out->search.default_count > out->search.max_count) {
        out->search.default_count = out->search.max_count;
    }
    out->search.max_candidates = DEF(d->max_candidates, DEF_MAX_CANDIDATES);
    out->phn_range.first = s->phn_first >= 0 ? s->phn_first : DEF_PHN_FIRST;
    out->phn_range.last = s->phn_last >= 0 ? s->phn_last : DEF_PHN_LAST;
    out->allow_client_ids = d->client_ids > 0;
    if (d->match_certain >= 0.0) {
        out->match.certain = d->match_certain;
        out->match.probable = d->match_probable;
        out->match.possible = d->match_possible;
    }
    else {
        out->match.certain = CR_MATCH_DEFAULT_CERTAIN;
        out->match.probable = CR_MATCH_DEFAULT_PROBABLE;
        out->match.possible = CR_MATCH_DEFAULT_POSSIBLE;
    }
}

apr_off_t cr_config_max_body(const cr_dir_conf_t *d)
{
    return d->max_body >= 0 ? d->max_body : DEF_MAX_BODY;
}

static const char *set_enabled(cmd_parms *cmd, void *dv, int on)
{
    cr_dir_conf_t *d = dv;
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    const cr_sql_stmt_t *const *part;
    const cr_sql_stmt_t *st;

    d->enabled = on;
    d->base_path = cmd->path ? apr_pstrdup(cmd->pool, cmd->path) : "";
    if (d->base_path[0] && d->base_path[strlen(d->base_path) - 1] == '/') {
        char *copy = apr_pstrdup(cmd->pool, d->base_path);
        copy[strlen(copy) - 1] = '\0';
        d->base_path = copy;
    }
    if (!on || s->prepared) {
        return NULL;
    }
    if (cr_dbd_prepare_fn == NULL) {
        cr_dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    }
    if (cr_dbd_prepare_fn == NULL) {
        return "ClientRegistry needs mod_dbd: put 'LoadModule dbd_module "
               "...' before this directive and configure DBDriver and "
               "DBDParams";
    }
    /* mod_dbd prepares these on every connection it opens. */
    for (part = cr_sql_catalogues; *part; part++) {
        for (st = *part; st->label; st++) {
            cr_dbd_prepare_fn(cmd->server, st->sql, st->label);
        }
    }
    s->prepared = 1;
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *dv, const char *arg)
{
    cr_dir_conf_t *d = dv;
    apr_uri_t u;
    apr_size_t n = strlen(arg);

    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme
        || !u.hostname || (strcmp(u.scheme, "http") != 0
                           && strcmp(u.scheme, "https") != 0)
        || u.query || u.fragment) {
        return "ClientRegistryBaseURL must be an absolute http(s) URL "
               "without query or fragment";
    }
    if (n > 0 && arg[n - 1] == '/') {
        arg = apr_pstrndup(cmd->pool, arg, n - 1);
    }
    d->base_url = arg;
    return NULL;
}

static const char *set_int(cmd_parms *cmd, void *dv, const char *arg)
{
    char *end = NULL;
    long v = strtol(arg, &end, 10);
    int off = (int)(apr_uintptr_t)cmd->info;
    long lo = 1, hi = 100000000;

    if (*arg == '\0' || *end != '\0' || v < lo || v > hi) {
        return apr_psprintf(cmd->pool, "%s takes a whole number from %ld "
                            "to %ld", cmd->directive->directive, lo, hi);
    }
    *(int *)((char *)dv + off) = (int)v;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dv, const char *arg)
{
    cr_dir_conf_t *d = dv;
    char *end = NULL;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < 1024
        || v > APR_INT64_C(1073741824)) {
        return "ClientRegistryMaxBodySize takes a size in bytes from 1024 "
               "to 1073741824";
    }
    d->max_body = (apr_off_t)v;
    return NULL;
}

static const char *set_client_ids(cmd_parms *cmd, void *dv, int on)
{
    cr_dir_conf_t *d = dv;

    (void)cmd;
    d->client_ids = on;
    return NULL;
}

static const char *set_phn_range(cmd_parms *cmd, void *dv, const char *a,
                                 const char *b)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE);
    char *e1 = NULL, *e2 = NULL;
    apr_int64_t first, last;

    (void)dv;
    if (err) {
        return err;
    }
    first = apr_strtoi64(a, &e1, 10);
    last = apr_strtoi64(b, &e2, 10);
    if (*a == '\0' || *b == '\0' || *e1 || *e2 || first < 0 || last < first
        || last > APR_INT64_C(99999999)) {
        return "ClientRegistryPHNRange takes two PHN bodies (the 8 digits "
               "between the leading 9 and the check digit), first <= last, "
               "from 0 to 99999999";
    }
    s->phn_first = first;
    s->phn_last = last;
    return NULL;
}

/* A score threshold: a decimal from 0 to 1. */
static int parse_score(double *out, const char *arg)
{
    char *end = NULL;
    double v = strtod(arg, &end);

    if (*arg == '\0' || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
        return 0;
    }
    *out = v;
    return 1;
}

static const char *set_match_thresholds(cmd_parms *cmd, void *dv,
                                        const char *certain,
                                        const char *probable,
                                        const char *possible)
{
    cr_dir_conf_t *d = dv;
    double c, pr, po;

    (void)cmd;
    if (!parse_score(&c, certain) || !parse_score(&pr, probable)
        || !parse_score(&po, possible) || c < pr || pr < po || c <= 0.0) {
        return "ClientRegistryMatchThresholds takes three scores from 0 "
               "to 1, certain >= probable >= possible, certain above 0";
    }
    d->match_certain = c;
    d->match_probable = pr;
    d->match_possible = po;
    return NULL;
}

#define INT_DIRECTIVE(name, field, help) \
    AP_INIT_TAKE1(name, set_int, \
                  (void *)APR_OFFSETOF(cr_dir_conf_t, field), \
                  RSRC_CONF | ACCESS_CONF, help)

const command_rec cr_config_cmds[] = {
    AP_INIT_FLAG("ClientRegistry", set_enabled, NULL, ACCESS_CONF,
                 "On to serve the Client Registry FHIR API at this "
                 "<Location> (its path is the FHIR base)"),
    AP_INIT_TAKE1("ClientRegistryBaseURL", set_base_url, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "Public base URL used in fullUrl, Location and links"),
    AP_INIT_TAKE1("ClientRegistryMaxBodySize", set_max_body, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "Largest request body in bytes (default 1048576)"),
    INT_DIRECTIVE("ClientRegistryMaxJSONDepth", max_depth,
                  "Deepest JSON nesting accepted (default 32)"),
    INT_DIRECTIVE("ClientRegistryMaxStringLength", max_string,
                  "Longest JSON string in bytes (default 65536)"),
    INT_DIRECTIVE("ClientRegistryMaxRepeats", max_repeats,
                  "Most elements in one repeating element (default 100)"),
    INT_DIRECTIVE("ClientRegistryMaxSearchParams", max_params,
                  "Most parameters in one search (default 20)"),
    INT_DIRECTIVE("ClientRegistryPageSize", page_size,
                  "Search page size when _count is absent (default 20)"),
    INT_DIRECTIVE("ClientRegistryMaxPageSize", max_page_size,
                  "Largest _count honoured (default 100)"),
    INT_DIRECTIVE("ClientRegistrySearchCandidates", max_candidates,
                  "Most candidate records one search may examine "
                  "(default 1000)"),
    AP_INIT_FLAG("ClientRegistryClientIds", set_client_ids, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On to let PUT create a Patient with a client-chosen id "
                 "(default Off)"),
    AP_INIT_TAKE1("ClientRegistryIdentityField", cr_identity_set_field, NULL,
                  RSRC_CONF,
                  "The mod_ssl variable that names a client (default "
                  "SSL_CLIENT_S_DN)"),
    AP_INIT_TAKE3("ClientRegistrySource", cr_identity_add_source, NULL,
                  RSRC_CONF,
                  "A client identity (value of ClientRegistryIdentityField), "
                  "its organisation code and its source-system code"),
    AP_INIT_RAW_ARGS("ClientRegistryPrivileged", cr_identity_set_privileged,
                     NULL, RSRC_CONF | ACCESS_CONF,
                     "Who sees restricted clients unmasked and source "
                     "details: source CODE..., scope SCOPE... or expr "
                     "EXPR (any line that matches)"),
    AP_INIT_TAKE12("ClientRegistryTokenClaims", cr_identity_set_token_claims,
                   NULL, RSRC_CONF | ACCESS_CONF,
                   "The bearer token claims naming the client (mapped by "
                   "ClientRegistrySource) and holding its scopes (default "
                   "client_id scope)"),
    AP_INIT_TAKE1("ClientRegistryTokenAudience",
                  cr_identity_set_token_audience, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The aud a bearer token must carry"),
    AP_INIT_TAKE1("ClientRegistryTokenIssuer", cr_identity_set_token_issuer,
                  NULL, RSRC_CONF | ACCESS_CONF,
                  "The iss a bearer token must carry"),
    AP_INIT_TAKE3("ClientRegistryMatchThresholds", set_match_thresholds,
                  NULL, RSRC_CONF | ACCESS_CONF,
                  "Lowest match scores (0 to 1) graded certain, probable "
                  "and possible (default 0.99 0.5 0.05)"),
    AP_INIT_TAKE2("ClientRegistryCallback", cr_async_set_callback, NULL,
                  RSRC_CONF, "organisation code and callback base URL of "
                  "its asynchronous responses"),
    AP_INIT_TAKE2("ClientRegistryCallbackRetry", cr_async_set_retry, NULL,
                  RSRC_CONF, "first retry delay in seconds and number of "
                  "delivery attempts of asynchronous responses"),
    AP_INIT_TAKE2("ClientRegistryPHNRange", set_phn_range, NULL, RSRC_CONF,
                  "First and last PHN body the registry may assign "
                  "(default 0 99999999)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};
