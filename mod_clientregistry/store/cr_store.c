/* cr_store: patients, versions, identifiers, index keys, PHNs. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/cr_phn.h"
#include "store/cr_store.h"
#include "store/cr_store_pg.h"
#include "store/cr_store_query.h"

/* Bodies tried per allocation before giving up: externally issued PHNs
 * can occupy a run of bodies, but never this many in a row in practice. */
#define PHN_MAX_PROBES 10000

static const char *i64(apr_pool_t *pool, apr_int64_t v)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

/* Migrations are numbered per feature (docs/hacking.md); list here every
 * file of schema/ this build's statements need. */
const int cr_store_schema_required[] = { 1, 2, 3, 4, 5, 6, 8, 9, 10, 13, 0 };

apr_status_t cr_store_schema_version(int *out, int *exact, cr_db_t *db,
                                     apr_pool_t *pool)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    int r, i = 0, same = 1;

    *out = 0;
    if (exact) {
        *exact = 0;
    }
    rv = cr_db_select(&rows, db, pool, "cr_schema_version_list", 1000, 0,
                      NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        int v = atoi(cr_db_cell(rows, r, 0));
        *out = v > *out ? v : *out;
        if (cr_store_schema_required[i] != v) {
            same = 0;
        }
        else {
            i++;
        }
    }
    if (exact) {
        *exact = same && cr_store_schema_required[i] == 0;
    }
    return APR_SUCCESS;
}

static cr_stored_t *stored_from_patient_row(apr_pool_t *pool,
                                            const cr_db_rows_t *rows)
{
    cr_stored_t *s = apr_pcalloc(pool, sizeof(*s));
    const char *active;

    s->id = cr_db_cell(rows, 0, 0);
    s->version = apr_atoi64(cr_db_cell(rows, 0, 1));
    s->last_updated = cr_db_cell(rows, 0, 2);
    s->resource = cr_db_cell(rows, 0, 3);
    s->phn = cr_db_cell(rows, 0, 4);
    active = cr_db_cell(rows, 0, 5);
    s->active = active ? atoi(active) : 1;
    s->replaced_by = cr_db_cell(rows, 0, 6);
    return s;
}

static apr_status_t patient_get(cr_stored_t **out, cr_db_t *db,
                                apr_pool_t *pool, const char *label,
                                const char *key)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    *out = NULL;
    args[0] = key;
    rv = cr_db_select_one(&rows, db, pool, label, 1, args);
    if (rv == APR_SUCCESS) {
        *out = stored_from_patient_row(pool, rows);
    }
    return rv;
}

apr_status_t cr_store_patient_get(cr_stored_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *id)
{
    return patient_get(out, db, pool, "cr_patient_get", id);
}

apr_status_t cr_store_patient_get_by_phn(cr_stored_t **out, cr_db_t *db,
                                         apr_pool_t *pool, const char *phn)
{
    return patient_get(out, db, pool, "cr_patient_get_by_phn", phn);
}

static cr_stored_t *stored_from_version_row(apr_pool_t *pool,
                                            const cr_db_rows_t *rows, int r)
{
    cr_stored_t *s = apr_pcalloc(pool, sizeof(*s));

    s->id = cr_db_cell(rows, r, 0);
    s->version = apr_atoi64(cr_db_cell(rows, r, 1));
    s->last_updated = cr_db_cell(rows, r, 2);
    s->resource = cr_db_cell(rows, r, 3);
    s->operation = cr_db_cell(rows, r, 4);
    s->active = 1;
    return s;
}

apr_status_t cr_store_version_get(cr_stored_t **out, cr_db_t *db,
                                  apr_pool_t *pool, const char *id,
                                  apr_int64_t vid)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    *out = NULL;
    args[0] = id;
    args[1] = i64(pool, vid);
    rv = cr_db_select(&rows, db, pool, "cr_version_get", 1, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    *out = stored_from_version_row(pool, rows, 0);
    return APR_SUCCESS;
}

apr_status_t cr_store_history(apr_array_header_t **out, int *total,
                              cr_db_t *db, apr_pool_t *pool, const char *id,
                              int count, int offset)
{
    cr_db_rows_t *rows;
    const char *args[3];
    apr_status_t rv;
    apr_array_header_t *list;
    int r;

    *out = NULL;
    *total = 0;
    args[0] = id;
    rv = cr_db_select(&rows, db, pool, "cr_version_count", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *total = cr_db_cell(rows, 0, 0) ? atoi(cr_db_cell(rows, 0, 0)) : 0;
    args[1] = apr_itoa(pool, count);
    args[2] = apr_itoa(pool, offset);
    rv = cr_db_select(&rows, db, pool, "cr_version_list", count, 3, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    list = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(cr_stored_t *));
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(list, cr_stored_t *) =
            stored_from_version_row(pool, rows, r);
    }
    *out = list;
    return APR_SUCCESS;
}

apr_status_t cr_store_identifier_owner(const char **patient_id,
                                       cr_db_t *db, apr_pool_t *pool,
                                       const char *system,
                                       const char *value)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    *patient_id = NULL;
    args[0] = system;
    args[1] = value;
    rv = cr_db_select(&rows, db, pool, "cr_identifier_owner", 1, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *patient_id = cr_db_cell(rows, 0, 0);
    return APR_SUCCESS;
}

apr_status_t cr_store_phn_held(int *held, char phn[11], cr_db_t *db,
                               apr_pool_t *pool, apr_int64_t body)
{
    cr_db_rows_t *rows;
    const char *args[3];
    apr_status_t rv;

    *held = 0;
    if (cr_phn_format(phn, body) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* A PHN may also be held under a legacy system (id-issuer/BC): the
     * current-PHN column knows every one. */
    args[0] = CR_SYS_PHN;
    args[1] = phn;
    args[2] = phn;
    rv = cr_db_select(&rows, db, pool, "cr_phn_holder", 2, 3, args);
    if (rv == APR_SUCCESS) {
        *held = rows->nrows > 0;
    }
    return rv;
}

apr_status_t cr_store_phn_allocate(char phn[11], cr_db_t *db,
                                   apr_pool_t *pool,
                                   const cr_phn_range_t *range)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    apr_int64_t body;
    const char *args[1];
    int probes;

    if (!db->is_sqlite) {
        /* Writers in parallel: bodies from a sequence (cr_store_pg.c). */
        return cr_store_pg_phn_allocate(phn, db, pool, range);
    }
    /* CR-PHN-008, CR-PHN-010: allocation is serialized by the write
     * transaction; the UNIQUE (system, value) constraint backs it. */
    rv = cr_db_exec(db, pool, "cr_phn_lock", NULL, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_db_select(&rows, db, pool, "cr_phn_get", 1, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_EGENERAL;
    }
    body = apr_atoi64(cr_db_cell(rows, 0, 0));
    if (body < range->first) {
        body = range->first;
    }
    for (probes = 0; probes < PHN_MAX_PROBES; probes++) {
        int held = 0;
        body = cr_phn_next_usable_body(body);
        if (body < 0 || body > range->last) {
            /* CR-PHN-009: the configured range is used up. */
            return CR_DB_EXHAUSTED;
        }
        rv = cr_store_phn_held(&held, phn, db, pool, body);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (!held) {
            args[0] = i64(pool, body + 1);
            return cr_db_exec(db, pool, "cr_phn_set", NULL, 1, args);
        }
        body++;   /* issued elsewhere (external issuer): skip it */
    }
    return CR_DB_EXHAUSTED;
}

static apr_status_t write_keys(cr_db_t *db, apr_pool_t *pool,
                               const cr_patient_t *p, const cr_index_t *ix)
{
    const char **ids, **keys;
    apr_status_t rv;
    int i, n = 0;

    ids = apr_palloc(pool, sizeof(const char *) * 5
                           * (apr_size_t)(p->identifiers->nelts + 1));
    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if (id->value == NULL) {
            continue;
        }
        ids[5 * n] = p->id;
        ids[5 * n + 1] = id->system;
        ids[5 * n + 2] = id->value;
        ids[5 * n + 3] = id->use;
        ids[5 * n + 4] = "active";
        n++;
    }
    rv = cr_db_exec_rows(db, pool, "cr_identifier_insert", 8, 5, n, ids);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The keys in multi-row statements: a write's 20 to 40 keys cost
     * a few round trips instead of one each (PostgreSQL). */
    keys = apr_palloc(pool, sizeof(const char *) * 3
                            * (apr_size_t)(ix->rows->nelts + 1));
    for (i = 0; i < ix->rows->nelts; i++) {
        const cr_index_row_t *r = &APR_ARRAY_IDX(ix->rows, i,
                                                 cr_index_row_t);
        keys[3 * i] = p->id;
        keys[3 * i + 1] = r->kind;
        keys[3 * i + 2] = r->value;
    }
    return cr_db_exec_rows(db, pool, "cr_index_insert", 32, 3,
                           ix->rows->nelts, keys);
}

static apr_status_t write_version(cr_db_t *db, apr_pool_t *pool,
                                  const cr_patient_t *p, apr_int64_t version,
                                  const char *resource, const cr_write_t *w)
{
    const char *args[10];
    const cr_caller_t *c = w->caller;

    args[0] = p->id;
    args[1] = i64(pool, version);
    args[2] = w->now;
    args[3] = w->operation;
    args[4] = c ? c->source_system : NULL;
    args[5] = c ? c->org_id : NULL;
    args[6] = c ? c->user_id : NULL;
    args[7] = c ? c->client_dn : NULL;
    args[8] = w->message_id;
    args[9] = resource;
    return cr_db_exec_rows(db, pool, "cr_version_insert", 32, 10, 1, args);
}

static const char *current_phn(const cr_patient_t *p)
{
    const cr_identifier_t *id = cr_model_find_identifier(p, CR_IDK_PHN);
    return id ? id->value : NULL;
}

apr_status_t cr_store_patient_insert(cr_db_t *db, apr_pool_t *pool,
                                     const cr_patient_t *p,
                                     const char *resource,
                                     const cr_index_t *ix,
                                     const cr_write_t *w)
{
    const char *args[10];
    apr_status_t rv;

    args[0] = p->id;
    args[1] = current_phn(p);
    args[2] = "1";
    args[3] = w->now;
    args[4] = w->now;
    args[5] = p->active == 0 ? "0" : "1";
    args[6] = ix->gender;
    args[7] = ix->birth_lo;
    args[8] = ix->birth_hi;
    args[9] = resource;
    rv = cr_db_exec_rows(db, pool, "cr_patient_insert", 32, 10, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = write_version(db, pool, p, 1, resource, w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = write_keys(db, pool, p, ix);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The masked flag and a newborn's mother-PHN key (cr_store_query):
     * nothing to do for a new row that is neither (masked defaults to 0),
     * which spares a bulk load a round trip per patient; otherwise the
     * rows a load kept back go first, the update needs them. */
    if (!p->masked && cr_store_query_mother_phn(p) == NULL) {
        return APR_SUCCESS;
    }
    rv = cr_db_flush_rows(db);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return cr_store_query_write(db, pool, p);
}

apr_status_t cr_store_patient_update(cr_db_t *db, apr_pool_t *pool,
                                     const cr_patient_t *p,
                                     apr_int64_t version,
                                     const char *resource,
                                     const cr_index_t *ix,
                                     const cr_write_t *w)
{
    const char *args[10];
    apr_status_t rv;
    int n = 0;

    args[0] = current_phn(p);
    args[1] = i64(pool, version);
    args[2] = w->now;
    args[3] = p->active == 0 ? "0" : "1";
    args[4] = ix->gender;
    args[5] = ix->birth_lo;
    args[6] = ix->birth_hi;
    args[7] = resource;
    args[8] = p->id;
    args[9] = i64(pool, version - 1);
    rv = cr_db_exec(db, pool, "cr_patient_update", &n, 10, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (n != 1) {
        /* Another writer got there first: no lost update. */
        return CR_DB_CONFLICT;
    }
    rv = write_version(db, pool, p, version, resource, w);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    args[0] = p->id;
    rv = cr_db_exec(db, pool, "cr_identifier_delete_patient", NULL, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = cr_db_exec(db, pool, "cr_index_delete_patient", NULL, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = write_keys(db, pool, p, ix);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The masked flag and a newborn's mother-PHN key (cr_store_query). */
    return cr_store_query_write(db, pool, p);
}
