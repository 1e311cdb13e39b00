/*
 * test_cr_fhir_subscription.c: the Subscription validator
 * (fhir/cr_fhir_subscription.c) on the IG's
 * Subscription-SampleCompositeSubscriptionRequest (payload fixed) and on
 * each refused field: the issue code and expression (CR-SUB-002..005,
 * CR-TERM-002), all problems reported at once; and the endpoint
 * allow-list's whole-prefix matching.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fhir/cr_events.h"
#include "fhir/cr_fhir_subscription.h"
#include "cr_test_pool.h"

#define TOPIC "http://hlth.gov.bc.ca/fhir/client/SubscriptionTopic/" \
              "HCIMPatientChangeDistribution"
#define BACKPORT "http://hl7.org/fhir/uv/subscriptions-backport/" \
                 "StructureDefinition/"

/* The IG sample with its payload fixed; %s are status, criteria, filter,
 * channel type, endpoint, payload, payload content. */
static const char *sample(apr_pool_t *pool, const char *status,
                          const char *criteria, const char *filter,
                          const char *type, const char *endpoint,
                          const char *payload, const char *content)
{
    return apr_psprintf(pool,
        "{\"resourceType\":\"Subscription\",\"id\":\"x\",\"status\":\"%s\","
        "\"reason\":\"r\",\"criteria\":\"%s\",\"_criteria\":{\"extension\":"
        "[{\"url\":\"" BACKPORT "backport-filter-criteria\","
        "\"valueString\":\"%s\"}]},\"channel\":{\"type\":\"%s\","
        "\"endpoint\":\"%s\",\"payload\":\"%s\",\"_payload\":{\"extension\":"
        "[{\"url\":\"" BACKPORT "backport-payload-content\","
        "\"valueCode\":\"%s\"}]}}}",
        status, criteria, filter, type, endpoint, payload, content);
}

#define GOOD(pool) sample(pool, "active", TOPIC, "eventCode=COMPOSITE", \
    "rest-hook", "http://127.0.0.1/p", "application/fhir+json", \
    "full-resource")

static apr_status_t check(apr_pool_t *pool, const char *text,
                          cr_sub_input_t *in, cr_outcome_t **oc)
{
    json_object *j = NULL;

    *oc = cr_outcome_make(pool);
    assert_int_equal(cr_json_parse(&j, pool, text, strlen(text), NULL, NULL),
                     APR_SUCCESS);
    return cr_fhir_subscription_parse(in, pool, j, *oc);
}

/* The one error of text: "code@expression". */
static const char *error_of(apr_pool_t *pool, const char *text)
{
    cr_sub_input_t in;
    cr_outcome_t *oc;
    const cr_issue_t *is;

    assert_int_equal(check(pool, text, &in, &oc), APR_EINVAL);
    assert_int_equal(cr_outcome_errors(oc), 1);
    is = cr_outcome_first_error(oc);
    return apr_psprintf(pool, "%s@%s", is->code,
                        is->expression ? is->expression : "");
}

static void test_sample(void **state)
{
    apr_pool_t *pool = *state;
    cr_sub_input_t in;
    cr_outcome_t *oc;

    /* CR-SUB-001 */
    assert_int_equal(check(pool, GOOD(pool), &in, &oc), APR_SUCCESS);
    assert_int_equal(cr_outcome_errors(oc), 0);
    assert_string_equal(in.status, "active");
    assert_int_equal(in.codes, CR_EVT_COMPOSITE);
    assert_string_equal(in.event_codes, "COMPOSITE");
    assert_string_equal(in.endpoint, "http://127.0.0.1/p");
    assert_string_equal(in.id, "x");
    /* requested is active; off stays off; the topic resource's url. */
    assert_int_equal(check(pool, sample(pool, "requested", TOPIC "Topic",
        "eventCode=EID,NEW,NEW", "rest-hook", "https://localhost:8443/a/b",
        "application/fhir+json", "full-resource"), &in, &oc), APR_SUCCESS);
    assert_string_equal(in.status, "active");
    assert_string_equal(in.event_codes, "NEW EID");
    assert_int_equal(check(pool, sample(pool, "off", TOPIC,
        "eventCode=SSRI", "rest-hook", "http://127.0.0.1/p",
        "application/fhir+json", "full-resource"), &in, &oc), APR_SUCCESS);
    assert_string_equal(in.status, "off");
}

static void test_refused(void **state)
{
    apr_pool_t *pool = *state;
    const char *ep = "http://127.0.0.1/p", *mime = "application/fhir+json";
    const char *f0 = "Subscription._criteria.extension[0].valueString";

    /* CR-SUB-002 */
    assert_string_equal(error_of(pool, sample(pool, "active",
        "http://example.org/SubscriptionTopic/Other", "eventCode=NEW",
        "rest-hook", ep, mime, "full-resource")),
        "not-supported@Subscription.criteria");
    /* CR-SUB-004, CR-TERM-002 */
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=COMP", "rest-hook", ep, mime, "full-resource")),
        apr_pstrcat(pool, "code-invalid@", f0, NULL));
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=", "rest-hook", ep, mime, "full-resource")),
        apr_pstrcat(pool, "value@", f0, NULL));
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "Patient?eventCode=NEW", "rest-hook", ep, mime, "full-resource")),
        apr_pstrcat(pool, "value@", f0, NULL));
    /* CR-SUB-003 */
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "email", ep, mime, "full-resource")),
        "not-supported@Subscription.channel.type");
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "rest-hook", "127.0.0.1/p", mime,
        "full-resource")), "value@Subscription.channel.endpoint");
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "rest-hook", "http://h/p#frag", mime,
        "full-resource")), "value@Subscription.channel.endpoint");
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "rest-hook", "http:///p", mime,
        "full-resource")), "value@Subscription.channel.endpoint");
    /* CR-SUB-005 */
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "rest-hook", ep, mime, "empty")),
        "not-supported@Subscription.channel._payload.extension[0]."
        "valueCode");
    assert_string_equal(error_of(pool, sample(pool, "active", TOPIC,
        "eventCode=NEW", "rest-hook", ep, "application/fhir+json\\\"",
        "full-resource")), "not-supported@Subscription.channel.payload");
    assert_string_equal(error_of(pool, sample(pool, "error", TOPIC,
        "eventCode=NEW", "rest-hook", ep, mime, "full-resource")),
        "value@Subscription.status");
    assert_string_equal(error_of(pool, "{\"resourceType\":\"Patient\"}"),
        "structure@Subscription.resourceType");
    assert_string_equal(error_of(pool, "[]"), "structure@Subscription");
}

/* Every problem at once, each named. */
static void test_all_at_once(void **state)
{
    apr_pool_t *pool = *state;
    cr_sub_input_t in;
    cr_outcome_t *oc;

    assert_int_equal(check(pool, "{\"resourceType\":\"Subscription\"}", &in,
                           &oc), APR_EINVAL);
    assert_int_equal(cr_outcome_errors(oc), 5);
    assert_int_equal(check(pool, sample(pool, "bad", "x",
        "eventCode=NEW,NOPE,OLD", "sms", "ftp://x", "text/plain", "id-only"),
        &in, &oc), APR_EINVAL);
    /* status, criteria, two codes, type, endpoint, payload, content. */
    assert_int_equal(cr_outcome_errors(oc), 8);
}

static void test_allow(void **state)
{
    const char *const pre[] = { "http://127.0.0.1", "http://localhost",
                                "https://partner.example.org/fhir/" };

    (void)state;
    assert_true(cr_fhir_subscription_endpoint_allowed(
        "http://127.0.0.1", pre, 3));
    assert_true(cr_fhir_subscription_endpoint_allowed(
        "http://127.0.0.1:8080/x", pre, 3));
    assert_true(cr_fhir_subscription_endpoint_allowed(
        "http://localhost/fhir", pre, 3));
    assert_true(cr_fhir_subscription_endpoint_allowed(
        "https://partner.example.org/fhir/notify", pre, 3));
    assert_false(cr_fhir_subscription_endpoint_allowed(
        "http://127.0.0.1.example.org/", pre, 3));
    assert_false(cr_fhir_subscription_endpoint_allowed(
        "http://localhostile.org/", pre, 3));
    assert_false(cr_fhir_subscription_endpoint_allowed(
        "https://127.0.0.1/x", pre, 3));
    assert_false(cr_fhir_subscription_endpoint_allowed(
        "https://partner.example.org/other", pre, 3));
    assert_false(cr_fhir_subscription_endpoint_allowed(
        "http://127.0.0.1/x", pre, 0));
    assert_false(cr_fhir_subscription_endpoint_allowed(NULL, pre, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sample, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_refused, setup_pool,
                                        teardown_pool),
        cmocka_unit_test_setup_teardown(test_all_at_once, setup_pool,
                                        teardown_pool),
        cmocka_unit_test(test_allow),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
