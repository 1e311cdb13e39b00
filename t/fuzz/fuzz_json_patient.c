/* fuzz_json_patient: a request body through what POST/PUT Patient does.
 *
 * cr_json_parse with the server's default limits, then
 * cr_fhir_patient_parse on the document and on every resource inside a
 * Bundle's entries or a Parameters' parameters (as the BC operations
 * carry them), then for a valid Patient what a create does next: the
 * search keys (cr_index_build, so cr_normalize and cr_phonetic too), the
 * PHN identifier, meta and serialisation.  Invariants: a document that
 * parsed serialises to JSON that parses again under the same limits, and
 * an OperationOutcome always renders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fuzz_common.h"

/* As cr_config.c's defaults (ClientRegistryMaxJSONDepth and friends). */
static const cr_json_limits_t json_limits = { 32, 65536, 1000 };
static const cr_fhir_limits_t fhir_limits = { 100, 65536 };

static apr_pool_t *root_pool;

static void patient(apr_pool_t *pool, json_object *res, const char *root)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = NULL;
    cr_index_t *idx = NULL;
    apr_status_t rv;

    rv = cr_fhir_patient_parse(&p, pool, res, root, "2026-01-15",
                               &fhir_limits, oc);
    CR_FUZZ_ASSERT(p != NULL);
    CR_FUZZ_ASSERT((rv == APR_SUCCESS) == (cr_outcome_errors(oc) == 0));
    CR_FUZZ_ASSERT(cr_outcome_to_json(pool, oc) != NULL);
    cr_json_serialize(pool, cr_outcome_to_json(pool, oc), NULL);
    if (rv != APR_SUCCESS) {
        return;
    }
    CR_FUZZ_ASSERT(cr_index_build(&idx, pool, p) == APR_SUCCESS
                   || idx == NULL);
    if (idx) {
        CR_FUZZ_ASSERT(idx->rows->nelts <= CR_INDEX_MAX_ROWS);
    }
    cr_model_find_identifier(p, CR_IDK_PHN);
    cr_model_find_identifier(p, CR_IDK_SRI);
    if (cr_model_find_identifier(p, CR_IDK_PHN) == NULL) {
        cr_fhir_patient_add_phn(p, pool, "9253484802",
                                "2026-01-15T10:00:00.000Z");
    }
    cr_fhir_patient_set_meta(p, pool, "fuzz-1", 1,
                             "2026-01-15T10:00:00.000Z");
    cr_json_serialize(pool, p->json, NULL);
}

/* The Patients an operation would find inside a Bundle or Parameters. */
static void nested(apr_pool_t *pool, json_object *doc)
{
    const char *rt = cr_json_get_string(doc, "resourceType");
    const char *list;
    json_object *arr;
    size_t i, n;

    if (rt == NULL) {
        return;
    }
    if (strcmp(rt, "Bundle") == 0) {
        list = "entry";
    }
    else if (strcmp(rt, "Parameters") == 0) {
        list = "parameter";
    }
    else {
        return;
    }
    arr = cr_json_get_array(doc, list);
    n = arr ? json_object_array_length(arr) : 0;
    for (i = 0; i < n && i < 20; i++) {
        json_object *res = cr_json_get_object(
            json_object_array_get_idx(arr, i), "resource");
        if (res) {
            patient(pool, res, apr_psprintf(pool, "%s.%s[%lu].resource",
                                            rt, list, (unsigned long)i));
            nested(pool, res);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    json_object *doc = NULL, *again = NULL;
    cr_json_error_t err;
    const char *text;
    apr_size_t len;

    if (root_pool == NULL) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        cr_fuzz_pool_enable();
    }
    apr_pool_create(&pool, root_pool);
    if (cr_json_parse(&doc, pool, (const char *)data, size, &json_limits,
                      &err) != APR_SUCCESS) {
        CR_FUZZ_ASSERT(doc == NULL);
        CR_FUZZ_ASSERT(err.kind != CR_JSON_ERR_NONE);
        CR_FUZZ_ASSERT(err.message != NULL);
        CR_FUZZ_ASSERT(err.offset <= size);
        apr_pool_destroy(pool);
        return 0;
    }
    CR_FUZZ_ASSERT(doc != NULL);
    /* What was accepted must come out as JSON we accept again. */
    text = cr_json_serialize(pool, doc, &len);
    CR_FUZZ_ASSERT(cr_json_parse(&again, pool, text, len, &json_limits,
                                 &err) == APR_SUCCESS);
    patient(pool, doc, "Patient");
    nested(pool, doc);
    apr_pool_destroy(pool);
    return 0;
}
