/* cr_store_audit: the audit trail in SQL (see the header). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "core/cr_text.h"
#include "store/cr_store_audit.h"
#include "store/cr_store_pg.h"

#define VERIFY_PAGE 1000

static const char *i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

/* s with every byte that is not part of a valid UTF-8 sequence written
 * as %XX: what a client sent in its request line or headers is recorded
 * (and hashed) as text every database accepts.  PostgreSQL refuses
 * invalid UTF-8, and one such record failed its whole audit batch. */
static const char *audit_text(apr_pool_t *pool, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n, i = 0, o = 0;
    char *out;

    if (s == NULL || cr_text_utf8_ok(s, n = strlen(s))) {
        return s;
    }
    out = apr_palloc(pool, 3 * n + 1);
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        apr_size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
                         : c >= 0xE0 && c <= 0xEF ? 3
                         : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len && i + len <= n && cr_text_utf8_ok(s + i, len)) {
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static void audit_clean(apr_pool_t *pool, cr_audit_rec_t *r)
{
    r->method = audit_text(pool, r->method);
    r->path = audit_text(pool, r->path);
    r->query = audit_text(pool, r->query);
    r->client_dn = audit_text(pool, r->client_dn);
    r->org_id = audit_text(pool, r->org_id);
    r->source_system = audit_text(pool, r->source_system);
    r->user_id = audit_text(pool, r->user_id);
    r->remote_addr = audit_text(pool, r->remote_addr);
    r->message_id = audit_text(pool, r->message_id);
    r->patients = audit_text(pool, r->patients);
}

/* Chain recs onto the end (position end, hash prev) of chain and insert
 * them with the numbers seqs (ascending). */
static apr_status_t insert_chained(cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *recs, int chain,
                                   const apr_int64_t *seqs, apr_int64_t end,
                                   const char *prev)
{
    apr_array_header_t *cols, *pats;
    apr_status_t rv;
    int i;

    /* The records and their patients in multi-row statements
     * (cr_db_exec_rows): the chain's end is held meanwhile, so the
     * append must be quick even for an audit writer's batch of hundreds
     * of records. */
    cols = apr_array_make(pool, 19 * (recs->nelts + 1), sizeof(const char *));
    pats = apr_array_make(pool, 2 * (recs->nelts + 1), sizeof(const char *));
    for (i = 0; i < recs->nelts; i++) {
        cr_audit_rec_t *r = APR_ARRAY_IDX(recs, i, cr_audit_rec_t *);
        char *hash = apr_palloc(pool, CR_HASH_HEX_LEN + 1);
        const char *seqs_s;
        audit_clean(pool, r);
        r->seq = seqs[i];
        r->chain = chain;
        r->chain_seq = ++end;
        r->prev_hash = prev;
        rv = cr_hashchain_compute(hash, r, prev);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        r->hash = hash;
        seqs_s = i64(pool, r->seq);
        APR_ARRAY_PUSH(cols, const char *) = seqs_s;
        APR_ARRAY_PUSH(cols, const char *) = r->recorded;
        APR_ARRAY_PUSH(cols, const char *) = r->action;
        APR_ARRAY_PUSH(cols, const char *) = r->operation;
        APR_ARRAY_PUSH(cols, const char *) = r->method;
        APR_ARRAY_PUSH(cols, const char *) = r->path;
        APR_ARRAY_PUSH(cols, const char *) = r->query;
        APR_ARRAY_PUSH(cols, const char *) = apr_itoa(pool, r->status);
        APR_ARRAY_PUSH(cols, const char *) = r->client_dn;
        APR_ARRAY_PUSH(cols, const char *) = r->org_id;
        APR_ARRAY_PUSH(cols, const char *) = r->source_system;
        APR_ARRAY_PUSH(cols, const char *) = r->user_id;
        APR_ARRAY_PUSH(cols, const char *) = r->remote_addr;
        APR_ARRAY_PUSH(cols, const char *) = r->message_id;
        APR_ARRAY_PUSH(cols, const char *) = r->patients;
        APR_ARRAY_PUSH(cols, const char *) = r->prev_hash;
        APR_ARRAY_PUSH(cols, const char *) = r->hash;
        APR_ARRAY_PUSH(cols, const char *) = apr_itoa(pool, chain);
        APR_ARRAY_PUSH(cols, const char *) = i64(pool, r->chain_seq);
        if (r->patients && *r->patients) {
            /* Each patient once per record (the key is (patient, seq)). */
            apr_hash_t *seen = apr_hash_make(pool);
            char *list = apr_pstrdup(pool, r->patients), *st = NULL, *id;
            int n = 0;
            for (id = apr_strtok(list, " ", &st); id && n < 100;
                 id = apr_strtok(NULL, " ", &st), n++) {
                if (apr_hash_get(seen, id, APR_HASH_KEY_STRING)) {
                    continue;
                }
                apr_hash_set(seen, id, APR_HASH_KEY_STRING, id);
                APR_ARRAY_PUSH(pats, const char *) = id;
                APR_ARRAY_PUSH(pats, const char *) = seqs_s;
            }
        }
        prev = r->hash;
    }
    rv = cr_db_exec_rows(db, pool, "cr_audit_insert", 32, 19, recs->nelts,
                         (const char *const *)cols->elts);
    if (rv == APR_SUCCESS) {
        rv = cr_db_exec_rows(db, pool, "cr_audit_patient_insert", 32, 2,
                             pats->nelts / 2,
                             (const char *const *)pats->elts);
    }
    return rv;
}

apr_status_t cr_store_audit_append_chain(cr_db_t *db, apr_pool_t *pool,
                                         apr_array_header_t *recs, int chain)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_int64_t *seqs, max = 0, end = 0;
    const char *prev = NULL;
    apr_status_t rv;
    int i;

    if (recs->nelts == 0) {
        return APR_SUCCESS;
    }
    args[0] = apr_itoa(pool, chain);
    args[1] = args[0];
    rv = cr_db_select(&rows, db, pool, "cr_audit_chain_end", 1, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 1) {
        max = cr_db_cell(rows, 0, 0) ? apr_atoi64(cr_db_cell(rows, 0, 0)) : 0;
        end = cr_db_cell(rows, 0, 1) ? apr_atoi64(cr_db_cell(rows, 0, 1)) : 0;
        prev = cr_db_cell(rows, 0, 2);
    }
    seqs = apr_palloc(pool, sizeof(*seqs) * (apr_size_t)recs->nelts);
    for (i = 0; i < recs->nelts; i++) {
        seqs[i] = max + 1 + i;
    }
    return insert_chained(db, pool, recs, chain, seqs, end,
                          prev ? prev : CR_HASH_GENESIS);
}

apr_status_t cr_store_audit_append(cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *recs)
{
    apr_int64_t *seqs, end = 0;
    const char *prev = NULL;
    apr_status_t rv;
    int chain = 0;

    if (db->is_sqlite) {
        /* One writer at a time: chain 0, seq MAX + 1, as always. */
        return cr_store_audit_append_chain(db, pool, recs, 0);
    }
    if (recs->nelts == 0) {
        return APR_SUCCESS;
    }
    /* PostgreSQL: writers of every node append in parallel, each to a
     * chain no other transaction holds, from here to its commit (which
     * follows at once). */
    seqs = apr_palloc(pool, sizeof(*seqs) * (apr_size_t)recs->nelts);
    rv = cr_store_pg_audit_chain(&chain, seqs, &end, &prev, db, pool,
                                 recs->nelts);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return insert_chained(db, pool, recs, chain, seqs, end,
                          prev ? prev : CR_HASH_GENESIS);
}

static cr_audit_rec_t *rec_from_row(apr_pool_t *pool,
                                    const cr_db_rows_t *rows, int r)
{
    cr_audit_rec_t *a = apr_pcalloc(pool, sizeof(*a));

    a->seq = apr_atoi64(cr_db_cell(rows, r, 0));
    a->recorded = cr_db_cell(rows, r, 1);
    a->action = cr_db_cell(rows, r, 2);
    a->operation = cr_db_cell(rows, r, 3);
    a->method = cr_db_cell(rows, r, 4);
    a->path = cr_db_cell(rows, r, 5);
    a->query = cr_db_cell(rows, r, 6);
    a->status = cr_db_cell(rows, r, 7) ? atoi(cr_db_cell(rows, r, 7)) : 0;
    a->client_dn = cr_db_cell(rows, r, 8);
    a->org_id = cr_db_cell(rows, r, 9);
    a->source_system = cr_db_cell(rows, r, 10);
    a->user_id = cr_db_cell(rows, r, 11);
    a->remote_addr = cr_db_cell(rows, r, 12);
    a->message_id = cr_db_cell(rows, r, 13);
    a->patients = cr_db_cell(rows, r, 14);
    a->prev_hash = cr_db_cell(rows, r, 15);
    a->hash = cr_db_cell(rows, r, 16);
    a->chain = cr_db_cell(rows, r, 17) ? atoi(cr_db_cell(rows, r, 17)) : 0;
    a->chain_seq = cr_db_cell(rows, r, 18)
                   ? apr_atoi64(cr_db_cell(rows, r, 18)) : 0;
    return a;
}

apr_status_t cr_store_audit_verify_chains(apr_array_header_t **chains,
                                          cr_db_t *db, apr_pool_t *pool)
{
    apr_pool_t *scratch;
    cr_audit_chain_t *cur = NULL;
    /* The page cursor (chain, chain_seq): below every row at first. */
    int after_chain = INT_MIN;
    apr_int64_t after_pos = APR_INT64_MIN;
    char prev[CR_HASH_HEX_LEN + 1];
    apr_status_t rv = APR_SUCCESS;

    *chains = apr_array_make(pool, 4, sizeof(cr_audit_chain_t));
    apr_pool_create(&scratch, pool);
    for (;;) {
        cr_db_rows_t *rows;
        const char *args[3];
        int r;
        apr_pool_clear(scratch);
        args[0] = apr_itoa(scratch, after_chain);
        args[1] = i64(scratch, after_pos);
        args[2] = apr_itoa(scratch, VERIFY_PAGE);
        rv = cr_db_select(&rows, db, scratch, "cr_audit_page", VERIFY_PAGE,
                          3, args);
        if (rv != APR_SUCCESS || rows->nrows == 0) {
            break;
        }
        for (r = 0; r < rows->nrows; r++) {
            cr_audit_rec_t *a = rec_from_row(scratch, rows, r);
            char want[CR_HASH_HEX_LEN + 1];
            if (cur == NULL || a->chain != cur->chain) {
                cur = apr_array_push(*chains);
                memset(cur, 0, sizeof(*cur));
                cur->chain = a->chain;
                apr_cpystrn(prev, CR_HASH_GENESIS, sizeof(prev));
            }
            cur->checked++;
            after_chain = a->chain;
            if (a->chain_seq != cur->length + 1 || a->prev_hash == NULL
                || strcmp(a->prev_hash, prev) != 0
                || cr_hashchain_compute(want, a, prev) != APR_SUCCESS
                || a->hash == NULL || strcmp(want, a->hash) != 0) {
                /* Broken here: the rest of this chain is not checked;
                 * the next page starts at the next chain. */
                cur->first_bad = cur->length + 1;
                cur->first_bad_seq = a->seq;
                after_pos = APR_INT64_MAX;
                break;
            }
            apr_cpystrn(prev, a->hash, sizeof(prev));
            cur->length = a->chain_seq;
            after_pos = a->chain_seq;
        }
    }
    apr_pool_destroy(scratch);
    return rv;
}

apr_int64_t cr_audit_chain_first_bad(const cr_audit_chain_t *c)
{
    return c->chain == 0 ? c->first_bad : c->first_bad_seq;
}

apr_status_t cr_store_audit_verify(apr_int64_t *checked,
                                   apr_int64_t *first_bad, cr_db_t *db,
                                   apr_pool_t *pool)
{
    apr_array_header_t *chains;
    apr_status_t rv;
    int i;

    *checked = 0;
    *first_bad = 0;
    rv = cr_store_audit_verify_chains(&chains, db, pool);
    for (i = 0; rv == APR_SUCCESS && i < chains->nelts; i++) {
        const cr_audit_chain_t *c = &APR_ARRAY_IDX(chains, i,
                                                   cr_audit_chain_t);
        *checked += c->checked;
        if (c->first_bad && *first_bad == 0) {
            *first_bad = cr_audit_chain_first_bad(c);
        }
    }
    return rv;
}

apr_status_t cr_store_audit_find(apr_array_header_t **seqs, cr_db_t *db,
                                 apr_pool_t *pool, const char *patient,
                                 const char *org, const char *from,
                                 const char *to, int limit)
{
    cr_db_rows_t *rows;
    const char *args[3];
    const char *label;
    apr_status_t rv;
    int n, r;

    *seqs = apr_array_make(pool, 16, sizeof(apr_int64_t));
    if (patient) {
        label = "cr_audit_by_patient";
        args[0] = patient;
        n = 1;
    }
    else if (org) {
        label = "cr_audit_by_org";
        args[0] = org;
        n = 1;
    }
    else if (from || to) {
        label = "cr_audit_by_time";
        args[0] = from ? from : "0000";
        args[1] = to ? to : "9999";
        n = 2;
    }
    else {
        label = "cr_audit_recent";
        n = 0;
    }
    args[n] = apr_itoa(pool, limit);
    rv = cr_db_select(&rows, db, pool, label, limit, n + 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(*seqs, apr_int64_t) =
            apr_atoi64(cr_db_cell(rows, r, 0));
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_audit_get(cr_audit_rec_t **out, cr_db_t *db,
                                apr_pool_t *pool, apr_int64_t seq)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    *out = NULL;
    args[0] = i64(pool, seq);
    rv = cr_db_select(&rows, db, pool, "cr_audit_get", 1, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (rows->nrows == 0) {
        return APR_NOTFOUND;
    }
    *out = rec_from_row(pool, rows, 0);
    return APR_SUCCESS;
}
