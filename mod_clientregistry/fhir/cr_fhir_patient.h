/* cr_fhir_patient: FHIR R4 Patient JSON <-> the registry's patient model,
 * with validation against the Client Registry Patient profile (bc-patient).
 *
 * The JSON document stays the source of truth for what is returned to
 * clients (unmodelled elements round-trip untouched); the model holds the
 * elements the registry reasons about: identifiers, names, telecoms,
 * addresses, gender and dates.  Parsing validates as it goes and reports
 * every problem it finds (not only the first) into a cr_outcome_t with the
 * element's FHIRPath as expression.
 */
#ifndef CR_FHIR_PATIENT_H
#define CR_FHIR_PATIENT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_canon.h"
#include "core/cr_model.h"
#include "core/cr_outcome.h"
#include "fhir/cr_fhir_check.h"

/* Classify an identifier system; *source (if not NULL) receives the
 * source-id of an SRI system (allocated from pool) or NULL. */
cr_id_kind_e cr_fhir_identifier_kind(const char **source, apr_pool_t *pool,
                                     const char *system);

/* Validate json as a bc-patient Patient and build its model.  root is the
 * FHIRPath prefix for expressions ("Patient", or a Bundle entry path).
 * now_day is today's date ("YYYY-MM-DD", UTC) for "not in the future"
 * checks.  Every problem found is appended to oc; returns APR_EINVAL when
 * any error was found (then *out is still set, for diagnostics), APR_SUCCESS
 * otherwise.  The model borrows strings from json. */
apr_status_t cr_fhir_patient_parse(cr_patient_t **out, apr_pool_t *pool,
                                   json_object *json, const char *root,
                                   const char *now_day,
                                   const cr_fhir_limits_t *limits,
                                   cr_outcome_t *oc);

/* Add a registry-assigned PHN identifier to the JSON document (and model)
 * with use official, type JHN, period.start = assigned_at and the
 * registry's assigner. */
void cr_fhir_patient_add_phn(cr_patient_t *p, apr_pool_t *pool,
                             const char *phn, const char *assigned_at);

/* Set id, meta.versionId and meta.lastUpdated on the JSON document,
 * keeping other meta elements (profile, tags, security). */
void cr_fhir_patient_set_meta(cr_patient_t *p, apr_pool_t *pool,
                              const char *id, apr_int64_t version,
                              const char *last_updated);

/* True when name characters are all acceptable in a person's name
 * (letters, marks, spaces, apostrophes, hyphens, periods, commas). */
int cr_fhir_name_chars_ok(const char *s);

#endif /* CR_FHIR_PATIENT_H */
