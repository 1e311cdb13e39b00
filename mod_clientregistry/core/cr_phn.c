/*
 * cr_phn.c: validation, check digits and formatting of BC Personal
 * Health Numbers.
 *
 * Everything here is arithmetic on ten ASCII digits; see cr_phn.h for the
 * layout and spec/phn.md for the sources of the algorithm.  The functions
 * touch no global state and allocate nothing.
 */

#include "core/cr_phn.h"

/*
 * CR-PHN-002: weights for PHN digits 2..9, left to right.  Index 0 is
 * the most significant digit of the body.
 */
static const int phn_weights[8] = { 2, 4, 8, 5, 10, 9, 7, 3 };

/* Number of body digits (PHN digits 2..9). */
#define PHN_BODY_DIGITS 8

static int is_ascii_digit(char c)
{
    /* Not isdigit(): that depends on the locale and on the sign of char. */
    return c >= '0' && c <= '9';
}

/*
 * Split a body into its 8 decimal digits, most significant first.  The
 * caller has checked the range.
 */
static void body_to_digits(int digits[PHN_BODY_DIGITS], apr_int64_t body)
{
    int i;

    for (i = PHN_BODY_DIGITS - 1; i >= 0; i--) {
        digits[i] = (int)(body % 10);
        body /= 10;
    }
}

/*
 * CR-PHN-002: r = (sum of digit * weight) mod 11 over the body digits.
 * Reducing each product modulo 11 first would give the same r; with at
 * most 8 * 90 = 720 the plain sum cannot overflow, so we reduce once.
 */
static int body_remainder(const int digits[PHN_BODY_DIGITS])
{
    int i, sum = 0;

    for (i = 0; i < PHN_BODY_DIGITS; i++) {
        sum += digits[i] * phn_weights[i];
    }
    return sum % 11;
}

/*
 * CR-PHN-002, CR-PHN-005 (DECISION-15): check digit 11 - r for r = 2..10,
 * which is 9..1.  r = 1 would need "10" and r = 0 would need "11" (or 0
 * in python-stdnum's reading); both are unusable and yield -1.
 */
static int check_digit_for_remainder(int r)
{
    if (r < 2) {
        return -1;
    }
    return 11 - r;
}

static int body_in_range(apr_int64_t body)
{
    return body >= CR_PHN_BODY_MIN && body <= CR_PHN_BODY_MAX;
}

cr_phn_result_e cr_phn_validate_n(const char *s, apr_size_t len)
{
    int digits[PHN_BODY_DIGITS];
    int i, check;

    /* CR-PHN-001: exactly 10 digits, the first being 9. */
    if (s == NULL || len != CR_PHN_LEN) {
        return CR_PHN_BAD_LENGTH;
    }
    for (i = 0; i < CR_PHN_LEN; i++) {
        if (!is_ascii_digit(s[i])) {
            return CR_PHN_NOT_DIGITS;
        }
    }
    if (s[0] != '9') {
        return CR_PHN_BAD_PREFIX;
    }

    for (i = 0; i < PHN_BODY_DIGITS; i++) {
        digits[i] = s[i + 1] - '0';
    }

    /* CR-PHN-002, CR-PHN-005: no check digit exists for r = 0 or 1. */
    check = check_digit_for_remainder(body_remainder(digits));
    if (check < 0) {
        return CR_PHN_UNUSABLE_BODY;
    }
    if (s[CR_PHN_LEN - 1] - '0' != check) {
        return CR_PHN_BAD_CHECK_DIGIT;
    }
    return CR_PHN_OK;
}

int cr_phn_looks_like(const char *s)
{
    int i;

    for (i = 0; s[i]; i++) {
        if (!is_ascii_digit(s[i])) {
            return 0;
        }
    }
    return i == CR_PHN_LEN;
}

cr_phn_result_e cr_phn_validate(const char *s)
{
    apr_size_t n = 0;

    if (s == NULL) {
        return CR_PHN_BAD_LENGTH;
    }
    /*
     * Count at most one character past a PHN's length: that is enough to
     * tell "too long" apart, and it bounds the work for hostile input.
     */
    while (n <= CR_PHN_LEN && s[n] != '\0') {
        n++;
    }
    return cr_phn_validate_n(s, n);
}

const char *cr_phn_result_text(cr_phn_result_e r)
{
    switch (r) {
    case CR_PHN_OK:
        return "The PHN is valid.";
    case CR_PHN_BAD_LENGTH:
        return "A PHN must be exactly 10 digits long.";
    case CR_PHN_NOT_DIGITS:
        return "A PHN must contain only the digits 0 to 9.";
    case CR_PHN_BAD_PREFIX:
        return "A PHN must start with the digit 9.";
    case CR_PHN_UNUSABLE_BODY:
        return "The PHN is not valid: no check digit exists for its "
               "digits 2 to 9.";
    case CR_PHN_BAD_CHECK_DIGIT:
        return "The PHN check digit is not correct.";
    }
    return "The PHN failed validation.";
}

int cr_phn_check_digit(apr_int64_t body)
{
    int digits[PHN_BODY_DIGITS];

    if (!body_in_range(body)) {
        return -1;
    }
    body_to_digits(digits, body);
    return check_digit_for_remainder(body_remainder(digits));
}

apr_status_t cr_phn_format(char out[CR_PHN_LEN + 1], apr_int64_t body)
{
    int digits[PHN_BODY_DIGITS];
    int i, check;

    out[0] = '\0';
    if (!body_in_range(body)) {
        return APR_EINVAL;
    }
    body_to_digits(digits, body);

    /* CR-PHN-005: never issue a PHN for an unusable body. */
    check = check_digit_for_remainder(body_remainder(digits));
    if (check < 0) {
        return APR_EINVAL;
    }

    /* CR-PHN-001: the leading 9, then the body, then the check digit. */
    out[0] = '9';
    for (i = 0; i < PHN_BODY_DIGITS; i++) {
        out[i + 1] = (char)('0' + digits[i]);
    }
    out[CR_PHN_LEN - 1] = (char)('0' + check);
    out[CR_PHN_LEN] = '\0';
    return APR_SUCCESS;
}

apr_int64_t cr_phn_next_usable_body(apr_int64_t body)
{
    if (body < CR_PHN_BODY_MIN) {
        body = CR_PHN_BODY_MIN;
    }
    /*
     * Nine of the eleven residues are usable and stepping the last digit
     * moves r by 3, so this loop ends after very few rounds; the range
     * check alone bounds it.
     */
    for (; body <= CR_PHN_BODY_MAX; body++) {
        if (cr_phn_check_digit(body) > 0) {
            return body;
        }
    }
    return -1;
}

apr_int64_t cr_phn_body(const char *valid_phn)
{
    apr_int64_t body = 0;
    int i;

    if (cr_phn_validate(valid_phn) != CR_PHN_OK) {
        return -1;
    }
    for (i = 1; i <= PHN_BODY_DIGITS; i++) {
        body = body * 10 + (valid_phn[i] - '0');
    }
    return body;
}
