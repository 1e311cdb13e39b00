/* fuzz_patch: a $PartialRevisePatient body in the G2 FHIR-Patch form
 * (operations.md 9.3, CR-LEG-002) through cr_fhir_patch_parse, as
 * ops/cr_op_partial_patch.c reads it before the transaction, then the
 * where() selection of each operation over the values of the request's
 * own patch (as if the client held them).  Invariants: the result is
 * always set with its operation array, the status is 0 exactly when the
 * outcome has no error, at most CR_PATCH_MAX_OPS operations, each with a
 * kind, expressions, a value exactly when it adds, at most
 * CR_PATCH_MAX_CONDS conditions; the selection marks only values and
 * marks some exactly when it answers OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "fhir/cr_fhir_patch.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fuzz_common.h"

static const cr_json_limits_t json_limits = { 32, 65536, 1000 };

static apr_pool_t *root_pool;

static void check_op(apr_pool_t *pool, const cr_patch_req_t *q,
                     const cr_patch_op_t *op)
{
    json_object *vals[CR_PATCH_MAX_OPS];
    int sel[CR_PATCH_MAX_OPS], i, n = 0, any = 0;
    cr_patch_sel_e r;

    CR_FUZZ_ASSERT(op->kind && op->expr && op->path_expr);
    CR_FUZZ_ASSERT((op->value != NULL) == (op->action != CR_PATCH_DELETE));
    CR_FUZZ_ASSERT(op->where == NULL || (op->where->nelts >= 1
                   && op->where->nelts <= CR_PATCH_MAX_CONDS));
    CR_FUZZ_ASSERT(op->repeating || op->where == NULL);
    if (!op->repeating || op->where == NULL) {
        return;
    }
    for (i = 0; i < q->ops->nelts && n < CR_PATCH_MAX_OPS; i++) {
        const cr_patch_op_t *o = &APR_ARRAY_IDX(q->ops, i, cr_patch_op_t);
        if (o->value && o->repeating && strcmp(o->kind, op->kind) == 0) {
            vals[n++] = o->value;
        }
    }
    r = cr_fhir_patch_select(pool, op, vals, n, sel);
    for (i = 0; i < n; i++) {
        CR_FUZZ_ASSERT(sel[i] == 0 || sel[i] == 1);
        any |= sel[i];
    }
    CR_FUZZ_ASSERT((r == CR_PATCH_SEL_OK) == (any == 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    json_object *doc = NULL;

    if (root_pool == NULL) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        cr_fuzz_pool_enable();
    }
    apr_pool_create(&pool, root_pool);
    if (cr_json_parse(&doc, pool, (const char *)data, size, &json_limits,
                      NULL) == APR_SUCCESS) {
        cr_outcome_t *oc = cr_outcome_make(pool);
        cr_patch_req_t *q = NULL;
        int st = cr_fhir_patch_parse(&q, pool, doc, oc), i;
        CR_FUZZ_ASSERT(q != NULL && q->ops != NULL);
        CR_FUZZ_ASSERT((st == 0) == (cr_outcome_errors(oc) == 0));
        CR_FUZZ_ASSERT(st == 0 || st == 400 || st == 422);
        CR_FUZZ_ASSERT(q->ops->nelts <= CR_PATCH_MAX_OPS);
        for (i = 0; i < q->ops->nelts; i++) {
            check_op(pool, q, &APR_ARRAY_IDX(q->ops, i, cr_patch_op_t));
        }
        (void)cr_fhir_patch_is_request(doc);
    }
    apr_pool_destroy(pool);
    return 0;
}
