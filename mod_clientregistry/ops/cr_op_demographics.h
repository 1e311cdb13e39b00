/* cr_op_demographics: what the BC query files share from
 * GetDemographics (cr_op_demographics.c): a client's look-up by id or by
 * identifier, following merges, and its rendering as the composite view.
 * cr_op_find_candidates.c renders its candidates with it and
 * cr_op_bc_rest.c answers the RESTful identifier search with it.  The
 * operations themselves are declared in cr_ops_query.h.
 */
#ifndef CR_OP_DEMOGRAPHICS_H
#define CR_OP_DEMOGRAPHICS_H

#include "ops/cr_bcop.h"
#include "store/cr_store_query.h"

/* The key of a look-up: a resource id (or a ten-digit PHN, DECISION-02)
 * or an identifier. */
typedef struct cr_op_demographics_key_t {
    const char *id;            /* by resource id (or 10-digit PHN) */
    const char *system;        /* by identifier */
    const char *value;
    const char *expr;          /* FHIRPath of the identifier, for issues */
} cr_op_demographics_key_t;

/* The row of id, following merges (replaced_by) to the survivor; *merged
 * is set when a hop was taken. */
apr_status_t cr_op_demographics_survivor(cr_query_row_t **out, int *merged,
                                         cr_ctx_t *ctx, const char *id);

/* The composite Patient of row (history and identifiersOnly as q's
 * flags). */
apr_status_t cr_op_demographics_render(json_object **out, cr_bcop_t *q,
                                       const cr_query_row_t *row);

/* Look the client of key up and answer q (found, merged, not found). */
void cr_op_demographics_run(cr_bcop_t *q,
                            const cr_op_demographics_key_t *key);

#endif /* CR_OP_DEMOGRAPHICS_H */
