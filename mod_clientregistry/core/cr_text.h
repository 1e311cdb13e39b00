/* cr_text: text checks and encodings shared by every layer: UTF-8
 * validity, form-urlencoded decoding, percent-encoding and the shape of a
 * FHIR resource id.  Pure functions on APR pools; no FHIR resources, no
 * SQL, no logging.
 */
#ifndef CR_TEXT_H
#define CR_TEXT_H

#include <apr.h>
#include <apr_errno.h>
#include <apr_pools.h>

/* Longest FHIR resource id (FHIR R4 id datatype: [A-Za-z0-9\-\.]{1,64}). */
#define CR_TEXT_ID_MAX 64

/* 1 if s[0..len) is valid UTF-8 (shortest forms, no surrogates, at most
 * U+10FFFF) without NUL, else 0. */
int cr_text_utf8_ok(const char *s, apr_size_t len);

/* Decode one application/x-www-form-urlencoded component s[0..len) ("+"
 * is a space, "%XX" a byte) into *out, allocated from pool.  APR_EINVAL
 * (and *out NULL) on a bad escape, a NUL or invalid UTF-8. */
apr_status_t cr_text_url_decode(const char **out, apr_pool_t *pool,
                                const char *s, apr_size_t len);

/* Percent-encode s for a URL query: everything but the unreserved
 * characters A-Z a-z 0-9 - . _ ~ becomes "%XX".  Allocated from pool;
 * cr_text_url_decode gives s back. */
const char *cr_text_url_encode(apr_pool_t *pool, const char *s);

/* 1 if s is a valid FHIR resource id: 1 to CR_TEXT_ID_MAX characters of
 * A-Z a-z 0-9 - and ., else 0. */
int cr_text_id_ok(const char *s);

#endif /* CR_TEXT_H */
