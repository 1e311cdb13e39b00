/* cr_oauth: client-credentials request body, token answer parsing and the
 * cache rule (see cr_oauth.h). */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <json-c/json.h>

#include "core/cr_json.h"
#include "core/cr_oauth.h"
#include "core/cr_text.h"

const char *cr_oauth_request_body(apr_pool_t *pool, const char *scope)
{
    if (scope == NULL || *scope == '\0') {
        return "grant_type=client_credentials";
    }
    return apr_pstrcat(pool, "grant_type=client_credentials&scope=",
                       cr_text_url_encode(pool, scope), NULL);
}

/* RFC 6750 b64token characters (and the other visible ones JWTs use):
 * nothing that could break the Authorization header. */
static int token_ok(const char *t, apr_size_t n)
{
    apr_size_t i;

    if (n == 0 || n > CR_OAUTH_TOKEN_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',') {
            return 0;
        }
    }
    return 1;
}

apr_status_t cr_oauth_parse_token(cr_oauth_token_t *out, const char *json,
                                  apr_size_t len, apr_time_t now,
                                  const char **why)
{
    apr_pool_t *pool;
    json_object *o = NULL, *v;
    const char *tok, *type;
    apr_int64_t life = CR_OAUTH_DEFAULT_LIFETIME, margin;
    apr_status_t rv = APR_EGENERAL;

    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        *why = "out of memory";
        return APR_ENOMEM;
    }
    if (json == NULL || cr_json_parse(&o, pool, json, len, NULL, NULL)
                        != APR_SUCCESS
        || !json_object_is_type(o, json_type_object)) {
        *why = "the token answer is not a JSON object";
        goto done;
    }
    tok = cr_json_get_string(o, "access_token");
    type = cr_json_get_string(o, "token_type");
    if (tok == NULL || !token_ok(tok, strlen(tok))) {
        *why = "access_token is missing or malformed";
        goto done;
    }
    if (type == NULL || strcasecmp(type, "Bearer") != 0) {
        *why = "token_type is not Bearer";
        goto done;
    }
    if ((v = cr_json_get(o, "expires_in")) != NULL) {
        if (!json_object_is_type(v, json_type_int)
            || (life = json_object_get_int64(v)) <= 0
            || life > 366 * 86400) {
            *why = "expires_in is not a positive number of seconds";
            goto done;
        }
    }
    margin = life / 10;
    margin = margin < 5 ? 5 : margin > 60 ? 60 : margin;
    if (margin > life / 2) {
        margin = life / 2;
    }
    memcpy(out->value, tok, strlen(tok) + 1);
    out->use_until = now + apr_time_from_sec(life - margin);
    rv = APR_SUCCESS;
done:
    apr_pool_destroy(pool);
    return rv;
}

int cr_oauth_token_usable(const cr_oauth_token_t *t, apr_time_t now)
{
    return t->value[0] != '\0' && now < t->use_until;
}
