/* cr_fhir_bundle: Bundle construction helpers. */
#include "fhir/cr_fhir_bundle.h"
#include "core/cr_json.h"

json_object *cr_fhir_bundle_new(apr_pool_t *pool, const char *type,
                                const char *id, const char *last_updated)
{
    json_object *b = cr_json_own(pool, json_object_new_object());

    cr_json_set_string(b, "resourceType", "Bundle");
    if (id) {
        cr_json_set_string(b, "id", id);
    }
    if (last_updated) {
        json_object *meta = cr_json_set_new_object(b, "meta");
        cr_json_set_string(meta, "lastUpdated", last_updated);
    }
    cr_json_set_string(b, "type", type);
    return b;
}

json_object *cr_fhir_bundle_add_entry(json_object *bundle,
                                      const char *full_url,
                                      json_object *resource)
{
    json_object *entries = cr_json_get_array(bundle, "entry");
    json_object *e;

    if (entries == NULL) {
        entries = cr_json_set_new_array(bundle, "entry");
    }
    e = cr_json_array_add_object(entries);
    cr_json_set_string(e, "fullUrl", full_url);
    if (resource) {
        json_object_object_add(e, "resource", json_object_get(resource));
    }
    return e;
}

void cr_fhir_bundle_add_link(json_object *bundle, const char *relation,
                             const char *url)
{
    json_object *links = cr_json_get_array(bundle, "link");
    json_object *l;

    if (links == NULL) {
        /* Links precede entries in the IG's examples; json-c keeps
         * insertion order, so callers add links before entries. */
        links = cr_json_set_new_array(bundle, "link");
    }
    l = cr_json_array_add_object(links);
    cr_json_set_string(l, "relation", relation);
    cr_json_set_string(l, "url", url);
}
