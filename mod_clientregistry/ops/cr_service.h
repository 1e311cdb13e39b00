/* cr_service: what every operation is given and gives back.
 *
 * Operations take a cr_ctx_t, never a request_rec, so the httpd handler,
 * the asynchronous worker and the unit tests run the same code.  An
 * operation fills ctx->resp (status, body, headers it wants) and appends
 * issues to ctx->oc; the request layer turns that into HTTP.
 */
#ifndef CR_SERVICE_H
#define CR_SERVICE_H

#include <apr_pools.h>
#include <apr_time.h>
#include <json-c/json.h>

#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"
#include "match/cr_match.h"
#include "core/cr_model.h"
#include "core/cr_outcome.h"
#include "match/cr_search.h"

typedef struct cr_settings_t {
    const char *base_url;          /* public base URL, no trailing '/' */
    apr_off_t max_body;            /* largest request body in bytes */
    cr_json_limits_t json;
    cr_fhir_limits_t fhir;
    cr_search_limits_t search;
    cr_phn_range_t phn_range;
    int allow_client_ids;          /* PUT to an unknown id creates it */
    cr_match_thresholds_t match;   /* ClientRegistryMatchThresholds */
    const apr_array_header_t *notify_allow;  /* ClientRegistryNotifyAllow:
                                      URL prefixes (const char *) of the
                                      endpoints subscriptions may name */
    apr_int64_t idem_retention;    /* seconds a processed messageId's
                                    * answer is kept (ClientRegistry-
                                    * IdempotencyRetention); 0: off */
} cr_settings_t;

/* The HTTP request as the audit trail records it. */
typedef struct cr_reqinfo_t {
    const char *method;
    const char *path;
    const char *query;
    const char *remote_addr;
} cr_reqinfo_t;

typedef struct cr_response_t {
    int status;                    /* HTTP status; 0 = not decided */
    const char *patients;          /* ids touched, space-separated */
    int audited;                   /* audit record written with the write */
    json_object *body;             /* resource to send, or NULL */
    const char *raw_body;          /* or ready JSON text (stored resource) */
    int raw_current;               /* raw_body is its client's current
                                    * version: its own meta.security says
                                    * whether the client is restricted */
    const char *location;          /* Location header */
    const char *content_location;  /* Content-Location header */
    apr_int64_t etag_version;      /* ETag W/"n" when > 0 */
    const char *last_modified;     /* FHIR instant for Last-Modified */
    int retry_after;               /* seconds, with 503 */
    int body_on_error;             /* send body also with a 4xx/5xx (the
                                      BC operations answer with Bundles) */
    int race_lost;                 /* PostgreSQL: the write lost a race
                                      with a parallel writer (deadlock,
                                      uniqueness) and was rolled back;
                                      running it again may succeed */
} cr_response_t;

typedef void cr_trace_fn(void *baton, int is_error, const char *msg);

typedef struct cr_ctx_t {
    apr_pool_t *pool;
    cr_db_t *db;
    const cr_settings_t *settings;
    const cr_caller_t *caller;
    const char *message_id;        /* Request-Id header or generated */
    const char *request_id;        /* the Request-Id header, or NULL */
    int bc_version;                /* BCFhirVersion of Accept, 0 if none */
    apr_time_t now;
    const char *now_instant;       /* FHIR instant of now */
    const char *today;             /* 'YYYY-MM-DD' (UTC) */
    cr_outcome_t *oc;
    cr_response_t resp;
    const cr_reqinfo_t *req;       /* for the audit trail, or NULL */
    cr_trace_fn *trace;            /* logging, supplied by the caller */
    void *trace_baton;
    apr_int64_t if_match;          /* If-Match version of an operation:
                                      <= 0 absent, -2 malformed */
    /* Called inside a maintenance operation's transaction just before
     * its commit (the async worker marks its job executed there). */
    apr_status_t (*before_commit)(struct cr_ctx_t *ctx, void *baton);
    void *before_commit_baton;
    /* Idempotent messageId (ops/cr_idem.c): set by the HTTP handler for
     * the BC operations (not by the async worker, which runs a request
     * already claimed); the claim this request holds, or NULL. */
    int idem;
    struct cr_idem_claim_t *idem_claim;
    /* Set by the .Async forms (ops/cr_op_async.c, CR-ASYNC-004): the
     * operation runs its checks only and stops where its transaction
     * would begin; ctx->resp.status stays 0 when the request passed. */
    int check_only;
} cr_ctx_t;

/* Fill the time fields and the outcome of ctx (pool, db, settings,
 * caller and message_id are the caller's). */
void cr_service_ctx_init(cr_ctx_t *ctx, apr_pool_t *pool, apr_time_t now);

/* A new random UUID, lower-case with dashes. */
const char *cr_service_uuid(apr_pool_t *pool);

/* HTTP status for a rejected request, from its first error's issue code:
 * 400 for shape problems, 422 for profile and business rules. */
int cr_service_status_for_errors(const cr_outcome_t *oc);

/* Record a store failure rv as the response (503 busy, 409 conflict,
 * 422 duplicate, 503 PHN range exhausted, 500 otherwise) and trace it. */
void cr_service_db_failure(cr_ctx_t *ctx, apr_status_t rv, const char *what);

#endif /* CR_SERVICE_H */
