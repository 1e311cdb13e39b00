/* cr_identity: the verified client certificate or bearer token ->
 * caller identity and privilege. */
#ifndef CR_IDENTITY_H
#define CR_IDENTITY_H

#include "httpd/cr_private.h"
#include "core/cr_model.h"

/* optional_fn_retrieve (and post_config): look up mod_ssl's
 * ssl_var_lookup. */
void cr_identity_retrieve(void);
/* post_config: say when mod_ssl is missing (callers are anonymous). */
void cr_identity_post_config(server_rec *s);
/* The caller of r, computed once per request (r->pool), with its
 * privilege (ClientRegistryPrivileged). */
const cr_caller_t *cr_identity_caller(request_rec *r);
/* The scopes of the request's bearer token (space-separated), or NULL. */
const char *cr_identity_scopes(request_rec *r);
/* NULL when the request's bearer token passes exp, nbf and
 * ClientRegistryTokenAudience/Issuer; else why not (also when there is
 * no validated token). */
const char *cr_identity_token_problem(request_rec *r);
/* 1 when r was authenticated by a bearer token (AuthType oauth20). */
int cr_identity_is_token(request_rec *r);

#endif /* CR_IDENTITY_H */
