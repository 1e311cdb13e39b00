/* cr_fhir_subscription: a partner's Subscription (FHIR R4 with the
 * subscriptions backport 1.1.0, profile HCIMPatientChangeSubscription;
 * operations.md 7.2, CR-SUB-001..005) read and checked into what the
 * registry keeps of it.
 *
 * A pure parser and validator: every problem is an issue of the outcome
 * naming its element (FHIRPath expression), so that a partner can fix a
 * request in one go.  Shape problems (missing, wrong JSON type,
 * malformed values) are codes "required", "structure", "value" (400);
 * what the registry does not serve is "not-supported" (another topic, a
 * channel other than rest-hook, a payload other than full-resource
 * application/fhir+json) and an event code outside the change-
 * notification code system is "code-invalid" (422).  What needs the
 * server's configuration (the endpoint allow-list) or the caller (the
 * owner) is checked by ops/cr_subscription.c.
 */
#ifndef CR_FHIR_SUBSCRIPTION_H
#define CR_FHIR_SUBSCRIPTION_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "core/cr_outcome.h"

/* Longest channel.endpoint accepted. */
#define CR_SUB_MAX_ENDPOINT 2048
/* Most filter criteria (and codes in one) looked at. */
#define CR_SUB_MAX_FILTERS 32

typedef struct cr_sub_input_t {
    const char *status;       /* "active" (for requested or active) or
                                 "off" */
    unsigned codes;           /* fhir/cr_events.h bits */
    const char *event_codes;  /* the codes, space separated, in the code
                                 system's order */
    const char *endpoint;     /* channel.endpoint */
    const char *id;           /* Subscription.id as sent, or NULL */
} cr_sub_input_t;

/* Check json as a Subscription; *out is filled when there is no error.
 * Returns APR_SUCCESS, or APR_EINVAL with the issues in oc. */
apr_status_t cr_fhir_subscription_parse(cr_sub_input_t *out,
                                        apr_pool_t *pool, json_object *json,
                                        cr_outcome_t *oc);

/* Whether endpoint starts with one of the prefixes (of const char *);
 * a prefix matches only whole: up to its end, where the endpoint goes on
 * with '/', ':' (port) or ends, unless the prefix itself ends in '/'.
 * So http://127.0.0.1 allows http://127.0.0.1:8080/x but not
 * http://127.0.0.1.example.org. */
int cr_fhir_subscription_endpoint_allowed(const char *endpoint,
                                          const char *const *prefixes,
                                          int nprefixes);

#endif /* CR_FHIR_SUBSCRIPTION_H */
