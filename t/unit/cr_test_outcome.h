/* cr_test_outcome: an OperationOutcome as one comparable string in the
 * unit tests of the request parsers ("detail@expression" of every issue,
 * joined by spaces). */
#ifndef CR_TEST_OUTCOME_H
#define CR_TEST_OUTCOME_H

#include <apr_strings.h>

#include "core/cr_outcome.h"

static inline const char *cr_test_codes(apr_pool_t *pool,
                                        const cr_outcome_t *oc)
{
    const char *s = "";
    int i;

    for (i = 0; i < oc->issues->nelts; i++) {
        const cr_issue_t *is = &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
        s = apr_pstrcat(pool, s, i ? " " : "", is->detail ? is->detail : "-",
                        is->expression ? "@" : "",
                        is->expression ? is->expression : "", NULL);
    }
    return s;
}

#endif /* CR_TEST_OUTCOME_H */
