/* cr_authz: the Require providers of the registry. */
#ifndef CR_AUTHZ_H
#define CR_AUTHZ_H

#include "httpd/cr_private.h"

/* Register the providers clientregistry-operation, -source, -token,
 * -scope and -privileged (register_hooks). */
void cr_authz_register(apr_pool_t *p);

#endif /* CR_AUTHZ_H */
