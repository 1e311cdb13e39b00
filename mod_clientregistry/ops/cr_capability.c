/* cr_capability: CapabilityStatement generation.
 *
 * Every list here is derived from the tables the server itself runs on
 * (the search parameter table of cr_search) or from the settings that
 * change behaviour (updateCreate), so the statement cannot drift from the
 * implementation.
 */
#include <apr_strings.h>

#include "ops/cr_capability.h"
#include "fhir/cr_fhir_patient.h"
#include "ops/cr_ops.h"
#include "ops/cr_ops_query.h"

void cr_capability_get(cr_ctx_t *ctx, const char *software_version)
{
    static const char *const interactions[] = {
        "read", "vread", "update", "history-instance", "create",
        "search-type", NULL
    };
    json_object *cs = cr_json_own(ctx->pool, json_object_new_object());
    json_object *arr, *o, *rest, *res, *sp;
    const char *name, *type;
    int i;

    cr_json_set_string(cs, "resourceType", "CapabilityStatement");
    cr_json_set_string(cs, "status", "active");
    cr_json_set_string(cs, "date", ctx->now_instant);
    cr_json_set_string(cs, "publisher", "mod_clientregistry");
    cr_json_set_string(cs, "kind", "instance");
    o = cr_json_set_new_object(cs, "software");
    cr_json_set_string(o, "name", "mod_clientregistry");
    cr_json_set_string(o, "version", software_version);
    o = cr_json_set_new_object(cs, "implementation");
    cr_json_set_string(o, "description",
                       "BC Client Registry (EMPI) on Apache httpd");
    cr_json_set_string(o, "url", ctx->settings->base_url);
    cr_json_set_string(cs, "fhirVersion", "4.0.1");
    arr = cr_json_set_new_array(cs, "format");
    json_object_array_add(arr, json_object_new_string("json"));
    json_object_array_add(arr, json_object_new_string(
        "application/fhir+json"));
    arr = cr_json_set_new_array(cs, "rest");
    rest = cr_json_array_add_object(arr);
    cr_json_set_string(rest, "mode", "server");
    arr = cr_json_set_new_array(rest, "resource");
    res = cr_json_array_add_object(arr);
    cr_json_set_string(res, "type", "Patient");
    cr_json_set_string(res, "profile", CR_PROFILE_PATIENT);
    o = cr_json_set_new_array(res, "interaction");
    for (i = 0; interactions[i]; i++) {
        cr_json_set_string(cr_json_array_add_object(o), "code",
                           interactions[i]);
    }
    cr_json_set_string(res, "versioning", "versioned-update");
    cr_json_set_bool(res, "readHistory", 1);
    cr_json_set_bool(res, "updateCreate", ctx->settings->allow_client_ids);
    cr_json_set_bool(res, "conditionalCreate", 0);
    cr_json_set_string(res, "conditionalRead", "not-supported");
    cr_json_set_bool(res, "conditionalUpdate", 0);
    cr_json_set_string(res, "conditionalDelete", "not-supported");
    sp = cr_json_set_new_array(res, "searchParam");
    for (i = 0; cr_search_param_info(i, &name, &type); i++) {
        o = cr_json_array_add_object(sp);
        cr_json_set_string(o, "name", name);
        cr_json_set_string(o, "type", type);
    }
    if (cr_ops_table[0].name) {
        const cr_op_t *op;
        arr = cr_json_set_new_array(res, "operation");
        for (op = cr_ops_table; op->name; op++) {
            o = cr_json_array_add_object(arr);
            cr_json_set_string(o, "name", op->name);
            cr_json_set_string(o, "definition",
                               op->definition ? op->definition
                               : "http://hl7.org/fhir/OperationDefinition/"
                                 "Patient-match");
        }
        /* The G4 instance-level GET [base]/Patient/{id}/$HistoryPatient
         * (operations.md 9.6), routed outside the type-level table. */
        o = cr_json_array_add_object(arr);
        cr_json_set_string(o, "name", "HistoryPatient");
        cr_json_set_string(o, "definition", CR_OPDEF_HISTORY_PATIENT);
        cr_json_set_string(o, "documentation", "GET [base]/Patient/[id]/"
                           "$HistoryPatient: the client with history, as "
                           "$GetDemographics with history = true.");
    }
    {
        /* Partners' subscriptions to change notifications (operations.md
         * 7.2, the G4 server CapabilityStatement). */
        static const char *const sub_interactions[] = {
            "create", "read", "update", "delete", "search-type", NULL
        };
        arr = cr_json_get_array(rest, "resource");
        res = cr_json_array_add_object(arr);
        o = cr_json_array_add_object(cr_json_set_new_array(res,
                                                           "extension"));
        cr_json_set_string(o, "url", CR_EXT_TOPIC_CANONICAL);
        cr_json_set_string(o, "valueCanonical", CR_TOPIC_PATIENT_CHANGE);
        cr_json_set_string(res, "type", "Subscription");
        arr = cr_json_set_new_array(res, "supportedProfile");
        json_object_array_add(arr, json_object_new_string(
            CR_PROFILE_SUBSCRIPTION));
        o = cr_json_set_new_array(res, "interaction");
        for (i = 0; sub_interactions[i]; i++) {
            cr_json_set_string(cr_json_array_add_object(o), "code",
                               sub_interactions[i]);
        }
        cr_json_set_string(res, "documentation",
            "A partner subscribes to change-notification events (criteria "
            "= the topic, backport-filter-criteria eventCode=CODE, a "
            "rest-hook channel, full-resource payload); the registry then "
            "POSTs [endpoint]/Patient/$PatientNotification. A subscription "
            "belongs to the identity that created it.");
    }
    {
        /* The BC RESTful forms (operations.md section 8), chosen by the
         * Accept header.  Their extra search parameters are described
         * here, not in searchParam, which lists the plain FHIR search. */
        cr_json_set_string(rest, "documentation",
            "Plain FHIR clients get the standard RESTful interactions. A "
            "client sending 'Accept: application/fhir+json; charset=utf-8; "
            "fhirVersion=4.0; BCFhirVersion=1' gets the BC Client Registry "
            "forms (IG G5 RESTful pages): GET [base]/Patient?family=&given="
            "&birthdate=&gender=&address-line=&address-city=&"
            "address-province=&address-postalcode=&address-country=&phone="
            "&email= (address-state accepted too) with the FindCandidates "
            "criteria rules; GET [base]/"
            "Patient?identifier=system|value, GET [base]/Patient/[id], "
            "GET [base]/Patient/_history?identifier=, GET [base]/Patient/"
            "_identifiersOnly?identifier=, GET [base]/Patient/[id]/_history "
            "and GET [base]/Patient/[id]/_identifiersOnly as "
            "GetDemographics; every answer a SearchResponseBundle. The "
            "operations $FindCandidates and $GetDemographics always answer "
            "with the IG's Bundles.");
    }
    ctx->resp.status = 200;
    ctx->resp.body = cs;
}
