/* cr_async_worker: the asynchronous operations' per-child worker. */
#ifndef CR_ASYNC_WORKER_H
#define CR_ASYNC_WORKER_H

#include "httpd/cr_private.h"

/* child_init: start this child's worker thread (always: jobs of senders
 * without a ClientRegistryCallback run too and keep their result); it is
 * joined in a pre-cleanup of pchild. */
void cr_async_worker_child_init(apr_pool_t *pchild, server_rec *s);
/* child_stopping: no new job, and a delivery under way is abandoned (it
 * is retried later). */
void cr_async_worker_child_stopping(apr_pool_t *pchild, int graceful);

#endif /* CR_ASYNC_WORKER_H */
