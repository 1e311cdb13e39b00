/*
 * cr_datetime.c: parsing and formatting of FHIR R4 date, dateTime and
 * instant values.
 *
 * The parser is a hand-written scanner over the exact FHIR grammar (see
 * cr_datetime.h) rather than sscanf(), which would accept signs, spaces
 * and short fields.  Calendar arithmetic counts days from 0001-01-01 in
 * the proleptic Gregorian calendar with plain integer formulas, so it is
 * exact for every year the grammar allows and independent of the host's
 * time_t and time zone.
 */

#include "core/cr_datetime.h"

#include <string.h>

/* What the caller asked to parse. */
typedef enum {
    KIND_DATE,
    KIND_DATETIME,
    KIND_INSTANT
} dt_kind_e;

/* Days from 0001-01-01 to 1970-01-01, the apr_time_t epoch. */
#define DAYS_0001_TO_1970 APR_INT64_C(719162)

/* Days in 400 Gregorian years; the calendar repeats after this. */
#define DAYS_PER_400_YEARS 146097

#define SECONDS_PER_DAY APR_INT64_C(86400)

/* Largest zone offset FHIR allows, in minutes (+14:00). */
#define MAX_TZ_OFFSET_MIN (14 * 60)

static const int month_days[12] = {
    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};

/* Days in a common year before the first of each month. */
static const int days_before_month[12] = {
    0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
};

static int is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    if (m == 2 && is_leap_year(y)) {
        return 29;
    }
    return month_days[m - 1];
}

/*
 * Days from 0001-01-01 to y-m-d (0 for 0001-01-01).  The month must be
 * 1..12; the formula holds for any year >= 1, and civil_from_days() relies
 * on that when it probes the year after 9999.
 */
static apr_int64_t days_since_0001(int y, int m, int d)
{
    apr_int64_t py = y - 1;   /* full years before y */
    apr_int64_t days = py * 365 + py / 4 - py / 100 + py / 400;

    days += days_before_month[m - 1];
    if (m > 2 && is_leap_year(y)) {
        days++;
    }
    return days + d - 1;
}

/*
 * The inverse of days_since_0001() for days >= 0: the year is estimated
 * from the mean Gregorian year length and then corrected, which takes at
 * most a step either way; the month is then found from the table.
 */
static void civil_from_days(apr_int64_t days, int *y, int *m, int *d)
{
    int year = (int)(days * 400 / DAYS_PER_400_YEARS) + 1;
    int month, doy, leap;

    while (year > 1 && days_since_0001(year, 1, 1) > days) {
        year--;
    }
    while (days_since_0001(year + 1, 1, 1) <= days) {
        year++;
    }
    doy = (int)(days - days_since_0001(year, 1, 1));
    leap = is_leap_year(year);

    /* The last month whose first day is not after doy. */
    month = 12;
    while (days_before_month[month - 1] + (month > 2 && leap) > doy) {
        month--;
    }
    *y = year;
    *m = month;
    *d = doy - days_before_month[month - 1] - (month > 2 && leap) + 1;
}

/* Division rounding towards minus infinity, for times before 1970. */
static apr_int64_t floor_div(apr_int64_t a, apr_int64_t b)
{
    apr_int64_t q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

/*
 * Check the fields of a value against the ranges the parser accepts, so
 * that functions taking a caller-built value never index out of a table
 * or overflow.
 */
static int fields_valid(const cr_datetime_t *dt)
{
    if (dt->precision < CR_DT_YEAR || dt->precision > CR_DT_SECOND) {
        return 0;
    }
    if (dt->year < 1 || dt->year > 9999 || dt->month < 1 || dt->month > 12
        || dt->day < 1 || dt->day > days_in_month(dt->year, dt->month)) {
        return 0;
    }
    if (dt->hour < 0 || dt->hour > 23 || dt->minute < 0 || dt->minute > 59
        || dt->second < 0 || dt->second > 60 || dt->usec < 0
        || dt->usec > 999999) {
        return 0;
    }
    if (dt->tz_offset_min < -MAX_TZ_OFFSET_MIN
        || dt->tz_offset_min > MAX_TZ_OFFSET_MIN) {
        return 0;
    }
    return 1;
}

/*
 * Read exactly n ASCII digits at *p into *val and advance *p.  Returns 0
 * (leaving *p alone) if any of them is not a digit, which includes the
 * terminating NUL, so a short string can never be over-read.
 */
static int scan_digits(const char **p, int n, int *val)
{
    const char *s = *p;
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *val = v;
    *p = s + n;
    return 1;
}

/* Consume the single character c at *p, or return 0. */
static int scan_char(const char **p, char c)
{
    if (**p != c) {
        return 0;
    }
    (*p)++;
    return 1;
}

/*
 * Zone: 'Z', or a sign and hh:mm with 00:00 <= hh:mm <= 13:59 or exactly
 * 14:00, as the FHIR regex spells out.
 */
static int scan_zone(const char **p, int *offset_min)
{
    int sign, hh, mm;

    if (scan_char(p, 'Z')) {
        *offset_min = 0;
        return 1;
    }
    if (scan_char(p, '+')) {
        sign = 1;
    }
    else if (scan_char(p, '-')) {
        sign = -1;
    }
    else {
        return 0;
    }
    if (!scan_digits(p, 2, &hh) || !scan_char(p, ':')
        || !scan_digits(p, 2, &mm)) {
        return 0;
    }
    if (mm > 59 || hh > 14 || (hh == 14 && mm != 0)) {
        return 0;
    }
    *offset_min = sign * (hh * 60 + mm);
    return 1;
}

/*
 * The time part after 'T': hh:mm:ss, an optional fraction of one or more
 * digits, and the required zone.
 */
static int scan_time(const char **p, cr_datetime_t *dt)
{
    int scale = 100000;

    if (!scan_digits(p, 2, &dt->hour) || dt->hour > 23
        || !scan_char(p, ':')
        || !scan_digits(p, 2, &dt->minute) || dt->minute > 59
        || !scan_char(p, ':')
        || !scan_digits(p, 2, &dt->second) || dt->second > 60) {
        return 0;
    }
    if (scan_char(p, '.')) {
        if (**p < '0' || **p > '9') {
            return 0;
        }
        /* Keep six digits, skip the rest: truncation, not rounding. */
        while (**p >= '0' && **p <= '9') {
            dt->usec += (**p - '0') * scale;
            scale /= 10;
            (*p)++;
        }
    }
    if (!scan_zone(p, &dt->tz_offset_min)) {
        return 0;
    }
    dt->has_tz = 1;
    dt->precision = CR_DT_SECOND;
    return 1;
}

/*
 * The whole grammar in one pass.  Each step either consumes its part or
 * fails; the value is accepted only if the string ends exactly where the
 * grammar for the requested kind may end.
 */
static apr_status_t parse_value(cr_datetime_t *out, const char *s,
                                dt_kind_e kind)
{
    cr_datetime_t dt;
    const char *p = s;

    memset(out, 0, sizeof(*out));
    if (s == NULL) {
        return APR_EINVAL;
    }
    memset(&dt, 0, sizeof(dt));
    dt.month = 1;
    dt.day = 1;

    if (!scan_digits(&p, 4, &dt.year) || dt.year < 1) {
        return APR_EINVAL;
    }
    dt.precision = CR_DT_YEAR;
    if (*p != '\0') {
        if (!scan_char(&p, '-') || !scan_digits(&p, 2, &dt.month)
            || dt.month < 1 || dt.month > 12) {
            return APR_EINVAL;
        }
        dt.precision = CR_DT_MONTH;
    }
    if (*p != '\0') {
        if (!scan_char(&p, '-') || !scan_digits(&p, 2, &dt.day)
            || dt.day < 1 || dt.day > days_in_month(dt.year, dt.month)) {
            return APR_EINVAL;
        }
        dt.precision = CR_DT_DAY;
    }
    if (*p != '\0') {
        if (kind == KIND_DATE || !scan_char(&p, 'T')
            || !scan_time(&p, &dt)) {
            return APR_EINVAL;
        }
    }
    if (*p != '\0') {
        return APR_EINVAL;
    }
    if (kind == KIND_INSTANT && dt.precision != CR_DT_SECOND) {
        return APR_EINVAL;
    }
    *out = dt;
    return APR_SUCCESS;
}

apr_status_t cr_datetime_parse_date(cr_datetime_t *out, const char *s)
{
    return parse_value(out, s, KIND_DATE);
}

apr_status_t cr_datetime_parse_datetime(cr_datetime_t *out, const char *s)
{
    return parse_value(out, s, KIND_DATETIME);
}

apr_status_t cr_datetime_parse_instant(cr_datetime_t *out, const char *s)
{
    return parse_value(out, s, KIND_INSTANT);
}

/* Write v as exactly n digits (v is known to fit) and return the end. */
static char *put_digits(char *p, int v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* "YYYY-MM-DD" into a CR_DATETIME_DAY_SIZE buffer. */
static void put_day(char out[CR_DATETIME_DAY_SIZE], int y, int m, int d)
{
    char *p = out;

    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p = '\0';
}

void cr_datetime_day_range(const cr_datetime_t *dt,
                           char lo[CR_DATETIME_DAY_SIZE],
                           char hi[CR_DATETIME_DAY_SIZE])
{
    lo[0] = '\0';
    hi[0] = '\0';
    if (dt == NULL || !fields_valid(dt)) {
        return;
    }
    switch (dt->precision) {
    case CR_DT_YEAR:
        put_day(lo, dt->year, 1, 1);
        put_day(hi, dt->year, 12, 31);
        break;
    case CR_DT_MONTH:
        put_day(lo, dt->year, dt->month, 1);
        put_day(hi, dt->year, dt->month,
                days_in_month(dt->year, dt->month));
        break;
    case CR_DT_DAY:
    case CR_DT_SECOND:
        /*
         * A time narrows the value to one local day.  The UTC day may
         * differ, but a birth or death date is a local calendar fact.
         */
        put_day(lo, dt->year, dt->month, dt->day);
        put_day(hi, dt->year, dt->month, dt->day);
        break;
    }
}

apr_status_t cr_datetime_format_instant(char *buf, apr_size_t len,
                                        apr_time_t t)
{
    apr_int64_t secs, days, sod;
    int usec, y, m, d;
    char *p;

    if (len < CR_DATETIME_INSTANT_SIZE) {
        if (buf != NULL && len > 0) {
            buf[0] = '\0';
        }
        return APR_ENOSPC;
    }
    buf[0] = '\0';

    /*
     * Split without multiplying back, which could overflow at the ends
     * of apr_time_t; the remainder is made non-negative for times before
     * 1970 so that -1 reads as 23:59:59.999999 of the previous day.
     */
    secs = floor_div(t, APR_USEC_PER_SEC);
    usec = (int)(t % APR_USEC_PER_SEC);
    if (usec < 0) {
        usec += (int)APR_USEC_PER_SEC;
    }
    days = floor_div(secs, SECONDS_PER_DAY);
    sod = secs - days * SECONDS_PER_DAY;
    days += DAYS_0001_TO_1970;

    /* 0001-01-01 is day 0; 10000-01-01 is the first day out of range. */
    if (days < 0 || days >= days_since_0001(9999, 12, 31) + 1) {
        return APR_EINVAL;
    }
    civil_from_days(days, &y, &m, &d);

    p = buf;
    put_day(p, y, m, d);
    p += CR_DATETIME_DAY_SIZE - 1;
    *p++ = 'T';
    p = put_digits(p, (int)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (int)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (int)(sod % 60), 2);
    *p++ = '.';
    p = put_digits(p, usec / 1000, 3);
    *p++ = 'Z';
    *p = '\0';
    return APR_SUCCESS;
}

apr_status_t cr_datetime_to_apr_time(apr_time_t *out,
                                     const cr_datetime_t *dt)
{
    apr_int64_t secs;

    *out = 0;
    if (dt == NULL || !fields_valid(dt) || dt->precision != CR_DT_SECOND
        || !dt->has_tz) {
        return APR_EINVAL;
    }
    /*
     * Local time minus the offset east of UTC gives UTC.  A leap second
     * (ss = 60) simply lands on the next minute's first second.  Years
     * 1..9999 need about 2^58 microseconds, well inside apr_time_t.
     */
    secs = (days_since_0001(dt->year, dt->month, dt->day)
            - DAYS_0001_TO_1970) * SECONDS_PER_DAY
           + dt->hour * 3600 + dt->minute * 60 + dt->second
           - (apr_int64_t)dt->tz_offset_min * 60;
    *out = secs * APR_USEC_PER_SEC + dt->usec;
    return APR_SUCCESS;
}
