/* cr_ops: the registry's FHIR operations ([base]/Patient/$name), one table
 * for routing, the CapabilityStatement and access control.
 *
 * Each operation lives in its own service file and is listed once in
 * cr_ops.c.  Operations are type-level POSTs whose body is parsed JSON;
 * they fill ctx->resp and ctx->oc like every service.
 */
#ifndef CR_OPS_H
#define CR_OPS_H

#include "ops/cr_service.h"

typedef void cr_op_fn(cr_ctx_t *ctx, json_object *body);

/* What an operation needs to be allowed (Require clientregistry-operation
 * ...). */
typedef enum {
    CR_PERM_READ = 0,
    CR_PERM_WRITE,
    CR_PERM_MERGE,
    CR_PERM_ADMIN,
    CR_PERM_SUBSCRIBE            /* the Subscription interactions */
} cr_permission_e;

typedef struct cr_op_t {
    const char *name;            /* code after '$', case-sensitive */
    cr_op_fn *run;
    cr_permission_e permission;
    const char *definition;      /* OperationDefinition canonical or NULL */
} cr_op_t;

/* The operation table, terminated by an entry with name NULL. */
extern const cr_op_t cr_ops_table[];

/* The operation called name, or NULL. */
const cr_op_t *cr_ops_find(const char *name);

const char *cr_ops_permission_name(cr_permission_e p);

/* Whether op is one of the BC message operations, which take and answer
 * Bundles (CR-GEN-009: every answer, errors of httpd's own too): the
 * PascalCase codes ($FindCandidates ... $MergePatient.Async), not the
 * FHIR-style ones ($match, $merge, $potential-duplicates). */
int cr_ops_bundle_based(const cr_op_t *op);

#endif /* CR_OPS_H */
