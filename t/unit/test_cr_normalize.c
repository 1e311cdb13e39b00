/*
 * test_cr_normalize.c: unit tests for cr_normalize (name folding, split
 * and compact forms, phone numbers, postal codes, nickname table).
 *
 * Non-ASCII inputs are written as UTF-8 escapes with the character in a
 * comment, so the file stays ASCII and the bytes under test are exact.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "match/cr_normalize.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *input;
    const char *expect;
} name_vector_t;

static const name_vector_t name_vectors[] = {
    /* ASCII: case, apostrophes, hyphens, spaces, punctuation. */
    { "Robert", "robert" },
    { "O'Brien", "obrien" },
    { "O\xe2\x80\x99" "Brien", "obrien" },         /* O'Brien, U+2019 */
    { "D\xca\xbc" "Angelo", "dangelo" },           /* U+02BC */
    { "Smith-Jones", "smith jones" },
    { "Smith - Jones", "smith jones" },
    { "Smith\xe2\x80\x93Jones", "smith jones" },   /* en dash */
    { "Smith\xe2\x80\x90Jones", "smith jones" },   /* U+2010 hyphen */
    { "  de   la  Cruz  ", "de la cruz" },
    { "Mary-\t-Ann", "mary ann" },
    { "-x-", "x" },
    { "Anne\xc2\xa0Marie", "anne marie" },         /* no-break space */
    { "Anne\xe3\x80\x80Marie", "anne marie" },     /* ideographic space */
    { "Ann\xc2\xad" "Marie", "annmarie" },         /* soft hyphen */
    { "St. John", "st john" },
    { "J.R.R.", "jrr" },
    { "Smith, Jr.", "smith jr" },
    { "(Bob)", "bob" },
    { "Henry 8th", "henry 8th" },
    /* Latin-1 Supplement. */
    { "Zo\xc3\xab", "zoe" },                       /* Zoë */
    { "Zoe\xcc\x88", "zoe" },                      /* Zoë, NFD */
    { "Jos\xc3\xa9", "jose" },                     /* José */
    { "JOS\xc3\x89", "jose" },                     /* JOSÉ */
    { "Ren\xc3\xa9" "e", "renee" },                /* Renée */
    { "M\xc3\xbcller", "muller" },                 /* Müller */
    { "Stra\xc3\x9f" "e", "strasse" },             /* Straße */
    { "\xc3\x86" "thelred", "aethelred" },         /* Æthelred */
    { "\xc3\xa6", "ae" },                          /* æ */
    { "S\xc3\xb8ren", "soren" },                   /* Søren */
    { "\xc3\x98" "ystein", "oystein" },            /* Øystein */
    { "Fran\xc3\xa7ois", "francois" },             /* François */
    { "Nu\xc3\xb1" "ez", "nunez" },                /* Nuñez */
    { "\xc3\x9e\xc3\xb3r", "thor" },               /* Þór */
    { "Gu\xc3\xb0r\xc3\xban", "gudrun" },          /* Guðrún */
    { "\xc3\x85" "se", "ase" },                    /* Åse */
    { "Ma\xc3\xbf", "may" },                       /* Maÿ */
    { "a\xc3\x97" "b", "ab" },                     /* × is not a letter */
    /* Latin Extended-A. */
    { "\xc5\x81ukasz", "lukasz" },                 /* Łukasz */
    { "\xc5\x82", "l" },                           /* ł */
    { "Dvo\xc5\x99\xc3\xa1k", "dvorak" },          /* Dvořák */
    { "\xc5\x92uvre", "oeuvre" },                  /* Œuvre */
    { "\xc4\xb0stanbul", "istanbul" },             /* İstanbul */
    { "Y\xc4\xb1lmaz", "yilmaz" },                 /* Yılmaz */
    { "\xc4\xb2sselmeer", "ijsselmeer" },          /* Ĳsselmeer */
    { "\xc5\x9e" "ahin", "sahin" },                /* Şahin */
    { "\xc4\x90" "or\xc4\x91" "e", "dorde" },      /* Đorđe */
    { "Ha\xc5\x82" "as", "halas" },                /* Hałas */
    { "\xc5\x8a", "ng" },                          /* Ŋ */
    { "\xc5\xbf", "s" },                           /* ſ */
    /* Latin Extended-B and Extended Additional. */
    { "\xc8\x98tefan", "stefan" },                 /* Ștefan */
    { "\xc8\x9a" "epe\xc8\x99", "tepes" },         /* Țepeș */
    { "Nguy\xe1\xbb\x85n", "nguyen" },             /* Nguyễn */
    { "Tr\xe1\xba\xa7n", "tran" },                 /* Trần */
    { "\xe1\xba\x9e", "ss" },                      /* capital ẞ */
    /* Full-width forms. */
    { "\xef\xbc\xa1\xef\xbd\x82\xef\xbc\x91", "ab1" },   /* Ａｂ１ */
    /* Scripts without a table are dropped. */
    { "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", "" },          /* Иван */
    { "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd Smith", "smith" },
    { "\xe6\x9d\x8e Wei", "wei" },                       /* 李 Wei */
    { "\xf0\x9f\x98\x80" "Bob", "bob" },                 /* emoji */
    /* Empty and blank. */
    { "", "" },
    { "   ", "" },
    { "'-.", "" },
};

static void check_name(const char *input, apr_size_t len, const char *expect)
{
    char out[CR_NORM_BUF_SIZE];
    apr_size_t out_len = 999;
    apr_status_t rv = cr_normalize_name(out, &out_len, input, len);

    if (rv != APR_SUCCESS || strcmp(out, expect) != 0
        || out_len != strlen(expect)) {
        fail_msg("normalize(\"%s\") = %d \"%s\" (%d), want \"%s\"", input,
                 (int)rv, out, (int)out_len, expect);
    }
}

static void test_name_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(name_vectors); i++) {
        /* NUL-terminated and explicit-length input agree. */
        check_name(name_vectors[i].input, CR_NORM_ZTERM,
                   name_vectors[i].expect);
        check_name(name_vectors[i].input, strlen(name_vectors[i].input),
                   name_vectors[i].expect);
    }
}

/* Every output byte is in [a-z0-9 ], without doubled or edge spaces. */
static void test_name_output_alphabet(void **state)
{
    char in[4], out[CR_NORM_BUF_SIZE];
    unsigned int cp;

    (void)state;
    /* Every code point of U+0000-U+07FF, encoded on its own. */
    for (cp = 0; cp < 0x800; cp++) {
        apr_size_t n = 0, i;

        if (cp < 0x80) {
            in[n++] = (char)cp;
        }
        else {
            in[n++] = (char)(0xC0 | (cp >> 6));
            in[n++] = (char)(0x80 | (cp & 0x3F));
        }
        assert_int_equal(cr_normalize_name(out, NULL, in, n), APR_SUCCESS);
        for (i = 0; out[i] != '\0'; i++) {
            char c = out[i];

            assert_true((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
        }
        assert_true(i <= 2);
    }
}

static void test_name_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "\xff",                     /* never valid */
        "\xfe",
        "\x80",                     /* stray continuation */
        "abc\xbf",
        "\xc3",                     /* truncated at the end */
        "abc\xe2\x82",
        "\xc3\x28",                 /* bad continuation */
        "\xe2\x28\xa1",
        "\xc0\xaf",                 /* overlong "/" */
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
        "\xed\xa0\x80",             /* surrogate U+D800 */
        "\xed\xbf\xbf",             /* surrogate U+DFFF */
        "\xf4\x90\x80\x80",         /* U+110000 */
        "\xf8\x88\x80\x80\x80",     /* 5-byte form */
        "Jos\xe9",                  /* Latin-1, not UTF-8 */
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(bad); i++) {
        char out[CR_NORM_BUF_SIZE];
        apr_size_t out_len = 999;
        apr_status_t rv;

        memset(out, 'x', sizeof(out));
        rv = cr_normalize_name(out, &out_len, bad[i], CR_NORM_ZTERM);
        if (rv != APR_EINVAL || out[0] != '\0' || out_len != 0) {
            fail_msg("bad UTF-8 #%d accepted (rv %d, \"%s\")", (int)i,
                     (int)rv, out);
        }
    }
}

static void test_name_null_and_nul(void **state)
{
    char out[CR_NORM_BUF_SIZE];
    apr_size_t len = 99;

    (void)state;
    assert_int_equal(cr_normalize_name(out, &len, NULL, 0), APR_SUCCESS);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(cr_normalize_name(out, NULL, NULL, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(cr_normalize_name(out, NULL, NULL, 3), APR_EINVAL);

    /* An embedded NUL is a control character: dropped. */
    assert_int_equal(cr_normalize_name(out, &len, "ab\0cd", 5), APR_SUCCESS);
    assert_string_equal(out, "abcd");
    /* An explicit length stops before the end of the string. */
    assert_int_equal(cr_normalize_name(out, &len, "abcdef", 3), APR_SUCCESS);
    assert_string_equal(out, "abc");
    /* Cutting a sequence with an explicit length is invalid input. */
    assert_int_equal(cr_normalize_name(out, &len, "Jos\xc3\xa9", 4),
                     APR_EINVAL);
}

/* Fill buf with n copies of unit (a UTF-8 string), NUL-terminated. */
static void repeat(char *buf, const char *unit, size_t n)
{
    size_t k = strlen(unit), i;

    for (i = 0; i < n; i++) {
        memcpy(buf + i * k, unit, k);
    }
    buf[n * k] = '\0';
}

static void test_name_bounds(void **state)
{
    char in[1024], out[CR_NORM_BUF_SIZE], want[CR_NORM_BUF_SIZE];
    apr_size_t len;

    (void)state;
    /* Exactly the limit. */
    repeat(in, "a", CR_NORM_MAX_LEN);
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(len, CR_NORM_MAX_LEN);
    assert_string_equal(out, in);

    /* Beyond the limit: truncated, both input forms. */
    repeat(in, "a", 300);
    repeat(want, "a", CR_NORM_MAX_LEN);
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_string_equal(out, want);
    assert_int_equal(cr_normalize_name(out, &len, in, 300), APR_SUCCESS);
    assert_string_equal(out, want);

    /* A two-byte letter straddling the limit is cut whole. */
    repeat(in, "a", CR_NORM_MAX_LEN - 1);
    strcat(in, "\xc3\xa9" "bbb");
    repeat(want, "a", CR_NORM_MAX_LEN - 1);
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_string_equal(out, want);

    /* ... and kept when it ends exactly at the limit. */
    repeat(in, "a", CR_NORM_MAX_LEN - 2);
    strcat(in, "\xc3\xa9" "bbb");
    repeat(want, "a", CR_NORM_MAX_LEN - 2);
    strcat(want, "e");
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_string_equal(out, want);

    /* Three- and four-byte sequences straddling the limit. */
    repeat(in, "a", CR_NORM_MAX_LEN - 1);
    strcat(in, "\xe2\x82\xac");                     /* euro sign */
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(len, CR_NORM_MAX_LEN - 1);
    repeat(in, "a", CR_NORM_MAX_LEN - 2);
    strcat(in, "\xf0\x9f\x98\x80" "z");             /* emoji */
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(len, CR_NORM_MAX_LEN - 2);

    /* Invalid bytes inside the limit fail; beyond it they are unread. */
    repeat(in, "a", CR_NORM_MAX_LEN - 1);
    strcat(in, "\xff");
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_EINVAL);
    repeat(in, "a", CR_NORM_MAX_LEN);
    strcat(in, "\xff");
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);

    /* The widest expansion fills the buffer exactly: "ß" -> "ss". */
    repeat(in, "\xc3\x9f", CR_NORM_MAX_LEN / 2 + 10);
    repeat(want, "s", CR_NORM_MAX_LEN);
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(len, CR_NORM_MAX_LEN);
    assert_string_equal(out, want);

    /* Alternating letters and separators: "a a a ...", no trailing. */
    repeat(in, "a-", 200);
    assert_int_equal(cr_normalize_name(out, &len, in, CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_int_equal(len, CR_NORM_MAX_LEN - 1);
    assert_true(out[len - 1] == 'a');
}

static void test_compact(void **state)
{
    char out[CR_NORM_BUF_SIZE], buf[CR_NORM_BUF_SIZE];
    char in[1024];

    (void)state;
    assert_int_equal(cr_normalize_compact(out, "de la cruz"), 8);
    assert_string_equal(out, "delacruz");
    assert_int_equal(cr_normalize_compact(out, "smith"), 5);
    assert_string_equal(out, "smith");
    assert_int_equal(cr_normalize_compact(out, ""), 0);
    assert_string_equal(out, "");
    assert_int_equal(cr_normalize_compact(out, NULL), 0);
    assert_string_equal(out, "");

    /* In place. */
    strcpy(buf, "van der berg");
    assert_int_equal(cr_normalize_compact(buf, buf), 10);
    assert_string_equal(buf, "vanderberg");

    /* Bounded read of an over-long string. */
    memset(in, 'q', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    assert_int_equal(cr_normalize_compact(out, in), CR_NORM_MAX_LEN);
}

static void test_split(void **state)
{
    cr_normalize_parts_t p;
    char in[64];
    int i;

    (void)state;
    assert_int_equal(cr_normalize_split(&p, "de la cruz"), APR_SUCCESS);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.part[0], "de");
    assert_string_equal(p.part[1], "la");
    assert_string_equal(p.part[2], "cruz");

    assert_int_equal(cr_normalize_split(&p, "smith jones"), APR_SUCCESS);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.part[0], "smith");
    assert_string_equal(p.part[1], "jones");

    assert_int_equal(cr_normalize_split(&p, "  a   b "), APR_SUCCESS);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.part[0], "a");
    assert_string_equal(p.part[1], "b");

    assert_int_equal(cr_normalize_split(&p, "single"), APR_SUCCESS);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.part[0], "single");

    assert_int_equal(cr_normalize_split(&p, ""), APR_SUCCESS);
    assert_int_equal(p.n, 0);
    assert_int_equal(cr_normalize_split(&p, NULL), APR_SUCCESS);
    assert_int_equal(p.n, 0);

    /* More words than CR_NORM_MAX_PARTS: the first ones are kept. */
    strcpy(in, "a b c d e f g h i j");
    assert_int_equal(cr_normalize_split(&p, in), APR_INCOMPLETE);
    assert_int_equal(p.n, CR_NORM_MAX_PARTS);
    for (i = 0; i < CR_NORM_MAX_PARTS; i++) {
        char want[2] = { (char)('a' + i), '\0' };

        assert_string_equal(p.part[i], want);
    }
    /* Exactly CR_NORM_MAX_PARTS words is complete. */
    strcpy(in, "a b c d e f g h ");
    assert_int_equal(cr_normalize_split(&p, in), APR_SUCCESS);
    assert_int_equal(p.n, CR_NORM_MAX_PARTS);
    assert_string_equal(p.part[CR_NORM_MAX_PARTS - 1], "h");
}

typedef struct {
    const char *input;
    const char *expect;
} value_vector_t;

static const value_vector_t phone_vectors[] = {
    { "+1 (250) 555-0123", "2505550123" },
    { "250.555.0123", "2505550123" },
    { "250 555 0123", "2505550123" },
    { "12505550123", "2505550123" },
    { "1-250-555-0123", "2505550123" },
    { "tel:+1-250-555-0123", "2505550123" },
    { "tel:+1-250-555-0123;ext=45", "2505550123" },
    { "250-555-0123 x45", "2505550123" },
    { "250-555-0123 ext. 45", "2505550123" },
    { "250-555-0123#45", "2505550123" },
    { "Home: 250-555-0123", "2505550123" },
    { "555-0123", "5550123" },
    /* 11 digits not starting with 1: the last ten. */
    { "22505550123", "2505550123" },
    /* International: the trailing ten digits. */
    { "+44 20 7946 0958", "2079460958" },
    { "011 44 20 7946 0958", "2079460958" },
    /* Exactly ten digits starting with 1 are kept whole. */
    { "1505550123", "1505550123" },
    { "1", "1" },
    { "", "" },
    { "unknown", "" },
    { "\xef\xbc\x92\xef\xbc\x95", "" },     /* full-width digits: not ASCII */
};

static void test_phone(void **state)
{
    char out[CR_NORM_PHONE_SIZE];
    char in[1024];
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(phone_vectors); i++) {
        const char *s = phone_vectors[i].input;
        apr_size_t n = cr_normalize_phone(out, s, CR_NORM_ZTERM);

        if (strcmp(out, phone_vectors[i].expect) != 0
            || n != strlen(out)) {
            fail_msg("phone(\"%s\") = \"%s\", want \"%s\"", s, out,
                     phone_vectors[i].expect);
        }
        n = cr_normalize_phone(out, s, strlen(s));
        assert_string_equal(out, phone_vectors[i].expect);
    }
    assert_int_equal(cr_normalize_phone(out, NULL, 0), 0);
    assert_string_equal(out, "");

    /* Only the first CR_NORM_MAX_LEN bytes are read. */
    memset(in, '5', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    memcpy(in + CR_NORM_MAX_LEN - 3, "123", 3);
    memcpy(in + CR_NORM_MAX_LEN, "999", 3);
    assert_int_equal(cr_normalize_phone(out, in, CR_NORM_ZTERM), 10);
    assert_string_equal(out, "5555555123");
    assert_int_equal(cr_normalize_phone(out, in, sizeof(in) - 1), 10);
    assert_string_equal(out, "5555555123");
}

static const value_vector_t postal_vectors[] = {
    { "v8w 1a1", "V8W1A1" },
    { "V8W1A1", "V8W1A1" },
    { " V8W-1A1 ", "V8W1A1" },
    { "v8w\xc2\xa0" "1a1", "V8W1A1" },      /* no-break space */
    { "98101-1234", "981011234" },
    { "SW1A 1AA", "SW1A1AA" },
    { "ABCDE12345", "ABCDE12345" },         /* exactly ten: kept */
    { "ABCDE123456", "" },                  /* eleven: no usable value */
    { "", "" },
    { "--", "" },
};

static void test_postal(void **state)
{
    char out[CR_NORM_POSTAL_SIZE];
    char in[1024];
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(postal_vectors); i++) {
        const char *s = postal_vectors[i].input;
        apr_size_t n = cr_normalize_postal(out, s, CR_NORM_ZTERM);

        if (strcmp(out, postal_vectors[i].expect) != 0
            || n != strlen(out)) {
            fail_msg("postal(\"%s\") = \"%s\", want \"%s\"", s, out,
                     postal_vectors[i].expect);
        }
        n = cr_normalize_postal(out, s, strlen(s));
        assert_string_equal(out, postal_vectors[i].expect);
    }
    assert_int_equal(cr_normalize_postal(out, NULL, CR_NORM_ZTERM), 0);
    assert_string_equal(out, "");

    /* A long run of separators, then a code beyond the read limit. */
    memset(in, ' ', sizeof(in) - 1);
    in[sizeof(in) - 1] = '\0';
    memcpy(in + CR_NORM_MAX_LEN - 3, "v8w1a1", 6);
    assert_int_equal(cr_normalize_postal(out, in, CR_NORM_ZTERM), 3);
    assert_string_equal(out, "V8W");
}

static const value_vector_t given_vectors[] = {
    { "bob", "robert" },
    { "bobby", "robert" },
    { "rob", "robert" },
    { "bill", "william" },
    { "will", "william" },
    { "liz", "elizabeth" },
    { "beth", "elizabeth" },
    { "betty", "elizabeth" },
    { "elisabeth", "elizabeth" },
    { "peggy", "margaret" },
    { "maggie", "margaret" },
    { "dick", "richard" },
    { "rick", "richard" },
    { "jim", "james" },
    { "jimmy", "james" },
    { "kate", "katherine" },
    { "cathy", "katherine" },
    { "catherine", "katherine" },
    { "kathryn", "katherine" },
    { "ted", "edward" },
    { "harry", "henry" },
    { "jack", "john" },
    { "steven", "stephen" },
    { "abbie", "abigail" },         /* first row of the table */
    { "zack", "zachary" },          /* last row of the table */
    /* Canonical names and unknown names map to themselves. */
    { "robert", "robert" },
    { "elizabeth", "elizabeth" },
    { "katherine", "katherine" },
    { "kathleen", "kathleen" },
    /* Ambiguous across sexes: deliberately not in the table. */
    { "pat", "pat" },
    { "chris", "chris" },
    { "alex", "alex" },
    { "sam", "sam" },
    { "terry", "terry" },
    /* Not normalized or not one word: no match. */
    { "Bob", "Bob" },
    { "bob smith", "bob smith" },
    { "", "" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
};

static void test_given_canonical(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(given_vectors); i++) {
        const char *got = cr_normalize_given_canonical(given_vectors[i].input);

        if (got == NULL || strcmp(got, given_vectors[i].expect) != 0) {
            fail_msg("given(\"%s\") = \"%s\", want \"%s\"",
                     given_vectors[i].input, got ? got : "(null)",
                     given_vectors[i].expect);
        }
        /* Idempotent: the canonical form maps to itself. */
        assert_string_equal(cr_normalize_given_canonical(got), got);
    }
    assert_null(cr_normalize_given_canonical(NULL));
}

/* Without a match the very same pointer comes back, not a copy. */
static void test_given_returns_input(void **state)
{
    char name[] = "zebedee";

    (void)state;
    assert_ptr_equal(cr_normalize_given_canonical(name), name);
}

static void test_given_selfcheck(void **state)
{
    (void)state;
    /* Sorted (bsearch), lower-case keys, canonical names not keys. */
    assert_int_equal(cr_normalize_given_selfcheck(), APR_SUCCESS);
}

/* Output of the name folder feeds the nickname table directly. */
static void test_given_after_normalize(void **state)
{
    char out[CR_NORM_BUF_SIZE];

    (void)state;
    assert_int_equal(cr_normalize_name(out, NULL, "  BOBBY ", CR_NORM_ZTERM),
                     APR_SUCCESS);
    assert_string_equal(cr_normalize_given_canonical(out), "robert");
}

/* Bounded text: folded like a name, cut at a word boundary. */
static void test_text(void **state)
{
    char out[CR_NORM_BUF_SIZE];

    (void)state;
    cr_normalize_text(out, "  \xc3\x89lise  MARIE ", 64);
    assert_string_equal(out, "elise marie");
    cr_normalize_text(out, "Mary Ann Smith", 10);
    assert_string_equal(out, "mary ann");
    cr_normalize_text(out, "Maximiliana", 4);
    assert_string_equal(out, "maxi");
    cr_normalize_text(out, NULL, 64);
    assert_string_equal(out, "");
    cr_normalize_text(out, "\xc3", 64);
    assert_string_equal(out, "");
}

/* Street types spelled out; only spelled-out forms count as types. */
static void test_street_type(void **state)
{
    (void)state;
    assert_string_equal(cr_normalize_street_type("st"), "street");
    assert_string_equal(cr_normalize_street_type("street"), "street");
    assert_string_equal(cr_normalize_street_type("blvd"), "boulevard");
    assert_string_equal(cr_normalize_street_type("way"), "way");
    assert_null(cr_normalize_street_type("main"));
    assert_true(cr_normalize_is_street_type("avenue"));
    assert_false(cr_normalize_is_street_type("ave"));
    assert_false(cr_normalize_is_street_type("main"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_vectors),
        cmocka_unit_test(test_name_output_alphabet),
        cmocka_unit_test(test_name_invalid_utf8),
        cmocka_unit_test(test_name_null_and_nul),
        cmocka_unit_test(test_name_bounds),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_postal),
        cmocka_unit_test(test_given_canonical),
        cmocka_unit_test(test_given_returns_input),
        cmocka_unit_test(test_given_selfcheck),
        cmocka_unit_test(test_given_after_normalize),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_street_type),
    };

    return cmocka_run_group_tests_name("cr_normalize", tests, NULL, NULL);
}
