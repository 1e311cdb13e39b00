/* cr_store_query: reads for the query operations (see the header). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_canon.h"
#include "fhir/cr_fhir_rules.h"
#include "fhir/cr_fhir_view.h"
#include "core/cr_json.h"
#include "store/cr_store_query.h"


const char *cr_store_query_mother_phn(const cr_patient_t *p)
{
    json_object *cont = cr_json_get_array(p->json, "contained");
    size_t i, j, n = cont ? json_object_array_length(cont) : 0;

    for (i = 0; i < n && i < 20; i++) {
        json_object *rp = json_object_array_get_idx(cont, i);
        const char *rt = cr_json_get_string(rp, "resourceType");
        json_object *ids;
        size_t m;
        if (rt == NULL || strcmp(rt, "RelatedPerson") != 0
            || !cr_fhir_rules_is_mother(rp)) {
            continue;
        }
        ids = cr_json_get_array(rp, "identifier");
        m = ids ? json_object_array_length(ids) : 0;
        for (j = 0; j < m && j < 20; j++) {
            json_object *id = json_object_array_get_idx(ids, j);
            const char *sys = cr_json_get_string(id, "system");
            const char *val = cr_json_get_string(id, "value");
            if (sys && val && strcmp(sys, CR_SYS_PHN) == 0) {
                return val;
            }
        }
    }
    return NULL;
}

apr_status_t cr_store_query_write(cr_db_t *db, apr_pool_t *pool,
                                  const cr_patient_t *p)
{
    const char *args[3];
    const char *mother = cr_store_query_mother_phn(p);
    apr_status_t rv;

    args[0] = p->masked ? "1" : "0";
    args[1] = p->id;
    rv = cr_db_exec(db, pool, "cr_patient_query_set_masked", NULL, 2, args);
    if (rv != APR_SUCCESS || mother == NULL) {
        return rv;
    }
    args[0] = p->id;
    args[1] = CR_IDX_MOTHER_PHN;
    args[2] = mother;
    return cr_db_exec(db, pool, "cr_index_query_insert", NULL, 3, args);
}

apr_status_t cr_store_query_get(cr_query_row_t **out, cr_db_t *db,
                                apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    cr_query_row_t *q;
    const char *args[1], *v;
    apr_status_t rv;

    *out = NULL;
    args[0] = id;
    rv = cr_db_select(&rows, db, pool, "cr_patient_query_get", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    q = apr_pcalloc(pool, sizeof(*q));
    q->s.id = cr_db_cell(rows, 0, 0);
    q->s.version = apr_atoi64(cr_db_cell(rows, 0, 1));
    q->s.last_updated = cr_db_cell(rows, 0, 2);
    q->s.resource = cr_db_cell(rows, 0, 3);
    q->s.phn = cr_db_cell(rows, 0, 4);
    v = cr_db_cell(rows, 0, 5);
    q->s.active = v ? atoi(v) : 1;
    q->s.replaced_by = cr_db_cell(rows, 0, 6);
    v = cr_db_cell(rows, 0, 7);
    q->masked = v ? atoi(v) : 0;
    q->created = cr_db_cell(rows, 0, 8);
    *out = q;
    return APR_SUCCESS;
}

apr_status_t cr_store_query_identifier(const char **patient_id,
                                       const char **status, cr_db_t *db,
                                       apr_pool_t *pool, const char *system,
                                       const char *value)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    *patient_id = NULL;
    *status = NULL;
    args[0] = system;
    args[1] = value;
    rv = cr_db_select(&rows, db, pool, "cr_identifier_query_lookup", 2, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    *patient_id = cr_db_cell(rows, 0, 0);
    *status = cr_db_cell(rows, 0, 1) ? cr_db_cell(rows, 0, 1) : "active";
    return APR_SUCCESS;
}

apr_status_t cr_store_query_identifiers(apr_array_header_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *id, int max)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = id;
    args[1] = apr_itoa(pool, max);
    rv = cr_db_select(&rows, db, pool, "cr_identifier_query_list", max, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows + 1,
                          sizeof(cr_view_identifier_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_view_identifier_t *i = apr_array_push(*out);
        i->system = cr_db_cell(rows, r, 0);
        i->value = cr_db_cell(rows, r, 1);
        i->use = cr_db_cell(rows, r, 2);
        i->status = cr_db_cell(rows, r, 3);
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_query_versions(apr_array_header_t **out,
                                     int *truncated, cr_db_t *db,
                                     apr_pool_t *pool, const char *id,
                                     int max)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    *truncated = 0;
    args[0] = id;
    args[1] = apr_itoa(pool, max + 1);
    rv = cr_db_select(&rows, db, pool, "cr_version_query_recent", max + 1, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows > max) {
        *truncated = 1;
    }
    *out = apr_array_make(pool, rows->nrows + 1, sizeof(cr_view_version_t));
    /* Newest first from the database; the view wants oldest first. */
    for (r = rows->nrows > max ? max - 1 : rows->nrows - 1; r >= 0; r--) {
        const char *text = cr_db_cell(rows, r, 2);
        json_object *o = NULL;
        cr_view_version_t *v;
        if (text == NULL || cr_json_parse(&o, pool, text, strlen(text), NULL,
                                          NULL) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        v = apr_array_push(*out);
        v->version = apr_atoi64(cr_db_cell(rows, r, 0));
        v->time = cr_db_cell(rows, r, 1);
        v->resource = o;
    }
    return APR_SUCCESS;
}

static apr_status_t collect(apr_array_header_t *ids, apr_hash_t *seen,
                            cr_db_t *db, apr_pool_t *pool, const char *label,
                            int nargs, const char **args, int limit)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    int r;

    args[nargs] = apr_itoa(pool, limit);
    rv = cr_db_select(&rows, db, pool, label, limit, nargs + 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *id = cr_db_cell(rows, r, 0);
        if (id == NULL || apr_hash_get(seen, id, APR_HASH_KEY_STRING)) {
            continue;
        }
        apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
        APR_ARRAY_PUSH(ids, const char *) = id;
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_query_by_key(apr_array_header_t *ids, apr_hash_t *seen,
                                   cr_db_t *db, apr_pool_t *pool,
                                   const char *kind, const char *value,
                                   int limit)
{
    const char *args[3];

    args[0] = kind;
    args[1] = value;
    return collect(ids, seen, db, pool, "cr_index_query_eq", 2, args, limit);
}
