/* cr_search: search parameter parsing and candidate matching.
 *
 * Dates are compared as inclusive 'YYYY-MM-DD' day ranges, which is exact
 * for birthDate (a FHIR date).  For a value v = [vlo, vhi] and a target
 * t = [tlo, thi] the prefixes mean (FHIR R4 search, section 3.1.1.4.8):
 *   eq  t within v          ne  not eq
 *   lt  tlo < vlo           le  tlo <= vhi
 *   gt  thi > vhi           ge  thi >= vlo
 *   sa  tlo > vhi           eb  thi < vlo
 *   ap  t overlaps v widened by one year on each side (our choice; FHIR
 *       suggests 10% of the distance to now, which for birth dates is a
 *       few years -- one year keeps "approximately" tight for a registry).
 */
#include <string.h>
#include <stdlib.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "core/cr_text.h"
#include "match/cr_index.h"
#include "match/cr_search.h"

typedef struct param_def_t {
    const char *name;
    cr_sp_e param;
    const char *index_kind;
    const char *type;         /* FHIR search parameter type */
} param_def_t;

static const param_def_t params[] = {
    { "_id", CR_SP_ID, NULL, "token" },
    { "identifier", CR_SP_IDENTIFIER, NULL, "token" },
    { "phone", CR_SP_PHONE, CR_IDX_PHONE, "token" },
    { "email", CR_SP_EMAIL, CR_IDX_EMAIL, "token" },
    { "family", CR_SP_FAMILY, CR_IDX_FAMILY, "string" },
    { "given", CR_SP_GIVEN, CR_IDX_GIVEN, "string" },
    { "name", CR_SP_NAME, CR_IDX_NAME, "string" },
    { "address-postalcode", CR_SP_POSTAL, CR_IDX_POSTAL, "string" },
    { "birthdate", CR_SP_BIRTHDATE, NULL, "date" },
    { "gender", CR_SP_GENDER, NULL, "token" },
    { NULL, 0, NULL, NULL }
};

int cr_search_param_info(int i, const char **name, const char **type)
{
    if (i < 0 || i >= (int)(sizeof(params) / sizeof(params[0])) - 1) {
        return 0;
    }
    *name = params[i].name;
    *type = params[i].type;
    return 1;
}

/* Split a decoded value on commas not escaped by a backslash; "\," and
 * "\\" are unescaped. */
static apr_array_header_t *split_values(apr_pool_t *pool, const char *v,
                                        int max)
{
    apr_array_header_t *out = apr_array_make(pool, 2, sizeof(char *));
    apr_size_t n = strlen(v), i, o = 0;
    char *cur = apr_palloc(pool, n + 1);

    for (i = 0; i <= n; i++) {
        if (i == n || v[i] == ',') {
            cur[o] = '\0';
            if (out->nelts >= max) {
                return NULL;
            }
            APR_ARRAY_PUSH(out, const char *) = cur;
            cur = apr_palloc(pool, n + 1);
            o = 0;
        }
        else if (v[i] == '\\' && i + 1 < n
                 && (v[i + 1] == ',' || v[i + 1] == '\\'
                     || v[i + 1] == '|' || v[i + 1] == '$')) {
            cur[o++] = v[++i];
        }
        else {
            cur[o++] = v[i];
        }
    }
    return out;
}

static int parse_prefix(cr_prefix_e *out, const char **v)
{
    static const char *const names[] = {
        "eq", "ne", "lt", "gt", "le", "ge", "sa", "eb", "ap", NULL
    };
    int i;

    *out = CR_PFX_EQ;
    if (strlen(*v) < 2 || ((*v)[0] >= '0' && (*v)[0] <= '9')) {
        return 1;
    }
    for (i = 0; names[i]; i++) {
        if (strncmp(*v, names[i], 2) == 0) {
            *out = (cr_prefix_e)i;
            *v += 2;
            return 1;
        }
    }
    return 0;
}

/* One year earlier/later of a 'YYYY-MM-DD' day (Feb 29 -> Feb 28/Mar 1
 * is harmless for range widening: 02-29 compares between the two). */
static void shift_year(char out[11], const char *day, int delta)
{
    int y = atoi(day) + delta;

    if (y < 1) {
        y = 1;
    }
    if (y > 9999) {
        y = 9999;
    }
    apr_snprintf(out, 11, "%04d%s", y, day + 4);
}

static int add_value(apr_pool_t *pool, cr_search_clause_t *c,
                     const char *raw, cr_outcome_t *oc)
{
    cr_search_value_t *sv = apr_pcalloc(pool, sizeof(*sv));
    const char *expr = c->name;

    sv->raw = raw;
    if (*raw == '\0') {
        cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, expr,
                       "search parameter %s has an empty value", c->name);
        return 0;
    }
    if (strlen(raw) > 256) {
        cr_outcome_add(oc, CR_SEV_ERROR, "too-long", NULL, expr,
                       "search parameter %s: value longer than 256 bytes",
                       c->name);
        return 0;
    }
    switch (c->param) {
    case CR_SP_ID:
        sv->term = raw;
        break;
    case CR_SP_IDENTIFIER: {
        const char *bar = strchr(raw, '|');
        if (bar) {
            sv->system = bar == raw ? "" : apr_pstrmemdup(pool, raw,
                                                          bar - raw);
            sv->term = bar[1] ? bar + 1 : NULL;
            if (sv->term == NULL && *sv->system == '\0') {
                cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, expr,
                               "identifier: '|' needs a system or a "
                               "value");
                return 0;
            }
        }
        else {
            sv->term = raw;
        }
        break;
    }
    case CR_SP_GENDER: {
        static const char *const g[] = {
            "male", "female", "other", "unknown", NULL
        };
        int i, ok = 0;
        for (i = 0; g[i]; i++) {
            ok |= strcmp(raw, g[i]) == 0;
        }
        if (!ok) {
            cr_outcome_add(oc, CR_SEV_ERROR, "code-invalid", NULL, expr,
                           "gender: '%.20s' is not male, female, other or "
                           "unknown", raw);
            return 0;
        }
        sv->term = raw;
        break;
    }
    case CR_SP_BIRTHDATE: {
        const char *v = raw;
        cr_datetime_t dt;
        if (!parse_prefix(&sv->prefix, &v)
            || cr_datetime_parse_date(&dt, v) != APR_SUCCESS) {
            cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, expr,
                           "birthdate: '%.40s' is not [prefix]YYYY[-MM"
                           "[-DD]] with a prefix among eq ne lt gt le ge "
                           "sa eb ap", raw);
            return 0;
        }
        cr_datetime_day_range(&dt, sv->lo, sv->hi);
        break;
    }
    default: {
        const char *norm = NULL;
        if (cr_index_normalize_term(&norm, pool, c->index_kind, raw)
            != APR_SUCCESS || *norm == '\0') {
            cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, expr,
                           "search parameter %s: the value has nothing "
                           "searchable in it", c->name);
            return 0;
        }
        sv->term = norm;
        break;
    }
    }
    *(cr_search_value_t *)apr_array_push(c->values) = *sv;
    return 1;
}

static int parse_int_param(int *out, const char *v, int lo, int hi)
{
    char *end = NULL;
    long n;

    if (*v < '0' || *v > '9' || strlen(v) > 9) {
        return 0;   /* digits only: no sign, no white space */
    }
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        return 0;
    }
    *out = (int)n;
    return 1;
}

apr_status_t cr_search_parse(cr_search_spec_t **out, apr_pool_t *pool,
                             const char *query, int lenient,
                             const cr_search_limits_t *lim,
                             cr_outcome_t *oc)
{
    cr_search_spec_t *spec = apr_pcalloc(pool, sizeof(*spec));
    const char *p = query ? query : "";
    int nparams = 0, errors = 0;
    const char *canon = "";

    spec->clauses = apr_array_make(pool, 4, sizeof(cr_search_clause_t));
    spec->count = lim->default_count;
    *out = spec;

    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        const char *name = NULL, *value = NULL;
        const param_def_t *def;
        const char *colon;

        if (len == 0) {
            p = amp ? amp + 1 : p + len;
            continue;
        }
        if (++nparams > lim->max_params) {
            cr_outcome_add(oc, CR_SEV_ERROR, "too-costly", NULL, NULL,
                           "more than %d search parameters",
                           lim->max_params);
            return APR_EINVAL;
        }
        if (cr_text_url_decode(&name, pool, p, eq ? (apr_size_t)(eq - p) : len)
            != APR_SUCCESS
            || cr_text_url_decode(&value, pool, eq ? eq + 1 : p + len,
                                  eq ? len - (apr_size_t)(eq - p) - 1 : 0)
               != APR_SUCCESS) {
            cr_outcome_add(oc, CR_SEV_ERROR, "invalid", NULL, NULL,
                           "the query string has a bad %%-escape or is not "
                           "valid UTF-8");
            return APR_EINVAL;
        }
        p = amp ? amp + 1 : p + len;

        if (strcmp(name, "_format") == 0 || strcmp(name, "_pretty") == 0) {
            continue;   /* negotiated by the request layer */
        }
        if (strcmp(name, "_count") == 0) {
            if (!parse_int_param(&spec->count, value, 0, 1000000)) {
                cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, "_count",
                               "_count must be a whole number");
                errors++;
            }
            else if (spec->count > lim->max_count) {
                spec->count = lim->max_count;
            }
            continue;
        }
        if (strcmp(name, "_offset") == 0) {
            if (!parse_int_param(&spec->offset, value, 0, 100000000)) {
                cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, "_offset",
                               "_offset must be a whole number");
                errors++;
            }
            continue;
        }
        if (strcmp(name, "_total") == 0) {
            if (strcmp(value, "none") == 0) {
                spec->total_none = 1;
            }
            else if (strcmp(value, "accurate") != 0
                     && strcmp(value, "estimate") != 0) {
                cr_outcome_add(oc, CR_SEV_ERROR, "value", NULL, "_total",
                               "_total must be none, estimate or accurate");
                errors++;
            }
            continue;
        }
        colon = strchr(name, ':');
        for (def = params; def->name; def++) {
            if (colon ? (strncmp(name, def->name, colon - name) == 0
                         && def->name[colon - name] == '\0')
                      : strcmp(name, def->name) == 0) {
                break;
            }
        }
        if (def->name == NULL) {
            cr_outcome_add(oc, lenient ? CR_SEV_WARNING : CR_SEV_ERROR,
                           "not-supported", NULL, NULL,
                           "unknown search parameter '%.64s'%s", name,
                           lenient ? " (ignored)" : "");
            errors += lenient ? 0 : 1;
            continue;
        }
        if (colon) {
            cr_outcome_add(oc, lenient ? CR_SEV_WARNING : CR_SEV_ERROR,
                           "not-supported", NULL, NULL,
                           "search modifier '%.32s' is not supported",
                           colon);
            errors += lenient ? 0 : 1;
            continue;
        }
        {
            cr_search_clause_t *c = apr_array_push(spec->clauses);
            apr_array_header_t *vals = split_values(pool, value,
                                                    lim->max_values);
            int i;
            c->param = def->param;
            c->name = def->name;
            c->index_kind = def->index_kind;
            c->values = apr_array_make(pool, 2, sizeof(cr_search_value_t));
            if (vals == NULL) {
                cr_outcome_add(oc, CR_SEV_ERROR, "too-costly", NULL,
                               def->name, "search parameter %s has more "
                               "than %d values", def->name, lim->max_values);
                errors++;
                continue;
            }
            for (i = 0; i < vals->nelts; i++) {
                if (!add_value(pool, c,
                               APR_ARRAY_IDX(vals, i, const char *), oc)) {
                    errors++;
                }
            }
            canon = apr_pstrcat(pool, canon, *canon ? "&" : "", def->name,
                                "=", cr_text_url_encode(pool, value), NULL);
        }
    }
    spec->canonical_query = canon;
    return errors ? APR_EINVAL : APR_SUCCESS;
}

static int has_key(const cr_search_target_t *t, const char *kind,
                   const char *value)
{
    char buf[512];

    if (t->keys == NULL) {
        return 0;
    }
    apr_snprintf(buf, sizeof(buf), "%s|%s", kind, value);
    return apr_hash_get(t->keys, buf, APR_HASH_KEY_STRING) != NULL;
}

static int has_prefix_key(const cr_search_target_t *t, const char *kind,
                          const char *prefix)
{
    apr_size_t kl = strlen(kind), pl = strlen(prefix);
    int i;

    if (t->key_list == NULL) {
        return 0;
    }
    for (i = 0; i < t->key_list->nelts; i++) {
        const char *k = APR_ARRAY_IDX(t->key_list, i, const char *);
        if (strncmp(k, kind, kl) == 0 && k[kl] == '|'
            && strncmp(k + kl + 1, prefix, pl) == 0) {
            return 1;
        }
    }
    return 0;
}

static int date_matches(const cr_search_value_t *v, const char *tlo,
                        const char *thi)
{
    char wlo[11], whi[11];

    if (tlo == NULL || thi == NULL) {
        return 0;
    }
    switch (v->prefix) {
    case CR_PFX_EQ:
        return strcmp(tlo, v->lo) >= 0 && strcmp(thi, v->hi) <= 0;
    case CR_PFX_NE:
        return !(strcmp(tlo, v->lo) >= 0 && strcmp(thi, v->hi) <= 0);
    case CR_PFX_LT:
        return strcmp(tlo, v->lo) < 0;
    case CR_PFX_LE:
        /* Below the value overlaps the target, or the value contains it. */
        return strcmp(tlo, v->lo) < 0
               || (strcmp(tlo, v->lo) >= 0 && strcmp(thi, v->hi) <= 0);
    case CR_PFX_GT:
        return strcmp(thi, v->hi) > 0;
    case CR_PFX_GE:
        /* Above the value overlaps the target, or the value contains it. */
        return strcmp(thi, v->hi) > 0
               || (strcmp(tlo, v->lo) >= 0 && strcmp(thi, v->hi) <= 0);
    case CR_PFX_SA:
        return strcmp(tlo, v->hi) > 0;
    case CR_PFX_EB:
        return strcmp(thi, v->lo) < 0;
    case CR_PFX_AP:
        shift_year(wlo, v->lo, -1);
        shift_year(whi, v->hi, +1);
        return strcmp(thi, wlo) >= 0 && strcmp(tlo, whi) <= 0;
    }
    return 0;
}

void cr_search_birth_driver_range(char lo[11], char hi[11],
                                  const cr_search_value_t *v)
{
    /* A target's range is at most one year wide, so its low end lies
     * within a year below its high end. */
    switch (v->prefix) {
    case CR_PFX_EQ:
        apr_cpystrn(lo, v->lo, 11);
        apr_cpystrn(hi, v->hi, 11);
        break;
    case CR_PFX_LT:
    case CR_PFX_EB:
        apr_cpystrn(lo, "0001-01-01", 11);
        apr_cpystrn(hi, v->lo, 11);
        break;
    case CR_PFX_LE:
        apr_cpystrn(lo, "0001-01-01", 11);
        apr_cpystrn(hi, v->hi, 11);
        break;
    case CR_PFX_GT:
    case CR_PFX_SA:
        shift_year(lo, v->hi, -1);
        apr_cpystrn(hi, "9999-12-31", 11);
        break;
    case CR_PFX_GE:
        shift_year(lo, v->lo, -1);
        apr_cpystrn(hi, "9999-12-31", 11);
        break;
    case CR_PFX_AP:
        shift_year(lo, v->lo, -2);
        shift_year(hi, v->hi, +1);
        break;
    default:
        apr_cpystrn(lo, "0001-01-01", 11);
        apr_cpystrn(hi, "9999-12-31", 11);
        break;
    }
}

static int identifier_matches(const cr_search_value_t *v,
                              const cr_search_target_t *t)
{
    int i;

    if (t->identifiers == NULL) {
        return 0;
    }
    if (v->system && *v->system == '\0') {
        /* "|value": an identifier without a system; the registry stores
         * none, so nothing matches. */
        return 0;
    }
    for (i = 0; i < t->identifiers->nelts; i++) {
        const char *sv = APR_ARRAY_IDX(t->identifiers, i, const char *);
        const char *bar = strchr(sv, '|');
        apr_size_t sl = bar ? (apr_size_t)(bar - sv) : 0;
        if (bar == NULL) {
            continue;
        }
        if (v->system && *v->system
            && (strlen(v->system) != sl
                || strncmp(v->system, sv, sl) != 0)) {
            continue;
        }
        if (v->term && strcmp(v->term, bar + 1) != 0) {
            continue;
        }
        return 1;
    }
    return 0;
}

int cr_search_clause_matches(const cr_search_clause_t *c,
                             const cr_search_target_t *t)
{
    int i;

    for (i = 0; i < c->values->nelts; i++) {
        const cr_search_value_t *v = &APR_ARRAY_IDX(c->values, i,
                                                    cr_search_value_t);
        int ok = 0;
        switch (c->param) {
        case CR_SP_ID:
            ok = t->id && strcmp(t->id, v->term) == 0;
            break;
        case CR_SP_IDENTIFIER:
            ok = identifier_matches(v, t);
            break;
        case CR_SP_GENDER:
            ok = t->gender && strcmp(t->gender, v->term) == 0;
            break;
        case CR_SP_BIRTHDATE:
            ok = date_matches(v, t->birth_lo, t->birth_hi);
            break;
        case CR_SP_PHONE:
        case CR_SP_EMAIL:
            ok = has_key(t, c->index_kind, v->term);
            break;
        default:
            ok = has_prefix_key(t, c->index_kind, v->term);
            break;
        }
        if (ok) {
            return 1;
        }
    }
    return 0;
}

int cr_search_matches(const cr_search_spec_t *spec,
                      const cr_search_target_t *t)
{
    int i;

    for (i = 0; i < spec->clauses->nelts; i++) {
        if (!cr_search_clause_matches(&APR_ARRAY_IDX(spec->clauses, i,
                                                     cr_search_clause_t),
                                      t)) {
            return 0;
        }
    }
    return 1;
}
