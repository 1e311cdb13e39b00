/* cr_route: path segments -> endpoint kind, operation, permission (see
 * cr_route.h).  The one place that knows the registry's URL shapes. */
#include <string.h>

#include "core/cr_text.h"
#include "httpd/cr_config.h"
#include "httpd/cr_req.h"
#include "httpd/cr_route.h"

static cr_route_kind_e kind_of(const char *const *seg, int n)
{
    if (n == 0) {
        return CR_ROUTE_NONE;
    }
    if (n == 1 && strcmp(seg[0], "metadata") == 0) {
        return CR_ROUTE_METADATA;
    }
    if (seg[0][0] == '$') {
        return CR_ROUTE_SYSTEM_OP;
    }
    if (strcmp(seg[0], "async") == 0) {
        return n == 2 ? CR_ROUTE_ASYNC_STATUS : CR_ROUTE_NONE;
    }
    if (strcmp(seg[0], "Patient") != 0) {
        return seg[0][0] >= 'A' && seg[0][0] <= 'Z'
               ? CR_ROUTE_OTHER_TYPE : CR_ROUTE_NONE;
    }
    if (n == 1) {
        return CR_ROUTE_TYPE;
    }
    if (n == 2) {
        return seg[1][0] == '$' ? CR_ROUTE_TYPE_OP : CR_ROUTE_INSTANCE;
    }
    if (n == 3 && seg[2][0] == '$') {
        return CR_ROUTE_INSTANCE_OP;
    }
    if (n == 3 && strcmp(seg[2], "_history") == 0) {
        return CR_ROUTE_HISTORY;
    }
    if (n == 4 && strcmp(seg[2], "_history") == 0) {
        return CR_ROUTE_VERSION;
    }
    return CR_ROUTE_NONE;
}

/* Split the path below the registry base into segments: 0 on success, 1
 * when there are too many, -1 when r is not below the base. */
static int split_path(request_rec *r, const cr_dir_conf_t *d,
                      cr_route_t *rt)
{
    const char *rel = r->uri;
    char *path, *state = NULL, *tok;

    rt->n = 0;
    if (d->base_path && strncmp(rel, d->base_path, strlen(d->base_path))
                        == 0) {
        rel += strlen(d->base_path);
    }
    if (*rel != '\0' && *rel != '/') {
        return -1;
    }
    path = apr_pstrdup(r->pool, rel);
    for (tok = apr_strtok(path, "/", &state); tok;
         tok = apr_strtok(NULL, "/", &state)) {
        if (rt->n == CR_ROUTE_MAX_SEGMENTS) {
            return 1;
        }
        rt->seg[rt->n++] = tok;
    }
    return 0;
}

/* Reads and searches need read; create, update and the write operations
 * write; merges merge; audit records admin; subscriptions subscribe. */
static int permission_of(const cr_route_t *rt, int method_number)
{
    int write = method_number != M_GET;

    if (rt->n == 0) {
        return CR_PERM_READ;
    }
    switch (rt->kind) {
    case CR_ROUTE_TYPE_OP:
        return rt->op ? (int)rt->op->permission : CR_PERM_READ;
    case CR_ROUTE_OTHER_TYPE:
        /* Audit records are for administrators only. */
        if (strcmp(rt->seg[0], "AuditEvent") == 0) {
            return CR_PERM_ADMIN;
        }
        /* So are a subscription's delivery status and resending. */
        if (cr_route_subscription_admin(rt) != NULL) {
            return CR_PERM_ADMIN;
        }
        /* Partners' subscriptions (ownership is the service's). */
        if (strcmp(rt->seg[0], "Subscription") == 0) {
            return CR_PERM_SUBSCRIBE;
        }
        return write ? CR_PERM_WRITE : CR_PERM_READ;
    default:
        return write ? CR_PERM_WRITE : CR_PERM_READ;
    }
}

const char *cr_route_subscription_admin(const cr_route_t *rt)
{
    if (rt->n == 3 && strcmp(rt->seg[0], "Subscription") == 0
        && (strcmp(rt->seg[2], "$status") == 0
            || strcmp(rt->seg[2], "$resend") == 0)) {
        return rt->seg[2];
    }
    return NULL;
}

const cr_route_t *cr_route_get(request_rec *r)
{
    cr_req_t *q = cr_req_get(r);
    const cr_dir_conf_t *d;
    cr_route_t *rt;
    int rc;

    if (q->routed) {
        return q->route;
    }
    q->routed = 1;
    d = ap_get_module_config(r->per_dir_config, &clientregistry_module);
    if (d == NULL || d->enabled != 1) {
        return NULL;
    }
    rt = apr_pcalloc(r->pool, sizeof(*rt));
    rc = split_path(r, d, rt);
    if (rc < 0) {
        return NULL;
    }
    rt->too_deep = rc > 0;
    rt->kind = kind_of(rt->seg, rt->n);
    if (rt->kind == CR_ROUTE_TYPE_OP) {
        rt->op = cr_ops_find(rt->seg[1] + 1);
    }
    rt->id_ok = rt->n >= 2 && cr_text_id_ok(rt->seg[1]);
    rt->permission = permission_of(rt, r->method_number);
    q->route = rt;
    return rt;
}

int cr_route_translate_name(request_rec *r)
{
    const cr_dir_conf_t *d = ap_get_module_config(r->per_dir_config,
                                                  &clientregistry_module);

    /* Here per_dir_config is the first <Location> walk's. */
    if (d != NULL && d->enabled == 1) {
        cr_req_get(r)->in_location = 1;
    }
    return DECLINED;
}

int cr_route_map_to_storage(request_rec *r)
{
    const cr_req_t *q = ap_get_module_config(r->request_config,
                                             &clientregistry_module);

    return q != NULL && q->in_location ? OK : DECLINED;
}

cr_route_bc_e cr_route_bc(const cr_route_t *rt, int method_number,
                          int bc_version, int *history, int *ids_only)
{
    const char *const *seg = rt->seg;
    int n = rt->n;

    *history = *ids_only = 0;
    if (n < 1 || strcmp(seg[0], "Patient") != 0 || method_number != M_GET) {
        return CR_ROUTE_BC_NONE;
    }
    if (n == 3 && strcmp(seg[2], "$HistoryPatient") == 0) {
        return CR_ROUTE_BC_HISTORY_OP;
    }
    if (bc_version <= 0) {
        return CR_ROUTE_BC_NONE;
    }
    if (n == 1) {
        return CR_ROUTE_BC_SEARCH;
    }
    if (n == 2 && seg[1][0] == '_') {
        *history = strcmp(seg[1], "_history") == 0;
        *ids_only = strcmp(seg[1], "_identifiersOnly") == 0;
        return *history || *ids_only ? CR_ROUTE_BC_SEARCH : CR_ROUTE_BC_NONE;
    }
    if (n == 2 && seg[1][0] != '$') {
        return CR_ROUTE_BC_READ;
    }
    if (n == 3) {
        *history = strcmp(seg[2], "_history") == 0;
        *ids_only = strcmp(seg[2], "_identifiersOnly") == 0;
        return *history || *ids_only ? CR_ROUTE_BC_READ : CR_ROUTE_BC_NONE;
    }
    return CR_ROUTE_BC_NONE;
}
