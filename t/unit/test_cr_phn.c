/*
 * test_cr_phn.c: unit tests for cr_phn (PHN validation, check digits,
 * formatting and body allocation helpers).
 *
 * The vectors come from spec/phn.md section 4 and the CR-PHN list in
 * spec/conformance-checklist.md; each table row names the checklist id
 * it proves.  The generation tests compare cr_phn against an independent
 * reference written here (products reduced mod 11 before summing, the
 * other form spec/phn.md allows), so a shared mistake is unlikely.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/cr_phn.h"

/* A cmocka test whose printed name starts with the checklist id. */
#define CR_TEST(name, fn) { name, fn, NULL, NULL, NULL }

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *id;         /* checklist id or spec section */
    const char *input;      /* NULL means a NULL pointer */
    cr_phn_result_e expect;
} phn_vector_t;

static const phn_vector_t phn_vectors[] = {
    /* CR-PHN-003: valid PHNs from the IG and the reference vector. */
    { "CR-PHN-003", "9253484802", CR_PHN_OK },
    { "CR-PHN-003", "9983652763", CR_PHN_OK },
    { "CR-PHN-003", "9999999998", CR_PHN_OK },
    { "CR-PHN-003", "9698658215", CR_PHN_OK },
    /* phn.md section 4: other valid values. */
    { "phn.md 4", "9455882493", CR_PHN_OK },
    { "phn.md 4", "9434640973", CR_PHN_OK },
    { "phn.md 4", "9202466333", CR_PHN_OK },
    { "phn.md 4", "9529923123", CR_PHN_OK },
    { "phn.md 4", "9873669461", CR_PHN_OK },
    { "phn.md 4", "9097222336", CR_PHN_OK },
    { "phn.md 4", "9719248656", CR_PHN_OK },
    /* CR-PHN-004: IG placeholders with a wrong check digit. */
    { "CR-PHN-004", "9999999999", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9999999990", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9999999991", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9999999992", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9876543210", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9736546293", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-004", "9876345146", CR_PHN_BAD_CHECK_DIGIT },
    /* CR-PHN-005: bodies without a check digit (DECISION-15 for r = 0). */
    { "CR-PHN-005", "9000000040", CR_PHN_UNUSABLE_BODY },
    { "CR-PHN-005", "9123456780", CR_PHN_UNUSABLE_BODY },
    { "CR-PHN-005", "9000000000", CR_PHN_UNUSABLE_BODY },
    /* CR-PHN-006: malformed values. */
    { "CR-PHN-006", "8123456789", CR_PHN_BAD_PREFIX },
    { "CR-PHN-006", "912345678", CR_PHN_BAD_LENGTH },
    { "CR-PHN-006", "9A23456780", CR_PHN_NOT_DIGITS },
    { "CR-PHN-006", "92534848020", CR_PHN_BAD_LENGTH },
    /* phn.md section 4: identifiers that are not PHNs. */
    { "phn.md 4", "123345654", CR_PHN_BAD_LENGTH },
    { "phn.md 4", "987654321", CR_PHN_BAD_LENGTH },
    /* CR-PHN-001: shapes a caller might send. */
    { "CR-PHN-001", NULL, CR_PHN_BAD_LENGTH },
    { "CR-PHN-001", "", CR_PHN_BAD_LENGTH },
    { "CR-PHN-001", "9253 484 802", CR_PHN_BAD_LENGTH },
    { "CR-PHN-001", "9253-484802", CR_PHN_BAD_LENGTH },
    { "CR-PHN-001", "925-348480", CR_PHN_NOT_DIGITS },
    { "CR-PHN-001", " 925348480", CR_PHN_NOT_DIGITS },
    { "CR-PHN-001", "925348480 ", CR_PHN_NOT_DIGITS },
    { "CR-PHN-001", "+925348480", CR_PHN_NOT_DIGITS },
    { "CR-PHN-001", "0253484802", CR_PHN_BAD_PREFIX },
    { "CR-PHN-001", "1253484802", CR_PHN_BAD_PREFIX },
    { "CR-PHN-001", "\xd9\xa9" "25348480", CR_PHN_NOT_DIGITS },
    { "CR-PHN-001", "92534848020000000000000", CR_PHN_BAD_LENGTH },
    /* CR-PHN-002: one wrong digit anywhere breaks the check. */
    { "CR-PHN-002", "9253484803", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-002", "9253484801", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-002", "9453484802", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-002", "9253484822", CR_PHN_BAD_CHECK_DIGIT },
    { "CR-PHN-005", "9253484812", CR_PHN_UNUSABLE_BODY },
    /* CR-PHN-002: two swapped adjacent digits are detected. */
    { "CR-PHN-002", "9523484802", CR_PHN_BAD_CHECK_DIGIT },
};

/* Independent reference: r with each product reduced mod 11 first. */
static const int ref_weights[8] = { 2, 4, 8, 5, 10, 9, 7, 3 };

static int ref_remainder(const char *phn)
{
    int i, sum = 0;

    for (i = 1; i <= 8; i++) {
        sum += ((phn[i] - '0') * ref_weights[i - 1]) % 11;
    }
    return sum % 11;
}

/* Format a body as a PHN with a placeholder check digit. */
static void ref_phn_with_check(char out[CR_PHN_LEN + 1], long body, int check)
{
    int i;

    out[0] = '9';
    for (i = 8; i >= 1; i--) {
        out[i] = (char)('0' + body % 10);
        body /= 10;
    }
    out[9] = (char)('0' + check);
    out[10] = '\0';
}

static void test_validate_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(phn_vectors); i++) {
        const phn_vector_t *v = &phn_vectors[i];
        cr_phn_result_e got = cr_phn_validate(v->input);

        if (got != v->expect) {
            fail_msg("%s: \"%s\" -> %d, expected %d", v->id,
                     v->input ? v->input : "(null)", (int)got,
                     (int)v->expect);
        }
        /* The length-taking form must agree on every terminated input. */
        if (v->input != NULL) {
            got = cr_phn_validate_n(v->input, strlen(v->input));
            if (got != v->expect) {
                fail_msg("%s: validate_n \"%s\" -> %d, expected %d", v->id,
                         v->input, (int)got, (int)v->expect);
            }
        }
    }
}

/*
 * The remainders and check digits spec/phn.md section 4 prints, so the
 * table there and the code cannot drift apart unnoticed.
 */
typedef struct {
    const char *phn;
    int remainder;
    int check;      /* the correct check digit for the body */
} phn_remainder_t;

static const phn_remainder_t phn_remainders[] = {
    { "9253484802", 9, 2 },
    { "9455882493", 8, 3 },
    { "9983652763", 8, 3 },
    { "9999999999", 3, 8 },
    { "9876543210", 3, 8 },
    { "9736546293", 3, 8 },
    { "9876345146", 2, 9 },
    { "9000000040", 1, -1 },
    { "9123456780", 0, -1 },
};

static apr_int64_t body_of_digits(const char *phn)
{
    apr_int64_t body = 0;
    int i;

    for (i = 1; i <= 8; i++) {
        body = body * 10 + (phn[i] - '0');
    }
    return body;
}

static void test_remainders(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(phn_remainders); i++) {
        const phn_remainder_t *v = &phn_remainders[i];
        int check = cr_phn_check_digit(body_of_digits(v->phn));

        if (ref_remainder(v->phn) != v->remainder) {
            fail_msg("%s: reference r %d, spec says %d", v->phn,
                     ref_remainder(v->phn), v->remainder);
        }
        if (check != v->check) {
            fail_msg("%s: check digit %d, expected %d", v->phn, check,
                     v->check);
        }
    }
}

/*
 * CR-PHN-005, DECISION-15: 9123456780 has r = 0.  python-stdnum accepts
 * it with check digit (11 - 0) mod 11 = 0; we follow Health Gateway and
 * reject it, and we never issue a PHN for such a body.
 */
static void test_decision15_r0_rejected(void **state)
{
    char out[CR_PHN_LEN + 1];

    (void)state;
    assert_int_equal(ref_remainder("9123456780"), 0);
    /* The stdnum reading would accept it: show the disagreement. */
    assert_int_equal((11 - ref_remainder("9123456780")) % 11, 0);
    assert_int_equal(cr_phn_validate("9123456780"), CR_PHN_UNUSABLE_BODY);
    assert_int_equal(cr_phn_check_digit(12345678), -1);
    assert_int_equal(cr_phn_format(out, 12345678), APR_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(cr_phn_body("9123456780"), -1);
    /* No other final digit rescues an r = 0 or r = 1 body either. */
    {
        int d;
        char phn[CR_PHN_LEN + 1];

        for (d = 0; d <= 9; d++) {
            ref_phn_with_check(phn, 12345678, d);
            assert_int_equal(cr_phn_validate(phn), CR_PHN_UNUSABLE_BODY);
            ref_phn_with_check(phn, 4, d);
            assert_int_equal(cr_phn_validate(phn), CR_PHN_UNUSABLE_BODY);
        }
    }
}

/* CR-PHN-001: input that is not NUL-terminated. */
static void test_validate_n_unterminated(void **state)
{
    static const char padded[] = "9253484802XYZ";
    static const char embedded_nul[CR_PHN_LEN] = {
        '9', '2', '5', '3', '4', '\0', '4', '8', '0', '2'
    };

    (void)state;
    assert_int_equal(cr_phn_validate_n(padded, CR_PHN_LEN), CR_PHN_OK);
    assert_int_equal(cr_phn_validate_n(padded, CR_PHN_LEN + 1),
                     CR_PHN_BAD_LENGTH);
    assert_int_equal(cr_phn_validate_n(padded, 0), CR_PHN_BAD_LENGTH);
    assert_int_equal(cr_phn_validate_n(NULL, CR_PHN_LEN),
                     CR_PHN_BAD_LENGTH);
    assert_int_equal(cr_phn_validate_n(embedded_nul, CR_PHN_LEN),
                     CR_PHN_NOT_DIGITS);
}

/*
 * CR-PHN-001: cr_phn_validate() reads at most 11 characters, so this
 * 11-byte array without a terminator is safe (ASan and valgrind watch).
 */
static void test_validate_bounded_read(void **state)
{
    const char eleven[CR_PHN_LEN + 1] = {
        '9', '2', '5', '3', '4', '8', '4', '8', '0', '2', '0'
    };

    (void)state;
    assert_int_equal(cr_phn_validate(eleven), CR_PHN_BAD_LENGTH);
}

/*
 * CR-PHN-007 (unit level), CR-PHN-002: for every body in two ranges the
 * check digit matches the reference, cr_phn_format() output validates
 * and round-trips through cr_phn_body(), and unusable bodies are refused.
 */
static void check_body_range(long lo, long hi, long *usable, long *total)
{
    long b;
    char out[CR_PHN_LEN + 1];
    char ref[CR_PHN_LEN + 1];

    for (b = lo; b <= hi; b++) {
        int r, check;
        apr_status_t rv;

        ref_phn_with_check(ref, b, 0);
        r = ref_remainder(ref);
        check = cr_phn_check_digit(b);
        rv = cr_phn_format(out, b);
        (*total)++;
        if (r < 2) {
            if (check != -1 || rv != APR_EINVAL || out[0] != '\0') {
                fail_msg("body %ld (r %d): check %d, format %d \"%s\"",
                         b, r, check, rv, out);
            }
            continue;
        }
        (*usable)++;
        ref[9] = (char)('0' + (11 - r));
        if (check != 11 - r || rv != APR_SUCCESS || strcmp(out, ref) != 0
            || cr_phn_validate(out) != CR_PHN_OK || cr_phn_body(out) != b) {
            fail_msg("body %ld (r %d): check %d, format %d \"%s\", "
                     "expected \"%s\"", b, r, check, rv, out, ref);
        }
    }
}

static void test_generate_ranges(void **state)
{
    long usable = 0, total = 0;

    (void)state;
    check_body_range(0, 99999, &usable, &total);
    check_body_range(25300000, 25399999, &usable, &total);
    check_body_range(99900000, 99999999, &usable, &total);
    assert_int_equal(total, 300000);
    /* 9 of 11 residues are usable: about 81.8 %. */
    assert_in_range(usable * 1000 / total, 810, 827);
}

/*
 * For every PHN with a usable body, exactly one final digit validates,
 * and every other one is reported as a bad check digit.
 */
static void test_single_check_digit(void **state)
{
    long b;
    char phn[CR_PHN_LEN + 1];

    (void)state;
    for (b = 0; b < 20000; b += 7) {
        int d, ok = 0, check = cr_phn_check_digit(b);

        if (check < 0) {
            continue;
        }
        for (d = 0; d <= 9; d++) {
            cr_phn_result_e res;

            ref_phn_with_check(phn, b, d);
            res = cr_phn_validate(phn);
            if (res == CR_PHN_OK) {
                ok++;
                assert_int_equal(d, check);
            }
            else {
                assert_int_equal(res, CR_PHN_BAD_CHECK_DIGIT);
            }
        }
        assert_int_equal(ok, 1);
    }
}

/* DECISION-16 helper: next_usable_body agrees with a brute-force scan. */
static void test_next_usable_body_scan(void **state)
{
    long b;
    long skipped = 0;
    apr_int64_t next_usable = -1;

    (void)state;
    /* Walk downwards so the answer for b is known from b + 1. */
    for (b = 200000; b >= 0; b--) {
        if (cr_phn_check_digit(b) > 0) {
            next_usable = b;
        }
        else {
            skipped++;
        }
        if (b < 200000 && cr_phn_next_usable_body(b) != next_usable) {
            fail_msg("next_usable_body(%ld) = %" APR_INT64_T_FMT
                     ", expected %" APR_INT64_T_FMT, b,
                     cr_phn_next_usable_body(b), next_usable);
        }
    }
    assert_true(skipped > 0);
}

/* CR-PHN-005, DECISION-16: known r = 0 and r = 1 bodies are skipped. */
static void test_next_usable_body_skips(void **state)
{
    (void)state;
    /* 00000000 has r = 0, 00000001 r = 3. */
    assert_int_equal(cr_phn_next_usable_body(0), 1);
    /* 00000004 has r = 1, 00000005 r = 4. */
    assert_int_equal(cr_phn_check_digit(4), -1);
    assert_int_equal(cr_phn_next_usable_body(4), 5);
    /* 12345678 has r = 0 (9123456780), 12345679 r = 3. */
    assert_int_equal(cr_phn_next_usable_body(12345678), 12345679);
    /* Usable bodies map to themselves. */
    assert_int_equal(cr_phn_next_usable_body(25348480), 25348480);
    assert_int_equal(cr_phn_next_usable_body(99999999), 99999999);
}

/* Bounds: -1 and 100000000 are outside the body range. */
static void test_bounds(void **state)
{
    char out[CR_PHN_LEN + 1];

    (void)state;
    assert_int_equal(cr_phn_check_digit(-1), -1);
    assert_int_equal(cr_phn_check_digit(APR_INT64_C(100000000)), -1);
    assert_int_equal(cr_phn_check_digit(APR_INT64_MIN), -1);
    assert_int_equal(cr_phn_check_digit(APR_INT64_MAX), -1);

    memset(out, 'x', sizeof(out));
    assert_int_equal(cr_phn_format(out, -1), APR_EINVAL);
    assert_string_equal(out, "");
    memset(out, 'x', sizeof(out));
    assert_int_equal(cr_phn_format(out, APR_INT64_C(100000000)), APR_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(cr_phn_format(out, APR_INT64_MAX), APR_EINVAL);

    /* Both ends of the range that are usable format correctly. */
    assert_int_equal(cr_phn_format(out, 1), APR_SUCCESS);
    assert_string_equal(out, "9000000018");
    assert_int_equal(cr_phn_format(out, CR_PHN_BODY_MAX), APR_SUCCESS);
    assert_string_equal(out, "9999999998");

    /* A negative start is treated as 0; past the maximum nothing is left. */
    assert_int_equal(cr_phn_next_usable_body(-1), 1);
    assert_int_equal(cr_phn_next_usable_body(APR_INT64_MIN), 1);
    assert_int_equal(cr_phn_next_usable_body(APR_INT64_C(100000000)), -1);
    assert_int_equal(cr_phn_next_usable_body(APR_INT64_MAX), -1);
}

static void test_body(void **state)
{
    (void)state;
    assert_int_equal(cr_phn_body("9253484802"), 25348480);
    assert_int_equal(cr_phn_body("9000000018"), 1);
    assert_int_equal(cr_phn_body("9999999998"), 99999999);
    assert_int_equal(cr_phn_body("9999999999"), -1);
    assert_int_equal(cr_phn_body("912345678"), -1);
    assert_int_equal(cr_phn_body(NULL), -1);
}

/* Texts for OperationOutcome: present, distinct, sentences, no PHN. */
static void test_result_text(void **state)
{
    static const cr_phn_result_e all[] = {
        CR_PHN_OK, CR_PHN_BAD_LENGTH, CR_PHN_NOT_DIGITS, CR_PHN_BAD_PREFIX,
        CR_PHN_UNUSABLE_BODY, CR_PHN_BAD_CHECK_DIGIT
    };
    size_t i, j;
    const char *unknown;

    (void)state;
    for (i = 0; i < ARRAY_LEN(all); i++) {
        const char *t = cr_phn_result_text(all[i]);

        assert_non_null(t);
        assert_true(strlen(t) > 10);
        assert_int_equal(t[strlen(t) - 1], '.');
        assert_null(strstr(t, "925"));
        for (j = 0; j < i; j++) {
            assert_string_not_equal(t, cr_phn_result_text(all[j]));
        }
    }
    unknown = cr_phn_result_text((cr_phn_result_e)99);
    assert_non_null(unknown);
    assert_true(strlen(unknown) > 0);
}

static void test_looks_like(void **state)
{
    (void)state;
    assert_true(cr_phn_looks_like("9123456780"));    /* check digit off */
    assert_true(cr_phn_looks_like("0000000000"));
    assert_false(cr_phn_looks_like("912345678"));
    assert_false(cr_phn_looks_like("91234567801"));
    assert_false(cr_phn_looks_like("912345678a"));
    assert_false(cr_phn_looks_like(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-PHN-001..006: spec and checklist vectors validate "
                "as expected", test_validate_vectors),
        CR_TEST("CR-PHN-002: remainders and check digits of phn.md 4",
                test_remainders),
        CR_TEST("CR-PHN-005: DECISION-15 r=0 PHN 9123456780 rejected "
                "(Health Gateway, not stdnum)", test_decision15_r0_rejected),
        CR_TEST("CR-PHN-001: validate_n on unterminated input",
                test_validate_n_unterminated),
        CR_TEST("CR-PHN-001: validate reads at most 11 characters",
                test_validate_bounded_read),
        CR_TEST("CR-PHN-007: every body in 300000 formats to a valid PHN "
                "or is refused", test_generate_ranges),
        CR_TEST("CR-PHN-002: exactly one check digit per usable body",
                test_single_check_digit),
        CR_TEST("CR-PHN-005: next_usable_body matches a brute-force scan",
                test_next_usable_body_scan),
        CR_TEST("CR-PHN-005: next_usable_body skips r=0 and r=1 bodies",
                test_next_usable_body_skips),
        CR_TEST("CR-PHN-002: bounds -1 and 100000000", test_bounds),
        CR_TEST("CR-PHN-001: body of a valid PHN", test_body),
        CR_TEST("CR-PHN: result texts for OperationOutcome",
                test_result_text),
        CR_TEST("CR-PHN: a PHN-shaped id (ten digits)", test_looks_like),
    };

    return cmocka_run_group_tests_name("cr_phn", tests, NULL, NULL);
}
