/* cr_async: the asynchronous operations' per-child worker. */
#ifndef CR_ASYNC_H
#define CR_ASYNC_H

#include "httpd/cr_private.h"

void cr_async_child_init(apr_pool_t *pchild, server_rec *s);
void cr_async_child_stopping(apr_pool_t *pchild, int graceful);

#endif /* CR_ASYNC_H */
