/* cr_config: the module's configuration -- the per-directory and
 * per-server structures, the directive table, create/merge, and the
 * effective settings of a request with the defaults applied. */
#ifndef CR_CONFIG_H
#define CR_CONFIG_H

#include "httpd/cr_private.h"
#include <ap_expr.h>
#include "ops/cr_service.h"

/* The one "not set here" value of every numeric field (pointers use
 * NULL).  Set values are never negative: the directives refuse that. */
#define CR_CONFIG_UNSET (-1)

/* Largest first delay of ClientRegistryCallbackRetry, and the cap of the
 * back-off between two deliveries of an asynchronous response. */
#define CR_CONFIG_RETRY_MAX_DELAY 3600

/* One ClientRegistryPrivileged line: a caller is privileged when its
 * source-system code or one of its token scopes is among words, or when
 * expr is true. */
typedef enum {
    CR_CONFIG_PRIV_SOURCE,
    CR_CONFIG_PRIV_SCOPE,
    CR_CONFIG_PRIV_EXPR
} cr_config_priv_kind_e;

typedef struct cr_config_priv_rule_t {
    cr_config_priv_kind_e kind;
    apr_array_header_t *words;      /* codes or scopes (const char *) */
    ap_expr_info_t *expr;           /* CR_CONFIG_PRIV_EXPR */
} cr_config_priv_rule_t;

/* Per-directory configuration (a <Location> serving the registry). */
typedef struct cr_dir_conf_t {
    int enabled;              /* ClientRegistry On/Off */
    const char *base_path;    /* the <Location> path where enabled */
    const char *base_url;     /* ClientRegistryBaseURL or NULL */
    apr_off_t max_body;
    int max_depth;
    int max_string;
    int max_repeats;
    int max_params;
    int page_size;
    int max_page_size;
    int max_candidates;
    int client_ids;
    double match_certain;     /* ClientRegistryMatchThresholds */
    double match_probable;
    double match_possible;
    apr_array_header_t *privileged;  /* ClientRegistryPrivileged, of
                                        cr_config_priv_rule_t *, or NULL */
    const char *token_id_claim;      /* ClientRegistryTokenClaims */
    const char *token_scope_claim;
    const char *token_audience;      /* ClientRegistryTokenAudience */
    const char *token_issuer;        /* ClientRegistryTokenIssuer */
} cr_dir_conf_t;

/* One client identity mapping (ClientRegistrySource). */
typedef struct cr_source_map_t {
    const char *org_id;       /* organisation code, the IG's sender */
    const char *source;       /* HCIM source-system code */
} cr_source_map_t;

/* The registry's own credentials on outbound requests (CR-NOT-007):
 * ClientRegistryOutboundToken, ...Secret / ...SecretFile,
 * ...Certificate. */
typedef struct cr_outbound_conf_t {
    const char *token_url;          /* OAuth2 token endpoint, or NULL */
    const char *client_id;
    const char *scope;              /* or NULL */
    const char *client_secret;      /* or NULL (then the file) */
    const char *client_secret_file;
    const char *cert, *key, *ca;    /* PEM files, or NULL */
} cr_outbound_conf_t;

/* Per-server configuration. */
typedef struct cr_srv_conf_t {
    int prepared;             /* catalogue registered with mod_dbd */
    const char *identity_field;  /* SSL variable naming a client, or NULL */
    apr_hash_t *sources;      /* identity value -> cr_source_map_t */
    apr_int64_t phn_first;    /* ClientRegistryPHNRange */
    apr_int64_t phn_last;
    apr_hash_t *callbacks;    /* org -> callback base URL (async) */
    int retry_base;           /* ClientRegistryCallbackRetry */
    int retry_max;
    cr_outbound_conf_t *outbound;   /* or NULL: no credentials */
    int notify_retry_base;          /* ClientRegistryNotifyRetry */
    int notify_retry_max;
    int notify_timeout;
    const char *notify_base;        /* ClientRegistryNotifyBaseURL */
    apr_array_header_t *notify_allow;  /* ClientRegistryNotifyAllow */
    int tune_on;              /* ClientRegistryMatchTuning */
    int tune_records;
    int tune_interval;
    apr_int64_t idem_retention;  /* ClientRegistryIdempotencyRetention */
} cr_srv_conf_t;

extern const command_rec cr_config_cmds[];
void *cr_config_dir_create(apr_pool_t *p, char *dir);
void *cr_config_dir_merge(apr_pool_t *p, void *base, void *add);
void *cr_config_srv_create(apr_pool_t *p, server_rec *s);
void *cr_config_srv_merge(apr_pool_t *p, void *base, void *add);
/* The effective settings of a request (defaults applied). */
void cr_config_settings(cr_settings_t *out, request_rec *r,
                        const cr_dir_conf_t *d, const cr_srv_conf_t *s);
/* The mod_ssl variable that names a client (default SSL_CLIENT_S_DN). */
const char *cr_config_identity_field(const cr_srv_conf_t *s);
/* The first delay in seconds and the number of delivery attempts of an
 * asynchronous response (defaults applied). */
void cr_config_callback_retry(int *first_delay, int *attempts,
                              const cr_srv_conf_t *s);

/* ClientRegistryMatchTuning (defaults applied): whether the background
 * tuner runs, after how many new records it re-fits, and how often (in
 * seconds) it looks. */
void cr_config_match_tuning(int *on, int *records, int *interval,
                            const cr_srv_conf_t *s);

/* The notifications' first retry delay, attempts before a delivery is
 * parked and timeout of one POST in seconds (defaults applied), and the
 * registry base of the notified Patients' fullUrl. */
void cr_config_notify_retry(int *first_delay, int *attempts, int *timeout,
                            const cr_srv_conf_t *s);
const char *cr_config_notify_base(apr_pool_t *pool, const server_rec *srv,
                                  const cr_srv_conf_t *s);

/* NULL, or why the outbound credentials are incomplete. */
const char *cr_config_outbound_check(const cr_srv_conf_t *s);

/* The ClientRegistryPrivileged rules of a location (the innermost
 * location that has any), or NULL: nobody is privileged. */
const apr_array_header_t *cr_config_privileged(const cr_dir_conf_t *d);
/* The bearer token claims naming the client and holding its scopes
 * (defaults client_id and scope). */
const char *cr_config_token_id_claim(const cr_dir_conf_t *d);
const char *cr_config_token_scope_claim(const cr_dir_conf_t *d);
/* The aud and iss a bearer token must carry, or NULL: not checked. */
const char *cr_config_token_audience(const cr_dir_conf_t *d);
const char *cr_config_token_issuer(const cr_dir_conf_t *d);

#endif /* CR_CONFIG_H */
