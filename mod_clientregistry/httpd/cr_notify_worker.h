/* cr_notify_worker: the notification sender thread of an httpd child
 * (operations.md 7, docs/notifications.md). */
#ifndef CR_NOTIFY_WORKER_H
#define CR_NOTIFY_WORKER_H

#include "httpd/cr_private.h"

/* Start this child's notification thread (always; it idles while nothing
 * is due).  stopping is the worker's stop flag (cr_async_worker), read by
 * the thread; the thread is joined in a pre-cleanup of pchild. */
void cr_notify_worker_start(apr_pool_t *pchild, server_rec *s,
                            volatile apr_uint32_t *stopping);

#endif /* CR_NOTIFY_WORKER_H */
