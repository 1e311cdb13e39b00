/* cr_fhir_bundle: building FHIR Bundles (searchset, history, collection). */
#ifndef CR_FHIR_BUNDLE_H
#define CR_FHIR_BUNDLE_H

#include <apr_pools.h>
#include <json-c/json.h>

/* A new Bundle of type (pool-owned) with id and meta.lastUpdated. */
json_object *cr_fhir_bundle_new(apr_pool_t *pool, const char *type,
                                const char *id, const char *last_updated);

/* Append an entry with fullUrl and resource; the bundle takes a new
 * reference to resource.  Returns the entry object. */
json_object *cr_fhir_bundle_add_entry(json_object *bundle,
                                      const char *full_url,
                                      json_object *resource);

/* Append link {relation, url}. */
void cr_fhir_bundle_add_link(json_object *bundle, const char *relation,
                             const char *url);

#endif /* CR_FHIR_BUNDLE_H */
