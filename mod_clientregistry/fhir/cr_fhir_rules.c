/* cr_fhir_rules: the business rules on a request Patient (see the
 * header).  Moved out of the operations so that they can be read and
 * tested without a database; the operations decide when each applies.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_canon.h"
#include "core/cr_phn.h"
#include "fhir/cr_fhir_rules.h"

/* ---- FindCandidates ----------------------------------------------------- */

static int has_wildcard(const char *s)
{
    return strpbrk(s, "*%?") != NULL;
}

static int wildcards(cr_outcome_t *oc, cr_bc_txn_e txn, json_object *o,
                     const char *path, int depth)
{
    int found = 0;

    if (depth > 8) {
        return 0;
    }
    if (json_object_is_type(o, json_type_string)) {
        if (has_wildcard(json_object_get_string(o))) {
            cr_bc_add(oc, txn, CR_BC_FC_WILDCARD, path, NULL);
            return 1;
        }
        return 0;
    }
    if (json_object_is_type(o, json_type_array)) {
        size_t i, n = json_object_array_length(o);
        for (i = 0; i < n && i < 100; i++) {
            found += wildcards(oc, txn, json_object_array_get_idx(o, i),
                               apr_psprintf(oc->pool, "%s[%d]", path,
                                            (int)i), depth + 1);
        }
        return found;
    }
    if (json_object_is_type(o, json_type_object)) {
        static const char *const searched[] = {
            "name", "telecom", "address", "birthDate", "gender",
            "identifier", NULL
        };
        json_object_object_foreach(o, k, v) {
            int i, keep = depth > 0;
            for (i = 0; !keep && searched[i]; i++) {
                keep = strcmp(k, searched[i]) == 0;
            }
            /* The search values only: not the narrative or meta, and not
             * codes or URLs (system, url, use, type). */
            if (!keep || strcmp(k, "system") == 0 || strcmp(k, "url") == 0
                || strcmp(k, "use") == 0 || strcmp(k, "type") == 0
                || strcmp(k, "extension") == 0 || strcmp(k, "period") == 0) {
                continue;
            }
            found += wildcards(oc, txn, v, apr_pstrcat(oc->pool, path, ".",
                                                       k, NULL), depth + 1);
        }
    }
    return found;
}

int cr_fhir_rules_is_mother(json_object *related)
{
    json_object *rels = cr_json_get_array(related, "relationship");
    size_t i, j, n = rels ? json_object_array_length(rels) : 0;

    for (i = 0; i < n && i < 20; i++) {
        json_object *cod = cr_json_get_array(
            json_object_array_get_idx(rels, i), "coding");
        size_t m = cod ? json_object_array_length(cod) : 0;
        for (j = 0; j < m && j < 20; j++) {
            json_object *c = json_object_array_get_idx(cod, j);
            const char *sys = cr_json_get_string(c, "system");
            const char *code = cr_json_get_string(c, "code");
            if (sys && code && strcmp(sys, CR_SYS_ROLE_CODE) == 0
                && strcmp(code, "NMTH") == 0) {
                return 1;
            }
        }
    }
    return 0;
}

int cr_fhir_rules_fc_wildcards(cr_outcome_t *oc, cr_bc_txn_e txn,
                               json_object *json, const char *path)
{
    return wildcards(oc, txn, json, path, 0);
}

int cr_fhir_rules_fc_criteria(cr_outcome_t *oc, cr_bc_txn_e txn,
                              const cr_patient_t *p, const char *root)
{
    int i, name = 0, second = 0;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->family && *n->family && n->given && n->given->nelts > 0) {
            name = 1;
        }
    }
    if (!name) {
        /* CR-FC-011, CR-FC-012 */
        cr_bc_add(oc, txn, CR_BC_FC_NAME,
                  apr_pstrcat(oc->pool, root, ".name", NULL), NULL);
    }
    second = p->birth_date != NULL;
    for (i = 0; i < p->addresses->nelts; i++) {
        const cr_address_t *a = &APR_ARRAY_IDX(p->addresses, i,
                                               cr_address_t);
        second |= (a->line && a->line->nelts > 0) || a->postal_code != NULL;
    }
    for (i = 0; i < p->telecoms->nelts; i++) {
        const cr_telecom_t *t = &APR_ARRAY_IDX(p->telecoms, i, cr_telecom_t);
        second |= t->system && strcmp(t->system, "phone") == 0 && t->value;
    }
    if (!second) {
        /* CR-FC-013 */
        cr_bc_add(oc, txn, CR_BC_FC_SECOND, root, NULL);
    }
    return name && second;
}

/* ---- GetDemographics ---------------------------------------------------- */

int cr_fhir_rules_gd_key(cr_outcome_t *oc, cr_bc_txn_e txn,
                         const char **system, const char *value,
                         const char *expr)
{
    cr_id_kind_e k = cr_fhir_identifier_kind(NULL, oc->pool, *system);

    if (k == CR_IDK_UNKNOWN) {
        /* CR-GD-009 */
        cr_bc_add(oc, txn, CR_BC_GD_SYSTEM,
                  expr ? apr_pstrcat(oc->pool, expr, ".system", NULL)
                       : NULL, "%.120s", *system);
        return 0;
    }
    if (k == CR_IDK_PHN) {
        cr_phn_result_e r = cr_phn_validate(value);
        if (r != CR_PHN_OK) {
            /* CR-GD-010 */
            cr_bc_add(oc, txn, CR_BC_GD_PHN,
                      expr ? apr_pstrcat(oc->pool, expr, ".value", NULL)
                           : NULL, "%s", cr_phn_result_text(r));
            return 0;
        }
        /* The legacy id-issuer/BC system names the same PHN. */
        *system = CR_SYS_PHN;
    }
    return 1;
}

/* ---- AddPatient / RevisePatient ----------------------------------------- */

int cr_fhir_rules_sri_chars_ok(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
              || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'
              || *s == '_' || *s == ':' || *s == '/')) {
            return 0;
        }
    }
    return 1;
}

int cr_fhir_rules_is_sri_system(const char *system)
{
    return strncmp(system, CR_SYS_SRI_PREFIX,
                   strlen(CR_SYS_SRI_PREFIX)) == 0
           || strncmp(system, CR_SYS_LEGACY_PREFIX,
                      strlen(CR_SYS_LEGACY_PREFIX)) == 0;
}

int cr_fhir_rules_names_ok(const cr_patient_t *p)
{
    int i, j;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->family && !cr_fhir_name_chars_ok(n->family)) {
            return 0;
        }
        for (j = 0; n->given && j < n->given->nelts; j++) {
            if (!cr_fhir_name_chars_ok(APR_ARRAY_IDX(n->given, j,
                                                     const char *))) {
                return 0;
            }
        }
    }
    return 1;
}

int cr_fhir_rules_address_ok(const cr_address_t *a)
{
    if (a->type == NULL && a->use == NULL) {
        return 0;
    }
    if (a->line == NULL || a->line->nelts == 0 || a->city == NULL) {
        return 0;
    }
    if (a->country && (strcmp(a->country, "CA") == 0
                       || strcmp(a->country, "US") == 0)
        && a->state == NULL) {
        return 0;
    }
    return 1;
}

int cr_fhir_rules_minimum_ok(const cr_patient_t *p, int has_phn)
{
    int i, name = 0, addr = 0;

    for (i = 0; i < p->names->nelts; i++) {
        const cr_name_t *n = &APR_ARRAY_IDX(p->names, i, cr_name_t);
        if (n->use && n->family && n->given && n->given->nelts > 0) {
            name = 1;
        }
    }
    for (i = 0; i < p->addresses->nelts; i++) {
        addr |= cr_fhir_rules_address_ok(&APR_ARRAY_IDX(p->addresses, i,
                                                        cr_address_t));
    }
    return name && p->birth_date && p->gender && (has_phn || addr);
}

int cr_fhir_rules_death_ok(const cr_patient_t *p)
{
    int i;

    if (p->deceased == NULL && cr_json_get(p->json, "deceasedBoolean")
        == NULL) {
        return 1;
    }
    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if (id->value && (id->kind == CR_IDK_PHN
                          || (id->kind == CR_IDK_INFOWAY && id->system
                              && strstr(id->system,
                                        "patient-healthcare-id")))) {
            return 1;
        }
    }
    return 0;
}

const cr_identifier_t *cr_fhir_rules_find_sri(const cr_patient_t *p)
{
    const cr_identifier_t *any = NULL;
    int i;

    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if ((id->kind == CR_IDK_SRI || id->kind == CR_IDK_LEGACY)
            && id->value && id->period.end == NULL) {
            if (id->use == NULL || strcmp(id->use, "secondary") != 0) {
                return id;
            }
            any = any ? any : id;
        }
    }
    return any;
}

int cr_fhir_rules_phn_bound(const char *source)
{
    return source && (strcmp(source, "HIBC") == 0
                      || strcmp(source, "MSP") == 0
                      || strcmp(source, CR_REGISTRY_CODE) == 0
                      || strcmp(source, "MOH") == 0);
}
