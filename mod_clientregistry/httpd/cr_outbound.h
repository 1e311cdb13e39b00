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

/* Many POSTs at once (curl multi), for the notification worker: one slow
 * or dead partner holds only its own transfer.  Owned by one thread. */
typedef struct cr_outbound_multi_t cr_outbound_multi_t;

/* Called once per finished transfer: the HTTP status, -1 with err for a
 * transport error, CR_OUTBOUND_INTERRUPTED when stopping. */
typedef void cr_outbound_done_fn(void *ctx, void *baton, long code,
                                 const char *err);

/* A set of transfers in pool (whose cleanup aborts any left). */
cr_outbound_multi_t *cr_outbound_multi_create(apr_pool_t *pool,
                                              server_rec *s,
                                              const cr_srv_conf_t *sc,
                                              volatile apr_uint32_t *stopping);

/* Start POSTing body to url (both copied), within timeout seconds, with
 * the configured credentials; baton is handed to the done function.
 * APR_EGENERAL (and *err) when it cannot start (no token). */
apr_status_t cr_outbound_multi_add(cr_outbound_multi_t *m, const char *url,
                                   const char *body, long timeout,
                                   void *baton, const char **err);

/* How many transfers are under way. */
int cr_outbound_multi_running(const cr_outbound_multi_t *m);

/* Move the transfers on for at most wait_ms milliseconds, or until some
 * finished, and call done (with ctx) for each that finished.  A 401 with a token is retried once
 * with a new token before it counts. */
void cr_outbound_multi_run(cr_outbound_multi_t *m, int wait_ms,
                           cr_outbound_done_fn *done, void *ctx);

#endif /* CR_OUTBOUND_H */
