/* cr_op_find_candidates: what the BC query files share from
 * FindCandidates (cr_op_find_candidates.c): the candidate search on one
 * query Patient, which cr_op_bc_rest.c runs for the RESTful search.  The
 * operation itself is declared in cr_ops_query.h.
 */
#ifndef CR_OP_FIND_CANDIDATES_H
#define CR_OP_FIND_CANDIDATES_H

#include "ops/cr_bcop.h"

/* Check the query Patient json (FHIRPath root), find its candidates,
 * rank and render them and answer q.  count (-1: all) and offset page the
 * ranked list; page_url (NULL: no paging links) is the RESTful search
 * URL the next/previous links extend. */
void cr_op_find_candidates_run(cr_bcop_t *q, json_object *json,
                               const char *root, int count, int offset,
                               const char *page_url);

#endif /* CR_OP_FIND_CANDIDATES_H */
