/* cr_config: every directive of the module, create/merge, and the
 * effective settings with their defaults.
 *
 * Every field starts unset (CR_CONFIG_UNSET, or NULL for pointers) in one
 * constructor used by both create and merge; merge takes the child's
 * value when set, else the parent's; defaults are applied only by the
 * getters below (cr_config_settings and friends), so a <Location> inside
 * another inherits what it does not set itself.  The defaults are all
 * here; the match thresholds' are CR_MATCH_DEFAULT_* (match/cr_match.h),
 * which the matching service also falls back on when it is given no
 * settings (unit tests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>

#include <ap_expr.h>

#include "httpd/cr_config.h"
#include <mod_dbd.h>
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
#define DEF_IDENTITY_FIELD "SSL_CLIENT_S_DN"
#define DEF_TOKEN_ID_CLAIM "client_id"
#define DEF_TOKEN_SCOPE_CLAIM "scope"
#define DEF_RETRY_BASE 2
#define DEF_RETRY_MAX 10
#define DEF_IDEM_RETENTION APR_INT64_C(604800)

#define UNSET CR_CONFIG_UNSET

/* mod_dbd's statement registry, looked up by the first ClientRegistry
 * directive: directives run before optional_fn_retrieve, so this file
 * keeps its own pointer (as mod_authn_dbd does).  Written and read only
 * while the configuration is read, which is single-threaded. */
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare_fn = NULL;

static cr_dir_conf_t *dir_new(apr_pool_t *p)
{
    cr_dir_conf_t *d = apr_pcalloc(p, sizeof(*d));

    d->enabled = UNSET;
    d->base_path = NULL;
    d->base_url = NULL;
    d->max_body = UNSET;
    d->max_depth = UNSET;
    d->max_string = UNSET;
    d->max_repeats = UNSET;
    d->max_params = UNSET;
    d->page_size = UNSET;
    d->max_page_size = UNSET;
    d->max_candidates = UNSET;
    d->client_ids = UNSET;
    d->match_certain = UNSET;
    d->match_probable = UNSET;
    d->match_possible = UNSET;
    d->privileged = NULL;
    d->token_id_claim = NULL;
    d->token_scope_claim = NULL;
    d->token_audience = NULL;
    d->token_issuer = NULL;
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

    d->enabled = PICK(enabled, UNSET);
    /* The base path belongs with the enabling directive. */
    d->base_path = add->enabled != UNSET ? add->base_path : base->base_path;
    d->base_url = PICK(base_url, NULL);
    d->max_body = PICK(max_body, UNSET);
    d->max_depth = PICK(max_depth, UNSET);
    d->max_string = PICK(max_string, UNSET);
    d->max_repeats = PICK(max_repeats, UNSET);
    d->max_params = PICK(max_params, UNSET);
    d->page_size = PICK(page_size, UNSET);
    d->max_page_size = PICK(max_page_size, UNSET);
    d->max_candidates = PICK(max_candidates, UNSET);
    d->client_ids = PICK(client_ids, UNSET);
    d->privileged = PICK(privileged, NULL);
    /* The two claims are set together, so they merge together. */
    if (add->token_id_claim != NULL) {
        d->token_id_claim = add->token_id_claim;
        d->token_scope_claim = add->token_scope_claim;
    }
    else {
        d->token_id_claim = base->token_id_claim;
        d->token_scope_claim = base->token_scope_claim;
    }
    d->token_audience = PICK(token_audience, NULL);
    d->token_issuer = PICK(token_issuer, NULL);
    /* The three thresholds are set together, so they merge together. */
    if (add->match_certain != UNSET) {
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
    s->phn_first = UNSET;
    s->phn_last = UNSET;
    s->callbacks = NULL;
    s->retry_base = UNSET;
    s->retry_max = UNSET;
    s->notify_allow = NULL;
    s->tune_on = UNSET;
    s->tune_records = UNSET;
    s->tune_interval = UNSET;
    s->notify_retry_base = UNSET;
    s->notify_retry_max = UNSET;
    s->notify_timeout = UNSET;
    s->idem_retention = UNSET;
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
    s->phn_first = PICK(phn_first, UNSET);
    s->phn_last = PICK(phn_last, UNSET);
    s->notify_allow = PICK(notify_allow, NULL);
    s->callbacks = PICK(callbacks, NULL);
    s->retry_base = PICK(retry_base, UNSET);
    s->retry_max = PICK(retry_max, UNSET);
    s->notify_allow = PICK(notify_allow, NULL);
    s->tune_on = PICK(tune_on, UNSET);
    s->tune_records = PICK(tune_records, UNSET);
    s->tune_interval = PICK(tune_interval, UNSET);
    s->outbound = PICK(outbound, NULL);
    s->notify_retry_base = PICK(notify_retry_base, UNSET);
    s->notify_retry_max = PICK(notify_retry_max, UNSET);
    s->notify_timeout = PICK(notify_timeout, UNSET);
    s->notify_base = PICK(notify_base, NULL);
    s->idem_retention = PICK(idem_retention, UNSET);
    return s;
}

/* Set values are never negative: the directives refuse that. */
#define DEF(v, d) ((v) != UNSET ? (v) : (d))

void cr_config_settings(cr_settings_t *out, request_rec *r,
                        const cr_dir_conf_t *d, const cr_srv_conf_t *s)
{
    const char *base = d->base_url;

    if (base == NULL) {
        base = ap_construct_url(r->pool, d->base_path ? d->base_path : "",
                                r);
    }
    out->base_url = base;
    out->max_body = DEF(d->max_body, DEF_MAX_BODY);
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
    out->phn_range.first = DEF(s->phn_first, DEF_PHN_FIRST);
    out->phn_range.last = DEF(s->phn_last, DEF_PHN_LAST);
    out->allow_client_ids = d->client_ids > 0;
    out->notify_allow = s->notify_allow;
    out->idem_retention = DEF(s->idem_retention, DEF_IDEM_RETENTION);
    if (d->match_certain != UNSET) {
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

const char *cr_config_identity_field(const cr_srv_conf_t *s)
{
    return s->identity_field ? s->identity_field : DEF_IDENTITY_FIELD;
}

void cr_config_callback_retry(int *first_delay, int *attempts,
                              const cr_srv_conf_t *s)
{
    *first_delay = DEF(s->retry_base, DEF_RETRY_BASE);
    *attempts = DEF(s->retry_max, DEF_RETRY_MAX);
}

void cr_config_match_tuning(int *on, int *records, int *interval,
                            const cr_srv_conf_t *s)
{
    *on = DEF(s->tune_on, 1);
    *records = DEF(s->tune_records, 1000);
    *interval = DEF(s->tune_interval, 60);
}

const apr_array_header_t *cr_config_privileged(const cr_dir_conf_t *d)
{
    return d->privileged;
}

const char *cr_config_token_id_claim(const cr_dir_conf_t *d)
{
    return d->token_id_claim ? d->token_id_claim : DEF_TOKEN_ID_CLAIM;
}

const char *cr_config_token_scope_claim(const cr_dir_conf_t *d)
{
    return d->token_scope_claim ? d->token_scope_claim
                                : DEF_TOKEN_SCOPE_CLAIM;
}

const char *cr_config_token_audience(const cr_dir_conf_t *d)
{
    return d->token_audience;
}

const char *cr_config_token_issuer(const cr_dir_conf_t *d)
{
    return d->token_issuer;
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
    if (dbd_prepare_fn == NULL) {
        dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    }
    if (dbd_prepare_fn == NULL) {
        return "ClientRegistry needs mod_dbd: put 'LoadModule dbd_module "
               "...' before this directive and configure DBDriver and "
               "DBDParams";
    }
    /* mod_dbd prepares these on every connection it opens. */
    for (part = cr_sql_catalogues; *part; part++) {
        for (st = *part; st->label; st++) {
            dbd_prepare_fn(cmd->server, st->sql, st->label);
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

/* arg as a whole number from lo to hi into *out.  Returns NULL, or the
 * error "<directive> takes <what> from <lo> to <hi>" (what: "a whole
 * number", or which of the directive's numbers it is).  A NULL arg (an
 * optional argument left out) leaves *out at its default. */
static const char *parse_int_range(apr_int64_t *out, cmd_parms *cmd,
                                   const char *arg, const char *what,
                                   apr_int64_t lo, apr_int64_t hi)
{
    char *end = NULL;
    apr_int64_t v;

    if (arg == NULL) {
        return NULL;
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (*arg == '\0' || end == NULL || *end != '\0' || errno != 0 || v < lo
        || v > hi) {
        return apr_psprintf(cmd->pool, "%s takes %s from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT,
                            cmd->directive->directive, what, lo, hi);
    }
    *out = v;
    return NULL;
}

static const char *set_int(cmd_parms *cmd, void *dv, const char *arg)
{
    int off = (int)(apr_uintptr_t)cmd->info;
    apr_int64_t v;
    const char *err = parse_int_range(&v, cmd, arg, "a whole number", 1,
                                      100000000);

    if (err) {
        return err;
    }
    *(int *)((char *)dv + off) = (int)v;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dv, const char *arg)
{
    cr_dir_conf_t *d = dv;
    apr_int64_t v;
    const char *err = parse_int_range(&v, cmd, arg, "a size in bytes", 1024,
                                      APR_INT64_C(1073741824));

    if (err) {
        return err;
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
    const char *err;
    apr_int64_t first, last;

    (void)dv;
    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_LOC_FILE))
        || (err = parse_int_range(&first, cmd, a, "a first PHN body (the 8 "
                                  "digits between the leading 9 and the "
                                  "check digit)", 0, APR_INT64_C(99999999)))
        || (err = parse_int_range(&last, cmd, b, "a last PHN body", 0,
                                  APR_INT64_C(99999999)))) {
        return err;
    }
    if (last < first) {
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

/* ClientRegistryIdentityField: which mod_ssl variable names a client. */
static const char *set_identity_field(cmd_parms *cmd, void *dv,
                                      const char *a)
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

/* An organisation or source-system code: 1 to 32 of [A-Za-z0-9_-]. */
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

/* ClientRegistrySource: one client identity -> organisation, source. */
static const char *add_source(cmd_parms *cmd, void *dv, const char *v,
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

/* ClientRegistryPrivileged: one more rule naming privileged callers
 * (cr_identity evaluates them once per request). */
static const char *add_privileged(cmd_parms *cmd, void *dv,
                                  const char *args)
{
    cr_dir_conf_t *d = dv;
    cr_config_priv_rule_t *rule = apr_pcalloc(cmd->pool, sizeof(*rule));
    const char *rest = args, *kind, *word;

    kind = ap_getword_conf(cmd->pool, &rest);
    if (strcmp(kind, "expr") == 0) {
        const char *err = NULL;
        rule->kind = CR_CONFIG_PRIV_EXPR;
        rule->expr = ap_expr_parse_cmd(cmd, rest, 0, &err, NULL);
        if (err) {
            return apr_pstrcat(cmd->pool, "ClientRegistryPrivileged expr: ",
                               err, NULL);
        }
    }
    else if (strcmp(kind, "source") == 0 || strcmp(kind, "scope") == 0) {
        rule->kind = kind[1] == 'o' ? CR_CONFIG_PRIV_SOURCE
                                    : CR_CONFIG_PRIV_SCOPE;
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
    if (d->privileged == NULL) {
        d->privileged = apr_array_make(cmd->pool, 2,
                                       sizeof(cr_config_priv_rule_t *));
    }
    APR_ARRAY_PUSH(d->privileged, cr_config_priv_rule_t *) = rule;
    return NULL;
}

/* A token claim name: 1 to 64 of [A-Za-z0-9_] (it becomes part of the
 * name of an environment variable mod_auth_openidc sets). */
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

/* ClientRegistryTokenClaims id-claim [scope-claim]. */
static const char *set_token_claims(cmd_parms *cmd, void *dv,
                                    const char *id, const char *scope)
{
    cr_dir_conf_t *d = dv;

    (void)cmd;
    if (!claim_name_ok(id) || (scope && !claim_name_ok(scope))) {
        return "ClientRegistryTokenClaims: claim names are letters, digits "
               "and '_'";
    }
    d->token_id_claim = id;
    d->token_scope_claim = scope;
    return NULL;
}

static const char *set_token_audience(cmd_parms *cmd, void *dv,
                                      const char *aud)
{
    cr_dir_conf_t *d = dv;

    (void)cmd;
    d->token_audience = aud;
    return NULL;
}

static const char *set_token_issuer(cmd_parms *cmd, void *dv,
                                    const char *iss)
{
    cr_dir_conf_t *d = dv;

    (void)cmd;
    d->token_issuer = iss;
    return NULL;
}

/* ClientRegistryCallback: where an organisation's async responses go. */
static const char *set_callback(cmd_parms *cmd, void *dv, const char *org,
                                const char *url)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);

    (void)dv;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return "ClientRegistryCallback: the URL must be http:// or https://";
    }
    if (s->callbacks == NULL) {
        s->callbacks = apr_hash_make(cmd->pool);
    }
    if (apr_hash_get(s->callbacks, org, APR_HASH_KEY_STRING)) {
        return apr_psprintf(cmd->pool, "ClientRegistryCallback: '%s' is "
                            "configured twice", org);
    }
    apr_hash_set(s->callbacks, org, APR_HASH_KEY_STRING, url);
    return NULL;
}

/* ClientRegistryCallbackRetry: first back-off delay, attempts. */
static const char *set_retry(cmd_parms *cmd, void *dv, const char *base,
                             const char *max)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    apr_int64_t b, m;
    const char *err;

    (void)dv;
    if ((err = parse_int_range(&b, cmd, base, "the first delay in seconds",
                               1, CR_CONFIG_RETRY_MAX_DELAY))
        || (err = parse_int_range(&m, cmd, max, "the number of attempts", 1,
                                  100))) {
        return err;
    }
    s->retry_base = (int)b;
    s->retry_max = (int)m;
    return NULL;
}

/* The outbound credentials of the server being configured. */
static cr_outbound_conf_t *outbound_of(cmd_parms *cmd)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);

    if (s->outbound == NULL) {
        s->outbound = apr_pcalloc(cmd->pool, sizeof(*s->outbound));
    }
    return s->outbound;
}

/* ClientRegistryOutboundToken url client-id [scope] */
static const char *set_outbound_token(cmd_parms *cmd, void *dv,
                                      const char *url, const char *id,
                                      const char *scope)
{
    cr_outbound_conf_t *o = outbound_of(cmd);

    (void)dv;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return "ClientRegistryOutboundToken: the token endpoint must be an "
               "http:// or https:// URL";
    }
    o->token_url = url;
    o->client_id = id;
    o->scope = scope;
    return NULL;
}

/* ClientRegistryOutboundSecret / ...SecretFile */
static const char *set_outbound_secret(cmd_parms *cmd, void *dv,
                                       const char *arg)
{
    cr_outbound_conf_t *o = outbound_of(cmd);

    (void)dv;
    if (cmd->info) {
        o->client_secret_file = ap_server_root_relative(cmd->pool, arg);
    }
    else {
        o->client_secret = arg;
    }
    return NULL;
}

/* ClientRegistryOutboundCertificate cert key [ca] */
static const char *set_outbound_cert(cmd_parms *cmd, void *dv,
                                     const char *cert, const char *key,
                                     const char *ca)
{
    cr_outbound_conf_t *o = outbound_of(cmd);

    (void)dv;
    o->cert = ap_server_root_relative(cmd->pool, cert);
    o->key = ap_server_root_relative(cmd->pool, key);
    o->ca = ca ? ap_server_root_relative(cmd->pool, ca) : NULL;
    return NULL;
}

/* ClientRegistryNotifyRetry first-delay attempts [timeout] */
static const char *set_notify_retry(cmd_parms *cmd, void *dv,
                                    const char *base, const char *max,
                                    const char *timeout)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    apr_int64_t b, m, t = 10;
    const char *err;

    (void)dv;
    if ((err = parse_int_range(&b, cmd, base, "the first delay in seconds",
                               1, CR_CONFIG_RETRY_MAX_DELAY))
        || (err = parse_int_range(&m, cmd, max, "the number of attempts "
                                  "before a notification is parked", 1, 100))
        || (err = parse_int_range(&t, cmd, timeout, "the timeout of one "
                                  "attempt in seconds", 1, 300))) {
        return err;
    }
    s->notify_retry_base = (int)b;
    s->notify_retry_max = (int)m;
    s->notify_timeout = (int)t;
    return NULL;
}

static const char *set_notify_base(cmd_parms *cmd, void *dv,
                                   const char *url)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    apr_size_t n = strlen(url);

    (void)dv;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return "ClientRegistryNotifyBaseURL must be an http:// or https:// "
               "URL";
    }
    s->notify_base = n > 0 && url[n - 1] == '/'
                     ? apr_pstrndup(cmd->pool, url, n - 1) : url;
    return NULL;
}

void cr_config_notify_retry(int *first_delay, int *attempts, int *timeout,
                            const cr_srv_conf_t *s)
{
    *first_delay = s->notify_retry_base > 0 ? s->notify_retry_base : 2;
    *attempts = s->notify_retry_max > 0 ? s->notify_retry_max : 10;
    *timeout = s->notify_timeout > 0 ? s->notify_timeout : 10;
}

const char *cr_config_notify_base(apr_pool_t *pool, const server_rec *srv,
                                  const cr_srv_conf_t *s)
{
    if (s->notify_base) {
        return s->notify_base;
    }
    return apr_psprintf(pool, "http://%s:%u/fhir",
                        srv->server_hostname ? srv->server_hostname
                                             : "localhost",
                        srv->port ? (unsigned)srv->port : 80u);
}

/* Checked once the configuration is read (post_config). */
const char *cr_config_outbound_check(const cr_srv_conf_t *s)
{
    const cr_outbound_conf_t *o = s->outbound;

    if (o && o->token_url && o->client_secret == NULL
        && o->client_secret_file == NULL) {
        return "ClientRegistryOutboundToken needs "
               "ClientRegistryOutboundSecret or "
               "ClientRegistryOutboundSecretFile";
    }
    return NULL;
}

/* ClientRegistryNotifyAllow: URL prefixes subscription endpoints may
 * start with (issue 13, docs/notifications.md). */
static const char *add_notify_allow(cmd_parms *cmd, void *dv,
                                    const char *prefix)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);

    (void)dv;
    if ((strncmp(prefix, "http://", 7) != 0 || prefix[7] == '\0')
        && (strncmp(prefix, "https://", 8) != 0 || prefix[8] == '\0')) {
        return "ClientRegistryNotifyAllow: each prefix is an http:// or "
               "https:// URL with at least a host";
    }
    if (s->notify_allow == NULL) {
        s->notify_allow = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(s->notify_allow, const char *) = prefix;
    return NULL;
}

/* ClientRegistryMatchTuning Off | On [NEW_RECORDS [SECONDS]] */
static const char *set_tuning(cmd_parms *cmd, void *dv, const char *on,
                              const char *records, const char *interval)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    apr_int64_t n = 1000, t = 60;
    const char *err;

    (void)dv;
    if (ap_cstr_casecmp(on, "off") == 0 && records == NULL) {
        s->tune_on = 0;
        return NULL;
    }
    if (ap_cstr_casecmp(on, "on") != 0) {
        return "ClientRegistryMatchTuning takes Off, or On with the number "
               "of new records that starts a re-fit (1-100000000, default "
               "1000) and how often to look, in seconds (1-86400, default "
               "60)";
    }
    if ((err = parse_int_range(&n, cmd, records, "the number of new "
                               "records that starts a re-fit", 1, 100000000))
        || (err = parse_int_range(&t, cmd, interval, "the seconds between "
                                  "looks", 1, 86400))) {
        return err;
    }
    s->tune_on = 1;
    s->tune_records = (int)n;
    s->tune_interval = (int)t;
    return NULL;
}

/* ClientRegistryIdempotencyRetention: seconds (or Nd days) an answered
 * messageId is kept; 0 turns idempotency off. */
static const char *set_idem_retention(cmd_parms *cmd, void *dv,
                                      const char *arg)
{
    cr_srv_conf_t *s = ap_get_module_config(cmd->server->module_config,
                                            &clientregistry_module);
    apr_size_t n = strlen(arg);
    apr_int64_t v;
    const char *err;

    (void)dv;
    if (n > 1 && arg[n - 1] == 'd') {
        err = parse_int_range(&v, cmd, apr_pstrndup(cmd->pool, arg, n - 1),
                              "days (Nd)", 0, 3650);
        if (err == NULL) {
            v *= 86400;
        }
    }
    else {
        err = parse_int_range(&v, cmd, arg, "seconds (or days as Nd, up to "
                              "3650d)", 0, APR_INT64_C(3650) * 86400);
    }
    if (err) {
        return err;
    }
    s->idem_retention = v;
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
    AP_INIT_TAKE1("ClientRegistryIdentityField", set_identity_field, NULL,
                  RSRC_CONF,
                  "The mod_ssl variable that names a client (default "
                  "SSL_CLIENT_S_DN)"),
    AP_INIT_TAKE3("ClientRegistrySource", add_source, NULL,
                  RSRC_CONF,
                  "A client identity (value of ClientRegistryIdentityField), "
                  "its organisation code and its source-system code"),
    AP_INIT_RAW_ARGS("ClientRegistryPrivileged", add_privileged,
                     NULL, RSRC_CONF | ACCESS_CONF,
                     "Who sees restricted clients unmasked and source "
                     "details: source CODE..., scope SCOPE... or expr "
                     "EXPR (any line that matches)"),
    AP_INIT_TAKE12("ClientRegistryTokenClaims", set_token_claims,
                   NULL, RSRC_CONF | ACCESS_CONF,
                   "The bearer token claims naming the client (mapped by "
                   "ClientRegistrySource) and holding its scopes (default "
                   "client_id scope)"),
    AP_INIT_TAKE1("ClientRegistryTokenAudience",
                  set_token_audience, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The aud a bearer token must carry"),
    AP_INIT_TAKE1("ClientRegistryTokenIssuer", set_token_issuer,
                  NULL, RSRC_CONF | ACCESS_CONF,
                  "The iss a bearer token must carry"),
    AP_INIT_TAKE3("ClientRegistryMatchThresholds", set_match_thresholds,
                  NULL, RSRC_CONF | ACCESS_CONF,
                  "Lowest match scores (0 to 1) graded certain, probable "
                  "and possible (default 0.99 0.5 0.05)"),
    AP_INIT_TAKE2("ClientRegistryCallback", set_callback, NULL,
                  RSRC_CONF, "organisation code and callback base URL of "
                  "its asynchronous responses"),
    AP_INIT_ITERATE("ClientRegistryNotifyAllow", add_notify_allow, NULL,
                    RSRC_CONF, "URL prefixes the delivery endpoints of "
                    "Subscriptions may start with (none: no endpoint is "
                    "allowed)"),
    AP_INIT_TAKE123("ClientRegistryMatchTuning", set_tuning, NULL,
                    RSRC_CONF, "Off, or On [new records [seconds]]: the "
                    "matcher re-fits its parameters in the background"),
    AP_INIT_TAKE2("ClientRegistryCallbackRetry", set_retry, NULL,
                  RSRC_CONF, "first retry delay in seconds and number of "
                  "delivery attempts of asynchronous responses"),
    AP_INIT_TAKE23("ClientRegistryNotifyRetry", set_notify_retry, NULL,
                   RSRC_CONF, "first retry delay in seconds, attempts "
                   "before a notification is parked, and the timeout of "
                   "one attempt in seconds (default 2 10 10)"),
    AP_INIT_TAKE1("ClientRegistryNotifyBaseURL", set_notify_base, NULL,
                  RSRC_CONF, "the registry's FHIR base in the fullUrl of "
                  "notified Patients"),
    AP_INIT_TAKE23("ClientRegistryOutboundToken", set_outbound_token, NULL,
                   RSRC_CONF, "OAuth2 token endpoint, client id and scope "
                   "of the registry's outbound requests"),
    AP_INIT_TAKE1("ClientRegistryOutboundSecret", set_outbound_secret,
                  NULL, RSRC_CONF, "the registry's OAuth2 client secret"),
    AP_INIT_TAKE1("ClientRegistryOutboundSecretFile", set_outbound_secret,
                  (void *)1, RSRC_CONF, "a file whose first line is the "
                  "registry's OAuth2 client secret"),
    AP_INIT_TAKE23("ClientRegistryOutboundCertificate", set_outbound_cert,
                   NULL, RSRC_CONF, "the registry's client certificate and "
                   "key (PEM) for outbound TLS, and a CA file to verify "
                   "partners"),
    AP_INIT_TAKE1("ClientRegistryIdempotencyRetention", set_idem_retention,
                  NULL, RSRC_CONF, "how long the answer of a processed "
                  "messageId is kept, in seconds or Nd days (default 7d; "
                  "0 off)"),
    AP_INIT_TAKE2("ClientRegistryPHNRange", set_phn_range, NULL, RSRC_CONF,
                  "First and last PHN body the registry may assign "
                  "(default 0 99999999)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};
