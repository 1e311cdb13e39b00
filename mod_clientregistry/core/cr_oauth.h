/* cr_oauth: the registry as an OAuth2 client (client credentials, RFC 6749
 * 4.4) when it calls partners (CR-NOT-007): the token request body, the
 * parsing of the token endpoint's answer, and the cache rule (use a token
 * until shortly before it expires).  Pure logic without network or locks,
 * so that it is unit-tested on its own (t/unit/test_cr_oauth.c); the
 * HTTP exchange and the per-process cache with its mutex are
 * httpd/cr_outbound.c's.
 */
#ifndef CR_OAUTH_H
#define CR_OAUTH_H

#include <apr_pools.h>
#include <apr_time.h>

/* Longest access token kept (the cache holds it in a fixed buffer shared
 * by the threads of a process). */
#define CR_OAUTH_TOKEN_MAX 4096

/* A cached token: usable while now < use_until. */
typedef struct cr_oauth_token_t {
    char value[CR_OAUTH_TOKEN_MAX + 1];   /* "" when none */
    apr_time_t use_until;
} cr_oauth_token_t;

/* Lifetime assumed when the answer has no expires_in. */
#define CR_OAUTH_DEFAULT_LIFETIME 60

/* The application/x-www-form-urlencoded body of a client-credentials
 * token request; scope may be NULL (none sent), else percent-encoded
 * (cr_text_url_encode).  The client authenticates with HTTP Basic, its id
 * and secret percent-encoded first (RFC 6749 2.3.1). */
const char *cr_oauth_request_body(apr_pool_t *pool, const char *scope);

/* Parse the token endpoint's answer (JSON text of len bytes) received at
 * now into *out: access_token (1 to CR_OAUTH_TOKEN_MAX visible ASCII
 * characters, no spaces or quotes), token_type "Bearer" (any case),
 * expires_in (seconds, > 0; CR_OAUTH_DEFAULT_LIFETIME when absent).  The
 * token is used until expires_in minus a margin (a tenth of it, at least
 * 5 and at most 60 seconds, never below half of it).  APR_SUCCESS, or
 * APR_EGENERAL with *why naming the problem (a static string). */
apr_status_t cr_oauth_parse_token(cr_oauth_token_t *out, const char *json,
                                  apr_size_t len, apr_time_t now,
                                  const char **why);

/* 1 when t holds a token that may still be used at now. */
int cr_oauth_token_usable(const cr_oauth_token_t *t, apr_time_t now);

#endif /* CR_OAUTH_H */
