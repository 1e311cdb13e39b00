/* cr_text: text checks and encodings that every layer needs and that
 * know nothing of FHIR resources, matching or SQL: UTF-8 validity,
 * application/x-www-form-urlencoded decoding and percent-encoding of query
 * values, and the shape of a FHIR resource id.  They used to live in the
 * search parser (and, for ids, in three private copies), which made the
 * audit store, the request layer and the identity mapping depend on
 * search for a byte check.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_text.h"

int cr_text_utf8_ok(const char *s, apr_size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    apr_size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        apr_size_t n, k;
        unsigned int cp;
        if (c == 0) {
            return 0;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        for (k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += n + 1;
    }
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

apr_status_t cr_text_url_decode(const char **out, apr_pool_t *pool,
                                const char *s, apr_size_t len)
{
    char *buf = apr_palloc(pool, len + 1);
    apr_size_t i, o = 0;

    *out = NULL;
    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            buf[o++] = ' ';
        }
        else if (s[i] == '%') {
            int h, l;
            if (i + 2 >= len) {
                return APR_EINVAL;
            }
            h = hexval(s[i + 1]);
            l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                return APR_EINVAL;
            }
            buf[o++] = (char)(h * 16 + l);
            i += 2;
        }
        else {
            buf[o++] = s[i];
        }
    }
    buf[o] = '\0';
    if (!cr_text_utf8_ok(buf, o)) {
        return APR_EINVAL;
    }
    *out = buf;
    return APR_SUCCESS;
}

const char *cr_text_url_encode(apr_pool_t *pool, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = strlen(s), i, o = 0;
    char *buf = apr_palloc(pool, n * 3 + 1);

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~') {
            buf[o++] = (char)c;
        }
        else {
            buf[o++] = '%';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    buf[o] = '\0';
    return buf;
}

int cr_text_id_ok(const char *s)
{
    apr_size_t n;

    for (n = 0; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            return 0;
        }
    }
    return n > 0 && n <= CR_TEXT_ID_MAX;
}
