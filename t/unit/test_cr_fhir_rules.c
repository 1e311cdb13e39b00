/*
 * test_cr_fhir_rules.c: unit tests for cr_fhir_rules, the business rules
 * on a request Patient (FindCandidates criteria and wildcards, the
 * GetDemographics key, and the Add/Revise rules: minimum data set, name
 * and SRI characters, addresses, death needs a PHN, the SRI, PHN-bound
 * sources).  No database and no request context: the rules read the
 * model or the JSON only.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "fhir/cr_fhir_rules.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }

#define PHN_OK "9253484802"
#define PHN_BAD "9253484803"
#define SRI_SYS "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt" \
                "-source-patient-id"
#define LEGACY_BC "http://hlth.gov.bc.ca/fhir/client/id-issuer/BC"

static json_object *json(apr_pool_t *pool, const char *text)
{
    json_object *obj = NULL;
    cr_json_error_t err;

    if (cr_json_parse(&obj, pool, text, strlen(text), NULL, &err)
        != APR_SUCCESS) {
        fail_msg("fixture is not JSON: %s at %d:%d", err.message, err.line,
                 err.column);
    }
    return obj;
}

static const cr_issue_t *issue(const cr_outcome_t *oc, int i)
{
    return &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
}

/* An empty model, filled by the tests. */
static cr_patient_t *patient(apr_pool_t *pool)
{
    cr_patient_t *p = apr_pcalloc(pool, sizeof(*p));

    p->json = json(pool, "{\"resourceType\":\"Patient\"}");
    p->active = -1;
    p->identifiers = apr_array_make(pool, 2, sizeof(cr_identifier_t));
    p->names = apr_array_make(pool, 2, sizeof(cr_name_t));
    p->telecoms = apr_array_make(pool, 2, sizeof(cr_telecom_t));
    p->addresses = apr_array_make(pool, 2, sizeof(cr_address_t));
    return p;
}

static cr_name_t *add_name(apr_pool_t *pool, cr_patient_t *p,
                           const char *use, const char *family,
                           const char *given)
{
    cr_name_t *n = apr_array_push(p->names);

    memset(n, 0, sizeof(*n));
    n->use = use;
    n->family = family;
    if (given) {
        n->given = apr_array_make(pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(n->given, const char *) = given;
    }
    return n;
}

static cr_identifier_t *add_id(cr_patient_t *p, cr_id_kind_e kind,
                               const char *system, const char *value,
                               const char *use)
{
    cr_identifier_t *id = apr_array_push(p->identifiers);

    memset(id, 0, sizeof(*id));
    id->kind = kind;
    id->system = system;
    id->value = value;
    id->use = use;
    return id;
}

static cr_address_t *add_address(apr_pool_t *pool, cr_patient_t *p,
                                 const char *line, const char *city)
{
    cr_address_t *a = apr_array_push(p->addresses);

    memset(a, 0, sizeof(*a));
    a->use = "home";
    if (line) {
        a->line = apr_array_make(pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(a->line, const char *) = line;
    }
    a->city = city;
    return a;
}

/* CR-FC-018: every search value with a wildcard, and only those. */
static void test_fc_wildcards(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    json_object *p = json(pool,
        "{\"resourceType\":\"Patient\","
        "\"meta\":{\"source\":\"a*b\"},"
        "\"text\":{\"div\":\"100%\"},"
        "\"name\":[{\"use\":\"us*\",\"family\":\"Sm*th\","
        "\"given\":[\"Jo\",\"An?\"]}],"
        "\"telecom\":[{\"system\":\"phone\",\"value\":\"250%\"}],"
        "\"identifier\":[{\"system\":\"http://x/*\",\"value\":\"1\"}],"
        "\"birthDate\":\"1990-01-01\"}");

    assert_int_equal(cr_fhir_rules_fc_wildcards(oc, CR_BC_TXN_FC, p,
                                                "Patient"), 3);
    assert_int_equal(oc->issues->nelts, 3);
    assert_string_equal(issue(oc, 0)->expression, "Patient.name[0].family");
    assert_string_equal(issue(oc, 0)->detail, "BCHCIM.FC.2.0123");
    assert_string_equal(issue(oc, 1)->expression,
                        "Patient.name[0].given[1]");
    assert_string_equal(issue(oc, 2)->expression,
                        "Patient.telecom[0].value");

    oc = cr_outcome_make(pool);
    p = json(pool, "{\"resourceType\":\"Patient\","
                   "\"name\":[{\"family\":\"Smith\"}]}");
    assert_int_equal(cr_fhir_rules_fc_wildcards(oc, CR_BC_TXN_FC, p,
                                                "Patient"), 0);
    assert_int_equal(oc->issues->nelts, 0);
}

/* CR-FC-011 to CR-FC-013: the name and a second criterion. */
static void test_fc_criteria(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = patient(pool);
    cr_telecom_t *t;

    /* Nothing: both problems. */
    assert_false(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));
    assert_int_equal(oc->issues->nelts, 2);
    assert_string_equal(issue(oc, 0)->detail, "BCHCIM.FC.2.0121");
    assert_string_equal(issue(oc, 0)->expression, "Patient.name");
    assert_string_equal(issue(oc, 1)->detail, "BCHCIM.FC.2.0122");
    assert_string_equal(issue(oc, 1)->expression, "Patient");

    /* A family name without a given name is not enough. */
    oc = cr_outcome_make(pool);
    add_name(pool, p, NULL, "Smith", NULL);
    p->birth_date = "1990-01-01";
    assert_false(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->detail, "BCHCIM.FC.2.0121");

    /* Name and birth date. */
    oc = cr_outcome_make(pool);
    add_name(pool, p, NULL, "Smith", "Jo");
    assert_true(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));
    assert_int_equal(oc->issues->nelts, 0);

    /* Name and a phone (an e-mail does not count). */
    oc = cr_outcome_make(pool);
    p->birth_date = NULL;
    t = apr_array_push(p->telecoms);
    memset(t, 0, sizeof(*t));
    t->system = "email";
    t->value = "a@b.c";
    assert_false(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));
    t->system = "phone";
    oc = cr_outcome_make(pool);
    assert_true(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));

    /* Name and a postal code. */
    oc = cr_outcome_make(pool);
    apr_array_clear(p->telecoms);
    add_address(pool, p, NULL, NULL)->postal_code = "V8W1A1";
    assert_true(cr_fhir_rules_fc_criteria(oc, CR_BC_TXN_FC, p, "Patient"));
}

/* CR-GD-009, CR-GD-010: a look-up key's system and PHN. */
static void test_gd_key(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    const char *sys = "http://example.org/unknown";

    assert_false(cr_fhir_rules_gd_key(oc, CR_BC_TXN_GD, &sys, "1",
                                      "Patient.identifier[0]"));
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->detail, "BCHCIM.GD.2.0133");
    assert_string_equal(issue(oc, 0)->expression,
                        "Patient.identifier[0].system");

    oc = cr_outcome_make(pool);
    sys = CR_SYS_PHN;
    assert_false(cr_fhir_rules_gd_key(oc, CR_BC_TXN_GD, &sys, PHN_BAD,
                                      NULL));
    assert_string_equal(issue(oc, 0)->detail, "BCHCIM.GD.2.0134");
    assert_null(issue(oc, 0)->expression);

    /* The legacy id-issuer/BC system is the PHN system. */
    oc = cr_outcome_make(pool);
    sys = LEGACY_BC;
    assert_true(cr_fhir_rules_gd_key(oc, CR_BC_TXN_GD, &sys, PHN_OK,
                                     "identifier"));
    assert_string_equal(sys, CR_SYS_PHN);
    assert_int_equal(oc->issues->nelts, 0);

    /* A known non-PHN system passes as is. */
    sys = SRI_SYS;
    assert_true(cr_fhir_rules_gd_key(oc, CR_BC_TXN_GD, &sys, "x1", NULL));
    assert_string_equal(sys, SRI_SYS);
}

/* Rule 1: SRI characters; the SRI systems. */
static void test_sri_chars(void **state)
{
    (void)state;
    assert_true(cr_fhir_rules_sri_chars_ok("AB-12.x_y:z/9"));
    assert_true(cr_fhir_rules_sri_chars_ok(""));
    assert_false(cr_fhir_rules_sri_chars_ok("a b"));
    assert_false(cr_fhir_rules_sri_chars_ok("a#b"));
    assert_false(cr_fhir_rules_sri_chars_ok("caf\xc3\xa9"));
    assert_true(cr_fhir_rules_is_sri_system(SRI_SYS));
    assert_true(cr_fhir_rules_is_sri_system(LEGACY_BC));
    assert_false(cr_fhir_rules_is_sri_system(CR_SYS_PHN));
}

/* Rule 2: name characters, family and every given name. */
static void test_names(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = patient(pool);
    cr_name_t *n;

    assert_true(cr_fhir_rules_names_ok(p));
    add_name(pool, p, "official", "O'Brien", "Anne-Marie");
    assert_true(cr_fhir_rules_names_ok(p));
    n = add_name(pool, p, "usual", "Smith", "Jo");
    APR_ARRAY_PUSH(n->given, const char *) = "J0";
    assert_false(cr_fhir_rules_names_ok(p));
    APR_ARRAY_IDX(n->given, 1, const char *) = "Jay";
    n->family = "Sm1th";
    assert_false(cr_fhir_rules_names_ok(p));
}

/* operations.md 3: addresses and the minimum data set. */
static void test_minimum(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = patient(pool);
    cr_address_t *a;

    a = add_address(pool, p, "1 Main St", "Victoria");
    assert_true(cr_fhir_rules_address_ok(a));
    a->country = "CA";
    assert_false(cr_fhir_rules_address_ok(a));    /* needs a province */
    a->state = "BC";
    assert_true(cr_fhir_rules_address_ok(a));
    a->use = NULL;
    assert_false(cr_fhir_rules_address_ok(a));    /* type or use */
    a->type = "physical";
    assert_true(cr_fhir_rules_address_ok(a));
    a->city = NULL;
    assert_false(cr_fhir_rules_address_ok(a));

    /* Name with use, birth date, gender, and a PHN or an address. */
    apr_array_clear(p->addresses);
    add_name(pool, p, NULL, "Smith", "Jo");
    p->birth_date = "1990-01-01";
    p->gender = "female";
    assert_false(cr_fhir_rules_minimum_ok(p, 1));     /* name.use */
    add_name(pool, p, "official", "Smith", "Jo");
    assert_true(cr_fhir_rules_minimum_ok(p, 1));
    assert_false(cr_fhir_rules_minimum_ok(p, 0));
    a = add_address(pool, p, "1 Main St", "Victoria");
    assert_true(cr_fhir_rules_minimum_ok(p, 0));
    a->line = NULL;
    assert_false(cr_fhir_rules_minimum_ok(p, 0));
    p->gender = NULL;
    assert_false(cr_fhir_rules_minimum_ok(p, 1));
}

/* Rule 6: a death needs a BC PHN or another jurisdiction's number. */
static void test_death(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = patient(pool);

    assert_true(cr_fhir_rules_death_ok(p));
    p->deceased = "2020-01-01";
    assert_false(cr_fhir_rules_death_ok(p));
    add_id(p, CR_IDK_SRI, SRI_SYS, "x1", NULL);
    assert_false(cr_fhir_rules_death_ok(p));
    add_id(p, CR_IDK_INFOWAY, "https://fhir.infoway-inforoute.ca/"
           "NamingSystem/ca-nb-patient-healthcare-id", "123", NULL);
    assert_true(cr_fhir_rules_death_ok(p));

    p = patient(pool);
    p->json = json(pool, "{\"resourceType\":\"Patient\","
                         "\"deceasedBoolean\":true}");
    assert_false(cr_fhir_rules_death_ok(p));
    add_id(p, CR_IDK_PHN, CR_SYS_PHN, NULL, NULL);     /* no value */
    assert_false(cr_fhir_rules_death_ok(p));
    add_id(p, CR_IDK_PHN, CR_SYS_PHN, PHN_OK, NULL);
    assert_true(cr_fhir_rules_death_ok(p));
}

/* The SRI of a request, and the PHN-bound sources. */
static void test_sri_and_sources(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = patient(pool);
    cr_identifier_t *ended;

    assert_null(cr_fhir_rules_find_sri(p));
    add_id(p, CR_IDK_PHN, CR_SYS_PHN, PHN_OK, NULL);
    assert_null(cr_fhir_rules_find_sri(p));
    add_id(p, CR_IDK_SRI, SRI_SYS, "second", "secondary");
    assert_string_equal(cr_fhir_rules_find_sri(p)->value, "second");
    ended = add_id(p, CR_IDK_SRI, SRI_SYS, "old", "official");
    ended->period.end = "2020-01-01";
    assert_string_equal(cr_fhir_rules_find_sri(p)->value, "second");
    add_id(p, CR_IDK_LEGACY, LEGACY_BC "X", "main", NULL);
    assert_string_equal(cr_fhir_rules_find_sri(p)->value, "main");

    assert_true(cr_fhir_rules_phn_bound("HIBC"));
    assert_true(cr_fhir_rules_phn_bound("MSP"));
    assert_true(cr_fhir_rules_phn_bound("MOH_CRS"));
    assert_true(cr_fhir_rules_phn_bound("MOH"));
    assert_false(cr_fhir_rules_phn_bound("FHA"));
    assert_false(cr_fhir_rules_phn_bound("hibc"));
    assert_false(cr_fhir_rules_phn_bound(NULL));
}

/* D-14: the newborn's mother is the RelatedPerson coded NMTH in the
 * v3-RoleCode system; another code or system is not her. */
static void test_is_mother(void **state)
{
    apr_pool_t *pool = *state;
    const char *mother = "{\"resourceType\":\"RelatedPerson\","
        "\"relationship\":[{\"coding\":[{\"system\":\"http://"
        "terminology.hl7.org/CodeSystem/v3-RoleCode\",\"code\":\"MTH\"},"
        "{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-RoleCode\","
        "\"code\":\"NMTH\"}]}]}";
    const char *other_system = "{\"relationship\":[{\"coding\":[{"
        "\"system\":\"http://example.org/roles\",\"code\":\"NMTH\"}]}]}";
    const char *father = "{\"relationship\":[{\"coding\":[{\"system\":"
        "\"http://terminology.hl7.org/CodeSystem/v3-RoleCode\","
        "\"code\":\"NFTH\"}]}]}";

    assert_true(cr_fhir_rules_is_mother(json(pool, mother)));
    assert_false(cr_fhir_rules_is_mother(json(pool, other_system)));
    assert_false(cr_fhir_rules_is_mother(json(pool, father)));
    assert_false(cr_fhir_rules_is_mother(json(pool, "{}")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-FC-018: wildcards in search values", test_fc_wildcards),
        CR_TEST("CR-FC-011..013: search criteria", test_fc_criteria),
        CR_TEST("CR-GD-009/010: look-up key", test_gd_key),
        CR_TEST("rule 1: SRI characters and systems", test_sri_chars),
        CR_TEST("rule 2: name characters", test_names),
        CR_TEST("operations.md 3: address and minimum data set",
                test_minimum),
        CR_TEST("rule 6: a death needs a PHN", test_death),
        CR_TEST("the SRI and PHN-bound sources", test_sri_and_sources),
        CR_TEST("D-14: the newborn's mother (NMTH)", test_is_mother),
    };

    return cmocka_run_group_tests_name("cr_fhir_rules", tests, group_setup,
                                       group_teardown);
}
