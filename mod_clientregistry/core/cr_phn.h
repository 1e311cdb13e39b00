/*
 * cr_phn.h: the BC Personal Health Number (PHN) as a value.
 *
 * This unit owns the PHN's syntax and its mod-11 check digit: validating
 * a value a caller sent, producing the check digit for an 8-digit body,
 * formatting a new PHN from a body, and finding the next body that can
 * carry a check digit (for the allocator in the store layer).  It knows
 * nothing of identifiers, systems, FHIR or the database, never allocates
 * memory and keeps no state, so every function is thread-safe.
 *
 * Layout of a PHN (spec/phn.md section 2): exactly 10 ASCII digits; the
 * first is always 9; digits 2-9 are the "body"; digit 10 is the check
 * digit.  A body is handled here as an integer 0..99999999 (leading zeros
 * are significant in the PHN but not in the integer).
 *
 * Check digit (spec/phn.md section 3, DECISION-15): weights 2,4,8,5,10,
 * 9,7,3 on digits 2-9, r = sum mod 11, check digit = 11 - r.  Bodies with
 * r = 0 or r = 1 are "unusable": no single digit fits, so such PHNs are
 * rejected on input and never issued.  This follows BC's Health Gateway;
 * python-stdnum would accept r = 0 with check digit 0, we do not.
 */

#ifndef CR_PHN_H
#define CR_PHN_H

#include <apr.h>
#include <apr_errno.h>

/* Number of characters in a PHN (without a terminating NUL). */
#define CR_PHN_LEN 10

/* Smallest and largest body (digits 2-9 read as an integer). */
#define CR_PHN_BODY_MIN APR_INT64_C(0)
#define CR_PHN_BODY_MAX APR_INT64_C(99999999)

/*
 * Outcome of validating a PHN.  The checks run in the order the values
 * are listed, and the first failing check is reported.
 */
typedef enum {
    CR_PHN_OK = 0,
    CR_PHN_BAD_LENGTH,      /* not exactly 10 characters */
    CR_PHN_NOT_DIGITS,      /* a non-digit character */
    CR_PHN_BAD_PREFIX,      /* first digit is not 9 */
    CR_PHN_UNUSABLE_BODY,   /* remainder 0 or 1: no check digit exists */
    CR_PHN_BAD_CHECK_DIGIT
} cr_phn_result_e;

/*
 * Validate a NUL-terminated candidate PHN.
 *
 * The string is taken exactly as given: no spaces, dashes or other
 * separators are stripped (spec/phn.md section 2 recommends rejecting
 * them in FHIR payloads).  At most CR_PHN_LEN + 1 characters are read,
 * so an arbitrarily long input is cheap to reject.
 *
 * Returns CR_PHN_OK for a valid PHN, otherwise the first failing check.
 * A NULL pointer yields CR_PHN_BAD_LENGTH.
 */
cr_phn_result_e cr_phn_validate(const char *s);

/*
 * Validate a candidate PHN of len bytes that need not be NUL-terminated
 * (for example a path segment or a JSON string with a known length).
 * An embedded NUL byte counts as a non-digit.  Results as for
 * cr_phn_validate(); NULL yields CR_PHN_BAD_LENGTH.
 */
cr_phn_result_e cr_phn_validate_n(const char *s, apr_size_t len);

/*
 * 1 if s has the shape of a PHN: exactly CR_PHN_LEN ASCII digits, check
 * digit not tested; else 0.  Used to tell a PHN from a resource id where
 * either may be given (a read by id, an identifier-less look-up), so that
 * a PHN with a wrong check digit is reported as a bad PHN, not as an
 * unknown id.
 */
int cr_phn_looks_like(const char *s);

/*
 * A short English sentence describing a validation result, suitable as
 * OperationOutcome.issue.details text.  It never contains the PHN or
 * other patient data.  The string is static; the caller must not modify
 * or free it.  An unknown value yields a generic sentence, never NULL.
 */
const char *cr_phn_result_text(cr_phn_result_e r);

/*
 * The check digit for a body (the 8 digits after the leading 9, as an
 * integer 0..99999999).
 *
 * Returns 1..9, or -1 when the body is out of range or unusable
 * (remainder 0 or 1, DECISION-15).  A check digit of 0 never occurs.
 */
int cr_phn_check_digit(apr_int64_t body);

/*
 * Format the PHN for a body into out: '9', the body as 8 zero-padded
 * digits, the check digit, and a terminating NUL (CR_PHN_LEN + 1 bytes).
 *
 * Returns APR_SUCCESS, or APR_EINVAL when the body is out of range or
 * unusable; out then holds the empty string.  The output always passes
 * cr_phn_validate() on success.
 */
apr_status_t cr_phn_format(char out[CR_PHN_LEN + 1], apr_int64_t body);

/*
 * The smallest usable body that is >= body, for an allocator that walks
 * bodies upwards (spec/phn.md DECISION-16).  A negative argument is
 * treated as 0, so the result is the first usable body overall.
 *
 * Returns the body, or -1 when no usable body <= CR_PHN_BODY_MAX exists
 * (always the case for body > CR_PHN_BODY_MAX).
 */
apr_int64_t cr_phn_next_usable_body(apr_int64_t body);

/*
 * The body (digits 2-9 as an integer) of a valid NUL-terminated PHN.
 *
 * Returns 0..99999999, or -1 if the string does not pass
 * cr_phn_validate(), so a caller cannot mistake garbage for a body.
 */
apr_int64_t cr_phn_body(const char *valid_phn);

#endif /* CR_PHN_H */
