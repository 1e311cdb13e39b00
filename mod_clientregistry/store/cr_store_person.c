/* cr_store_person: the storage half of writing a person (see the
 * header). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_json.h"
#include "core/cr_phn.h"
#include "fhir/cr_composite.h"
#include "match/cr_index.h"
#include "store/cr_store_person.h"

apr_status_t cr_store_person_write(cr_db_t *db, apr_pool_t *pool,
                                   cr_patient_t *p, const char *id,
                                   apr_int64_t version, const cr_write_t *w)
{
    cr_index_t *ix;
    const char *resource;

    cr_fhir_patient_set_meta(p, pool, id, version, w->now);
    cr_index_build(&ix, pool, p);
    resource = cr_json_serialize(pool, p->json, NULL);
    if (version == 1) {
        return cr_store_patient_insert(db, pool, p, resource, ix, w);
    }
    return cr_store_patient_update(db, pool, p, version, resource, ix, w);
}

apr_status_t cr_store_person_assign_phn(cr_db_t *db, apr_pool_t *pool,
                                        cr_patient_t *p,
                                        const cr_phn_range_t *range,
                                        const char *now)
{
    char phn[CR_PHN_LEN + 1];
    apr_status_t rv;

    if (cr_model_find_identifier(p, CR_IDK_PHN) != NULL) {
        return APR_SUCCESS;
    }
    rv = cr_store_phn_allocate(phn, db, pool, range);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    cr_fhir_patient_add_phn(p, pool, phn, now);
    return APR_SUCCESS;
}

apr_status_t cr_store_person_identifier_taken(int *taken, cr_db_t *db,
                                              apr_pool_t *pool,
                                              const cr_patient_t *p,
                                              const char *self, int from)
{
    int i;

    *taken = -1;
    for (i = from; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        const char *owner = NULL;
        apr_status_t rv;
        if (id->value == NULL) {
            continue;
        }
        rv = cr_store_identifier_owner(&owner, db, pool, id->system,
                                       id->value);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (owner && (self == NULL || strcmp(owner, self) != 0)) {
            *taken = i;
            return APR_SUCCESS;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_person_mark_merged(cr_db_t *db, apr_pool_t *pool,
                                         const char *id,
                                         const apr_array_header_t *attrs)
{
    int i;

    for (i = 0; i < attrs->nelts; i++) {
        const cr_compattr_t *a = &APR_ARRAY_IDX(attrs, i, cr_compattr_t);
        json_object *v = NULL;
        const char *args[4];
        apr_status_t rv;
        if (!a->merged || strcmp(a->kind, "identifier") != 0
            || cr_json_parse(&v, pool, a->value, strlen(a->value), NULL,
                             NULL) != APR_SUCCESS) {
            continue;
        }
        args[0] = "merged";
        args[1] = id;
        args[2] = cr_json_get_string(v, "system");
        args[3] = cr_json_get_string(v, "value");
        if (args[2] == NULL || args[3] == NULL) {
            continue;
        }
        rv = cr_db_exec(db, pool, "cr_identifier_source_set_status", NULL,
                        4, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_person_ensure_records(cr_db_t *db, apr_pool_t *pool,
                                            const char *id,
                                            const cr_attr_prov_t *prov)
{
    const char *reg_id = cr_store_source_registry_id(pool, id);
    cr_source_rec_t *rec = NULL;
    cr_stored_t *cur = NULL;
    json_object *json = NULL;
    apr_array_header_t *snap;
    cr_attr_prov_t reg = *prov;
    apr_status_t rv;
    int i;

    rv = cr_store_source_get(&rec, db, pool, reg_id);
    if (rv != APR_NOTFOUND) {
        return rv;   /* there already, or a store error */
    }
    rv = cr_store_patient_get(&cur, db, pool, id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cr_json_parse(&json, pool, cur->resource, strlen(cur->resource),
                      NULL, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    snap = cr_composite_extract(pool, json, cur->last_updated);
    rv = cr_store_source_insert(db, pool, reg_id, id, CR_SOURCE_REGISTRY,
                                NULL, NULL, NULL, prov->now);
    reg.source_system = CR_SOURCE_REGISTRY;
    reg.user_id = NULL;
    for (i = 0; rv == APR_SUCCESS && i < snap->nelts; i++) {
        rv = cr_store_source_add(db, pool, reg_id, id,
                                 &APR_ARRAY_IDX(snap, i, cr_snapattr_t),
                                 &reg);
    }
    return rv;
}

apr_status_t cr_store_person_keep_in_sources(cr_db_t *db, apr_pool_t *pool,
                                             const cr_patient_t *p,
                                             const cr_attr_prov_t *prov)
{
    apr_array_header_t *recs = NULL, *snap;
    const char *reg_id = cr_store_source_registry_id(pool, p->id);
    apr_status_t rv;
    int i, has_reg = 0, changed = 0;

    rv = cr_store_source_list_patient(&recs, db, pool, p->id);
    if (rv != APR_SUCCESS || recs->nelts == 0) {
        return rv;
    }
    for (i = 0; i < recs->nelts; i++) {
        has_reg |= strcmp(APR_ARRAY_IDX(recs, i, const char *), reg_id) == 0;
    }
    if (!has_reg) {
        rv = cr_store_source_insert(db, pool, reg_id, p->id,
                                    CR_SOURCE_REGISTRY, NULL, NULL, NULL,
                                    prov->now);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    snap = cr_composite_extract(pool, p->json, prov->now);
    return cr_store_source_apply(&changed, db, pool, reg_id, p->id, snap,
                                 prov->now, prov);
}

apr_status_t cr_store_person_set_replaced_by(cr_db_t *db, apr_pool_t *pool,
                                             const char *id,
                                             const char *survivor)
{
    const char *args[2];

    args[0] = survivor;
    args[1] = id;
    return cr_db_exec(db, pool, "cr_patient_source_set_replaced_by", NULL, 2,
                      args);
}

apr_status_t cr_store_person_merge_insert(cr_db_t *db, apr_pool_t *pool,
                                          const cr_merge_event_t *e,
                                          const char *now,
                                          const char *message_id)
{
    const char *args[8];

    args[0] = e->id;
    args[1] = e->survivor_id;
    args[2] = e->nonsurvivor_id;
    args[3] = apr_psprintf(pool, "%" APR_INT64_T_FMT,
                           e->nonsurvivor_version);
    args[4] = e->ns_system;
    args[5] = e->ns_value;
    args[6] = now;
    args[7] = message_id;
    return cr_db_exec(db, pool, "cr_merge_insert", NULL, 8, args);
}

apr_status_t cr_store_person_merge_find(cr_merge_event_t **out,
                                        cr_db_t *db, apr_pool_t *pool,
                                        const char *system,
                                        const char *value)
{
    cr_db_rows_t *rows;
    cr_merge_event_t *e;
    const char *args[2];
    apr_status_t rv;

    *out = NULL;
    args[0] = system;
    args[1] = value;
    rv = cr_db_select(&rows, db, pool, "cr_merge_find", 1, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    e = apr_pcalloc(pool, sizeof(*e));
    e->id = cr_db_cell(rows, 0, 0);
    e->survivor_id = cr_db_cell(rows, 0, 1);
    e->nonsurvivor_id = cr_db_cell(rows, 0, 2);
    e->nonsurvivor_version = apr_atoi64(cr_db_cell(rows, 0, 3));
    e->ns_system = system;
    e->ns_value = value;
    *out = e;
    return APR_SUCCESS;
}

apr_status_t cr_store_person_merge_undo(cr_db_t *db, apr_pool_t *pool,
                                        const char *id, const char *now)
{
    const char *args[2];

    args[0] = now;
    args[1] = id;
    return cr_db_exec(db, pool, "cr_merge_undo", NULL, 2, args);
}
