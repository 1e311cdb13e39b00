/* fuzz_merge: a $merge request body (operations.md 5.1) through
 * cr_fhir_merge_parse, as ops/cr_op_fhir_merge.c reads it before the
 * transaction, then cr_fhir_merge_link_is on each result-patient link.
 * Invariants: the result is always set with both sides' identifier
 * arrays, the status is 0 exactly when the outcome has no error, every
 * identifier read has a system, a value and an expression, at most
 * CR_MERGE_MAX_IDENTIFIERS per side, and a side with a reference id has
 * its expression.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "fhir/cr_fhir_merge.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fuzz_common.h"

static const cr_json_limits_t json_limits = { 32, 65536, 1000 };

static apr_pool_t *root_pool;

static void side(const cr_merge_side_in_t *s)
{
    int i;

    CR_FUZZ_ASSERT(s->ids != NULL);
    CR_FUZZ_ASSERT(s->ids->nelts <= CR_MERGE_MAX_IDENTIFIERS);
    CR_FUZZ_ASSERT(s->ref_id == NULL || s->ref_expr != NULL);
    for (i = 0; i < s->ids->nelts; i++) {
        const cr_merge_ident_t *id = &APR_ARRAY_IDX(s->ids, i,
                                                    cr_merge_ident_t);
        CR_FUZZ_ASSERT(id->system && *id->system && id->value
                       && *id->value && id->expr);
    }
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
        cr_merge_params_t *m = NULL;
        int st = cr_fhir_merge_parse(&m, pool, doc, oc);
        CR_FUZZ_ASSERT(m != NULL);
        CR_FUZZ_ASSERT((st == 0) == (cr_outcome_errors(oc) == 0));
        CR_FUZZ_ASSERT(st == 0 || st == 400 || st == 422);
        side(&m->source);
        side(&m->target);
        if (m->result) {
            json_object *links = cr_json_get_array(m->result, "link");
            size_t i, n = links ? json_object_array_length(links) : 0;
            for (i = 0; i < n; i++) {
                (void)cr_fhir_merge_link_is(
                    json_object_array_get_idx(links, i),
                    m->source.ref_id ? m->source.ref_id : "x");
            }
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
