/*
 * cr_phonetic.h: phonetic keys for names (Soundex, NYSIIS, Double
 * Metaphone).
 *
 * This unit owns the encoders that turn a normalized name into a short
 * key, so that names which sound alike but are spelled differently share
 * a key.  The keys serve as blocking keys (stored with each patient in
 * SQL, so the matcher only scores candidates that share one) and as
 * agreement levels in the Fellegi-Sunter score.  Because stored keys
 * must stay comparable, the encoders follow their published definitions
 * exactly; any deviation is documented below.
 *
 * Input is the output of cr_normalize_name(): lower-case ASCII letters,
 * digits and single spaces.  The encoders also accept upper case, and
 * skip every byte that is not an ASCII letter (Double Metaphone keeps
 * single spaces between words, because some of its rules look at word
 * boundaries: "san jose", "van ...").  A name of several words is coded
 * as if its letters were written together; to code each part of a
 * multi-part surname separately, split it first with cr_normalize_split().
 *
 * Bounds: at most CR_PHONETIC_MAX_LEN bytes of input are read; the rest
 * is ignored.  Every output has a fixed maximum size, written into a
 * caller buffer; nothing allocates and there is no state, so all
 * functions are thread-safe.  No function can fail: input without
 * letters yields the empty key "", which callers must treat as "no
 * usable value".
 */

#ifndef CR_PHONETIC_H
#define CR_PHONETIC_H

#include <apr.h>

/* Most input bytes any encoder reads (the same bound as cr_normalize). */
#define CR_PHONETIC_MAX_LEN 256

/* Buffer size for a Soundex key: a letter, three digits and a NUL. */
#define CR_PHONETIC_SOUNDEX_SIZE 5

/* Buffer size for a NYSIIS key as Taft defined it: six letters and NUL. */
#define CR_PHONETIC_NYSIIS_SIZE 7

/*
 * Buffer size for an untruncated NYSIIS key: a key never has more letters
 * than its input, so this is enough for any input.
 */
#define CR_PHONETIC_NYSIIS_FULL_SIZE (CR_PHONETIC_MAX_LEN + 1)

/* Buffer size for each Double Metaphone key: four characters and NUL. */
#define CR_PHONETIC_DMETAPHONE_SIZE 5

/*
 * American Soundex, as the US National Archives (NARA) describe it in
 * "The Soundex Indexing System": the first letter, then the digit codes
 * of the following consonants (BFPV 1, CGJKQSXZ 2, DT 3, L 4, MN 5, R 6);
 * letters with the same code that are adjacent, or separated only by H or
 * W, are coded once (this includes the first letter: "Pfister" is P236);
 * vowels and Y separate them (so "Tymczak" is T522); padded with zeros or
 * cut to three digits.  Prefixes such as "Van" or "De" are not removed
 * (NARA codes them both ways; use cr_normalize_split() for that).
 *
 * out: buffer of CR_PHONETIC_SOUNDEX_SIZE bytes; receives the upper-case
 *      key ("R163"), or "" if in has no letters.
 * in:  NUL-terminated name, see the file comment; NULL is taken as "".
 *
 * Returns strlen(out): 4, or 0 for no letters.
 */
apr_size_t cr_phonetic_soundex(char *out, const char *in);

/*
 * NYSIIS, the original algorithm of R. L. Taft, "Name Search Techniques",
 * New York State Identification and Intelligence System (1970), in the
 * step order of the published description (dropby.com/NYSIIS.html):
 * first-letter rules (MAC, KN, K, PH, PF, SCH), last-letter rules (EE,
 * IE, DT, RT, RD, NT, ND), the letter-by-letter rewrites, no letter
 * repeated, then a final S, AY and A removed.
 *
 * Length: Taft truncates the key to six letters, and most later uses
 * (including the record-linkage literature) do not.  The caller chooses
 * through the buffer size: the key is cut to out_size - 1 letters, so
 * CR_PHONETIC_NYSIIS_SIZE gives Taft's six-letter key and
 * CR_PHONETIC_NYSIIS_FULL_SIZE the untruncated one.  Truncation happens
 * after the final rules, so a cut key is always a prefix of the full key.
 *
 * out:      buffer of out_size bytes; receives the upper-case key, or ""
 *           if in has no letters.  Nothing is written if out_size is 0.
 * out_size: size of out, including the NUL.
 * in:       NUL-terminated name, see the file comment; NULL is "".
 *
 * Returns strlen(out).
 */
apr_size_t cr_phonetic_nysiis(char *out, apr_size_t out_size,
                              const char *in);

/*
 * Double Metaphone, as Lawrence Philips published it ("The Double
 * Metaphone Search Algorithm", C/C++ Users Journal, June 2000): a
 * primary key for the most common pronunciation and an alternate key for
 * a second one (Slavic, Germanic, Spanish, Italian, ... spellings), each
 * at most four characters.  "0" stands for "th" and "X" for "sh"/"ch".
 *
 * primary, alternate: buffers of CR_PHONETIC_DMETAPHONE_SIZE bytes.  Both
 *      are always written; when the name has no alternative pronunciation
 *      the alternate key equals the primary key, so a caller can store
 *      and compare both without special cases.  Both are "" if in has no
 *      letters.  Two names agree phonetically if any key of one equals
 *      any key of the other ("Smith" SM0/XMT, "Schmidt" XMT/SMT).
 * in:  NUL-terminated name, see the file comment; NULL is taken as "".
 *
 * Where Philips' code adds a blank to signal "the alternate has nothing
 * here" (final J as in "Raj", Spanish LL as in "Cabrillo"), nothing is
 * added, as in his own MetaphAdd(); some ports append a literal space.
 */
void cr_phonetic_dmetaphone(char *primary, char *alternate, const char *in);

#endif /* CR_PHONETIC_H */
