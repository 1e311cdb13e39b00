/*
 * cr_phonetic.c: Soundex, NYSIIS and Double Metaphone encoders.
 *
 * Each encoder first copies the letters of its (bounded) input into an
 * upper-case work buffer on the stack, then runs the published rules on
 * that buffer.  Look-ahead and look-behind go through accessors that
 * answer for positions outside the word (a blank after the end, nothing
 * before the start), so no rule can read outside the buffer however it
 * indexes.  See cr_phonetic.h for the definitions followed and the few
 * documented choices.
 */

#include <string.h>

#include "match/cr_phonetic.h"

/* Upper-case an ASCII letter; return 0 for anything else. */
static char ascii_letter(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return (char)(c - 'a' + 'A');
    }
    if (c >= 'A' && c <= 'Z') {
        return (char)c;
    }
    return 0;
}

/*
 * Copy the ASCII letters of in (at most CR_PHONETIC_MAX_LEN bytes read)
 * into w as upper case.  With keep_spaces, every run of non-letters
 * between two letters becomes one space (Double Metaphone's word
 * boundaries); otherwise non-letters are skipped.  w needs
 * CR_PHONETIC_MAX_LEN + 1 bytes; returns the number of characters.
 */
static int load_letters(char *w, const char *in, int keep_spaces)
{
    int i, n = 0, gap = 0;

    if (in == NULL) {
        w[0] = '\0';
        return 0;
    }
    for (i = 0; i < CR_PHONETIC_MAX_LEN && in[i] != '\0'; i++) {
        char c = ascii_letter((unsigned char)in[i]);

        if (c == 0) {
            gap = (n > 0);
            continue;
        }
        if (gap && keep_spaces) {
            /* A space costs a skipped input byte, so n stays <= i. */
            w[n++] = ' ';
        }
        gap = 0;
        w[n++] = c;
    }
    w[n] = '\0';
    return n;
}

/* ------------------------------------------------------------------ */
/* Soundex                                                              */
/* ------------------------------------------------------------------ */

/*
 * NARA digit codes for A-Z: 0 for the vowels and Y (they separate equal
 * codes), -1 for H and W (they do not).
 */
static const signed char soundex_codes[26] = {
    /* A   B  C  D  E  F  G   H  I  J  K  L  M */
       0,  1, 2, 3, 0, 1, 2, -1, 0, 2, 2, 4, 5,
    /* N   O  P  Q  R  S  T   U  V  W  X  Y  Z */
       5,  0, 1, 2, 6, 2, 3,  0, 1, -1, 2, 0, 2
};

apr_size_t cr_phonetic_soundex(char *out, const char *in)
{
    char w[CR_PHONETIC_MAX_LEN + 1];
    int n, i, o, last;

    n = load_letters(w, in, 0);
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }
    out[0] = w[0];
    o = 1;
    /* The first letter's code counts for adjacency ("Pfister" P236). */
    last = soundex_codes[w[0] - 'A'];
    for (i = 1; i < n && o < 4; i++) {
        int code = soundex_codes[w[i] - 'A'];

        if (code < 0) {
            /* H and W: letters on either side with one code merge. */
            continue;
        }
        if (code > 0 && code != last) {
            out[o++] = (char)('0' + code);
        }
        last = code;
    }
    while (o < 4) {
        out[o++] = '0';
    }
    out[o] = '\0';
    return 4;
}

/* ------------------------------------------------------------------ */
/* NYSIIS                                                               */
/* ------------------------------------------------------------------ */

static int nysiis_vowel(char c)
{
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U';
}

static int has_prefix(const char *w, int n, const char *p)
{
    int k = (int)strlen(p);

    return n >= k && memcmp(w, p, (apr_size_t)k) == 0;
}

static int has_suffix(const char *w, int n, const char *s)
{
    int k = (int)strlen(s);

    return n >= k && memcmp(w + n - k, s, (apr_size_t)k) == 0;
}

apr_size_t cr_phonetic_nysiis(char *out, apr_size_t out_size,
                              const char *in)
{
    char w[CR_PHONETIC_MAX_LEN + 1];
    char key[CR_PHONETIC_MAX_LEN + 1];
    int n, i, k;

    if (out_size == 0) {
        return 0;
    }
    n = load_letters(w, in, 0);
    if (n == 0) {
        out[0] = '\0';
        return 0;
    }

    /* Step 1: first letters.  The rewrites keep the length. */
    if (has_prefix(w, n, "MAC")) {
        w[1] = 'C';
    }
    else if (has_prefix(w, n, "KN")) {
        w[0] = 'N';
    }
    else if (w[0] == 'K') {
        w[0] = 'C';
    }
    else if (has_prefix(w, n, "PH") || has_prefix(w, n, "PF")) {
        w[0] = 'F';
        w[1] = 'F';
    }
    else if (has_prefix(w, n, "SCH")) {
        w[1] = 'S';
        w[2] = 'S';
    }

    /* Step 2: last letters; each rewrite shortens the name by one. */
    if (has_suffix(w, n, "EE") || has_suffix(w, n, "IE")) {
        w[n - 2] = 'Y';
        n--;
    }
    else if (has_suffix(w, n, "DT") || has_suffix(w, n, "RT")
             || has_suffix(w, n, "RD") || has_suffix(w, n, "NT")
             || has_suffix(w, n, "ND")) {
        w[n - 2] = 'D';
        n--;
    }
    w[n] = '\0';

    /* Step 3: the key starts with the first letter of the name. */
    key[0] = w[0];
    k = 1;

    /*
     * Step 4: rewrite the name in place, one position at a time; the
     * rewritten letter joins the key unless it repeats the key's last
     * letter.  Rewrites of two or three letters (EV, SCH, PH) change the
     * following positions too, which the loop then reads as they are.
     * w[n] is the NUL, so looking one ahead stays in the buffer and
     * reads as "not a vowel", the blank of Taft's description; two ahead
     * is only read after one ahead was a letter, so it is at most w[n].
     */
    for (i = 1; i < n; i++) {
        char c = w[i];

        if (c == 'E' && w[i + 1] == 'V') {
            w[i] = 'A';
            w[i + 1] = 'F';
        }
        else if (nysiis_vowel(c)) {
            w[i] = 'A';
        }
        else if (c == 'Q') {
            w[i] = 'G';
        }
        else if (c == 'Z') {
            w[i] = 'S';
        }
        else if (c == 'M') {
            w[i] = 'N';
        }
        else if (c == 'K') {
            w[i] = (w[i + 1] == 'N') ? 'N' : 'C';
        }
        else if (c == 'S' && w[i + 1] == 'C' && w[i + 2] == 'H') {
            w[i + 1] = 'S';
            w[i + 2] = 'S';
        }
        else if (c == 'P' && w[i + 1] == 'H') {
            w[i] = 'F';
            w[i + 1] = 'F';
        }
        else if (c == 'H'
                 && (!nysiis_vowel(w[i - 1]) || !nysiis_vowel(w[i + 1]))) {
            w[i] = w[i - 1];
        }
        else if (c == 'W' && nysiis_vowel(w[i - 1])) {
            w[i] = w[i - 1];
        }
        if (w[i] != key[k - 1]) {
            key[k++] = w[i];
        }
    }

    /* Steps 5-7, on the part of the key after its first letter. */
    if (k > 1 && key[k - 1] == 'S') {
        k--;
    }
    if (k > 2 && key[k - 2] == 'A' && key[k - 1] == 'Y') {
        key[k - 2] = 'Y';
        k--;
    }
    if (k > 1 && key[k - 1] == 'A') {
        k--;
    }

    if ((apr_size_t)k > out_size - 1) {
        k = (int)(out_size - 1);
    }
    memcpy(out, key, (apr_size_t)k);
    out[k] = '\0';
    return (apr_size_t)k;
}

/* ------------------------------------------------------------------ */
/* Double Metaphone                                                     */
/* ------------------------------------------------------------------ */

#define DM_KEY_LEN (CR_PHONETIC_DMETAPHONE_SIZE - 1)

typedef struct {
    char w[CR_PHONETIC_MAX_LEN + 1];    /* upper-case letters and spaces */
    int len;
    int last;                           /* index of the last character */
    int slavo_germanic;
    char *pri;
    char *alt;
    int plen;
    int alen;
} dmeta_t;

/*
 * The character at i: a blank after the end (Philips pads the word with
 * blanks, and rules such as "VAN " or "IER " rely on that), NUL before
 * the start.
 */
static char at(const dmeta_t *d, int i)
{
    if (i < 0) {
        return '\0';
    }
    return i < d->len ? d->w[i] : ' ';
}

static int is_vowel(const dmeta_t *d, int i)
{
    char c;

    if (i < 0 || i >= d->len) {
        return 0;
    }
    c = d->w[i];
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U'
           || c == 'Y';
}

/*
 * Whether one of the alternatives in alts ('|'-separated, e.g.
 * "ACH|ECH") is found starting at position start.  A start before the
 * word never matches.
 */
static int str_at(const dmeta_t *d, int start, const char *alts)
{
    const char *p = alts;

    if (start < 0) {
        return 0;
    }
    for (;;) {
        int j = 0;

        while (p[j] != '\0' && p[j] != '|' && p[j] == at(d, start + j)) {
            j++;
        }
        if (p[j] == '\0' || p[j] == '|') {
            return 1;
        }
        /* Mismatch: skip to the next alternative. */
        while (*p != '\0' && *p != '|') {
            p++;
        }
        if (*p == '\0') {
            return 0;
        }
        p++;
    }
}

static void key_cat(char *key, int *klen, const char *s)
{
    while (*s != '\0' && *klen < DM_KEY_LEN) {
        key[(*klen)++] = *s++;
    }
    key[*klen] = '\0';
}

/* Add s to both keys. */
static void add(dmeta_t *d, const char *s)
{
    key_cat(d->pri, &d->plen, s);
    key_cat(d->alt, &d->alen, s);
}

/*
 * Add main to the primary key and alt to the alternate key.  An empty
 * string adds nothing; Philips' " " ("nothing in the alternate") is
 * written here as "".
 */
static void add2(dmeta_t *d, const char *main_part, const char *alt_part)
{
    key_cat(d->pri, &d->plen, main_part);
    key_cat(d->alt, &d->alen, alt_part);
}

/* The rules for C; returns the number of positions consumed. */
static int dm_c(dmeta_t *d, int cur)
{
    /* Germanic "ach" as in "bacher", "macher". */
    if (cur > 1 && !is_vowel(d, cur - 2) && str_at(d, cur - 1, "ACH")
        && at(d, cur + 2) != 'I'
        && (at(d, cur + 2) != 'E' || str_at(d, cur - 2, "BACHER|MACHER"))) {
        add(d, "K");
        return 2;
    }
    if (cur == 0 && str_at(d, cur, "CAESAR")) {
        add(d, "S");
        return 2;
    }
    /* Italian "chianti". */
    if (str_at(d, cur, "CHIA")) {
        add(d, "K");
        return 2;
    }
    if (str_at(d, cur, "CH")) {
        /* "Michael". */
        if (cur > 0 && str_at(d, cur, "CHAE")) {
            add2(d, "K", "X");
            return 2;
        }
        /* Greek roots: "chemistry", "chorus", but not "chore". */
        if (cur == 0
            && (str_at(d, cur + 1, "HARAC|HARIS")
                || str_at(d, cur + 1, "HOR|HYM|HIA|HEM"))
            && !str_at(d, 0, "CHORE")) {
            add(d, "K");
            return 2;
        }
        /* Germanic, Greek or otherwise "ch" sounding "kh". */
        if (str_at(d, 0, "VAN |VON |SCH")
            || str_at(d, cur - 2, "ORCHES|ARCHIT|ORCHID")
            || str_at(d, cur + 2, "T|S")
            || ((str_at(d, cur - 1, "A|O|U|E") || cur == 0)
                && str_at(d, cur + 2, "L|R|N|M|B|H|F|V|W| "))) {
            add(d, "K");
        }
        else if (cur > 0) {
            if (str_at(d, 0, "MC")) {
                /* "McHugh". */
                add(d, "K");
            }
            else {
                add2(d, "X", "K");
            }
        }
        else {
            add(d, "X");
        }
        return 2;
    }
    /* "Czerny", but not "-wicz". */
    if (str_at(d, cur, "CZ") && !str_at(d, cur - 2, "WICZ")) {
        add2(d, "S", "X");
        return 2;
    }
    /* "Focaccia". */
    if (str_at(d, cur + 1, "CIA")) {
        add(d, "X");
        return 3;
    }
    /* Double C, but not as in "McClellan". */
    if (str_at(d, cur, "CC") && !(cur == 1 && at(d, 0) == 'M')) {
        /* "Bellocchio", but not "bacchus". */
        if (str_at(d, cur + 2, "I|E|H") && !str_at(d, cur + 2, "HU")) {
            /* "Accident", "accede", "succeed". */
            if ((cur == 1 && at(d, cur - 1) == 'A')
                || str_at(d, cur - 1, "UCCEE|UCCES")) {
                add(d, "KS");
            }
            else {
                /* "Bacci", "Bertucci" and other Italian. */
                add(d, "X");
            }
            return 3;
        }
        /* Pierce's rule. */
        add(d, "K");
        return 2;
    }
    if (str_at(d, cur, "CK|CG|CQ")) {
        add(d, "K");
        return 2;
    }
    if (str_at(d, cur, "CI|CE|CY")) {
        /* Italian against English. */
        if (str_at(d, cur, "CIO|CIE|CIA")) {
            add2(d, "S", "X");
        }
        else {
            add(d, "S");
        }
        return 2;
    }
    add(d, "K");
    /* "Mac Caffrey", "Mac Gregor". */
    if (str_at(d, cur + 1, " C| Q| G")) {
        return 3;
    }
    if (str_at(d, cur + 1, "C|K|Q") && !str_at(d, cur + 1, "CE|CI")) {
        return 2;
    }
    return 1;
}

/* The rules for G; returns the number of positions consumed. */
static int dm_g(dmeta_t *d, int cur)
{
    if (at(d, cur + 1) == 'H') {
        if (cur > 0 && !is_vowel(d, cur - 1)) {
            add(d, "K");
            return 2;
        }
        /* "Ghislane", "Ghiradelli". */
        if (cur == 0) {
            add(d, at(d, cur + 2) == 'I' ? "J" : "K");
            return 2;
        }
        /* Parker's rule: "hugh", "bough", "broughton". */
        if ((cur > 1 && str_at(d, cur - 2, "B|H|D"))
            || (cur > 2 && str_at(d, cur - 3, "B|H|D"))
            || (cur > 3 && str_at(d, cur - 4, "B|H"))) {
            return 2;
        }
        /* "Laugh", "McLaughlin", "cough", "gough", "rough", "tough". */
        if (cur > 2 && at(d, cur - 1) == 'U'
            && str_at(d, cur - 3, "C|G|L|R|T")) {
            add(d, "F");
        }
        else if (cur > 0 && at(d, cur - 1) != 'I') {
            add(d, "K");
        }
        return 2;
    }
    if (at(d, cur + 1) == 'N') {
        if (cur == 1 && is_vowel(d, 0) && !d->slavo_germanic) {
            add2(d, "KN", "N");
        }
        else if (!str_at(d, cur + 2, "EY") && at(d, cur + 1) != 'Y'
                 && !d->slavo_germanic) {
            /* Not as in "Cagney". */
            add2(d, "N", "KN");
        }
        else {
            add(d, "KN");
        }
        return 2;
    }
    /* "Tagliaro". */
    if (str_at(d, cur + 1, "LI") && !d->slavo_germanic) {
        add2(d, "KL", "L");
        return 2;
    }
    /* -ges-, -gep-, -gel-, -gie- at the beginning. */
    if (cur == 0
        && (at(d, cur + 1) == 'Y'
            || str_at(d, cur + 1,
                      "ES|EP|EB|EL|EY|IB|IL|IN|IE|EI|ER"))) {
        add2(d, "K", "J");
        return 2;
    }
    /* -ger-, -gy-. */
    if ((str_at(d, cur + 1, "ER") || at(d, cur + 1) == 'Y')
        && !str_at(d, 0, "DANGER|RANGER|MANGER")
        && !str_at(d, cur - 1, "E|I")
        && !str_at(d, cur - 1, "RGY|OGY")) {
        add2(d, "K", "J");
        return 2;
    }
    /* Italian, as in "Biaggi". */
    if (str_at(d, cur + 1, "E|I|Y") || str_at(d, cur - 1, "AGGI|OGGI")) {
        if (str_at(d, 0, "VAN |VON |SCH") || str_at(d, cur + 1, "ET")) {
            /* Obviously Germanic. */
            add(d, "K");
        }
        else if (str_at(d, cur + 1, "IER ")) {
            /* Always soft with a French ending. */
            add(d, "J");
        }
        else {
            add2(d, "J", "K");
        }
        return 2;
    }
    add(d, "K");
    return at(d, cur + 1) == 'G' ? 2 : 1;
}

/* The rules for J; returns the number of positions consumed. */
static int dm_j(dmeta_t *d, int cur)
{
    /* Obviously Spanish: "Jose", "San Jacinto". */
    if (str_at(d, cur, "JOSE") || str_at(d, 0, "SAN ")) {
        if ((cur == 0 && at(d, cur + 4) == ' ') || str_at(d, 0, "SAN ")) {
            add(d, "H");
        }
        else {
            add2(d, "J", "H");
        }
        return 1;
    }
    if (cur == 0) {
        /* "Yankelovich" / "Jankelowicz". */
        add2(d, "J", "A");
    }
    else if (is_vowel(d, cur - 1) && !d->slavo_germanic
             && (at(d, cur + 1) == 'A' || at(d, cur + 1) == 'O')) {
        /* Spanish pronunciation, as in "bajador". */
        add2(d, "J", "H");
    }
    else if (cur == d->last) {
        add2(d, "J", "");
    }
    else if (!str_at(d, cur + 1, "L|T|K|S|N|M|B|Z")
             && !str_at(d, cur - 1, "S|K|L")) {
        add(d, "J");
    }
    return at(d, cur + 1) == 'J' ? 2 : 1;
}

/* The rules for S; returns the number of positions consumed. */
static int dm_s(dmeta_t *d, int cur)
{
    /* "Island", "isle", "Carlisle", "Carlysle". */
    if (str_at(d, cur - 1, "ISL|YSL")) {
        return 1;
    }
    /* "Sugar-". */
    if (cur == 0 && str_at(d, cur, "SUGAR")) {
        add2(d, "X", "S");
        return 1;
    }
    if (str_at(d, cur, "SH")) {
        /* Germanic. */
        if (str_at(d, cur + 1, "HEIM|HOEK|HOLM|HOLZ")) {
            add(d, "S");
        }
        else {
            add(d, "X");
        }
        return 2;
    }
    /* Italian and Armenian. */
    if (str_at(d, cur, "SIO|SIA") || str_at(d, cur, "SIAN")) {
        if (!d->slavo_germanic) {
            add2(d, "S", "X");
        }
        else {
            add(d, "S");
        }
        return 3;
    }
    /*
     * German and anglicisations ("Smith" against "Schmidt", "Snider"
     * against "Schneider"); also Slavic -sz- (Hungarian says "s").
     */
    if ((cur == 0 && str_at(d, cur + 1, "M|N|L|W"))
        || str_at(d, cur + 1, "Z")) {
        add2(d, "S", "X");
        return str_at(d, cur + 1, "Z") ? 2 : 1;
    }
    if (str_at(d, cur, "SC")) {
        /* Schlesinger's rule. */
        if (at(d, cur + 2) == 'H') {
            /* Dutch origin: "school", "schooner". */
            if (str_at(d, cur + 3, "OO|ER|EN|UY|ED|EM")) {
                /* "Schermerhorn", "Schenker". */
                if (str_at(d, cur + 3, "ER|EN")) {
                    add2(d, "X", "SK");
                }
                else {
                    add(d, "SK");
                }
                return 3;
            }
            if (cur == 0 && !is_vowel(d, 3) && at(d, 3) != 'W') {
                add2(d, "X", "S");
            }
            else {
                add(d, "X");
            }
            return 3;
        }
        if (str_at(d, cur + 2, "I|E|Y")) {
            add(d, "S");
            return 3;
        }
        add(d, "SK");
        return 3;
    }
    /* French, as in "Resnais", "Artois". */
    if (cur == d->last && str_at(d, cur - 2, "AI|OI")) {
        add2(d, "", "S");
    }
    else {
        add(d, "S");
    }
    return str_at(d, cur + 1, "S|Z") ? 2 : 1;
}

/* The rules for T; returns the number of positions consumed. */
static int dm_t(dmeta_t *d, int cur)
{
    if (str_at(d, cur, "TION")) {
        add(d, "X");
        return 3;
    }
    if (str_at(d, cur, "TIA|TCH")) {
        add(d, "X");
        return 3;
    }
    if (str_at(d, cur, "TH") || str_at(d, cur, "TTH")) {
        /* "Thomas", "Thames", or Germanic. */
        if (str_at(d, cur + 2, "OM|AM") || str_at(d, 0, "VAN |VON |SCH")) {
            add(d, "T");
        }
        else {
            add2(d, "0", "T");
        }
        return 2;
    }
    add(d, "T");
    return str_at(d, cur + 1, "T|D") ? 2 : 1;
}

/* The rules for W; returns the number of positions consumed. */
static int dm_w(dmeta_t *d, int cur)
{
    /* Also in the middle of a word. */
    if (str_at(d, cur, "WR")) {
        add(d, "R");
        return 2;
    }
    if (cur == 0 && (is_vowel(d, cur + 1) || str_at(d, cur, "WH"))) {
        if (is_vowel(d, cur + 1)) {
            /* "Wasserman" should match "Vasserman". */
            add2(d, "A", "F");
        }
        else {
            /* "Uomo" should match "Womo". */
            add(d, "A");
        }
    }
    /* "Arnow" should match "Arnoff". */
    if ((cur == d->last && is_vowel(d, cur - 1))
        || str_at(d, cur - 1, "EWSKI|EWSKY|OWSKI|OWSKY")
        || str_at(d, 0, "SCH")) {
        add2(d, "", "F");
        return 1;
    }
    /* Polish, as in "Filipowicz". */
    if (str_at(d, cur, "WICZ|WITZ")) {
        add2(d, "TS", "FX");
        return 4;
    }
    return 1;
}

/* One step of the main loop; returns the number of positions consumed. */
static int dm_step(dmeta_t *d, int cur)
{
    switch (at(d, cur)) {
    case 'A':
    case 'E':
    case 'I':
    case 'O':
    case 'U':
    case 'Y':
        /* Every initial vowel maps to A; others are not coded. */
        if (cur == 0) {
            add(d, "A");
        }
        return 1;
    case 'B':
        /* "-mb" as in "dumb" is handled at M. */
        add(d, "P");
        return at(d, cur + 1) == 'B' ? 2 : 1;
    case 'C':
        return dm_c(d, cur);
    case 'D':
        if (str_at(d, cur, "DG")) {
            if (str_at(d, cur + 2, "I|E|Y")) {
                /* "Edge". */
                add(d, "J");
                return 3;
            }
            /* "Edgar". */
            add(d, "TK");
            return 2;
        }
        add(d, "T");
        return str_at(d, cur, "DT|DD") ? 2 : 1;
    case 'F':
        add(d, "F");
        return at(d, cur + 1) == 'F' ? 2 : 1;
    case 'G':
        return dm_g(d, cur);
    case 'H':
        /* Kept only first or between vowels, and before a vowel. */
        if ((cur == 0 || is_vowel(d, cur - 1)) && is_vowel(d, cur + 1)) {
            add(d, "H");
            return 2;
        }
        return 1;
    case 'J':
        return dm_j(d, cur);
    case 'K':
        add(d, "K");
        return at(d, cur + 1) == 'K' ? 2 : 1;
    case 'L':
        if (at(d, cur + 1) == 'L') {
            /* Spanish, as in "Cabrillo", "Gallegos". */
            if ((cur == d->len - 3
                 && str_at(d, cur - 1, "ILLO|ILLA|ALLE"))
                || ((str_at(d, d->last - 1, "AS|OS")
                     || str_at(d, d->last, "A|O"))
                    && str_at(d, cur - 1, "ALLE"))) {
                add2(d, "L", "");
                return 2;
            }
            add(d, "L");
            return 2;
        }
        add(d, "L");
        return 1;
    case 'M':
        add(d, "M");
        /* "Dumb", "thumb", "thumber". */
        if ((str_at(d, cur - 1, "UMB")
             && (cur + 1 == d->last || str_at(d, cur + 2, "ER")))
            || at(d, cur + 1) == 'M') {
            return 2;
        }
        return 1;
    case 'N':
        add(d, "N");
        return at(d, cur + 1) == 'N' ? 2 : 1;
    case 'P':
        if (at(d, cur + 1) == 'H') {
            add(d, "F");
            return 2;
        }
        /* "Campbell", "raspberry". */
        add(d, "P");
        return str_at(d, cur + 1, "P|B") ? 2 : 1;
    case 'Q':
        add(d, "K");
        return at(d, cur + 1) == 'Q' ? 2 : 1;
    case 'R':
        /* French, as in "Rogier", but not "Hochmeier". */
        if (cur == d->last && !d->slavo_germanic
            && str_at(d, cur - 2, "IE") && !str_at(d, cur - 4, "ME|MA")) {
            add2(d, "", "R");
        }
        else {
            add(d, "R");
        }
        return at(d, cur + 1) == 'R' ? 2 : 1;
    case 'S':
        return dm_s(d, cur);
    case 'T':
        return dm_t(d, cur);
    case 'V':
        add(d, "F");
        return at(d, cur + 1) == 'V' ? 2 : 1;
    case 'W':
        return dm_w(d, cur);
    case 'X':
        /* French, as in "Breaux". */
        if (!(cur == d->last
              && (str_at(d, cur - 3, "IAU|EAU")
                  || str_at(d, cur - 2, "AU|OU")))) {
            add(d, "KS");
        }
        return str_at(d, cur + 1, "C|X") ? 2 : 1;
    case 'Z':
        /* Chinese pinyin, as in "Zhao". */
        if (at(d, cur + 1) == 'H') {
            add(d, "J");
            return 2;
        }
        if (str_at(d, cur + 1, "ZO|ZI|ZA")
            || (d->slavo_germanic && cur > 0 && at(d, cur - 1) != 'T')) {
            add2(d, "S", "TS");
        }
        else {
            add(d, "S");
        }
        return at(d, cur + 1) == 'Z' ? 2 : 1;
    default:
        /* Word separators. */
        return 1;
    }
}

void cr_phonetic_dmetaphone(char *primary, char *alternate, const char *in)
{
    dmeta_t d;
    int cur = 0;

    d.len = load_letters(d.w, in, 1);
    d.last = d.len - 1;
    d.pri = primary;
    d.alt = alternate;
    d.plen = 0;
    d.alen = 0;
    primary[0] = '\0';
    alternate[0] = '\0';
    if (d.len == 0) {
        return;
    }
    d.slavo_germanic = strchr(d.w, 'W') != NULL || strchr(d.w, 'K') != NULL
                       || strstr(d.w, "CZ") != NULL
                       || strstr(d.w, "WITZ") != NULL;

    /* Silent first letter: "gnome", "knight", "pneumonia", "wright". */
    if (str_at(&d, 0, "GN|KN|PN|WR|PS")) {
        cur = 1;
    }
    /* An initial X sounds like Z ("Xavier"), which codes as S. */
    if (at(&d, 0) == 'X') {
        add(&d, "S");
        cur = 1;
    }
    /*
     * Every step consumes at least one position, so the loop ends after
     * at most d.len steps; it also ends once both keys are full, as in
     * Philips' code.
     */
    while (cur < d.len && (d.plen < DM_KEY_LEN || d.alen < DM_KEY_LEN)) {
        cur += dm_step(&d, cur);
    }
}
