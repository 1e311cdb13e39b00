/* cr_fhir_envelope: the request and response envelopes of the BC Client
 * Registry's Bundle-based operations (operations.md sections 0.3, 0.4).
 *
 * In: a collection Bundle holding one MetadataParametersIn Parameters and
 * the operation's resources (identified by resource type, not position),
 * or a Parameters whose single operationBundle parameter carries that
 * Bundle.  cr_fhir_envelope_parse checks the Bundle shape and the
 * cardinalities an operation declares, reads messageId and the flags, and
 * reports every problem it finds with the BCHCIM code of the operation's
 * transaction and a FHIRPath expression.
 *
 * Out: a searchset or collection Bundle holding one MetadataParametersOut
 * Parameters (messageId, sender, the echoed flags, enterer,
 * requestMessageId, requestParameters), one OperationOutcome and the
 * result resources, built in one call by cr_fhir_envelope_reply.
 *
 * The maintenance operations use the same functions with their own rules.
 */
#ifndef CR_FHIR_ENVELOPE_H
#define CR_FHIR_ENVELOPE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_canon.h"
#include "fhir/cr_bc_codes.h"
#include "core/cr_outcome.h"

/* The envelope profiles of the IG.  CR_ENV_PROFILE_BASE is the
 * StructureDefinition base (CR_EXT_BASE) under the name the services build
 * their response profiles on. */
#define CR_ENV_PROFILE_BASE CR_EXT_BASE
#define CR_ENV_PROFILE_PARAMS_IN CR_EXT_BASE "bc-metadata-parameters-in"
#define CR_ENV_PROFILE_PARAMS_OUT CR_EXT_BASE "bc-metadata-parameters-out"
#define CR_ENV_PROFILE_PARAMS_ASYNC CR_EXT_BASE \
    "bc-metadata-parameter-async-response"
#define CR_ENV_PROFILE_SEARCH_RESPONSE CR_EXT_BASE "bc-search-response-bundle"

/* What an operation accepts (profiles.md section 6.1). */
typedef struct cr_envelope_rules_t {
    cr_bc_txn_e txn;
    int min_entries, max_entries;
    int min_patients, max_patients;
    int min_related, max_related;
} cr_envelope_rules_t;

/* One entry of the request Bundle. */
typedef struct cr_envelope_entry_t {
    int index;                 /* position in Bundle.entry */
    const char *full_url;
    const char *type;          /* resourceType */
    json_object *resource;
    const char *expr;          /* "Bundle.entry[i].resource" */
} cr_envelope_entry_t;

typedef struct cr_envelope_in_t {
    json_object *bundle;       /* the request Bundle (after unwrapping) */
    int wrapped;               /* it came as Parameters.operationBundle */
    json_object *parameters;   /* the MetadataParametersIn resource */
    apr_array_header_t *patients;  /* of cr_envelope_entry_t */
    apr_array_header_t *related;   /* of cr_envelope_entry_t */
    const char *message_id;
    int history;               /* -1 not sent, else 0/1 (D-03: history or
                                  withHistory) */
    int identifiers_only;      /* -1 not sent, else 0/1 */
    const char *sender;        /* value of a request sender parameter */
} cr_envelope_in_t;

/* Check body against rules and read it into *out (always set, also on
 * failure, with what could be read).  Problems go to oc with the BCHCIM
 * codes of rules->txn; every problem is reported (CR-OO-007).  Returns
 * APR_EINVAL when any error was recorded.  *out borrows from body. */
apr_status_t cr_fhir_envelope_parse(cr_envelope_in_t **out,
                                    apr_pool_t *pool, json_object *body,
                                    const cr_envelope_rules_t *rules,
                                    cr_outcome_t *oc);

/* MetadataParametersOut content (operations.md 0.4, D-04, D-05, D-20). */
typedef struct cr_envelope_meta_t {
    const char *message_id;          /* this response's id (new UUID) */
    const char *request_message_id;  /* the request's messageId or NULL */
    const char *sender;              /* org code; NULL: the registry's */
    const char *enterer;             /* user id or NULL */
    int history;                     /* -1: not echoed */
    int identifiers_only;            /* -1: not echoed */
    json_object *request_parameters; /* echoed Parameters, or NULL */
} cr_envelope_meta_t;

/* One result entry. */
typedef struct cr_envelope_result_t {
    const char *full_url;
    json_object *resource;
    const char *mode;          /* search.mode ("match", "include") or NULL */
    int has_score;
    int score;                 /* raw integer score (D-13) */
} cr_envelope_result_t;

typedef struct cr_envelope_reply_t {
    cr_bc_txn_e txn;
    const char *type;          /* "searchset" or "collection" */
    const char *profile;       /* Bundle meta.profile or NULL */
    const char *params_profile;    /* NULL: bc-metadata-parameters-out */
    const char *id;            /* Bundle.id (and identifier urn:uuid) */
    const char *timestamp;     /* FHIR instant */
    int total;                 /* searchset total; < 0: count "match"
                                  entries */
    const char *link_self, *link_next, *link_previous, *link_canonical;
    cr_envelope_meta_t meta;
    const cr_outcome_t *oc;    /* the OperationOutcome's issues */
    apr_array_header_t *results;   /* of cr_envelope_result_t, or NULL */
} cr_envelope_reply_t;

/* Build the response Bundle (owned by pool).  Issues without a detail
 * code get the transaction's generic code (CR_BC_INVALID for errors,
 * CR_BC_WARNING for warnings), so every issue carries one. */
json_object *cr_fhir_envelope_reply(apr_pool_t *pool,
                                    const cr_envelope_reply_t *r);

/* A response Bundle for a request rejected before its operation ran
 * (unreadable body, wrong media type): the issues of oc, no results,
 * searchset for FC/GD, collection otherwise. */
json_object *cr_fhir_envelope_error_reply(apr_pool_t *pool, cr_bc_txn_e txn,
                                          const cr_outcome_t *oc,
                                          const cr_envelope_meta_t *meta,
                                          const char *timestamp);

/* A new "urn:uuid:..." string. */
const char *cr_fhir_envelope_urn(apr_pool_t *pool);

#endif /* CR_FHIR_ENVELOPE_H */
