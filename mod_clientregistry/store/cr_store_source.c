/* cr_store_source: source records and attributes (see the header). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_uuid.h>

#include "store/cr_store_source.h"

static const char *new_id(apr_pool_t *pool)
{
    apr_uuid_t u;
    char buf[APR_UUID_FORMATTED_LENGTH + 1];

    apr_uuid_get(&u);
    apr_uuid_format(buf, &u);
    return apr_pstrdup(pool, buf);
}

/* One source record by label (by SRI or by id). */
static apr_status_t get_one(cr_source_rec_t **out, cr_db_t *db,
                            apr_pool_t *pool, const char *label, int nargs,
                            const char *const *args)
{
    cr_db_rows_t *rows;
    cr_source_rec_t *r;
    apr_status_t rv;

    *out = NULL;
    rv = cr_db_select_one(&rows, db, pool, label, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    r = apr_pcalloc(pool, sizeof(*r));
    r->id = cr_db_cell(rows, 0, 0);
    r->patient_id = cr_db_cell(rows, 0, 1);
    r->source_system = cr_db_cell(rows, 0, 2);
    r->status = cr_db_cell(rows, 0, 3);
    r->version = apr_atoi64(cr_db_cell(rows, 0, 4));
    r->snapshot = cr_db_cell(rows, 0, 5);
    r->merge_id = cr_db_cell(rows, 0, 6);
    *out = r;
    return APR_SUCCESS;
}

apr_status_t cr_store_source_find(cr_source_rec_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *system,
                                  const char *value)
{
    const char *args[2];

    args[0] = system;
    args[1] = value;
    return get_one(out, db, pool, "cr_source_get_by_sri", 2, args);
}

apr_status_t cr_store_source_get(cr_source_rec_t **out, cr_db_t *db,
                                 apr_pool_t *pool, const char *id)
{
    const char *args[1];

    args[0] = id;
    return get_one(out, db, pool, "cr_source_get", 1, args);
}

const char *cr_store_source_registry_id(apr_pool_t *pool,
                                        const char *patient_id)
{
    return apr_pstrcat(pool, "reg:", patient_id, NULL);
}

apr_status_t cr_store_source_insert(cr_db_t *db, apr_pool_t *pool,
                                    const char *id, const char *patient_id,
                                    const char *source_system,
                                    const char *sri_system,
                                    const char *sri_value,
                                    const char *snapshot, const char *now)
{
    const char *args[8];

    args[0] = id;
    args[1] = patient_id;
    args[2] = source_system;
    args[3] = sri_system;
    args[4] = sri_value;
    args[5] = now;
    args[6] = now;
    args[7] = snapshot;
    return cr_db_exec(db, pool, "cr_source_insert", NULL, 8, args);
}

apr_status_t cr_store_source_touch(cr_db_t *db, apr_pool_t *pool,
                                   const char *id, const char *snapshot,
                                   const char *now)
{
    const char *args[3];

    args[0] = now;
    args[1] = snapshot;
    args[2] = id;
    return cr_db_exec(db, pool, "cr_source_update", NULL, 3, args);
}

apr_status_t cr_store_source_add(cr_db_t *db, apr_pool_t *pool,
                                 const char *id, const char *patient_id,
                                 const cr_snapattr_t *a,
                                 const cr_attr_prov_t *prov)
{
    const char *args[12];

    args[0] = new_id(pool);
    args[1] = patient_id;
    args[2] = id;
    args[3] = a->kind;
    args[4] = a->value;
    args[5] = a->period_start;
    args[6] = a->period_end;
    args[7] = prov->source_system;
    args[8] = prov->org_id;
    args[9] = prov->user_id;
    args[10] = prov->message_id;
    args[11] = prov->now;
    return cr_db_exec(db, pool, "cr_attr_insert", NULL, 12, args);
}

static apr_status_t end_one(cr_db_t *db, apr_pool_t *pool,
                            const char *attr_id, const char *end_date,
                            const char *now)
{
    const char *args[3];

    args[0] = end_date;
    args[1] = now;
    args[2] = attr_id;
    return cr_db_exec(db, pool, "cr_attr_end", NULL, 3, args);
}

apr_status_t cr_store_source_apply(int *changed, cr_db_t *db,
                                   apr_pool_t *pool, const char *id,
                                   const char *patient_id,
                                   const apr_array_header_t *snap,
                                   const char *end_date,
                                   const cr_attr_prov_t *prov)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_hash_t *want = apr_hash_make(pool), *have = apr_hash_make(pool);
    apr_status_t rv;
    int r, i;

    *changed = 0;
    for (i = 0; i < snap->nelts; i++) {
        const cr_snapattr_t *a = &APR_ARRAY_IDX(snap, i, cr_snapattr_t);
        if (a->period_end == NULL) {
            apr_hash_set(want, apr_pstrcat(pool, a->kind, "\n", a->value,
                                           NULL), APR_HASH_KEY_STRING, a);
        }
    }
    args[0] = id;
    args[1] = apr_itoa(pool, CR_COMPOSITE_MAX_ATTRS * 2);
    rv = cr_db_select(&rows, db, pool, "cr_attr_current_source",
                      CR_COMPOSITE_MAX_ATTRS * 2, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *key = apr_pstrcat(pool, cr_db_cell(rows, r, 1), "\n",
                                      cr_db_cell(rows, r, 2), NULL);
        if (apr_hash_get(want, key, APR_HASH_KEY_STRING)
            && !apr_hash_get(have, key, APR_HASH_KEY_STRING)) {
            apr_hash_set(have, key, APR_HASH_KEY_STRING, key);
            continue;   /* still sent: unchanged */
        }
        /* Not in the snapshot any more: the source ended it. */
        rv = end_one(db, pool, cr_db_cell(rows, r, 0), end_date, prov->now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        (*changed)++;
    }
    for (i = 0; i < snap->nelts; i++) {
        const cr_snapattr_t *a = &APR_ARRAY_IDX(snap, i, cr_snapattr_t);
        const char *key = apr_pstrcat(pool, a->kind, "\n", a->value, NULL);
        if (a->period_end == NULL
            && apr_hash_get(have, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if (a->period_end == NULL) {
            apr_hash_set(have, key, APR_HASH_KEY_STRING, key);
        }
        rv = cr_store_source_add(db, pool, id, patient_id, a, prov);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        (*changed)++;
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_source_end_kind(cr_db_t *db, apr_pool_t *pool,
                                      const char *id, const char *kind,
                                      const char *end_date,
                                      const char *now)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    args[0] = id;
    args[1] = apr_itoa(pool, CR_COMPOSITE_MAX_ATTRS * 2);
    rv = cr_db_select(&rows, db, pool, "cr_attr_current_source",
                      CR_COMPOSITE_MAX_ATTRS * 2, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        if (kind && strcmp(cr_db_cell(rows, r, 1), kind) != 0) {
            continue;
        }
        rv = end_one(db, pool, cr_db_cell(rows, r, 0), end_date, now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_source_attrs(apr_array_header_t **out, cr_db_t *db,
                                   apr_pool_t *pool,
                                   const char *patient_id)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_array_header_t *list;
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = patient_id;
    args[1] = apr_itoa(pool, CR_COMPOSITE_MAX_ATTRS * 4);
    rv = cr_db_select(&rows, db, pool, "cr_attr_current_patient",
                      CR_COMPOSITE_MAX_ATTRS * 4, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    list = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(cr_compattr_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_compattr_t *a = apr_array_push(list);
        const char *status = cr_db_cell(rows, r, 5);
        const char *rec_source = cr_db_cell(rows, r, 6);
        a->kind = cr_db_cell(rows, r, 0);
        a->value = cr_db_cell(rows, r, 1);
        a->period_start = cr_db_cell(rows, r, 2);
        a->source_system = cr_db_cell(rows, r, 3);
        a->user_id = cr_db_cell(rows, r, 4);
        a->merged = status && strcmp(status, "merged") == 0;
        a->registry = rec_source
                      && strcmp(rec_source, CR_REGISTRY_CODE) == 0;
    }
    *out = list;
    return APR_SUCCESS;
}

apr_status_t cr_store_source_end_value(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, const char *kind,
                                       const char *value,
                                       const char *end_date,
                                       const char *now)
{
    const char *args[5];

    args[0] = end_date;
    args[1] = now;
    args[2] = id;
    args[3] = kind;
    args[4] = value;
    return cr_db_exec(db, pool, "cr_attr_end_value", NULL, 5, args);
}

static apr_status_t list_ids(apr_array_header_t **out, cr_db_t *db,
                             apr_pool_t *pool, const char *label,
                             const char *key)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = key;
    args[1] = apr_itoa(pool, CR_SOURCE_MAX_RECORDS);
    rv = cr_db_select(&rows, db, pool, label, CR_SOURCE_MAX_RECORDS, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(const char *));
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(*out, const char *) = cr_db_cell(rows, r, 0);
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_source_list_patient(apr_array_header_t **out,
                                          cr_db_t *db, apr_pool_t *pool,
                                          const char *patient_id)
{
    return list_ids(out, db, pool, "cr_source_list_patient", patient_id);
}

apr_status_t cr_store_source_list_merge(apr_array_header_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *merge_id)
{
    return list_ids(out, db, pool, "cr_source_list_merge", merge_id);
}

apr_status_t cr_store_source_move(cr_db_t *db, apr_pool_t *pool,
                                  const char *id, const char *patient_id,
                                  const char *status, const char *merge_id,
                                  const char *now)
{
    const char *args[5];

    args[0] = patient_id;
    args[1] = status;
    args[2] = merge_id;
    args[3] = now;
    args[4] = id;
    return cr_db_exec(db, pool, "cr_source_move", NULL, 5, args);
}

apr_status_t cr_store_source_current(apr_array_header_t **out, cr_db_t *db,
                                     apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = id;
    args[1] = apr_itoa(pool, CR_COMPOSITE_MAX_ATTRS * 2);
    rv = cr_db_select(&rows, db, pool, "cr_attr_current_source",
                      CR_COMPOSITE_MAX_ATTRS * 2, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(cr_source_attr_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_source_attr_t *a = apr_array_push(*out);
        a->id = cr_db_cell(rows, r, 0);
        a->kind = cr_db_cell(rows, r, 1);
        a->value = cr_db_cell(rows, r, 2);
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_source_end(cr_db_t *db, apr_pool_t *pool,
                                 const char *attr_id, const char *end_date,
                                 const char *now)
{
    return end_one(db, pool, attr_id, end_date, now);
}
