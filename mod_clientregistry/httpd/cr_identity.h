/* cr_identity: the verified client certificate -> caller identity. */
#ifndef CR_IDENTITY_H
#define CR_IDENTITY_H

#include "httpd/cr_private.h"
#include "core/cr_model.h"

/* optional_fn_retrieve (and post_config): look up mod_ssl's
 * ssl_var_lookup. */
void cr_identity_retrieve(void);
/* post_config: say when mod_ssl is missing (callers are anonymous). */
void cr_identity_post_config(server_rec *s);
/* The caller of r, computed once per request (r->pool). */
const cr_caller_t *cr_identity_caller(request_rec *r);

#endif /* CR_IDENTITY_H */
