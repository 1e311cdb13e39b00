/* cr_request: HTTP in and out -- negotiation, the request body,
 * Prefer/If-Match, writing resources and OperationOutcomes, and the
 * OperationOutcome bodies of the errors httpd answers itself. */
#ifndef CR_REQUEST_H
#define CR_REQUEST_H

#include "httpd/cr_private.h"
#include <util_filter.h>
#include "ops/cr_service.h"

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

/* The output filter that gives httpd's own error bodies below a registry
 * location the FHIR content type (registered by the module under this
 * name), and the insert_error_filter hook that sets such a body. */
#define CR_REQUEST_ERROR_FILTER "CR_ERROR_CTYPE"
apr_status_t cr_request_error_ctype_filter(ap_filter_t *f,
                                           apr_bucket_brigade *bb);
void cr_request_insert_error_filter(request_rec *r);

#endif /* CR_REQUEST_H */
