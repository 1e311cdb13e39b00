/* cr_fhir_view: the composite Patient the registry returns from its
 * queries (GetDemographics, FindCandidates, the BC RESTful reads), built
 * from a patient's stored versions (operations.md section 2, profiles.md
 * sections 1-3).
 *
 * What it adds to the stored resource:
 *  - identifiers decorated with bc-identifier-status-extension (active |
 *    merged, from the store), use (official unless sent), period.start
 *    (when the identifier first appeared) and assigner.display (the PHN's
 *    registry and known source systems);
 *  - period.start on names, telecoms and addresses, a business period on
 *    gender, birthDate, deceasedDateTime and multipleBirth (when the
 *    current value took effect), bc-validation-status-extension on
 *    addresses (unknown when not validated);
 *  - with history: values that ended (period.end in the past) or that
 *    older versions held and the current one no longer does, as extra
 *    repeats with period.end, placed after the current value of the same
 *    use/system/type; earlier values of single-valued elements in the
 *    profile's bc-*-history-extensions; merged identifiers;
 *  - identifiersOnly: only id, meta and the identifiers;
 *  - masking: a restricted patient (meta.security v3-Confidentiality R or
 *    V, or the store's masked flag) gets data-absent-reason = masked in
 *    place of its names, telecoms, addresses, gender and birth date, and
 *    no history for them (operations.md 0.7).
 * The source's narrative (text) is never returned: it describes the
 * source's record, not the composite; nor is bc-sourceId-extension --
 * unless the input asks for the full view (in->full), which the services
 * render and the output policy (ops/cr_privacy) then masks and strips for
 * each caller (cr_fhir_view_mask).
 */
#ifndef CR_FHIR_VIEW_H
#define CR_FHIR_VIEW_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include <json-c/json.h>

/* One stored version. */
typedef struct cr_view_version_t {
    apr_int64_t version;
    const char *time;          /* FHIR instant it was written */
    json_object *resource;
} cr_view_version_t;

/* One identifier row of the store. */
typedef struct cr_view_identifier_t {
    const char *system;
    const char *value;
    const char *use;
    const char *status;        /* "active" | "merged" */
} cr_view_identifier_t;

typedef struct cr_view_input_t {
    json_object *current;      /* the current resource */
    const char *id;
    const char *last_updated;  /* of the current version */
    apr_array_header_t *versions;     /* of cr_view_version_t, oldest
                                         first, or NULL (current only) */
    apr_array_header_t *identifiers;  /* of cr_view_identifier_t or NULL */
    int masked;                /* the store's masked flag */
    int full;                  /* no masking, bc-sourceId-extensions kept:
                                  the output policy applies them later */
} cr_view_input_t;

typedef struct cr_view_options_t {
    int history;
    int identifiers_only;
    apr_time_t now;            /* for "period.end in the past" */
} cr_view_options_t;

/* The composite Patient (pool-owned).  It shares unchanged elements with
 * in's JSON, from which bc-sourceId-extensions are removed (CR-GD-024)
 * unless in->full: in's documents must not be used for anything else
 * afterwards. */
json_object *cr_fhir_view_patient(apr_pool_t *pool,
                                  const cr_view_input_t *in,
                                  const cr_view_options_t *opt);

/* Mask a restricted Patient (a stored resource or a rendered view) in
 * place, exactly as the view renders one (operations.md 0.7): each
 * current name, telecom and address becomes data-absent-reason = masked
 * (keeping use, telecom system, address type), ended ones are dropped
 * (no history), gender and birthDate give way to masked _gender and
 * _birthDate (no history extensions); photo, contact and the narrative
 * go.  Extensions of the other elements are left alone. */
void cr_fhir_view_mask(json_object *patient, apr_time_t now);

/* 1 when resource's meta.security says restricted (v3-Confidentiality R
 * or V). */
int cr_fhir_view_restricted(json_object *resource);

/* assigner.display for an identifier system: the registry's for a PHN,
 * the source system's name for an SRI/SSRI, NULL otherwise.  Allocated
 * from pool when derived. */
const char *cr_fhir_view_assigner(apr_pool_t *pool, const char *system);

/* 1 when the FHIR date/dateTime s lies wholly before now. */
int cr_fhir_view_in_past(const char *s, apr_time_t now);

#endif /* CR_FHIR_VIEW_H */
