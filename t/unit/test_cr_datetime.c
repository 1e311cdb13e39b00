/*
 * test_cr_datetime.c: unit tests for cr_datetime (FHIR R4 date, dateTime
 * and instant parsing, day ranges, apr_time_t conversion and formatting).
 *
 * The parse table lists, for each string, which of the three parsers
 * accept it and the fields they must produce; the expected epoch values
 * were computed independently with Python's datetime module.  The sweep
 * tests walk every day of years 0001..9999 and compare the calendar
 * arithmetic with APR's own gmtime-based conversion where that applies.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/cr_datetime.h"

#define CR_TEST(name, fn) { name, fn, NULL, NULL, NULL }

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Which parsers accept a row. */
#define P_DATE     1
#define P_DATETIME 2
#define P_INSTANT  4
#define P_NONE     0

#define USEC APR_INT64_C(1000000)

typedef struct {
    const char *input;      /* NULL means a NULL pointer */
    int accept;             /* P_* bits */
    int y, mo, d, h, mi, s, usec, has_tz, tz;
    cr_dt_precision_e precision;
} dt_vector_t;

static const dt_vector_t dt_vectors[] = {
    /* Dates at each precision; day 1 / month 1 fill missing parts. */
    { "1980", P_DATE | P_DATETIME, 1980, 1, 1, 0, 0, 0, 0, 0, 0,
      CR_DT_YEAR },
    { "1980-02", P_DATE | P_DATETIME, 1980, 2, 1, 0, 0, 0, 0, 0, 0,
      CR_DT_MONTH },
    { "1980-02-29", P_DATE | P_DATETIME, 1980, 2, 29, 0, 0, 0, 0, 0, 0,
      CR_DT_DAY },
    { "2000-02-29", P_DATE | P_DATETIME, 2000, 2, 29, 0, 0, 0, 0, 0, 0,
      CR_DT_DAY },
    { "0001", P_DATE | P_DATETIME, 1, 1, 1, 0, 0, 0, 0, 0, 0, CR_DT_YEAR },
    { "0001-01-01", P_DATE | P_DATETIME, 1, 1, 1, 0, 0, 0, 0, 0, 0,
      CR_DT_DAY },
    { "9999-12-31", P_DATE | P_DATETIME, 9999, 12, 31, 0, 0, 0, 0, 0, 0,
      CR_DT_DAY },
    { "1999-04-30", P_DATE | P_DATETIME, 1999, 4, 30, 0, 0, 0, 0, 0, 0,
      CR_DT_DAY },
    { "2023-12", P_DATE | P_DATETIME, 2023, 12, 1, 0, 0, 0, 0, 0, 0,
      CR_DT_MONTH },

    /* Times with zones (profiles.md example period start). */
    { "2023-01-23T14:00:53-08:00", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 0, 1, -480, CR_DT_SECOND },
    { "2023-01-23T14:00:53Z", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 0, 1, 0, CR_DT_SECOND },
    { "2023-01-23T14:00:53.123Z", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 123000, 1, 0, CR_DT_SECOND },
    { "2023-01-23T14:00:53.1234567+05:30", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 123456, 1, 330, CR_DT_SECOND },
    { "2023-01-23T14:00:53.9999999Z", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 999999, 1, 0, CR_DT_SECOND },
    { "2023-01-23T14:00:53.0Z", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 0, 1, 0, CR_DT_SECOND },
    { "2023-01-23T14:00:53.000001Z", P_DATETIME | P_INSTANT,
      2023, 1, 23, 14, 0, 53, 1, 1, 0, CR_DT_SECOND },
    { "2023-01-23T00:00:00+14:00", P_DATETIME | P_INSTANT,
      2023, 1, 23, 0, 0, 0, 0, 1, 840, CR_DT_SECOND },
    { "2023-01-23T00:00:00-14:00", P_DATETIME | P_INSTANT,
      2023, 1, 23, 0, 0, 0, 0, 1, -840, CR_DT_SECOND },
    { "2023-01-23T00:00:00+13:59", P_DATETIME | P_INSTANT,
      2023, 1, 23, 0, 0, 0, 0, 1, 839, CR_DT_SECOND },
    { "2023-01-23T00:00:00-00:00", P_DATETIME | P_INSTANT,
      2023, 1, 23, 0, 0, 0, 0, 1, 0, CR_DT_SECOND },
    { "2023-01-23T23:59:59-12:00", P_DATETIME | P_INSTANT,
      2023, 1, 23, 23, 59, 59, 0, 1, -720, CR_DT_SECOND },
    /* Leap second: the FHIR regex allows ss = 60. */
    { "2016-12-31T23:59:60Z", P_DATETIME | P_INSTANT,
      2016, 12, 31, 23, 59, 60, 0, 1, 0, CR_DT_SECOND },

    /* Rejected by every parser: empty, widths, ranges, calendar. */
    { NULL, P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "0000", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "0000-01-01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "198", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "19800", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "10000-01-01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-2", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-002", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-13", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-1", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-1-01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-32", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-02-30", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-02-29", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1900-02-29", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2100-02-29", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-04-31", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-06-31", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-09-31", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-11-31", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* Signs, spaces, separators, other scripts, trailing garbage. */
    { "+1980", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "-1980", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "+980-01-01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-+1-01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { " 1980", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980 ", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01 ", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01\n", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980/01/01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "19800101", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01x", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "\xef\xbc\x91\xef\xbc\x99\xef\xbc\x98\xef\xbc\x90", P_NONE,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    /* Times: zone required, full width, ranges, exact syntax. */
    { "1980-01-01T", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53.5", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T4:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:0:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:5Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T-1:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T24:00:00Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T23:60:00Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T23:59:61Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01t14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01 14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53 Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53.Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53,5Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53.-5Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53.5.5Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+14:01", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+15:00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53-14:30", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+08:60", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+08", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+0800", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+8:00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+08:0", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53 +08:00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53UTC", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53Z ", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53ZZ", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53Z+08:00", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01-01T14:00:53+08:00x", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980-01T14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "1980T14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "T14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "14:00:53Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "2023-02-29T00:00:00Z", P_NONE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

typedef apr_status_t (*parse_fn)(cr_datetime_t *out, const char *s);

static const struct {
    const char *name;
    int bit;
    parse_fn fn;
} parsers[] = {
    { "date", P_DATE, cr_datetime_parse_date },
    { "dateTime", P_DATETIME, cr_datetime_parse_datetime },
    { "instant", P_INSTANT, cr_datetime_parse_instant },
};

static void expect_fields(const char *what, const char *in,
                          const cr_datetime_t *got, const dt_vector_t *v)
{
    if (got->year != v->y || got->month != v->mo || got->day != v->d
        || got->hour != v->h || got->minute != v->mi
        || got->second != v->s || got->usec != v->usec
        || got->has_tz != v->has_tz || got->tz_offset_min != v->tz
        || got->precision != v->precision) {
        fail_msg("%s \"%s\": got %04d-%02d-%02d %02d:%02d:%02d.%06d "
                 "tz %d/%d prec %d", what, in, got->year, got->month,
                 got->day, got->hour, got->minute, got->second, got->usec,
                 got->has_tz, got->tz_offset_min, (int)got->precision);
    }
}

static void test_parse_vectors(void **state)
{
    static const dt_vector_t zero;
    size_t i, k;

    (void)state;
    for (i = 0; i < ARRAY_LEN(dt_vectors); i++) {
        const dt_vector_t *v = &dt_vectors[i];
        const char *in = v->input ? v->input : "(null)";

        for (k = 0; k < ARRAY_LEN(parsers); k++) {
            cr_datetime_t got;
            apr_status_t rv;
            int want = (v->accept & parsers[k].bit) != 0;

            /* Poison the output to prove a failure clears it. */
            memset(&got, 0x5a, sizeof(got));
            rv = parsers[k].fn(&got, v->input);
            if (want && rv != APR_SUCCESS) {
                fail_msg("%s \"%s\" rejected, expected accepted",
                         parsers[k].name, in);
            }
            if (!want && rv != APR_EINVAL) {
                fail_msg("%s \"%s\" returned %d, expected APR_EINVAL",
                         parsers[k].name, in, rv);
            }
            expect_fields(parsers[k].name, in, &got, want ? v : &zero);
        }
    }
}

/* Every day-of-month limit of a leap and a common year, both ways. */
static void test_month_lengths(void **state)
{
    static const int common[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    static const int years[] = { 1, 4, 100, 400, 1900, 1996, 2000, 2023,
                                 2024, 2100, 9996, 9999 };
    size_t i;
    int m;

    (void)state;
    for (i = 0; i < ARRAY_LEN(years); i++) {
        int y = years[i];
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        for (m = 1; m <= 12; m++) {
            char buf[32];
            cr_datetime_t dt;
            int last = common[m - 1] + (m == 2 && leap);

            snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, last);
            if (cr_datetime_parse_date(&dt, buf) != APR_SUCCESS) {
                fail_msg("\"%s\" rejected", buf);
            }
            snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, last + 1);
            if (cr_datetime_parse_date(&dt, buf) != APR_EINVAL) {
                fail_msg("\"%s\" accepted", buf);
            }
        }
    }
}

typedef struct {
    const char *input;
    const char *lo;
    const char *hi;
} range_vector_t;

static const range_vector_t range_vectors[] = {
    { "1980", "1980-01-01", "1980-12-31" },
    { "0001", "0001-01-01", "0001-12-31" },
    { "1980-02", "1980-02-01", "1980-02-29" },
    { "1981-02", "1981-02-01", "1981-02-28" },
    { "1900-02", "1900-02-01", "1900-02-28" },
    { "2000-02", "2000-02-01", "2000-02-29" },
    { "1980-04", "1980-04-01", "1980-04-30" },
    { "1980-12", "1980-12-01", "1980-12-31" },
    { "9999-12", "9999-12-01", "9999-12-31" },
    { "1980-02-29", "1980-02-29", "1980-02-29" },
    { "0001-01-01", "0001-01-01", "0001-01-01" },
    /* Second precision: the local day as written, not the UTC day. */
    { "2023-01-23T23:30:00-08:00", "2023-01-23", "2023-01-23" },
    { "2023-01-23T00:30:00+14:00", "2023-01-23", "2023-01-23" },
};

static void test_day_range(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(range_vectors); i++) {
        const range_vector_t *v = &range_vectors[i];
        cr_datetime_t dt;
        char lo[CR_DATETIME_DAY_SIZE], hi[CR_DATETIME_DAY_SIZE];

        assert_int_equal(cr_datetime_parse_datetime(&dt, v->input),
                         APR_SUCCESS);
        cr_datetime_day_range(&dt, lo, hi);
        if (strcmp(lo, v->lo) != 0 || strcmp(hi, v->hi) != 0) {
            fail_msg("\"%s\": %s..%s, expected %s..%s", v->input, lo, hi,
                     v->lo, v->hi);
        }
    }
}

/* Values the parser could not have produced give empty ranges. */
static void test_day_range_invalid(void **state)
{
    cr_datetime_t dt;
    char lo[CR_DATETIME_DAY_SIZE], hi[CR_DATETIME_DAY_SIZE];

    (void)state;
    memset(&dt, 0, sizeof(dt));
    cr_datetime_day_range(&dt, lo, hi);
    assert_string_equal(lo, "");
    assert_string_equal(hi, "");

    assert_int_equal(cr_datetime_parse_date(&dt, "1980-02-29"), APR_SUCCESS);
    dt.year = 1981;
    cr_datetime_day_range(&dt, lo, hi);
    assert_string_equal(lo, "");
    dt.year = 10000;
    dt.day = 1;
    cr_datetime_day_range(&dt, lo, hi);
    assert_string_equal(lo, "");
    dt.year = 1980;
    dt.month = 13;
    cr_datetime_day_range(&dt, lo, hi);
    assert_string_equal(hi, "");

    cr_datetime_day_range(NULL, lo, hi);
    assert_string_equal(lo, "");
}

typedef struct {
    apr_time_t t;
    apr_status_t rv;
    const char *text;
} format_vector_t;

static const format_vector_t format_vectors[] = {
    { 0, APR_SUCCESS, "1970-01-01T00:00:00.000Z" },
    { 1, APR_SUCCESS, "1970-01-01T00:00:00.000Z" },
    { 999, APR_SUCCESS, "1970-01-01T00:00:00.000Z" },
    { 1000, APR_SUCCESS, "1970-01-01T00:00:00.001Z" },
    { 999999, APR_SUCCESS, "1970-01-01T00:00:00.999Z" },
    { -1, APR_SUCCESS, "1969-12-31T23:59:59.999Z" },
    { -1000000, APR_SUCCESS, "1969-12-31T23:59:59.000Z" },
    { -1000001, APR_SUCCESS, "1969-12-31T23:59:58.999Z" },
    { -14182940 * USEC, APR_SUCCESS, "1969-07-20T20:17:40.000Z" },
    { -2203891200 * USEC, APR_SUCCESS, "1900-03-01T00:00:00.000Z" },
    { 951782400 * USEC, APR_SUCCESS, "2000-02-29T00:00:00.000Z" },
    { 1674511253 * USEC + 123456, APR_SUCCESS,
      "2023-01-23T22:00:53.123Z" },
    { 1483228799 * USEC, APR_SUCCESS, "2016-12-31T23:59:59.000Z" },
    { -62135596800 * USEC, APR_SUCCESS, "0001-01-01T00:00:00.000Z" },
    { 253402300799 * USEC + 999999, APR_SUCCESS,
      "9999-12-31T23:59:59.999Z" },
    { -62135596800 * USEC - 1, APR_EINVAL, "" },
    { 253402300800 * USEC, APR_EINVAL, "" },
    { APR_INT64_MIN, APR_EINVAL, "" },
    { APR_INT64_MAX, APR_EINVAL, "" },
};

static void test_format_instant(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(format_vectors); i++) {
        const format_vector_t *v = &format_vectors[i];
        char buf[CR_DATETIME_INSTANT_SIZE];
        apr_status_t rv;

        memset(buf, 'x', sizeof(buf));
        rv = cr_datetime_format_instant(buf, sizeof(buf), v->t);
        if (rv != v->rv || strcmp(buf, v->text) != 0) {
            fail_msg("t %" APR_TIME_T_FMT ": %d \"%.*s\", expected %d "
                     "\"%s\"", v->t, rv, (int)sizeof(buf), buf, v->rv,
                     v->text);
        }
    }
}

static void test_format_instant_space(void **state)
{
    char buf[CR_DATETIME_INSTANT_SIZE + 8];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(cr_datetime_format_instant(buf,
                                                CR_DATETIME_INSTANT_SIZE - 1,
                                                0), APR_ENOSPC);
    assert_string_equal(buf, "");
    assert_int_equal(cr_datetime_format_instant(NULL, 0, 0), APR_ENOSPC);
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(cr_datetime_format_instant(buf,
                                                CR_DATETIME_INSTANT_SIZE,
                                                0), APR_SUCCESS);
    assert_int_equal(strlen(buf), CR_DATETIME_INSTANT_SIZE - 1);
    /* Nothing written past the terminator. */
    assert_int_equal(buf[CR_DATETIME_INSTANT_SIZE], 'x');
}

typedef struct {
    const char *input;
    apr_status_t rv;
    apr_time_t t;
} to_time_vector_t;

static const to_time_vector_t to_time_vectors[] = {
    { "1970-01-01T00:00:00Z", APR_SUCCESS, 0 },
    { "1970-01-01T00:00:00-00:00", APR_SUCCESS, 0 },
    { "1970-01-01T00:00:00+01:00", APR_SUCCESS, -3600 * USEC },
    { "1969-12-31T16:00:00-08:00", APR_SUCCESS, 0 },
    { "2023-01-23T14:00:53-08:00", APR_SUCCESS, 1674511253 * USEC },
    { "2023-01-23T22:00:53Z", APR_SUCCESS, 1674511253 * USEC },
    { "2023-01-24T03:30:53+05:30", APR_SUCCESS, 1674511253 * USEC },
    { "2023-01-23T14:00:53.123456789-08:00", APR_SUCCESS,
      1674511253 * USEC + 123456 },
    { "2000-02-29T00:00:00Z", APR_SUCCESS, 951782400 * USEC },
    { "1969-07-20T20:17:40Z", APR_SUCCESS, -14182940 * USEC },
    { "1900-03-01T00:00:00Z", APR_SUCCESS, -2203891200 * USEC },
    /* A leap second lands on the next minute, as in POSIX time. */
    { "2016-12-31T23:59:60Z", APR_SUCCESS, 1483228800 * USEC },
    { "0001-01-01T00:00:00Z", APR_SUCCESS, -62135596800 * USEC },
    { "0001-01-01T00:00:00+14:00", APR_SUCCESS,
      (-62135596800 - 14 * 3600) * USEC },
    { "9999-12-31T23:59:59.999999Z", APR_SUCCESS,
      253402300799 * USEC + 999999 },
    { "9999-12-31T23:59:59-14:00", APR_SUCCESS,
      (253402300799 + 14 * 3600) * USEC },
    /* No time, so no instant. */
    { "1980", APR_EINVAL, 0 },
    { "1980-02", APR_EINVAL, 0 },
    { "1980-02-29", APR_EINVAL, 0 },
};

static void test_to_apr_time(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(to_time_vectors); i++) {
        const to_time_vector_t *v = &to_time_vectors[i];
        cr_datetime_t dt;
        apr_time_t t = 42;
        apr_status_t rv;

        assert_int_equal(cr_datetime_parse_datetime(&dt, v->input),
                         APR_SUCCESS);
        rv = cr_datetime_to_apr_time(&t, &dt);
        if (rv != v->rv || t != v->t) {
            fail_msg("\"%s\": %d %" APR_TIME_T_FMT ", expected %d %"
                     APR_TIME_T_FMT, v->input, rv, t, v->rv, v->t);
        }
    }
}

/* Hand-built values the parser would never produce are refused. */
static void test_to_apr_time_invalid(void **state)
{
    cr_datetime_t dt, bad;
    apr_time_t t;

    (void)state;
    assert_int_equal(cr_datetime_parse_instant(&dt, "2023-01-23T14:00:53Z"),
                     APR_SUCCESS);
    bad = dt;
    bad.has_tz = 0;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    assert_int_equal(t, 0);
    bad = dt;
    bad.hour = 24;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    bad = dt;
    bad.usec = 1000000;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    bad = dt;
    bad.tz_offset_min = 15 * 60;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    bad = dt;
    bad.year = 0;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    bad = dt;
    bad.month = 2;
    bad.day = 29;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    bad = dt;
    bad.precision = (cr_dt_precision_e)0;
    assert_int_equal(cr_datetime_to_apr_time(&t, &bad), APR_EINVAL);
    assert_int_equal(cr_datetime_to_apr_time(&t, NULL), APR_EINVAL);
}

/*
 * Days of 0001-01-01..9999-12-31 in order: midnight UTC formats to that
 * day, parses back as an instant and converts to the same apr_time_t.
 * Counting days ourselves checks the calendar arithmetic without trusting
 * any other implementation.  Every day is checked in the years 1-400,
 * 1600-2400 and 9600-9999 (the calendar repeats every 400 years, so that
 * covers every leap rule and both ends); elsewhere only the days around
 * year and February boundaries, which keeps valgrind runs short.
 */
static void test_every_day_round_trip(void **state)
{
    static const int common[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    apr_time_t t = -62135596800 * USEC;
    long days = 0;
    int y, m, d;

    (void)state;
    for (y = 1; y <= 9999; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int every_day = y <= 400 || (y >= 1600 && y <= 2400) || y >= 9600;

        for (m = 1; m <= 12; m++) {
            int last = common[m - 1] + (m == 2 && leap);

            for (d = 1; d <= last; d++) {
                char buf[CR_DATETIME_INSTANT_SIZE], want[25];
                cr_datetime_t dt;
                apr_time_t back;

                if (!every_day && !(m == 1 && d == 1) && !(m == 12 && d == 31)
                    && !(m == 2 && d >= 28) && !(m == 3 && d == 1)) {
                    t += 86400 * USEC;
                    days++;
                    continue;
                }

                /* Built by hand: snprintf() here dominates valgrind. */
                memcpy(want, "0000-00-00T00:00:00.000Z", 25);
                want[0] = (char)('0' + y / 1000);
                want[1] = (char)('0' + y / 100 % 10);
                want[2] = (char)('0' + y / 10 % 10);
                want[3] = (char)('0' + y % 10);
                want[5] = (char)('0' + m / 10);
                want[6] = (char)('0' + m % 10);
                want[8] = (char)('0' + d / 10);
                want[9] = (char)('0' + d % 10);
                if (cr_datetime_format_instant(buf, sizeof(buf), t)
                    != APR_SUCCESS || strcmp(buf, want) != 0) {
                    fail_msg("t %" APR_TIME_T_FMT ": \"%s\", expected "
                             "\"%s\"", t, buf, want);
                }
                if (cr_datetime_parse_instant(&dt, buf) != APR_SUCCESS
                    || cr_datetime_to_apr_time(&back, &dt) != APR_SUCCESS
                    || back != t) {
                    fail_msg("\"%s\" did not convert back", buf);
                }
                t += 86400 * USEC;
                days++;
            }
        }
    }
    /* 10000 years less year 0 of a 400-year cycle of 146097 days. */
    assert_int_equal(days, 25 * 146097 - 366);
    assert_int_equal(t, 253402300800 * USEC);
}

/*
 * Times spread over the whole range with odd steps: format agrees with
 * APR's gmtime-based explosion (for times after 1970, where APR's
 * microsecond field is meaningful), and format -> parse -> to_apr_time
 * gives the time truncated to milliseconds.
 */
static void test_sweep_against_apr(void **state)
{
    const apr_time_t lo = -62135596800 * USEC;
    const apr_time_t hi = 253402300800 * USEC - 1;
    const apr_time_t step = APR_INT64_C(7777777777777) + 12345;
    apr_time_t t;
    long n = 0;

    (void)state;
    for (t = lo; t <= hi; t += step) {
        char buf[CR_DATETIME_INSTANT_SIZE];
        cr_datetime_t dt;
        apr_time_t back, ms = t - (((t % 1000) + 1000) % 1000);

        assert_int_equal(cr_datetime_format_instant(buf, sizeof(buf), t),
                         APR_SUCCESS);
        if (cr_datetime_parse_instant(&dt, buf) != APR_SUCCESS
            || cr_datetime_to_apr_time(&back, &dt) != APR_SUCCESS
            || back != ms) {
            fail_msg("t %" APR_TIME_T_FMT " -> \"%s\" -> %" APR_TIME_T_FMT,
                     t, buf, back);
        }
        if (t >= 0) {
            apr_time_exp_t xt;
            char want[64];

            assert_int_equal(apr_time_exp_gmt(&xt, t), APR_SUCCESS);
            snprintf(want, sizeof(want),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                     xt.tm_year + 1900, xt.tm_mon + 1, xt.tm_mday,
                     xt.tm_hour, xt.tm_min, xt.tm_sec, xt.tm_usec / 1000);
            if (strcmp(buf, want) != 0) {
                fail_msg("t %" APR_TIME_T_FMT ": \"%s\", APR says \"%s\"",
                         t, buf, want);
            }
        }
        n++;
    }
    assert_true(n > 30000);
}

/* apr_time_now() formats as a well-formed instant that parses back. */
static void test_now(void **state)
{
    char buf[CR_DATETIME_INSTANT_SIZE];
    cr_datetime_t dt;
    apr_time_t now = apr_time_now(), back;

    (void)state;
    assert_int_equal(cr_datetime_format_instant(buf, sizeof(buf), now),
                     APR_SUCCESS);
    assert_int_equal(cr_datetime_parse_instant(&dt, buf), APR_SUCCESS);
    assert_int_equal(cr_datetime_to_apr_time(&back, &dt), APR_SUCCESS);
    assert_int_equal(back, now - now % 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("FHIR date/dateTime/instant: grammar table",
                test_parse_vectors),
        CR_TEST("FHIR date: month lengths and leap years",
                test_month_lengths),
        CR_TEST("day range: year, month, day and second precision",
                test_day_range),
        CR_TEST("day range: invalid values give empty strings",
                test_day_range_invalid),
        CR_TEST("format instant: table", test_format_instant),
        CR_TEST("format instant: buffer size", test_format_instant_space),
        CR_TEST("to_apr_time: table", test_to_apr_time),
        CR_TEST("to_apr_time: invalid values", test_to_apr_time_invalid),
        CR_TEST("round trip: days of 0001..9999",
                test_every_day_round_trip),
        CR_TEST("round trip: sweep against apr_time_exp_gmt",
                test_sweep_against_apr),
        CR_TEST("round trip: apr_time_now()", test_now),
    };

    return cmocka_run_group_tests_name("cr_datetime", tests, NULL, NULL);
}
