/*
 * test_cr_store_match.c: the matching engine against a temporary SQLite
 * database, through apr_dbd directly (no httpd): candidate look-ups from
 * blocking keys, the stored records, the m/u parameters, the duplicate
 * review list and its statuses, the service entry point
 * cr_ops_match_find and the reviewer's operation $resolve-duplicate; the
 * self-tuning's history of fits, value counts, claim and a whole fit
 * (issue 16).
 *
 * Each test gets a fresh database in its own mkdtemp directory with every
 * migration of schema/ applied as cr-admin applies them and the whole
 * statement catalogue prepared.  Patients are written as the REST create
 * writes them: parse, set id and meta, build the index (which carries the
 * match record and blocking keys), insert.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "store/cr_db.h"
#include "fhir/cr_fhir_patient.h"
#include "match/cr_index.h"
#include "core/cr_json.h"
#include "match/cr_match.h"
#include "cr_test_cancel.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_query.h"
#include "core/cr_outcome.h"
#include "match/cr_similarity.h"
#include "store/cr_store.h"
#include "store/cr_store_match.h"
#include "store/cr_store_match_tune.h"
#include "ops/cr_ops_match_tune.h"
#include "match/cr_match_tf.h"

#define CR_TEST_DB_DIR "/tmp/cr-store-match-XXXXXX"
#include "cr_test_db.h"

#define NOW "2026-01-15T10:00:00.000Z"

/* A patient resource of the shape the tests need.  Postal codes V8W...
 * are at 12 Main St, Victoria, the others at 7 Oak St, Vancouver (the
 * address alone is a blocking key: the household). */
static const char *pt(apr_pool_t *pool, const char *family,
                      const char *given, const char *gender,
                      const char *birth, const char *phone,
                      const char *postal)
{
    int v8w = strncmp(postal, "V8W", 3) == 0;

    return apr_psprintf(pool,
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"%s\","
        "\"given\":[\"%s\"]}],\"gender\":\"%s\",\"birthDate\":\"%s\","
        "\"telecom\":[{\"system\":\"phone\",\"value\":\"%s\"}],"
        "\"address\":[{\"line\":[\"%s\"],\"city\":\"%s\","
        "\"postalCode\":\"%s\"}]}", family, given, gender, birth, phone,
        v8w ? "12 Main St" : "7 Oak St", v8w ? "Victoria" : "Vancouver",
        postal);
}

static cr_patient_t *parse(apr_pool_t *pool, const char *json)
{
    json_object *o = NULL;
    cr_patient_t *p = NULL;
    cr_outcome_t *oc = cr_outcome_make(pool);

    assert_int_equal(cr_json_parse(&o, pool, json, strlen(json), NULL, NULL),
                     APR_SUCCESS);
    if (cr_fhir_patient_parse(&p, pool, o, "Patient", "2026-01-15", NULL, oc)
        != APR_SUCCESS) {
        fail_msg("bad test patient %s", json);
    }
    return p;
}

/* Store json under id as the REST create does. */
static cr_patient_t *store(fixture_t *fx, const char *id, const char *json)
{
    cr_patient_t *p = parse(fx->pool, json);
    cr_index_t *ix = NULL;
    cr_write_t w;

    w.operation = "create";
    w.caller = NULL;
    w.message_id = "test";
    w.now = NOW;
    cr_fhir_patient_set_meta(p, fx->pool, id, 1, NOW);
    assert_int_equal(cr_index_build(&ix, fx->pool, p), APR_SUCCESS);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_patient_insert(fx->db, fx->pool, p,
                                             cr_json_serialize(fx->pool,
                                                               p->json,
                                                               NULL),
                                             ix, &w), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    return p;
}

static void sql(fixture_t *fx, const char *text)
{
    int nrows = 0;

    assert_int_equal(apr_dbd_query(g_driver, fx->handle, &nrows, text), 0);
}

/* The single value of a query outside the catalogue (checks only). */
static const char *scalar(fixture_t *fx, const char *text)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;
    int rv;

    rv = apr_dbd_select(g_driver, fx->pool, fx->handle, &res, text, 0);
    if (rv != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, rv));
    }
    while (apr_dbd_get_row(g_driver, fx->pool, res, &row, -1) == 0) {
        if (v == NULL) {
            const char *e = apr_dbd_get_entry(g_driver, row, 0);
            v = apr_pstrdup(fx->pool, e ? e : "NULL");
        }
    }
    return v;
}

static apr_array_header_t *keys_of(fixture_t *fx, const cr_patient_t *p)
{
    cr_match_record_t r;
    apr_array_header_t *keys = NULL;

    assert_int_equal(cr_match_record_parse(&r, fx->pool,
                                           cr_match_record_build(fx->pool,
                                                                 p)),
                     APR_SUCCESS);
    cr_match_keys(&keys, fx->pool, &r, NULL);
    return keys;
}

static int has_id(const apr_array_header_t *c, const char *id)
{
    int i;

    for (i = 0; i < c->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(c, i, cr_store_match_cand_t).id, id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */

/* The records and keys the index writes are in cr_search_index. */
static void test_rows_written(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *list = NULL;

    store(fx, "a", pt(fx->pool, "Smith", "John", "male", "1980-03-04",
                      "2505550100", "V8W 1A1"));
    assert_int_equal(cr_store_match_records(&list, fx->db, fx->pool, "", 10),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_cand_t).id,
                        "a");
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_cand_t).record,
                        "1|m|19800304|smith,john|2505550100|"
                        "V8W1A1,12,main street,victoria");
    assert_int_equal(cr_store_match_records(&list, fx->db, fx->pool, "a",
                                            10), APR_SUCCESS);
    assert_int_equal(list->nelts, 0);
}

static void test_candidates(void **state)
{
    fixture_t *fx = *state;
    cr_patient_t *a;
    apr_array_header_t *c = NULL;

    a = store(fx, "a", pt(fx->pool, "Smith", "John", "male", "1980-03-04",
                          "2505550100", "V8W 1A1"));
    store(fx, "b", pt(fx->pool, "Smyth", "John", "male", "1980-03-04",
                      "2505550101", "V8W 1A1"));
    store(fx, "c", pt(fx->pool, "Jones", "Peter", "male", "1961-07-09",
                      "6045551234", "V6B 2C2"));

    assert_int_equal(cr_store_match_candidates(&c, fx->db, fx->pool,
                                               keys_of(fx, a), "a", 100,
                                               500), APR_SUCCESS);
    assert_true(has_id(c, "b"));
    assert_false(has_id(c, "a"));      /* excluded: the query itself */
    assert_false(has_id(c, "c"));      /* shares no key */
    assert_int_equal(c->nelts, 1);
    assert_non_null(APR_ARRAY_IDX(c, 0, cr_store_match_cand_t).record);

    /* Without exclusion the record finds itself. */
    assert_int_equal(cr_store_match_candidates(&c, fx->db, fx->pool,
                                               keys_of(fx, a), NULL, 100,
                                               500), APR_SUCCESS);
    assert_true(has_id(c, "a"));
    assert_int_equal(c->nelts, 2);

    /* max_total bounds the candidates. */
    assert_int_equal(cr_store_match_candidates(&c, fx->db, fx->pool,
                                               keys_of(fx, a), NULL, 100, 1),
                     APR_SUCCESS);
    assert_int_equal(c->nelts, 1);

    /* A merged-away record is found but not active. */
    sql(fx, "UPDATE cr_patient SET replaced_by = 'a' WHERE id = 'b'");
    {
        static const char *const ids[] = {
            "a", "b", "nobody", "c", "a", "b", "c", "a", "b", "c", "a", "b"
        };
        int active[12], i;
        assert_int_equal(cr_store_match_active(active, fx->db, fx->pool,
                                               ids, 12), APR_SUCCESS);
        for (i = 0; i < 12; i++) {
            assert_int_equal(active[i], strcmp(ids[i], "b") != 0
                                        && strcmp(ids[i], "nobody") != 0);
        }
    }
}

/* per_key bounds each look-up: a key shared by many patients returns at
 * most per_key of them. */
static void test_candidates_per_key(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *keys, *c = NULL;
    cr_match_key_t *k;
    int i;

    for (i = 0; i < 12; i++) {
        static const char *const fam[] = {
            "Adams", "Baker", "Clark", "Davis", "Evans", "Frost", "Green",
            "Hall", "Irwin", "Joyce", "King", "Lowe"
        };
        store(fx, apr_psprintf(fx->pool, "p%02d", i),
              pt(fx->pool, fam[i], "Ann", "female", "1970-01-01",
                 apr_psprintf(fx->pool, "25055501%02d", i),
                 apr_psprintf(fx->pool, "V%dA 1A1", i % 10)));
    }
    keys = apr_array_make(fx->pool, 1, sizeof(cr_match_key_t));
    k = apr_array_push(keys);
    k->kind = CR_MATCH_KIND_DOB;
    k->value = "19700101|a";
    assert_int_equal(cr_store_match_candidates(&c, fx->db, fx->pool, keys,
                                               NULL, 5, 500), APR_SUCCESS);
    assert_int_equal(c->nelts, 5);
    assert_int_equal(cr_store_match_candidates(&c, fx->db, fx->pool, keys,
                                               NULL, 100, 500), APR_SUCCESS);
    assert_int_equal(c->nelts, 12);
}

static void test_params(void **state)
{
    fixture_t *fx = *state;
    cr_match_params_t d, p, q;
    cr_store_match_estimate_t info, est;
    int f, l;

    cr_match_params_default(&d);
    assert_int_equal(cr_store_match_params_load(&p, &info, fx->db,
                                                fx->pool), APR_SUCCESS);
    assert_null(info.estimated);
    assert_memory_equal(p.w, d.w, sizeof(p.w));

    q = d;
    q.m[CR_MF_GIVEN][CR_ML_GIVEN_EXACT] = 0.5;
    q.lambda = 0.125;
    cr_match_params_finish(&q);
    est.estimated = NOW;
    est.records = 10;
    est.pairs = 20;
    est.iterations = 7;
    est.converged = 1;
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_params_save(fx->db, fx->pool, &q, &est),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    /* A row of an unknown field (a later engine's) is ignored. */
    sql(fx, "INSERT INTO cr_match_param VALUES ('shoe-size', 'exact', 0.5,"
            " 0.5)");

    assert_int_equal(cr_store_match_params_load(&p, &info, fx->db,
                                                fx->pool), APR_SUCCESS);
    assert_string_equal(info.estimated, NOW);
    assert_int_equal(info.records, 10);
    assert_int_equal(info.pairs, 20);
    assert_int_equal(info.iterations, 7);
    assert_int_equal(info.converged, 1);
    assert_true(fabs(p.lambda - 0.125) < 1e-9);
    for (f = 0; f < CR_MF_COUNT; f++) {
        for (l = 0; l < cr_match_field_levels(f); l++) {
            assert_true(fabs(p.m[f][l] - q.m[f][l]) < 1e-8);
            assert_true(fabs(p.u[f][l] - q.u[f][l]) < 1e-8);
        }
    }
}

/* a and b: a likely pair; c: someone else. */
static void store_abc(fixture_t *fx)
{
    store(fx, "a", pt(fx->pool, "Smith", "John", "male", "1980-03-04",
                      "2505550100", "V8W 1A1"));
    store(fx, "b", pt(fx->pool, "Smyth", "John", "male", "1980-03-04",
                      "2505550101", "V8W 1A1"));
    store(fx, "c", pt(fx->pool, "Jones", "Peter", "male", "1961-07-09",
                      "6045551234", "V6B 2C2"));
}

static void test_duplicates(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *list = NULL;
    const cr_store_match_dup_t *d;

    store_abc(fx);
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "b", "a", 0.9, 12.5, "probable",
                         NOW, "create", "m1"), APR_SUCCESS);
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "c", "b", 0.6, 2.5, "probable",
                         "2026-01-15T09:00:00.000Z", "update", NULL),
                     APR_SUCCESS);
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "a", "a", 1, 1, "certain", NOW,
                         "create", NULL), APR_EINVAL);

    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", NULL, 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 2);
    d = &APR_ARRAY_IDX(list, 0, cr_store_match_dup_t);
    /* Newest first, the smaller id first. */
    assert_string_equal(d->patient_lo, "a");
    assert_string_equal(d->patient_hi, "b");
    assert_true(fabs(d->score - 0.9) < 1e-6);
    assert_true(fabs(d->weight - 12.5) < 1e-6);
    assert_string_equal(d->grade, "probable");
    assert_string_equal(d->found, NOW);
    assert_string_equal(d->found_by, "create");
    assert_string_equal(d->message_id, "m1");
    assert_string_equal(d->status, "open");
    d = &APR_ARRAY_IDX(list, 1, cr_store_match_dup_t);
    assert_string_equal(d->patient_lo, "b");
    assert_string_equal(d->patient_hi, "c");
    assert_null(d->message_id);

    /* Paging and the patient filter. */
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", NULL, 1, 1),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_dup_t)
                        .patient_hi, "c");
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", "c", 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);

    /* A reviewed pair keeps its status when found again. */
    sql(fx, "UPDATE cr_match_duplicate SET status = 'dismissed'"
            " WHERE patient_lo = 'a'");
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "a", "b", 0.95, 14.0, "probable",
                         "2026-01-16T00:00:00.000Z", "update", "m2"),
                     APR_SUCCESS);
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "dismissed", NULL, 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    d = &APR_ARRAY_IDX(list, 0, cr_store_match_dup_t);
    assert_true(fabs(d->score - 0.95) < 1e-6);
    assert_string_equal(d->found_by, "update");
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", NULL, 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
}

/* Reading one pair and setting its status (a reviewer, a merge). */
static void test_duplicate_status(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *list = NULL;
    cr_store_match_dup_t *d = NULL;
    int changed = -1;

    store_abc(fx);
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "a", "b", 0.9, 12.5, "probable",
                         NOW, "create", "m1"), APR_SUCCESS);

    /* get: either order; an unlisted pair; a patient with itself. */
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "b", "a"), APR_SUCCESS);
    assert_non_null(d);
    assert_string_equal(d->patient_lo, "a");
    assert_string_equal(d->patient_hi, "b");
    assert_string_equal(d->status, CR_STORE_MATCH_DUP_OPEN);
    assert_string_equal(d->message_id, "m1");
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "c"), APR_NOTFOUND);
    assert_null(d);
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "a"), APR_EINVAL);

    /* Dismiss (ids in either order), inside a transaction. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "b", "a",
                         CR_STORE_MATCH_DUP_NOT_DUPLICATE, NULL),
                     APR_SUCCESS);
    assert_int_equal(changed, 1);
    /* An unlisted pair is no error, only nothing changed. */
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "a", "c",
                         CR_STORE_MATCH_DUP_NOT_DUPLICATE, NULL),
                     APR_SUCCESS);
    assert_int_equal(changed, 0);
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "c", "c",
                         CR_STORE_MATCH_DUP_OPEN, NULL), APR_EINVAL);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_string_equal(scalar(fx, "SELECT status FROM cr_match_duplicate"
                                   " WHERE patient_lo = 'a'"
                                   " AND patient_hi = 'b'"),
                        "not-duplicate");
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", NULL, 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 0);
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "not-duplicate", NULL, 10,
                                                   0), APR_SUCCESS);
    assert_int_equal(list->nelts, 1);

    /* Found again by a later write: the score is refreshed, the pair
     * stays dismissed. */
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "b", "a", 0.97, 15.0, "certain",
                         "2026-01-16T00:00:00.000Z", "update", "m2"),
                     APR_SUCCESS);
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "b"), APR_SUCCESS);
    assert_string_equal(d->status, CR_STORE_MATCH_DUP_NOT_DUPLICATE);
    assert_string_equal(d->grade, "certain");
    assert_string_equal(d->found_by, "update");
    assert_string_equal(d->message_id, "m2");

    /* only_from: a change only from the given status (an unmerge reopens
     * what a merge closed, not what a reviewer dismissed). */
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "a", "b",
                         CR_STORE_MATCH_DUP_OPEN, CR_STORE_MATCH_DUP_MERGED),
                     APR_SUCCESS);
    assert_int_equal(changed, 0);
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "a", "b",
                         CR_STORE_MATCH_DUP_MERGED, NULL), APR_SUCCESS);
    assert_int_equal(changed, 1);
    assert_int_equal(cr_store_match_duplicate_set_status(
                         &changed, fx->db, fx->pool, "b", "a",
                         CR_STORE_MATCH_DUP_OPEN, CR_STORE_MATCH_DUP_MERGED),
                     APR_SUCCESS);
    assert_int_equal(changed, 1);
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "b"), APR_SUCCESS);
    assert_string_equal(d->status, CR_STORE_MATCH_DUP_OPEN);
}

static void test_tally(void **state)
{
    fixture_t *fx = *state;
    cr_match_tally_t *t = cr_match_tally_make(fx->pool);
    cr_store_match_tally_info_t info;
    cr_match_cancel_t cancel;
    int left = 1;

    store_abc(fx);
    assert_int_equal(cr_store_match_tally(t, &info, fx->db, fx->pool, 0, 100,
                                          500, NULL), APR_SUCCESS);
    assert_int_equal(info.records, 3);
    /* a-b counted from both sides; c has no candidate. */
    assert_int_equal(info.pairs, 2);
    assert_true(t->pairs == 2.0);
    assert_int_equal(t->patterns->nelts, 1);

    t = cr_match_tally_make(fx->pool);
    assert_int_equal(cr_store_match_tally(t, &info, fx->db, fx->pool, 1, 100,
                                          500, NULL), APR_SUCCESS);
    assert_int_equal(info.records, 1);
    assert_int_equal(info.pairs, 1);

    /* Asked to stop before the second record: the walk ends there. */
    cancel.fn = stop_after;
    cancel.baton = &left;
    t = cr_match_tally_make(fx->pool);
    assert_int_equal(cr_store_match_tally(t, &info, fx->db, fx->pool, 0, 100,
                                          500, &cancel), CR_MATCH_CANCELLED);
    assert_int_equal(info.records, 1);
}

/* Re-keying rebuilds exactly the rows a write derives. */
static void test_rekey(void **state)
{
    fixture_t *fx = *state;
    cr_db_rows_t *rows;
    const char *last = NULL, *before;
    int done = 0, skipped = -1;

    store(fx, "a", pt(fx->pool, "Smith", "John", "male", "1980-03-04",
                      "2505550100", "V8W 1A1"));
    store(fx, "b", pt(fx->pool, "Jones", "Peter", "male", "1961-07-09",
                      "6045551234", "V6B 2C2"));
    assert_int_equal(cr_db_select(&rows, fx->db, fx->pool,
                                  "cr_match_records_page", 10, 2,
                                  (const char *[]){ "", "10" }),
                     APR_SUCCESS);
    before = cr_db_cell(rows, 0, 1);
    sql(fx, "DELETE FROM cr_search_index WHERE kind >= 'bk:'"
            " AND kind < 'bk;'");
    sql(fx, "INSERT INTO cr_search_index VALUES ('a', 'bk:old', 'x')");
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_rekey(&last, &done, &skipped, fx->db, fx->pool,
                                          "", 1), APR_SUCCESS);
    assert_string_equal(last, "a");
    assert_int_equal(done, 1);
    assert_int_equal(skipped, 0);
    assert_int_equal(cr_store_match_rekey(&last, &done, &skipped, fx->db, fx->pool,
                                          "a", 10), APR_SUCCESS);
    assert_string_equal(last, "b");
    assert_int_equal(cr_store_match_rekey(&last, &done, &skipped, fx->db, fx->pool,
                                          "b", 10), APR_SUCCESS);
    assert_null(last);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_db_select(&rows, fx->db, fx->pool,
                                  "cr_match_records_page", 10, 2,
                                  (const char *[]){ "", "10" }),
                     APR_SUCCESS);
    assert_int_equal(rows->nrows, 2);
    assert_string_equal(cr_db_cell(rows, 0, 1), before);
    /* Stale matcher rows are gone, the search keys untouched. */
    assert_int_equal(cr_db_select(&rows, fx->db, fx->pool,
                                  "cr_index_get_patient", 100, 2,
                                  (const char *[]){ "a", "100" }),
                     APR_SUCCESS);
    {
        int r, old = 0, family = 0, dob = 0;
        for (r = 0; r < rows->nrows; r++) {
            old += strcmp(cr_db_cell(rows, r, 0), "bk:old") == 0;
            family += strcmp(cr_db_cell(rows, r, 0), "family") == 0;
            dob += strcmp(cr_db_cell(rows, r, 0), CR_MATCH_KIND_DOB) == 0;
        }
        assert_int_equal(old, 0);
        assert_int_equal(family, 1);
        assert_int_equal(dob, 2);
    }
}

/* ------------------------------------------------------------------ */
/* The service entry point                                             */
/* ------------------------------------------------------------------ */

static void ctx_of(cr_ctx_t *ctx, cr_settings_t *settings, fixture_t *fx)
{
    memset(settings, 0, sizeof(*settings));
    memset(ctx, 0, sizeof(*ctx));   /* no request, caller or hooks */
    settings->base_url = "http://localhost/fhir";
    settings->search.default_count = 5;
    settings->search.max_count = 10;
    cr_service_ctx_init(ctx, fx->pool, apr_time_now());
    ctx->db = fx->db;
    ctx->settings = settings;
    ctx->message_id = "msg-1";
}

static void test_find(void **state)
{
    fixture_t *fx = *state;
    cr_settings_t settings;
    cr_ctx_t ctx;
    apr_array_header_t *res = NULL;
    const cr_match_result_t *r;

    store(fx, "a", pt(fx->pool, "Smith", "Alice", "female", "1980-03-04",
                      "2505550100", "V8W 1A1"));
    /* Family and birth date typo'd, another phone, moved within the
     * postal code: a probable match, not a certain one. */
    store(fx, "b", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":"
          "\"Smyth\",\"given\":[\"Alice\"]}],\"gender\":\"female\","
          "\"birthDate\":\"1980-03-14\",\"telecom\":[{\"system\":"
          "\"phone\",\"value\":\"6045559999\"}],\"address\":[{\"line\":"
          "[\"99 Oak St\"],\"city\":\"Saanich\",\"postalCode\":"
          "\"V8W 1A1\"}]}");
    store(fx, "c", pt(fx->pool, "Jones", "Peter", "male", "1961-07-09",
                      "6045551234", "V6B 2C2"));
    ctx_of(&ctx, &settings, fx);

    /* The exact copy is certain, the typo'd one at least probable. */
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        pt(fx->pool, "Smith", "Alice", "female", "1980-03-04", "2505550100",
           "V8W 1A1")), 10, CR_MATCH_POSSIBLE), APR_SUCCESS);
    assert_int_equal(res->nelts, 2);
    r = &APR_ARRAY_IDX(res, 0, cr_match_result_t);
    assert_string_equal(r->patient_id, "a");
    assert_int_equal(r->grade, CR_MATCH_CERTAIN);
    assert_true(r->score > 0.99 && r->score <= 1.0);
    assert_int_equal(r->vector.level[CR_MF_FAMILY], CR_ML_FAMILY_EXACT);
    r = &APR_ARRAY_IDX(res, 1, cr_match_result_t);
    assert_string_equal(r->patient_id, "b");
    assert_int_equal(r->grade, CR_MATCH_PROBABLE);
    assert_int_equal(r->vector.level[CR_MF_BIRTH],
                     CR_SIMILARITY_DATE_ONE_DIGIT_TYPO);
    assert_true(r->score < APR_ARRAY_IDX(res, 0, cr_match_result_t).score);

    /* Certain only, and max_results. */
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        pt(fx->pool, "Smith", "Alice", "female", "1980-03-04", "2505550100",
           "V8W 1A1")), 10, CR_MATCH_CERTAIN), APR_SUCCESS);
    assert_int_equal(res->nelts, 1);
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        pt(fx->pool, "Smith", "Alice", "female", "1980-03-04", "2505550100",
           "V8W 1A1")), 1, CR_MATCH_POSSIBLE), APR_SUCCESS);
    assert_int_equal(res->nelts, 1);

    /* A different person: nothing. */
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        pt(fx->pool, "Nguyen", "Linh", "female", "1999-12-01", "7785550000",
           "V2C 1A1")), 10, CR_MATCH_POSSIBLE), APR_SUCCESS);
    assert_int_equal(res->nelts, 0);

    /* A name alone is not enough. */
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Smith\","
        "\"given\":[\"Alice\"]}]}"), 10, CR_MATCH_POSSIBLE),
        CR_OPS_MATCH_NOT_ENOUGH);

    /* A record merged into a survivor is not returned. */
    sql(fx, "UPDATE cr_patient SET replaced_by = 'c' WHERE id = 'b'");
    assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
        pt(fx->pool, "Smith", "Alice", "female", "1980-03-04", "2505550100",
           "V8W 1A1")), 10, CR_MATCH_POSSIBLE), APR_SUCCESS);
    assert_int_equal(res->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(res, 0, cr_match_result_t).patient_id,
                        "a");
    sql(fx, "UPDATE cr_patient SET replaced_by = NULL WHERE id = 'b'");

    /* A stored patient is not its own match. */
    {
        cr_patient_t *q = parse(fx->pool, pt(fx->pool, "Smith", "Alice",
                                             "female", "1980-03-04",
                                             "2505550100", "V8W 1A1"));
        q->id = "a";
        assert_int_equal(cr_ops_match_find(&res, &ctx, q, 10,
                                           CR_MATCH_POSSIBLE), APR_SUCCESS);
        assert_int_equal(res->nelts, 1);
        assert_string_equal(APR_ARRAY_IDX(res, 0, cr_match_result_t)
                            .patient_id, "b");
    }
}

static void test_record_duplicates(void **state)
{
    fixture_t *fx = *state;
    cr_settings_t settings;
    cr_ctx_t ctx;
    cr_patient_t *p;
    apr_array_header_t *list = NULL;
    int recorded = -1;

    store(fx, "a", pt(fx->pool, "Smith", "Alice", "female", "1980-03-04",
                      "2505550100", "V8W 1A1"));
    store(fx, "c", pt(fx->pool, "Jones", "Peter", "male", "1961-07-09",
                      "6045551234", "V6B 2C2"));
    p = store(fx, "z", pt(fx->pool, "Smith", "Alice", "female",
                          "1980-03-04", "2505550100", "V8W 1A1"));
    ctx_of(&ctx, &settings, fx);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_ops_match_record_duplicates(&recorded, &ctx, p,
                                                    "create"),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(recorded, 1);
    assert_int_equal(cr_store_match_duplicate_list(&list, fx->db, fx->pool,
                                                   "open", NULL, 10, 0),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_dup_t)
                        .patient_lo, "a");
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_dup_t)
                        .patient_hi, "z");
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_dup_t).grade,
                        "certain");
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_dup_t)
                        .message_id, "msg-1");
}

/* FindCandidates' raw score (D-13): tenths of a bit, rounded, clamped
 * below the identifier score. */
static void test_query_score(void **state)
{
    (void)state;
    assert_int_equal(cr_ops_query_score(16.44), 164);
    assert_int_equal(cr_ops_query_score(16.45), 165);
    assert_int_equal(cr_ops_query_score(0.04), 0);
    assert_int_equal(cr_ops_query_score(-3.0), 0);
    assert_int_equal(cr_ops_query_score(NAN), 0);
    assert_int_equal(cr_ops_query_score(99.94), 999);
    assert_int_equal(cr_ops_query_score(500.0),
                     CR_QUERY_SCORE_IDENTIFIER - 1);
    assert_true(cr_ops_query_score(12.0) > cr_ops_query_score(11.9));
}

static json_object *json_of(fixture_t *fx, const char *text)
{
    json_object *o = NULL;

    assert_int_equal(cr_json_parse(&o, fx->pool, text, strlen(text), NULL,
                                   NULL), APR_SUCCESS);
    return o;
}

/* The first issue of ctx as "code@expression". */
static const char *first_issue(const cr_ctx_t *ctx)
{
    const cr_issue_t *i;

    if (ctx->oc->issues->nelts == 0) {
        return "";
    }
    i = &APR_ARRAY_IDX(ctx->oc->issues, 0, cr_issue_t);
    return apr_pstrcat(ctx->oc->pool, i->code, "@",
                       i->expression ? i->expression : "", NULL);
}

/* $resolve-duplicate through the service: status, issues, stored state
 * and the audit record written in the same transaction. */
static void test_resolve_duplicate(void **state)
{
    static const struct {
        const char *body;
        int status;
        const char *issue;
    } bad[] = {
        { "{\"resourceType\":\"Patient\"}", 400, "invalid@Parameters" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}",
          400, "required@Parameters.parameter" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueString\":\"b\"}]}",
          400, "required@Parameters.parameter" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueString\":\"b\"},"
          "{\"name\":\"resolution\",\"valueCode\":\"maybe\"}]}",
          400, "code-invalid@Parameters.parameter[2].valueCode" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueReference\":"
          "{\"reference\":\"Patient/a\"}},"
          "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}",
          400, "invalid@Parameters.parameter[1]" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueString\":\"b\"},"
          "{\"name\":\"reason\",\"valueString\":\"x\"},"
          "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}",
          400, "not-supported@Parameters.parameter[2].name" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueString\":\"b\"},"
          "{\"name\":\"comment\",\"valueBoolean\":true},"
          "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}",
          400, "invalid@Parameters.parameter[2].valueString" },
        { "{\"resourceType\":\"Parameters\",\"parameter\":["
          "{\"name\":\"patient\",\"valueString\":\"a\"},"
          "{\"name\":\"other\",\"valueString\":\"c\"},"
          "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}",
          404, "not-found@Parameters.parameter" },
    };
    fixture_t *fx = *state;
    cr_settings_t settings;
    cr_ctx_t ctx;
    cr_store_match_dup_t *d = NULL;
    json_object *prm, *parts;
    const char *s;
    size_t i;

    store_abc(fx);
    assert_int_equal(cr_store_match_duplicate_record(
                         fx->db, fx->pool, "a", "b", 0.9, 12.5, "probable",
                         NOW, "create", "m1"), APR_SUCCESS);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ctx_of(&ctx, &settings, fx);
        cr_ops_match_resolve_duplicate(&ctx, json_of(fx, bad[i].body));
        assert_int_equal(ctx.resp.status, bad[i].status);
        assert_string_equal(first_issue(&ctx), bad[i].issue);
        assert_int_equal(ctx.resp.audited, 0);
        assert_null(ctx.db->txn);
    }
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_audit"), "0");

    /* Dismiss: 200 with the pair, its new status, and the audit record. */
    ctx_of(&ctx, &settings, fx);
    cr_ops_match_resolve_duplicate(&ctx, json_of(fx,
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patient\",\"valueReference\":"
        "{\"reference\":\"Patient/b\"}},"
        "{\"name\":\"other\",\"valueString\":\"a\"},"
        "{\"name\":\"resolution\",\"valueCode\":\"not-duplicate\"}"
        "]}"));
    assert_int_equal(ctx.resp.status, 200);
    assert_int_equal(ctx.resp.audited, 1);
    assert_null(ctx.db->txn);
    assert_string_equal(ctx.resp.patients, "a b");
    prm = json_object_array_get_idx(cr_json_get(ctx.resp.body, "parameter"),
                                    0);
    assert_string_equal(cr_json_get_string(prm, "name"), "duplicate");
    parts = cr_json_get(prm, "part");
    s = cr_json_get_string(json_object_array_get_idx(parts, 0), "name");
    assert_string_equal(s, "patient");
    s = cr_json_get_string(cr_json_get(json_object_array_get_idx(parts, 0),
                                       "valueReference"), "reference");
    assert_string_equal(s, "Patient/a");
    /* status, then the pair's history: this decision. */
    s = cr_json_get_string(json_object_array_get_idx(
                               parts, json_object_array_length(parts) - 2),
                           "valueCode");
    assert_string_equal(s, "not-duplicate");
    s = cr_json_get_string(json_object_array_get_idx(
                               parts, json_object_array_length(parts) - 1),
                           "name");
    assert_string_equal(s, "decision");
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "b"), APR_SUCCESS);
    assert_string_equal(d->status, "not-duplicate");
    assert_string_equal(scalar(fx, "SELECT seq || ' ' || action || ' ' ||"
                                   " status || ' ' || COALESCE(comment, '-')"
                                   " FROM cr_match_decision"),
                        "1 not-duplicate not-duplicate -");
    assert_string_equal(scalar(fx, "SELECT operation || ' ' || action || ' '"
                                   " || status || ' ' || patients || ' '"
                                   " || message_id FROM cr_audit"),
                        "resolve-duplicate U 200 a b msg-1");

    /* Reopen. */
    ctx_of(&ctx, &settings, fx);
    cr_ops_match_resolve_duplicate(&ctx, json_of(fx,
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patient\",\"valueString\":\"a\"},"
        "{\"name\":\"other\",\"valueString\":\"b\"},"
        "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}"));
    assert_int_equal(ctx.resp.status, 200);
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "b"), APR_SUCCESS);
    assert_string_equal(d->status, "open");
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_audit"), "2");

    /* A merged pair is left to UnmergePatient: 409, nothing changes. */
    sql(fx, "UPDATE cr_match_duplicate SET status = 'merged'");
    ctx_of(&ctx, &settings, fx);
    cr_ops_match_resolve_duplicate(&ctx, json_of(fx,
        "{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"patient\",\"valueString\":\"a\"},"
        "{\"name\":\"other\",\"valueString\":\"b\"},"
        "{\"name\":\"resolution\",\"valueCode\":\"open\"}]}"));
    assert_int_equal(ctx.resp.status, 409);
    assert_string_equal(first_issue(&ctx), "conflict@Parameters.parameter");
    assert_null(ctx.db->txn);
    assert_int_equal(cr_store_match_duplicate_get(&d, fx->db, fx->pool,
                                                  "a", "b"), APR_SUCCESS);
    assert_string_equal(d->status, "merged");
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_audit"), "2");
}


/* ------------------------------------------------------------------ */
/* Self-tuning (migration 009)                                         */
/* ------------------------------------------------------------------ */

static void save_fit(fixture_t *fx, const cr_match_params_t *p,
                     const char *when, long records, apr_int64_t *id)
{
    cr_store_match_estimate_t est;

    est.estimated = when;
    est.records = records;
    est.pairs = 2 * records;
    est.iterations = 5;
    est.converged = 1;
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_fit_save(id, fx->db, fx->pool, p, &est,
                                             "auto"), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
}

/* Each fit is kept with its date; the newest is current; an earlier one
 * can be made current again; an unknown one changes nothing. */
static void test_fit_history(void **state)
{
    fixture_t *fx = *state;
    cr_match_params_t a, b, p;
    cr_store_match_estimate_t info;
    apr_array_header_t *list = NULL;
    apr_int64_t id1 = 0, id2 = 0, active = -1;
    const cr_store_match_fit_t *f;

    assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                             fx->pool, 10), APR_SUCCESS);
    assert_int_equal(list->nelts, 0);
    assert_int_equal(active, 0);

    cr_match_params_default(&a);
    a.m[CR_MF_FAMILY][CR_ML_FAMILY_EXACT] = 0.6;
    a.lambda = 0.25;
    cr_match_params_finish(&a);
    b = a;
    b.u[CR_MF_BIRTH][CR_SIMILARITY_DATE_EXACT] = 0.01;
    b.lambda = 0.125;
    cr_match_params_finish(&b);
    save_fit(fx, &a, "2026-01-15T10:00:00.000Z", 1000, &id1);
    save_fit(fx, &b, "2026-01-16T10:00:00.000Z", 2000, &id2);
    assert_true(id1 == 1 && id2 == 2);

    assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                             fx->pool, 10), APR_SUCCESS);
    assert_int_equal(list->nelts, 2);
    assert_int_equal(active, 2);
    f = &APR_ARRAY_IDX(list, 0, cr_store_match_fit_t);
    assert_int_equal(f->id, 2);
    assert_string_equal(f->fitted, "2026-01-16T10:00:00.000Z");
    assert_string_equal(f->source, "auto");
    assert_int_equal(f->records, 2000);
    assert_true(fabs(f->lambda - 0.125) < 1e-9);
    assert_int_equal(APR_ARRAY_IDX(list, 1, cr_store_match_fit_t).id, 1);
    /* limit */
    assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                             fx->pool, 1), APR_SUCCESS);
    assert_int_equal(list->nelts, 1);

    assert_int_equal(cr_store_match_params_load(&p, &info, fx->db,
                                                fx->pool), APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.125) < 1e-9);
    assert_true(fabs(p.u[CR_MF_BIRTH][0] - b.u[CR_MF_BIRTH][0]) < 1e-8);
    assert_int_equal(info.records, 2000);

    /* Back to the first. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_fit_use(fx->db, fx->pool, 1),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_match_params_load(&p, &info, fx->db,
                                                fx->pool), APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.25) < 1e-9);
    assert_true(fabs(p.m[CR_MF_FAMILY][0] - a.m[CR_MF_FAMILY][0]) < 1e-8);
    assert_true(fabs(p.u[CR_MF_BIRTH][0] - a.u[CR_MF_BIRTH][0]) < 1e-8);
    assert_string_equal(info.estimated, "2026-01-15T10:00:00.000Z");
    assert_int_equal(info.records, 1000);
    assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                             fx->pool, 10), APR_SUCCESS);
    assert_int_equal(active, 1);
    assert_int_equal(list->nelts, 2);       /* nothing deleted */

    /* An unknown fit: not found, the current set stays. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_fit_use(fx->db, fx->pool, 99),
                     APR_NOTFOUND);
    cr_db_rollback(fx->db);
    assert_int_equal(cr_store_match_params_load(&p, &info, fx->db,
                                                fx->pool), APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.25) < 1e-9);
}

/* One claim at a time, until it expires or is given up. */
static void test_tune_claim(void **state)
{
    fixture_t *fx = *state;
    int won = -1;
    long n = -1;

    assert_int_equal(cr_store_match_tune_claim(
        &won, fx->db, fx->pool, "2026-01-15T10:30:00.000Z",
        "2026-01-15T10:00:00.000Z"), APR_SUCCESS);
    assert_int_equal(won, 1);
    assert_int_equal(cr_store_match_tune_claim(
        &won, fx->db, fx->pool, "2026-01-15T10:31:00.000Z",
        "2026-01-15T10:01:00.000Z"), APR_SUCCESS);
    assert_int_equal(won, 0);
    /* expired */
    assert_int_equal(cr_store_match_tune_claim(
        &won, fx->db, fx->pool, "2026-01-15T11:31:00.000Z",
        "2026-01-15T11:01:00.000Z"), APR_SUCCESS);
    assert_int_equal(won, 1);
    assert_int_equal(cr_store_match_tune_release(fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(cr_store_match_tune_claim(
        &won, fx->db, fx->pool, "2026-01-15T11:32:00.000Z",
        "2026-01-15T11:02:00.000Z"), APR_SUCCESS);
    assert_int_equal(won, 1);

    assert_int_equal(cr_store_match_tune_records(&n, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(n, 0);
    store_abc(fx);
    sql(fx, "UPDATE cr_patient SET replaced_by = 'a' WHERE id = 'c'");
    assert_int_equal(cr_store_match_tune_records(&n, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(n, 2);
}

/* The value counts: replaced as a whole, looked up for a query's values
 * with the documented formula; no table, no adjustment. */
/* Weights equal up to the 10 significant digits the table stores. */
static void weights_near(const cr_match_params_t *a,
                         const cr_match_params_t *b)
{
    int f, l;

    for (f = 0; f < CR_MF_COUNT; f++) {
        for (l = 0; l < cr_match_field_levels(f); l++) {
            assert_true(fabs(a->w[f][l] - b->w[f][l]) < 1e-7);
        }
    }
}

/* A connection keeps the fitted parameters between requests
 * (cr_store_match_params_freq_load with conn_pool set): it reads them
 * again only when the fit's key changes, and what it returns is what the
 * uncached path returns. */
static void test_params_cached(void **state)
{
    fixture_t *fx = *state;
    cr_match_params_t p, d, e, direct;
    cr_match_record_t q;
    cr_match_tf_t tf, tf_direct;
    apr_int64_t first = 0;
    apr_pool_t *conn;

    apr_pool_create(&conn, fx->pool);
    assert_int_equal(cr_match_record_parse(&q, fx->pool,
        "1|f|1980|smith,mary||V8W1A1,12,main street,victoria"),
        APR_SUCCESS);
    fx->db->conn_pool = conn;

    /* Never fitted: the defaults. */
    cr_match_params_default(&d);
    assert_int_equal(cr_store_match_params_freq_load(&p, &tf, fx->db,
                                                     fx->pool, &q),
                     APR_SUCCESS);
    weights_near(&p, &d);

    /* A fit: its key differs, so its parameters are read. */
    d.lambda = 0.375;
    d.m[CR_MF_SEX][0] = 0.5;
    cr_match_params_finish(&d);
    save_fit(fx, &d, NOW, 10, &first);
    assert_int_equal(cr_store_match_params_freq_load(&p, &tf, fx->db,
                                                     fx->pool, &q),
                     APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.375) < 1e-9);
    weights_near(&p, &d);

    /* The same key: the parameters kept are used, not read again (a row
     * changed behind the store's back is not seen). */
    sql(fx, "UPDATE cr_match_param SET m = 0.01 WHERE field = 'sex'"
            " AND level = 'agree'");
    assert_int_equal(cr_store_match_params_freq_load(&p, &tf, fx->db,
                                                     fx->pool, &q),
                     APR_SUCCESS);
    weights_near(&p, &d);

    /* Another fit, then a return to the first: each is read. */
    e = d;
    e.lambda = 0.125;
    e.m[CR_MF_SEX][0] = 0.9;
    cr_match_params_finish(&e);
    save_fit(fx, &e, "2026-01-16T10:00:00.000Z", 12, NULL);
    assert_int_equal(cr_store_match_params_freq_load(&p, &tf, fx->db,
                                                     fx->pool, &q),
                     APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.125) < 1e-9);
    weights_near(&p, &e);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_fit_use(fx->db, fx->pool, first),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_match_params_freq_load(&p, &tf, fx->db,
                                                     fx->pool, &q),
                     APR_SUCCESS);
    assert_true(fabs(p.lambda - 0.375) < 1e-9);

    /* And what is kept equals what a connection without a cache reads. */
    fx->db->conn_pool = NULL;
    assert_int_equal(cr_store_match_params_freq_load(&direct, &tf_direct,
                                                     fx->db, fx->pool, &q),
                     APR_SUCCESS);
    assert_memory_equal(p.w, direct.w, sizeof(p.w));
    assert_true(p.lambda == direct.lambda);
    assert_memory_equal(tf.bits, tf_direct.bits, sizeof(tf.bits));
    apr_pool_destroy(conn);
}

static void test_freq(void **state)
{
    fixture_t *fx = *state;
    static const cr_store_match_freq_t rows[] = {
        { "family", "", 100, 0.05 },
        { "family", "#", 1, 0.0 },
        { "family", "smith", 20, 0.2 },
        { "given", "", 100, 0.02 },
        { "given", "#", 3, 0.0 },
        { "given", "mary", 2, 0.02 },
        { "city", "", 100, 0.5 },
        { "city", "#", 1, 0.0 },
        { "city", "victoria", 50, 0.5 },
    };
    cr_match_record_t q;
    cr_match_tf_t tf;

    assert_int_equal(cr_match_record_parse(&q, fx->pool,
        "1|f|1980|smith,mary||V8W1A1,12,main street,victoria"),
        APR_SUCCESS);
    assert_int_equal(cr_store_match_freq_lookup(&tf, fx->db, fx->pool, &q),
                     APR_SUCCESS);
    assert_true(tf.bits[0] == 0.0 && tf.bits[1] == 0.0 && tf.bits[2] == 0.0);
    assert_string_equal(tf.value[CR_MATCH_TF_FAMILY], "smith");

    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_freq_replace(fx->db, fx->pool, rows, 9),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_freq"),
                        "9");
    assert_int_equal(cr_store_match_freq_lookup(&tf, fx->db, fx->pool, &q),
                     APR_SUCCESS);
    /* smith: log2(0.05 * 100 / 20) = -2; mary: log2(0.02 * 100 / 2) = 0;
     * victoria: log2(0.5 * 100 / 50) = 0 */
    assert_true(fabs(tf.bits[CR_MATCH_TF_FAMILY] + 2.0) < 1e-9);
    assert_true(fabs(tf.bits[CR_MATCH_TF_GIVEN]) < 1e-9);
    assert_true(fabs(tf.bits[CR_MATCH_TF_CITY]) < 1e-9);

    /* What a query reads, in one statement: the same adjustments, and
     * the parameters (the defaults: nothing estimated). */
    {
        cr_match_params_t p, d;
        cr_match_tf_t tf2;
        cr_match_params_default(&d);
        assert_int_equal(cr_store_match_params_freq_load(&p, &tf2, fx->db,
                                                         fx->pool, &q),
                         APR_SUCCESS);
        assert_memory_equal(tf2.bits, tf.bits, sizeof(tf.bits));
        assert_memory_equal(p.w, d.w, sizeof(p.w));
        d.lambda = 0.375;
        d.m[CR_MF_SEX][0] = 0.5;
        cr_match_params_finish(&d);
        save_fit(fx, &d, NOW, 10, NULL);
        assert_int_equal(cr_store_match_params_freq_load(&p, &tf2, fx->db,
                                                         fx->pool, &q),
                         APR_SUCCESS);
        assert_true(fabs(p.lambda - 0.375) < 1e-9);
        assert_true(fabs(p.w[CR_MF_SEX][0] - d.w[CR_MF_SEX][0]) < 1e-8);
        assert_memory_equal(tf2.bits, tf.bits, sizeof(tf.bits));
    }

    /* Values not counted: the floor (given: 3, family: 1). */
    assert_int_equal(cr_match_record_parse(&q, fx->pool,
        "1|f|1980|zyskowski,ottilie||V8W1A1,12,main street,tofino"),
        APR_SUCCESS);
    assert_int_equal(cr_store_match_freq_lookup(&tf, fx->db, fx->pool, &q),
                     APR_SUCCESS);
    assert_true(fabs(tf.bits[CR_MATCH_TF_FAMILY] - log2(5.0)) < 1e-9);
    assert_true(fabs(tf.bits[CR_MATCH_TF_GIVEN] - log2(2.0 / 3.0)) < 1e-9);
    assert_true(fabs(tf.bits[CR_MATCH_TF_CITY] - log2(50.0)) > 1.0);
    assert_true(tf.bits[CR_MATCH_TF_CITY] == CR_MATCH_TF_MAX_MORE);

    /* Replaced as a whole. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_match_freq_replace(fx->db, fx->pool, rows, 3),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_freq"),
                        "3");
}

/* A whole fit over stored records with duplicates: saved in the history
 * as current, value counts written, the registry's size recorded; an
 * exact copy of every stored record finds that record first; too few
 * records fit nothing. */
static void test_fit(void **state)
{
    fixture_t *fx = *state;
    static const char *const fam[] = { "Smith", "Smith", "Brown", "Wong",
                                       "Singh", "Nguyen", "Zyskowski",
                                       "Fairweather", "Okonkwo", "Petrov" };
    static const char *const giv[] = { "Mary", "John", "Alice", "Peter",
                                       "Priya", "Li", "Ingrid", "Xavier" };
    cr_ops_match_fit_t fit;
    cr_settings_t settings;
    cr_ctx_t ctx;
    cr_match_cancel_t cancel;
    apr_array_header_t *list = NULL;
    apr_int64_t active = 0;
    int i, left = 0, asks;

    store_abc(fx);
    assert_int_equal(cr_ops_match_fit(&fit, fx->db, fx->pool, 0, "admin",
                                      NOW, NULL), CR_OPS_MATCH_FIT_TOO_FEW);
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_fit"),
                        "0");
    for (i = 0; i < 240; i++) {
        char birth[11], phone[11], postal[8];
        const char *json;
        apr_snprintf(birth, sizeof(birth), "19%02d-%02d-%02d", 30 + i % 70,
                     1 + i % 12, 1 + i % 28);
        apr_snprintf(phone, sizeof(phone), "250555%04d", i);
        apr_snprintf(postal, sizeof(postal), "V%dA %d%c%d", i % 10,
                     i % 7, 'A' + i % 26, i % 9);
        json = pt(fx->pool, fam[i % 10], giv[(i / 10) % 8],
                  i % 2 ? "male" : "female", birth, phone, postal);
        store(fx, apr_psprintf(fx->pool, "p%03d", i), json);
        if (i % 3 == 0) {
            /* a duplicate with another phone and a misspelt given name */
            apr_snprintf(phone, sizeof(phone), "604555%04d", i);
            json = pt(fx->pool, fam[i % 10],
                      apr_pstrcat(fx->pool, giv[(i / 10) % 8], "h", NULL),
                      i % 2 ? "male" : "female", birth, phone, postal);
            store(fx, apr_psprintf(fx->pool, "q%03d", i), json);
        }
    }
    /* Abandoned at the first ask: nothing saved. */
    cancel.fn = stop_after;
    cancel.baton = &left;
    left = 0;
    assert_int_equal(cr_ops_match_fit(&fit, fx->db, fx->pool, 0, "admin",
                                      NOW, &cancel), CR_MATCH_CANCELLED);
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_fit"),
                        "0");
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_freq"),
                        "0");
    assert_null(fx->db->txn);
    /* Run to the end, counting the asks. */
    left = 1000000;
    assert_int_equal(cr_ops_match_fit(&fit, fx->db, fx->pool, 0, "admin",
                                      NOW, &cancel), APR_SUCCESS);
    asks = 1000000 - left;
    /* one per record, at least one EM round, one per page of values */
    assert_true(asks >= 323 + 1 + 1);
    assert_int_equal(fit.fit_id, 1);
    assert_int_equal(fit.registry, 3 + 240 + 80);
    assert_int_equal(fit.records, fit.registry);
    assert_true(fit.pairs > 80);
    assert_true(fit.tf_values > 6);
    assert_null(fx->db->txn);
    assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                             fx->pool, 10), APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    assert_int_equal(active, 1);
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_store_match_fit_t).source,
                        "admin");
    assert_int_equal(APR_ARRAY_IDX(list, 0, cr_store_match_fit_t).records,
                     323);
    /* 48 Smiths, 16 duplicates of them, and store_abc's a */
    assert_string_equal(scalar(fx, "SELECT n FROM cr_match_freq WHERE "
                                   "field = 'family' AND value = 'smith'"),
                        "65");
    assert_string_equal(scalar(fx, "SELECT COUNT(*) FROM cr_match_freq "
                                   "WHERE field = 'family' AND value = ''"),
                        "1");

    /* Abandoned part-way (in EM) or at the last ask (the value counts):
     * the saved fit stays the only one and current, its counts kept. */
    for (i = 0; i < 2; i++) {
        left = i == 0 ? 323 : asks - 1;
        assert_int_equal(cr_ops_match_fit(&fit, fx->db, fx->pool, 0,
                                          "admin", NOW, &cancel),
                         CR_MATCH_CANCELLED);
        assert_null(fx->db->txn);
        assert_int_equal(cr_store_match_fit_list(&list, &active, fx->db,
                                                 fx->pool, 10),
                         APR_SUCCESS);
        assert_int_equal(list->nelts, 1);
        assert_int_equal(active, 1);
        assert_string_equal(scalar(fx, "SELECT n FROM cr_match_freq WHERE "
                                       "field = 'family' AND "
                                       "value = 'smith'"), "65");
    }

    ctx_of(&ctx, &settings, fx);
    for (i = 0; i < 240; i += 7) {
        apr_array_header_t *res = NULL;
        char birth[11], phone[11], postal[8];
        apr_snprintf(birth, sizeof(birth), "19%02d-%02d-%02d", 30 + i % 70,
                     1 + i % 12, 1 + i % 28);
        apr_snprintf(phone, sizeof(phone), "250555%04d", i);
        apr_snprintf(postal, sizeof(postal), "V%dA %d%c%d", i % 10,
                     i % 7, 'A' + i % 26, i % 9);
        assert_int_equal(cr_ops_match_find(&res, &ctx, parse(fx->pool,
            pt(fx->pool, fam[i % 10], giv[(i / 10) % 8],
               i % 2 ? "male" : "female", birth, phone, postal)), 5,
            CR_MATCH_POSSIBLE), APR_SUCCESS);
        assert_true(res->nelts >= 1);
        assert_string_equal(APR_ARRAY_IDX(res, 0, cr_match_result_t)
                            .patient_id, apr_psprintf(fx->pool, "p%03d", i));
        assert_int_equal(APR_ARRAY_IDX(res, 0, cr_match_result_t).grade,
                         CR_MATCH_CERTAIN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_candidates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_candidates_per_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tally, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey, setup, teardown),
        cmocka_unit_test(test_query_score),
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_duplicates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_duplicate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fit_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tune_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_cached, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
