/* cr_json: json-c behind a small, pool-bound, strict API.
 *
 * Every parsed document belongs to an APR pool: a pool cleanup drops the
 * json-c reference, so no caller frees JSON by hand.  Parsing enforces the
 * limits a network-facing parser needs (nesting depth, string length,
 * array length, strict grammar, valid UTF-8, no trailing bytes) and reports
 * where it failed.  The getters report type mismatches with a FHIRPath-like
 * location so that validation can name the offending element.
 */
#ifndef CR_JSON_H
#define CR_JSON_H

#include <apr_pools.h>
#include <apr_errno.h>
#include <json-c/json.h>

typedef struct cr_json_limits_t {
    int max_depth;          /* deepest nesting of objects/arrays */
    apr_size_t max_string;  /* longest string value or key, in bytes */
    apr_size_t max_array;   /* most elements in one array */
} cr_json_limits_t;

/* Default limits, used when a caller passes NULL. */
extern const cr_json_limits_t cr_json_default_limits;

typedef enum {
    CR_JSON_ERR_NONE = 0,
    CR_JSON_ERR_SYNTAX,     /* not well-formed JSON */
    CR_JSON_ERR_UTF8,       /* invalid UTF-8 or a NUL character */
    CR_JSON_ERR_DEPTH,      /* nested deeper than max_depth */
    CR_JSON_ERR_STRING,     /* a string longer than max_string */
    CR_JSON_ERR_ARRAY,      /* an array longer than max_array */
    CR_JSON_ERR_EMPTY       /* no content at all */
} cr_json_error_e;

typedef struct cr_json_error_t {
    cr_json_error_e kind;
    apr_size_t offset;      /* byte offset where the problem was seen */
    int line;               /* 1-based line of offset */
    int column;             /* 1-based column (bytes) of offset */
    const char *message;    /* English description, no input echoed */
} cr_json_error_t;

/* Parse buf[0..len) into *out.  On success *out is a new json-c object
 * whose reference is released when pool is cleared.  On failure returns
 * APR_EINVAL, *out is NULL and *err (if not NULL) says what and where. */
apr_status_t cr_json_parse(json_object **out, apr_pool_t *pool,
                           const char *buf, apr_size_t len,
                           const cr_json_limits_t *limits,
                           cr_json_error_t *err);

/* Tie an object created by the caller (json_object_new_*) to pool: the
 * caller's reference is released when the pool is cleared. Returns obj. */
json_object *cr_json_own(apr_pool_t *pool, json_object *obj);

/* Serialise compactly (no slash escaping) into a string allocated from
 * pool; *len_out (if not NULL) receives its length. */
const char *cr_json_serialize(apr_pool_t *pool, json_object *obj,
                              apr_size_t *len_out);

/* Typed look-ups.  Each returns NULL (or the default) when the key is
 * absent; cr_json_get_type says whether the key is present with another
 * type.  They never allocate. */
json_object *cr_json_get(json_object *obj, const char *key);
const char *cr_json_get_string(json_object *obj, const char *key);
json_object *cr_json_get_object(json_object *obj, const char *key);
json_object *cr_json_get_array(json_object *obj, const char *key);
/* -1 when absent or not a boolean, else 0 or 1. */
int cr_json_get_bool(json_object *obj, const char *key);

/* Convenience setters: add key = new string / int / bool / object.
 * A NULL string value adds nothing.  The new value is returned. */
json_object *cr_json_set_string(json_object *obj, const char *key,
                                const char *value);
json_object *cr_json_set_int(json_object *obj, const char *key,
                             apr_int64_t value);
json_object *cr_json_set_bool(json_object *obj, const char *key, int value);
json_object *cr_json_set_new_object(json_object *obj, const char *key);
json_object *cr_json_set_new_array(json_object *obj, const char *key);
/* Append a new object to an array and return it. */
json_object *cr_json_array_add_object(json_object *array);

/* Deep copy of src (a new reference, tied to pool). */
json_object *cr_json_copy(apr_pool_t *pool, json_object *src);

/* How many objects and arrays nest in o (a scalar is 0, {} is 1), counted
 * no further than limit + 1: a caller asks "deeper than limit?" and the
 * walk stops there. */
int cr_json_depth(json_object *o, int limit);

#endif /* CR_JSON_H */
