/* cr_route: what a request below a registry base asks for.
 *
 * The path below the base is split into segments and classified once per
 * request (the Require provider usually asks first, the handler reuses
 * the answer): the kind of endpoint, the operation of [base]/Patient/$op
 * from the operation table (cr_ops), whether the id segment is valid,
 * and the permission the request needs.  Which BC RESTful form a GET
 * takes depends on the BCFhirVersion the client accepts and is asked
 * separately (cr_route_bc).
 */
#ifndef CR_ROUTE_H
#define CR_ROUTE_H

#include "httpd/cr_private.h"
#include "ops/cr_ops.h"

#define CR_ROUTE_MAX_SEGMENTS 4

typedef enum {
    CR_ROUTE_NONE,          /* no endpoint (404) */
    CR_ROUTE_METADATA,      /* [base]/metadata */
    CR_ROUTE_TYPE,          /* [base]/Patient */
    CR_ROUTE_INSTANCE,      /* [base]/Patient/id */
    CR_ROUTE_HISTORY,       /* [base]/Patient/id/_history */
    CR_ROUTE_VERSION,       /* [base]/Patient/id/_history/v */
    CR_ROUTE_TYPE_OP,       /* [base]/Patient/$op */
    CR_ROUTE_INSTANCE_OP,   /* [base]/Patient/id/$op (not supported) */
    CR_ROUTE_SYSTEM_OP,     /* [base]/$op (not supported) */
    CR_ROUTE_OTHER_TYPE,    /* [base]/Type... other than Patient */
    CR_ROUTE_ASYNC_STATUS   /* [base]/async/id: an async job's status */
} cr_route_kind_e;

/* The BC forms of operations.md section 8 (and the G4 $HistoryPatient),
 * chosen by the BCFhirVersion parameter of Accept; plain FHIR clients
 * keep the standard interactions. */
typedef enum {
    CR_ROUTE_BC_NONE = 0,
    CR_ROUTE_BC_SEARCH,
    CR_ROUTE_BC_READ,
    CR_ROUTE_BC_HISTORY_OP
} cr_route_bc_e;

typedef struct cr_route_t {
    const char *seg[CR_ROUTE_MAX_SEGMENTS + 1];  /* in r->pool */
    int n;                  /* segments in seg */
    int too_deep;           /* more segments than any endpoint has (404);
                               seg holds the first ones */
    cr_route_kind_e kind;   /* of the segments in seg */
    const cr_op_t *op;      /* CR_ROUTE_TYPE_OP: the operation, or NULL
                               when the table has none of that name */
    int id_ok;              /* seg[1] is a valid resource id */
    int permission;         /* CR_PERM_* the request needs */
} cr_route_t;

/* The route of r, computed on first use and kept with the request
 * (cr_req.h); NULL when r is not for the registry (its location has no
 * "ClientRegistry On", or the path is not below the base). */
const cr_route_t *cr_route_get(request_rec *r);

/* translate_name and map_to_storage hooks.  A registry URL names no file,
 * so when a <Location> enables the registry for it the directory walk
 * (stat calls under DocumentRoot, .htaccess look-ups) is skipped, as
 * httpd does for proxied URLs; <Location> sections still apply, and a
 * registry enabled inside <Directory> keeps the walk. */
int cr_route_translate_name(request_rec *r);
int cr_route_map_to_storage(request_rec *r);

/* "$status" or "$resend" for [base]/Subscription/{id}/$status and
 * .../$resend (the administrators' view of a subscription's deliveries),
 * else NULL. */
const char *cr_route_subscription_admin(const cr_route_t *rt);

/* The BC form of a request with route rt, method method_number and the
 * BCFhirVersion bc_version it accepts (0: none); CR_ROUTE_BC_NONE for the
 * standard interactions.  *history and *ids_only receive the _history
 * and _identifiersOnly flags of the form. */
cr_route_bc_e cr_route_bc(const cr_route_t *rt, int method_number,
                          int bc_version, int *history, int *ids_only);

#endif /* CR_ROUTE_H */
