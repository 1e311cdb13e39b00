/* test_cr_audit_chains: the audit trail as several hash chains (schema
 * 013; store/cr_store_audit.c), the form PostgreSQL's parallel appenders
 * leave it in.  On a SQLite fixture, records are appended to chain 0 (the
 * single writer's, hashed as before 013) and then interleaved over chains
 * 1 to 3 (cr_store_audit_append_chain: what each PostgreSQL appender does
 * once it holds its chain), and verification must find every chain
 * intact, count each chain's records, and detect tampering in any chain:
 * a field edited, a record removed, a record moved to another chain or
 * place, a forged record whose hash is recomputed -- and report the chain
 * and the record where it breaks while the other chains stay intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "core/cr_hashchain.h"
#include "store/cr_db.h"
#include "store/cr_store_audit.h"

#define CR_TEST_DB_DIR "/tmp/cr-audit-chains-XXXXXX"
#include "cr_test_db.h"

static void sql(fixture_t *fx, const char *text)
{
    int nrows = 0, rv = apr_dbd_query(g_driver, fx->handle, &nrows, text);

    if (rv != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, rv));
    }
}

/* One value of a query outside the catalogue (checks only). */
static const char *Q(fixture_t *fx, const char *text)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    if (apr_dbd_select(g_driver, fx->pool, fx->handle, &res, text, 0) != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, -1));
    }
    while (apr_dbd_get_row(g_driver, fx->pool, res, &row, -1) == 0) {
        if (v == NULL) {
            v = apr_dbd_get_entry(g_driver, row, 0);
            v = apr_pstrdup(fx->pool, v ? v : "NULL");
        }
    }
    return v ? v : "";
}

/* Append n records (one transaction) to chain; record i's path is
 * "/<tag>/<i>". */
static void append(fixture_t *fx, int chain, const char *tag, int n)
{
    apr_array_header_t *recs = apr_array_make(fx->pool, n,
                                              sizeof(cr_audit_rec_t *));
    int i;

    for (i = 0; i < n; i++) {
        cr_audit_rec_t *r = apr_pcalloc(fx->pool, sizeof(*r));
        r->recorded = "2026-01-15T10:00:00.000Z";
        r->action = "R";
        r->operation = "read";
        r->method = "GET";
        r->path = apr_psprintf(fx->pool, "/%s/%d", tag, i);
        r->status = 200;
        r->org_id = "org-1";
        r->patients = "p1 p2";
        APR_ARRAY_PUSH(recs, cr_audit_rec_t *) = r;
    }
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_audit_append_chain(fx->db, fx->pool, recs,
                                                 chain), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
}

/* Chain 0: 3 records (seq 1-3); then chains 1, 2, 3 interleaved:
 * 1: seq 4-5, 2: seq 6, 3: seq 7-9, 1: seq 10, 2: seq 11-12, 3: seq 13.
 * Chain lengths 3, 3, 3, 4. */
static void build(fixture_t *fx)
{
    append(fx, 0, "zero", 3);
    append(fx, 1, "one", 2);
    append(fx, 2, "two", 1);
    append(fx, 3, "three", 3);
    append(fx, 1, "one-b", 1);
    append(fx, 2, "two-b", 2);
    append(fx, 3, "three-b", 1);
}

/* "chain:checked:length:first_bad:first_bad_seq" per chain, ' '-joined. */
static const char *verified(fixture_t *fx)
{
    apr_array_header_t *chains = NULL;
    const char *out = "";
    int i;

    assert_int_equal(cr_store_audit_verify_chains(&chains, fx->db, fx->pool),
                     APR_SUCCESS);
    for (i = 0; i < chains->nelts; i++) {
        const cr_audit_chain_t *c = &APR_ARRAY_IDX(chains, i,
                                                   cr_audit_chain_t);
        out = apr_psprintf(fx->pool, "%s%s%d:%" APR_INT64_T_FMT ":%"
                           APR_INT64_T_FMT ":%" APR_INT64_T_FMT ":%"
                           APR_INT64_T_FMT, out, i ? " " : "", c->chain,
                           c->checked, c->length, c->first_bad,
                           c->first_bad_seq);
    }
    return out;
}

static void summary(fixture_t *fx, apr_int64_t want_checked,
                    apr_int64_t want_bad)
{
    apr_int64_t checked = -1, bad = -1;

    assert_int_equal(cr_store_audit_verify(&checked, &bad, fx->db, fx->pool),
                     APR_SUCCESS);
    assert_int_equal(checked, want_checked);
    assert_int_equal(bad, want_bad);
}

#define INTACT "0:3:3:0:0 1:3:3:0:0 2:3:3:0:0 3:4:4:0:0"

/* Every chain links from the genesis hash, positions 1..n, seq unique
 * across chains; all verify, each counted. */
static void test_chains_intact(void **state)
{
    fixture_t *fx = *state;

    build(fx);
    assert_string_equal(Q(fx, "SELECT group_concat(chain || '.' || "
                              "chain_seq, ' ') FROM (SELECT chain, "
                              "chain_seq FROM cr_audit ORDER BY seq)"),
                        "0.1 0.2 0.3 1.1 1.2 2.1 3.1 3.2 3.3 1.3 2.2 2.3 "
                        "3.4");
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_audit WHERE "
                              "chain_seq = 1 AND prev_hash = '"
                              CR_HASH_GENESIS "'"), "4");
    /* Record 10 (chain 1, position 3) links to record 5, not to 9. */
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_audit a JOIN "
                              "cr_audit p ON p.seq = 5 WHERE a.seq = 10 "
                              "AND a.prev_hash = p.hash"), "1");
    assert_string_equal(verified(fx), INTACT);
    summary(fx, 13, 0);
}

/* Chain 0's records hash as before migration 013 (chain and position not
 * covered), so a trail written before it still verifies; the others'
 * hashes cover both. */
static void test_chain_zero_legacy_hash(void **state)
{
    fixture_t *fx = *state;
    cr_audit_rec_t *rec = NULL;
    char hash[CR_HASH_HEX_LEN + 1];

    build(fx);
    assert_int_equal(cr_store_audit_get(&rec, fx->db, fx->pool, 2),
                     APR_SUCCESS);
    assert_int_equal(rec->chain, 0);
    rec->chain_seq = 99;
    assert_int_equal(cr_hashchain_compute(hash, rec, rec->prev_hash),
                     APR_SUCCESS);
    assert_string_equal(hash, rec->hash);
    assert_int_equal(cr_store_audit_get(&rec, fx->db, fx->pool, 10),
                     APR_SUCCESS);
    assert_int_equal(rec->chain, 1);
    assert_int_equal(rec->chain_seq, 3);
    assert_int_equal(cr_hashchain_compute(hash, rec, rec->prev_hash),
                     APR_SUCCESS);
    assert_string_equal(hash, rec->hash);
    rec->chain = 2;
    assert_int_equal(cr_hashchain_compute(hash, rec, rec->prev_hash),
                     APR_SUCCESS);
    assert_string_not_equal(hash, rec->hash);
}

/* A field edited in chain 2 (record 11, its position 2): chain 2 breaks
 * there, the others stay intact; put back, intact again. */
static void test_tamper_field(void **state)
{
    fixture_t *fx = *state;

    build(fx);
    sql(fx, "UPDATE cr_audit SET status = 500 WHERE seq = 11");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:3:3:0:0 2:2:1:2:11 "
                                      "3:4:4:0:0");
    summary(fx, 12, 11);
    sql(fx, "UPDATE cr_audit SET status = 200 WHERE seq = 11");
    assert_string_equal(verified(fx), INTACT);
    /* Chain 0 as before 013: an edit is reported at its seq. */
    sql(fx, "UPDATE cr_audit SET org_id = 'org-2' WHERE seq = 2");
    assert_string_equal(verified(fx), "0:2:1:2:2 1:3:3:0:0 2:3:3:0:0 "
                                      "3:4:4:0:0");
    summary(fx, 12, 2);
}

/* A record removed from the middle of chain 3 (record 8, position 2):
 * the record found at position 2 is out of place. */
static void test_tamper_delete(void **state)
{
    fixture_t *fx = *state;

    build(fx);
    sql(fx, "DELETE FROM cr_audit WHERE seq = 8");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:3:3:0:0 2:3:3:0:0 "
                                      "3:2:1:2:9");
    summary(fx, 11, 9);
    /* ... and renumbered to close the gap: its link to record 7 is
     * wrong. */
    sql(fx, "UPDATE cr_audit SET chain_seq = chain_seq - 1 WHERE chain = 3 "
            "AND chain_seq > 2");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:3:3:0:0 2:3:3:0:0 "
                                      "3:2:1:2:9");
}

/* The last record of chain 1 (record 10) moved to the end of chain 2
 * with a fitting position: its hash covers its chain, so chain 2 breaks
 * there (and chain 1, shorter by one, stays intact: a chain's tail is not
 * anchored, as the single chain's was not). */
static void test_tamper_move(void **state)
{
    fixture_t *fx = *state;

    build(fx);
    sql(fx, "UPDATE cr_audit SET chain = 2, chain_seq = 4, prev_hash = "
            "(SELECT hash FROM cr_audit WHERE seq = 12) WHERE seq = 10");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:2:2:0:0 2:4:3:4:10 "
                                      "3:4:4:0:0");
    summary(fx, 13, 10);
}

/* Two records of chain 1 swap places (positions 1 and 2): each hash
 * covers its position. */
static void test_tamper_swap(void **state)
{
    fixture_t *fx = *state;

    build(fx);
    sql(fx, "UPDATE cr_audit SET chain_seq = 100 WHERE seq = 4");
    sql(fx, "UPDATE cr_audit SET chain_seq = 1 WHERE seq = 5");
    sql(fx, "UPDATE cr_audit SET chain_seq = 2 WHERE seq = 4");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:1:0:1:5 2:3:3:0:0 "
                                      "3:4:4:0:0");
}

/* A forger who recomputes the hash of an edited record of chain 3
 * (record 8) breaks the link of the next record there (record 9). */
static void test_tamper_forged_hash(void **state)
{
    fixture_t *fx = *state;
    cr_audit_rec_t *rec = NULL;
    char hash[CR_HASH_HEX_LEN + 1];

    build(fx);
    assert_int_equal(cr_store_audit_get(&rec, fx->db, fx->pool, 8),
                     APR_SUCCESS);
    rec->patients = "p9";
    assert_int_equal(cr_hashchain_compute(hash, rec, rec->prev_hash),
                     APR_SUCCESS);
    sql(fx, apr_psprintf(fx->pool, "UPDATE cr_audit SET patients = 'p9', "
                                   "hash = '%s' WHERE seq = 8", hash));
    assert_string_equal(verified(fx), "0:3:3:0:0 1:3:3:0:0 2:3:3:0:0 "
                                      "3:3:2:3:9");
    /* A record slipped in at a new chain's start is checked too. */
    sql(fx, "INSERT INTO cr_audit (seq, recorded, action, operation, method,"
            " path, status, prev_hash, hash, chain, chain_seq) SELECT 50,"
            " recorded, action, operation, method, path, status, prev_hash,"
            " hash, 7, 1 FROM cr_audit WHERE seq = 4");
    assert_string_equal(verified(fx), "0:3:3:0:0 1:3:3:0:0 2:3:3:0:0 "
                                      "3:3:2:3:9 7:1:0:1:50");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chains_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_zero_legacy_hash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tamper_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_move, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_forged_hash, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
