/* cr_worker: the per-child audit batch writer. */
#ifndef CR_WORKER_H
#define CR_WORKER_H

#include "httpd/cr_private.h"
#include "core/cr_hashchain.h"

/* Start the writer thread of this child (child_init). */
void cr_worker_child_init(apr_pool_t *pchild, server_rec *s);
/* Queue a copy of rec for the next batch. */
void cr_worker_audit(request_rec *r, const cr_audit_rec_t *rec);

#endif /* CR_WORKER_H */
