/* cr_store_match: candidates, parameters and the duplicate review list
 * (see cr_store_match.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "store/cr_store_match.h"

/* Rows of cr_match_param read at most (fields x levels, with room). */
#define MAX_PARAM_ROWS (CR_MF_COUNT * CR_MATCH_MAX_LEVELS * 2)

/* Records read per page by the estimation. */
#define RECORD_PAGE 500

/* Blocking keys per candidates statement (cr_match_candidates): a
 * record's keys (at most 19 from one name, birth date, phone, address and
 * PHN) go in one statement. */
#define KEYS_PER_QUERY 24

apr_status_t cr_store_match_candidates(apr_array_header_t **out,
                                       cr_db_t *db, apr_pool_t *pool,
                                       const apr_array_header_t *keys,
                                       const char *exclude_id, int per_key,
                                       int max_total)
{
    apr_array_header_t *list = apr_array_make(pool, 16,
                                              sizeof(cr_store_match_cand_t));
    apr_hash_t *seen = apr_hash_make(pool);
    const char *args[KEYS_PER_QUERY * 3 + 1];
    const char *limit = apr_itoa(pool, per_key);
    int k, i, r;

    *out = list;
    if (per_key < 1 || max_total < 1) {
        return APR_SUCCESS;
    }
    for (k = 0; k < keys->nelts && list->nelts < max_total;
         k += KEYS_PER_QUERY) {
        cr_db_rows_t *rows;
        apr_status_t rv;

        for (i = 0; i < KEYS_PER_QUERY; i++) {
            if (k + i < keys->nelts) {
                const cr_match_key_t *key = &APR_ARRAY_IDX(keys, k + i,
                                                           cr_match_key_t);
                args[i * 3] = key->kind;
                args[i * 3 + 1] = key->value;
                args[i * 3 + 2] = limit;
            }
            else {
                args[i * 3] = "";
                args[i * 3 + 1] = "";
                args[i * 3 + 2] = "0";
            }
        }
        args[KEYS_PER_QUERY * 3] = apr_itoa(pool, max_total + 1);
        rv = cr_db_select(&rows, db, pool, "cr_match_candidates",
                          max_total + 1, KEYS_PER_QUERY * 3 + 1, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (r = 0; r < rows->nrows && list->nelts < max_total; r++) {
            const char *id = cr_db_cell(rows, r, 0);
            cr_store_match_cand_t *c;
            if (id == NULL || (exclude_id && strcmp(id, exclude_id) == 0)
                || apr_hash_get(seen, id, APR_HASH_KEY_STRING)) {
                continue;
            }
            apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
            c = apr_array_push(list);
            c->id = id;
            c->record = cr_db_cell(rows, r, 1);
        }
    }
    return APR_SUCCESS;
}

/* Ids per cr_match_active query. */
#define ACTIVE_BATCH 10

apr_status_t cr_store_match_active(int *active, cr_db_t *db,
                                   apr_pool_t *pool, const char *const *ids,
                                   int n)
{
    const char *args[ACTIVE_BATCH];
    int b, i, r;

    for (b = 0; b < n; b += ACTIVE_BATCH) {
        cr_db_rows_t *rows;
        apr_status_t rv;

        for (i = 0; i < ACTIVE_BATCH; i++) {
            args[i] = b + i < n ? ids[b + i] : "";
            if (b + i < n) {
                active[b + i] = 0;
            }
        }
        rv = cr_db_select(&rows, db, pool, "cr_match_active", ACTIVE_BATCH,
                          ACTIVE_BATCH, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (r = 0; r < rows->nrows; r++) {
            const char *id = cr_db_cell(rows, r, 0);
            for (i = b; id && i < n && i < b + ACTIVE_BATCH; i++) {
                if (strcmp(ids[i], id) == 0) {
                    active[i] = 1;
                }
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_match_records(apr_array_header_t **out, cr_db_t *db,
                                    apr_pool_t *pool, const char *after_id,
                                    int limit)
{
    apr_array_header_t *list;
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = after_id ? after_id : "";
    args[1] = apr_itoa(pool, limit);
    rv = cr_db_select(&rows, db, pool, "cr_match_records_page", limit, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    list = apr_array_make(pool, rows->nrows + 1,
                          sizeof(cr_store_match_cand_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_store_match_cand_t *c = apr_array_push(list);
        c->id = cr_db_cell(rows, r, 0);
        c->record = cr_db_cell(rows, r, 1);
    }
    *out = list;
    return APR_SUCCESS;
}

/* Compare one stored record with its candidates and count the vectors. */
static apr_status_t tally_record(cr_match_tally_t *tally, long *pairs,
                                 cr_db_t *db, apr_pool_t *scratch,
                                 const cr_store_match_cand_t *c, int per_key,
                                 int max_candidates)
{
    cr_match_record_t rec, other;
    apr_array_header_t *keys = NULL, *cands;
    apr_status_t rv;
    int i;

    if (cr_match_record_parse(&rec, scratch, c->record) != APR_SUCCESS) {
        return APR_SUCCESS;     /* an unreadable record is skipped */
    }
    cr_match_keys(&keys, scratch, &rec, NULL);
    rv = cr_store_match_candidates(&cands, db, scratch, keys, c->id, per_key,
                                   max_candidates);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < cands->nelts; i++) {
        const cr_store_match_cand_t *o = &APR_ARRAY_IDX(
            cands, i, cr_store_match_cand_t);
        cr_match_vector_t v;
        if (cr_match_record_parse(&other, scratch, o->record)
            != APR_SUCCESS) {
            continue;
        }
        cr_match_compare(&v, &rec, &other);
        cr_match_tally_add(tally, &v);
        (*pairs)++;
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_match_tally(cr_match_tally_t *tally,
                                  cr_store_match_tally_info_t *info,
                                  cr_db_t *db, apr_pool_t *pool,
                                  long max_records, int per_key,
                                  int max_candidates,
                                  const cr_match_cancel_t *cancel)
{
    apr_pool_t *page_pool, *scratch;
    const char *after = "";
    long records = 0, pairs = 0;
    apr_status_t rv = APR_SUCCESS;
    int i, done = 0;

    apr_pool_create(&page_pool, pool);
    apr_pool_create(&scratch, pool);
    while (!done) {
        apr_array_header_t *page = NULL;
        const char *last = NULL;

        apr_pool_clear(page_pool);
        rv = cr_store_match_records(&page, db, page_pool, after,
                                    RECORD_PAGE);
        if (rv != APR_SUCCESS) {
            break;
        }
        if (page->nelts < RECORD_PAGE) {
            done = 1;
        }
        for (i = 0; i < page->nelts; i++) {
            const cr_store_match_cand_t *c = &APR_ARRAY_IDX(
                page, i, cr_store_match_cand_t);
            if (max_records > 0 && records >= max_records) {
                done = 1;
                break;
            }
            if (cr_match_cancelled(cancel)) {
                rv = CR_MATCH_CANCELLED;
                done = 1;
                break;
            }
            apr_pool_clear(scratch);
            rv = tally_record(tally, &pairs, db, scratch, c, per_key,
                              max_candidates);
            if (rv != APR_SUCCESS) {
                done = 1;
                break;
            }
            records++;
            last = c->id;
        }
        if (last == NULL) {
            done = 1;
        }
        else {
            /* The next page starts after the last id; copy it out of the
             * page pool before that is cleared. */
            after = apr_pstrdup(pool, last);
        }
    }
    apr_pool_destroy(scratch);
    apr_pool_destroy(page_pool);
    if (info) {
        info->records = records;
        info->pairs = pairs;
    }
    return rv;
}

apr_status_t cr_store_match_rekey(const char **last, int *done, int *skipped,
                                  cr_db_t *db, apr_pool_t *pool,
                                  const char *after_id, int limit)
{
    cr_db_rows_t *rows;
    apr_array_header_t *ids, *keys;
    const char *args[2];
    apr_status_t rv;
    int r, i;

    *last = NULL;
    *done = 0;
    *skipped = 0;
    args[0] = after_id ? after_id : "";
    args[1] = apr_itoa(pool, limit);
    rv = cr_db_select(&rows, db, pool, "cr_match_patients_page", limit, 2,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The page's new keys first, then one batch of deletes and one of
     * inserts (cr_db_exec_rows): a few statements per page rather than
     * one per key, which is what PostgreSQL's round trips need. */
    ids = apr_array_make(pool, rows->nrows + 1, sizeof(const char *));
    keys = apr_array_make(pool, 16 * (rows->nrows + 1),
                          sizeof(const char *));
    for (r = 0; r < rows->nrows; r++) {
        const char *id = cr_db_cell(rows, r, 0);
        const char *text = cr_db_cell(rows, r, 1);
        json_object *json = NULL;
        cr_patient_t *p = NULL;
        cr_index_t *ix = NULL;

        *last = id;
        if (text == NULL
            || cr_json_parse(&json, pool, text, strlen(text), NULL, NULL)
               != APR_SUCCESS
            || cr_fhir_patient_parse(&p, pool, json, "Patient", NULL,
                                     NULL, cr_outcome_make(pool))
               != APR_SUCCESS
            || cr_index_build(&ix, pool, p) != APR_SUCCESS) {
            (*skipped)++;
            continue;
        }
        APR_ARRAY_PUSH(ids, const char *) = id;
        for (i = 0; i < ix->rows->nelts; i++) {
            const cr_index_row_t *row = &APR_ARRAY_IDX(ix->rows, i,
                                                       cr_index_row_t);
            if (strncmp(row->kind, "bk:", 3) != 0) {
                continue;
            }
            APR_ARRAY_PUSH(keys, const char *) = id;
            APR_ARRAY_PUSH(keys, const char *) = row->kind;
            APR_ARRAY_PUSH(keys, const char *) = row->value;
        }
    }
    rv = cr_db_exec_rows(db, pool, "cr_match_keys_delete", 32, 1,
                         ids->nelts, (const char *const *)ids->elts);
    if (rv == APR_SUCCESS) {
        rv = cr_db_exec_rows(db, pool, "cr_index_insert", 32, 3,
                             keys->nelts / 3,
                             (const char *const *)keys->elts);
    }
    if (rv == APR_SUCCESS) {
        *done = ids->nelts;
    }
    return rv;
}

void cr_store_match_params_rows(cr_match_params_t *p,
                                const cr_db_rows_t *rows)
{
    int r, f, l, seen[CR_MF_COUNT];

    memset(seen, 0, sizeof(seen));
    for (r = 0; r < rows->nrows; r++) {
        const char *field = cr_db_cell(rows, r, 0);
        if (field && *field == '\0') {
            p->lambda = atof(cr_db_cell(rows, r, 2));
            continue;
        }
        f = cr_match_field_from_name(field);
        l = cr_match_level_from_name(f, cr_db_cell(rows, r, 1));
        if (f < 0 || l < 0) {
            continue;
        }
        if (!seen[f]) {
            /* A field the rows cover is taken from them entirely. */
            memset(p->m[f], 0, sizeof(p->m[f]));
            memset(p->u[f], 0, sizeof(p->u[f]));
            seen[f] = 1;
        }
        p->m[f][l] = atof(cr_db_cell(rows, r, 2));
        p->u[f][l] = atof(cr_db_cell(rows, r, 3));
    }
}

apr_status_t cr_store_match_params_load(cr_match_params_t *p,
                                        cr_store_match_estimate_t *info,
                                        cr_db_t *db, apr_pool_t *pool)
{
    cr_match_params_t stored;
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    cr_match_params_default(p);
    if (info) {
        memset(info, 0, sizeof(*info));
        rv = cr_db_select(&rows, db, pool, "cr_match_estimate_get", 1, 0,
                          NULL);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (rows->nrows == 1) {
            info->estimated = cr_db_cell(rows, 0, 1);
            info->records = atol(cr_db_cell(rows, 0, 2));
            info->pairs = atol(cr_db_cell(rows, 0, 3));
            info->iterations = atoi(cr_db_cell(rows, 0, 4));
            info->converged = atoi(cr_db_cell(rows, 0, 5));
        }
    }
    /* One statement: the estimate's lambda first (field ''), then m/u. */
    args[0] = apr_itoa(pool, MAX_PARAM_ROWS + 1);
    rv = cr_db_select(&rows, db, pool, "cr_match_param_all",
                      MAX_PARAM_ROWS + 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    stored = *p;
    stored.lambda = -1.0;
    cr_store_match_params_rows(&stored, rows);
    if (stored.lambda < 0.0) {
        return APR_SUCCESS;     /* never estimated: the defaults */
    }
    cr_match_params_finish(&stored);
    *p = stored;
    return APR_SUCCESS;
}

static const char *num(apr_pool_t *pool, double v)
{
    return apr_psprintf(pool, "%.10g", v);
}

apr_status_t cr_store_match_params_save(cr_db_t *db, apr_pool_t *pool,
                                        const cr_match_params_t *p,
                                        const cr_store_match_estimate_t *info)
{
    const char *args[7];
    apr_status_t rv;
    int f, l;

    rv = cr_db_exec(db, pool, "cr_match_param_clear", NULL, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (f = 0; f < CR_MF_COUNT; f++) {
        for (l = 0; l < cr_match_field_levels(f); l++) {
            args[0] = cr_match_field_name(f);
            args[1] = cr_match_level_name(f, l);
            args[2] = num(pool, p->m[f][l]);
            args[3] = num(pool, p->u[f][l]);
            rv = cr_db_exec(db, pool, "cr_match_param_insert", NULL, 4,
                            args);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
    rv = cr_db_exec(db, pool, "cr_match_estimate_clear", NULL, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    args[0] = num(pool, p->lambda);
    args[1] = info->estimated;
    args[2] = apr_ltoa(pool, info->records);
    args[3] = apr_ltoa(pool, info->pairs);
    args[4] = apr_itoa(pool, info->iterations);
    args[5] = apr_itoa(pool, info->converged);
    return cr_db_exec(db, pool, "cr_match_estimate_insert", NULL, 6, args);
}

/* The pair a, b as the table keys it, smaller id first, into args[0]
 * and args[1]; APR_EINVAL when either is missing or they are equal. */
static apr_status_t pair_args(const char **args, const char *a,
                              const char *b)
{
    if (a == NULL || b == NULL || strcmp(a, b) == 0) {
        return APR_EINVAL;
    }
    args[0] = strcmp(a, b) < 0 ? a : b;
    args[1] = strcmp(a, b) < 0 ? b : a;
    return APR_SUCCESS;
}

apr_status_t cr_store_match_duplicate_record(cr_db_t *db, apr_pool_t *pool,
                                             const char *a, const char *b,
                                             double score, double weight,
                                             const char *grade,
                                             const char *now,
                                             const char *w_operation,
                                             const char *message_id)
{
    const char *args[8];

    if (pair_args(args, a, b) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    args[2] = apr_psprintf(pool, "%.6f", score);
    args[3] = apr_psprintf(pool, "%.4f", weight);
    args[4] = grade;
    args[5] = now;
    args[6] = w_operation;
    args[7] = message_id;
    return cr_db_exec(db, pool, "cr_match_duplicate_upsert", NULL, 8, args);
}

/* The columns of cr_match_duplicate_get and _list, row r. */
static void dup_of_row(cr_store_match_dup_t *d, const cr_db_rows_t *rows,
                       int r)
{
    d->patient_lo = cr_db_cell(rows, r, 0);
    d->patient_hi = cr_db_cell(rows, r, 1);
    d->score = atof(cr_db_cell(rows, r, 2));
    d->weight = atof(cr_db_cell(rows, r, 3));
    d->grade = cr_db_cell(rows, r, 4);
    d->found = cr_db_cell(rows, r, 5);
    d->found_by = cr_db_cell(rows, r, 6);
    d->message_id = cr_db_cell(rows, r, 7);
    d->status = cr_db_cell(rows, r, 8);
}

apr_status_t cr_store_match_duplicate_get(cr_store_match_dup_t **out,
                                          cr_db_t *db, apr_pool_t *pool,
                                          const char *a, const char *b)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;

    *out = NULL;
    if (pair_args(args, a, b) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    rv = cr_db_select(&rows, db, pool, "cr_match_duplicate_get", 1, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    *out = apr_palloc(pool, sizeof(**out));
    dup_of_row(*out, rows, 0);
    return APR_SUCCESS;
}

apr_status_t cr_store_match_duplicate_set_status(int *changed, cr_db_t *db,
                                                 apr_pool_t *pool,
                                                 const char *a,
                                                 const char *b,
                                                 const char *status,
                                                 const char *only_from)
{
    const char *args[4];
    apr_status_t rv;
    int nrows = 0;

    if (changed) {
        *changed = 0;
    }
    if (status == NULL || pair_args(args + 1, a, b) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    args[0] = status;
    args[3] = only_from;
    rv = cr_db_exec(db, pool, only_from ? "cr_match_duplicate_set_status_from"
                                        : "cr_match_duplicate_set_status",
                    &nrows, only_from ? 4 : 3, args);
    if (rv == APR_SUCCESS && changed) {
        *changed = nrows > 0;
    }
    return rv;
}

/* The pairs of a list's rows: an array of cr_store_match_dup_t. */
static apr_array_header_t *dups_of_rows(apr_pool_t *pool,
                                        const cr_db_rows_t *rows)
{
    apr_array_header_t *list = apr_array_make(pool, rows->nrows + 1,
                                              sizeof(cr_store_match_dup_t));
    int r;

    for (r = 0; r < rows->nrows; r++) {
        dup_of_row(apr_array_push(list), rows, r);
    }
    return list;
}

apr_status_t cr_store_match_duplicate_list(apr_array_header_t **out,
                                           cr_db_t *db, apr_pool_t *pool,
                                           const char *status,
                                           const char *patient_id,
                                           int count, int offset)
{
    cr_db_rows_t *rows;
    const char *args[5];
    apr_status_t rv;

    *out = NULL;
    args[0] = status;
    if (patient_id) {
        args[1] = patient_id;
        args[2] = patient_id;
        args[3] = apr_itoa(pool, count);
        args[4] = apr_itoa(pool, offset);
        rv = cr_db_select(&rows, db, pool, "cr_match_duplicate_list_patient",
                          count, 5, args);
    }
    else {
        args[1] = apr_itoa(pool, count);
        args[2] = apr_itoa(pool, offset);
        rv = cr_db_select(&rows, db, pool, "cr_match_duplicate_list", count,
                          3, args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = dups_of_rows(pool, rows);
    return APR_SUCCESS;
}

apr_status_t cr_store_match_duplicate_list_by(apr_array_header_t **out,
                                              cr_db_t *db, apr_pool_t *pool,
                                              const char *status,
                                              const char *grade,
                                              const char *patient_id,
                                              const char *sort, int count,
                                              int offset)
{
    cr_db_rows_t *rows;
    const char *args[10];
    apr_status_t rv;

    if (grade == NULL && (sort == NULL || strcmp(sort, "-found") == 0)) {
        return cr_store_match_duplicate_list(out, db, pool, status,
                                             patient_id, count, offset);
    }
    *out = NULL;
    args[0] = status;
    args[1] = args[2] = grade ? grade : "";
    args[3] = args[4] = args[5] = patient_id ? patient_id : "";
    args[6] = args[7] = sort ? sort : "-found";
    args[8] = apr_itoa(pool, count);
    args[9] = apr_itoa(pool, offset);
    rv = cr_db_select(&rows, db, pool, "cr_review_duplicate_list", count, 10,
                      args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = dups_of_rows(pool, rows);
    return APR_SUCCESS;
}
