/* cr_audit_writer: the audit record of each request and the per-child batch
 * writer of those records. */
#ifndef CR_AUDIT_WRITER_H
#define CR_AUDIT_WRITER_H

#include "httpd/cr_private.h"
#include "core/cr_hashchain.h"

/* Start the writer thread of this child (child_init). */
void cr_audit_writer_child_init(apr_pool_t *pchild, server_rec *s);
/* log_transaction: queue the audit record of r for the next batch,
 * unless r was not for the registry or its write was already audited
 * inside its own transaction.  Returns DECLINED. */
int cr_audit_writer_log_transaction(request_rec *r);

#endif /* CR_AUDIT_WRITER_H */
