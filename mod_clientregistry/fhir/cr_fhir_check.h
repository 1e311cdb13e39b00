/* cr_fhir_check: the generic FHIR element checker (JSON shape, allowed
 * keys, primitive strings and codes, extensions, dateTime, Period,
 * CodeableConcept) that resource validators build on.  Every problem is
 * appended to the checker's outcome with the element's FHIRPath as
 * expression and counted in errors; the functions never stop at the
 * first one.  Strings returned are borrowed from the JSON document or
 * allocated from the checker's pool.
 */
#ifndef CR_FHIR_CHECK_H
#define CR_FHIR_CHECK_H

#include <apr_pools.h>
#include <json-c/json.h>

#include "core/cr_datetime.h"
#include "core/cr_model.h"
#include "core/cr_outcome.h"

/* Bounds on one resource. */
typedef struct cr_fhir_limits_t {
    int max_repeats;             /* elements in one repeating element */
    apr_size_t max_string;       /* bytes in one string element */
} cr_fhir_limits_t;

/* The limits used when a caller passes none. */
extern const cr_fhir_limits_t cr_fhir_default_limits;

/* One validation pass: where problems go and how many errors so far.
 * now_day ("YYYY-MM-DD", UTC, or NULL) is for "not in the future" rules
 * of the resource validators. */
typedef struct cr_fhir_check_t {
    apr_pool_t *pool;
    cr_outcome_t *oc;
    const cr_fhir_limits_t *lim;
    const char *now_day;
    int errors;
} cr_fhir_check_t;

/* Record an error (severity error, FHIR issue code, expression) with a
 * printf format of one argument and count it.  A macro, so that the
 * compiler checks each literal format. */
#define CR_FHIR_CHECK_ERR(v, code, expr, fmt, arg) \
    do { \
        cr_outcome_add((v)->oc, CR_SEV_ERROR, (code), NULL, (expr), fmt, \
                       (arg)); \
        (v)->errors++; \
    } while (0)

/* FHIRPath of a child element: "base.elem", and "base.elem[i]". */
const char *cr_fhir_check_path(cr_fhir_check_t *v, const char *base,
                               const char *elem);
const char *cr_fhir_check_pathi(cr_fhir_check_t *v, const char *base,
                                const char *elem, int i);

/* o as a FHIR string: a JSON string, not empty or only white space, at
 * most lim->max_string bytes.  The string, or NULL (error recorded). */
const char *cr_fhir_check_string(cr_fhir_check_t *v, json_object *o,
                                 const char *expr);

/* parent.key as a FHIR string (cr_fhir_check_string); NULL when absent
 * (no error) or invalid (error recorded). */
const char *cr_fhir_check_opt_string(cr_fhir_check_t *v,
                                     json_object *parent, const char *key,
                                     const char *base);

/* parent.key as a code from a required binding: a string in the NULL
 * ended set (set_desc names it in the message); NULL when absent or
 * invalid (error recorded, code-invalid). */
const char *cr_fhir_check_opt_code(cr_fhir_check_t *v, json_object *parent,
                                   const char *key, const char *base,
                                   const char *const *set,
                                   const char *set_desc);

/* parent.key as a repeating element: a non-empty JSON array of at most
 * lim->max_repeats elements.  NULL when absent or invalid. */
json_object *cr_fhir_check_opt_array(cr_fhir_check_t *v, json_object *parent,
                                     const char *key, const char *base);

/* 1 if o is a JSON object, else 0 (error recorded). */
int cr_fhir_check_object(cr_fhir_check_t *v, json_object *o,
                         const char *expr);

/* Record an error for every key of o not in the NULL ended allowed
 * (besides "id" and "extension", which every element may carry) and for
 * every null value. */
void cr_fhir_check_only_keys(cr_fhir_check_t *v, json_object *o,
                             const char *base, const char *const *allowed);

/* 1 if elem (may be NULL) carries a data-absent-reason extension. */
int cr_fhir_check_absent_reason(json_object *elem);

/* Check parent.extension: each an object with a url and one value[x],
 * nested extensions checked likewise. */
void cr_fhir_check_extensions(cr_fhir_check_t *v, json_object *parent,
                              const char *base);

/* Refuse parent.modifierExtension (not-supported): the registry
 * understands no modifier extension. */
void cr_fhir_check_modifier(cr_fhir_check_t *v, json_object *parent,
                            const char *base);

/* Check a primitive's "_key" sibling: an object with only id and
 * extension. */
void cr_fhir_check_primitive_ext(cr_fhir_check_t *v, json_object *parent,
                                 const char *key, const char *base);

/* parent.key as a FHIR dateTime; *dt_out (may be NULL) receives it
 * parsed.  The string, or NULL when absent or invalid. */
const char *cr_fhir_check_opt_datetime(cr_fhir_check_t *v,
                                       json_object *parent, const char *key,
                                       const char *base,
                                       cr_datetime_t *dt_out);

/* parent.period as a Period (start and end dateTimes, start not after
 * end) into *out; both NULL when absent. */
void cr_fhir_check_period(cr_fhir_check_t *v, json_object *parent,
                          const char *base, cr_period_t *out);

/* o as a CodeableConcept (coding[] of system, version, code, display,
 * userSelected; text).  *first_code (may be NULL) receives the code of
 * the first coding that has one, or NULL. */
void cr_fhir_check_codeable(cr_fhir_check_t *v, json_object *o,
                            const char *expr, const char **first_code);

#endif /* CR_FHIR_CHECK_H */
