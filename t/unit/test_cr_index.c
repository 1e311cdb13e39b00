/*
 * test_cr_index.c: unit tests for cr_index (the search keys of a patient
 * and the normalisation of search terms to the same form).
 *
 * Keys are compared as the exact ordered list "kind|value", so the test
 * also pins down deduplication and the order in which keys are written.
 * Only the search kinds of cr_index.h are compared: the matching engine
 * adds rows of its own kinds, under its own bound, which its tests cover.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"

#include "cr_test_ig.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }


#define PT "{\"resourceType\":\"Patient\","


/* Parse a valid Patient and build its index. */
static cr_index_t *index_of(apr_pool_t *pool, const char *text)
{
    json_object *obj = NULL;
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_index_t *ix = NULL;

    assert_int_equal(cr_json_parse(&obj, pool, text, strlen(text), NULL,
                                   NULL), APR_SUCCESS);
    if (cr_fhir_patient_parse(&p, pool, obj, "Patient", "2026-01-15", NULL,
                              oc) != APR_SUCCESS) {
        fail_msg("fixture rejected: %s",
                 cr_outcome_first_error(oc)->text);
    }
    assert_int_equal(cr_index_build(&ix, pool, p), APR_SUCCESS);
    assert_non_null(ix);
    assert_non_null(ix->rows);
    return ix;
}

/* One of the search kinds of cr_index.h. */
static int search_kind(const char *kind)
{
    static const char *const kinds[] = {
        CR_IDX_FAMILY, CR_IDX_GIVEN, CR_IDX_NAME, CR_IDX_PHONE, CR_IDX_EMAIL,
        CR_IDX_POSTAL
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(kinds); i++) {
        if (strcmp(kind, kinds[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The search rows of ix, in order. */
static apr_array_header_t *search_rows(apr_pool_t *pool, const cr_index_t *ix)
{
    apr_array_header_t *out = apr_array_make(pool, ix->rows->nelts + 1,
                                             sizeof(cr_index_row_t));
    int i;

    for (i = 0; i < ix->rows->nelts; i++) {
        const cr_index_row_t *r = &APR_ARRAY_IDX(ix->rows, i,
                                                 cr_index_row_t);
        if (search_kind(r->kind)) {
            *(cr_index_row_t *)apr_array_push(out) = *r;
        }
    }
    return out;
}

/* The search keys as one string "kind|value kind|value ...", in order. */
static const char *keys(apr_pool_t *pool, const cr_index_t *ix)
{
    apr_array_header_t *rows = search_rows(pool, ix);
    const char *s = "";
    int i;

    for (i = 0; i < rows->nelts; i++) {
        const cr_index_row_t *r = &APR_ARRAY_IDX(rows, i, cr_index_row_t);
        s = apr_pstrcat(pool, s, i ? " " : "", r->kind, "|", r->value, NULL);
    }
    return s;
}

typedef struct {
    const char *what;
    const char *patient;
    const char *keys;
} keys_vector_t;

static const keys_vector_t vectors[] = {
    { "single family and given",
      PT "\"name\":[{\"family\":\"Smith\",\"given\":[\"Ann\"]}]}",
      "family|smith name|smith given|ann name|ann" },
    { "multi-part surname: whole name and each part, also as name",
      PT "\"name\":[{\"family\":\"de la Cruz\"}]}",
      "family|de la cruz name|de la cruz family|de name|de family|la "
      "name|la family|cruz name|cruz" },
    { "hyphenated names split into parts",
      PT "\"name\":[{\"family\":\"Smith-Jones\",\"given\":[\"Jean-Luc\"]}]}",
      "family|smith jones name|smith jones family|smith name|smith "
      "family|jones name|jones given|jean luc name|jean luc given|jean "
      "name|jean given|luc name|luc" },
    { "accents and case folded",
      PT "\"name\":[{\"family\":\"M\xc3\xbcLLER\",\"given\":[\"Zo\xc3\xab\","
      "\"\xc3\x89milie\",\"Fran\xc3\xa7ois\"]}]}",
      "family|muller name|muller given|zoe name|zoe given|emilie "
      "name|emilie given|francois name|francois" },
    { "apostrophes dropped, decomposed accents too",
      PT "\"name\":[{\"family\":\"O'Brien\",\"given\":[\"Rene\xcc\x81\"]}]}",
      "family|obrien name|obrien given|rene name|rene" },
    { "duplicates removed across names and kinds",
      PT "\"name\":[{\"family\":\"Smith\",\"given\":[\"Smith\",\"SMITH\"]},"
      "{\"use\":\"official\",\"family\":\"smith\",\"given\":[\"Ann\"]}]}",
      "family|smith name|smith given|smith given|ann name|ann" },
    { "a part equal to a whole name is not repeated",
      PT "\"name\":[{\"family\":\"Cruz\"},{\"family\":\"de la Cruz\"}]}",
      "family|cruz name|cruz family|de la cruz name|de la cruz family|de "
      "name|de family|la name|la" },
    { "a name of nothing searchable gives no key",
      PT "\"name\":[{\"family\":\"\xce\x9a\xce\xb1\"}]}", "" },
    { "text-only name gives no key",
      PT "\"name\":[{\"text\":\"Ann Smith\"}]}", "" },
    { "phones keep their ten digits",
      PT "\"telecom\":[{\"system\":\"phone\",\"value\":\"+1 (250) 555-0123\"},"
      "{\"system\":\"phone\",\"value\":\"250.555.0123\"},"
      "{\"system\":\"phone\",\"value\":\"+44 20 7946 0958\"}]}",
      "phone|2505550123 phone|2079460958" },
    { "e-mail lower-cased",
      PT "\"telecom\":[{\"system\":\"email\",\"value\":"
      "\"Ann.Smith@Example.COM\"},{\"system\":\"email\",\"value\":"
      "\"ann.smith@example.com\"}]}",
      "email|ann.smith@example.com" },
    { "postal codes normalized, junk dropped",
      PT "\"address\":[{\"postalCode\":\"v8w 1a1\"},{\"postalCode\":"
      "\"V8W-1A1\"},{\"postalCode\":\"98101-1234\"},{\"postalCode\":"
      "\"12345678901\"},{\"city\":\"Victoria\"}]}",
      "postal|V8W1A1 postal|981011234" },
    { "masked telecom gives no key",
      PT "\"telecom\":[{\"system\":\"phone\",\"_value\":{\"extension\":[{"
      "\"url\":\"http://hl7.org/fhir/StructureDefinition/"
      "data-absent-reason\",\"valueCode\":\"masked\"}]}}]}", "" },
    { "nothing to index", PT "\"gender\":\"male\"}", "" },
};

static void test_keys(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(vectors); i++) {
        const char *got = keys(pool, index_of(pool, vectors[i].patient));
        if (strcmp(got, vectors[i].keys) != 0) {
            fail_msg("%s:\n#   got      '%s'\n#   expected '%s'",
                     vectors[i].what, got, vectors[i].keys);
        }
    }
}

/* Birth range from the precision of birthDate; gender passed through. */
static void test_birth_and_gender(void **state)
{
    static const struct {
        const char *birth, *lo, *hi;
    } v[] = {
        { "1980", "1980-01-01", "1980-12-31" },
        { "1980-02", "1980-02-01", "1980-02-29" },
        { "1900-02", "1900-02-01", "1900-02-28" },
        { "1980-02-03", "1980-02-03", "1980-02-03" },
    };
    apr_pool_t *pool = *state;
    cr_index_t *ix;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        ix = index_of(pool, apr_pstrcat(pool, PT "\"gender\":\"other\","
                                        "\"birthDate\":\"", v[i].birth,
                                        "\"}", NULL));
        assert_string_equal(ix->birth_lo, v[i].lo);
        assert_string_equal(ix->birth_hi, v[i].hi);
        assert_string_equal(ix->gender, "other");
        assert_int_equal(search_rows(pool, ix)->nelts, 0);
    }
    ix = index_of(pool, PT "\"name\":[{\"family\":\"A\"}]}");
    assert_null(ix->birth_lo);
    assert_null(ix->birth_hi);
    assert_null(ix->gender);
}

/* The IG's Revise-withMaxData Patient. */
static void test_ig_patient(void **state)
{
    apr_pool_t *pool = *state;
    cr_index_t *ix = index_of(pool, cr_test_ig_revise_max_patient);

    assert_string_equal(keys(pool, ix),
                        "family|banek name|banek given|geraldine "
                        "name|geraldine given|celestine name|celestine "
                        "given|iye name|iye family|coad name|coad "
                        "given|jervis name|jervis given|wilu name|wilu "
                        "given|jules name|jules given|theodore "
                        "name|theodore phone|8195411094 phone|9847273917 "
                        "phone|4328811019 email|bly.beaule@cgi.com "
                        "email|elisabeth.mrotz@cgi.com "
                        "email|whitney.holway@cgi.com");
    assert_int_equal(search_rows(pool, ix)->nelts, 24);
    assert_string_equal(ix->gender, "female");
    assert_string_equal(ix->birth_lo, "1956-12-17");
    assert_string_equal(ix->birth_hi, "1956-12-17");
}

/* A name with more words than cr_normalize_split keeps still indexes
 * the words it keeps (CR_NORM_MAX_PARTS = 8). */
static void test_many_parts(void **state)
{
    apr_pool_t *pool = *state;
    cr_index_t *ix = index_of(pool, PT "\"name\":[{\"family\":"
                              "\"a b c d e f g h i\"}]}");
    apr_hash_t *set = apr_hash_make(pool);
    apr_array_header_t *rows = search_rows(pool, ix);
    static const char *const want[] = {
        "family|a b c d e f g h i", "name|a b c d e f g h i", "family|a",
        "family|b", "family|h", "name|a", "name|h",
    };
    size_t i;
    int r;

    for (r = 0; r < rows->nelts; r++) {
        const cr_index_row_t *row = &APR_ARRAY_IDX(rows, r, cr_index_row_t);
        apr_hash_set(set, apr_pstrcat(pool, row->kind, "|", row->value,
                                      NULL), APR_HASH_KEY_STRING, "");
    }
    for (i = 0; i < ARRAY_LEN(want); i++) {
        if (apr_hash_get(set, want[i], APR_HASH_KEY_STRING) == NULL) {
            fail_msg("missing key %s in '%s'", want[i], keys(pool, ix));
        }
    }
    assert_null(apr_hash_get(set, "family|i", APR_HASH_KEY_STRING));
    assert_int_equal(rows->nelts, 2 + 2 * 8);
}

/* Name with n distinct letters-only spellings: "Qa", "Qb", ... "Qzz". */
static const char *word(apr_pool_t *pool, char lead, int n)
{
    return apr_psprintf(pool, "%c%c%c", lead, 'a' + n / 26, 'a' + n % 26);
}

/* CR_INDEX_MAX_ROWS bounds the keys of one patient. */
static void test_max_rows(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t p;
    cr_index_t *ix = NULL;
    apr_array_header_t *rows;
    apr_hash_t *seen = apr_hash_make(pool);
    int i;

    memset(&p, 0, sizeof(p));
    p.json = cr_json_own(pool, json_object_new_object());
    p.active = -1;
    p.identifiers = apr_array_make(pool, 1, sizeof(cr_identifier_t));
    p.names = apr_array_make(pool, 200, sizeof(cr_name_t));
    p.telecoms = apr_array_make(pool, 1, sizeof(cr_telecom_t));
    p.addresses = apr_array_make(pool, 1, sizeof(cr_address_t));
    /* 150 names, each with a distinct family and given: 600 keys. */
    for (i = 0; i < 150; i++) {
        cr_name_t *n = apr_array_push(p.names);
        memset(n, 0, sizeof(*n));
        n->family = word(pool, 'F', i);
        n->given = apr_array_make(pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(n->given, const char *) = word(pool, 'G', i);
    }
    /* Keys after the bound are dropped, whatever their kind. */
    {
        cr_telecom_t *t = apr_array_push(p.telecoms);
        memset(t, 0, sizeof(*t));
        t->system = "phone";
        t->value = "2505550123";
    }
    p.birth_date = "1980";
    p.gender = "female";

    assert_int_equal(CR_INDEX_MAX_ROWS, 400);
    assert_int_equal(cr_index_build(&ix, pool, &p), APR_SUCCESS);
    rows = search_rows(pool, ix);
    assert_int_equal(rows->nelts, CR_INDEX_MAX_ROWS);
    for (i = 0; i < rows->nelts; i++) {
        const cr_index_row_t *r = &APR_ARRAY_IDX(rows, i, cr_index_row_t);
        const char *k = apr_pstrcat(pool, r->kind, "|", r->value, NULL);
        assert_null(apr_hash_get(seen, k, APR_HASH_KEY_STRING));
        apr_hash_set(seen, k, APR_HASH_KEY_STRING, k);
        assert_true(strcmp(r->kind, "phone") != 0);
    }
    /* The first 100 names made it, in order; the rest did not. */
    assert_string_equal(APR_ARRAY_IDX(rows, 396, cr_index_row_t).value,
                        "fdv");
    assert_string_equal(APR_ARRAY_IDX(rows, 399, cr_index_row_t).value,
                        "gdv");
    assert_null(apr_hash_get(seen, "family|fdw", APR_HASH_KEY_STRING));
    /* Non-key columns are still set. */
    assert_string_equal(ix->birth_lo, "1980-01-01");
    assert_string_equal(ix->gender, "female");
}

/* Search terms normalize to the form of the keys. */
static void test_normalize_term(void **state)
{
    static const struct {
        const char *kind, *term, *out;
    } v[] = {
        { CR_IDX_FAMILY, "  De   LA  cruz ", "de la cruz" },
        { CR_IDX_FAMILY, "O'Brien", "obrien" },
        { CR_IDX_GIVEN, "Jos\xc3\xa9", "jose" },
        { CR_IDX_GIVEN, "Jean-Luc", "jean luc" },
        { CR_IDX_NAME, "M\xc3\xbcller", "muller" },
        { CR_IDX_NAME, "***", "" },
        { CR_IDX_NAME, "", "" },
        { CR_IDX_PHONE, "(250) 555-0123 x12", "2505550123" },
        { CR_IDX_PHONE, "1-250-555-0123", "2505550123" },
        { CR_IDX_PHONE, "abc", "" },
        { CR_IDX_POSTAL, "v8w-1a1", "V8W1A1" },
        { CR_IDX_POSTAL, "12345678901", "" },
        { CR_IDX_EMAIL, "Ann@Example.COM", "ann@example.com" },
        { CR_IDX_EMAIL, "\xc3\x89@x.CA", "\xc3\x89@x.ca" },
    };
    apr_pool_t *pool = *state;
    const char *out;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        out = NULL;
        assert_int_equal(cr_index_normalize_term(&out, pool, v[i].kind,
                                                 v[i].term), APR_SUCCESS);
        if (out == NULL || strcmp(out, v[i].out) != 0) {
            fail_msg("%s '%s' -> '%s', expected '%s'", v[i].kind, v[i].term,
                     out ? out : "(null)", v[i].out);
        }
    }
    assert_int_equal(cr_index_normalize_term(&out, pool, CR_IDX_FAMILY,
                                             "Sm\xc3"), APR_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(cr_index_normalize_term(&out, pool, CR_IDX_GIVEN,
                                             "\xed\xa0\x80"), APR_EINVAL);

    /* A term and the key of the same name agree. */
    {
        cr_index_t *ix = index_of(pool, PT "\"name\":[{\"family\":"
                                  "\"D'\xc3\x81vila-P\xc3\xa9rez\"}]}");
        const cr_index_row_t *r = &APR_ARRAY_IDX(search_rows(pool, ix), 0,
                                                 cr_index_row_t);
        assert_int_equal(cr_index_normalize_term(&out, pool, CR_IDX_FAMILY,
                                                 "davila perez"),
                         APR_SUCCESS);
        assert_string_equal(r->value, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("name, phone, e-mail and postal keys (table)", test_keys),
        CR_TEST("birth range by precision, gender", test_birth_and_gender),
        CR_TEST("CR-REV-001: keys of the IG Revise-withMaxData Patient",
                test_ig_patient),
        CR_TEST("names with more than 8 words keep 8 parts",
                test_many_parts),
        CR_TEST("CR_INDEX_MAX_ROWS bound", test_max_rows),
        CR_TEST("cr_index_normalize_term", test_normalize_term),
    };

    return cmocka_run_group_tests_name("cr_index", tests, group_setup,
                                       group_teardown);
}
