/*
 * cr_datetime.h: FHIR R4 date, dateTime and instant values.
 *
 * This unit owns the text form of FHIR's temporal primitives: strict
 * parsing of date, dateTime and instant strings into a broken-down value
 * that remembers its precision and zone, the calendar day range such a
 * value covers (for birthdate search and matching), conversion to an
 * apr_time_t, and formatting of an apr_time_t as an instant (for
 * meta.lastUpdated and audit records).  It uses APR types and libc only,
 * keeps no state and allocates nothing, so every function is thread-safe.
 *
 * Accepted grammar (the regular expressions of the FHIR R4 datatypes
 * page, matched exactly, case-sensitive, no surrounding space):
 *
 *   date      YYYY | YYYY-MM | YYYY-MM-DD
 *   dateTime  the date forms | YYYY-MM-DDThh:mm:ss[.f+]zone
 *   instant   YYYY-MM-DDThh:mm:ss[.f+]zone
 *   zone      Z | (+|-)hh:mm with hh:mm 00:00..13:59 or exactly 14:00
 *
 * Year 0001..9999, month 01..12, day valid for the month in the
 * proleptic Gregorian calendar (so 29 February only in leap years),
 * hh 00..23, mm 00..59, ss 00..60.  A second of 60 is accepted because
 * the FHIR regex allows it for leap seconds; it is kept as 60 in the
 * parsed value and counts as the first second of the next minute when
 * converted to apr_time_t (as POSIX time does).  "-00:00" is accepted as
 * UTC since the regex allows it.  Rejected, among others: a time without
 * a zone (FHIR: "if hours and minutes are specified, a time zone SHALL be
 * populated"), hh:mm without seconds, a '.' without digits, lowercase 't'
 * or 'z', signs, spaces and trailing characters.  The fraction may have
 * any number of digits; digits beyond microseconds are truncated, not
 * rounded.
 */

#ifndef CR_DATETIME_H
#define CR_DATETIME_H

#include <apr.h>
#include <apr_errno.h>
#include <apr_time.h>

/* Buffer size for a "YYYY-MM-DD" day, including the NUL. */
#define CR_DATETIME_DAY_SIZE 11

/* Buffer size for a "YYYY-MM-DDThh:mm:ss.mmmZ" instant, with the NUL. */
#define CR_DATETIME_INSTANT_SIZE 25

/* How much of a value was given. */
typedef enum {
    CR_DT_YEAR = 1,         /* YYYY */
    CR_DT_MONTH,            /* YYYY-MM */
    CR_DT_DAY,              /* YYYY-MM-DD */
    CR_DT_SECOND            /* YYYY-MM-DDThh:mm:ss[.f], with a zone */
} cr_dt_precision_e;

/*
 * A parsed value.  Fields below the precision are set to their smallest
 * value (month and day 1, time 0), so a partial date reads as its first
 * moment.  The time fields are the local time as written; tz_offset_min
 * says how far that local time is east of UTC.
 */
typedef struct {
    int year, month, day, hour, minute, second;
    int usec;               /* fraction, microseconds (extra digits cut) */
    int has_tz;             /* 1 when a zone (Z or +hh:mm) was given */
    int tz_offset_min;      /* minutes east of UTC; -08:00 gives -480 */
    cr_dt_precision_e precision;
} cr_datetime_t;

/*
 * Parse a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) from the NUL-terminated
 * string s into *out.
 *
 * Returns APR_SUCCESS, or APR_EINVAL for NULL or anything that does not
 * match the grammar above exactly; *out is then all zero (precision 0).
 */
apr_status_t cr_datetime_parse_date(cr_datetime_t *out, const char *s);

/*
 * Parse a FHIR dateTime: any date form, or a full time to the second with
 * a required zone.  Results as for cr_datetime_parse_date().
 */
apr_status_t cr_datetime_parse_datetime(cr_datetime_t *out, const char *s);

/*
 * Parse a FHIR instant: a full time to the second with a required zone.
 * Results as for cr_datetime_parse_date().
 */
apr_status_t cr_datetime_parse_instant(cr_datetime_t *out, const char *s);

/*
 * The inclusive range of calendar days a value covers, as "YYYY-MM-DD"
 * strings in lo and hi: "1980" gives 1980-01-01..1980-12-31, "1980-02"
 * gives 1980-02-01..1980-02-29, a day gives that day twice.  For second
 * precision the result is the day as written (the local calendar day of
 * the value, not the UTC day).
 *
 * dt must be a value the parse functions produced (or one with fields in
 * the same ranges); otherwise lo and hi are set to the empty string.
 */
void cr_datetime_day_range(const cr_datetime_t *dt,
                           char lo[CR_DATETIME_DAY_SIZE],
                           char hi[CR_DATETIME_DAY_SIZE]);

/*
 * Format t (microseconds since 1970-01-01T00:00:00Z, as apr_time_now()
 * returns) as a FHIR instant "YYYY-MM-DDThh:mm:ss.mmmZ" in UTC into buf.
 * Microseconds are truncated to milliseconds.  Times before 1970 work.
 *
 * Returns APR_SUCCESS; APR_ENOSPC when len < CR_DATETIME_INSTANT_SIZE;
 * APR_EINVAL when t falls outside the years 0001..9999 (buf is then the
 * empty string if len > 0).
 */
apr_status_t cr_datetime_format_instant(char *buf, apr_size_t len,
                                        apr_time_t t);

/*
 * Convert a value of second precision with a zone (any parsed instant, or
 * a dateTime with a time) to microseconds since the epoch, UTC.
 *
 * Returns APR_SUCCESS, or APR_EINVAL (and *out = 0) for a value without
 * a time or zone, or with fields outside the ranges the parser accepts.
 */
apr_status_t cr_datetime_to_apr_time(apr_time_t *out,
                                     const cr_datetime_t *dt);

#endif /* CR_DATETIME_H */
