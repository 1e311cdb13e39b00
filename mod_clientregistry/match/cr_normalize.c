/*
 * cr_normalize.c: folding of names, phone numbers and postal codes, and
 * the nickname table.
 *
 * Names are decoded as strict UTF-8 and folded one code point at a time
 * through static tables (no locale, no iconv, no allocation); see
 * cr_normalize.h for the rules and the input bounds.  The folding tables
 * below were derived from the Unicode 14 character database: for each
 * letter, the compatibility decomposition (NFKD) without its combining
 * marks, lower-cased; letters that do not decompose were folded by hand
 * to the base letter their Unicode name gives ("LATIN SMALL LETTER L
 * WITH STROKE" -> "l") or to the conventional ASCII spelling ("ß" -> "ss",
 * "æ" -> "ae", "þ" -> "th", "ŋ" -> "ng").  Letters with no conventional
 * ASCII spelling (clicks, tone letters, yogh, ezh, glottal stop) and the
 * two non-letters of Latin-1 (U+00D7, U+00F7) map to "", that is, they
 * are dropped.
 */

#include <stdlib.h>
#include <string.h>

#include "match/cr_normalize.h"

/* Result of folding one code point: "drop it" or "word separator". */
#define FOLD_DROP 0
#define FOLD_SEP  (-1)

#define LATIN_FOLD_FIRST     0x00C0
#define LATIN_FOLD_LAST      0x024F
#define LATIN_ADD_FOLD_FIRST 0x1E00
#define LATIN_ADD_FOLD_LAST  0x1EFF

/*
 * U+00C0-U+024F (Latin-1 Supplement letters, Latin Extended-A and -B):
 * ASCII spelling of each code point, "" to drop it.
 */
static const char
latin_fold[LATIN_FOLD_LAST - LATIN_FOLD_FIRST + 1][3] = {
    /* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", "",
    /* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
    /* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
    /* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", "",
    /* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
    /* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
    /* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
    /* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
    /* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
    /* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
    /* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
    /* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
    /* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
    /* U+0148 */ "n", "n", "ng", "ng", "o", "o", "o", "o",
    /* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
    /* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
    /* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
    /* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
    /* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
    /* U+0180 */ "b", "b", "b", "b", "", "", "o", "c",
    /* U+0188 */ "c", "d", "d", "d", "d", "", "e", "e",
    /* U+0190 */ "e", "f", "f", "g", "", "hv", "i", "i",
    /* U+0198 */ "k", "k", "l", "", "", "n", "n", "o",
    /* U+01A0 */ "o", "o", "oi", "oi", "p", "p", "", "",
    /* U+01A8 */ "", "", "", "t", "t", "t", "t", "u",
    /* U+01B0 */ "u", "u", "v", "y", "y", "z", "z", "",
    /* U+01B8 */ "", "", "", "", "", "", "", "w",
    /* U+01C0 */ "", "", "", "", "dz", "dz", "dz", "lj",
    /* U+01C8 */ "lj", "lj", "nj", "nj", "nj", "a", "a", "i",
    /* U+01D0 */ "i", "o", "o", "u", "u", "u", "u", "u",
    /* U+01D8 */ "u", "u", "u", "u", "u", "e", "a", "a",
    /* U+01E0 */ "a", "a", "ae", "ae", "g", "g", "g", "g",
    /* U+01E8 */ "k", "k", "o", "o", "o", "o", "", "",
    /* U+01F0 */ "j", "dz", "dz", "dz", "g", "g", "hv", "w",
    /* U+01F8 */ "n", "n", "a", "a", "ae", "ae", "o", "o",
    /* U+0200 */ "a", "a", "a", "a", "e", "e", "e", "e",
    /* U+0208 */ "i", "i", "i", "i", "o", "o", "o", "o",
    /* U+0210 */ "r", "r", "r", "r", "u", "u", "u", "u",
    /* U+0218 */ "s", "s", "t", "t", "", "", "h", "h",
    /* U+0220 */ "n", "d", "ou", "ou", "z", "z", "a", "a",
    /* U+0228 */ "e", "e", "o", "o", "o", "o", "o", "o",
    /* U+0230 */ "o", "o", "y", "y", "l", "n", "t", "j",
    /* U+0238 */ "db", "qp", "a", "c", "c", "l", "t", "s",
    /* U+0240 */ "z", "", "", "b", "u", "", "e", "e",
    /* U+0248 */ "j", "j", "q", "q", "r", "r", "y", "y"
};

/* U+1E00-U+1EFF (Latin Extended Additional), as above. */
static const char
latin_ext_add_fold[LATIN_ADD_FOLD_LAST - LATIN_ADD_FOLD_FIRST + 1][3] = {
    /* U+1E00 */ "a", "a", "b", "b", "b", "b", "b", "b",
    /* U+1E08 */ "c", "c", "d", "d", "d", "d", "d", "d",
    /* U+1E10 */ "d", "d", "d", "d", "e", "e", "e", "e",
    /* U+1E18 */ "e", "e", "e", "e", "e", "e", "f", "f",
    /* U+1E20 */ "g", "g", "h", "h", "h", "h", "h", "h",
    /* U+1E28 */ "h", "h", "h", "h", "i", "i", "i", "i",
    /* U+1E30 */ "k", "k", "k", "k", "k", "k", "l", "l",
    /* U+1E38 */ "l", "l", "l", "l", "l", "l", "m", "m",
    /* U+1E40 */ "m", "m", "m", "m", "n", "n", "n", "n",
    /* U+1E48 */ "n", "n", "n", "n", "o", "o", "o", "o",
    /* U+1E50 */ "o", "o", "o", "o", "p", "p", "p", "p",
    /* U+1E58 */ "r", "r", "r", "r", "r", "r", "r", "r",
    /* U+1E60 */ "s", "s", "s", "s", "s", "s", "s", "s",
    /* U+1E68 */ "s", "s", "t", "t", "t", "t", "t", "t",
    /* U+1E70 */ "t", "t", "u", "u", "u", "u", "u", "u",
    /* U+1E78 */ "u", "u", "u", "u", "v", "v", "v", "v",
    /* U+1E80 */ "w", "w", "w", "w", "w", "w", "w", "w",
    /* U+1E88 */ "w", "w", "x", "x", "x", "x", "y", "y",
    /* U+1E90 */ "z", "z", "z", "z", "z", "z", "h", "t",
    /* U+1E98 */ "w", "y", "a", "s", "s", "s", "ss", "",
    /* U+1EA0 */ "a", "a", "a", "a", "a", "a", "a", "a",
    /* U+1EA8 */ "a", "a", "a", "a", "a", "a", "a", "a",
    /* U+1EB0 */ "a", "a", "a", "a", "a", "a", "a", "a",
    /* U+1EB8 */ "e", "e", "e", "e", "e", "e", "e", "e",
    /* U+1EC0 */ "e", "e", "e", "e", "e", "e", "e", "e",
    /* U+1EC8 */ "i", "i", "i", "i", "o", "o", "o", "o",
    /* U+1ED0 */ "o", "o", "o", "o", "o", "o", "o", "o",
    /* U+1ED8 */ "o", "o", "o", "o", "o", "o", "o", "o",
    /* U+1EE0 */ "o", "o", "o", "o", "u", "u", "u", "u",
    /* U+1EE8 */ "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+1EF0 */ "u", "u", "y", "y", "y", "y", "y", "y",
    /* U+1EF8 */ "y", "y", "ll", "ll", "v", "v", "y", "y"
};

/*
 * Nickname and variant spelling -> canonical given name.  Sorted by
 * nickname in strcmp() order for bsearch(); cr_normalize_given_selfcheck()
 * and the unit test verify the order, so keep it sorted when adding rows.
 * Sources: the common English diminutives found in genealogy and census
 * name-variant lists; see cr_normalize.h for what was left out and why.
 */
typedef struct {
    const char *nick;
    const char *canonical;
} given_variant_t;

static const given_variant_t given_variants[] = {
    { "abbie", "abigail" },
    { "abby", "abigail" },
    { "abe", "abraham" },
    { "alec", "alexander" },
    { "alf", "alfred" },
    { "andy", "andrew" },
    { "archie", "archibald" },
    { "babs", "barbara" },
    { "barb", "barbara" },
    { "barbie", "barbara" },
    { "becca", "rebecca" },
    { "becky", "rebecca" },
    { "ben", "benjamin" },
    { "benny", "benjamin" },
    { "bernie", "bernard" },
    { "bess", "elizabeth" },
    { "bessie", "elizabeth" },
    { "beth", "elizabeth" },
    { "betsy", "elizabeth" },
    { "betty", "elizabeth" },
    { "bill", "william" },
    { "billy", "william" },
    { "bob", "robert" },
    { "bobby", "robert" },
    { "brad", "bradley" },
    { "cal", "calvin" },
    { "carrie", "caroline" },
    { "cassie", "cassandra" },
    { "cate", "katherine" },
    { "catherine", "katherine" },
    { "cathy", "katherine" },
    { "charlie", "charles" },
    { "chas", "charles" },
    { "chuck", "charles" },
    { "cindy", "cynthia" },
    { "cliff", "clifford" },
    { "connie", "constance" },
    { "dan", "daniel" },
    { "danny", "daniel" },
    { "dave", "david" },
    { "davey", "david" },
    { "deb", "deborah" },
    { "debbie", "deborah" },
    { "debby", "deborah" },
    { "debra", "deborah" },
    { "dick", "richard" },
    { "dolly", "dorothy" },
    { "dom", "dominic" },
    { "don", "donald" },
    { "donnie", "donald" },
    { "dot", "dorothy" },
    { "dottie", "dorothy" },
    { "doug", "douglas" },
    { "drew", "andrew" },
    { "ed", "edward" },
    { "eddie", "edward" },
    { "eddy", "edward" },
    { "elisabeth", "elizabeth" },
    { "eliza", "elizabeth" },
    { "fred", "frederick" },
    { "freddie", "frederick" },
    { "freddy", "frederick" },
    { "gabe", "gabriel" },
    { "gene", "eugene" },
    { "geoff", "geoffrey" },
    { "gerry", "gerald" },
    { "greg", "gregory" },
    { "hank", "henry" },
    { "harry", "henry" },
    { "herb", "herbert" },
    { "ike", "isaac" },
    { "jack", "john" },
    { "jake", "jacob" },
    { "jeff", "jeffrey" },
    { "jen", "jennifer" },
    { "jenn", "jennifer" },
    { "jennie", "jennifer" },
    { "jenny", "jennifer" },
    { "jerry", "gerald" },
    { "jim", "james" },
    { "jimmie", "james" },
    { "jimmy", "james" },
    { "joe", "joseph" },
    { "joey", "joseph" },
    { "johnny", "john" },
    { "josh", "joshua" },
    { "judy", "judith" },
    { "kate", "katherine" },
    { "katharine", "katherine" },
    { "kathryn", "katherine" },
    { "kathy", "katherine" },
    { "katie", "katherine" },
    { "ken", "kenneth" },
    { "kenny", "kenneth" },
    { "kitty", "katherine" },
    { "larry", "lawrence" },
    { "laurence", "lawrence" },
    { "len", "leonard" },
    { "lenny", "leonard" },
    { "libby", "elizabeth" },
    { "liz", "elizabeth" },
    { "lizzie", "elizabeth" },
    { "lizzy", "elizabeth" },
    { "maggie", "margaret" },
    { "mandy", "amanda" },
    { "manny", "emmanuel" },
    { "marge", "margaret" },
    { "margie", "margaret" },
    { "marty", "martin" },
    { "matt", "matthew" },
    { "matty", "matthew" },
    { "meg", "margaret" },
    { "mick", "michael" },
    { "mickey", "michael" },
    { "mike", "michael" },
    { "mikey", "michael" },
    { "mitch", "mitchell" },
    { "molly", "mary" },
    { "ned", "edward" },
    { "nick", "nicholas" },
    { "ollie", "oliver" },
    { "pam", "pamela" },
    { "patsy", "patricia" },
    { "patty", "patricia" },
    { "peggy", "margaret" },
    { "penny", "penelope" },
    { "pete", "peter" },
    { "phil", "philip" },
    { "phillip", "philip" },
    { "polly", "mary" },
    { "ray", "raymond" },
    { "reg", "reginald" },
    { "reggie", "reginald" },
    { "rich", "richard" },
    { "richie", "richard" },
    { "rick", "richard" },
    { "ricky", "richard" },
    { "rob", "robert" },
    { "robbie", "robert" },
    { "ron", "ronald" },
    { "ronnie", "ronald" },
    { "rudy", "rudolph" },
    { "russ", "russell" },
    { "sadie", "sarah" },
    { "sally", "sarah" },
    { "sid", "sidney" },
    { "stan", "stanley" },
    { "steve", "stephen" },
    { "steven", "stephen" },
    { "stevie", "stephen" },
    { "stu", "stuart" },
    { "sue", "susan" },
    { "susie", "susan" },
    { "suzy", "susan" },
    { "ted", "edward" },
    { "teddy", "edward" },
    { "tess", "theresa" },
    { "theo", "theodore" },
    { "tim", "timothy" },
    { "timmy", "timothy" },
    { "tom", "thomas" },
    { "tommy", "thomas" },
    { "tony", "anthony" },
    { "tricia", "patricia" },
    { "trish", "patricia" },
    { "trudy", "gertrude" },
    { "vickie", "victoria" },
    { "vicky", "victoria" },
    { "vince", "vincent" },
    { "wally", "walter" },
    { "walt", "walter" },
    { "wes", "wesley" },
    { "will", "william" },
    { "willie", "william" },
    { "willy", "william" },
    { "zach", "zachary" },
    { "zack", "zachary" },
};

#define GIVEN_VARIANTS_N (sizeof(given_variants) / sizeof(given_variants[0]))

/*
 * Longer than every nickname key; input at least this long cannot be in
 * the table, which bounds the scan of an untrusted string.
 */
#define GIVEN_KEY_MAX 16

static int is_ascii_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_ascii_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_ascii_digit(unsigned char c)
{
    /* Not isdigit(): that depends on the locale and on the sign of char. */
    return c >= '0' && c <= '9';
}

/*
 * Number of input bytes to examine: in_len, or the NUL-terminated length,
 * capped at CR_NORM_MAX_LEN + 1.  A result of CR_NORM_MAX_LEN + 1 means
 * "longer than the limit"; in[CR_NORM_MAX_LEN] is then readable, which
 * lets the name folder look at the byte just after the limit.
 */
static apr_size_t input_len(const char *in, apr_size_t in_len)
{
    apr_size_t n;

    if (in == NULL) {
        return 0;
    }
    if (in_len == CR_NORM_ZTERM) {
        for (n = 0; n <= CR_NORM_MAX_LEN && in[n] != '\0'; n++) {
            /* only counting */
        }
        return n;
    }
    return in_len > CR_NORM_MAX_LEN ? CR_NORM_MAX_LEN + 1 : in_len;
}

/*
 * Cut over-long UTF-8 input at CR_NORM_MAX_LEN, moved back to the start
 * of the sequence that straddles the limit.  A UTF-8 sequence has at most
 * three continuation bytes, so at most three steps back are taken; if the
 * bytes there are still continuation bytes the input is invalid anyway
 * and the decoder reports it.
 */
static apr_size_t utf8_cut(const unsigned char *s)
{
    apr_size_t cut = CR_NORM_MAX_LEN;

    while (cut > CR_NORM_MAX_LEN - 3 && (s[cut] & 0xC0) == 0x80) {
        cut--;
    }
    return cut;
}

/*
 * Decode the UTF-8 sequence at s (len > 0 bytes available) into *cp.
 * Returns the number of bytes used (1-4), or 0 if the sequence is not
 * well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF).
 */
static apr_size_t utf8_decode(apr_uint32_t *cp, const unsigned char *s,
                              apr_size_t len)
{
    apr_uint32_t v;
    apr_size_t n, i;
    unsigned char c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    }
    else {
        /* Continuation byte, overlong lead (C0, C1) or F5-FF. */
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000)
        || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        return 0;
    }
    *cp = v;
    return n;
}

/*
 * Fold one code point.  Writes up to two ASCII characters to out and
 * returns how many, or FOLD_SEP for a word separator (FOLD_DROP, zero,
 * for anything to be dropped).
 */
static int fold_code_point(char out[2], apr_uint32_t cp)
{
    const char *s = NULL;

    if (cp < 0x80) {
        unsigned char c = (unsigned char)cp;

        if (is_ascii_upper(c)) {
            out[0] = (char)(c - 'A' + 'a');
            return 1;
        }
        if (is_ascii_lower(c) || is_ascii_digit(c)) {
            out[0] = (char)c;
            return 1;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'
            || c == '\r' || c == '-') {
            return FOLD_SEP;
        }
        /* Apostrophes, other punctuation, controls. */
        return FOLD_DROP;
    }
    if (cp >= LATIN_FOLD_FIRST && cp <= LATIN_FOLD_LAST) {
        s = latin_fold[cp - LATIN_FOLD_FIRST];
    }
    else if (cp >= LATIN_ADD_FOLD_FIRST && cp <= LATIN_ADD_FOLD_LAST) {
        s = latin_ext_add_fold[cp - LATIN_ADD_FOLD_FIRST];
    }
    else if (cp >= 0xFF21 && cp <= 0xFF3A) {
        /* Full-width A-Z. */
        out[0] = (char)('a' + (cp - 0xFF21));
        return 1;
    }
    else if (cp >= 0xFF41 && cp <= 0xFF5A) {
        /* Full-width a-z. */
        out[0] = (char)('a' + (cp - 0xFF41));
        return 1;
    }
    else if (cp >= 0xFF10 && cp <= 0xFF19) {
        /* Full-width digits. */
        out[0] = (char)('0' + (cp - 0xFF10));
        return 1;
    }
    else if (cp == 0x85 || cp == 0xA0 || cp == 0x1680
             || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028
             || cp == 0x2029 || cp == 0x202F || cp == 0x205F
             || cp == 0x3000) {
        /* NEL, no-break space and the Unicode space separators. */
        return FOLD_SEP;
    }
    else if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212
             || cp == 0xFE58 || cp == 0xFE63 || cp == 0xFF0D) {
        /* Hyphens, dashes and minus signs, as the ASCII hyphen. */
        return FOLD_SEP;
    }
    else {
        /*
         * Everything else: right single quotation mark and modifier
         * apostrophe (U+2019, U+02BC), soft hyphen (U+00AD, an invisible
         * hyphenation hint, not a word break), combining marks, zero-width
         * characters, symbols and letters of other scripts.
         */
        return FOLD_DROP;
    }
    if (s[0] == '\0') {
        return FOLD_DROP;
    }
    out[0] = s[0];
    if (s[1] == '\0') {
        return 1;
    }
    out[1] = s[1];
    return 2;
}

apr_status_t cr_normalize_name(char *out, apr_size_t *out_len,
                               const char *in, apr_size_t in_len)
{
    const unsigned char *s = (const unsigned char *)in;
    apr_size_t len, pos = 0, o = 0;
    int pending_space = 0;

    out[0] = '\0';
    if (out_len) {
        *out_len = 0;
    }
    if (in == NULL && in_len != 0 && in_len != CR_NORM_ZTERM) {
        return APR_EINVAL;
    }
    len = input_len(in, in_len);
    if (len > CR_NORM_MAX_LEN) {
        len = utf8_cut(s);
    }

    while (pos < len) {
        apr_uint32_t cp;
        apr_size_t used;
        char folded[2];
        int n, i;

        if (s[pos] < 0x80) {
            cp = s[pos];
            used = 1;
        }
        else {
            used = utf8_decode(&cp, s + pos, len - pos);
            if (used == 0) {
                out[0] = '\0';
                return APR_EINVAL;
            }
        }
        pos += used;

        n = fold_code_point(folded, cp);
        if (n == FOLD_SEP) {
            /* Only between words: this trims and collapses in one go. */
            pending_space = (o > 0);
            continue;
        }
        /*
         * Each code point yields no more ASCII bytes than it had UTF-8
         * bytes, and a space needs a separator byte before it, so o never
         * passes pos <= CR_NORM_MAX_LEN.  The check keeps that true even
         * if a table entry were ever made longer.
         */
        if (o + (apr_size_t)n + (pending_space && n > 0) > CR_NORM_MAX_LEN) {
            break;
        }
        if (n > 0 && pending_space) {
            out[o++] = ' ';
            pending_space = 0;
        }
        for (i = 0; i < n; i++) {
            out[o++] = folded[i];
        }
    }
    out[o] = '\0';
    if (out_len) {
        *out_len = o;
    }
    return APR_SUCCESS;
}

apr_size_t cr_normalize_compact(char *out, const char *norm)
{
    apr_size_t i, o = 0;

    if (norm != NULL) {
        for (i = 0; i < CR_NORM_MAX_LEN && norm[i] != '\0'; i++) {
            if (norm[i] != ' ') {
                /* o <= i, so writing in place never overtakes reading. */
                out[o++] = norm[i];
            }
        }
    }
    out[o] = '\0';
    return o;
}

apr_status_t cr_normalize_split(cr_normalize_parts_t *parts,
                                const char *norm)
{
    apr_size_t i, len = 0;
    int in_word = 0;

    parts->n = 0;
    if (norm != NULL) {
        while (len < CR_NORM_MAX_LEN && norm[len] != '\0') {
            len++;
        }
        memcpy(parts->buf, norm, len);
    }
    parts->buf[len] = '\0';

    for (i = 0; i < len; i++) {
        if (parts->buf[i] == ' ') {
            parts->buf[i] = '\0';
            in_word = 0;
        }
        else if (!in_word) {
            if (parts->n == CR_NORM_MAX_PARTS) {
                /* A further word: terminate the last kept one and stop. */
                parts->buf[i] = '\0';
                return APR_INCOMPLETE;
            }
            parts->part[parts->n++] = parts->buf + i;
            in_word = 1;
        }
    }
    return APR_SUCCESS;
}

apr_size_t cr_normalize_phone(char *out, const char *in, apr_size_t in_len)
{
    char digits[CR_NORM_MAX_LEN];
    apr_size_t len, i, nd = 0, start = 0;

    len = input_len(in, in_len);
    if (len > CR_NORM_MAX_LEN) {
        len = CR_NORM_MAX_LEN;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (is_ascii_digit(c)) {
            digits[nd++] = (char)c;
        }
        else if (nd > 0 && (is_ascii_upper(c) || is_ascii_lower(c)
                            || c == '#' || c == ',' || c == ';')) {
            /* An extension or a dial-string pause follows the number. */
            break;
        }
    }
    if (nd == CR_NORM_PHONE_LEN + 1 && digits[0] == '1') {
        /*
         * NANP country code.  Keeping the last ten digits below would
         * drop it too; the common case is spelled out so that the rule
         * survives a change of the length policy.
         */
        start = 1;
    }
    if (nd - start > CR_NORM_PHONE_LEN) {
        start = nd - CR_NORM_PHONE_LEN;
    }
    memcpy(out, digits + start, nd - start);
    out[nd - start] = '\0';
    return nd - start;
}

apr_size_t cr_normalize_postal(char *out, const char *in, apr_size_t in_len)
{
    apr_size_t len, i, o = 0;

    len = input_len(in, in_len);
    if (len > CR_NORM_MAX_LEN) {
        len = CR_NORM_MAX_LEN;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (is_ascii_lower(c)) {
            c = (unsigned char)(c - 'a' + 'A');
        }
        else if (!is_ascii_upper(c) && !is_ascii_digit(c)) {
            continue;
        }
        if (o == CR_NORM_POSTAL_LEN) {
            /* Too long to be a postal code: no usable value. */
            out[0] = '\0';
            return 0;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o;
}

static int given_variant_cmp(const void *key, const void *elem)
{
    const given_variant_t *v = elem;

    return strcmp(key, v->nick);
}

const char *cr_normalize_given_canonical(const char *norm)
{
    const given_variant_t *v;
    apr_size_t i;

    if (norm == NULL) {
        return NULL;
    }
    for (i = 0; norm[i] != '\0'; i++) {
        if (i + 1 >= GIVEN_KEY_MAX) {
            return norm;
        }
    }
    v = bsearch(norm, given_variants, GIVEN_VARIANTS_N,
                sizeof(given_variants[0]), given_variant_cmp);
    return v ? v->canonical : norm;
}

static int is_table_word(const char *s)
{
    apr_size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if (!is_ascii_lower((unsigned char)s[i]) || i + 1 >= GIVEN_KEY_MAX) {
            return 0;
        }
    }
    return i > 0;
}

apr_status_t cr_normalize_given_selfcheck(void)
{
    apr_size_t i;

    for (i = 0; i < GIVEN_VARIANTS_N; i++) {
        const given_variant_t *v = &given_variants[i];

        if (!is_table_word(v->nick) || !is_table_word(v->canonical)) {
            return APR_EGENERAL;
        }
        if (i > 0 && strcmp(given_variants[i - 1].nick, v->nick) >= 0) {
            return APR_EGENERAL;
        }
    }
    /* The table is sorted now, so bsearch() gives a reliable answer. */
    for (i = 0; i < GIVEN_VARIANTS_N; i++) {
        if (bsearch(given_variants[i].canonical, given_variants,
                    GIVEN_VARIANTS_N, sizeof(given_variants[0]),
                    given_variant_cmp) != NULL) {
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Bounded text and street types                                       */
/* ------------------------------------------------------------------ */

void cr_normalize_text(char *out, const char *raw, apr_size_t max)
{
    apr_size_t len = 0;

    if (raw == NULL
        || cr_normalize_name(out, &len, raw, CR_NORM_ZTERM) != APR_SUCCESS) {
        out[0] = '\0';
        return;
    }
    if (len > max) {
        apr_size_t cut = max;
        while (cut > 0 && out[cut] != ' ') {
            cut--;
        }
        out[cut > 0 ? cut : max] = '\0';
        len = strlen(out);
        while (len > 0 && out[len - 1] == ' ') {
            out[--len] = '\0';
        }
    }
}

/* Street-type words and their spelled-out forms (see cr_normalize.h). */
static const char *const street_types[][2] = {
    { "av", "avenue" }, { "ave", "avenue" }, { "avenue", "avenue" },
    { "bv", "boulevard" }, { "blvd", "boulevard" },
    { "boulevard", "boulevard" },
    { "cct", "circuit" }, { "circuit", "circuit" },
    { "cl", "close" }, { "close", "close" },
    { "cr", "crescent" }, { "cres", "crescent" },
    { "crescent", "crescent" },
    { "ct", "court" }, { "court", "court" },
    { "dr", "drive" }, { "drive", "drive" },
    { "hwy", "highway" }, { "highway", "highway" },
    { "la", "lane" }, { "ln", "lane" }, { "lane", "lane" },
    { "pde", "parade" }, { "parade", "parade" },
    { "pkwy", "parkway" }, { "parkway", "parkway" },
    { "pl", "place" }, { "place", "place" },
    { "rd", "road" }, { "road", "road" },
    { "sq", "square" }, { "square", "square" },
    { "st", "street" }, { "str", "street" }, { "street", "street" },
    { "tce", "terrace" }, { "ter", "terrace" }, { "terrace", "terrace" },
    { "way", "way" }
};

const char *cr_normalize_street_type(const char *w)
{
    apr_size_t i;

    for (i = 0; i < sizeof(street_types) / sizeof(street_types[0]); i++) {
        if (strcmp(street_types[i][0], w) == 0) {
            return street_types[i][1];
        }
    }
    return NULL;
}

int cr_normalize_is_street_type(const char *w)
{
    apr_size_t i;

    for (i = 0; i < sizeof(street_types) / sizeof(street_types[0]); i++) {
        if (strcmp(street_types[i][1], w) == 0) {
            return 1;
        }
    }
    return 0;
}
