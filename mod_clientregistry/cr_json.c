/* cr_json: strict, bounded JSON parsing and pool-owned json-c documents.
 *
 * json-c's tokener already enforces the depth limit, strict grammar and
 * UTF-8 validity; what it does not know are the string- and array-length
 * limits, a NUL inside a string (legal JSON, never legal FHIR), and
 * trailing bytes after the document.  Those are checked here, in one
 * bounded walk after parsing.
 */
#include <string.h>

#include <apr_strings.h>

#include "cr_json.h"

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
    tok = json_tokener_new_ex(limits->max_depth);
    if (tok == NULL) {
        return APR_ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
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
