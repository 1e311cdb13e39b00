/* cr_model: the types shared by every layer: the patient model (the
 * elements of a Patient the registry reasons about: identifiers, names,
 * telecoms, addresses, gender and dates), who is calling (the caller
 * identity recorded as provenance and audit) and the registry's settings
 * that core and store code need to know.
 *
 * The model is filled from FHIR JSON by fhir/cr_fhir_patient and read by
 * matching, the store and the services; it lives here, not beside the
 * parser, so that match/ and fhir/ are siblings that both use core only. */
#ifndef CR_MODEL_H
#define CR_MODEL_H

#include <apr.h>
#include <apr_tables.h>
#include <json-c/json.h>

/* Who made a request.  Filled by the glue layer from the verified TLS
 * client certificate (through the identity mapping directives), the
 * request's UserId header and, failing those, the request's own sender;
 * recorded with every version written. */
typedef struct cr_caller_t {
    const char *source_system;  /* HCIM source code, e.g. "FHA_MT" */
    const char *org_id;         /* organisation code (the IG's sender) */
    const char *user_id;        /* end user, "<userid>@<idp>" */
    const char *client_dn;      /* verified certificate subject, or the
                                   bearer token's client, or NULL */
    int privileged;             /* sees restricted clients unmasked and
                                   bc-sourceId-extension (httpd decides:
                                   ClientRegistryPrivileged) */
} cr_caller_t;

/* PHN bodies (the 8 digits between the leading 9 and the check digit) the
 * registry may assign; both ends inclusive.  phn.md DECISION-16. */
typedef struct cr_phn_range_t {
    apr_int64_t first;
    apr_int64_t last;
} cr_phn_range_t;

/* What an identifier system denotes. */
typedef enum {
    CR_IDK_UNKNOWN = 0,
    CR_IDK_PHN,            /* BC Personal Health Number */
    CR_IDK_PHN_ENCRYPTED,  /* encrypted/encoded PHN */
    CR_IDK_SRI,            /* a source system's record identifier */
    CR_IDK_MSP,            /* HIBC MSP eligibility id */
    CR_IDK_INFOWAY,        /* other Infoway naming system (jurisdictions) */
    CR_IDK_LEGACY          /* G1-G3 id-issuer systems, accepted on input */
} cr_id_kind_e;

typedef struct cr_period_t {
    const char *start;     /* FHIR dateTime or NULL */
    const char *end;
} cr_period_t;

typedef struct cr_identifier_t {
    const char *system;
    const char *value;     /* NULL when absent with a data-absent-reason */
    const char *use;
    const char *type_code; /* v2-0203 code when given */
    cr_id_kind_e kind;
    const char *source;    /* SRI: the source-id part, e.g. "fha-mt" */
    cr_period_t period;
    json_object *json;
} cr_identifier_t;

typedef struct cr_name_t {
    const char *use;
    const char *family;
    const char *text;
    apr_array_header_t *given;   /* of const char * */
    cr_period_t period;
    int masked;
} cr_name_t;

typedef struct cr_telecom_t {
    const char *system;
    const char *value;
    const char *use;
    cr_period_t period;
    int masked;
} cr_telecom_t;

typedef struct cr_address_t {
    const char *use;
    const char *type;
    apr_array_header_t *line;    /* of const char * */
    const char *city;
    const char *state;
    const char *postal_code;
    const char *country;
    cr_period_t period;
    int masked;
} cr_address_t;

typedef struct cr_patient_t {
    json_object *json;           /* the resource (borrowed, pool-owned) */
    const char *id;
    const char *gender;
    const char *birth_date;
    const char *deceased;        /* deceasedDateTime */
    int active;                  /* -1 absent, else 0/1 */
    apr_array_header_t *identifiers;  /* of cr_identifier_t */
    apr_array_header_t *names;        /* of cr_name_t */
    apr_array_header_t *telecoms;     /* of cr_telecom_t */
    apr_array_header_t *addresses;    /* of cr_address_t */
    int masked;                  /* meta.security v3-Confidentiality R or
                                    V: demographics restricted (0.7) */
} cr_patient_t;

/* The first current (no period.end) identifier of kind k that has a
 * value, or NULL.  The result points into p. */
const cr_identifier_t *cr_model_find_identifier(const cr_patient_t *p,
                                                cr_id_kind_e k);

#endif /* CR_MODEL_H */
