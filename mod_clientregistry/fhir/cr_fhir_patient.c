/* cr_fhir_patient: Patient JSON validation and model building, on the
 * generic element checker of fhir/cr_fhir_check.
 *
 * Validation follows the bc-patient profile (profiles.md section 1): the
 * BC value sets for name.use, telecom.system/use, address.type and
 * identifier.use, core AdministrativeGender, deceasedDateTime only, known
 * identifier systems, PHN check digits, FHIR primitive formats.  Problems
 * of shape (wrong JSON type, unknown element, malformed primitive) use the
 * issue codes "structure"/"value"; profile and business rules use
 * "code-invalid"/"business-rule", so the service layer can answer 400 for
 * the first kind and 422 for the second.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "fhir/cr_fhir_patient.h"
#include "core/cr_json.h"
#include "core/cr_phn.h"
#include "fhir/cr_fhir_check.h"
#include "core/cr_text.h"

cr_id_kind_e cr_fhir_identifier_kind(const char **source, apr_pool_t *pool,
                                     const char *system)
{
    apr_size_t n, pre, suf;

    if (source) {
        *source = NULL;
    }
    if (system == NULL) {
        return CR_IDK_UNKNOWN;
    }
    if (strcmp(system, CR_SYS_PHN) == 0) {
        return CR_IDK_PHN;
    }
    if (strcmp(system, CR_SYS_PHN_ENCRYPTED) == 0) {
        return CR_IDK_PHN_ENCRYPTED;
    }
    if (strcmp(system, CR_SYS_MSP) == 0) {
        return CR_IDK_MSP;
    }
    n = strlen(system);
    pre = sizeof(CR_SYS_SRI_PREFIX) - 1;
    suf = sizeof(CR_SYS_SRI_SUFFIX) - 1;
    if (n > pre + suf && strncmp(system, CR_SYS_SRI_PREFIX, pre) == 0
        && strcmp(system + n - suf, CR_SYS_SRI_SUFFIX) == 0) {
        apr_size_t i;
        for (i = pre; i < n - suf; i++) {
            char c = system[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '-')) {
                return CR_IDK_UNKNOWN;
            }
        }
        if (source) {
            *source = apr_pstrmemdup(pool, system + pre, n - suf - pre);
        }
        return CR_IDK_SRI;
    }
    pre = sizeof(CR_SYS_INFOWAY_PREFIX) - 1;
    if (n > pre && strncmp(system, CR_SYS_INFOWAY_PREFIX, pre) == 0) {
        apr_size_t i;
        for (i = pre; i < n; i++) {
            char c = system[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '-')) {
                return CR_IDK_UNKNOWN;
            }
        }
        return CR_IDK_INFOWAY;
    }
    pre = sizeof(CR_SYS_LEGACY_PREFIX) - 1;
    if (n > pre && strncmp(system, CR_SYS_LEGACY_PREFIX, pre) == 0) {
        apr_size_t i;
        for (i = pre; i < n; i++) {
            char c = system[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return CR_IDK_UNKNOWN;
            }
        }
        if (strcmp(system + pre, "BC") == 0) {
            return CR_IDK_PHN;
        }
        return CR_IDK_LEGACY;
    }
    return CR_IDK_UNKNOWN;
}

static void check_identifier(cr_fhir_check_t *v, json_object *o, const char *ip,
                             cr_patient_t *p)
{
    static const char *const keys[] = {
        "use", "type", "system", "value", "_value", "period", "assigner",
        "_use", "_system", NULL
    };
    static const char *const uses[] = { "official", "secondary", NULL };
    cr_identifier_t id;
    json_object *type, *assigner;

    memset(&id, 0, sizeof(id));
    if (!cr_fhir_check_object(v, o, ip)) {
        return;
    }
    id.json = o;
    cr_fhir_check_only_keys(v, o, ip, keys);
    cr_fhir_check_extensions(v, o, ip);
    id.use = cr_fhir_check_opt_code(v, o, "use", ip, uses,
                                    "official | secondary");
    id.system = cr_fhir_check_opt_string(v, o, "system", ip);
    id.value = cr_fhir_check_opt_string(v, o, "value", ip);
    cr_fhir_check_primitive_ext(v, o, "_value", ip);
    type = cr_json_get(o, "type");
    if (type) {
        cr_fhir_check_codeable(v, type, cr_fhir_check_path(v, ip, "type"),
                               &id.type_code);
    }
    assigner = cr_json_get(o, "assigner");
    if (assigner
        && cr_fhir_check_object(v, assigner,
                                cr_fhir_check_path(v, ip, "assigner"))) {
        static const char *const rk[] = {
            "reference", "type", "identifier", "display", NULL
        };
        cr_fhir_check_only_keys(v, assigner,
                                cr_fhir_check_path(v, ip, "assigner"), rk);
    }
    cr_fhir_check_period(v, o, ip, &id.period);
    if (cr_json_get(o, "system") == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, ip, "system"),
                          "%s is required: the registry identifies records by "
                          "system and value",
                          cr_fhir_check_path(v, ip, "system"));
        return;
    }
    if (id.system == NULL) {
        return;
    }
    if (cr_json_get(o, "value") == NULL
        && !cr_fhir_check_absent_reason(cr_json_get(o, "_value"))) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, ip, "value"),
                          "%s is required (or a data-absent-reason on _value)",
                          cr_fhir_check_path(v, ip, "value"));
    }
    id.kind = cr_fhir_identifier_kind(&id.source, v->pool, id.system);
    if (id.kind == CR_IDK_UNKNOWN) {
        const char *expr = cr_fhir_check_path(v, ip, "system");
        cr_outcome_add(v->oc, CR_SEV_ERROR, "code-invalid", NULL, expr,
                       "%s: '%.120s' is not an identifier system known to "
                       "the Client Registry", expr, id.system);
        v->errors++;
        return;
    }
    if (id.kind == CR_IDK_PHN && id.value) {
        /* CR-PHN-001, CR-PHN-002: reject a PHN failing its check digit. */
        cr_phn_result_e r = cr_phn_validate(id.value);
        if (r != CR_PHN_OK) {
            const char *expr = cr_fhir_check_path(v, ip, "value");
            cr_outcome_add(v->oc, CR_SEV_ERROR, "business-rule", NULL, expr,
                           "%s: not a valid PHN: %s", expr,
                           cr_phn_result_text(r));
            v->errors++;
            return;
        }
    }
    if (id.kind == CR_IDK_SRI && id.value) {
        /* CR-REV-009: forbidden special characters in a source record id. */
        const char *c;
        for (c = id.value; *c; c++) {
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
                  || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'
                  || *c == '_' || *c == ':' || *c == '/')) {
                const char *expr = cr_fhir_check_path(v, ip, "value");
                CR_FHIR_CHECK_ERR(v, "business-rule", expr,
                                  "%s: a source record identifier may "
                                  "contain only letters, digits and "
                                  "- . _ : /", expr);
                break;
            }
        }
    }
    *(cr_identifier_t *)apr_array_push(p->identifiers) = id;
}

int cr_fhir_name_chars_ok(const char *s)
{
    const unsigned char *c;

    for (c = (const unsigned char *)s; *c; c++) {
        if (*c >= 0x80) {
            continue;   /* letters beyond ASCII; UTF-8 checked by parser */
        }
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
            || *c == ' ' || *c == '\'' || *c == '-' || *c == '.'
            || *c == ',') {
            continue;
        }
        return 0;
    }
    return 1;
}

static const char *name_string(cr_fhir_check_t *v, json_object *o,
                               const char *expr)
{
    const char *s = cr_fhir_check_string(v, o, expr);

    if (s && !cr_fhir_name_chars_ok(s)) {
        /* CR-ADD-016 / CR-REV-013: we reject rather than filter. */
        CR_FHIR_CHECK_ERR(v, "business-rule", expr,
                          "%s contains characters not allowed in a name "
                          "(digits, wildcards, symbols or control "
                          "characters)", expr);
        return NULL;
    }
    return s;
}

static apr_array_header_t *string_list(cr_fhir_check_t *v, json_object *parent,
                                       const char *key, const char *base,
                                       int is_name)
{
    json_object *arr = cr_fhir_check_opt_array(v, parent, key, base);
    apr_array_header_t *out = apr_array_make(v->pool, 2, sizeof(char *));
    size_t i, n;

    if (arr == NULL) {
        return out;
    }
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        const char *ep = cr_fhir_check_pathi(v, base, key, (int)i);
        json_object *o = json_object_array_get_idx(arr, i);
        const char *s = is_name ? name_string(v, o, ep)
                                : cr_fhir_check_string(v, o, ep);
        if (s) {
            APR_ARRAY_PUSH(out, const char *) = s;
        }
    }
    return out;
}

static void check_name(cr_fhir_check_t *v, json_object *o, const char *np,
                       cr_patient_t *p)
{
    static const char *const keys[] = {
        "use", "text", "family", "given", "prefix", "suffix", "period",
        "_family", "_given", "_use", "_text", NULL
    };
    static const char *const uses[] = {
        "usual", "official", "nickname", NULL
    };
    cr_name_t nm;
    json_object *fam;

    memset(&nm, 0, sizeof(nm));
    if (!cr_fhir_check_object(v, o, np)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, np, keys);
    cr_fhir_check_extensions(v, o, np);
    nm.masked = cr_fhir_check_absent_reason(o);
    nm.use = cr_fhir_check_opt_code(v, o, "use", np, uses,
                                    "usual | official | nickname");
    nm.text = cr_fhir_check_opt_string(v, o, "text", np);
    fam = cr_json_get(o, "family");
    if (fam) {
        nm.family = name_string(v, fam, cr_fhir_check_path(v, np, "family"));
    }
    cr_fhir_check_primitive_ext(v, o, "_family", np);
    nm.given = string_list(v, o, "given", np, 1);
    string_list(v, o, "prefix", np, 0);
    string_list(v, o, "suffix", np, 0);
    cr_fhir_check_period(v, o, np, &nm.period);
    if (!nm.masked && fam == NULL && cr_json_get(o, "given") == NULL
        && cr_json_get(o, "text") == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", np,
                          "%s needs a family name, a given name or text", np);
        return;
    }
    *(cr_name_t *)apr_array_push(p->names) = nm;
}

static int phone_ok(const char *s)
{
    int digits = 0, i;

    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            digits++;
        }
        else if (c == '+' && i == 0) {
            continue;
        }
        else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
            return 0;
        }
    }
    return digits >= 7 && digits <= 15;
}

static int email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    const char *c;

    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@')) {
        return 0;
    }
    for (c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>'
            || *c == '(' || *c == ')' || *c == ',' || *c == ';'
            || *c == '\\' || *c == '"') {
            return 0;
        }
    }
    return 1;
}

static void check_telecom(cr_fhir_check_t *v, json_object *o, const char *tp,
                          cr_patient_t *p)
{
    static const char *const keys[] = {
        "system", "value", "use", "rank", "period", "_value", "_system",
        "_use", NULL
    };
    static const char *const systems[] = { "phone", "email", NULL };
    static const char *const uses[] = { "home", "work", "mobile", NULL };
    cr_telecom_t t;

    memset(&t, 0, sizeof(t));
    if (!cr_fhir_check_object(v, o, tp)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, tp, keys);
    cr_fhir_check_extensions(v, o, tp);
    cr_fhir_check_primitive_ext(v, o, "_value", tp);
    t.masked = cr_fhir_check_absent_reason(o)
               || cr_fhir_check_absent_reason(cr_json_get(o, "_value"));
    t.system = cr_fhir_check_opt_code(v, o, "system", tp, systems,
                                      "phone | email");
    t.use = cr_fhir_check_opt_code(v, o, "use", tp, uses,
                                   "home | work | mobile");
    t.value = cr_fhir_check_opt_string(v, o, "value", tp);
    cr_fhir_check_period(v, o, tp, &t.period);
    if (cr_json_get(o, "rank")) {
        json_object *rank = cr_json_get(o, "rank");
        if (!json_object_is_type(rank, json_type_int)) {
            CR_FHIR_CHECK_ERR(v, "structure", cr_fhir_check_path(v, tp, "rank"),
                              "%s must be a positive integer",
                              cr_fhir_check_path(v, tp, "rank"));
        }
        else if (json_object_get_int64(rank) < 1
                 || json_object_get_int64(rank) > 2147483647) {
            CR_FHIR_CHECK_ERR(v, "value", cr_fhir_check_path(v, tp, "rank"),
                              "%s must be a positive integer (1 to 2147483647)",
                              cr_fhir_check_path(v, tp, "rank"));
        }
    }
    if (t.masked) {
        *(cr_telecom_t *)apr_array_push(p->telecoms) = t;
        return;
    }
    if (cr_json_get(o, "system") == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, tp, "system"),
                          "%s is required",
                          cr_fhir_check_path(v, tp, "system"));
        return;
    }
    if (cr_json_get(o, "value") == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, tp, "value"),
                          "%s is required", cr_fhir_check_path(v, tp, "value"));
        return;
    }
    if (t.system && t.value) {
        if (strcmp(t.system, "phone") == 0 && !phone_ok(t.value)) {
            CR_FHIR_CHECK_ERR(v, "value", cr_fhir_check_path(v, tp, "value"),
                              "%s is not a telephone number (7 to 15 "
                              "digits, an optional leading +, spaces or "
                              "dashes)", cr_fhir_check_path(v, tp, "value"));
            return;
        }
        if (strcmp(t.system, "email") == 0 && !email_ok(t.value)) {
            CR_FHIR_CHECK_ERR(v, "value", cr_fhir_check_path(v, tp, "value"),
                              "%s is not an e-mail address (name@domain)",
                              cr_fhir_check_path(v, tp, "value"));
            return;
        }
    }
    *(cr_telecom_t *)apr_array_push(p->telecoms) = t;
}

static void check_address(cr_fhir_check_t *v, json_object *o, const char *ap,
                          cr_patient_t *p)
{
    static const char *const keys[] = {
        "use", "type", "text", "line", "city", "district", "state",
        "postalCode", "country", "period", "_line", "_city", "_type",
        "_use", "_postalCode", "_state", "_country", "_text", NULL
    };
    static const char *const uses[] = {
        "home", "work", "temp", "old", "billing", NULL
    };
    static const char *const types[] = { "postal", "physical", NULL };
    cr_address_t a;

    memset(&a, 0, sizeof(a));
    if (!cr_fhir_check_object(v, o, ap)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, ap, keys);
    cr_fhir_check_extensions(v, o, ap);
    a.masked = cr_fhir_check_absent_reason(o);
    a.use = cr_fhir_check_opt_code(v, o, "use", ap, uses,
                                   "home | work | temp | old | billing");
    a.type = cr_fhir_check_opt_code(v, o, "type", ap, types,
                                    "postal | physical");
    cr_fhir_check_opt_string(v, o, "text", ap);
    a.line = string_list(v, o, "line", ap, 0);
    a.city = cr_fhir_check_opt_string(v, o, "city", ap);
    cr_fhir_check_opt_string(v, o, "district", ap);
    a.state = cr_fhir_check_opt_string(v, o, "state", ap);
    a.postal_code = cr_fhir_check_opt_string(v, o, "postalCode", ap);
    a.country = cr_fhir_check_opt_string(v, o, "country", ap);
    cr_fhir_check_period(v, o, ap, &a.period);
    *(cr_address_t *)apr_array_push(p->addresses) = a;
}

static void check_link(cr_fhir_check_t *v, json_object *o, const char *lp)
{
    static const char *const keys[] = { "other", "type", NULL };
    static const char *const types[] = {
        "replaced-by", "replaces", "refer", "seealso", NULL
    };
    json_object *other;

    if (!cr_fhir_check_object(v, o, lp)) {
        return;
    }
    cr_fhir_check_only_keys(v, o, lp, keys);
    cr_fhir_check_extensions(v, o, lp);
    cr_fhir_check_opt_code(v, o, "type", lp, types,
                           "replaced-by | replaces | refer | seealso");
    other = cr_json_get(o, "other");
    if (other == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, lp, "other"),
                          "%s is required", cr_fhir_check_path(v, lp, "other"));
    }
    else {
        cr_fhir_check_object(v, other, cr_fhir_check_path(v, lp, "other"));
    }
    if (cr_json_get(o, "type") == NULL) {
        CR_FHIR_CHECK_ERR(v, "required", cr_fhir_check_path(v, lp, "type"),
                          "%s is required", cr_fhir_check_path(v, lp, "type"));
    }
}

apr_status_t cr_fhir_patient_parse(cr_patient_t **out, apr_pool_t *pool,
                                   json_object *json, const char *root,
                                   const char *now_day,
                                   const cr_fhir_limits_t *limits,
                                   cr_outcome_t *oc)
{
    static const char *const keys[] = {
        "resourceType", "meta", "implicitRules", "language", "text",
        "contained", "modifierExtension", "identifier", "active", "name",
        "telecom", "gender", "birthDate", "deceasedBoolean",
        "deceasedDateTime", "address", "maritalStatus",
        "multipleBirthBoolean", "multipleBirthInteger", "photo", "contact",
        "communication", "generalPractitioner", "managingOrganization",
        "link", "_active", "_gender", "_birthDate", "_deceasedDateTime",
        "_multipleBirthBoolean", "_multipleBirthInteger", "_implicitRules",
        "_language", "_id", NULL
    };
    static const char *const genders[] = {
        "male", "female", "other", "unknown", NULL
    };
    cr_fhir_check_t v;
    cr_patient_t *p;
    const char *rt;
    json_object *arr, *o;
    size_t i, n;

    v.pool = pool;
    v.oc = oc;
    v.lim = limits ? limits : &cr_fhir_default_limits;
    v.now_day = now_day;
    v.errors = 0;

    p = apr_pcalloc(pool, sizeof(*p));
    p->json = json;
    p->active = -1;
    p->identifiers = apr_array_make(pool, 4, sizeof(cr_identifier_t));
    p->names = apr_array_make(pool, 2, sizeof(cr_name_t));
    p->telecoms = apr_array_make(pool, 2, sizeof(cr_telecom_t));
    p->addresses = apr_array_make(pool, 2, sizeof(cr_address_t));
    *out = p;

    if (!json_object_is_type(json, json_type_object)) {
        CR_FHIR_CHECK_ERR(&v, "structure", root, "%s must be a JSON object",
                          root);
        return APR_EINVAL;
    }
    rt = cr_json_get_string(json, "resourceType");
    if (rt == NULL || strcmp(rt, "Patient") != 0) {
        cr_outcome_add(oc, CR_SEV_ERROR, "invalid", NULL,
                       apr_pstrcat(pool, root, ".resourceType", NULL),
                       "expected a Patient resource, found '%.40s'",
                       rt ? rt : "(no resourceType)");
        return APR_EINVAL;
    }
    cr_fhir_check_only_keys(&v, json, root, keys);
    cr_fhir_check_extensions(&v, json, root);
    cr_fhir_check_modifier(&v, json, root);

    o = cr_json_get(json, "id");
    if (o) {
        const char *id = cr_fhir_check_string(&v, o,
                                              cr_fhir_check_path(&v, root,
                                                                 "id"));
        if (id && !cr_text_id_ok(id)) {
            CR_FHIR_CHECK_ERR(&v, "value", cr_fhir_check_path(&v, root, "id"),
                              "%s must be 1 to 64 letters, digits, '-' or '.'",
                              cr_fhir_check_path(&v, root, "id"));
        }
        else {
            p->id = id;
        }
    }
    o = cr_json_get(json, "meta");
    if (o
        && cr_fhir_check_object(&v, o, cr_fhir_check_path(&v, root, "meta"))) {
        /* A restricted record (operations.md 0.7): the store keeps the
         * flag so that queries can mask it. */
        json_object *sec = cr_json_get_array(o, "security");
        n = sec ? json_object_array_length(sec) : 0;
        for (i = 0; i < n && i < (size_t)v.lim->max_repeats; i++) {
            json_object *c = json_object_array_get_idx(sec, i);
            const char *sys = cr_json_get_string(c, "system");
            const char *code = cr_json_get_string(c, "code");
            if (sys && code && strcmp(sys, CR_SYS_CONFIDENTIALITY) == 0
                && (strcmp(code, "R") == 0 || strcmp(code, "V") == 0)) {
                p->masked = 1;
            }
        }
    }
    o = cr_json_get(json, "text");
    if (o) {
        cr_fhir_check_object(&v, o, cr_fhir_check_path(&v, root, "text"));
    }
    cr_fhir_check_opt_string(&v, json, "language", root);
    cr_fhir_check_opt_string(&v, json, "implicitRules", root);
    o = cr_json_get(json, "active");
    if (o) {
        if (!json_object_is_type(o, json_type_boolean)) {
            CR_FHIR_CHECK_ERR(&v, "structure",
                              cr_fhir_check_path(&v, root, "active"),
                              "%s must be true or false",
                              cr_fhir_check_path(&v, root, "active"));
        }
        else {
            p->active = json_object_get_boolean(o) ? 1 : 0;
        }
    }
    cr_fhir_check_primitive_ext(&v, json, "_active", root);

    if ((arr = cr_fhir_check_opt_array(&v, json, "identifier", root)) != NULL) {
        n = json_object_array_length(arr);
        for (i = 0; i < n; i++) {
            const char *ip = cr_fhir_check_pathi(&v, root, "identifier",
                                                 (int)i);
            check_identifier(&v, json_object_array_get_idx(arr, i), ip, p);
        }
    }
    if ((arr = cr_fhir_check_opt_array(&v, json, "name", root)) != NULL) {
        n = json_object_array_length(arr);
        for (i = 0; i < n; i++) {
            check_name(&v, json_object_array_get_idx(arr, i),
                       cr_fhir_check_pathi(&v, root, "name", (int)i), p);
        }
    }
    if ((arr = cr_fhir_check_opt_array(&v, json, "telecom", root)) != NULL) {
        n = json_object_array_length(arr);
        for (i = 0; i < n; i++) {
            check_telecom(&v, json_object_array_get_idx(arr, i),
                          cr_fhir_check_pathi(&v, root, "telecom", (int)i), p);
        }
    }
    if ((arr = cr_fhir_check_opt_array(&v, json, "address", root)) != NULL) {
        n = json_object_array_length(arr);
        for (i = 0; i < n; i++) {
            check_address(&v, json_object_array_get_idx(arr, i),
                          cr_fhir_check_pathi(&v, root, "address", (int)i), p);
        }
    }
    if ((arr = cr_fhir_check_opt_array(&v, json, "link", root)) != NULL) {
        n = json_object_array_length(arr);
        for (i = 0; i < n; i++) {
            check_link(&v, json_object_array_get_idx(arr, i),
                       cr_fhir_check_pathi(&v, root, "link", (int)i));
        }
    }
    cr_fhir_check_opt_array(&v, json, "contained", root);
    cr_fhir_check_opt_array(&v, json, "photo", root);
    cr_fhir_check_opt_array(&v, json, "contact", root);
    cr_fhir_check_opt_array(&v, json, "communication", root);
    cr_fhir_check_opt_array(&v, json, "generalPractitioner", root);
    o = cr_json_get(json, "maritalStatus");
    if (o) {
        cr_fhir_check_codeable(&v, o,
                               cr_fhir_check_path(&v, root, "maritalStatus"),
                               NULL);
    }

    p->gender = cr_fhir_check_opt_code(&v, json, "gender", root, genders,
                                       "male | female | other | unknown");
    cr_fhir_check_primitive_ext(&v, json, "_gender", root);

    o = cr_json_get(json, "birthDate");
    if (o) {
        const char *expr = cr_fhir_check_path(&v, root, "birthDate");
        const char *s = cr_fhir_check_string(&v, o, expr);
        cr_datetime_t dt;
        if (s && cr_datetime_parse_date(&dt, s) != APR_SUCCESS) {
            cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, expr,
                           "%s: '%.40s' is not a valid FHIR date "
                           "(YYYY, YYYY-MM or YYYY-MM-DD)", expr, s);
            v.errors++;
        }
        else if (s) {
            char lo[11], hi[11];
            cr_datetime_day_range(&dt, lo, hi);
            if (now_day && strcmp(lo, now_day) > 0) {
                CR_FHIR_CHECK_ERR(&v, "business-rule", expr,
                                  "%s is in the future", expr);
            }
            else {
                p->birth_date = s;
            }
        }
    }
    cr_fhir_check_primitive_ext(&v, json, "_birthDate", root);

    if (cr_json_get(json, "deceasedBoolean")) {
        /* CR-REV-019: the profile allows deceasedDateTime only. */
        const char *expr = cr_fhir_check_path(&v, root, "deceasedBoolean");
        cr_outcome_add(oc, CR_SEV_ERROR, "code-invalid", NULL, expr,
                       "%s is not allowed by the Client Registry profile: "
                       "send deceasedDateTime", expr);
        v.errors++;
    }
    {
        cr_datetime_t ddt, bdt;
        char dlo[11], dhi[11], blo[11], bhi[11];
        memset(&ddt, 0, sizeof(ddt));
        p->deceased = cr_fhir_check_opt_datetime(&v, json, "deceasedDateTime",
                                                 root, &ddt);
        cr_fhir_check_primitive_ext(&v, json, "_deceasedDateTime", root);
        /* Compare day ranges: a death in "1980" is not before a birth on
         * 1980-05-05; only a death wholly before the birth is. */
        if (p->deceased && p->birth_date
            && cr_datetime_parse_date(&bdt, p->birth_date) == APR_SUCCESS) {
            cr_datetime_day_range(&ddt, dlo, dhi);
            cr_datetime_day_range(&bdt, blo, bhi);
            if (strcmp(dhi, blo) < 0) {
                CR_FHIR_CHECK_ERR(&v, "business-rule",
                                  cr_fhir_check_path(&v, root,
                                                     "deceasedDateTime"),
                                  "%s is before the birth date",
                                  cr_fhir_check_path(&v, root,
                                                     "deceasedDateTime"));
            }
        }
    }

    if (cr_json_get(json, "multipleBirthBoolean")
        && cr_json_get(json, "multipleBirthInteger")) {
        CR_FHIR_CHECK_ERR(&v, "structure",
                          cr_fhir_check_path(&v, root, "multipleBirth[x]"),
                          "%s may appear only once",
                          cr_fhir_check_path(&v, root, "multipleBirth[x]"));
    }
    o = cr_json_get(json, "multipleBirthBoolean");
    if (o && !json_object_is_type(o, json_type_boolean)) {
        CR_FHIR_CHECK_ERR(&v, "structure",
                          cr_fhir_check_path(&v, root, "multipleBirthBoolean"),
                          "%s must be true or false",
                          cr_fhir_check_path(&v, root, "multipleBirthBoolean"));
    }
    o = cr_json_get(json, "multipleBirthInteger");
    if (o && json_object_is_type(o, json_type_int)
        && (json_object_get_int64(o) < 0
            || json_object_get_int64(o) > 2147483647)) {
        CR_FHIR_CHECK_ERR(&v, "value",
                          cr_fhir_check_path(&v, root, "multipleBirthInteger"),
                          "%s must be a whole number from 0 to 2147483647",
                          cr_fhir_check_path(&v, root, "multipleBirthInteger"));
    }
    else if (o && !json_object_is_type(o, json_type_int)) {
        CR_FHIR_CHECK_ERR(&v, "structure",
                          cr_fhir_check_path(&v, root, "multipleBirthInteger"),
                          "%s must be an integer",
                          cr_fhir_check_path(&v, root, "multipleBirthInteger"));
    }
    cr_fhir_check_primitive_ext(&v, json, "_multipleBirthBoolean", root);
    cr_fhir_check_primitive_ext(&v, json, "_multipleBirthInteger", root);

    /* A patient holds at most one current PHN. */
    {
        int phns = 0;
        for (i = 0; i < (size_t)p->identifiers->nelts; i++) {
            const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                       cr_identifier_t);
            if (id->kind == CR_IDK_PHN && id->period.end == NULL) {
                phns++;
            }
        }
        if (phns > 1) {
            CR_FHIR_CHECK_ERR(&v, "business-rule",
                              cr_fhir_check_path(&v, root, "identifier"),
                              "%s: a client holds at most one current PHN",
                              cr_fhir_check_path(&v, root, "identifier"));
        }
    }
    return v.errors ? APR_EINVAL : APR_SUCCESS;
}

void cr_fhir_patient_add_phn(cr_patient_t *p, apr_pool_t *pool,
                             const char *phn, const char *assigned_at)
{
    json_object *arr = cr_json_get_array(p->json, "identifier");
    json_object *id, *type, *coding, *c, *period, *assigner, *ext, *e;
    cr_identifier_t *mid;

    if (arr == NULL) {
        arr = cr_json_set_new_array(p->json, "identifier");
    }
    id = json_object_new_object();
    ext = cr_json_set_new_array(id, "extension");
    e = cr_json_array_add_object(ext);
    cr_json_set_string(e, "url", CR_EXT_IDENTIFIER_STATUS);
    cr_json_set_string(e, "valueCode", "active");
    cr_json_set_string(id, "use", "official");
    type = cr_json_set_new_object(id, "type");
    coding = cr_json_set_new_array(type, "coding");
    c = cr_json_array_add_object(coding);
    cr_json_set_string(c, "system", CR_SYS_V2_0203);
    cr_json_set_string(c, "code", "JHN");
    cr_json_set_string(id, "system", CR_SYS_PHN);
    cr_json_set_string(id, "value", phn);
    period = cr_json_set_new_object(id, "period");
    cr_json_set_string(period, "start", assigned_at);
    assigner = cr_json_set_new_object(id, "assigner");
    cr_json_set_string(assigner, "display", CR_PHN_ASSIGNER);
    /* The PHN leads the identifier list, as in the IG's responses; json-c
     * 0.16 has no insert, so the list is rebuilt. */
    {
        json_object *fresh = json_object_new_array();
        size_t i, n = json_object_array_length(arr);
        json_object_array_add(fresh, id);
        for (i = 0; i < n; i++) {
            json_object_array_add(fresh, json_object_get(
                json_object_array_get_idx(arr, i)));
        }
        json_object_object_add(p->json, "identifier", fresh);
    }

    mid = apr_array_push(p->identifiers);
    memset(mid, 0, sizeof(*mid));
    mid->system = CR_SYS_PHN;
    mid->value = apr_pstrdup(pool, phn);
    mid->use = "official";
    mid->type_code = "JHN";
    mid->kind = CR_IDK_PHN;
    mid->period.start = apr_pstrdup(pool, assigned_at);
    mid->json = id;
}

void cr_fhir_patient_set_meta(cr_patient_t *p, apr_pool_t *pool,
                              const char *id, apr_int64_t version,
                              const char *last_updated)
{
    json_object *meta = cr_json_get_object(p->json, "meta");
    json_object *fresh = json_object_new_object();

    cr_json_set_string(fresh, "versionId",
                       apr_psprintf(pool, "%" APR_INT64_T_FMT, version));
    cr_json_set_string(fresh, "lastUpdated", last_updated);
    if (meta) {
        json_object_object_foreach(meta, key, val) {
            if (strcmp(key, "versionId") == 0
                || strcmp(key, "lastUpdated") == 0) {
                continue;
            }
            json_object_object_add(fresh, key, json_object_get(val));
        }
    }
    /* Rebuild the resource in FHIR's element order (resourceType, id,
     * meta first), whatever order the client sent. */
    {
        static const char *const order[] = {
            "implicitRules", "language", "text", "contained", "extension",
            "modifierExtension", "identifier", "active", "name", "telecom",
            "gender", "birthDate", "deceasedBoolean", "deceasedDateTime",
            "address", "maritalStatus", "multipleBirthBoolean",
            "multipleBirthInteger", "photo", "contact", "communication",
            "generalPractitioner", "managingOrganization", "link", NULL
        };
        json_object *old = p->json;
        json_object *rebuilt = json_object_new_object();
        int i;
        cr_json_set_string(rebuilt, "resourceType", "Patient");
        cr_json_set_string(rebuilt, "id", id);
        json_object_object_add(rebuilt, "meta", fresh);
        for (i = 0; order[i]; i++) {
            json_object *v = cr_json_get(old, order[i]);
            char under[40];
            if (v) {
                json_object_object_add(rebuilt, order[i],
                                       json_object_get(v));
            }
            apr_snprintf(under, sizeof(under), "_%s", order[i]);
            v = cr_json_get(old, under);
            if (v) {
                json_object_object_add(rebuilt, under, json_object_get(v));
            }
        }
        {
            /* Anything else the validator let through keeps its place
             * at the end. */
            json_object_object_foreach(old, key, val) {
                if (cr_json_get(rebuilt, key) == NULL
                    && strcmp(key, "resourceType") != 0
                    && strcmp(key, "id") != 0 && strcmp(key, "meta") != 0) {
                    json_object_object_add(rebuilt, key,
                                           json_object_get(val));
                }
            }
        }
        p->json = cr_json_own(pool, rebuilt);
    }
    p->id = apr_pstrdup(pool, id);
}
