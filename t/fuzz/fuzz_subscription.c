/* fuzz_subscription: a partner's Subscription body through what
 * POST/PUT [base]/Subscription do with it before storing: cr_json_parse,
 * cr_fhir_subscription_parse, cr_fhir_subscription_endpoint_allowed.
 * Invariants: success exactly when the outcome has no error; an accepted
 * Subscription has a status of active or off, at least one event code,
 * its event_codes text names exactly its code bits, and an endpoint
 * within the length limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fhir/cr_events.h"
#include "fhir/cr_fhir_subscription.h"
#include "fuzz_common.h"

static const cr_json_limits_t json_limits = { 32, 65536, 1000 };
static const char *const allow[] = { "http://127.0.0.1", "http://localhost",
                                     "https://partner.example.org/" };

static apr_pool_t *root_pool;

static void check(apr_pool_t *pool, json_object *doc)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_sub_input_t in;
    apr_status_t rv = cr_fhir_subscription_parse(&in, pool, doc, oc);
    char *codes, *code, *last;
    unsigned seen = 0;

    CR_FUZZ_ASSERT((rv == APR_SUCCESS) == (cr_outcome_errors(oc) == 0));
    if (rv != APR_SUCCESS) {
        return;
    }
    CR_FUZZ_ASSERT(strcmp(in.status, "active") == 0
                   || strcmp(in.status, "off") == 0);
    CR_FUZZ_ASSERT(in.codes != 0 && in.event_codes != NULL);
    codes = apr_pstrdup(pool, in.event_codes);
    for (code = apr_strtok(codes, " ", &last); code;
         code = apr_strtok(NULL, " ", &last)) {
        unsigned bit = cr_events_bit(code);
        CR_FUZZ_ASSERT(bit != 0 && !(seen & bit));
        seen |= bit;
    }
    CR_FUZZ_ASSERT(seen == in.codes);
    CR_FUZZ_ASSERT(in.endpoint != NULL
                   && strlen(in.endpoint) <= CR_SUB_MAX_ENDPOINT);
    (void)cr_fhir_subscription_endpoint_allowed(in.endpoint, allow, 3);
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
        check(pool, doc);
    }
    apr_pool_destroy(pool);
    return 0;
}
