/* fuzz_envelope: a BC operation request body through what the Bundle
 * operations do before and after their work.
 *
 * cr_json_parse, then cr_fhir_envelope_parse (which also unwraps the
 * Parameters.operationBundle form) under the rules of each transaction
 * (FindCandidates, GetDemographics, Add/Revise, Merge), cr_fhir_patient_
 * parse on every Patient entry it found, and cr_fhir_envelope_reply /
 * cr_fhir_envelope_error_reply echoing what was read, as the response
 * does.  Invariants: the result is always set, the status agrees with
 * the outcome, every response Bundle serialises to JSON we parse again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fuzz_common.h"

static const cr_json_limits_t json_limits = { 32, 65536, 1000 };
static const cr_fhir_limits_t fhir_limits = { 100, 65536 };

/* As the operations declare them (ops/cr_op_*.c). */
static const cr_envelope_rules_t rules[] = {
    { CR_BC_TXN_FC, 2, 3, 0, 1, 0, 1 },
    { CR_BC_TXN_GD, 2, 2, 1, 1, 0, 0 },
    { CR_BC_TXN_RP, 2, 3, 1, 1, 0, 1 },
    { CR_BC_TXN_PM, 2, 2, 1, 1, 0, 0 }
};

static apr_pool_t *root_pool;

static void reparse(apr_pool_t *pool, json_object *o)
{
    json_object *again = NULL;
    apr_size_t len;
    const char *text;

    CR_FUZZ_ASSERT(o != NULL);
    text = cr_json_serialize(pool, o, &len);
    CR_FUZZ_ASSERT(cr_json_parse(&again, pool, text, len, NULL, NULL)
                   == APR_SUCCESS);
}

static void envelope(apr_pool_t *pool, json_object *doc,
                     const cr_envelope_rules_t *r)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_envelope_in_t *in = NULL;
    cr_envelope_reply_t reply;
    apr_status_t rv;
    int i;

    rv = cr_fhir_envelope_parse(&in, pool, doc, r, oc);
    CR_FUZZ_ASSERT(in != NULL && in->patients && in->related);
    CR_FUZZ_ASSERT((rv == APR_SUCCESS) == (cr_outcome_errors(oc) == 0));
    memset(&reply, 0, sizeof(reply));
    reply.meta.message_id = "urn:uuid:00000000-0000-4000-8000-000000000000";
    reply.meta.request_message_id = in->message_id;
    reply.meta.sender = in->sender;
    reply.meta.enterer = "fuzz@example";
    reply.meta.history = in->history;
    reply.meta.identifiers_only = in->identifiers_only;
    reply.meta.request_parameters = in->parameters;
    if (rv != APR_SUCCESS) {
        reparse(pool, cr_fhir_envelope_error_reply(pool, r->txn, oc,
                                                   &reply.meta,
                                                   "2026-01-15T10:00:00Z"));
        return;
    }
    reply.results = apr_array_make(pool, 2, sizeof(cr_envelope_result_t));
    for (i = 0; i < in->patients->nelts; i++) {
        const cr_envelope_entry_t *e = &APR_ARRAY_IDX(
            in->patients, i, cr_envelope_entry_t);
        cr_patient_t *p = NULL;
        cr_envelope_result_t *res;
        CR_FUZZ_ASSERT(e->resource != NULL && e->expr != NULL);
        cr_fhir_patient_parse(&p, pool, e->resource, e->expr, "2026-01-15",
                              &fhir_limits, oc);
        res = apr_array_push(reply.results);
        memset(res, 0, sizeof(*res));
        res->full_url = e->full_url;
        res->resource = e->resource;
        res->mode = "match";
        res->has_score = i & 1;
        res->score = 1000 - i;
    }
    reply.txn = r->txn;
    reply.type = r->txn == CR_BC_TXN_FC || r->txn == CR_BC_TXN_GD
                 ? "searchset" : "collection";
    reply.id = "00000000-0000-4000-8000-000000000001";
    reply.timestamp = "2026-01-15T10:00:00Z";
    reply.total = -1;
    reply.link_self = "https://registry.example/fhir/Patient/$op";
    reply.oc = oc;
    reparse(pool, cr_fhir_envelope_reply(pool, &reply));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    json_object *doc = NULL;
    size_t i;

    if (root_pool == NULL) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        cr_fuzz_pool_enable();
    }
    apr_pool_create(&pool, root_pool);
    if (cr_json_parse(&doc, pool, (const char *)data, size, &json_limits,
                      NULL) == APR_SUCCESS) {
        for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
            envelope(pool, doc, &rules[i]);
        }
    }
    apr_pool_destroy(pool);
    return 0;
}
