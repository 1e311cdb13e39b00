/* cr_outbound: every HTTP request the registry itself makes to a partner
 * (async callbacks, notifications): libcurl with timeouts, and the
 * registry's credentials (CR-NOT-007) -- an OAuth2 client-credentials
 * token from ClientRegistryOutboundToken*, cached per process, and/or the
 * client certificate of ClientRegistryOutboundCertificate. */
#ifndef CR_OUTBOUND_H
#define CR_OUTBOUND_H

#include "httpd/cr_private.h"
#include "httpd/cr_config.h"

/* post() result when the transfer was abandoned because *stopping became
 * non-zero: not a failed attempt. */
#define CR_OUTBOUND_INTERRUPTED (-2L)

/* child_init: libcurl's global state and the token cache's mutex. */
void cr_outbound_child_init(apr_pool_t *pchild, server_rec *s);

/* POST body (FHIR JSON) to url, waiting at most timeout seconds, with the
 * configured credentials (a 401 refreshes the token once and tries
 * again).  Returns the HTTP status, -1 for a transport error (*err set),
 * or CR_OUTBOUND_INTERRUPTED when *stopping became set.  Thread-safe. */
long cr_outbound_post(server_rec *s, const cr_srv_conf_t *sc,
                      const char *url, const char *body, long timeout,
                      volatile apr_uint32_t *stopping, const char **err,
                      apr_pool_t *pool);

#endif /* CR_OUTBOUND_H */
