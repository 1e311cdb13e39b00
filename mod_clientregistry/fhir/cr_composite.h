/* cr_composite: the person (composite Patient) built from the attributes
 * its source records supplied, and the attributes of one source's
 * snapshot (the Patient of a Revise/Add request).
 *
 * An attribute is one FHIR element value: a name, telecom, address or
 * identifier (repeating kinds), or gender, birthDate, deceased,
 * multipleBirth (single-valued kinds, kept as the Patient members that
 * carry them, e.g. {"deceasedDateTime": ..., "_deceasedDateTime": ...}),
 * the mother of a newborn (a RelatedPerson), a merge link, or the
 * security labels of meta.security (single-valued: the newest snapshot's
 * labels, so that R/V restrict a client and N lifts that).  Values are
 * stored as JSON text without their period: the business period is kept
 * beside them, so that two snapshots sending the same value compare equal.
 *
 * Composite rules: repeating kinds list every current value once (first
 * supplier's business start), but at most one per name use, per telecom
 * system and use, per address type (CR-PAT-009): the newest business
 * start wins (later recorded on a tie), and a snapshot sending two
 * current values of one use has the older one ended where the newer
 * starts; single-valued kinds take the value with the
 * newest business start (later recorded wins a tie); the registry's own
 * identifiers (the PHN it assigned) come first.  Each element carries its
 * period.start and the bc-sourceId-extension of its supplier (removed by
 * the output policy, ops/cr_privacy, for callers that are not
 * privileged).  Identifiers of merged source records are
 * listed (the store marks them merged); their other values are not.
 */
#ifndef CR_COMPOSITE_H
#define CR_COMPOSITE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_canon.h"


/* Bound on the attributes of one snapshot / one person. */
#define CR_COMPOSITE_MAX_ATTRS 500

/* One attribute of a snapshot. */
typedef struct cr_snapattr_t {
    const char *kind;
    const char *value;         /* JSON text, canonical for comparison */
    const char *period_start;  /* business start or NULL */
    const char *period_end;    /* sent already ended, or NULL */
} cr_snapattr_t;

/* One current attribute of a person, as the store returns it. */
typedef struct cr_compattr_t {
    const char *kind;
    const char *value;
    const char *period_start;
    const char *source_system;
    const char *user_id;
    int merged;                /* from a source record merged in */
    int registry;              /* from the registry's own record */
} cr_compattr_t;

/* The root business date of a request Patient (bc-business-period-
 * extension valuePeriod.start), or NULL. */
const char *cr_composite_effective(json_object *patient);

/* The attributes of patient (a validated request Patient); elements
 * without their own period start get default_start.  Ends after
 * CR_COMPOSITE_MAX_ATTRS. */
apr_array_header_t *cr_composite_extract(apr_pool_t *pool,
                                         json_object *patient,
                                         const char *default_start);

/* The composite Patient of attrs (of cr_compattr_t), with id and active;
 * owned by pool.  meta is left to cr_fhir_patient_set_meta. */
json_object *cr_composite_build(apr_pool_t *pool,
                                const apr_array_header_t *attrs,
                                const char *id, int active);

/* Canonical JSON text of v (object keys sorted, no whitespace). */
const char *cr_composite_canonical(apr_pool_t *pool, json_object *v);

#endif /* CR_COMPOSITE_H */
