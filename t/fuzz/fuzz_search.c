/* fuzz_search: a raw query string through what GET Patient?... does.
 *
 * cr_search_parse (strict, and lenient as _history uses it), then every
 * parsed specification is matched against a fixed candidate and its
 * birthdate look-up ranges computed.  The input is also taken whole as
 * one form-encoded component (cr_text_url_decode), and a decoded value is
 * re-encoded (cr_text_url_encode) and must decode to itself.  Invariants:
 * a query that parsed has a canonical form that parses again, to the
 * same canonical form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "match/cr_index.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "core/cr_text.h"
#include "match/cr_search.h"
#include "fuzz_common.h"

/* As cr_config.c's defaults. */
static const cr_search_limits_t limits = { 20, 10, 20, 100, 1000 };

static apr_pool_t *root_pool;
static cr_search_target_t target;

static void add_key(apr_pool_t *pool, const char *kind, const char *value)
{
    const char *k = apr_pstrcat(pool, kind, "|", value, NULL);

    apr_hash_set(target.keys, k, APR_HASH_KEY_STRING, k);
    APR_ARRAY_PUSH(target.key_list, const char *) = k;
}

/* One candidate, as cr_store_search builds it from the index. */
static void make_target(apr_pool_t *pool)
{
    target.id = "a1b2c3";
    target.gender = "female";
    target.birth_lo = "1980-03-04";
    target.birth_hi = "1980-03-04";
    target.keys = apr_hash_make(pool);
    target.key_list = apr_array_make(pool, 8, sizeof(const char *));
    target.identifiers = apr_array_make(pool, 2, sizeof(const char *));
    add_key(pool, CR_IDX_FAMILY, "nguyen");
    add_key(pool, CR_IDX_GIVEN, "zoe");
    add_key(pool, CR_IDX_NAME, "nguyen");
    add_key(pool, CR_IDX_NAME, "zoe");
    add_key(pool, CR_IDX_PHONE, "2505550100");
    add_key(pool, CR_IDX_EMAIL, "zoe@example.org");
    add_key(pool, CR_IDX_POSTAL, "V8W1A1");
    APR_ARRAY_PUSH(target.identifiers, const char *) =
        "https://fhir.infoway-inforoute.ca/NamingSystem/"
        "ca-bc-patient-healthcare-id|9253484802";
}

static void search(apr_pool_t *pool, const char *query, int lenient)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_search_spec_t *spec = NULL, *again = NULL;
    apr_status_t rv;
    int i, j;

    rv = cr_search_parse(&spec, pool, query, lenient, &limits, oc);
    CR_FUZZ_ASSERT(spec != NULL);
    CR_FUZZ_ASSERT((rv == APR_SUCCESS) == (cr_outcome_errors(oc) == 0));
    cr_json_serialize(pool, cr_outcome_to_json(pool, oc), NULL);
    if (rv != APR_SUCCESS) {
        return;
    }
    CR_FUZZ_ASSERT(spec->count >= 0 && spec->count <= limits.max_count);
    CR_FUZZ_ASSERT(spec->offset >= 0);
    CR_FUZZ_ASSERT(spec->canonical_query != NULL);
    cr_search_matches(spec, &target);
    for (i = 0; i < spec->clauses->nelts; i++) {
        const cr_search_clause_t *c = &APR_ARRAY_IDX(spec->clauses, i,
                                                     cr_search_clause_t);
        CR_FUZZ_ASSERT(c->values->nelts <= limits.max_values);
        for (j = 0; j < c->values->nelts; j++) {
            const cr_search_value_t *v = &APR_ARRAY_IDX(
                c->values, j, cr_search_value_t);
            char lo[11], hi[11];
            if (c->param == CR_SP_BIRTHDATE) {
                CR_FUZZ_ASSERT(strlen(v->lo) == 10 && strlen(v->hi) == 10);
                cr_search_birth_driver_range(lo, hi, v);
                CR_FUZZ_ASSERT(strlen(lo) == 10 && strlen(hi) == 10);
            }
        }
    }
    /* The canonical query (used in paging links) is a query we accept,
     * and it is its own canonical form. */
    oc = cr_outcome_make(pool);
    CR_FUZZ_ASSERT(cr_search_parse(&again, pool, spec->canonical_query, 0,
                                   &limits, oc) == APR_SUCCESS);
    CR_FUZZ_ASSERT(strcmp(again->canonical_query, spec->canonical_query)
                   == 0);
    CR_FUZZ_ASSERT(again->clauses->nelts == spec->clauses->nelts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const char *query, *decoded = NULL, *back = NULL;

    if (root_pool == NULL) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        make_target(root_pool);
        cr_fuzz_pool_enable();
    }
    apr_pool_create(&pool, root_pool);
    /* The request layer hands over r->args: NUL-terminated, so anything
     * after an embedded NUL is simply not seen. */
    query = apr_pstrmemdup(pool, (const char *)data, size);
    search(pool, query, 0);
    search(pool, query, 1);
    if (cr_text_url_decode(&decoded, pool, (const char *)data, size)
        == APR_SUCCESS) {
        CR_FUZZ_ASSERT(cr_text_utf8_ok(decoded, strlen(decoded)));
        back = cr_text_url_encode(pool, decoded);
        CR_FUZZ_ASSERT(cr_text_url_decode(&query, pool, back, strlen(back))
                       == APR_SUCCESS);
        CR_FUZZ_ASSERT(strcmp(query, decoded) == 0);
    }
    else {
        CR_FUZZ_ASSERT(decoded == NULL);
    }
    apr_pool_destroy(pool);
    return 0;
}
