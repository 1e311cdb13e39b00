/*
 * test_cr_search.c: unit tests for cr_search (query string -> search
 * specification, and the matching rules applied to one candidate).
 *
 * Date prefixes are checked against the inclusive day ranges documented
 * at the top of cr_search.c, with day, month and year targets, so that
 * the partial-date cases ("1980", "1980-02") are pinned down.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>

#include "match/cr_index.h"
#include "core/cr_outcome.h"
#include "core/cr_text.h"
#include "match/cr_search.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }


/* max_params, max_values, default_count, max_count, max_candidates */
static const cr_search_limits_t limits = { 20, 5, 10, 100, 1000 };


static const cr_issue_t *issue(const cr_outcome_t *oc, int i)
{
    return &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
}

static void dump_issues(const cr_outcome_t *oc)
{
    int i;

    for (i = 0; i < oc->issues->nelts; i++) {
        print_message("#   issue %d: %s %s %s: %s\n", i,
                      cr_outcome_severity_name(issue(oc, i)->severity),
                      issue(oc, i)->code,
                      issue(oc, i)->expression ? issue(oc, i)->expression
                                               : "-",
                      issue(oc, i)->text);
    }
}

/* Parse a query that must be accepted without any issue. */
static cr_search_spec_t *ok(apr_pool_t *pool, const char *query)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_search_spec_t *spec = NULL;
    apr_status_t rv = cr_search_parse(&spec, pool, query, 0, &limits, oc);

    if (rv != APR_SUCCESS || oc->issues->nelts != 0) {
        dump_issues(oc);
        fail_msg("'%s': rv=%d with %d issue(s)", query, rv,
                 oc->issues->nelts);
    }
    assert_non_null(spec);
    return spec;
}

/* Parse a query that must fail with exactly one error. */
static void bad(apr_pool_t *pool, const char *query,
                const cr_search_limits_t *lim, const char *code,
                const char *expression)
{
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_search_spec_t *spec = NULL;
    apr_status_t rv = cr_search_parse(&spec, pool, query, 0,
                                      lim ? lim : &limits, oc);
    const cr_issue_t *is = cr_outcome_first_error(oc);

    if (rv != APR_EINVAL || oc->issues->nelts != 1 || is == NULL
        || strcmp(is->code, code) != 0
        || (expression == NULL ? is->expression != NULL
            : is->expression == NULL
              || strcmp(is->expression, expression) != 0)) {
        dump_issues(oc);
        fail_msg("'%s': rv=%d, %d issue(s); expected one error %s at %s",
                 query, rv, oc->issues->nelts, code,
                 expression ? expression : "(none)");
    }
    assert_non_null(spec);
}

static const cr_search_clause_t *clause(const cr_search_spec_t *s, int i)
{
    return &APR_ARRAY_IDX(s->clauses, i, cr_search_clause_t);
}

static const cr_search_value_t *value(const cr_search_clause_t *c, int i)
{
    return &APR_ARRAY_IDX(c->values, i, cr_search_value_t);
}

/* Every supported parameter parses into its clause. */
static void test_every_parameter(void **state)
{
    static const struct {
        cr_sp_e param;
        const char *name, *kind, *raw, *system, *term;
    } expect[] = {
        { CR_SP_ID, "_id", NULL, "abc-1", NULL, "abc-1" },
        { CR_SP_IDENTIFIER, "identifier", NULL, "sys|val", "sys", "val" },
        { CR_SP_PHONE, "phone", "phone", "+1 (250) 555-0123", NULL,
          "2505550123" },
        { CR_SP_EMAIL, "email", "email", "Ann.Smith@Example.COM", NULL,
          "ann.smith@example.com" },
        { CR_SP_FAMILY, "family", "family", "de la Cruz", NULL,
          "de la cruz" },
        { CR_SP_GIVEN, "given", "given", "\xc3\x89milie", NULL, "emilie" },
        { CR_SP_NAME, "name", "name", "O'Brien", NULL, "obrien" },
        { CR_SP_POSTAL, "address-postalcode", "postal", "v8w 1a1", NULL,
          "V8W1A1" },
        { CR_SP_BIRTHDATE, "birthdate", NULL, "1980", NULL, NULL },
        { CR_SP_GENDER, "gender", NULL, "female", NULL, "female" },
    };
    apr_pool_t *pool = *state;
    cr_search_spec_t *s = ok(pool, "_id=abc-1&identifier=sys%7Cval"
                             "&phone=%2B1+(250)+555-0123"
                             "&email=Ann.Smith%40Example.COM"
                             "&family=de%20la%20Cruz&given=%C3%89milie"
                             "&name=O'Brien&address-postalcode=v8w+1a1"
                             "&birthdate=1980&gender=female");
    size_t i;

    assert_int_equal(s->clauses->nelts, (int)ARRAY_LEN(expect));
    for (i = 0; i < ARRAY_LEN(expect); i++) {
        const cr_search_clause_t *c = clause(s, (int)i);
        const cr_search_value_t *v;
        assert_int_equal(c->param, expect[i].param);
        assert_string_equal(c->name, expect[i].name);
        if (expect[i].kind) {
            assert_string_equal(c->index_kind, expect[i].kind);
        }
        else {
            assert_null(c->index_kind);
        }
        assert_int_equal(c->values->nelts, 1);
        v = value(c, 0);
        assert_string_equal(v->raw, expect[i].raw);
        if (expect[i].system) {
            assert_string_equal(v->system, expect[i].system);
        }
        else {
            assert_null(v->system);
        }
        if (expect[i].term) {
            assert_string_equal(v->term, expect[i].term);
        }
    }
    assert_int_equal(value(clause(s, 8), 0)->prefix, CR_PFX_EQ);
    assert_string_equal(value(clause(s, 8), 0)->lo, "1980-01-01");
    assert_string_equal(value(clause(s, 8), 0)->hi, "1980-12-31");
    assert_int_equal(s->count, 10);
    assert_int_equal(s->offset, 0);
    assert_int_equal(s->total_none, 0);
    assert_string_equal(s->canonical_query,
                        "_id=abc-1&identifier=sys%7Cval"
                        "&phone=%2B1%20%28250%29%20555-0123"
                        "&email=Ann.Smith%40Example.COM"
                        "&family=de%20la%20Cruz&given=%C3%89milie"
                        "&name=O%27Brien&address-postalcode=v8w%201a1"
                        "&birthdate=1980&gender=female");
}

/* The parameter list the CapabilityStatement is built from. */
static void test_param_info(void **state)
{
    static const char *const names[] = {
        "_id", "identifier", "phone", "email", "family", "given", "name",
        "address-postalcode", "birthdate", "gender"
    };
    static const char *const types[] = {
        "token", "token", "token", "token", "string", "string", "string",
        "string", "date", "token"
    };
    const char *name = NULL, *type = NULL;
    int i;

    (void)state;
    for (i = 0; i < (int)ARRAY_LEN(names); i++) {
        assert_int_equal(cr_search_param_info(i, &name, &type), 1);
        assert_string_equal(name, names[i]);
        assert_string_equal(type, types[i]);
    }
    assert_int_equal(cr_search_param_info((int)ARRAY_LEN(names), &name,
                                          &type), 0);
    assert_int_equal(cr_search_param_info(-1, &name, &type), 0);
}

/* Birthdate prefixes and the day range of the value. */
static void test_birthdate_prefixes(void **state)
{
    static const struct {
        const char *q;
        cr_prefix_e prefix;
        const char *lo, *hi;
    } v[] = {
        { "1980", CR_PFX_EQ, "1980-01-01", "1980-12-31" },
        { "1980-02", CR_PFX_EQ, "1980-02-01", "1980-02-29" },
        { "1981-02", CR_PFX_EQ, "1981-02-01", "1981-02-28" },
        { "1980-02-03", CR_PFX_EQ, "1980-02-03", "1980-02-03" },
        { "eq1980", CR_PFX_EQ, "1980-01-01", "1980-12-31" },
        { "ne1980-02", CR_PFX_NE, "1980-02-01", "1980-02-29" },
        { "lt1980-02-03", CR_PFX_LT, "1980-02-03", "1980-02-03" },
        { "gt1980", CR_PFX_GT, "1980-01-01", "1980-12-31" },
        { "le1980-02", CR_PFX_LE, "1980-02-01", "1980-02-29" },
        { "ge1980-02", CR_PFX_GE, "1980-02-01", "1980-02-29" },
        { "sa1980", CR_PFX_SA, "1980-01-01", "1980-12-31" },
        { "eb1980-12-31", CR_PFX_EB, "1980-12-31", "1980-12-31" },
        { "ap1980-02-15", CR_PFX_AP, "1980-02-15", "1980-02-15" },
    };
    static const char *const invalid[] = {
        "birthdate=xx1980", "birthdate=eq", "birthdate=1980-13",
        "birthdate=1981-02-29", "birthdate=80", "birthdate=1980-2-3",
        "birthdate=EQ1980", "birthdate=1980-02-03T10:00:00Z",
        "birthdate=%201980", "birthdate=ge",
    };
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        cr_search_spec_t *s = ok(pool, apr_pstrcat(pool, "birthdate=",
                                                   v[i].q, NULL));
        const cr_search_value_t *sv = value(clause(s, 0), 0);
        assert_int_equal(clause(s, 0)->param, CR_SP_BIRTHDATE);
        if (sv->prefix != v[i].prefix || strcmp(sv->lo, v[i].lo) != 0
            || strcmp(sv->hi, v[i].hi) != 0) {
            fail_msg("%s: prefix %d [%s, %s]", v[i].q, (int)sv->prefix,
                     sv->lo, sv->hi);
        }
        assert_string_equal(sv->raw, v[i].q);
    }
    for (i = 0; i < ARRAY_LEN(invalid); i++) {
        bad(pool, invalid[i], NULL, "value", "birthdate");
    }
}

/* A target with only a birth range. */
static cr_search_target_t birth_target(const char *lo, const char *hi)
{
    cr_search_target_t t;

    memset(&t, 0, sizeof(t));
    t.id = "p1";
    t.birth_lo = lo;
    t.birth_hi = hi;
    return t;
}

/* cr_search_matches on day ranges: day, month and year targets. */
static void test_date_matching(void **state)
{
    static const struct {
        const char *q;
        const char *tlo, *thi;    /* target birth range */
        int match;
    } v[] = {
        /* eq: the target lies within the value's range. */
        { "1980", "1980-02-15", "1980-02-15", 1 },
        { "1980", "1979-12-31", "1979-12-31", 0 },
        { "1980", "1981-01-01", "1981-01-01", 0 },
        { "1980", "1980-01-01", "1980-12-31", 1 },
        { "1980-02", "1980-02-29", "1980-02-29", 1 },
        { "1980-02", "1980-03-01", "1980-03-01", 0 },
        { "1980-02", "1980-01-01", "1980-12-31", 0 },
        { "1980-02-03", "1980-02-03", "1980-02-03", 1 },
        { "1980-02-03", "1980-02-04", "1980-02-04", 0 },
        { "1980-02-03", "1980-02-01", "1980-02-29", 0 },
        /* ne: not eq. */
        { "ne1980-02", "1980-03-01", "1980-03-01", 1 },
        { "ne1980-02", "1980-02-10", "1980-02-10", 0 },
        { "ne1980-02", "1980-01-01", "1980-12-31", 1 },
        /* lt: the target starts before the value. */
        { "lt1980-02", "1980-01-31", "1980-01-31", 1 },
        { "lt1980-02", "1980-02-01", "1980-02-01", 0 },
        { "lt1980-02", "1980-01-01", "1980-12-31", 1 },
        { "lt1980", "1979-12-31", "1979-12-31", 1 },
        { "lt1980", "1980-06-01", "1980-06-01", 0 },
        /* le: the target starts on or before the value's end. */
        { "le1980-02", "1980-02-29", "1980-02-29", 1 },
        { "le1980-02", "1980-03-01", "1980-03-01", 0 },
        { "le1980-02", "1980-01-01", "1980-12-31", 1 },
        /* gt: the target ends after the value. */
        { "gt1980-02", "1980-03-01", "1980-03-01", 1 },
        { "gt1980-02", "1980-02-29", "1980-02-29", 0 },
        { "gt1980-02", "1980-01-01", "1980-12-31", 1 },
        { "gt1980", "1981-01-01", "1981-01-01", 1 },
        { "gt1980", "1980-12-31", "1980-12-31", 0 },
        /* ge: the target ends on or after the value's start. */
        { "ge1980-02", "1980-02-01", "1980-02-01", 1 },
        { "ge1980-02", "1980-01-31", "1980-01-31", 0 },
        { "ge1980-02", "1980-01-01", "1980-12-31", 1 },
        /* sa: the target starts after the value ends. */
        { "sa1980-02", "1980-03-01", "1980-03-01", 1 },
        { "sa1980-02", "1980-02-29", "1980-02-29", 0 },
        { "sa1980-02", "1980-01-01", "1980-12-31", 0 },
        { "sa1980", "1981-01-01", "1981-12-31", 1 },
        /* eb: the target ends before the value starts. */
        { "eb1980-02", "1980-01-31", "1980-01-31", 1 },
        { "eb1980-02", "1980-02-01", "1980-02-01", 0 },
        { "eb1980-02", "1980-01-01", "1980-12-31", 0 },
        { "eb1980", "1979-01-01", "1979-12-31", 1 },
        /* ap: overlap with the value widened by a year on each side. */
        { "ap1980-02-15", "1979-02-15", "1979-02-15", 1 },
        { "ap1980-02-15", "1979-02-14", "1979-02-14", 0 },
        { "ap1980-02-15", "1981-02-15", "1981-02-15", 1 },
        { "ap1980-02-15", "1981-02-16", "1981-02-16", 0 },
        { "ap1980", "1979-01-01", "1979-01-01", 1 },
        { "ap1980", "1978-12-31", "1978-12-31", 0 },
        { "ap1980", "1981-12-31", "1981-12-31", 1 },
        { "ap1980", "1982-01-01", "1982-01-01", 0 },
        { "ap1980-02", "1978-01-01", "1979-12-31", 1 },
    };
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        cr_search_spec_t *s = ok(pool, apr_pstrcat(pool, "birthdate=",
                                                   v[i].q, NULL));
        cr_search_target_t t = birth_target(v[i].tlo, v[i].thi);
        if (cr_search_matches(s, &t) != v[i].match) {
            fail_msg("birthdate=%s vs [%s, %s]: expected %d", v[i].q,
                     v[i].tlo, v[i].thi, v[i].match);
        }
        if (cr_search_clause_matches(clause(s, 0), &t) != v[i].match) {
            fail_msg("clause birthdate=%s vs [%s, %s]: expected %d", v[i].q,
                     v[i].tlo, v[i].thi, v[i].match);
        }
    }
    /* A target without a birth date matches no birthdate clause. */
    {
        static const char *const q[] = {
            "birthdate=1980", "birthdate=ne1980", "birthdate=ap1980"
        };
        cr_search_target_t t = birth_target(NULL, NULL);
        for (i = 0; i < ARRAY_LEN(q); i++) {
            assert_int_equal(cr_search_matches(ok(pool, q[i]), &t), 0);
        }
    }
}

/* The store's index range for each prefix covers every match. */
static void test_birth_driver_range(void **state)
{
    static const struct {
        const char *q, *lo, *hi;
    } v[] = {
        { "1980-02", "1980-02-01", "1980-02-29" },
        { "lt1980-02", "0001-01-01", "1980-02-01" },
        { "eb1980-02", "0001-01-01", "1980-02-01" },
        { "le1980-02", "0001-01-01", "1980-02-29" },
        { "gt1980-02", "1979-02-29", "9999-12-31" },
        { "sa1980-02-10", "1979-02-10", "9999-12-31" },
        { "ge1980-02", "1979-02-01", "9999-12-31" },
        { "ap1980-02-15", "1978-02-15", "1981-02-15" },
        { "ne1980", "0001-01-01", "9999-12-31" },
        { "ge0001", "0001-01-01", "9999-12-31" },
    };
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        cr_search_spec_t *s = ok(pool, apr_pstrcat(pool, "birthdate=",
                                                   v[i].q, NULL));
        char lo[11], hi[11];
        cr_search_birth_driver_range(lo, hi, value(clause(s, 0), 0));
        if (strcmp(lo, v[i].lo) != 0 || strcmp(hi, v[i].hi) != 0) {
            fail_msg("%s: [%s, %s], expected [%s, %s]", v[i].q, lo, hi,
                     v[i].lo, v[i].hi);
        }
    }
}

/* Comma-separated values are OR'ed; "\," is a literal comma. */
static void test_comma_or(void **state)
{
    apr_pool_t *pool = *state;
    cr_search_spec_t *s = ok(pool, "birthdate=1970,1980-05");
    cr_search_target_t t;

    assert_int_equal(s->clauses->nelts, 1);
    assert_int_equal(clause(s, 0)->values->nelts, 2);
    t = birth_target("1970-07-07", "1970-07-07");
    assert_int_equal(cr_search_matches(s, &t), 1);
    t = birth_target("1980-05-05", "1980-05-05");
    assert_int_equal(cr_search_matches(s, &t), 1);
    t = birth_target("1980-06-05", "1980-06-05");
    assert_int_equal(cr_search_matches(s, &t), 0);

    s = ok(pool, "gender=male,other");
    t = birth_target(NULL, NULL);
    t.gender = "other";
    assert_int_equal(cr_search_matches(s, &t), 1);
    t.gender = "female";
    assert_int_equal(cr_search_matches(s, &t), 0);

    /* Escaped commas and backslashes stay in the value. */
    s = ok(pool, "identifier=sys%7Ca%5C%2Cb%5C%5Cc,x");
    assert_int_equal(clause(s, 0)->values->nelts, 2);
    assert_string_equal(value(clause(s, 0), 0)->system, "sys");
    assert_string_equal(value(clause(s, 0), 0)->term, "a,b\\c");
    assert_string_equal(value(clause(s, 0), 1)->term, "x");
    assert_null(value(clause(s, 0), 1)->system);
}

/* Repeated parameters are AND'ed. */
static void test_repeated_and(void **state)
{
    apr_pool_t *pool = *state;
    cr_search_spec_t *s = ok(pool, "birthdate=ge1980&birthdate=le1980-06");
    cr_search_target_t t;

    assert_int_equal(s->clauses->nelts, 2);
    t = birth_target("1980-03-01", "1980-03-01");
    assert_int_equal(cr_search_matches(s, &t), 1);
    t = birth_target("1980-07-01", "1980-07-01");
    assert_int_equal(cr_search_matches(s, &t), 0);
    assert_int_equal(cr_search_clause_matches(clause(s, 0), &t), 1);
    assert_int_equal(cr_search_clause_matches(clause(s, 1), &t), 0);
    t = birth_target("1979-12-31", "1979-12-31");
    assert_int_equal(cr_search_matches(s, &t), 0);

    s = ok(pool, "gender=female&birthdate=1980");
    t = birth_target("1980-01-01", "1980-01-01");
    t.gender = "female";
    assert_int_equal(cr_search_matches(s, &t), 1);
    t.gender = "male";
    assert_int_equal(cr_search_matches(s, &t), 0);

    /* An empty specification matches everything. */
    s = ok(pool, "");
    assert_int_equal(s->clauses->nelts, 0);
    assert_int_equal(cr_search_matches(s, &t), 1);
}

/* Modifiers are refused (warnings when lenient); so are unknown
 * parameters; _format and _pretty are ignored. */
static void test_modifiers_unknown(void **state)
{
    static const char *const modified[] = {
        "family:exact=Smith", "family:contains=mit", "identifier:of-type=x",
        "gender:missing=true", "birthdate:missing=false", "name:text=x",
    };
    apr_pool_t *pool = *state;
    cr_search_spec_t *s = NULL;
    cr_outcome_t *oc;
    size_t i;

    for (i = 0; i < ARRAY_LEN(modified); i++) {
        bad(pool, modified[i], NULL, "not-supported", NULL);

        oc = cr_outcome_make(pool);
        assert_int_equal(cr_search_parse(&s, pool, modified[i], 1, &limits,
                                         oc), APR_SUCCESS);
        assert_int_equal(oc->issues->nelts, 1);
        assert_int_equal(issue(oc, 0)->severity, CR_SEV_WARNING);
        assert_string_equal(issue(oc, 0)->code, "not-supported");
        assert_int_equal(s->clauses->nelts, 0);
        assert_string_equal(s->canonical_query, "");
    }

    bad(pool, "favourite-colour=blue", NULL, "not-supported", NULL);
    bad(pool, "address-city=Victoria", NULL, "not-supported", NULL);
    bad(pool, "Family=Smith", NULL, "not-supported", NULL);
    bad(pool, "fam:exact=Smith", NULL, "not-supported", NULL);

    /* Lenient: unknown parameters are warnings and skipped. */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_search_parse(&s, pool, "foo=1&family=Smith&bar=2", 1,
                                     &limits, oc), APR_SUCCESS);
    assert_int_equal(oc->issues->nelts, 2);
    assert_int_equal(cr_outcome_errors(oc), 0);
    assert_int_equal(issue(oc, 0)->severity, CR_SEV_WARNING);
    assert_non_null(strstr(issue(oc, 0)->text, "'foo'"));
    assert_non_null(strstr(issue(oc, 1)->text, "'bar'"));
    assert_int_equal(s->clauses->nelts, 1);
    assert_string_equal(s->canonical_query, "family=Smith");

    /* Lenient does not excuse bad values of known parameters. */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_search_parse(&s, pool, "gender=M", 1, &limits, oc),
                     APR_EINVAL);
    assert_int_equal(cr_outcome_errors(oc), 1);
    assert_string_equal(issue(oc, 0)->code, "code-invalid");

    /* Negotiation parameters are not search parameters. */
    s = ok(pool, "_format=json&family=Smith&_pretty=true");
    assert_int_equal(s->clauses->nelts, 1);
    assert_string_equal(s->canonical_query, "family=Smith");

    /* Strict: every problem is reported. */
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_search_parse(&s, pool, "foo=1&family:exact=x&"
                                     "gender=M&_count=x", 0, &limits, oc),
                     APR_EINVAL);
    assert_int_equal(cr_outcome_errors(oc), 4);
}

/* _count (clamped to max_count), _offset and _total. */
static void test_paging_params(void **state)
{
    static const struct {
        const char *q;
        int count;
    } counts[] = {
        { "_count=5", 5 }, { "_count=0", 0 }, { "_count=100", 100 },
        { "_count=101", 100 }, { "_count=1000000", 100 },
        { "_count=007", 7 }, { "family=x", 10 },
        { "_count=5&_count=7", 7 },
    };
    static const char *const bad_counts[] = {
        "_count=-1", "_count=abc", "_count=1.5", "_count=", "_count",
        "_count=1000001", "_count=0000000005", "_count=5x", "_count=0x5",
    };
    static const char *const bad_offsets[] = {
        "_offset=-1", "_offset=x", "_offset=", "_offset=100000001",
    };
    apr_pool_t *pool = *state;
    cr_search_spec_t *s;
    size_t i;

    for (i = 0; i < ARRAY_LEN(counts); i++) {
        s = ok(pool, counts[i].q);
        if (s->count != counts[i].count) {
            fail_msg("%s: count %d, expected %d", counts[i].q, s->count,
                     counts[i].count);
        }
        assert_string_equal(s->canonical_query,
                            strncmp(counts[i].q, "family", 6) == 0
                                ? "family=x" : "");
    }
    for (i = 0; i < ARRAY_LEN(bad_counts); i++) {
        bad(pool, bad_counts[i], NULL, "value", "_count");
    }

    s = ok(pool, "_offset=20&_count=5");
    assert_int_equal(s->offset, 20);
    assert_int_equal(s->count, 5);
    s = ok(pool, "_offset=100000000");
    assert_int_equal(s->offset, 100000000);
    for (i = 0; i < ARRAY_LEN(bad_offsets); i++) {
        bad(pool, bad_offsets[i], NULL, "value", "_offset");
    }

    assert_int_equal(ok(pool, "_total=none")->total_none, 1);
    assert_int_equal(ok(pool, "_total=accurate")->total_none, 0);
    assert_int_equal(ok(pool, "_total=estimate")->total_none, 0);
    bad(pool, "_total=all", NULL, "value", "_total");
    bad(pool, "_total=None", NULL, "value", "_total");
}

/* Bad %-escapes or invalid UTF-8 anywhere in the query are errors. */
static void test_bad_encoding(void **state)
{
    static const char *const v[] = {
        "family=%zz", "family=%4", "family=Sm%", "family=%", "family=%4g",
        "family=%C3", "family=%C0%AF", "family=%ED%A0%80",
        "family=%F4%90%80%80",
        "family=%FF", "family=%00", "family=a%00b", "fam%ily=x",
        "fam%C3=x", "family=\xc3", "family=\xc0\xaf", "%00=1",
    };
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        bad(pool, v[i], NULL, "invalid", NULL);
    }
    /* Valid encodings of the same letters. */
    assert_string_equal(value(clause(ok(pool, "family=%C3%A9mile"), 0), 0)
                            ->term, "emile");
    assert_string_equal(value(clause(ok(pool, "family=\xc3\xa9mile"), 0), 0)
                            ->term, "emile");
    assert_string_equal(value(clause(ok(pool, "name=de+la%20Cruz"), 0), 0)
                            ->term, "de la cruz");
    assert_string_equal(value(clause(ok(pool, "%66amily=x"), 0), 0)->raw,
                        "x");
}

/* Values that cannot be searched. */
static void test_bad_values(void **state)
{
    apr_pool_t *pool = *state;
    char *longv = apr_palloc(pool, 300);

    bad(pool, "family=", NULL, "value", "family");
    bad(pool, "family", NULL, "value", "family");
    bad(pool, "family=%27%27", NULL, "value", "family");
    bad(pool, "phone=abc", NULL, "value", "phone");
    bad(pool, "address-postalcode=-", NULL, "value", "address-postalcode");
    bad(pool, "gender=M", NULL, "code-invalid", "gender");
    bad(pool, "gender=Female", NULL, "code-invalid", "gender");
    bad(pool, "identifier=%7C", NULL, "value", "identifier");
    bad(pool, "_id=", NULL, "value", "_id");
    bad(pool, "family=Smith,", NULL, "value", "family");

    memset(longv, 'a', 257);
    longv[257] = '\0';
    bad(pool, apr_pstrcat(pool, "family=", longv, NULL), NULL, "too-long",
        "family");
    longv[256] = '\0';
    assert_int_equal(strlen(value(clause(ok(pool, apr_pstrcat(
                                                  pool, "family=", longv,
                                                  NULL)), 0), 0)->raw),
                     256);
}

/* max_params and max_values bound the work a query can ask for. */
static void test_bounds(void **state)
{
    apr_pool_t *pool = *state;
    cr_search_limits_t lim = limits;
    cr_search_spec_t *s = NULL;
    cr_outcome_t *oc;

    lim.max_params = 3;
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_search_parse(&s, pool, "gender=male&&gender=female"
                                     "&_count=1&", 0, &lim, oc),
                     APR_SUCCESS);
    assert_int_equal(oc->issues->nelts, 0);
    assert_int_equal(s->clauses->nelts, 2);
    bad(pool, "gender=male&gender=female&_count=1&_offset=1", &lim,
        "too-costly", NULL);
    /* Parameters that are ignored still count. */
    bad(pool, "_format=json&_format=json&_format=json&_format=json", &lim,
        "too-costly", NULL);

    lim = limits;
    lim.max_values = 2;
    oc = cr_outcome_make(pool);
    assert_int_equal(cr_search_parse(&s, pool, "gender=male,female", 0, &lim,
                                     oc), APR_SUCCESS);
    bad(pool, "gender=male,female,other", &lim, "too-costly", "gender");
}

/* Identifier forms: system|value, value, system|, |value. */
static void test_identifier_forms(void **state)
{
    static const struct {
        const char *q;
        const char *system, *term;    /* NULL: absent */
        int match;                    /* against the target below */
    } v[] = {
        { "sysA|1", "sysA", "1", 1 },
        { "sysA|2", "sysA", "2", 0 },
        { "sysB|2", "sysB", "2", 1 },
        { "1", NULL, "1", 1 },
        { "3", NULL, "3", 0 },
        { "sysB|", "sysB", NULL, 1 },
        { "sysC|", "sysC", NULL, 0 },
        { "sys|", "sys", NULL, 0 },
        /* "|value": no system; every stored identifier has one. */
        { "|2", "", "2", 0 },
        { "|3", "", "3", 0 },
        { "sysA|1|x", "sysA", "1|x", 0 },
        { "https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-"
          "healthcare-id|9253484802", "https://fhir.infoway-inforoute.ca/"
          "NamingSystem/ca-bc-patient-healthcare-id", "9253484802", 1 },
    };
    apr_pool_t *pool = *state;
    cr_search_target_t t;
    size_t i;

    memset(&t, 0, sizeof(t));
    t.identifiers = apr_array_make(pool, 3, sizeof(const char *));
    APR_ARRAY_PUSH(t.identifiers, const char *) = "sysA|1";
    APR_ARRAY_PUSH(t.identifiers, const char *) = "sysB|2";
    APR_ARRAY_PUSH(t.identifiers, const char *) =
        "https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-"
        "healthcare-id|9253484802";

    for (i = 0; i < ARRAY_LEN(v); i++) {
        cr_search_spec_t *s = ok(pool, apr_pstrcat(
                                           pool, "identifier=",
                                           cr_text_url_encode(pool, v[i].q),
                                           NULL));
        const cr_search_value_t *sv = value(clause(s, 0), 0);
        if ((v[i].system == NULL ? sv->system != NULL
             : sv->system == NULL || strcmp(sv->system, v[i].system) != 0)
            || (v[i].term == NULL ? sv->term != NULL
                : sv->term == NULL || strcmp(sv->term, v[i].term) != 0)) {
            fail_msg("%s: system %s term %s", v[i].q,
                     sv->system ? sv->system : "(null)",
                     sv->term ? sv->term : "(null)");
        }
        if (cr_search_matches(s, &t) != v[i].match) {
            fail_msg("%s: expected match %d", v[i].q, v[i].match);
        }
    }
    /* A raw '|' (not %-encoded) works the same. */
    assert_string_equal(value(clause(ok(pool, "identifier=sysA|1"), 0), 0)
                            ->system, "sysA");
    /* A target without identifiers matches nothing. */
    t.identifiers = NULL;
    assert_int_equal(cr_search_matches(ok(pool, "identifier=1"), &t), 0);
}

/* Token and string parameters against index keys. */
static void test_key_matching(void **state)
{
    static const char *const keys[] = {
        "family|de la cruz", "family|de", "family|la", "family|cruz",
        "name|de la cruz", "name|de", "name|la", "name|cruz",
        "given|maria", "name|maria", "phone|2505550123",
        "email|maria@example.com", "postal|V8W1A1",
    };
    static const struct {
        const char *q;
        int match;
    } v[] = {
        { "family=de%20la%20cruz", 1 }, { "family=De+La", 1 },
        { "family=Cruz", 1 }, { "family=cru", 1 }, { "family=Maria", 0 },
        { "family=dela", 0 }, { "given=mar", 1 }, { "given=cruz", 0 },
        { "name=maria", 1 }, { "name=cruz", 1 }, { "name=smith", 0 },
        { "phone=250-555-0123", 1 }, { "phone=1-250-555-0123", 1 },
        { "phone=250555", 0 }, { "email=MARIA@example.com", 1 },
        { "email=maria@example", 0 }, { "address-postalcode=v8w", 1 },
        { "address-postalcode=V8W%201A1", 1 },
        { "address-postalcode=V9", 0 }, { "_id=p1", 1 }, { "_id=p2", 0 },
        { "_id=p2,p1", 1 }, { "family=smith,cruz", 1 },
        { "family=cruz&given=maria", 1 }, { "family=cruz&given=ann", 0 },
    };
    apr_pool_t *pool = *state;
    cr_search_target_t t;
    size_t i;

    memset(&t, 0, sizeof(t));
    t.id = "p1";
    t.keys = apr_hash_make(pool);
    t.key_list = apr_array_make(pool, 16, sizeof(const char *));
    for (i = 0; i < ARRAY_LEN(keys); i++) {
        apr_hash_set(t.keys, keys[i], APR_HASH_KEY_STRING, keys[i]);
        APR_ARRAY_PUSH(t.key_list, const char *) = keys[i];
    }
    for (i = 0; i < ARRAY_LEN(v); i++) {
        if (cr_search_matches(ok(pool, v[i].q), &t) != v[i].match) {
            fail_msg("%s: expected %d", v[i].q, v[i].match);
        }
    }
    /* A target without keys matches no key clause. */
    t.keys = NULL;
    t.key_list = NULL;
    assert_int_equal(cr_search_matches(ok(pool, "family=cruz"), &t), 0);
    assert_int_equal(cr_search_matches(ok(pool, "phone=2505550123"), &t), 0);
}

/* The canonical query lists the applied parameters, re-encoded. */
static void test_canonical_query(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_search_spec_t *s = NULL;

    s = ok(pool, "family=O%27Brien&_count=5&given=Ann+Marie&_offset=2"
           "&birthdate=ge1980,le1990&_total=none&identifier=a%7Cb");
    assert_string_equal(s->canonical_query,
                        "family=O%27Brien&given=Ann%20Marie"
                        "&birthdate=ge1980%2Cle1990&identifier=a%7Cb");
    assert_string_equal(ok(pool, "")->canonical_query, "");
    assert_string_equal(ok(pool, "&&")->canonical_query, "");

    assert_int_equal(cr_search_parse(&s, pool, NULL, 0, &limits, oc),
                     APR_SUCCESS);
    assert_string_equal(s->canonical_query, "");
    assert_int_equal(s->count, 10);
    assert_int_equal(s->clauses->nelts, 0);
}

/* cr_text_url_decode / cr_text_url_encode. */
static void test_decode_encode(void **state)
{
    static const struct {
        const char *in, *out;
    } dec[] = {
        { "a+b", "a b" }, { "%41%62", "Ab" }, { "%4a%4A", "JJ" },
        { "%2B", "+" }, { "%25", "%" }, { "", "" },
        { "%C3%A9", "\xc3\xa9" }, { "\xe2\x82\xac", "\xe2\x82\xac" },
        { "%F0%9F%98%80", "\xf0\x9f\x98\x80" },
    };
    static const char *const dec_bad[] = {
        "%", "%4", "%G1", "%1G", "%00", "a%00", "%C3", "%C3%28", "%FF",
        "%C0%80", "%E0%80%80", "%ED%B0%80", "%F4%90%80%80", "\xc3",
        "\xe2\x82", "%F8%88%80%80%80",
    };
    static const struct {
        const char *in, *out;
    } enc[] = {
        { "abc-._~XYZ019", "abc-._~XYZ019" },
        { "a b", "a%20b" },
        { "a+b&c=d|e,f/g?h#i%j", "a%2Bb%26c%3Dd%7Ce%2Cf%2Fg%3Fh%23i%25j" },
        { "\xc3\xa9", "%C3%A9" },
        { "", "" },
    };
    apr_pool_t *pool = *state;
    const char *out;
    char all[128];
    size_t i;

    for (i = 0; i < ARRAY_LEN(dec); i++) {
        out = NULL;
        assert_int_equal(cr_text_url_decode(&out, pool, dec[i].in,
                                            strlen(dec[i].in)), APR_SUCCESS);
        assert_string_equal(out, dec[i].out);
    }
    for (i = 0; i < ARRAY_LEN(dec_bad); i++) {
        out = "unset";
        if (cr_text_url_decode(&out, pool, dec_bad[i], strlen(dec_bad[i]))
            != APR_EINVAL || out != NULL) {
            fail_msg("decode '%s' should fail", dec_bad[i]);
        }
    }
    /* Only len bytes are read. */
    assert_int_equal(cr_text_url_decode(&out, pool, "%41%42", 3), APR_SUCCESS);
    assert_string_equal(out, "A");
    assert_int_equal(cr_text_url_decode(&out, pool, "%41%42", 4), APR_EINVAL);

    for (i = 0; i < ARRAY_LEN(enc); i++) {
        assert_string_equal(cr_text_url_encode(pool, enc[i].in), enc[i].out);
    }

    /* Round trip: every ASCII byte except NUL, and some UTF-8. */
    for (i = 1; i < 128; i++) {
        all[i - 1] = (char)i;
    }
    all[127] = '\0';
    {
        const char *samples[] = {
            all, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "de la Cruz",
            "https://x/y|9253484802", "a\\,b",
        };
        for (i = 0; i < ARRAY_LEN(samples); i++) {
            const char *e = cr_text_url_encode(pool, samples[i]);
            assert_null(strpbrk(e, "+&=|, /"));
            assert_int_equal(cr_text_url_decode(&out, pool, e, strlen(e)),
                             APR_SUCCESS);
            assert_string_equal(out, samples[i]);
        }
    }
}

/* cr_text_utf8_ok. */
static void test_utf8_ok(void **state)
{
    static const struct {
        const char *s;
        apr_size_t len;
        int ok;
    } v[] = {
        { "abc", 3, 1 }, { "", 0, 1 }, { "\xc2\x80", 2, 1 },
        { "\xdf\xbf", 2, 1 }, { "\xe0\xa0\x80", 3, 1 },
        { "\xed\x9f\xbf", 3, 1 }, { "\xee\x80\x80", 3, 1 },
        { "\xef\xbf\xbf", 3, 1 }, { "\xf0\x90\x80\x80", 4, 1 },
        { "\xf4\x8f\xbf\xbf", 4, 1 },
        { "a\0b", 3, 0 }, { "\xc0\xaf", 2, 0 }, { "\xc1\xbf", 2, 0 },
        { "\xe0\x9f\xbf", 3, 0 }, { "\xed\xa0\x80", 3, 0 },
        { "\xf0\x8f\xbf\xbf", 4, 0 }, { "\xf4\x90\x80\x80", 4, 0 },
        { "\xf5\x80\x80\x80", 4, 0 }, { "\x80", 1, 0 }, { "\xc3", 1, 0 },
        { "\xc3\xa9", 1, 0 }, { "\xe2\x82\xac", 2, 0 }, { "\xff", 1, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(v); i++) {
        if (cr_text_utf8_ok(v[i].s, v[i].len) != v[i].ok) {
            fail_msg("vector %lu: expected %d", (unsigned long)i, v[i].ok);
        }
    }
}

/* cr_text_id_ok: the FHIR id datatype, [A-Za-z0-9\-\.]{1,64}. */
static void test_id_ok(void **state)
{
    char max[CR_TEXT_ID_MAX + 2];

    (void)state;
    assert_true(cr_text_id_ok("a"));
    assert_true(cr_text_id_ok("Patient-1.2"));
    assert_false(cr_text_id_ok(""));
    assert_false(cr_text_id_ok("a_b"));
    assert_false(cr_text_id_ok("a b"));
    assert_false(cr_text_id_ok("a/b"));
    assert_false(cr_text_id_ok("\xc3\xa9"));
    memset(max, 'x', CR_TEXT_ID_MAX);
    max[CR_TEXT_ID_MAX] = '\0';
    assert_true(cr_text_id_ok(max));
    max[CR_TEXT_ID_MAX] = 'x';
    max[CR_TEXT_ID_MAX + 1] = '\0';
    assert_false(cr_text_id_ok(max));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-REST-010: every parameter parses", test_every_parameter),
        CR_TEST("parameter list for the CapabilityStatement",
                test_param_info),
        CR_TEST("birthdate prefixes eq ne lt gt le ge sa eb ap",
                test_birthdate_prefixes),
        CR_TEST("birthdate matching on day ranges (partial dates)",
                test_date_matching),
        CR_TEST("birthdate index range per prefix", test_birth_driver_range),
        CR_TEST("comma-separated values are OR'ed", test_comma_or),
        CR_TEST("repeated parameters are AND'ed", test_repeated_and),
        CR_TEST("modifiers refused; unknown parameters error or warning",
                test_modifiers_unknown),
        CR_TEST("_count clamp, _offset, _total", test_paging_params),
        CR_TEST("CR-REST-012: bad %-escapes and invalid UTF-8 rejected",
                test_bad_encoding),
        CR_TEST("values with nothing searchable rejected", test_bad_values),
        CR_TEST("max_params and max_values bounds", test_bounds),
        CR_TEST("CR-REST-001: identifier forms", test_identifier_forms),
        CR_TEST("token and string parameters against index keys",
                test_key_matching),
        CR_TEST("canonical query", test_canonical_query),
        CR_TEST("decode/encode round trip", test_decode_encode),
        CR_TEST("UTF-8 check", test_utf8_ok),
        CR_TEST("FHIR id check", test_id_ok),
    };

    return cmocka_run_group_tests_name("cr_search", tests, group_setup,
                                       group_teardown);
}
