/* cr_rest: the FHIR RESTful interactions on Patient -- create, read,
 * vread, update, instance history and type search.  Each fills ctx->resp
 * and ctx->oc (see cr_service.h). */
#ifndef CR_REST_H
#define CR_REST_H

#include "ops/cr_service.h"

/* POST [base]/Patient: body is the parsed request JSON. */
void cr_rest_create(cr_ctx_t *ctx, json_object *body);

/* GET [base]/Patient/{id}; id may also be a 10-digit PHN (DECISION-02). */
void cr_rest_read(cr_ctx_t *ctx, const char *id);

/* GET [base]/Patient/{id}/_history/{vid}. */
void cr_rest_vread(cr_ctx_t *ctx, const char *id, const char *vid);

/* PUT [base]/Patient/{id}; if_match is the version required by If-Match,
 * or -1 when the header was absent. */
void cr_rest_update(cr_ctx_t *ctx, const char *id, json_object *body,
                    apr_int64_t if_match);

/* GET [base]/Patient/{id}/_history?query. */
void cr_rest_history(cr_ctx_t *ctx, const char *id, const char *query,
                     int lenient);

/* GET [base]/Patient?query. */
void cr_rest_search(cr_ctx_t *ctx, const char *query, int lenient);

#endif /* CR_REST_H */
