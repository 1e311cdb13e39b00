/*
 * test_cr_fhir_patient.c: unit tests for cr_fhir_patient (validation of
 * the bc-patient profile, the patient model built from it, the PHN that
 * the registry adds and the id/meta it sets).
 *
 * Two IG example Patients (cr_test_ig.h) must parse without any issue and
 * map to the model exactly.  Each rejection in the table is a small
 * Patient with one fault; the test checks the return value, the number of
 * errors, the FHIR issue code and the FHIRPath expression.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cr_test_pool.h"

#include <apr_general.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"

#include "cr_test_ig.h"

#define CR_TEST(name, fn) \
    { name, fn, setup_pool, teardown_pool, NULL }


/* "Today" for the tests: fixed, so future-date checks are repeatable. */
#define TODAY "2026-01-15"

#define SRI(src) "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-" src \
                 "-source-patient-id"
#define INFOWAY(s) "https://fhir.infoway-inforoute.ca/NamingSystem/" s
#define LEGACY(s) "http://hlth.gov.bc.ca/fhir/client/id-issuer/" s


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

/* Parse text as a Patient that must be valid. */
static cr_patient_t *valid(apr_pool_t *pool, const char *text)
{
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);
    apr_status_t rv = cr_fhir_patient_parse(&p, pool, json(pool, text),
                                            "Patient", TODAY, NULL, oc);

    if (rv != APR_SUCCESS || oc->issues->nelts != 0) {
        dump_issues(oc);
        fail_msg("valid Patient rejected: rv=%d, %d issue(s)", rv,
                 oc->issues->nelts);
    }
    assert_non_null(p);
    return p;
}

static const cr_identifier_t *ident(const cr_patient_t *p, int i)
{
    return &APR_ARRAY_IDX(p->identifiers, i, cr_identifier_t);
}

static const cr_name_t *name_at(const cr_patient_t *p, int i)
{
    return &APR_ARRAY_IDX(p->names, i, cr_name_t);
}

static const char *str_at(const apr_array_header_t *a, int i)
{
    return APR_ARRAY_IDX(a, i, const char *);
}

/* CR-REV-001: the Revise-withMaxData Patient is valid and maps fully. */
static void test_ig_revise_max(void **state)
{
    static const struct {
        const char *source;
        const char *use;
        const char *value;
    } sris[] = {
        { "vpp-cer", "official", "2B6F8GN410H1T27NPE" },
        { "vpp-vgh", "secondary", "Y4DCP5VK29F31R80O8K2O08D5WAU2K950U40D8" },
        { "vpp-phc", "secondary", "0EZFV8L7L7E1W9UF9AB3Z" },
        { "vpp-fph", "secondary", "2281UM0D8528TIVRW5FF4ESNK53N9KO" },
        { "vpp-cw", "secondary", "JDU70IH8L8575631A39QQMA0DQ7N3DS4" },
        { "vpp-lion", "secondary", "154G21E7EK1BT06K72JIM5LE8M0VK09F20A4" },
        { "vpp-pr", "secondary", "R8ZNY8I1JI98M15K634C6LOU15375PA" },
        { "vpp-bcca", "secondary", "6M4S730KM98FJ954A2Z981NQLVWTWZ" },
    };
    static const struct {
        const char *system, *value, *use;
    } telecoms[] = {
        { "phone", "8195411094", "mobile" },
        { "phone", "9847273917", "home" },
        { "phone", "4328811019", "work" },
        { "email", "Bly.Beaule@cgi.com", "mobile" },
        { "email", "Elisabeth.Mrotz@cgi.com", "home" },
        { "email", "Whitney.Holway@cgi.com", "work" },
    };
    apr_pool_t *pool = *state;
    cr_patient_t *p = valid(pool, cr_test_ig_revise_max_patient);
    const cr_identifier_t *id;
    const cr_address_t *a;
    size_t i;

    assert_string_equal(p->id, "Revise-withMaxData-Request-Patient");
    assert_string_equal(p->gender, "female");
    assert_string_equal(p->birth_date, "1956-12-17");
    assert_string_equal(p->deceased, "2008-10-26");
    assert_int_equal(p->active, -1);
    assert_non_null(p->json);

    /* CR-ID-002, CR-REV-017: SRI and SSRIs with their source ids. */
    assert_int_equal(p->identifiers->nelts, 9);
    for (i = 0; i < ARRAY_LEN(sris); i++) {
        id = ident(p, (int)i);
        assert_int_equal(id->kind, CR_IDK_SRI);
        assert_string_equal(id->source, sris[i].source);
        assert_string_equal(id->use, sris[i].use);
        assert_string_equal(id->value, sris[i].value);
        assert_string_equal(id->type_code, "AN");
        assert_string_equal(id->system,
                            apr_pstrcat(pool, "https://health.gov.bc.ca/fhir/"
                                        "NamingSystem/ca-bc-", sris[i].source,
                                        "-source-patient-id", NULL));
        assert_null(id->period.start);
        assert_null(id->period.end);
        assert_non_null(id->json);
    }
    id = ident(p, 8);
    assert_int_equal(id->kind, CR_IDK_INFOWAY);
    assert_string_equal(id->system, INFOWAY("ca-nb-patient-healthcare-id"));
    assert_string_equal(id->value, "54X3KSPOCH235SDF42WQK6");
    assert_string_equal(id->type_code, "JHN");
    assert_null(id->source);
    assert_null(cr_model_find_identifier(p, CR_IDK_PHN));
    assert_ptr_equal(cr_model_find_identifier(p, CR_IDK_SRI),
                     ident(p, 0));

    assert_int_equal(p->names->nelts, 3);
    assert_string_equal(name_at(p, 0)->use, "usual");
    assert_string_equal(name_at(p, 0)->family, "Banek");
    assert_int_equal(name_at(p, 0)->given->nelts, 3);
    assert_string_equal(str_at(name_at(p, 0)->given, 0), "Geraldine");
    assert_string_equal(str_at(name_at(p, 0)->given, 1), "Celestine");
    assert_string_equal(str_at(name_at(p, 0)->given, 2), "Iye");
    assert_int_equal(name_at(p, 0)->masked, 0);
    assert_string_equal(name_at(p, 1)->use, "official");
    assert_string_equal(name_at(p, 1)->family, "Coad");
    assert_int_equal(name_at(p, 1)->given->nelts, 3);
    assert_string_equal(str_at(name_at(p, 1)->given, 0), "Jervis");
    assert_string_equal(str_at(name_at(p, 1)->given, 2), "Jules");
    assert_string_equal(name_at(p, 2)->use, "nickname");
    assert_null(name_at(p, 2)->family);
    assert_int_equal(name_at(p, 2)->given->nelts, 1);
    assert_string_equal(str_at(name_at(p, 2)->given, 0), "Theodore");

    assert_int_equal(p->telecoms->nelts, (int)ARRAY_LEN(telecoms));
    for (i = 0; i < ARRAY_LEN(telecoms); i++) {
        const cr_telecom_t *t = &APR_ARRAY_IDX(p->telecoms, (int)i,
                                               cr_telecom_t);
        assert_string_equal(t->system, telecoms[i].system);
        assert_string_equal(t->value, telecoms[i].value);
        assert_string_equal(t->use, telecoms[i].use);
        assert_int_equal(t->masked, 0);
    }

    assert_int_equal(p->addresses->nelts, 2);
    a = &APR_ARRAY_IDX(p->addresses, 0, cr_address_t);
    assert_string_equal(a->type, "physical");
    assert_null(a->use);
    assert_int_equal(a->line->nelts, 1);
    assert_string_equal(str_at(a->line, 0), "48610 Hilltop street");
    assert_string_equal(a->city, "Waukesha");
    assert_string_equal(a->state, "BC");
    assert_string_equal(a->country, "CA");
    assert_null(a->postal_code);
    a = &APR_ARRAY_IDX(p->addresses, 1, cr_address_t);
    assert_string_equal(a->type, "postal");
    assert_string_equal(str_at(a->line, 0), "8547 Green hill road");
    assert_string_equal(a->city, "Ansonville");
}

/* CR-ADD-001, CR-ID-001: the AddPatient Patient (MSP, VAC, PHN). */
static void test_ig_add(void **state)
{
    cr_patient_t *p = valid(*state, cr_test_ig_add_patient);
    const cr_identifier_t *phn;

    assert_string_equal(p->id, "AddPatient-Request-Patient");
    assert_int_equal(p->identifiers->nelts, 3);
    assert_int_equal(ident(p, 0)->kind, CR_IDK_MSP);
    assert_string_equal(ident(p, 0)->value, "9455882493");
    assert_int_equal(ident(p, 1)->kind, CR_IDK_INFOWAY);
    assert_string_equal(ident(p, 1)->system,
                        INFOWAY("ca-veterans-affairs-health-id"));
    assert_int_equal(ident(p, 2)->kind, CR_IDK_PHN);
    assert_null(ident(p, 2)->type_code);
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    assert_ptr_equal(phn, ident(p, 2));
    assert_string_equal(phn->value, "9253484802");
    assert_string_equal(phn->use, "official");
    assert_ptr_equal(cr_model_find_identifier(p, CR_IDK_MSP),
                     ident(p, 0));
    assert_null(cr_model_find_identifier(p, CR_IDK_SRI));
    assert_string_equal(p->birth_date, "1971-01-09");
    assert_string_equal(p->deceased, "1974-05-08");
    assert_string_equal(name_at(p, 0)->family, "Gillette");
    assert_string_equal(str_at(name_at(p, 2)->given, 0), "Jadvyga");
}

typedef struct {
    const char *what;       /* checklist id and fault */
    const char *patient;    /* JSON text */
    const char *code;       /* FHIR issue code of the (first) error */
    const char *expression;
} reject_vector_t;

#define PT "{\"resourceType\":\"Patient\","
#define PHN_ID(v) "{\"system\":\"" INFOWAY("ca-bc-patient-healthcare-id") \
                  "\",\"value\":\"" v "\"}"

static const reject_vector_t rejects[] = {
    { "CR-PAT-002: name.use maiden",
      PT "\"name\":[{\"use\":\"maiden\",\"family\":\"Smith\"}]}",
      "code-invalid", "Patient.name[0].use" },
    { "CR-PAT-002: name.use old (second name)",
      PT "\"name\":[{\"family\":\"A\"},{\"use\":\"old\",\"family\":\"B\"}]}",
      "code-invalid", "Patient.name[1].use" },
    { "CR-PAT-003: telecom.system fax",
      PT "\"telecom\":[{\"system\":\"fax\",\"value\":\"2501234567\"}]}",
      "code-invalid", "Patient.telecom[0].system" },
    { "CR-PAT-003: telecom.system sms",
      PT "\"telecom\":[{\"system\":\"sms\",\"value\":\"2501234567\"}]}",
      "code-invalid", "Patient.telecom[0].system" },
    { "CR-PAT-003: telecom.use temp",
      PT "\"telecom\":[{\"system\":\"phone\",\"value\":\"2501234567\","
      "\"use\":\"temp\"}]}",
      "code-invalid", "Patient.telecom[0].use" },
    { "CR-PAT-004: address.type both",
      PT "\"address\":[{\"type\":\"both\",\"city\":\"Victoria\"}]}",
      "code-invalid", "Patient.address[0].type" },
    { "address.use unknown",
      PT "\"address\":[{\"use\":\"vacation\",\"city\":\"Victoria\"}]}",
      "code-invalid", "Patient.address[0].use" },
    { "CR-PAT-007: gender M",
      PT "\"gender\":\"M\"}", "code-invalid", "Patient.gender" },
    { "CR-PAT-007: gender undifferentiated",
      PT "\"gender\":\"undifferentiated\"}", "code-invalid",
      "Patient.gender" },
    { "gender not a string",
      PT "\"gender\":1}", "structure", "Patient.gender" },
    { "birthDate month 13",
      PT "\"birthDate\":\"1980-13-01\"}", "value", "Patient.birthDate" },
    { "birthDate 30 February",
      PT "\"birthDate\":\"1980-02-30\"}", "value", "Patient.birthDate" },
    { "birthDate with a time",
      PT "\"birthDate\":\"1980-02-03T10:00:00Z\"}", "value",
      "Patient.birthDate" },
    { "birthDate empty",
      PT "\"birthDate\":\"\"}", "value", "Patient.birthDate" },
    { "birthDate in the future",
      PT "\"birthDate\":\"2026-01-16\"}", "business-rule",
      "Patient.birthDate" },
    { "birthDate year in the future",
      PT "\"birthDate\":\"2027\"}", "business-rule", "Patient.birthDate" },
    { "CR-REV-019: deceasedBoolean",
      PT "\"deceasedBoolean\":true}", "code-invalid",
      "Patient.deceasedBoolean" },
    { "deceasedDateTime malformed",
      PT "\"deceasedDateTime\":\"2008-10-26T10:00\"}", "value",
      "Patient.deceasedDateTime" },
    { "deceasedDateTime before birthDate",
      PT "\"birthDate\":\"1980-05-05\",\"deceasedDateTime\":\"1979\"}",
      "business-rule", "Patient.deceasedDateTime" },
    { "deceasedDateTime the day before birthDate",
      PT "\"birthDate\":\"1980-05-05\",\"deceasedDateTime\":"
      "\"1980-05-04T23:59:59Z\"}", "business-rule",
      "Patient.deceasedDateTime" },
    { "unknown element",
      PT "\"favouriteColour\":\"blue\"}", "structure",
      "Patient.favouriteColour" },
    { "unknown element in a name",
      PT "\"name\":[{\"family\":\"Smith\",\"maiden\":\"Jones\"}]}",
      "structure", "Patient.name[0].maiden" },
    { "name not an array",
      PT "\"name\":{\"family\":\"Smith\"}}", "structure", "Patient.name" },
    { "name an empty array",
      PT "\"name\":[]}", "structure", "Patient.name" },
    { "name without family, given or text",
      PT "\"name\":[{\"use\":\"usual\"}]}", "required", "Patient.name[0]" },
    { "CR-PHN-004: PHN 9999999999 (check digit)",
      PT "\"identifier\":[" PHN_ID("9999999999") "]}", "business-rule",
      "Patient.identifier[0].value" },
    { "CR-PHN-005: PHN 9000000040 (r = 1)",
      PT "\"identifier\":[" PHN_ID("9000000040") "]}", "business-rule",
      "Patient.identifier[0].value" },
    { "CR-PHN-006: PHN 912345678 (9 digits)",
      PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\",\"value\":\"A1\"},"
      PHN_ID("912345678") "]}", "business-rule",
      "Patient.identifier[1].value" },
    { "CR-ID-008: legacy id-issuer/BC PHN with a bad check digit",
      PT "\"identifier\":[{\"system\":\"" LEGACY("BC") "\",\"value\":"
      "\"9999999999\"}]}", "business-rule", "Patient.identifier[0].value" },
    { "CR-GD-009: unknown identifier system",
      PT "\"identifier\":[{\"system\":\"urn:oid:2.16.840.1.113883\","
      "\"value\":\"1\"}]}", "code-invalid", "Patient.identifier[0].system" },
    { "CR-ID-002: SRI system with an upper-case source",
      PT "\"identifier\":[{\"system\":\"" SRI("FHA-mt") "\",\"value\":"
      "\"1\"}]}", "code-invalid", "Patient.identifier[0].system" },
    { "identifier without system",
      PT "\"identifier\":[{\"value\":\"1\"}]}", "required",
      "Patient.identifier[0].system" },
    { "identifier without value",
      PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\"}]}", "required",
      "Patient.identifier[0].value" },
    { "CR-REV-009: SRI with a forbidden character",
      PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\",\"value\":"
      "\"A 1\"}]}", "business-rule", "Patient.identifier[0].value" },
    { "CR-PAT-005: identifier.use usual",
      PT "\"identifier\":[{\"use\":\"usual\",\"system\":\"" SRI("fha-mt")
      "\",\"value\":\"1\"}]}", "code-invalid", "Patient.identifier[0].use" },
    { "CR-PAT-005: identifier.use temp",
      PT "\"identifier\":[{\"use\":\"temp\",\"system\":\"" SRI("fha-mt")
      "\",\"value\":\"1\"}]}", "code-invalid", "Patient.identifier[0].use" },
    { "CR-ID-007: two current PHNs",
      PT "\"identifier\":[" PHN_ID("9253484802") "," PHN_ID("9983652763")
      "]}", "business-rule", "Patient.identifier" },
    { "CR-ID-007: a current PHN and a legacy BC PHN",
      PT "\"identifier\":[" PHN_ID("9253484802") ",{\"system\":\""
      LEGACY("BC") "\",\"value\":\"9983652763\"}]}", "business-rule",
      "Patient.identifier" },
    { "CR-ADD-016: family name with digits",
      PT "\"name\":[{\"family\":\"Sm1th\"}]}", "business-rule",
      "Patient.name[0].family" },
    { "CR-REV-013: given name with a wildcard",
      PT "\"name\":[{\"family\":\"Smith\",\"given\":[\"Ann\",\"J*\"]}]}",
      "business-rule", "Patient.name[0].given[1]" },
    { "CR-FC-018: family name with %",
      PT "\"name\":[{\"family\":\"Smi%\"}]}", "business-rule",
      "Patient.name[0].family" },
    { "modifierExtension",
      PT "\"modifierExtension\":[{\"url\":\"http://x\",\"valueBoolean\":"
      "true}]}", "not-supported", "Patient.modifierExtension" },
    { "extension without url",
      PT "\"extension\":[{\"valueString\":\"x\"}]}", "required",
      "Patient.extension[0].url" },
    { "extension with an unknown element",
      PT "\"extension\":[{\"url\":\"http://x\",\"valueWhatever\":1}]}",
      "structure", "Patient.extension[0].valueWhatever" },
    { "telecom phone that is not a number",
      PT "\"telecom\":[{\"system\":\"phone\",\"value\":\"call me\"}]}",
      "value", "Patient.telecom[0].value" },
    { "telecom phone with 6 digits",
      PT "\"telecom\":[{\"system\":\"phone\",\"value\":\"123-456\"}]}",
      "value", "Patient.telecom[0].value" },
    { "telecom email without @",
      PT "\"telecom\":[{\"system\":\"email\",\"value\":\"a.example.com\"}]}",
      "value", "Patient.telecom[0].value" },
    { "telecom without system",
      PT "\"telecom\":[{\"value\":\"2501234567\"}]}", "required",
      "Patient.telecom[0].system" },
    { "id with a space",
      PT "\"id\":\"a b\"}", "value", "Patient.id" },
    { "id of 65 characters",
      PT "\"id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaa\"}", "value", "Patient.id" },
    { "active not a boolean",
      PT "\"active\":\"true\"}", "structure", "Patient.active" },
    { "name period start after end",
      PT "\"name\":[{\"family\":\"A\",\"period\":{\"start\":\"2020-01-02\","
      "\"end\":\"2020-01-01\"}}]}", "value", "Patient.name[0].period" },
    { "multipleBirth twice",
      PT "\"multipleBirthBoolean\":true,\"multipleBirthInteger\":2}",
      "structure", "Patient.multipleBirth[x]" },
    { "link without other",
      PT "\"link\":[{\"type\":\"seealso\"}]}", "required",
      "Patient.link[0].other" },
    { "link type unknown",
      PT "\"link\":[{\"type\":\"sameas\",\"other\":{}}]}", "code-invalid",
      "Patient.link[0].type" },
    { "_birthDate with an element",
      PT "\"birthDate\":\"1980\",\"_birthDate\":{\"value\":1}}", "structure",
      "Patient._birthDate.value" },
};

static void test_rejections(void **state)
{
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(rejects); i++) {
        const reject_vector_t *v = &rejects[i];
        cr_outcome_t *oc = cr_outcome_make(pool);
        cr_patient_t *p = NULL;
        apr_status_t rv = cr_fhir_patient_parse(&p, pool,
                                                json(pool, v->patient),
                                                "Patient", TODAY, NULL, oc);
        const cr_issue_t *is = cr_outcome_first_error(oc);

        if (rv != APR_EINVAL || p == NULL || oc->issues->nelts != 1
            || cr_outcome_errors(oc) != 1 || is == NULL
            || strcmp(is->code, v->code) != 0 || is->expression == NULL
            || strcmp(is->expression, v->expression) != 0
            || is->severity != CR_SEV_ERROR || is->text[0] == '\0') {
            dump_issues(oc);
            fail_msg("%s: rv=%d, %d issue(s); expected exactly one error "
                     "%s at %s", v->what, rv, oc->issues->nelts, v->code,
                     v->expression);
        }
    }
}

/* Values at the edge of a rule are accepted. */
static void test_accepted_variants(void **state)
{
    static const char *const ok[] = {
        PT "\"birthDate\":\"" TODAY "\"}",                 /* today */
        PT "\"birthDate\":\"2026\"}",                      /* this year */
        PT "\"birthDate\":\"2026-01\"}",                   /* this month */
        PT "\"deceasedDateTime\":\"2008-10-26T10:00:00-08:00\"}",
        PT "\"birthDate\":\"1980-05-05\",\"deceasedDateTime\":\"1980\"}",
        PT "\"birthDate\":\"1980-05\",\"deceasedDateTime\":\"1980-05-01\"}",
        PT "\"birthDate\":\"1980-05-05\",\"deceasedDateTime\":"
        "\"1980-05-05T00:30:00+14:00\"}",
        PT "\"gender\":\"other\"}",
        PT "\"gender\":\"unknown\"}",
        /* A replaced PHN (period.end) does not count as current. */
        PT "\"identifier\":[{\"system\":\""
        INFOWAY("ca-bc-patient-healthcare-id") "\",\"value\":\"9983652763\","
        "\"period\":{\"start\":\"2001\",\"end\":\"2002\"}},"
        PHN_ID("9253484802") "]}",
        /* CR-ID-004: identifiers without use. */
        PT "\"identifier\":[{\"system\":\"" SRI("fha-mt") "\",\"value\":"
        "\"HOSP-1.2_3:4/5\"}]}",
        /* CR-EXT-009: unknown identifier value on _value. */
        PT "\"identifier\":[{\"system\":\"" INFOWAY("ca-bc-msp-eligibility-id")
        "\",\"_value\":{\"extension\":[{\"url\":"
        "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
        "\"valueCode\":\"unknown\"}]}}]}",
        /* CR-PAT-012: unknown extensions are ignored. */
        PT "\"extension\":[{\"url\":\"http://example.org/x\",\"valueString\":"
        "\"y\"}]}",
        PT "\"name\":[{\"family\":\"O'Brien-Smith\",\"given\":[\"J.\","
        "\"Fran\xc3\xa7oise\"]}]}",
        PT "\"name\":[{\"text\":\"Mary Smith\"}]}",
        PT "\"telecom\":[{\"system\":\"phone\",\"value\":\"+1 302 1234567\","
        "\"use\":\"mobile\",\"rank\":1}]}",
        PT "\"address\":[{\"use\":\"home\",\"type\":\"postal\",\"line\":"
        "[\"1 Main St\",\"Unit 2\"],\"postalCode\":\"V8W 1A1\"}]}",
        PT "\"multipleBirthInteger\":2}",
        PT "\"link\":[{\"type\":\"replaced-by\",\"other\":{\"reference\":"
        "\"Patient/1\"}}]}",
        PT "\"id\":\"A-1.b\"}",
        PT "\"active\":false}",
    };
    size_t i;

    for (i = 0; i < ARRAY_LEN(ok); i++) {
        valid(*state, ok[i]);
    }
}

/* CR-OO-007: every problem is reported, in document order. */
static void test_multiple_errors(void **state)
{
    static const char text[] =
        PT "\"identifier\":[" PHN_ID("9999999999") ",{\"use\":\"usual\","
        "\"system\":\"" SRI("fha-mt") "\",\"value\":\"1\"}],"
        "\"name\":[{\"use\":\"maiden\",\"family\":\"Sm1th\"}],"
        "\"telecom\":[{\"system\":\"fax\",\"value\":\"2501234567\"}],"
        "\"gender\":\"M\",\"birthDate\":\"1980-13-01\","
        "\"address\":[{\"type\":\"both\"}],\"deceasedBoolean\":false,"
        "\"modifierExtension\":[{\"url\":\"http://x\"}]}";
    static const struct {
        const char *code, *expression;
    } expect[] = {
        { "not-supported", "Patient.modifierExtension" },
        { "business-rule", "Patient.identifier[0].value" },
        { "code-invalid", "Patient.identifier[1].use" },
        { "code-invalid", "Patient.name[0].use" },
        { "business-rule", "Patient.name[0].family" },
        { "code-invalid", "Patient.telecom[0].system" },
        { "code-invalid", "Patient.address[0].type" },
        { "code-invalid", "Patient.gender" },
        { "value", "Patient.birthDate" },
        { "code-invalid", "Patient.deceasedBoolean" },
    };
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = NULL;
    size_t i;

    assert_int_equal(cr_fhir_patient_parse(&p, pool, json(pool, text),
                                           "Patient", TODAY, NULL, oc),
                     APR_EINVAL);
    if (oc->issues->nelts != (int)ARRAY_LEN(expect)) {
        dump_issues(oc);
        fail_msg("%d issues, expected %d", oc->issues->nelts,
                 (int)ARRAY_LEN(expect));
    }
    assert_int_equal(cr_outcome_errors(oc), (int)ARRAY_LEN(expect));
    for (i = 0; i < ARRAY_LEN(expect); i++) {
        assert_string_equal(issue(oc, (int)i)->code, expect[i].code);
        assert_string_equal(issue(oc, (int)i)->expression,
                            expect[i].expression);
    }
}

/* Expressions start with the caller's root (a Bundle entry path). */
static void test_expression_root(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = NULL;

    assert_int_equal(cr_fhir_patient_parse(&p, pool,
                                           json(pool, PT "\"gender\":\"M\"}"),
                                           "Bundle.entry[1].resource", TODAY,
                                           NULL, oc), APR_EINVAL);
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->expression,
                        "Bundle.entry[1].resource.gender");

    /* Not an object, or not a Patient. */
    cr_outcome_clear(oc);
    assert_int_equal(cr_fhir_patient_parse(&p, pool, json(pool, "[1]"),
                                           "Bundle.entry[1].resource", TODAY,
                                           NULL, oc), APR_EINVAL);
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->code, "structure");
    assert_string_equal(issue(oc, 0)->expression,
                        "Bundle.entry[1].resource");
    cr_outcome_clear(oc);
    assert_int_equal(cr_fhir_patient_parse(&p, pool,
                                           json(pool, "{\"resourceType\":"
                                                "\"Person\"}"),
                                           "Patient", TODAY, NULL, oc),
                     APR_EINVAL);
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->code, "invalid");
    assert_string_equal(issue(oc, 0)->expression, "Patient.resourceType");
    cr_outcome_clear(oc);
    assert_int_equal(cr_fhir_patient_parse(&p, pool, json(pool, "{}"),
                                           "Patient", TODAY, NULL, oc),
                     APR_EINVAL);
    assert_string_equal(issue(oc, 0)->expression, "Patient.resourceType");
}

/* Without now_day, no date is in the future. */
static void test_no_today(void **state)
{
    apr_pool_t *pool = *state;
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = NULL;

    assert_int_equal(cr_fhir_patient_parse(&p, pool,
                                           json(pool, PT "\"birthDate\":"
                                                "\"2999-01-01\"}"),
                                           "Patient", NULL, NULL, oc),
                     APR_SUCCESS);
    assert_string_equal(p->birth_date, "2999-01-01");
}

/* Settings bound repeats and string lengths. */
static void test_limits(void **state)
{
    apr_pool_t *pool = *state;
    cr_fhir_limits_t lim = { 2, 10 };
    cr_outcome_t *oc = cr_outcome_make(pool);
    cr_patient_t *p = NULL;

    assert_int_equal(cr_fhir_default_limits.max_repeats, 100);
    assert_int_equal(cr_fhir_default_limits.max_string, 4096);

    assert_int_equal(cr_fhir_patient_parse(
                         &p, pool, json(pool, PT "\"name\":[{\"family\":"
                                        "\"A\"},{\"family\":\"B\"},"
                                        "{\"family\":\"C\"}]}"),
                         "Patient", TODAY, &lim, oc), APR_EINVAL);
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->code, "too-costly");
    assert_string_equal(issue(oc, 0)->expression, "Patient.name");
    assert_int_equal(p->names->nelts, 0);

    cr_outcome_clear(oc);
    assert_int_equal(cr_fhir_patient_parse(
                         &p, pool, json(pool, PT "\"name\":[{\"family\":"
                                        "\"Abcdefghijk\",\"given\":"
                                        "[\"Abcdefghij\"]}]}"),
                         "Patient", TODAY, &lim, oc), APR_EINVAL);
    assert_int_equal(oc->issues->nelts, 1);
    assert_string_equal(issue(oc, 0)->code, "too-long");
    assert_string_equal(issue(oc, 0)->expression, "Patient.name[0].family");
}

/* Identifier systems and their kinds. */
static void test_identifier_kinds(void **state)
{
    static const struct {
        const char *system;
        cr_id_kind_e kind;
        const char *source;
    } v[] = {
        { INFOWAY("ca-bc-patient-healthcare-id"), CR_IDK_PHN, NULL },
        { LEGACY("BC-encrypted"), CR_IDK_PHN_ENCRYPTED, NULL },
        { INFOWAY("ca-bc-msp-eligibility-id"), CR_IDK_MSP, NULL },
        { SRI("fha-mt"), CR_IDK_SRI, "fha-mt" },
        { SRI("iha-iha"), CR_IDK_SRI, "iha-iha" },
        { SRI("vpp-cw"), CR_IDK_SRI, "vpp-cw" },
        { SRI("viha-north"), CR_IDK_SRI, "viha-north" },
        { SRI("x"), CR_IDK_SRI, "x" },
        { SRI("FHA-MT"), CR_IDK_UNKNOWN, NULL },
        { SRI("fha_mt"), CR_IDK_UNKNOWN, NULL },
        { SRI(""), CR_IDK_UNKNOWN, NULL },
        { "http://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt-source-"
          "patient-id", CR_IDK_UNKNOWN, NULL },
        { INFOWAY("ca-bc-panorama-client-id"), CR_IDK_INFOWAY, NULL },
        { INFOWAY("ca-on-patient-hcn"), CR_IDK_INFOWAY, NULL },
        { INFOWAY("ca-veterans-affairs-health-id"), CR_IDK_INFOWAY, NULL },
        { INFOWAY("CA-ON-patient-hcn"), CR_IDK_UNKNOWN, NULL },
        { INFOWAY(""), CR_IDK_UNKNOWN, NULL },
        { LEGACY("BC"), CR_IDK_PHN, NULL },
        { LEGACY("SrcCode"), CR_IDK_LEGACY, NULL },
        { LEGACY("bc-sri"), CR_IDK_LEGACY, NULL },
        { LEGACY("AHULI"), CR_IDK_LEGACY, NULL },
        { LEGACY("BC/x"), CR_IDK_UNKNOWN, NULL },
        { LEGACY(""), CR_IDK_UNKNOWN, NULL },
        { "urn:oid:2.16.840.1.113883.4.1", CR_IDK_UNKNOWN, NULL },
        { "", CR_IDK_UNKNOWN, NULL },
        { NULL, CR_IDK_UNKNOWN, NULL },
    };
    apr_pool_t *pool = *state;
    size_t i;

    for (i = 0; i < ARRAY_LEN(v); i++) {
        const char *source = "unset";
        cr_id_kind_e k = cr_fhir_identifier_kind(&source, pool, v[i].system);
        if (k != v[i].kind
            || (v[i].source == NULL ? source != NULL
                : source == NULL || strcmp(source, v[i].source) != 0)) {
            fail_msg("%s: kind %d source %s, expected %d %s",
                     v[i].system ? v[i].system : "(null)", (int)k,
                     source ? source : "(null)", (int)v[i].kind,
                     v[i].source ? v[i].source : "(null)");
        }
    }
    /* source may be NULL. */
    assert_int_equal(cr_fhir_identifier_kind(NULL, pool, SRI("fha-mt")),
                     CR_IDK_SRI);
}

/* CR-ID-008: a legacy BC PHN in a Patient is a PHN of the model. */
static void test_legacy_phn(void **state)
{
    cr_patient_t *p = valid(*state, PT "\"identifier\":[{\"system\":\""
                            LEGACY("BC") "\",\"value\":\"9698658215\"},"
                            "{\"system\":\"" SRI("fha-mt") "\",\"value\":"
                            "\"M1\"}]}");
    const cr_identifier_t *phn = cr_model_find_identifier(p, CR_IDK_PHN);

    assert_non_null(phn);
    assert_string_equal(phn->value, "9698658215");
    assert_string_equal(phn->system, LEGACY("BC"));
    assert_string_equal(cr_model_find_identifier(p, CR_IDK_SRI)
                            ->source, "fha-mt");
}

/* Name characters (CR-ADD-016). */
static void test_name_chars(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } v[] = {
        { "Smith", 1 }, { "O'Brien", 1 }, { "Smith-Jones", 1 },
        { "St. John", 1 }, { "Smith, Jr", 1 }, { "de la Cruz", 1 },
        { "Fran\xc3\xa7oise", 1 }, { "\xe7\x8e\x8b", 1 }, { "", 1 },
        { "Sm1th", 0 }, { "J*", 0 }, { "Smi%", 0 }, { "Sm?th", 0 },
        { "a_b", 0 }, { "a\tb", 0 }, { "a\"b", 0 }, { "<b>", 0 },
        { "a/b", 0 }, { "a(b)", 0 }, { "a;b", 0 }, { "a\x7f", 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_LEN(v); i++) {
        if (cr_fhir_name_chars_ok(v[i].s) != v[i].ok) {
            fail_msg("'%s': expected %d", v[i].s, v[i].ok);
        }
    }
}

/* Masked elements (data-absent-reason) are kept and flagged. */
static void test_masked(void **state)
{
    cr_patient_t *p = valid(
        *state, PT "\"name\":[{\"extension\":[{\"url\":"
        "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
        "\"valueCode\":\"masked\"}]}],\"telecom\":[{\"_value\":{"
        "\"extension\":[{\"url\":"
        "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\","
        "\"valueCode\":\"masked\"}]}}]}");

    assert_int_equal(p->names->nelts, 1);
    assert_int_equal(name_at(p, 0)->masked, 1);
    assert_null(name_at(p, 0)->family);
    assert_int_equal(p->telecoms->nelts, 1);
    assert_int_equal(APR_ARRAY_IDX(p->telecoms, 0, cr_telecom_t).masked, 1);
}

#define PHN_JSON(phn, at) \
    "{\"extension\":[{\"url\":\"http://hlth.gov.bc.ca/fhir/client/" \
    "StructureDefinition/bc-identifier-status-extension\",\"valueCode\":" \
    "\"active\"}],\"use\":\"official\",\"type\":{\"coding\":[{\"system\":" \
    "\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"JHN\"}]}," \
    "\"system\":\"https://fhir.infoway-inforoute.ca/NamingSystem/" \
    "ca-bc-patient-healthcare-id\",\"value\":\"" phn "\",\"period\":" \
    "{\"start\":\"" at "\"},\"assigner\":{\"display\":" \
    "\"MOH Client Registry - MOH_CRS\"}}"

/* CR-ADD-003, CR-GD-012..014: the assigned PHN leads the identifiers. */
static void test_add_phn(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = valid(pool, cr_test_ig_revise_max_patient);
    json_object *ids;
    const cr_identifier_t *phn;
    cr_patient_t *again;

    cr_fhir_patient_add_phn(p, pool, "9698658215",
                            "2026-01-15T10:00:00.000Z");
    ids = cr_json_get_array(p->json, "identifier");
    assert_int_equal(json_object_array_length(ids), 10);
    assert_string_equal(cr_json_serialize(pool,
                                          json_object_array_get_idx(ids, 0),
                                          NULL),
                        PHN_JSON("9698658215", "2026-01-15T10:00:00.000Z"));
    /* The others follow in their original order. */
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(ids, 1),
                                           "value"), "2B6F8GN410H1T27NPE");
    assert_string_equal(cr_json_get_string(json_object_array_get_idx(ids, 9),
                                           "value"),
                        "54X3KSPOCH235SDF42WQK6");

    assert_int_equal(p->identifiers->nelts, 10);
    phn = cr_model_find_identifier(p, CR_IDK_PHN);
    assert_non_null(phn);
    assert_string_equal(phn->value, "9698658215");
    assert_string_equal(phn->system, CR_SYS_PHN);
    assert_string_equal(phn->use, "official");
    assert_string_equal(phn->type_code, "JHN");
    assert_string_equal(phn->period.start, "2026-01-15T10:00:00.000Z");
    assert_ptr_equal(phn->json, json_object_array_get_idx(ids, 0));

    /* What the registry wrote is itself a valid bc-patient. */
    again = valid(pool, cr_json_serialize(pool, p->json, NULL));
    assert_int_equal(ident(again, 0)->kind, CR_IDK_PHN);
    assert_string_equal(ident(again, 0)->value, "9698658215");
}

/* Without identifiers, add_phn creates the list. */
static void test_add_phn_no_identifiers(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = valid(pool, PT "\"gender\":\"male\"}");

    cr_fhir_patient_add_phn(p, pool, "9253484802", "2026-01-15T00:00:00Z");
    assert_string_equal(cr_json_serialize(pool, p->json, NULL),
                        PT "\"gender\":\"male\",\"identifier\":["
                        PHN_JSON("9253484802", "2026-01-15T00:00:00Z") "]}");
    assert_int_equal(p->identifiers->nelts, 1);
    assert_string_equal(cr_model_find_identifier(p, CR_IDK_PHN)
                            ->value, "9253484802");
}

/* set_meta: id and meta first, meta.profile kept, FHIR element order. */
static void test_set_meta(void **state)
{
    static const char *const order[] = {
        "resourceType", "id", "meta", "text", "identifier", "name",
        "telecom", "gender", "birthDate", "deceasedDateTime",
        "_deceasedDateTime", "address", NULL
    };
    apr_pool_t *pool = *state;
    cr_patient_t *p = valid(pool, cr_test_ig_revise_max_patient);
    json_object *meta;
    int i = 0;

    cr_fhir_patient_set_meta(p, pool, "0b7f3c1e-1d2a-4c5e-9f00-123456789abc",
                             3, "2026-01-15T10:00:00.000Z");
    assert_string_equal(p->id, "0b7f3c1e-1d2a-4c5e-9f00-123456789abc");
    assert_string_equal(cr_json_get_string(p->json, "id"),
                        "0b7f3c1e-1d2a-4c5e-9f00-123456789abc");
    meta = cr_json_get_object(p->json, "meta");
    assert_string_equal(cr_json_serialize(pool, meta, NULL),
                        "{\"versionId\":\"3\",\"lastUpdated\":"
                        "\"2026-01-15T10:00:00.000Z\",\"profile\":["
                        "\"http://hlth.gov.bc.ca/fhir/client/"
                        "StructureDefinition/bc-patient\"]}");
    {
        json_object_object_foreach(p->json, key, val) {
            (void)val;
            if (order[i] == NULL || strcmp(key, order[i]) != 0) {
                fail_msg("element %d is %s, expected %s", i, key,
                         order[i] ? order[i] : "(end)");
            }
            i++;
        }
    }
    assert_null(order[i]);
    /* The content is unchanged. */
    assert_int_equal(json_object_array_length(cr_json_get_array(p->json,
                                                                "identifier")),
                     9);
    assert_string_equal(cr_json_get_string(p->json, "birthDate"),
                        "1956-12-17");
}

/* set_meta replaces a client's versionId/lastUpdated, keeps other meta,
 * and puts elements sent in any order into FHIR's order. */
static void test_set_meta_reorders(void **state)
{
    apr_pool_t *pool = *state;
    cr_patient_t *p = valid(
        pool, "{\"birthDate\":\"1980\",\"_gender\":{\"extension\":[{\"url\":"
        "\"http://x\",\"valueString\":\"s\"}]},\"gender\":\"male\","
        "\"meta\":{\"lastUpdated\":\"2000-01-01T00:00:00Z\",\"tag\":"
        "[{\"code\":\"t\"}],\"versionId\":\"99\",\"profile\":[\"p\"]},"
        "\"name\":[{\"family\":\"A\"}],\"id\":\"client-id\","
        "\"resourceType\":\"Patient\",\"active\":true}");

    assert_string_equal(p->id, "client-id");
    cr_fhir_patient_set_meta(p, pool, "server-id", 1,
                             "2026-01-15T10:00:00.000Z");
    assert_string_equal(cr_json_serialize(pool, p->json, NULL),
                        "{\"resourceType\":\"Patient\",\"id\":\"server-id\","
                        "\"meta\":{\"versionId\":\"1\",\"lastUpdated\":"
                        "\"2026-01-15T10:00:00.000Z\",\"tag\":[{\"code\":"
                        "\"t\"}],\"profile\":[\"p\"]},\"active\":true,"
                        "\"name\":[{\"family\":\"A\"}],\"gender\":\"male\","
                        "\"_gender\":{\"extension\":[{\"url\":\"http://x\","
                        "\"valueString\":\"s\"}]},\"birthDate\":\"1980\"}");

    /* Twice: the second call replaces the first's meta. */
    cr_fhir_patient_set_meta(p, pool, "server-id", 2,
                             "2026-01-16T10:00:00.000Z");
    assert_string_equal(cr_json_serialize(pool, cr_json_get_object(p->json,
                                                                   "meta"),
                                          NULL),
                        "{\"versionId\":\"2\",\"lastUpdated\":"
                        "\"2026-01-16T10:00:00.000Z\",\"tag\":[{\"code\":"
                        "\"t\"}],\"profile\":[\"p\"]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CR_TEST("CR-REV-001: IG Revise-withMaxData Patient parses and maps",
                test_ig_revise_max),
        CR_TEST("CR-ADD-001: IG AddPatient Patient parses and maps",
                test_ig_add),
        CR_TEST("CR-PAT-011: each rejection has its code and expression",
                test_rejections),
        CR_TEST("CR-PAT-012: edge values accepted", test_accepted_variants),
        CR_TEST("CR-OO-007: every problem reported", test_multiple_errors),
        CR_TEST("CR-OO-008: expressions start at the caller's root",
                test_expression_root),
        CR_TEST("no now_day: no future check", test_no_today),
        CR_TEST("limits: repeats and string length", test_limits),
        CR_TEST("CR-ID-002: identifier systems and kinds",
                test_identifier_kinds),
        CR_TEST("CR-ID-008: legacy id-issuer/BC is a PHN", test_legacy_phn),
        CR_TEST("CR-ADD-016: name characters", test_name_chars),
        CR_TEST("CR-FC-031: masked elements", test_masked),
        CR_TEST("CR-GD-012: add_phn puts the PHN first", test_add_phn),
        CR_TEST("add_phn without identifiers", test_add_phn_no_identifiers),
        CR_TEST("CR-PAT-001: set_meta keeps meta.profile and element order",
                test_set_meta),
        CR_TEST("set_meta replaces version meta and reorders",
                test_set_meta_reorders),
    };

    return cmocka_run_group_tests_name("cr_fhir_patient", tests, group_setup,
                                       group_teardown);
}
