/*
 * test_cr_match_evidence.c: unit tests for cr_match_evidence, the
 * field-by-field explanation of a match score that $potential-duplicates
 * and $match show with evidence (docs/console.md).  The evidence must add
 * up to exactly what matching computes, name every field with its level
 * and weight, leave fields missing on a side out of the score, and show
 * the values compared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "match/cr_match.h"
#include "match/cr_match_evidence.h"

static int setup(void **state)
{
    apr_pool_t *pool;

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    *state = pool;
    return 0;
}

static int teardown(void **state)
{
    apr_pool_destroy(*state);
    return 0;
}

static cr_match_thresholds_t defaults(void)
{
    cr_match_thresholds_t t = { CR_MATCH_DEFAULT_CERTAIN,
                                CR_MATCH_DEFAULT_PROBABLE,
                                CR_MATCH_DEFAULT_POSSIBLE };
    return t;
}

static void record(cr_match_record_t *r, apr_pool_t *pool, const char *text)
{
    assert_int_equal(cr_match_record_parse(r, pool, text), APR_SUCCESS);
}

static const cr_match_evidence_field_t *field(const cr_match_evidence_t *ev,
                                              const char *name)
{
    int f = cr_match_field_from_name(name);

    assert_true(f >= 0);
    assert_string_equal(ev->field[f].field, name);
    return &ev->field[f];
}

/* Two copies of one person with a typo in the given name and another
 * phone: every field named, its level and weight as the engine's. */
static void test_evidence_levels_and_weights(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_params_t p;
    cr_match_thresholds_t t = defaults();
    cr_match_evidence_t ev;
    cr_match_vector_t v;
    double sum = 0.0;
    int f;

    cr_match_params_default(&p);
    record(&a, pool, "1|f|19800417|thistlewood,cordelia|2505551234|"
                     "V9A1B2,12,oak street,victoria");
    record(&b, pool, "1|f|19800417|thistlewood,cordilia|2505559999|"
                     "V9A1B2,12,oak street,victoria");
    cr_match_evidence(&ev, pool, &p, &t, &a, &b);

    cr_match_compare(&v, &a, &b);
    assert_memory_equal(&ev.vector, &v, sizeof(v));
    assert_string_equal(field(&ev, "given")->level, "similar");
    assert_string_equal(field(&ev, "family")->level, "exact");
    assert_string_equal(field(&ev, "birth")->level, "exact");
    assert_string_equal(field(&ev, "sex")->level, "agree");
    assert_string_equal(field(&ev, "phone")->level, "disagree");
    assert_string_equal(field(&ev, "postal")->level, "exact");
    assert_string_equal(field(&ev, "address")->level, "exact");
    for (f = 0; f < CR_MF_COUNT; f++) {
        assert_non_null(ev.field[f].level);
        assert_true(ev.field[f].weight == p.w[f][v.level[f]]);
        sum += ev.field[f].weight;
    }
    /* A disagreement counts against, an agreement for. */
    assert_true(field(&ev, "phone")->weight < 0.0);
    assert_true(field(&ev, "family")->weight > 0.0);
    assert_true(fabs(sum - ev.weight) < 1e-9);
    assert_true(ev.weight == cr_match_weight(&p, &v));
    assert_true(ev.score == cr_match_score(&p, ev.weight));
    assert_int_equal(ev.grade, cr_match_grade(&t, ev.score, &v));
}

/* A field missing on one side is named without a level and adds 0. */
static void test_evidence_missing_field(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_params_t p;
    cr_match_thresholds_t t = defaults();
    cr_match_evidence_t ev;

    cr_match_params_default(&p);
    record(&a, pool, "1|m|19750102|okafor,chidi|6045550101|");
    record(&b, pool, "1||19750102|okafor,chidi||");
    cr_match_evidence(&ev, pool, &p, &t, &a, &b);
    assert_null(field(&ev, "sex")->level);
    assert_true(field(&ev, "sex")->weight == 0.0);
    assert_null(field(&ev, "phone")->level);
    assert_null(field(&ev, "address")->level);
    assert_string_equal(field(&ev, "phone")->value_a, "6045550101");
    assert_string_equal(field(&ev, "phone")->value_b, "");
    assert_true(fabs(ev.weight - (field(&ev, "given")->weight
                                  + field(&ev, "family")->weight
                                  + field(&ev, "birth")->weight)) < 1e-9);
}

/* The values compared, as shown: names of every name joined, the birth
 * date with dashes (partial dates too), the sex spelled out, an address
 * as house street, city. */
static void test_evidence_values(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_params_t p;
    cr_match_thresholds_t t = defaults();
    cr_match_evidence_t ev;

    cr_match_params_default(&p);
    record(&a, pool, "1|o|1980|smith,mary ann;jones,mary|2505551234;"
                     "2505550000|V8V1A1,221,baker street,victoria");
    record(&b, pool, "1|f|198004|smith,mary|2505551234|V8V1A1,,,");
    cr_match_evidence(&ev, pool, &p, &t, &a, &b);
    assert_string_equal(field(&ev, "given")->value_a, "mary ann; mary");
    assert_string_equal(field(&ev, "family")->value_a, "smith; jones");
    assert_string_equal(field(&ev, "birth")->value_a, "1980");
    assert_string_equal(field(&ev, "birth")->value_b, "1980-04");
    assert_string_equal(field(&ev, "sex")->value_a, "other");
    assert_string_equal(field(&ev, "sex")->value_b, "female");
    assert_string_equal(field(&ev, "sex")->level, "disagree");
    assert_string_equal(field(&ev, "phone")->value_a,
                        "2505551234; 2505550000");
    assert_string_equal(field(&ev, "phone")->level, "exact");
    assert_string_equal(field(&ev, "address")->value_a,
                        "221 baker street, victoria");
    assert_string_equal(field(&ev, "postal")->value_b, "V8V1A1");
}

/* The grade of the evidence keeps matching's safety rule: identical but
 * for the family name, a pair is at most probable. */
static void test_evidence_grade_safety(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_params_t p;
    cr_match_thresholds_t t = defaults();
    cr_match_evidence_t ev;

    cr_match_params_default(&p);
    record(&a, pool, "1|f|19800417|thistlewood,cordelia|2505551234|"
                     "V9A1B2,12,oak street,victoria");
    record(&b, pool, "1|f|19800417|quarrington,cordelia|2505551234|"
                     "V9A1B2,12,oak street,victoria");
    cr_match_evidence(&ev, pool, &p, &t, &a, &b);
    assert_string_equal(field(&ev, "family")->level, "disagree");
    assert_true(ev.grade >= CR_MATCH_PROBABLE);
    assert_int_equal(ev.grade, cr_match_grade(&t, ev.score, &ev.vector));
}

/* An empty record (what a failed parse leaves) agrees with nothing and
 * shows nothing. */
static void test_evidence_empty(void **state)
{
    apr_pool_t *pool = *state;
    cr_match_record_t a, b;
    cr_match_params_t p;
    cr_match_thresholds_t t = defaults();
    cr_match_evidence_t ev;
    int f;

    cr_match_params_default(&p);
    assert_int_equal(cr_match_record_parse(&a, pool, "garbage"), APR_EINVAL);
    record(&b, pool, "1|f|19800417|smith,mary||");
    cr_match_evidence(&ev, pool, &p, &t, &a, &b);
    for (f = 0; f < CR_MF_COUNT; f++) {
        assert_null(ev.field[f].level);
        assert_string_equal(ev.field[f].value_a, "");
    }
    assert_true(ev.weight == 0.0);
    assert_int_equal(ev.grade, cr_match_grade(&t, ev.score, &ev.vector));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_evidence_levels_and_weights,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_missing_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_evidence_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_evidence_grade_safety, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_evidence_empty, setup,
                                        teardown),
    };

    apr_initialize();
    {
        int rc = cmocka_run_group_tests(tests, NULL, NULL);
        apr_terminate();
        return rc;
    }
}
