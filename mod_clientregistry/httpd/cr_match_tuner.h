/* cr_match_tuner: the matcher's background re-fit (one thread per
 * child). */
#ifndef CR_MATCH_TUNER_H
#define CR_MATCH_TUNER_H

#include "httpd/cr_private.h"

/* child_init: start this child's tuner thread unless
 * ClientRegistryMatchTuning is Off; it is joined in a pre-cleanup of
 * pchild. */
void cr_match_tuner_child_init(apr_pool_t *pchild, server_rec *s);
/* child_stopping: no new fit (one under way finishes first). */
void cr_match_tuner_child_stopping(apr_pool_t *pchild, int graceful);

#endif /* CR_MATCH_TUNER_H */
