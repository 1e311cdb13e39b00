/* cr_capability: CapabilityStatement generation.
 *
 * Every list here is derived from the tables the server itself runs on
 * (the search parameter table of cr_search) or from the settings that
 * change behaviour (updateCreate), so the statement cannot drift from the
 * implementation.
 */
#include <apr_strings.h>

#include "cr_capability.h"
#include "cr_fhir_patient.h"
#include "cr_ops.h"

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
    }
    ctx->resp.status = 200;
    ctx->resp.body = cs;
}
