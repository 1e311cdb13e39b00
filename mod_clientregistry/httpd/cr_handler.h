/* cr_handler: the content handler of registry locations. */
#ifndef CR_HANDLER_H
#define CR_HANDLER_H

#include "httpd/cr_private.h"

/* The handler hook: DECLINED outside a registry location, else OK after
 * writing the response. */
int cr_handler(request_rec *r);

#endif /* CR_HANDLER_H */
