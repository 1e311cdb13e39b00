/* cr_store_match_tune: the history of fits, the value counts of the
 * term-frequency adjustment and the tuner's claim row (see
 * cr_store_match_tune.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "store/cr_store_match_tune.h"

#define MAX_PARAM_ROWS (CR_MF_COUNT * CR_MATCH_MAX_LEVELS * 2)

static const char *num(apr_pool_t *pool, double v)
{
    return apr_psprintf(pool, "%.10g", v);
}

static const char *i64(apr_pool_t *pool, apr_int64_t v)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

static apr_status_t set_active(cr_db_t *db, apr_pool_t *pool,
                               apr_int64_t id)
{
    const char *args[1];

    args[0] = i64(pool, id);
    return cr_db_exec(db, pool, "cr_match_tune_set_active", NULL, 1, args);
}

apr_status_t cr_store_match_fit_save(apr_int64_t *id, cr_db_t *db,
                                     apr_pool_t *pool,
                                     const cr_match_params_t *p,
                                     const cr_store_match_estimate_t *info,
                                     const char *source)
{
    cr_db_rows_t *rows;
    const char *args[8];
    apr_int64_t fid;
    apr_status_t rv;
    int f, l;

    rv = cr_db_select(&rows, db, pool, "cr_match_fit_next_id", 1, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    fid = rows->nrows == 1 ? apr_atoi64(cr_db_cell(rows, 0, 0)) : 1;
    args[0] = i64(pool, fid);
    args[1] = info->estimated;
    args[2] = num(pool, p->lambda);
    args[3] = apr_ltoa(pool, info->records);
    args[4] = apr_ltoa(pool, info->pairs);
    args[5] = apr_itoa(pool, info->iterations);
    args[6] = apr_itoa(pool, info->converged);
    args[7] = source;
    rv = cr_db_exec(db, pool, "cr_match_fit_insert", NULL, 8, args);
    for (f = 0; rv == APR_SUCCESS && f < CR_MF_COUNT; f++) {
        for (l = 0; rv == APR_SUCCESS && l < cr_match_field_levels(f); l++) {
            args[1] = cr_match_field_name(f);
            args[2] = cr_match_level_name(f, l);
            args[3] = num(pool, p->m[f][l]);
            args[4] = num(pool, p->u[f][l]);
            rv = cr_db_exec(db, pool, "cr_match_fit_param_insert", NULL, 5,
                            args);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = cr_store_match_params_save(db, pool, p, info);
    }
    if (rv == APR_SUCCESS) {
        rv = set_active(db, pool, fid);
    }
    if (rv == APR_SUCCESS && id) {
        *id = fid;
    }
    return rv;
}

static void fit_of_row(cr_store_match_fit_t *f, const cr_db_rows_t *rows,
                       int r)
{
    f->id = apr_atoi64(cr_db_cell(rows, r, 0));
    f->fitted = cr_db_cell(rows, r, 1);
    f->lambda = atof(cr_db_cell(rows, r, 2));
    f->records = atol(cr_db_cell(rows, r, 3));
    f->pairs = atol(cr_db_cell(rows, r, 4));
    f->iterations = atoi(cr_db_cell(rows, r, 5));
    f->converged = atoi(cr_db_cell(rows, r, 6));
    f->source = cr_db_cell(rows, r, 7);
}

apr_status_t cr_store_match_fit_list(apr_array_header_t **out,
                                     apr_int64_t *active, cr_db_t *db,
                                     apr_pool_t *pool, int limit)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;
    int r;

    *out = apr_array_make(pool, 8, sizeof(cr_store_match_fit_t));
    *active = 0;
    if (limit < 1 || limit > CR_STORE_MATCH_MAX_FITS) {
        limit = CR_STORE_MATCH_MAX_FITS;
    }
    rv = cr_db_select(&rows, db, pool, "cr_match_tune_get", 1, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 1) {
        *active = apr_atoi64(cr_db_cell(rows, 0, 0));
    }
    args[0] = apr_itoa(pool, limit);
    rv = cr_db_select(&rows, db, pool, "cr_match_fit_list", limit, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        fit_of_row(apr_array_push(*out), rows, r);
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_match_fit_use(cr_db_t *db, apr_pool_t *pool,
                                    apr_int64_t id)
{
    cr_store_match_fit_t fit;
    cr_store_match_estimate_t est;
    cr_match_params_t p;
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    args[0] = i64(pool, id);
    rv = cr_db_select(&rows, db, pool, "cr_match_fit_get", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows != 1) {
        return APR_NOTFOUND;
    }
    fit_of_row(&fit, rows, 0);
    args[1] = apr_itoa(pool, MAX_PARAM_ROWS);
    rv = cr_db_select(&rows, db, pool, "cr_match_fit_params",
                      MAX_PARAM_ROWS, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Fields the fit does not cover keep the defaults. */
    cr_match_params_default(&p);
    cr_store_match_params_rows(&p, rows);
    p.lambda = fit.lambda;
    cr_match_params_finish(&p);
    est.estimated = fit.fitted;
    est.records = fit.records;
    est.pairs = fit.pairs;
    est.iterations = fit.iterations;
    est.converged = fit.converged;
    rv = cr_store_match_params_save(db, pool, &p, &est);
    if (rv == APR_SUCCESS) {
        rv = set_active(db, pool, id);
    }
    return rv;
}

apr_status_t cr_store_match_tune_claim(int *won, cr_db_t *db,
                                       apr_pool_t *pool, const char *until,
                                       const char *now)
{
    const char *args[2];
    int n = 0;
    apr_status_t rv;

    args[0] = until;
    args[1] = now;
    rv = cr_db_exec(db, pool, "cr_match_tune_claim", &n, 2, args);
    *won = rv == APR_SUCCESS && n == 1;
    return rv;
}

apr_status_t cr_store_match_tune_release(cr_db_t *db, apr_pool_t *pool)
{
    return cr_db_exec(db, pool, "cr_match_tune_release", NULL, 0, NULL);
}

apr_status_t cr_store_match_tune_records(long *n, cr_db_t *db,
                                         apr_pool_t *pool)
{
    cr_db_rows_t *rows;
    apr_status_t rv;

    *n = 0;
    rv = cr_db_select(&rows, db, pool, "cr_match_tune_records", 1, 0, NULL);
    if (rv == APR_SUCCESS && rows->nrows == 1) {
        *n = atol(cr_db_cell(rows, 0, 0));
    }
    return rv;
}

apr_status_t cr_store_match_freq_replace(cr_db_t *db, apr_pool_t *pool,
                                         const cr_store_match_freq_t *rows,
                                         int n)
{
    const char *args[4];
    apr_status_t rv;
    apr_pool_t *scratch;
    int i;

    rv = cr_db_exec(db, pool, "cr_match_freq_clear", NULL, 0, NULL);
    apr_pool_create(&scratch, pool);
    for (i = 0; rv == APR_SUCCESS && i < n; i++) {
        apr_pool_clear(scratch);
        args[0] = rows[i].field;
        args[1] = rows[i].value;
        args[2] = i64(scratch, rows[i].n);
        args[3] = num(scratch, rows[i].share);
        rv = cr_db_exec(db, scratch, "cr_match_freq_insert", NULL, 4, args);
    }
    apr_pool_destroy(scratch);
    return rv;
}

/* The adjustments of query q from rows holding ('tf:<field>', value, n,
 * share) among others. */
static void freq_of_rows(cr_match_tf_t *tf, const cr_match_record_t *q,
                         const cr_db_rows_t *rows)
{
    double n[CR_MATCH_TF_COUNT], total[CR_MATCH_TF_COUNT];
    double sumsq[CR_MATCH_TF_COUNT], floor_n[CR_MATCH_TF_COUNT];
    int i, r;

    memset(tf, 0, sizeof(*tf));
    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        tf->value[i] = cr_match_tf_value(q, i);
        n[i] = total[i] = sumsq[i] = 0.0;
        floor_n[i] = 1.0;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *field = cr_db_cell(rows, r, 0);
        const char *value = cr_db_cell(rows, r, 1);
        if (field == NULL || strncmp(field, "tf:", 3) != 0
            || value == NULL) {
            continue;
        }
        for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
            if (strcmp(field + 3, cr_match_tf_field_name(i)) == 0) {
                break;
            }
        }
        if (i == CR_MATCH_TF_COUNT) {
            continue;
        }
        if (*value == '\0') {
            total[i] = atof(cr_db_cell(rows, r, 2));
            sumsq[i] = atof(cr_db_cell(rows, r, 3));
        }
        else if (strcmp(value, "#") == 0) {
            floor_n[i] = atof(cr_db_cell(rows, r, 2));
        }
        else {
            n[i] = atof(cr_db_cell(rows, r, 2));
        }
    }
    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        if (*tf->value[i] != '\0') {
            tf->bits[i] = cr_match_tf_bits(n[i] > 0.0 ? n[i] : floor_n[i],
                                           total[i], sumsq[i]);
        }
    }
}

apr_status_t cr_store_match_freq_lookup(cr_match_tf_t *tf, cr_db_t *db,
                                        apr_pool_t *pool,
                                        const cr_match_record_t *q)
{
    const char *args[CR_MATCH_TF_COUNT];
    cr_db_rows_t *rows;
    apr_status_t rv;
    int i;

    /* '' never names a value: it finds just the summary rows. */
    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        args[i] = cr_match_tf_value(q, i);
    }
    memset(tf, 0, sizeof(*tf));
    rv = cr_db_select(&rows, db, pool, "cr_match_freq_lookup",
                      3 * CR_MATCH_TF_COUNT, CR_MATCH_TF_COUNT, args);
    if (rv == APR_SUCCESS) {
        freq_of_rows(tf, q, rows);
    }
    return rv;
}

/* The parameters a connection keeps between requests (in its conn_pool
 * under PARAMS_CACHE): those of the fit whose key (cr_match_fit_key_freq)
 * is key; "" for the defaults of a registry never fitted. */
#define PARAMS_CACHE "cr_store_match_params_cache"
#define PARAMS_KEY_MAX 160

typedef struct params_cache_t {
    int valid;
    char key[PARAMS_KEY_MAX];
    cr_match_params_t p;
} params_cache_t;

static params_cache_t *params_cache(cr_db_t *db)
{
    void *c = NULL;

    if (db->conn_pool == NULL) {
        return NULL;
    }
    apr_pool_userdata_get(&c, PARAMS_CACHE, db->conn_pool);
    if (c == NULL) {
        c = apr_pcalloc(db->conn_pool, sizeof(params_cache_t));
        apr_pool_userdata_setn(c, PARAMS_CACHE, NULL, db->conn_pool);
    }
    return c;
}

apr_status_t cr_store_match_params_freq_load(cr_match_params_t *p,
                                             cr_match_tf_t *tf,
                                             cr_db_t *db, apr_pool_t *pool,
                                             const cr_match_record_t *q)
{
    const char *args[CR_MATCH_TF_COUNT + 1];
    params_cache_t *cache = params_cache(db);
    const char *key = "";
    cr_db_rows_t *rows;
    apr_status_t rv;
    int i, r, max = MAX_PARAM_ROWS + 1 + 3 * CR_MATCH_TF_COUNT;

    for (i = 0; i < CR_MATCH_TF_COUNT; i++) {
        args[i] = cr_match_tf_value(q, i);
    }
    args[CR_MATCH_TF_COUNT] = apr_itoa(pool, max);
    cr_match_params_default(p);
    memset(tf, 0, sizeof(*tf));
    rv = cr_db_select(&rows, db, pool,
                      cache ? "cr_match_fit_key_freq"
                            : "cr_match_param_all_freq",
                      max, CR_MATCH_TF_COUNT + 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (cache == NULL) {
        /* As cr_store_match_params_load: no estimate row, the defaults. */
        cr_match_params_t stored = *p;
        stored.lambda = -1.0;
        cr_store_match_params_rows(&stored, rows);
        if (stored.lambda >= 0.0) {
            cr_match_params_finish(&stored);
            *p = stored;
        }
        freq_of_rows(tf, q, rows);
        return APR_SUCCESS;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *field = cr_db_cell(rows, r, 0);
        if (field && *field == '\0' && cr_db_cell(rows, r, 1)) {
            key = cr_db_cell(rows, r, 1);
        }
    }
    if (!cache->valid || strcmp(cache->key, key) != 0) {
        /* Another fit (or the first request on this connection): its
         * parameters, read after the key, so that the key kept is never
         * newer than the parameters kept with it. */
        cache->valid = 0;
        rv = cr_store_match_params_load(&cache->p, NULL, db, pool);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        cache->valid = strlen(key) < sizeof(cache->key);
        apr_cpystrn(cache->key, key, sizeof(cache->key));
    }
    *p = cache->p;
    freq_of_rows(tf, q, rows);
    return APR_SUCCESS;
}
