/*
 * test_cr_oauth.c: unit tests for cr_oauth, the registry's outbound
 * OAuth2 client-credentials logic (CR-NOT-007) without the network: the
 * token request body, the parsing of token answers (good, and each way
 * one can be wrong) and the cache rule (a token is used until shortly
 * before it expires).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>

#include "core/cr_oauth.h"
#include "cr_test_pool.h"

#define CR_TEST(name, fn) { name, fn, setup_pool, teardown_pool, NULL }

static apr_status_t parse(cr_oauth_token_t *t, const char *json,
                          apr_time_t now, const char **why)
{
    return cr_oauth_parse_token(t, json, strlen(json), now, why);
}

static void test_request_body(void **state)
{
    apr_pool_t *pool = *state;

    assert_string_equal(cr_oauth_request_body(pool, NULL),
                        "grant_type=client_credentials");
    assert_string_equal(cr_oauth_request_body(pool, ""),
                        "grant_type=client_credentials");
    assert_string_equal(cr_oauth_request_body(pool, "system/Patient.read "
                                              "notify"),
                        "grant_type=client_credentials&scope="
                        "system%2FPatient.read%20notify");
    assert_string_equal(cr_oauth_request_body(pool, "a:b&c=d\xc3\xa9~"),
                        "grant_type=client_credentials&scope="
                        "a%3Ab%26c%3Dd%C3%A9~");
}

static void test_parse_good(void **state)
{
    cr_oauth_token_t t;
    const char *why = "x";
    apr_time_t now = apr_time_from_sec(1000000);

    (void)state;
    assert_int_equal(parse(&t, "{\"access_token\":\"abc.DEF-_~+/=\","
                           "\"token_type\":\"bearer\",\"expires_in\":300,"
                           "\"scope\":\"x\"}", now, &why), APR_SUCCESS);
    assert_null(why);
    assert_string_equal(t.value, "abc.DEF-_~+/=");
    /* 300 s: a margin of 30 s. */
    assert_true(t.use_until == now + apr_time_from_sec(270));
    assert_true(cr_oauth_token_usable(&t, now));
    assert_true(cr_oauth_token_usable(&t, now + apr_time_from_sec(269)));
    assert_false(cr_oauth_token_usable(&t, now + apr_time_from_sec(270)));
}

static void test_margins(void **state)
{
    cr_oauth_token_t t;
    const char *why;
    apr_time_t now = 0;

    (void)state;
    /* Long-lived: at most 60 s early. */
    assert_int_equal(parse(&t, "{\"access_token\":\"a\",\"token_type\":"
                           "\"Bearer\",\"expires_in\":3600}", now, &why),
                     APR_SUCCESS);
    assert_true(t.use_until == apr_time_from_sec(3540));
    /* Short: at least 5 s early ... */
    assert_int_equal(parse(&t, "{\"access_token\":\"a\",\"token_type\":"
                           "\"Bearer\",\"expires_in\":20}", now, &why),
                     APR_SUCCESS);
    assert_true(t.use_until == apr_time_from_sec(15));
    /* ... but never more than half of its life. */
    assert_int_equal(parse(&t, "{\"access_token\":\"a\",\"token_type\":"
                           "\"Bearer\",\"expires_in\":4}", now, &why),
                     APR_SUCCESS);
    assert_true(t.use_until == apr_time_from_sec(2));
    /* No expires_in: the default lifetime (60 s, 6 s early). */
    assert_int_equal(parse(&t, "{\"access_token\":\"a\",\"token_type\":"
                           "\"Bearer\"}", now, &why), APR_SUCCESS);
    assert_true(t.use_until == apr_time_from_sec(54));
}

static void test_parse_bad(void **state)
{
    static const struct {
        const char *json, *why;
    } bad[] = {
        { "", "the token answer is not a JSON object" },
        { "[1]", "the token answer is not a JSON object" },
        { "{\"error\":\"invalid_client\"}",
          "access_token is missing or malformed" },
        { "{\"access_token\":\"\",\"token_type\":\"Bearer\"}",
          "access_token is missing or malformed" },
        { "{\"access_token\":\"a b\",\"token_type\":\"Bearer\"}",
          "access_token is missing or malformed" },
        { "{\"access_token\":\"a\\r\\nX: y\",\"token_type\":\"Bearer\"}",
          "access_token is missing or malformed" },
        { "{\"access_token\":7,\"token_type\":\"Bearer\"}",
          "access_token is missing or malformed" },
        { "{\"access_token\":\"a\",\"token_type\":\"mac\"}",
          "token_type is not Bearer" },
        { "{\"access_token\":\"a\"}", "token_type is not Bearer" },
        { "{\"access_token\":\"a\",\"token_type\":\"Bearer\","
          "\"expires_in\":0}",
          "expires_in is not a positive number of seconds" },
        { "{\"access_token\":\"a\",\"token_type\":\"Bearer\","
          "\"expires_in\":\"300\"}",
          "expires_in is not a positive number of seconds" },
        { "{\"access_token\":\"a\",\"token_type\":\"Bearer\","
          "\"expires_in\":-5}",
          "expires_in is not a positive number of seconds" },
    };
    cr_oauth_token_t t;
    const char *why;
    apr_size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        assert_int_not_equal(parse(&t, bad[i].json, 0, &why), APR_SUCCESS);
        assert_non_null(why);
        assert_string_equal(why, bad[i].why);
        assert_false(cr_oauth_token_usable(&t, 0));
    }
}

static void test_too_long(void **state)
{
    apr_pool_t *pool = *state;
    char *tok = apr_palloc(pool, CR_OAUTH_TOKEN_MAX + 2);
    cr_oauth_token_t t;
    const char *why, *json;

    memset(tok, 'a', CR_OAUTH_TOKEN_MAX + 1);
    tok[CR_OAUTH_TOKEN_MAX + 1] = '\0';
    json = apr_pstrcat(pool, "{\"access_token\":\"", tok,
                       "\",\"token_type\":\"Bearer\"}", NULL);
    assert_int_not_equal(parse(&t, json, 0, &why), APR_SUCCESS);
    tok[CR_OAUTH_TOKEN_MAX] = '\0';
    json = apr_pstrcat(pool, "{\"access_token\":\"", tok,
                       "\",\"token_type\":\"Bearer\"}", NULL);
    assert_int_equal(parse(&t, json, 0, &why), APR_SUCCESS);
    assert_int_equal(strlen(t.value), CR_OAUTH_TOKEN_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-NOT-007 token request body", test_request_body),
        CR_TEST("CR-NOT-007 token answer parsed", test_parse_good),
        CR_TEST("CR-NOT-007 cached until shortly before expiry",
                test_margins),
        CR_TEST("CR-NOT-007 bad token answers refused", test_parse_bad),
        CR_TEST("CR-NOT-007 token length limit", test_too_long),
    };
    return cmocka_run_group_tests_name("cr_oauth", tests, group_setup,
                                       group_teardown);
}
