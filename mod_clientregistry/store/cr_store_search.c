/* cr_store_search: candidate look-up and filtering (see the header). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "match/cr_index.h"
#include "store/cr_store_search.h"

typedef struct idset_t {
    apr_hash_t *seen;
    apr_array_header_t *ids;
    int limit;
    int overflow;
} idset_t;

static apr_status_t collect(idset_t *set, cr_db_t *db, apr_pool_t *pool,
                            const char *label, int nargs, const char **args)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    int r;

    args[nargs] = apr_itoa(pool, set->limit + 1);
    rv = cr_db_select(&rows, db, pool, label, set->limit + 1, nargs + 1,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *id = cr_db_cell(rows, r, 0);
        if (id == NULL || apr_hash_get(set->seen, id, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (set->ids->nelts >= set->limit) {
            set->overflow = 1;
            return APR_SUCCESS;
        }
        apr_hash_set(set->seen, id, APR_HASH_KEY_STRING, id);
        APR_ARRAY_PUSH(set->ids, const char *) = id;
    }
    return APR_SUCCESS;
}

static int drivable(const cr_search_clause_t *c)
{
    int i;

    if (c->param != CR_SP_BIRTHDATE) {
        return 1;
    }
    for (i = 0; i < c->values->nelts; i++) {
        if (APR_ARRAY_IDX(c->values, i, cr_search_value_t).prefix
            == CR_PFX_NE) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t drive(idset_t *set, cr_db_t *db, apr_pool_t *pool,
                          const cr_search_clause_t *c)
{
    const char *args[5];
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (c == NULL) {
        return collect(set, db, pool, "cr_patient_search_all", 0, args);
    }
    for (i = 0; i < c->values->nelts && rv == APR_SUCCESS
                && !set->overflow; i++) {
        const cr_search_value_t *v = &APR_ARRAY_IDX(c->values, i,
                                                    cr_search_value_t);
        switch (c->param) {
        case CR_SP_ID:
            args[0] = v->term;
            rv = collect(set, db, pool, "cr_patient_search_id", 1, args);
            break;
        case CR_SP_IDENTIFIER:
            if (v->system && *v->system && v->term) {
                args[0] = v->system;
                args[1] = v->term;
                rv = collect(set, db, pool,
                             "cr_identifier_search_system_value", 2, args);
            }
            else if (v->system && *v->system == '\0') {
                /* "|value" asks for identifiers without a system: every
                 * stored identifier has one, so there are no candidates. */
                break;
            }
            else if (v->term) {
                args[0] = v->term;
                rv = collect(set, db, pool, "cr_identifier_search_value", 1,
                             args);
            }
            else {
                args[0] = v->system;
                rv = collect(set, db, pool, "cr_identifier_search_system",
                             1, args);
            }
            break;
        case CR_SP_PHONE:
        case CR_SP_EMAIL:
            args[0] = c->index_kind;
            args[1] = v->term;
            rv = collect(set, db, pool, "cr_index_search_eq", 2, args);
            break;
        case CR_SP_BIRTHDATE: {
            char lo[11], hi[11];
            cr_search_birth_driver_range(lo, hi, v);
            args[0] = apr_pstrdup(pool, lo);
            args[1] = apr_pstrdup(pool, hi);
            rv = collect(set, db, pool, "cr_patient_search_birth", 2, args);
            break;
        }
        case CR_SP_GENDER:
            args[0] = v->term;
            rv = collect(set, db, pool, "cr_patient_search_gender", 1, args);
            break;
        default:
            /* Prefix range on normalized keys: [term, term + 0x7f). */
            args[0] = c->index_kind;
            args[1] = v->term;
            args[2] = apr_pstrcat(pool, v->term, "\x7f", NULL);
            rv = collect(set, db, pool, "cr_index_search_range", 3, args);
            break;
        }
    }
    return rv;
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static apr_status_t load_target(cr_search_target_t *t, cr_db_t *db,
                                apr_pool_t *pool, const char *id,
                                int want_keys, int want_ids, int want_row)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    memset(t, 0, sizeof(*t));
    t->id = id;
    args[0] = id;
    if (want_row) {
        rv = cr_db_select(&rows, db, pool, "cr_patient_filter_row", 1, 1,
                          args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        t->gender = cr_db_cell(rows, 0, 1);
        t->birth_lo = cr_db_cell(rows, 0, 2);
        t->birth_hi = cr_db_cell(rows, 0, 3);
    }
    if (want_keys) {
        args[1] = apr_itoa(pool, CR_INDEX_MAX_ROWS);
        rv = cr_db_select(&rows, db, pool, "cr_index_get_patient",
                          CR_INDEX_MAX_ROWS, 2, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        t->keys = apr_hash_make(pool);
        t->key_list = apr_array_make(pool, rows->nrows + 1, sizeof(char *));
        for (r = 0; r < rows->nrows; r++) {
            const char *k = apr_pstrcat(pool, cr_db_cell(rows, r, 0), "|",
                                        cr_db_cell(rows, r, 1), NULL);
            apr_hash_set(t->keys, k, APR_HASH_KEY_STRING, k);
            APR_ARRAY_PUSH(t->key_list, const char *) = k;
        }
    }
    if (want_ids) {
        args[1] = "1000";
        rv = cr_db_select(&rows, db, pool, "cr_identifier_get_patient",
                          1000, 2, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        t->identifiers = apr_array_make(pool, rows->nrows + 1,
                                        sizeof(char *));
        for (r = 0; r < rows->nrows; r++) {
            APR_ARRAY_PUSH(t->identifiers, const char *) =
                apr_pstrcat(pool, cr_db_cell(rows, r, 0), "|",
                            cr_db_cell(rows, r, 1), NULL);
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_search(cr_search_result_t **out, cr_db_t *db,
                             apr_pool_t *pool, const cr_search_spec_t *spec,
                             int max_candidates)
{
    const cr_search_clause_t *driver = NULL;
    cr_search_result_t *res = apr_pcalloc(pool, sizeof(*res));
    idset_t set;
    apr_array_header_t *matches;
    apr_pool_t *scratch;
    int want_keys = 0, want_ids = 0, want_row = 0;
    int i, j;
    apr_status_t rv;

    *out = NULL;
    for (i = 0; i < spec->clauses->nelts; i++) {
        const cr_search_clause_t *c = &APR_ARRAY_IDX(spec->clauses, i,
                                                     cr_search_clause_t);
        if (drivable(c) && (driver == NULL || c->param < driver->param)) {
            driver = c;
        }
    }
    for (i = 0; i < spec->clauses->nelts; i++) {
        const cr_search_clause_t *c = &APR_ARRAY_IDX(spec->clauses, i,
                                                     cr_search_clause_t);
        if (c == driver && c->param != CR_SP_BIRTHDATE) {
            continue;
        }
        if (c->param == CR_SP_IDENTIFIER) {
            want_ids = 1;
        }
        else if (c->param == CR_SP_GENDER || c->param == CR_SP_BIRTHDATE) {
            want_row = 1;
        }
        else if (c->param != CR_SP_ID) {
            want_keys = 1;
        }
    }

    set.seen = apr_hash_make(pool);
    set.ids = apr_array_make(pool, 16, sizeof(const char *));
    set.limit = max_candidates;
    set.overflow = 0;
    rv = drive(&set, db, pool, driver);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (set.overflow) {
        return APR_ENOSPC;
    }
    qsort(set.ids->elts, set.ids->nelts, sizeof(const char *), cmp_ids);

    matches = apr_array_make(pool, set.ids->nelts + 1, sizeof(char *));
    apr_pool_create(&scratch, pool);
    for (i = 0; i < set.ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(set.ids, i, const char *);
        cr_search_target_t t;
        int ok = 1;
        apr_pool_clear(scratch);
        rv = load_target(&t, db, scratch, id, want_keys, want_ids, want_row);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(scratch);
            return rv;
        }
        for (j = 0; j < spec->clauses->nelts && ok; j++) {
            const cr_search_clause_t *c = &APR_ARRAY_IDX(spec->clauses, j,
                                                         cr_search_clause_t);
            if (c == driver && c->param != CR_SP_BIRTHDATE) {
                continue;
            }
            ok = cr_search_clause_matches(c, &t);
        }
        if (ok) {
            APR_ARRAY_PUSH(matches, const char *) = id;
        }
    }
    apr_pool_destroy(scratch);

    res->total = matches->nelts;
    res->page = apr_array_make(pool, spec->count + 1, sizeof(cr_stored_t *));
    for (i = spec->offset; i < matches->nelts
                           && res->page->nelts < spec->count; i++) {
        cr_stored_t *s = NULL;
        rv = cr_store_patient_get(&s, db, pool,
                                  APR_ARRAY_IDX(matches, i, const char *));
        if (rv == APR_NOTFOUND) {
            continue;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        APR_ARRAY_PUSH(res->page, cr_stored_t *) = s;
    }
    *out = res;
    return APR_SUCCESS;
}
