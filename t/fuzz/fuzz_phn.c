/* fuzz_phn: the scalar validators, PHN and FHIR date/dateTime/instant.
 *
 * The input is a candidate value as a client sends it (a path segment,
 * a search value, a JSON string): cr_phn_validate_n on the raw bytes and
 * cr_phn_validate on the NUL-terminated copy; the three cr_datetime
 * parsers on the same copy.  The first eight bytes, read as an integer,
 * also go to the PHN body functions and cr_datetime_format_instant.
 * Invariants: both PHN validators agree; a valid PHN formats back from
 * its body; parsed dates give a day range lo <= hi; a formatted instant
 * parses back to the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "core/cr_phn.h"
#include "fuzz_common.h"

static apr_pool_t *root_pool;

static void phn(const uint8_t *data, size_t size, const char *s)
{
    cr_phn_result_e r = cr_phn_validate_n((const char *)data, size);
    char out[CR_PHN_LEN + 1];
    apr_int64_t body;

    CR_FUZZ_ASSERT(cr_phn_result_text(r) != NULL);
    if (memchr(data, '\0', size) == NULL) {
        CR_FUZZ_ASSERT(cr_phn_validate(s) == r);
    }
    if (r != CR_PHN_OK) {
        CR_FUZZ_ASSERT(cr_phn_body(s) == -1 || memchr(data, '\0', size));
        return;
    }
    body = cr_phn_body(s);
    CR_FUZZ_ASSERT(body >= CR_PHN_BODY_MIN && body <= CR_PHN_BODY_MAX);
    CR_FUZZ_ASSERT(cr_phn_check_digit(body) == s[9] - '0');
    CR_FUZZ_ASSERT(cr_phn_format(out, body) == APR_SUCCESS);
    CR_FUZZ_ASSERT(strcmp(out, s) == 0);
    CR_FUZZ_ASSERT(cr_phn_next_usable_body(body) == body);
}

static void phn_body(apr_int64_t body)
{
    char out[CR_PHN_LEN + 1];
    apr_int64_t next = cr_phn_next_usable_body(body);
    int cd = cr_phn_check_digit(body);

    CR_FUZZ_ASSERT(cd == -1 || (cd >= 1 && cd <= 9));
    if (cr_phn_format(out, body) == APR_SUCCESS) {
        CR_FUZZ_ASSERT(cd != -1);
        CR_FUZZ_ASSERT(cr_phn_validate(out) == CR_PHN_OK);
        CR_FUZZ_ASSERT(cr_phn_body(out) == body);
    }
    else {
        CR_FUZZ_ASSERT(cd == -1 && out[0] == '\0');
    }
    if (next != -1) {
        CR_FUZZ_ASSERT(next >= body && next <= CR_PHN_BODY_MAX);
        CR_FUZZ_ASSERT(cr_phn_check_digit(next) != -1);
    }
}

static void check_value(const cr_datetime_t *dt)
{
    char lo[CR_DATETIME_DAY_SIZE], hi[CR_DATETIME_DAY_SIZE];
    char buf[CR_DATETIME_INSTANT_SIZE];
    apr_time_t t, t2;
    cr_datetime_t back;

    cr_datetime_day_range(dt, lo, hi);
    CR_FUZZ_ASSERT(strlen(lo) == 10 && strlen(hi) == 10);
    CR_FUZZ_ASSERT(strcmp(lo, hi) <= 0);
    if (dt->precision != CR_DT_SECOND) {
        CR_FUZZ_ASSERT(cr_datetime_to_apr_time(&t, dt) == APR_EINVAL);
        return;
    }
    CR_FUZZ_ASSERT(cr_datetime_to_apr_time(&t, dt) == APR_SUCCESS);
    if (cr_datetime_format_instant(buf, sizeof(buf), t) != APR_SUCCESS) {
        return;     /* before 0001 or after 9999 once moved to UTC */
    }
    CR_FUZZ_ASSERT(cr_datetime_parse_instant(&back, buf) == APR_SUCCESS);
    CR_FUZZ_ASSERT(cr_datetime_to_apr_time(&t2, &back) == APR_SUCCESS);
    /* Truncated to milliseconds; floor also for times before 1970. */
    CR_FUZZ_ASSERT(t2 <= t && t - t2 < 1000);
}

static void instant_of(apr_time_t t)
{
    char buf[CR_DATETIME_INSTANT_SIZE];
    cr_datetime_t dt;
    apr_time_t back;

    if (cr_datetime_format_instant(buf, sizeof(buf), t) == APR_SUCCESS) {
        CR_FUZZ_ASSERT(strlen(buf) == CR_DATETIME_INSTANT_SIZE - 1);
        CR_FUZZ_ASSERT(cr_datetime_parse_instant(&dt, buf) == APR_SUCCESS);
        CR_FUZZ_ASSERT(cr_datetime_to_apr_time(&back, &dt) == APR_SUCCESS);
        CR_FUZZ_ASSERT(back <= t && t - back < 1000);
    }
    else {
        CR_FUZZ_ASSERT(buf[0] == '\0');
    }
    CR_FUZZ_ASSERT(cr_datetime_format_instant(buf, 10, t) == APR_ENOSPC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const char *s;
    cr_datetime_t dt;

    if (root_pool == NULL) {
        apr_initialize();
        apr_pool_create(&root_pool, NULL);
        cr_fuzz_pool_enable();
    }
    apr_pool_create(&pool, root_pool);
    s = apr_pstrmemdup(pool, (const char *)data, size);

    phn(data, size, s);
    if (cr_datetime_parse_date(&dt, s) == APR_SUCCESS) {
        CR_FUZZ_ASSERT(dt.precision >= CR_DT_YEAR
                       && dt.precision <= CR_DT_DAY);
        check_value(&dt);
    }
    else {
        CR_FUZZ_ASSERT(dt.precision == 0);
    }
    if (cr_datetime_parse_datetime(&dt, s) == APR_SUCCESS) {
        check_value(&dt);
    }
    else {
        CR_FUZZ_ASSERT(dt.precision == 0);
    }
    if (cr_datetime_parse_instant(&dt, s) == APR_SUCCESS) {
        CR_FUZZ_ASSERT(dt.precision == CR_DT_SECOND && dt.has_tz);
        check_value(&dt);
    }
    else {
        CR_FUZZ_ASSERT(dt.precision == 0);
    }
    if (size >= 8) {
        apr_int64_t v;
        memcpy(&v, data, sizeof(v));
        phn_body(v);
        phn_body(v % (CR_PHN_BODY_MAX + 2));
        instant_of((apr_time_t)v);
        /* Mostly within 0001..9999, where formatting succeeds. */
        instant_of((apr_time_t)(v % APR_INT64_C(315000000000000000)));
    }
    apr_pool_destroy(pool);
    return 0;
}
