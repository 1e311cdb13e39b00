/* cr_json: strict, bounded JSON parsing and pool-owned json-c documents.
 *
 * json-c's tokener enforces the depth limit and the grammar; what it does
 * not know are the string- and array-length limits, a NUL inside a string
 * (legal JSON, never legal FHIR), and trailing bytes after the document.
 * Those are checked here, in one bounded walk after parsing.  Its strict
 * mode and UTF-8 check also let through what lex_check (below) rejects
 * before the tokenizer runs.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "core/cr_json.h"

const cr_json_limits_t cr_json_default_limits = {
    32,             /* max_depth */
    1024 * 1024,    /* max_string */
    10000           /* max_array */
};

static apr_status_t json_release(void *data)
{
    json_object_put((json_object *)data);
    return APR_SUCCESS;
}

json_object *cr_json_own(apr_pool_t *pool, json_object *obj)
{
    if (obj) {
        apr_pool_cleanup_register(pool, obj, json_release,
                                  apr_pool_cleanup_null);
    }
    return obj;
}

static void locate(cr_json_error_t *err, const char *buf, apr_size_t len,
                   apr_size_t offset)
{
    apr_size_t i;
    int line = 1, col = 1;

    if (offset > len) {
        offset = len;
    }
    for (i = 0; i < offset; i++) {
        if (buf[i] == '\n') {
            line++;
            col = 1;
        }
        else {
            col++;
        }
    }
    err->offset = offset;
    err->line = line;
    err->column = col;
}

static void set_err(cr_json_error_t *err, cr_json_error_e kind,
                    const char *message)
{
    if (err) {
        err->kind = kind;
        err->message = message;
    }
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), or 0 for
 * an overlong form, a surrogate, a code point above U+10FFFF, a stray or
 * missing continuation byte, or a sequence cut off by the end of input. */
static apr_size_t utf8_len(const unsigned char *p, apr_size_t avail)
{
    unsigned char lo = 0x80, hi = 0xbf;
    apr_size_t n, k;

    if (p[0] < 0x80) {
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
    }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        lo = p[0] == 0xe0 ? 0xa0 : 0x80;   /* overlong */
        hi = p[0] == 0xed ? 0x9f : 0xbf;   /* surrogates */
    }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        lo = p[0] == 0xf0 ? 0x90 : 0x80;   /* overlong */
        hi = p[0] == 0xf4 ? 0x8f : 0xbf;   /* above U+10FFFF */
    }
    else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (k = 2; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* Value of the 4 hex digits at p, or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    int k;

    for (k = 0; k < 4; k++) {
        unsigned char c = p[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        }
        else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        }
        else if (c >= 'A' && c <= 'F') {
            v |= c - 'A' + 10;
        }
        else {
            return -1;
        }
    }
    return v;
}

static int is_delim(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ','
           || c == ']' || c == '}' || c == ':';
}

#define LEX_FAIL(kind, at, text) \
    do { *where = (at); *msg = (text); return (kind); } while (0)

/* A lexical pass over the raw bytes, because json-c 0.16's strict mode
 * still accepts NaN and Infinity, single-quoted keys, numbers such as
 * "1.", raw control characters in strings, and UTF-8 that is overlong,
 * encodes a surrogate or lies above U+10FFFF; it also silently turns
 * "\u0000" in a key and lone surrogate escapes into other text.  Every
 * token must be a JSON string, number, true/false/null or punctuation;
 * the grammar is left to json-c.  Input cut off inside a token passes
 * (json-c reports the unexpected end), except a cut UTF-8 sequence.  It
 * also enforces max_depth on the nesting of objects and arrays. */
static cr_json_error_e lex_check(const char *buf, apr_size_t len,
                                 int max_depth, apr_size_t *where,
                                 const char **msg)
{
    const unsigned char *p = (const unsigned char *)buf;
    apr_size_t i = 0, j;
    int depth = 0;

    while (i < len) {
        unsigned char c = p[i];
        if (c == '{' || c == '[') {
            /* Containers are counted here, because json-c counts values:
             * to it, a scalar inside max_depth arrays is one too deep. */
            if (++depth > max_depth) {
                LEX_FAIL(CR_JSON_ERR_DEPTH, i, "the JSON is nested deeper "
                         "than the configured limit");
            }
            i++;
        }
        else if (c == '}' || c == ']') {
            depth -= depth > 0;
            i++;
        }
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\n'
                 || c == ':' || c == ',') {
            i++;
        }
        else if (c == '"') {
            for (i++; ; ) {
                if (i >= len) {
                    return CR_JSON_ERR_NONE;
                }
                c = p[i];
                if (c == '"') {
                    i++;
                    break;
                }
                if (c == 0) {
                    LEX_FAIL(CR_JSON_ERR_UTF8, i,
                             "a string contains a NUL character");
                }
                if (c < 0x20) {
                    LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "a string contains an "
                             "unescaped control character");
                }
                if (c >= 0x80) {
                    apr_size_t n = utf8_len(p + i, len - i);
                    if (n == 0) {
                        LEX_FAIL(CR_JSON_ERR_UTF8, i,
                                 "the body is not valid UTF-8");
                    }
                    i += n;
                    continue;
                }
                if (c != '\\') {
                    i++;
                    continue;
                }
                if (i + 1 >= len) {
                    return CR_JSON_ERR_NONE;
                }
                c = p[i + 1];
                if (c == 'u') {
                    long u, u2;
                    if (i + 6 > len) {
                        return CR_JSON_ERR_NONE;
                    }
                    if ((u = hex4(p + i + 2)) < 0) {
                        LEX_FAIL(CR_JSON_ERR_SYNTAX, i,
                                 "invalid \\u escape in a string");
                    }
                    if (u == 0) {
                        LEX_FAIL(CR_JSON_ERR_UTF8, i,
                                 "a string contains a NUL character");
                    }
                    if (u >= 0xdc00 && u <= 0xdfff) {
                        LEX_FAIL(CR_JSON_ERR_UTF8, i, "a string contains "
                                 "an unpaired surrogate escape");
                    }
                    if (u >= 0xd800 && u <= 0xdbff) {
                        if (i + 12 > len || p[i + 6] != '\\'
                            || p[i + 7] != 'u'
                            || (u2 = hex4(p + i + 8)) < 0xdc00
                            || u2 > 0xdfff) {
                            LEX_FAIL(CR_JSON_ERR_UTF8, i, "a string "
                                     "contains an unpaired surrogate "
                                     "escape");
                        }
                        i += 12;
                    }
                    else {
                        i += 6;
                    }
                }
                else if (c == '"' || c == '\\' || c == '/' || c == 'b'
                         || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                    i += 2;
                }
                else {
                    LEX_FAIL(CR_JSON_ERR_SYNTAX, i,
                             "invalid escape in a string");
                }
            }
        }
        else if (c == '-' || (c >= '0' && c <= '9')) {
            /* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
            j = i + (c == '-');
            if (j < len && p[j] == '0') {
                j++;
            }
            else if (j < len && p[j] >= '1' && p[j] <= '9') {
                while (j < len && p[j] >= '0' && p[j] <= '9') {
                    j++;
                }
            }
            else if (j < len) {
                LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "invalid number");
            }
            if (j < len && p[j] == '.') {
                if (++j < len && !(p[j] >= '0' && p[j] <= '9')) {
                    LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "invalid number");
                }
                while (j < len && p[j] >= '0' && p[j] <= '9') {
                    j++;
                }
            }
            if (j < len && (p[j] == 'e' || p[j] == 'E')) {
                if (++j < len && (p[j] == '+' || p[j] == '-')) {
                    j++;
                }
                if (j < len && !(p[j] >= '0' && p[j] <= '9')) {
                    LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "invalid number");
                }
                while (j < len && p[j] >= '0' && p[j] <= '9') {
                    j++;
                }
            }
            if (j < len && !is_delim(p[j])) {
                LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "invalid number");
            }
            i = j;
        }
        else if (c >= 'a' && c <= 'z') {
            static const char *const words[] = { "true", "false", "null" };
            int w, ok = 0;
            for (w = 0; w < 3 && !ok; w++) {
                apr_size_t n = strlen(words[w]);
                apr_size_t have = len - i < n ? len - i : n;
                if (memcmp(p + i, words[w], have) == 0) {
                    if (have < n) {
                        return CR_JSON_ERR_NONE;   /* cut off */
                    }
                    if (i + n == len || is_delim(p[i + n])) {
                        ok = 1;
                        i += n;
                    }
                }
            }
            if (!ok) {
                LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "unexpected word (only "
                         "true, false and null are allowed)");
            }
        }
        else if (c == 0) {
            LEX_FAIL(CR_JSON_ERR_UTF8, i, "the body contains a NUL byte");
        }
        else if (c >= 0x80 && utf8_len(p + i, len - i) == 0) {
            LEX_FAIL(CR_JSON_ERR_UTF8, i, "the body is not valid UTF-8");
        }
        else {
            LEX_FAIL(CR_JSON_ERR_SYNTAX, i, "unexpected character");
        }
    }
    return CR_JSON_ERR_NONE;
}

/* Walks the parsed tree checking the limits json-c does not enforce.
 * Depth is already bounded by the tokener, so the recursion is too. */
static cr_json_error_e check_tree(json_object *obj,
                                  const cr_json_limits_t *lim)
{
    switch (json_object_get_type(obj)) {
    case json_type_string: {
        int n = json_object_get_string_len(obj);
        const char *s = json_object_get_string(obj);
        if ((apr_size_t)n > lim->max_string) {
            return CR_JSON_ERR_STRING;
        }
        if (memchr(s, '\0', (size_t)n) != NULL) {
            return CR_JSON_ERR_UTF8;
        }
        return CR_JSON_ERR_NONE;
    }
    case json_type_array: {
        size_t i, n = json_object_array_length(obj);
        if (n > lim->max_array) {
            return CR_JSON_ERR_ARRAY;
        }
        for (i = 0; i < n; i++) {
            cr_json_error_e e = check_tree(json_object_array_get_idx(obj, i),
                                           lim);
            if (e != CR_JSON_ERR_NONE) {
                return e;
            }
        }
        return CR_JSON_ERR_NONE;
    }
    case json_type_object: {
        json_object_object_foreach(obj, key, val) {
            cr_json_error_e e;
            if (strlen(key) > lim->max_string) {
                return CR_JSON_ERR_STRING;
            }
            if (val == NULL) {
                continue;
            }
            e = check_tree(val, lim);
            if (e != CR_JSON_ERR_NONE) {
                return e;
            }
        }
        return CR_JSON_ERR_NONE;
    }
    default:
        return CR_JSON_ERR_NONE;
    }
}

/* The bytes of the JSON string whose contents are p[0..n) with its
 * escapes decoded (already validated by lex_check), in *out / *out_len. */
static void unescape(const char **out, apr_size_t *out_len, apr_pool_t *pool,
                     const unsigned char *p, apr_size_t n)
{
    unsigned char *d = apr_palloc(pool, n + 1);
    apr_size_t i = 0, o = 0;

    while (i < n) {
        long u;
        if (p[i] != '\\' || i + 1 >= n) {
            d[o++] = p[i++];
            continue;
        }
        if (p[i + 1] != 'u' || i + 6 > n) {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = memchr(from, p[i + 1], sizeof(from) - 1);
            d[o++] = k ? (unsigned char)to[k - from] : p[i + 1];
            i += 2;
            continue;
        }
        u = hex4(p + i + 2);
        i += 6;
        if (u >= 0xd800 && u <= 0xdbff && i + 6 <= n && p[i] == '\\'
            && p[i + 1] == 'u') {
            long lo = hex4(p + i + 2);
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        /* UTF-8 of u: never longer than the six bytes it came from. */
        if (u < 0x80) {
            d[o++] = (unsigned char)u;
        }
        else if (u < 0x800) {
            d[o++] = (unsigned char)(0xc0 | (u >> 6));
            d[o++] = (unsigned char)(0x80 | (u & 0x3f));
        }
        else if (u < 0x10000) {
            d[o++] = (unsigned char)(0xe0 | (u >> 12));
            d[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
            d[o++] = (unsigned char)(0x80 | (u & 0x3f));
        }
        else {
            d[o++] = (unsigned char)(0xf0 | (u >> 18));
            d[o++] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
            d[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
            d[o++] = (unsigned char)(0x80 | (u & 0x3f));
        }
    }
    *out = (const char *)d;
    *out_len = o;
}

/* One member name seen by dup_check: its bytes and where it stands. */
typedef struct dup_key_t {
    const char *name;
    apr_size_t len;
    apr_size_t at;           /* offset of its opening quote */
} dup_key_t;

/* One open container of dup_check. */
typedef struct dup_frame_t {
    int object;              /* 1 for an object, 0 for an array */
    int expect_key;          /* the next string of the object is a key */
    apr_array_header_t *keys;  /* of dup_key_t: this object's names */
} dup_frame_t;

static int cmp_keys(const void *x, const void *y)
{
    const dup_key_t *a = x, *b = y;
    apr_size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);

    if (c != 0) {
        return c;
    }
    if (a->len != b->len) {
        return a->len < b->len ? -1 : 1;
    }
    return a->at < b->at ? -1 : a->at > b->at;
}

/* The offset of the first repeated name of one object's keys (sorted
 * here), or (apr_size_t)-1. */
static apr_size_t first_repeat(apr_array_header_t *keys)
{
    dup_key_t *k = (dup_key_t *)keys->elts;
    apr_size_t best = (apr_size_t)-1;
    int i;

    qsort(k, (size_t)keys->nelts, sizeof(dup_key_t), cmp_keys);
    for (i = 1; i < keys->nelts; i++) {
        if (k[i].len == k[i - 1].len
            && memcmp(k[i].name, k[i - 1].name, k[i].len) == 0
            && k[i].at < best) {
            best = k[i].at;
        }
    }
    return best;
}

/*
 * json-c keeps the last of two members with the same name, silently; RFC
 * 8259 leaves such a document's meaning open and FHIR forbids it, so it
 * is refused.  A pass over a document json-c accepted (well-formed, at
 * most max_depth deep): the names of each object, escapes decoded, are
 * sorted when the object closes and neighbours compared.  Sorting, not
 * hashing, so that no choice of names (hash collisions) and no shape
 * (many objects after a large one) costs more than n log n.  Returns 0,
 * or 1 with *where at the first repeated name in the document.
 */
static int dup_check(const char *buf, apr_size_t len, int max_depth,
                     apr_pool_t *pool, apr_size_t *where)
{
    const unsigned char *p = (const unsigned char *)buf;
    apr_pool_t *scratch;
    dup_frame_t *f;
    apr_size_t i = 0, best = (apr_size_t)-1;
    int depth = -1;

    if (apr_pool_create(&scratch, pool) != APR_SUCCESS) {
        return 0;
    }
    f = apr_pcalloc(scratch, sizeof(*f) * (apr_size_t)(max_depth + 1));
    while (i < len) {
        unsigned char c = p[i];
        if (c == '{' || c == '[') {
            if (depth + 1 > max_depth) {
                break;      /* json-c refused it already */
            }
            depth++;
            f[depth].object = c == '{';
            f[depth].expect_key = c == '{';
            if (c == '{') {
                /* One list per depth, emptied (in O(1)) for each object. */
                if (f[depth].keys == NULL) {
                    f[depth].keys = apr_array_make(scratch, 16,
                                                   sizeof(dup_key_t));
                }
                f[depth].keys->nelts = 0;
            }
            i++;
        }
        else if (c == '}' || c == ']') {
            if (depth >= 0 && f[depth].object) {
                apr_size_t at = first_repeat(f[depth].keys);
                best = at < best ? at : best;
            }
            depth -= depth >= 0;
            i++;
        }
        else if (c == ',') {
            if (depth >= 0 && f[depth].object) {
                f[depth].expect_key = 1;
            }
            i++;
        }
        else if (c == '"') {
            apr_size_t start = ++i;
            int escaped = 0;
            while (i < len && p[i] != '"') {
                if (p[i] == '\\') {
                    escaped = 1;
                    i++;
                }
                i++;
            }
            if (depth >= 0 && f[depth].object && f[depth].expect_key) {
                dup_key_t *k = apr_array_push(f[depth].keys);
                k->name = buf + start;
                k->len = (i < len ? i : len) - start;
                k->at = start - 1;
                if (escaped) {
                    unescape(&k->name, &k->len, scratch, p + start, k->len);
                }
                f[depth].expect_key = 0;
            }
            i++;
        }
        else {
            i++;
        }
    }
    apr_pool_destroy(scratch);
    if (best == (apr_size_t)-1) {
        return 0;
    }
    *where = best;
    return 1;
}

apr_status_t cr_json_parse(json_object **out, apr_pool_t *pool,
                           const char *buf, apr_size_t len,
                           const cr_json_limits_t *limits,
                           cr_json_error_t *err)
{
    struct json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    apr_size_t end, i;
    cr_json_error_e kind;

    *out = NULL;
    if (limits == NULL) {
        limits = &cr_json_default_limits;
    }
    if (err) {
        memset(err, 0, sizeof(*err));
    }
    for (i = 0; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r'
            && buf[i] != '\n') {
            break;
        }
    }
    if (i == len) {
        set_err(err, CR_JSON_ERR_EMPTY, "the body is empty");
        if (err) {
            locate(err, buf, len, len);
        }
        return APR_EINVAL;
    }
    if (len > (apr_size_t)0x7fffffff) {
        set_err(err, CR_JSON_ERR_STRING, "the body is too large to parse");
        return APR_EINVAL;
    }
    {
        apr_size_t at = 0;
        const char *msg = NULL;
        kind = lex_check(buf, len, limits->max_depth, &at, &msg);
        if (kind != CR_JSON_ERR_NONE) {
            set_err(err, kind, msg);
            if (err) {
                locate(err, buf, len, at);
            }
            return APR_EINVAL;
        }
    }
    tok = json_tokener_new_ex(limits->max_depth + 1);
    if (tok == NULL) {
        return APR_ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (obj == NULL && jerr == json_tokener_continue
        && ((buf[len - 1] >= '0' && buf[len - 1] <= '9')
            || (buf[len - 1] >= 'a' && buf[len - 1] <= 'z'))) {
        /* A document that is a number, true or false ending at the last
         * byte ("2"): json-c waits for more; a NUL byte ends it.  A cut
         * token ("1e", "tru") still fails. */
        obj = json_tokener_parse_ex(tok, "", 1);
        if (obj != NULL) {
            jerr = json_tokener_success;
            end = len;
        }
    }
    json_tokener_free(tok);

    if (obj == NULL || jerr != json_tokener_success) {
        if (obj) {
            json_object_put(obj);
        }
        if (jerr == json_tokener_error_depth) {
            set_err(err, CR_JSON_ERR_DEPTH,
                    "the JSON is nested deeper than the configured limit");
        }
        else if (jerr == json_tokener_error_parse_utf8_string) {
            set_err(err, CR_JSON_ERR_UTF8, "the body is not valid UTF-8");
        }
        else if (jerr == json_tokener_continue) {
            set_err(err, CR_JSON_ERR_SYNTAX, "the JSON ends unexpectedly");
            end = len;
        }
        else {
            set_err(err, CR_JSON_ERR_SYNTAX,
                    json_tokener_error_desc(jerr));
        }
        if (err) {
            locate(err, buf, len, end);
        }
        return APR_EINVAL;
    }
    /* Only white space may follow the document. */
    for (i = end; i < len; i++) {
        if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r'
            && buf[i] != '\n') {
            json_object_put(obj);
            set_err(err, CR_JSON_ERR_SYNTAX,
                    "unexpected content after the JSON document");
            if (err) {
                locate(err, buf, len, i);
            }
            return APR_EINVAL;
        }
    }
    if (dup_check(buf, len, limits->max_depth, pool, &i)) {
        json_object_put(obj);
        set_err(err, CR_JSON_ERR_SYNTAX,
                "an object has two members with the same name");
        if (err) {
            locate(err, buf, len, i);
        }
        return APR_EINVAL;
    }
    kind = check_tree(obj, limits);
    if (kind != CR_JSON_ERR_NONE) {
        json_object_put(obj);
        set_err(err, kind,
                kind == CR_JSON_ERR_STRING
                    ? "a string is longer than the configured limit"
                : kind == CR_JSON_ERR_ARRAY
                    ? "an array has more elements than the configured limit"
                    : "a string contains a NUL character");
        if (err) {
            locate(err, buf, len, 0);
        }
        return APR_EINVAL;
    }
    *out = cr_json_own(pool, obj);
    return APR_SUCCESS;
}

const char *cr_json_serialize(apr_pool_t *pool, json_object *obj,
                              apr_size_t *len_out)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *copy = apr_pstrmemdup(pool, s, n);

    if (len_out) {
        *len_out = n;
    }
    return copy;
}

json_object *cr_json_get(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
        return NULL;
    }
    if (!json_object_object_get_ex(obj, key, &v)) {
        return NULL;
    }
    return v;
}

const char *cr_json_get_string(json_object *obj, const char *key)
{
    json_object *v = cr_json_get(obj, key);

    return (v && json_object_is_type(v, json_type_string))
           ? json_object_get_string(v) : NULL;
}

json_object *cr_json_get_object(json_object *obj, const char *key)
{
    json_object *v = cr_json_get(obj, key);

    return (v && json_object_is_type(v, json_type_object)) ? v : NULL;
}

json_object *cr_json_get_array(json_object *obj, const char *key)
{
    json_object *v = cr_json_get(obj, key);

    return (v && json_object_is_type(v, json_type_array)) ? v : NULL;
}

int cr_json_get_bool(json_object *obj, const char *key)
{
    json_object *v = cr_json_get(obj, key);

    if (v == NULL || !json_object_is_type(v, json_type_boolean)) {
        return -1;
    }
    return json_object_get_boolean(v) ? 1 : 0;
}

json_object *cr_json_set_string(json_object *obj, const char *key,
                                const char *value)
{
    json_object *v;

    if (value == NULL) {
        return NULL;
    }
    v = json_object_new_string(value);
    json_object_object_add(obj, key, v);
    return v;
}

json_object *cr_json_set_int(json_object *obj, const char *key,
                             apr_int64_t value)
{
    json_object *v = json_object_new_int64(value);

    json_object_object_add(obj, key, v);
    return v;
}

json_object *cr_json_set_bool(json_object *obj, const char *key, int value)
{
    json_object *v = json_object_new_boolean(value ? 1 : 0);

    json_object_object_add(obj, key, v);
    return v;
}

json_object *cr_json_set_new_object(json_object *obj, const char *key)
{
    json_object *v = json_object_new_object();

    json_object_object_add(obj, key, v);
    return v;
}

json_object *cr_json_set_new_array(json_object *obj, const char *key)
{
    json_object *v = json_object_new_array();

    json_object_object_add(obj, key, v);
    return v;
}

json_object *cr_json_array_add_object(json_object *array)
{
    json_object *v = json_object_new_object();

    json_object_array_add(array, v);
    return v;
}

json_object *cr_json_copy(apr_pool_t *pool, json_object *src)
{
    json_object *dst = NULL;

    if (src == NULL) {
        return NULL;
    }
    if (json_object_deep_copy(src, &dst, NULL) != 0) {
        return NULL;
    }
    return cr_json_own(pool, dst);
}

int cr_json_depth(json_object *o, int limit)
{
    int best = 0, d;

    if (o == NULL) {
        return 0;
    }
    if (limit < 0) {
        return json_object_is_type(o, json_type_array)
               || json_object_is_type(o, json_type_object);
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n && best <= limit; i++) {
            d = cr_json_depth(json_object_array_get_idx(o, i), limit - 1);
            best = d > best ? d : best;
        }
        return best + 1;
    }
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val) {
            (void)key;
            if (best > limit) {
                break;
            }
            d = cr_json_depth(val, limit - 1);
            best = d > best ? d : best;
        }
        return best + 1;
    }
    return 0;
}
