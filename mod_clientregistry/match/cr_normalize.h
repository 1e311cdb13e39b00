/*
 * cr_normalize.h: canonical forms of the demographic values that record
 * linkage compares.
 *
 * This unit owns the step between what a source system sent and what the
 * matcher (cr_match), the phonetic encoders (cr_phonetic) and the
 * blocking keys stored in SQL work on: names folded to lower-case ASCII,
 * multi-part surnames split into parts, phone numbers reduced to their
 * last ten digits, postal codes reduced to upper-case letters and digits,
 * street-type words spelled out, and English nicknames mapped to one
 * canonical given name.
 *
 * Every function writes into a caller-supplied buffer of a documented
 * fixed size, so nothing allocates and the functions can run once per
 * candidate row.  They keep no state and touch no globals (the tables
 * are const), so they are thread-safe.
 *
 * Bounds: every input comes from the network, so every function reads at
 * most CR_NORM_MAX_LEN bytes of it.  Longer input is TRUNCATED, not
 * rejected: the bytes after the limit are ignored, and for names the cut
 * moves back to the start of the UTF-8 sequence that straddles the
 * limit, so truncation never makes valid input invalid.  Rejecting
 * over-long values is the validator's job (cr_validate); the matcher must
 * still be able to compare whatever was stored.
 */

#ifndef CR_NORMALIZE_H
#define CR_NORMALIZE_H

#include <apr.h>
#include <apr_errno.h>

/* Most input bytes any cr_normalize function reads (see above). */
#define CR_NORM_MAX_LEN 256

/*
 * Size of a buffer that holds any normalized name or compact form,
 * including the NUL.  Folding never makes a name longer than its UTF-8
 * input (the widest expansions, such as "ß" to "ss" or "Æ" to "ae", turn
 * two bytes into two letters), so CR_NORM_MAX_LEN + 1 is always enough.
 */
#define CR_NORM_BUF_SIZE (CR_NORM_MAX_LEN + 1)

/* Pass as in_len when the input is NUL-terminated. */
#define CR_NORM_ZTERM ((apr_size_t)-1)

/* Most parts cr_normalize_split() returns; later parts are dropped. */
#define CR_NORM_MAX_PARTS 8

/* Digits kept from a phone number, and the size of its buffer. */
#define CR_NORM_PHONE_LEN 10
#define CR_NORM_PHONE_SIZE (CR_NORM_PHONE_LEN + 1)

/*
 * Most characters in a normalized postal code, and the size of its
 * buffer.  Ten covers Canada (6), the US ZIP+4 (9) and the UK (7).
 */
#define CR_NORM_POSTAL_LEN 10
#define CR_NORM_POSTAL_SIZE (CR_NORM_POSTAL_LEN + 1)

/*
 * A normalized name split at its spaces.  buf holds a copy of the name
 * with every space replaced by a NUL; part[0..n-1] point into buf, so the
 * parts are NUL-terminated and live exactly as long as the struct.
 */
typedef struct {
    char buf[CR_NORM_BUF_SIZE];
    const char *part[CR_NORM_MAX_PARTS];
    int n;
} cr_normalize_parts_t;

/*
 * Fold a name (a given name, a family name, or a full name) to the form
 * the matcher compares.
 *
 * out:     buffer of at least CR_NORM_BUF_SIZE bytes; receives the
 *          NUL-terminated result, whose characters are only 'a'-'z',
 *          '0'-'9' and single spaces between words, with no leading or
 *          trailing space.  On error it holds "".
 * out_len: if not NULL, receives strlen(out).
 * in:      UTF-8 text of in_len bytes, or NUL-terminated when in_len is
 *          CR_NORM_ZTERM.  Only the first CR_NORM_MAX_LEN bytes are read
 *          (truncated at a code point boundary; see the file comment).
 *          NULL with in_len 0 or CR_NORM_ZTERM is the empty name.
 *
 * Rules, in the order a character meets them:
 *  - ASCII letters are lower-cased; ASCII digits are kept.
 *  - Letters of Latin-1 Supplement (U+00C0-U+00FF), Latin Extended-A
 *    (U+0100-U+017F), Latin Extended-B (U+0180-U+024F), Latin Extended
 *    Additional (U+1E00-U+1EFF, Vietnamese) and the full-width forms are
 *    case-folded and lose their accents: "é" -> "e", "Zoë" -> "zoe",
 *    "Ł" -> "l", "ø" -> "o"; ligatures and sharp s expand: "ß" -> "ss",
 *    "æ" -> "ae", "œ" -> "oe", "þ" -> "th".
 *  - Combining marks (decomposed accents, U+0300-U+036F) are dropped, so
 *    the NFC and NFD spellings of a name give the same result.
 *  - Whitespace (ASCII, no-break and the Unicode spaces) and hyphens or
 *    dashes (ASCII '-', U+2010-U+2015, U+2212) separate words; runs of
 *    separators collapse to one space and the result is trimmed.
 *  - Everything else is dropped without separating words: apostrophes
 *    ("O'Brien" and "O’Brien" -> "obrien"), other punctuation, control
 *    characters, symbols, and letters of scripts that cannot be
 *    transliterated to ASCII by table (Greek, Cyrillic, CJK, ...).
 *
 * Because unmappable scripts are dropped, a name can normalize to "" or
 * lose some words: callers must treat an empty result as "no usable
 * value" (never as agreement between two empty names).
 *
 * "Mac"/"Mc" and name particles ("de", "van") are deliberately left
 * alone: folding "Mac" to "Mc" would also change unrelated names (Mack,
 * Macey, Machado), and NYSIIS already encodes "MAC" as "MCC".  Particles
 * are handled by cr_normalize_split() and cr_normalize_compact().
 *
 * Returns APR_SUCCESS, or APR_EINVAL for invalid UTF-8 (overlong forms,
 * surrogates, code points above U+10FFFF, stray or missing continuation
 * bytes) and for in == NULL with a non-zero length.
 */
apr_status_t cr_normalize_name(char *out, apr_size_t *out_len,
                               const char *in, apr_size_t in_len);

/*
 * Remove the spaces from a normalized name ("de la cruz" -> "delacruz"),
 * so that "De La Cruz", "DeLaCruz" and "de la-cruz" compare equal.
 *
 * out:  buffer of at least CR_NORM_BUF_SIZE bytes; may be the same
 *       buffer as norm (the copy runs forward and never overtakes).
 * norm: NUL-terminated output of cr_normalize_name(); at most
 *       CR_NORM_MAX_LEN bytes are read.  NULL is taken as "".
 *
 * Returns strlen(out).  Cannot fail.
 */
apr_size_t cr_normalize_compact(char *out, const char *norm);

/*
 * Split a normalized multi-part name into its words: "de la cruz" ->
 * "de", "la", "cruz"; "smith jones" -> "smith", "jones".
 *
 * parts: receives the words (see cr_normalize_parts_t); parts->n is 0
 *        for an empty name.
 * norm:  NUL-terminated output of cr_normalize_name(); at most
 *        CR_NORM_MAX_LEN bytes are read.  Runs of spaces and leading or
 *        trailing spaces produce no empty parts.  NULL is taken as "".
 *
 * Returns APR_SUCCESS, or APR_INCOMPLETE when the name has more than
 * CR_NORM_MAX_PARTS words: parts then holds the first CR_NORM_MAX_PARTS
 * and the rest is ignored.
 */
apr_status_t cr_normalize_split(cr_normalize_parts_t *parts,
                                const char *norm);

/*
 * Normalize a name-like text (a name, a city, an address line) with
 * cr_normalize_name() and cut it to at most max bytes, at a word boundary
 * when there is one (trailing spaces dropped).
 *
 * out: buffer of CR_NORM_BUF_SIZE bytes; "" when raw is NULL or not valid
 *      UTF-8.
 * max: at most CR_NORM_MAX_LEN.
 *
 * Cannot fail.
 */
void cr_normalize_text(char *out, const char *raw, apr_size_t max);

/*
 * Street-type words ("st", "ave", "blvd", ...) and their spelled-out
 * forms, so that "12 Main St" and "12 main street" agree.  Such words say
 * little about who lives there, so comparisons word by word skip them.
 *
 * cr_normalize_street_type: the spelled-out form ("street") of a
 * normalized word that is a street type, abbreviated or not; NULL for any
 * other word.  The result is a static string.
 *
 * cr_normalize_is_street_type: 1 when word is a spelled-out street type
 * (a value cr_normalize_street_type returns), else 0.
 */
const char *cr_normalize_street_type(const char *word);
int cr_normalize_is_street_type(const char *word);

/*
 * Reduce a phone number to the digits that identify the line.
 *
 * out: buffer of CR_NORM_PHONE_SIZE bytes; receives 0 to
 *      CR_NORM_PHONE_LEN ASCII digits and a NUL.
 * in:  text of in_len bytes, or NUL-terminated when in_len is
 *      CR_NORM_ZTERM; at most CR_NORM_MAX_LEN bytes are read.  NULL is
 *      taken as "".
 *
 * Rules:
 *  - Only ASCII digits are kept; every other byte is skipped, so
 *    "+1 (250) 555-0123", "250.555.0123" and "tel:+12505550123" agree.
 *  - Once a digit has been seen, the first ASCII letter or one of '#',
 *    ',' or ';' ends the number, so an extension ("x12", "ext. 12",
 *    ";ext=12", "#12") is not mixed into it.  Letters before the first
 *    digit ("tel:", "Home") are skipped.
 *  - Exactly 11 digits starting with '1' are a North American number
 *    with its country code: the '1' is removed.
 *  - Of more than 10 digits, only the last 10 are kept (the subscriber
 *    part of a NANP number; for other countries the trailing digits,
 *    which still identify the line well enough to compare).
 *
 * Returns strlen(out); 0 means no usable value.  Cannot fail.
 */
apr_size_t cr_normalize_phone(char *out, const char *in, apr_size_t in_len);

/*
 * Reduce a postal code to upper-case ASCII letters and digits:
 * "v8w 1a1" -> "V8W1A1", "98101-1234" -> "981011234".
 *
 * out: buffer of CR_NORM_POSTAL_SIZE bytes.
 * in:  text of in_len bytes, or NUL-terminated when in_len is
 *      CR_NORM_ZTERM; at most CR_NORM_MAX_LEN bytes are read.  Every
 *      byte other than an ASCII letter or digit is skipped.  NULL is
 *      taken as "".
 *
 * A value with more than CR_NORM_POSTAL_LEN letters and digits is not a
 * postal code: out is then "" rather than a truncated prefix, so two
 * long junk values never agree by their first ten characters.
 *
 * Returns strlen(out); 0 means no usable value.  Cannot fail.
 */
apr_size_t cr_normalize_postal(char *out, const char *in,
                               apr_size_t in_len);

/*
 * Map an English nickname or spelling variant of a given name to one
 * canonical given name: "bob" -> "robert", "liz", "beth", "betty" ->
 * "elizabeth", "peggy" -> "margaret", "kate", "cathy", "catherine" ->
 * "katherine".
 *
 * norm: one word, NUL-terminated, as produced by cr_normalize_name()
 *       (lower-case ASCII); split multi-word given names first.
 *
 * Returns the canonical name (a static string the caller must not
 * modify), or norm itself when the table has no entry (including
 * canonical names themselves, so the mapping is idempotent).  NULL
 * yields NULL.  The lookup is a binary search over a sorted static table
 * (177 entries, O(log n)); input longer than any table key is
 * answered without a search.
 *
 * The table holds only unambiguous pairs: nicknames shared by a male and
 * a female name (Pat, Chris, Alex, Sam, Terry, Jo, ...) are left out,
 * because mapping them would make Patrick agree with Patricia.  Where a
 * nickname belongs to several names of one sex, the most common one is
 * used (Ted -> Edward, Harry -> Henry).
 */
const char *cr_normalize_given_canonical(const char *norm);

/*
 * Check the invariants of the nickname table that the lookup relies on:
 * keys strictly ascending (bsearch), all lower-case ASCII letters, and
 * no canonical name that is itself a key (idempotence).  Meant for unit
 * tests and for a startup assertion.
 *
 * Returns APR_SUCCESS, or APR_EGENERAL if the table is broken.
 */
apr_status_t cr_normalize_given_selfcheck(void);

#endif /* CR_NORMALIZE_H */
