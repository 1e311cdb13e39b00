/* cr_req: the state one request carries between the glue files.
 *
 * httpd gives each module one slot per request (r->request_config); ours
 * holds this typed struct, created on first use in r->pool.  Each field
 * has one writer: the caller identity is cr_identity's, the route
 * cr_route's, the access Require refused cr_authz's, what the
 * request did (for the audit record of the log phase) cr_handler's, and
 * the restricted clients its response showed unmasked cr_request's.
 * Subrequests and internal redirects are request_recs of their own, so
 * they start with an empty one, as they start with empty r->notes.
 */
#ifndef CR_REQ_H
#define CR_REQ_H

#include "httpd/cr_private.h"
#include "core/cr_model.h"

struct cr_route_t;

typedef struct cr_req_t {
    const cr_caller_t *caller;       /* cr_identity_caller, or NULL yet */
    const struct cr_route_t *route;  /* cr_route_get (NULL: not ours) */
    int routed;                      /* route was computed */
    int in_location;                 /* a <Location> enables the registry
                                        for this URL (cr_route, before
                                        map_to_storage) */
    const char *denied;              /* kind of access a Require line
                                        refused ("read" ... "admin", or
                                        "source", "scope", "privileged"),
                                        or NULL */
    const char *token_problem;       /* why Require clientregistry-token
                                        refused the bearer token (401),
                                        or NULL */
    const char *message_id;          /* the request's message id */
    const char *operation;           /* what the audit trail calls the
                                        request, or NULL (not routed) */
    const char *action;              /* its audit action (C R U D E) */
    const char *patients;            /* patient ids touched, or NULL */
    int audited;                     /* a write audited inside its own
                                        transaction: no second record */
    const char *unmasked;            /* ids of restricted clients the
                                        response showed unmasked to a
                                        privileged caller (cr_request,
                                        from ops/cr_privacy), or NULL */
} cr_req_t;

/* The request state of r, created empty on first use. */
static APR_INLINE cr_req_t *cr_req_get(request_rec *r)
{
    cr_req_t *q = ap_get_module_config(r->request_config,
                                       &clientregistry_module);

    if (q == NULL) {
        q = apr_pcalloc(r->pool, sizeof(*q));
        ap_set_module_config(r->request_config, &clientregistry_module, q);
    }
    return q;
}

#endif /* CR_REQ_H */
