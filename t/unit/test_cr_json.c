/*
 * test_cr_json.c: unit tests for cr_json (strict, bounded parsing; error
 * kinds and positions; pool-owned documents; serialisation; getters).
 *
 * Inputs with bytes outside printable ASCII are written as escapes so the
 * file stays ASCII and the bytes under test are exact.  Every test runs in
 * its own APR pool, destroyed in the teardown, so valgrind can prove that
 * the pool cleanups release every json-c object.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_general.h>
#include <apr_strings.h>

#include "core/cr_json.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }


/* Length of a string literal, NUL bytes included. */
#define LIT(s) s, sizeof(s) - 1


typedef struct {
    const char *what;
    const char *input;
    apr_size_t len;
    cr_json_error_e kind;
    apr_size_t offset;      /* byte offset of the problem */
} reject_vector_t;

/* Parse a vector expecting rejection; check kind, position and *out. */
static void expect_reject(apr_pool_t *pool, const reject_vector_t *v,
                          const cr_json_limits_t *lim)
{
    json_object *obj = (json_object *)1;
    cr_json_error_t err;
    apr_status_t rv;

    memset(&err, 0x5a, sizeof(err));
    rv = cr_json_parse(&obj, pool, v->input, v->len, lim, &err);
    if (rv != APR_EINVAL || obj != NULL || err.kind != v->kind
        || err.offset != v->offset) {
        fail_msg("%s: rv=%d out=%p kind=%d offset=%lu, expected "
                 "APR_EINVAL, NULL, kind %d at %lu", v->what, rv,
                 (void *)obj, (int)err.kind, (unsigned long)err.offset,
                 (int)v->kind, (unsigned long)v->offset);
    }
    if (err.message == NULL || err.message[0] == '\0') {
        fail_msg("%s: no error message", v->what);
    }
    if (err.line != 1 || err.column != (int)v->offset + 1) {
        /* All rejection vectors are one line long. */
        fail_msg("%s: line %d column %d, expected 1 and %lu", v->what,
                 err.line, err.column, (unsigned long)v->offset + 1);
    }
}

static void expect_accept(apr_pool_t *pool, const char *what,
                          const char *input, apr_size_t len)
{
    json_object *obj = NULL;
    cr_json_error_t err;
    apr_status_t rv = cr_json_parse(&obj, pool, input, len, NULL, &err);

    if (rv != APR_SUCCESS || obj == NULL || err.kind != CR_JSON_ERR_NONE) {
        fail_msg("%s: rv=%d kind=%d (%s) at %lu, expected success", what,
                 rv, (int)err.kind, err.message ? err.message : "",
                 (unsigned long)err.offset);
    }
}

/* Grammar: what strict JSON (RFC 8259) forbids is refused. */
static const reject_vector_t grammar_rejects[] = {
    { "trailing garbage", LIT("{} x"), CR_JSON_ERR_SYNTAX, 3 },
    { "trailing number", LIT("{} 1"), CR_JSON_ERR_SYNTAX, 3 },
    { "two documents", LIT("{}{}"), CR_JSON_ERR_SYNTAX, 2 },
    { "two arrays", LIT("[1] [2]"), CR_JSON_ERR_SYNTAX, 4 },
    { "single-quoted value", LIT("['a']"), CR_JSON_ERR_SYNTAX, 1 },
    { "single-quoted key", LIT("{'a':1}"), CR_JSON_ERR_SYNTAX, 1 },
    { "block comment", LIT("{/* c */}"), CR_JSON_ERR_SYNTAX, 1 },
    { "line comment after", LIT("{} // c"), CR_JSON_ERR_SYNTAX, 3 },
    { "line comment inside", LIT("[1, // c\n2]"), CR_JSON_ERR_SYNTAX, 4 },
    { "hash comment", LIT("[1] # c"), CR_JSON_ERR_SYNTAX, 4 },
    { "NaN", LIT("[NaN]"), CR_JSON_ERR_SYNTAX, 1 },
    { "nan", LIT("[nan]"), CR_JSON_ERR_SYNTAX, 1 },
    { "NaN as member", LIT("{\"a\":NaN}"), CR_JSON_ERR_SYNTAX, 5 },
    { "Infinity", LIT("[Infinity]"), CR_JSON_ERR_SYNTAX, 1 },
    { "-Infinity", LIT("[-Infinity]"), CR_JSON_ERR_SYNTAX, 1 },
    { "True", LIT("[True]"), CR_JSON_ERR_SYNTAX, 1 },
    { "truex", LIT("[truex]"), CR_JSON_ERR_SYNTAX, 1 },
    { "undefined", LIT("[undefined]"), CR_JSON_ERR_SYNTAX, 1 },
    { "unquoted key", LIT("{a:1}"), CR_JSON_ERR_SYNTAX, 1 },
    { "plus sign", LIT("[+1]"), CR_JSON_ERR_SYNTAX, 1 },
    { "leading zero", LIT("[01]"), CR_JSON_ERR_SYNTAX, 1 },
    { "hex number", LIT("[0x1F]"), CR_JSON_ERR_SYNTAX, 1 },
    { "bare point", LIT("[1.]"), CR_JSON_ERR_SYNTAX, 1 },
    { "leading point", LIT("[.5]"), CR_JSON_ERR_SYNTAX, 1 },
    { "bare exponent", LIT("[1e]"), CR_JSON_ERR_SYNTAX, 1 },
    { "bare minus", LIT("[-]"), CR_JSON_ERR_SYNTAX, 1 },
    { "trailing comma (array)", LIT("[1,]"), CR_JSON_ERR_SYNTAX, 3 },
    { "trailing comma (object)", LIT("{\"a\":1,}"), CR_JSON_ERR_SYNTAX,
      7 },
    { "missing comma", LIT("[1 2]"), CR_JSON_ERR_SYNTAX, 3 },
    { "raw tab in string", LIT("[\"a\tb\"]"), CR_JSON_ERR_SYNTAX, 3 },
    { "raw newline in string", LIT("[\"a\nb\"]"), CR_JSON_ERR_SYNTAX, 3 },
    { "raw 0x1f in string", LIT("[\"a\x1f" "b\"]"), CR_JSON_ERR_SYNTAX,
      3 },
    { "bad escape", LIT("[\"\\x41\"]"), CR_JSON_ERR_SYNTAX, 2 },
    { "short \\u escape", LIT("[\"\\u12G4\"]"), CR_JSON_ERR_SYNTAX, 2 },
    { "byte order mark", LIT("\xef\xbb\xbf{}"), CR_JSON_ERR_SYNTAX, 0 },
};

static void test_grammar_rejects(void **state)
{
    size_t i;

    for (i = 0; i < ARRAY_LEN(grammar_rejects); i++) {
        expect_reject(*state, &grammar_rejects[i], NULL);
    }
}

typedef struct {
    const char *what;
    const char *input;
    apr_size_t len;
    const char *serialized;   /* cr_json_serialize of the result */
} accept_vector_t;

static const accept_vector_t grammar_accepts[] = {
    { "empty object", LIT("{}"), "{}" },
    { "white space around", LIT(" \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n "),
      "{\"a\":[1,2]}" },
    { "literals", LIT("[true,false,null]"), "[true,false,null]" },
    { "numbers", LIT("[0,-0,12,1.5,1e5,1E+2,-2.5e-3]"), NULL },
    { "escapes", LIT("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
      "[\"\\\"\\\\/\\b\\f\\n\\r\\t\"]" },
    { "\\u escape", LIT("[\"\\u00e9\\u20AC\"]"),
      "[\"\xc3\xa9\xe2\x82\xac\"]" },
    { "surrogate pair escape", LIT("[\"\\ud83d\\ude00\"]"),
      "[\"\xf0\x9f\x98\x80\"]" },
    { "top-level string", LIT("\"x\""), "\"x\"" },
    { "nested", LIT("{\"a\":{\"b\":[{\"c\":null}]}}"),
      "{\"a\":{\"b\":[{\"c\":null}]}}" },
};

static void test_grammar_accepts(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(grammar_accepts); i++) {
        const accept_vector_t *v = &grammar_accepts[i];
        json_object *obj = NULL;
        cr_json_error_t err;
        apr_status_t rv = cr_json_parse(&obj, pool, v->input, v->len, NULL,
                                        &err);
        if (rv != APR_SUCCESS || obj == NULL) {
            fail_msg("%s: rejected (%s at %lu)", v->what,
                     err.message ? err.message : "",
                     (unsigned long)err.offset);
        }
        assert_int_equal(err.kind, CR_JSON_ERR_NONE);
        if (v->serialized) {
            const char *s = cr_json_serialize(pool, obj, NULL);
            if (strcmp(s, v->serialized) != 0) {
                fail_msg("%s: serialized as %s, expected %s", v->what, s,
                         v->serialized);
            }
        }
    }
}

/* Numbers keep their JSON values (json-c's own representation is used). */
static void test_number_values(void **state)
{
    json_object *obj = NULL;

    assert_int_equal(cr_json_parse(&obj, *state,
                                   LIT("[0,-0,12,1.5,1e5,-2.5e-3]"), NULL,
                                   NULL), APR_SUCCESS);
    assert_int_equal(json_object_array_length(obj), 6);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(obj, 2)),
                     12);
    assert_true(json_object_get_double(json_object_array_get_idx(obj, 3))
                == 1.5);
    assert_true(json_object_get_double(json_object_array_get_idx(obj, 4))
                == 1e5);
    assert_true(json_object_get_double(json_object_array_get_idx(obj, 5))
                == -2.5e-3);
}

/* Build n nested arrays (or objects keyed "a") around a 1. */
static const char *nested(apr_pool_t *pool, int n, int objects)
{
    char *buf = apr_palloc(pool, (apr_size_t)n * 6 + 2);
    char *p = buf;
    int i;

    for (i = 0; i < n; i++) {
        if (objects) {
            memcpy(p, "{\"a\":", 5);
            p += 5;
        }
        else {
            *p++ = '[';
        }
    }
    *p++ = '1';
    for (i = 0; i < n; i++) {
        *p++ = objects ? '}' : ']';
    }
    *p = '\0';
    return buf;
}

/* Depth: exactly max_depth levels parse, one more is CR_JSON_ERR_DEPTH. */
static void test_depth_limit(void **state)
{
    apr_pool_t *pool = *state;
    cr_json_limits_t lim = cr_json_default_limits;
    json_object *obj;
    cr_json_error_t err;
    const char *s;
    int objects;

    for (objects = 0; objects <= 1; objects++) {
        lim.max_depth = 5;
        s = nested(pool, 5, objects);
        assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), &lim, &err),
                         APR_SUCCESS);
        assert_non_null(obj);

        s = nested(pool, 6, objects);
        assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), &lim, &err),
                         APR_EINVAL);
        assert_null(obj);
        assert_int_equal(err.kind, CR_JSON_ERR_DEPTH);
        assert_int_equal(err.line, 1);
        /* Reported at the sixth opening bracket. */
        assert_int_equal(err.offset, objects ? 25 : 5);

        /* Empty innermost containers count the same. */
        s = objects ? "{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}" : "[[[[[]]]]]";
        assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), &lim, &err),
                         APR_SUCCESS);
        s = objects ? "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}"
                    : "[[[[[[]]]]]]";
        assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), &lim, &err),
                         APR_EINVAL);
        assert_int_equal(err.kind, CR_JSON_ERR_DEPTH);
    }

    /* Siblings do not add up; brackets inside strings do not count. */
    lim.max_depth = 2;
    s = "[[1],[2],{\"a\":3},\"[[[[{{{{\"]";
    assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), &lim, &err),
                     APR_SUCCESS);

    /* The defaults: 32 levels. */
    assert_int_equal(cr_json_default_limits.max_depth, 32);
    s = nested(pool, 32, 0);
    assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), NULL, &err),
                     APR_SUCCESS);
    s = nested(pool, 33, 0);
    assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), NULL, &err),
                     APR_EINVAL);
    assert_int_equal(err.kind, CR_JSON_ERR_DEPTH);
    /* The tokenizer stops at the bracket that is one too deep. */
    assert_int_equal(err.offset, 32);

    /* A very deep document is refused without recursion trouble. */
    s = nested(pool, 100000, 0);
    assert_int_equal(cr_json_parse(&obj, pool, s, strlen(s), NULL, &err),
                     APR_EINVAL);
    assert_int_equal(err.kind, CR_JSON_ERR_DEPTH);
}

/* String and array limits, in values, keys and nested containers. */
static void test_string_array_limits(void **state)
{
    apr_pool_t *pool = *state;
    cr_json_limits_t lim = { 8, 8, 3 };
    static const reject_vector_t too_big[] = {
        { "string of 9", LIT("[\"123456789\"]"), CR_JSON_ERR_STRING, 0 },
        { "key of 9", LIT("{\"123456789\":1}"), CR_JSON_ERR_STRING, 0 },
        { "nested string of 9", LIT("{\"a\":[{\"b\":\"123456789\"}]}"),
          CR_JSON_ERR_STRING, 0 },
        { "array of 4", LIT("[1,2,3,4]"), CR_JSON_ERR_ARRAY, 0 },
        { "nested array of 4", LIT("{\"a\":{\"b\":[[],[],[],[]]}}"),
          CR_JSON_ERR_ARRAY, 0 },
    };
    static const char *const fit[] = {
        "[\"12345678\"]", "{\"12345678\":\"12345678\"}", "[1,2,3]",
        "{\"a\":[[1,2,3],[],[\"\"]]}",
        "[\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"]",
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(too_big); i++) {
        expect_reject(pool, &too_big[i], &lim);
    }
    for (i = 0; i < ARRAY_LEN(fit); i++) {
        json_object *obj = NULL;
        cr_json_error_t err;
        if (cr_json_parse(&obj, pool, fit[i], strlen(fit[i]), &lim, &err)
            != APR_SUCCESS) {
            fail_msg("%s: rejected (%s)", fit[i], err.message);
        }
    }
    /* The limit counts bytes, not characters: 5 x 2 bytes > 8. */
    {
        static const reject_vector_t bytes = {
            "10 bytes of UTF-8", LIT("[\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                     "\xc3\xa9\"]"), CR_JSON_ERR_STRING, 0
        };
        expect_reject(pool, &bytes, &lim);
    }
}

/* Invalid UTF-8 anywhere is CR_JSON_ERR_UTF8 at the offending byte. */
static const reject_vector_t utf8_rejects[] = {
    { "overlong '/' (2 bytes)", LIT("[\"\xc0\xaf\"]"), CR_JSON_ERR_UTF8, 2 },
    { "overlong 'A' (2 bytes)", LIT("[\"\xc1\x81\"]"), CR_JSON_ERR_UTF8, 2 },
    { "overlong '/' (3 bytes)", LIT("[\"\xe0\x80\xaf\"]"), CR_JSON_ERR_UTF8,
      2 },
    { "overlong U+07FF (3 bytes)", LIT("[\"\xe0\x9f\xbf\"]"),
      CR_JSON_ERR_UTF8, 2 },
    { "overlong '/' (4 bytes)", LIT("[\"\xf0\x80\x80\xaf\"]"),
      CR_JSON_ERR_UTF8, 2 },
    { "overlong U+FFFF (4 bytes)", LIT("[\"\xf0\x8f\xbf\xbf\"]"),
      CR_JSON_ERR_UTF8, 2 },
    { "surrogate U+D800", LIT("[\"\xed\xa0\x80\"]"), CR_JSON_ERR_UTF8, 2 },
    { "surrogate U+DFFF", LIT("[\"\xed\xbf\xbf\"]"), CR_JSON_ERR_UTF8, 2 },
    { "surrogate pair as CESU-8",
      LIT("[\"\xed\xa0\xbd\xed\xb8\x80\"]"), CR_JSON_ERR_UTF8, 2 },
    { "above U+10FFFF", LIT("[\"\xf4\x90\x80\x80\"]"), CR_JSON_ERR_UTF8, 2 },
    { "lead byte 0xf5", LIT("[\"\xf5\x80\x80\x80\"]"), CR_JSON_ERR_UTF8, 2 },
    { "byte 0xff", LIT("[\"\xff\"]"), CR_JSON_ERR_UTF8, 2 },
    { "byte 0xfe", LIT("[\"a\xfe\"]"), CR_JSON_ERR_UTF8, 3 },
    { "stray continuation", LIT("[\"\x80\"]"), CR_JSON_ERR_UTF8, 2 },
    { "truncated 2-byte", LIT("[\"\xc3\"]"), CR_JSON_ERR_UTF8, 2 },
    { "truncated 3-byte", LIT("[\"\xe2\x82\"]"), CR_JSON_ERR_UTF8, 2 },
    { "truncated 4-byte", LIT("[\"\xf0\x9f\x98\"]"), CR_JSON_ERR_UTF8, 2 },
    { "truncated by end of body", LIT("[\"\xf0\x9f\x98"), CR_JSON_ERR_UTF8,
      2 },
    { "2-byte lead then ASCII", LIT("[\"\xc3" "a\"]"), CR_JSON_ERR_UTF8, 2 },
    { "invalid in a key", LIT("{\"k\xc3\":1}"), CR_JSON_ERR_UTF8, 3 },
    { "invalid outside strings", LIT("[1]\xff"), CR_JSON_ERR_UTF8, 3 },
    { "invalid between tokens", LIT("[1,\xc3\xa9]"), CR_JSON_ERR_SYNTAX, 3 },
};

static void test_utf8_rejects(void **state)
{
    size_t i;

    for (i = 0; i < ARRAY_LEN(utf8_rejects); i++) {
        expect_reject(*state, &utf8_rejects[i], NULL);
    }
}

/* The boundaries of each UTF-8 sequence length are valid. */
static void test_utf8_accepts(void **state)
{
    static const struct {
        const char *what;
        const char *input;
    } ok[] = {
        { "U+0080", "[\"\xc2\x80\"]" },
        { "U+07FF", "[\"\xdf\xbf\"]" },
        { "U+0800", "[\"\xe0\xa0\x80\"]" },
        { "U+D7FF", "[\"\xed\x9f\xbf\"]" },
        { "U+E000", "[\"\xee\x80\x80\"]" },
        { "U+FFFF", "[\"\xef\xbf\xbf\"]" },
        { "U+10000", "[\"\xf0\x90\x80\x80\"]" },
        { "U+10FFFF", "[\"\xf4\x8f\xbf\xbf\"]" },
        { "accented name",
          "{\"family\":\"Fran\xc3\xa7ois-L\xc3\xa9vesque\"}" },
        { "non-ASCII key", "{\"\xc3\xa9t\xc3\xa9\":1}" },
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(ok); i++) {
        expect_accept(*state, ok[i].what, ok[i].input, strlen(ok[i].input));
    }
}

/* NUL characters (escaped or raw) and unpaired surrogate escapes. */
static const reject_vector_t nul_rejects[] = {
    { "\\u0000 in a value", LIT("[\"a\\u0000b\"]"), CR_JSON_ERR_UTF8, 3 },
    { "\\u0000 alone", LIT("{\"a\":\"\\u0000\"}"), CR_JSON_ERR_UTF8, 6 },
    { "\\u0000 in a key", LIT("{\"a\\u0000\":1}"), CR_JSON_ERR_UTF8, 3 },
    { "\\u0000 after escapes", LIT("[\"\\n\\\\\\u0000\"]"), CR_JSON_ERR_UTF8,
      6 },
    { "raw NUL in a string", LIT("[\"a\0b\"]"), CR_JSON_ERR_UTF8, 3 },
    { "raw NUL outside strings", LIT("[1,\0 2]"), CR_JSON_ERR_UTF8, 3 },
    { "lone high surrogate", LIT("[\"\\ud800\"]"), CR_JSON_ERR_UTF8, 2 },
    { "lone low surrogate", LIT("[\"\\udc00x\"]"), CR_JSON_ERR_UTF8, 2 },
    { "high surrogate then letter", LIT("[\"\\ud83dA\"]"), CR_JSON_ERR_UTF8,
      2 },
    { "high surrogate then \\u0041", LIT("[\"\\ud83d\\u0041\"]"),
      CR_JSON_ERR_UTF8, 2 },
    { "two high surrogates", LIT("[\"\\ud83d\\ud83d\"]"), CR_JSON_ERR_UTF8,
      2 },
};

static void test_nul_and_surrogates(void **state)
{
    size_t i;

    for (i = 0; i < ARRAY_LEN(nul_rejects); i++) {
        expect_reject(*state, &nul_rejects[i], NULL);
    }
}

/* No content at all: CR_JSON_ERR_EMPTY. */
static void test_empty(void **state)
{
    apr_pool_t *pool = *state;
    static const struct {
        const char *input;
        apr_size_t len;
        int line, column;
    } v[] = {
        { "", 0, 1, 1 },
        { " ", 1, 1, 2 },
        { "\r\n\t \n", 5, 3, 1 },
        { "{}", 0, 1, 1 },     /* a zero length ignores the buffer */
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        json_object *obj = (json_object *)1;
        cr_json_error_t err;
        assert_int_equal(cr_json_parse(&obj, pool, v[i].input, v[i].len,
                                       NULL, &err), APR_EINVAL);
        assert_null(obj);
        assert_int_equal(err.kind, CR_JSON_ERR_EMPTY);
        assert_int_equal(err.offset, v[i].len);
        assert_int_equal(err.line, v[i].line);
        assert_int_equal(err.column, v[i].column);
        assert_string_equal(err.message, "the body is empty");
    }
    /* A NULL buffer of length 0 is empty too, and err may be NULL. */
    {
        json_object *obj = (json_object *)1;
        assert_int_equal(cr_json_parse(&obj, pool, NULL, 0, NULL, NULL),
                         APR_EINVAL);
        assert_null(obj);
    }
}

/* Line and column (1-based, bytes) of the problem in multi-line input. */
static void test_line_column(void **state)
{
    static const struct {
        const char *what;
        const char *input;
        cr_json_error_e kind;
        apr_size_t offset;
        int line, column;
    } v[] = {
        { "bad literal on line 3", "{\n  \"a\": 1,\n  \"b\": x\n}",
          CR_JSON_ERR_SYNTAX, 19, 3, 8 },
        { "trailing garbage on line 2", "{\"a\":1}\n  ]",
          CR_JSON_ERR_SYNTAX, 10, 2, 3 },
        { "bad UTF-8 on line 2", "[\n\"ab\xc0\xaf\"]",
          CR_JSON_ERR_UTF8, 5, 2, 4 },
        { "NUL escape on line 4", "{\n\n\n  \"k\": \"\\u0000\"}",
          CR_JSON_ERR_UTF8, 12, 4, 9 },
        { "NaN on line 2, column 1", "[1,\nNaN]", CR_JSON_ERR_SYNTAX, 4, 2,
          1 },
        { "unterminated document", "{\n \"a\": [1,\n 2",
          CR_JSON_ERR_SYNTAX, 14, 3, 3 },
        { "missing colon", "{\"a\"\n 1}", CR_JSON_ERR_SYNTAX, 6, 2, 2 },
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        json_object *obj = NULL;
        cr_json_error_t err;
        assert_int_equal(cr_json_parse(&obj, *state, v[i].input,
                                       strlen(v[i].input), NULL, &err),
                         APR_EINVAL);
        if (err.kind != v[i].kind || err.offset != v[i].offset
            || err.line != v[i].line || err.column != v[i].column) {
            fail_msg("%s: kind %d offset %lu line %d column %d, expected "
                     "%d %lu %d %d", v[i].what, (int)err.kind,
                     (unsigned long)err.offset, err.line, err.column,
                     (int)v[i].kind, (unsigned long)v[i].offset, v[i].line,
                     v[i].column);
        }
    }
}

/* Destroying the pool drops the parser's reference: with one extra
 * reference taken here, json_object_put then frees the object (returns 1),
 * so the pool held exactly one reference. */
static void test_pool_cleanup_releases(void **state)
{
    apr_pool_t *sub = NULL;
    json_object *obj = NULL, *own, *copy, *extra;

    (void)state;
    assert_int_equal(apr_pool_create(&sub, NULL), APR_SUCCESS);
    assert_int_equal(cr_json_parse(&obj, sub, LIT("{\"a\":[1,2,{\"b\":3}]}"),
                                   NULL, NULL), APR_SUCCESS);
    json_object_get(obj);

    own = cr_json_own(sub, json_object_new_string("x"));
    json_object_get(own);
    assert_ptr_equal(cr_json_own(sub, NULL), NULL);

    copy = cr_json_copy(sub, obj);
    assert_non_null(copy);
    assert_true(copy != obj);
    json_object_get(copy);

    extra = cr_json_get(obj, "a");
    json_object_get(extra);

    apr_pool_destroy(sub);

    /* The child array is still referenced by obj: not freed yet. */
    assert_int_equal(json_object_put(extra), 0);
    assert_int_equal(json_object_put(obj), 1);
    assert_int_equal(json_object_put(own), 1);
    assert_int_equal(json_object_put(copy), 1);
}

/* A failed parse leaves nothing registered on the pool (no leak, no
 * double free when the pool goes). */
static void test_failed_parse_owns_nothing(void **state)
{
    apr_pool_t *sub = NULL;
    json_object *obj = NULL;
    cr_json_limits_t lim = { 32, 4, 2 };
    int i;

    (void)state;
    assert_int_equal(apr_pool_create(&sub, NULL), APR_SUCCESS);
    for (i = 0; i < 50; i++) {
        assert_int_equal(cr_json_parse(&obj, sub, LIT("[{\"a\":1},2,3]"),
                                       &lim, NULL), APR_EINVAL);
        assert_int_equal(cr_json_parse(&obj, sub, LIT("{\"a\":[1,2]} 1"),
                                       &lim, NULL), APR_EINVAL);
        assert_int_equal(cr_json_parse(&obj, sub, LIT("{\"abcde\":1}"),
                                       &lim, NULL), APR_EINVAL);
        assert_null(obj);
    }
    apr_pool_destroy(sub);
}

/* Serialisation is compact and does not escape '/'. */
static void test_serialize(void **state)
{
    apr_pool_t *pool = *state;
    json_object *obj = NULL;
    apr_size_t len = 0;
    const char *s;

    assert_int_equal(cr_json_parse(&obj, pool,
                                   LIT("{ \"url\" : \"http://hlth.gov.bc.ca/"
                                       "fhir/client\",\n \"n\": [ 1, true ],"
                                       " \"t\": \"caf\xc3\xa9 \\\"q\\\"\" }"),
                                   NULL, NULL), APR_SUCCESS);
    s = cr_json_serialize(pool, obj, &len);
    assert_string_equal(s, "{\"url\":\"http://hlth.gov.bc.ca/fhir/client\","
                        "\"n\":[1,true],\"t\":\"caf\xc3\xa9 \\\"q\\\"\"}");
    assert_int_equal(len, strlen(s));
    assert_null(strstr(s, "\\/"));
    /* len_out may be NULL. */
    assert_string_equal(cr_json_serialize(pool, cr_json_get(obj, "n"), NULL),
                        "[1,true]");
}

/* Typed getters: absent keys, wrong types, non-object parents. */
static void test_getters(void **state)
{
    apr_pool_t *pool = *state;
    json_object *obj = NULL;

    assert_int_equal(cr_json_parse(&obj, pool,
                                   LIT("{\"s\":\"x\",\"o\":{},\"a\":[],"
                                       "\"t\":true,\"f\":false,\"n\":null,"
                                       "\"i\":1}"), NULL, NULL),
                     APR_SUCCESS);
    assert_string_equal(cr_json_get_string(obj, "s"), "x");
    assert_null(cr_json_get_string(obj, "o"));
    assert_null(cr_json_get_string(obj, "missing"));
    assert_non_null(cr_json_get_object(obj, "o"));
    assert_null(cr_json_get_object(obj, "a"));
    assert_non_null(cr_json_get_array(obj, "a"));
    assert_null(cr_json_get_array(obj, "o"));
    assert_int_equal(cr_json_get_bool(obj, "t"), 1);
    assert_int_equal(cr_json_get_bool(obj, "f"), 0);
    assert_int_equal(cr_json_get_bool(obj, "i"), -1);
    assert_int_equal(cr_json_get_bool(obj, "missing"), -1);
    /* A JSON null is present but has no type to match. */
    assert_null(cr_json_get(obj, "n"));
    assert_null(cr_json_get_string(obj, "n"));
    assert_null(cr_json_get(NULL, "s"));
    assert_null(cr_json_get(cr_json_get(obj, "a"), "s"));
    assert_null(cr_json_get_string(cr_json_get(obj, "s"), "s"));
}

/* Setters build documents that serialise as expected. */
static void test_setters(void **state)
{
    apr_pool_t *pool = *state;
    json_object *root = cr_json_own(pool, json_object_new_object());
    json_object *arr, *o, *copy;

    assert_non_null(cr_json_set_string(root, "a", "b/c"));
    assert_null(cr_json_set_string(root, "skipped", NULL));
    cr_json_set_int(root, "big", APR_INT64_C(9007199254740993));
    cr_json_set_bool(root, "yes", 7);
    cr_json_set_new_object(root, "o");
    arr = cr_json_set_new_array(root, "arr");
    o = cr_json_array_add_object(arr);
    cr_json_set_string(o, "k", "v");
    assert_string_equal(cr_json_serialize(pool, root, NULL),
                        "{\"a\":\"b/c\",\"big\":9007199254740993,"
                        "\"yes\":true,\"o\":{},\"arr\":[{\"k\":\"v\"}]}");

    /* A deep copy is independent of its source. */
    copy = cr_json_copy(pool, root);
    cr_json_set_string(cr_json_array_add_object(cr_json_get_array(copy,
                                                                  "arr")),
                       "k2", "v2");
    assert_int_equal(json_object_array_length(cr_json_get_array(root, "arr")),
                     1);
    assert_int_equal(json_object_array_length(cr_json_get_array(copy, "arr")),
                     2);
    assert_null(cr_json_copy(pool, NULL));
}

/* Two members with one name: refused at the second, escapes decoded;
 * the same name in other objects, and strings that are values, are not
 * keys of that object. */
static const reject_vector_t duplicate_keys[] = {
    { "same key twice", LIT("{\"a\":1,\"a\":2}"), CR_JSON_ERR_SYNTAX, 7 },
    { "third member repeats the first", LIT("{\"a\":1,\"b\":2,\"a\":3}"),
      CR_JSON_ERR_SYNTAX, 13 },
    { "in a nested object", LIT("{\"x\":{\"b\":[],\"b\":{}}}"),
      CR_JSON_ERR_SYNTAX, 13 },
    { "in an object inside an array", LIT("[{},{\"c\":1,\"c\":1}]"),
      CR_JSON_ERR_SYNTAX, 11 },
    { "after a nested object", LIT("{\"a\":{\"z\":1},\"a\":2}"),
      CR_JSON_ERR_SYNTAX, 13 },
    { "\\u escape of the same name", LIT("{\"a\":1,\"\\u0061\":2}"),
      CR_JSON_ERR_SYNTAX, 7 },
    { "\\u escape of a non-ASCII name",
      LIT("{\"\xc3\xa9\":1,\"\\u00e9\":2}"), CR_JSON_ERR_SYNTAX, 8 },
    { "surrogate pair of the same name",
      LIT("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}"),
      CR_JSON_ERR_SYNTAX, 10 },
    { "escaped quote in the name", LIT("{\"a\\\"\":1,\"a\\u0022\":2}"),
      CR_JSON_ERR_SYNTAX, 9 },
    { "resourceType twice",
      LIT("{\"resourceType\":\"Patient\",\"resourceType\":\"Group\"}"),
      CR_JSON_ERR_SYNTAX, 26 },
};

static void test_duplicate_keys(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(duplicate_keys); i++) {
        expect_reject(pool, &duplicate_keys[i], NULL);
    }
    expect_accept(pool, "same name in sibling objects",
                  LIT("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}"));
    expect_accept(pool, "a value equal to a key", LIT("{\"a\":\"a\","
                                                      "\"b\":[\"a\",\"a\"]}"));
    expect_accept(pool, "names differing in case or escape",
                  LIT("{\"a\":1,\"A\":2,\"\\u0062\":3,\"a\\\\\":4}"));
    expect_accept(pool, "an object closed and a new one at the same depth",
                  LIT("[{\"a\":1},{\"a\":1}]"));
}

/* cr_json_depth counts containers and stops past its limit. */
static void test_depth(void **state)
{
    apr_pool_t *pool = *state;
    json_object *o = NULL;

    assert_int_equal(cr_json_depth(NULL, 8), 0);
    assert_int_equal(cr_json_parse(&o, pool, LIT("7"), NULL, NULL),
                     APR_SUCCESS);
    assert_int_equal(cr_json_depth(o, 8), 0);
    assert_int_equal(cr_json_parse(&o, pool, LIT("{}"), NULL, NULL),
                     APR_SUCCESS);
    assert_int_equal(cr_json_depth(o, 8), 1);
    assert_int_equal(cr_json_parse(&o, pool,
                                   LIT("{\"a\":1,\"b\":[{\"c\":[]}],\"d\":{}}"),
                                   NULL, NULL), APR_SUCCESS);
    assert_int_equal(cr_json_depth(o, 8), 4);
    assert_int_equal(cr_json_depth(o, 4), 4);
    /* Past the limit the answer is only "deeper": limit + 1 or more. */
    assert_true(cr_json_depth(o, 2) > 2);
    assert_true(cr_json_depth(o, 0) > 0);
}

/* The default limits are what the header promises the configuration. */
static void test_default_limits(void **state)
{
    (void)state;
    assert_int_equal(cr_json_default_limits.max_depth, 32);
    assert_int_equal(cr_json_default_limits.max_string, 1024 * 1024);
    assert_int_equal(cr_json_default_limits.max_array, 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-GEN-010: strict grammar rejects non-JSON (table)",
                test_grammar_rejects),
        CR_TEST("CR-GEN-034: strict grammar accepts JSON (table)",
                test_grammar_accepts),
        CR_TEST("numbers keep their values", test_number_values),
        CR_TEST("depth limit: max_depth ok, max_depth + 1 rejected",
                test_depth_limit),
        CR_TEST("string and array limits", test_string_array_limits),
        CR_TEST("CR-GEN-034: invalid UTF-8 rejected (table)",
                test_utf8_rejects),
        CR_TEST("CR-GEN-034: UTF-8 sequence boundaries accepted",
                test_utf8_accepts),
        CR_TEST("NUL characters and unpaired surrogate escapes rejected",
                test_nul_and_surrogates),
        CR_TEST("empty body: CR_JSON_ERR_EMPTY", test_empty),
        CR_TEST("line and column of errors", test_line_column),
        CR_TEST("pool cleanup releases parsed, owned and copied objects",
                test_pool_cleanup_releases),
        CR_TEST("a failed parse owns nothing",
                test_failed_parse_owns_nothing),
        CR_TEST("serialize: compact, no slash escaping", test_serialize),
        CR_TEST("typed getters", test_getters),
        CR_TEST("setters and deep copy", test_setters),
        CR_TEST("depth of a tree", test_depth),
        CR_TEST("default limits", test_default_limits),
        CR_TEST("CR-GEN-010: duplicate member names rejected (table)",
                test_duplicate_keys),
    };

    return cmocka_run_group_tests_name("cr_json", tests, group_setup,
                                       group_teardown);
}
