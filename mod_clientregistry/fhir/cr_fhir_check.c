/* cr_fhir_check: the generic FHIR element checker shared by the resource
 * validators: JSON shape (object, array, string), the allowed keys of an
 * element, FHIR primitive strings and codes from required bindings,
 * extensions and modifier extensions, dateTime, Period and
 * CodeableConcept, each problem recorded with its FHIRPath into a
 * cr_outcome_t.
 *
 * It knows no resource: what a Patient holds and which rules apply to it
 * is fhir/cr_fhir_patient's concern.  Problems of shape use the issue codes
 * "structure"/"value", bindings "code-invalid", limits "too-long" or
 * "too-costly", so that the service layer can tell a 400 from a 422.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_fhir_check.h"

const cr_fhir_limits_t cr_fhir_default_limits = {
    100,    /* max_repeats */
    4096    /* max_string */
};

const char *cr_fhir_check_path(cr_fhir_check_t *v, const char *base,
                               const char *elem)
{
    return apr_pstrcat(v->pool, base, ".", elem, NULL);
}

const char *cr_fhir_check_pathi(cr_fhir_check_t *v, const char *base,
                                const char *elem, int i)
{
    return apr_psprintf(v->pool, "%s.%s[%d]", base, elem, i);
}

static int in_set(const char *s, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(s, *set) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A JSON string that is a valid FHIR string: not empty, within limits,
 * not only white space. Returns the string or NULL (error recorded). */
const char *cr_fhir_check_string(cr_fhir_check_t *v, json_object *o,
                                 const char *expr)
{
    const char *s;
    int n;

    if (!json_object_is_type(o, json_type_string)) {
        CR_FHIR_CHECK_ERR(v, "structure", expr, "%s must be a JSON string",
                          expr);
        return NULL;
    }
    s = json_object_get_string(o);
    n = json_object_get_string_len(o);
    if (n == 0 || strspn(s, " \t\r\n") == (size_t)n) {
        CR_FHIR_CHECK_ERR(v, "value", expr,
                          "%s must not be empty or only white space", expr);
        return NULL;
    }
    if ((apr_size_t)n > v->lim->max_string) {
        CR_FHIR_CHECK_ERR(v, "too-long", expr,
                          "%s is longer than the configured limit", expr);
        return NULL;
    }
    return s;
}

const char *cr_fhir_check_opt_string(cr_fhir_check_t *v, json_object *parent,
                                     const char *key, const char *base)
{
    json_object *o = cr_json_get(parent, key);

    if (o == NULL) {
        return NULL;
    }
    return cr_fhir_check_string(v, o, cr_fhir_check_path(v, base, key));
}

/* Code from a required binding: a string in set. */
const char *cr_fhir_check_opt_code(cr_fhir_check_t *v, json_object *parent,
                                   const char *key, const char *base,
                                   const char *const *set, const char *set_desc)
{
    const char *expr = cr_fhir_check_path(v, base, key);
    const char *s = cr_fhir_check_opt_string(v, parent, key, base);

    if (s && !in_set(s, set)) {
        cr_outcome_add(v->oc, CR_SEV_ERROR, "code-invalid", NULL, expr,
                       "%s: '%.64s' is not in the value set (%s)", expr, s,
                       set_desc);
        v->errors++;
        return NULL;
    }
    return s;
}

/* Array of at most max_repeats elements, or NULL (absent or error). */
json_object *cr_fhir_check_opt_array(cr_fhir_check_t *v, json_object *parent,
                                     const char *key, const char *base)
{
    json_object *o = cr_json_get(parent, key);
    const char *expr;

    if (o == NULL) {
        return NULL;
    }
    expr = cr_fhir_check_path(v, base, key);
    if (!json_object_is_type(o, json_type_array)) {
        CR_FHIR_CHECK_ERR(v, "structure", expr, "%s must be a JSON array",
                          expr);
        return NULL;
    }
    if (json_object_array_length(o) == 0) {
        CR_FHIR_CHECK_ERR(v, "structure", expr, "%s must not be an empty array",
                          expr);
        return NULL;
    }
    if (json_object_array_length(o) > (size_t)v->lim->max_repeats) {
        CR_FHIR_CHECK_ERR(v, "too-costly", expr,
                          "%s has more elements than the configured limit",
                          expr);
        return NULL;
    }
    return o;
}

int cr_fhir_check_object(cr_fhir_check_t *v, json_object *o, const char *expr)
{
    if (!json_object_is_type(o, json_type_object)) {
        CR_FHIR_CHECK_ERR(v, "structure", expr, "%s must be a JSON object",
                          expr);
        return 0;
    }
    return 1;
}

/* Check that an object only has keys in allowed (plus "id", "extension"
 * which every element may carry). */
void cr_fhir_check_only_keys(cr_fhir_check_t *v, json_object *o,
                             const char *base, const char *const *allowed)
{
    json_object_object_foreach(o, key, val) {
        (void)val;
        if (val == NULL) {
            /* FHIR JSON has no null values: leave the element out. */
            const char *expr = cr_fhir_check_path(v, base, key);
            CR_FHIR_CHECK_ERR(v, "structure", expr, "%s must not be null",
                              expr);
            continue;
        }
        if (strcmp(key, "id") == 0 || strcmp(key, "extension") == 0) {
            continue;
        }
        if (!in_set(key, allowed)) {
            const char *expr = cr_fhir_check_path(v, base, key);
            CR_FHIR_CHECK_ERR(v, "structure", expr, "unknown element %s", expr);
        }
    }
}

int cr_fhir_check_absent_reason(json_object *elem)
{
    json_object *ext = cr_json_get_array(elem, "extension");
    size_t i, n;

    if (ext == NULL) {
        return 0;
    }
    n = json_object_array_length(ext);
    for (i = 0; i < n; i++) {
        const char *url = cr_json_get_string(
            json_object_array_get_idx(ext, i), "url");
        if (url && strcmp(url, CR_EXT_DATA_ABSENT) == 0) {
            return 1;
        }
    }
    return 0;
}

void cr_fhir_check_extensions(cr_fhir_check_t *v, json_object *parent,
                              const char *base)
{
    static const char *const ext_keys[] = {
        "url", "valueString", "valueCode", "valueBoolean", "valueInteger",
        "valueDate", "valueDateTime", "valuePeriod", "valueIdentifier",
        "valueCodeableConcept", "valueCoding", "valueReference",
        "valueDecimal", "valueUri", "valueInstant", "valueAddress",
        "valueHumanName", "valueContactPoint", "valueQuantity",
        "valueUrl", "valueCanonical", "valueId", "valueOid",
        "valueUnsignedInt", "valuePositiveInt", "valueMarkdown", NULL
    };
    json_object *arr = cr_fhir_check_opt_array(v, parent, "extension", base);
    size_t i, n;

    if (arr == NULL) {
        return;
    }
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *ep = cr_fhir_check_pathi(v, base, "extension", (int)i);
        const char *url;
        if (!cr_fhir_check_object(v, e, ep)) {
            continue;
        }
        url = cr_fhir_check_opt_string(v, e, "url", ep);
        if (cr_json_get(e, "url") == NULL) {
            CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, ep, "url"),
                              "%s is required",
                              cr_fhir_check_path(v, ep, "url"));
        }
        (void)url;
        cr_fhir_check_only_keys(v, e, ep, ext_keys);
        /* Complex extensions nest further extensions. */
        cr_fhir_check_extensions(v, e, ep);
    }
}

void cr_fhir_check_modifier(cr_fhir_check_t *v, json_object *parent,
                            const char *base)
{
    if (cr_json_get(parent, "modifierExtension")) {
        const char *expr = cr_fhir_check_path(v, base, "modifierExtension");
        cr_outcome_add(v->oc, CR_SEV_ERROR, "not-supported", NULL, expr,
                       "%s: the registry understands no modifier "
                       "extensions", expr);
        v->errors++;
    }
}

/* A primitive's "_element" sibling: only id and extension. */
void cr_fhir_check_primitive_ext(cr_fhir_check_t *v, json_object *parent,
                                 const char *key, const char *base)
{
    static const char *const none[] = { NULL };
    json_object *o = cr_json_get(parent, key);
    const char *expr;

    if (o == NULL) {
        return;
    }
    expr = cr_fhir_check_path(v, base, key);
    if (!cr_fhir_check_object(v, o, expr)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, expr, none);
    cr_fhir_check_extensions(v, o, expr);
}

const char *cr_fhir_check_opt_datetime(cr_fhir_check_t *v, json_object *parent,
                                       const char *key, const char *base,
                                       cr_datetime_t *dt_out)
{
    const char *expr = cr_fhir_check_path(v, base, key);
    const char *s = cr_fhir_check_opt_string(v, parent, key, base);
    cr_datetime_t dt;

    if (s == NULL) {
        return NULL;
    }
    if (cr_datetime_parse_datetime(&dt, s) != APR_SUCCESS) {
        cr_outcome_add(v->oc, CR_SEV_ERROR, "value", NULL, expr,
                       "%s: '%.40s' is not a valid FHIR dateTime "
                       "(YYYY, YYYY-MM, YYYY-MM-DD or "
                       "YYYY-MM-DDThh:mm:ss with a time zone)", expr, s);
        v->errors++;
        return NULL;
    }
    if (dt_out) {
        *dt_out = dt;
    }
    return s;
}

void cr_fhir_check_period(cr_fhir_check_t *v, json_object *parent,
                          const char *base, cr_period_t *out)
{
    static const char *const keys[] = { "start", "end", NULL };
    json_object *o = cr_json_get(parent, "period");
    const char *expr;
    cr_datetime_t ds, de;

    out->start = out->end = NULL;
    if (o == NULL) {
        return;
    }
    expr = cr_fhir_check_path(v, base, "period");
    if (!cr_fhir_check_object(v, o, expr)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, expr, keys);
    out->start = cr_fhir_check_opt_datetime(v, o, "start", expr, &ds);
    out->end = cr_fhir_check_opt_datetime(v, o, "end", expr, &de);
    if (out->start && out->end) {
        char slo[11], shi[11], elo[11], ehi[11];
        cr_datetime_day_range(&ds, slo, shi);
        cr_datetime_day_range(&de, elo, ehi);
        if (strcmp(slo, ehi) > 0) {
            CR_FHIR_CHECK_ERR(v, "value", expr, "%s: start is after end", expr);
        }
    }
}

void cr_fhir_check_codeable(cr_fhir_check_t *v, json_object *o,
                            const char *expr, const char **first_code)
{
    static const char *const cc_keys[] = { "coding", "text", NULL };
    static const char *const coding_keys[] = {
        "system", "version", "code", "display", "userSelected", NULL
    };
    json_object *codings;
    size_t i, n;

    if (first_code) {
        *first_code = NULL;
    }
    if (!cr_fhir_check_object(v, o, expr)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, expr, cc_keys);
    cr_fhir_check_opt_string(v, o, "text", expr);
    codings = cr_fhir_check_opt_array(v, o, "coding", expr);
    if (codings == NULL) {
        return;
    }
    n = json_object_array_length(codings);
    for (i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(codings, i);
        const char *cp = cr_fhir_check_pathi(v, expr, "coding", (int)i);
        const char *code;
        if (!cr_fhir_check_object(v, c, cp)) {
            continue;
        }
        cr_fhir_check_only_keys(v, c, cp, coding_keys);
        cr_fhir_check_opt_string(v, c, "system", cp);
        cr_fhir_check_opt_string(v, c, "display", cp);
        cr_fhir_check_opt_string(v, c, "version", cp);
        code = cr_fhir_check_opt_string(v, c, "code", cp);
        if (first_code && *first_code == NULL) {
            *first_code = code;
        }
    }
}
