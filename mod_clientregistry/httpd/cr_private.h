/* cr_private: the include hub of the glue layer (files that talk to
 * httpd).  Core, store and service files never include it: the build
 * checks that (tools/check-layers). */
#ifndef CR_PRIVATE_H
#define CR_PRIVATE_H

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_dbd.h>

/* httpd.h pulls in ap_config_auto.h, whose PACKAGE_* macros clash with
 * ours; the glue never needs either. */
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_VERSION
#undef PACKAGE_BUGREPORT
#undef PACKAGE_URL

#include "ops/cr_service.h"

/* mod_clientregistry.c gets this from AP_DECLARE_MODULE. */
#ifndef CR_MODULE_MAIN
APLOG_USE_MODULE(clientregistry);
#endif
extern module AP_MODULE_DECLARE_DATA clientregistry_module;

/* Our log message tags: "CRnnnnn: ", numbered like httpd's AH tags (see
 * docs/log-tags.md for the next free number; never reuse one). */
#define CR_APLOGNO(n) "CR" #n ": "

#define CR_VERSION "0.1.0"
#define CR_SCHEMA_VERSION 4
/* For log lines; cr_store_schema_required is the list that counts. */
#define CR_SCHEMA_MIGRATIONS "1, 2, 3, 4"

/* Per-directory configuration (a <Location> serving the registry). */
typedef struct cr_dir_conf_t {
    int enabled;              /* -1 unset */
    const char *base_path;    /* the <Location> path where enabled */
    const char *base_url;     /* ClientRegistryBaseURL or NULL */
    apr_off_t max_body;       /* -1 unset */
    int max_depth;
    int max_string;
    int max_repeats;
    int max_params;
    int page_size;
    int max_page_size;
    int max_candidates;
    int client_ids;           /* -1 unset */
    double match_certain;     /* ClientRegistryMatchThresholds, -1 unset */
    double match_probable;
    double match_possible;
    struct cr_access_conf_t *access;  /* privilege and bearer tokens
                                         (cr_identity.c), or NULL */
} cr_dir_conf_t;

/* One client identity mapping (ClientRegistrySource). */
typedef struct cr_source_map_t {
    const char *org_id;       /* organisation code, the IG's sender */
    const char *source;       /* HCIM source-system code */
} cr_source_map_t;

/* Per-server configuration. */
typedef struct cr_srv_conf_t {
    int prepared;             /* catalogue registered with mod_dbd */
    const char *identity_field;  /* SSL variable naming a client, or NULL */
    apr_hash_t *sources;      /* identity value -> cr_source_map_t */
    apr_int64_t phn_first;    /* -1 unset */
    apr_int64_t phn_last;
    apr_uint32_t schema_ok;   /* set once per process after a check */
    apr_hash_t *callbacks;    /* org -> callback base URL (async) */
    int retry_base;           /* ClientRegistryCallbackRetry, 0 unset */
    int retry_max;
} cr_srv_conf_t;

/* cr_config.c */
extern const command_rec cr_config_cmds[];
void *cr_config_dir_create(apr_pool_t *p, char *dir);
void *cr_config_dir_merge(apr_pool_t *p, void *base, void *add);
void *cr_config_srv_create(apr_pool_t *p, server_rec *s);
void *cr_config_srv_merge(apr_pool_t *p, void *base, void *add);
/* The effective settings of a request (defaults applied). */
void cr_config_settings(cr_settings_t *out, request_rec *r,
                        const cr_dir_conf_t *d, const cr_srv_conf_t *s);
/* The body size limit of d (default applied). */
apr_off_t cr_config_max_body(const cr_dir_conf_t *d);

/* cr_request.c */
#define CR_PREFER_REPRESENTATION 0
#define CR_PREFER_MINIMAL 1
#define CR_PREFER_OUTCOME 2
/* 0 when the client accepts FHIR JSON, else 406 after answering. */
int cr_request_negotiate(request_rec *r, const char **ctype);
/* Read and parse a JSON body within the limits; returns 0 and *out on
 * success, else the HTTP status to answer with (issues added to oc). */
int cr_request_read_json(request_rec *r, const cr_settings_t *settings,
                         cr_outcome_t *oc, json_object **out);
int cr_request_prefer_return(request_rec *r);
/* The BCFhirVersion parameter of Accept (the BC RESTful forms), 0 when
 * absent. */
int cr_request_bc_version(request_rec *r);
int cr_request_prefer_lenient(request_rec *r);
/* Version from If-Match (W/"n" or "n"), -1 when absent, -2 malformed. */
apr_int64_t cr_request_if_match(request_rec *r);
/* Write ctx->resp (or an OperationOutcome for errors) and return OK. */
int cr_request_respond(request_rec *r, cr_ctx_t *ctx, const char *ctype);
/* Answer status with an OperationOutcome of one issue. */
int cr_request_error(request_rec *r, int status, const char *code,
                     const char *text);

/* cr_handler.c */
int cr_handler(request_rec *r);
/* What a request to a registry location asks for: returns 0 and the
 * permission it needs, or -1 when r is not for the registry. */
int cr_handler_permission(request_rec *r, int *permission);

/* cr_identity.c: the verified client certificate or bearer token ->
 * caller identity and privilege. */
const cr_caller_t *cr_identity_caller(request_rec *r);
/* The scopes of the request's bearer token (space-separated), or NULL. */
const char *cr_identity_scopes(request_rec *r);
/* NULL when the request carries no bearer token or one whose claims pass
 * ClientRegistryToken*; else why it does not. */
const char *cr_identity_token_problem(request_rec *r);
/* 1 when r was authenticated by a bearer token (AuthType oauth20). */
int cr_identity_is_token(request_rec *r);
struct cr_access_conf_t *cr_identity_merge(apr_pool_t *p,
                                           struct cr_access_conf_t *base,
                                           struct cr_access_conf_t *add);
const char *cr_identity_set_privileged(cmd_parms *cmd, void *dv,
                                       const char *args);
const char *cr_identity_set_token_claims(cmd_parms *cmd, void *dv,
                                         const char *id, const char *scope);
const char *cr_identity_set_token_audience(cmd_parms *cmd, void *dv,
                                           const char *aud);
const char *cr_identity_set_token_issuer(cmd_parms *cmd, void *dv,
                                         const char *iss);
const char *cr_identity_set_field(cmd_parms *cmd, void *dv, const char *a);
const char *cr_identity_add_source(cmd_parms *cmd, void *dv, const char *v,
                                   const char *org, const char *source);

/* cr_worker.c: per-child audit batch writer. */
#include "core/cr_hashchain.h"
void cr_worker_child_init(apr_pool_t *pchild, server_rec *s);
void cr_worker_audit(request_rec *r, const cr_audit_rec_t *rec);

/* cr_async.c: the asynchronous operations' worker and directives. */
void cr_async_child_init(apr_pool_t *pchild, server_rec *s);
void cr_async_child_stopping(apr_pool_t *pchild, int graceful);
const char *cr_async_set_callback(cmd_parms *cmd, void *dv, const char *org,
                                  const char *url);
const char *cr_async_set_retry(cmd_parms *cmd, void *dv, const char *base,
                               const char *max);

/* cr_authz.c: Require providers and OperationOutcome error bodies. */
void cr_authz_register(apr_pool_t *p);

/* mod_clientregistry.c */
/* Wrap a mod_dbd connection for the store, with the cross-process write
 * lock for SQLite (see cr_db_lock_fn). */
cr_db_t *cr_glue_db(apr_pool_t *pool, ap_dbd_t *dbd);
extern APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *cr_dbd_acquire_fn;
extern APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *cr_dbd_prepare_fn;
char *cr_ssl_var(request_rec *r, const char *name);

#endif /* CR_PRIVATE_H */
