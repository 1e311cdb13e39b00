/* cr_store_notify: distributions in the database (see the header and
 * docs/notifications.md). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_uuid.h>

#include "store/cr_store_notify.h"
#include "store/cr_db_sqlite.h"
#include "store/cr_store_pg.h"

/* Most event codes one subscription holds (the code system has 10). */
#define MAX_CODES 32

static int cell_int(const cr_db_rows_t *rows, int r, int c)
{
    const char *v = cr_db_cell(rows, r, c);

    return v ? atoi(v) : 0;
}

static const char *cell_dup(apr_pool_t *pool, const cr_db_rows_t *rows,
                            int r, int c)
{
    const char *v = cr_db_cell(rows, r, c);

    return v ? apr_pstrdup(pool, v) : NULL;
}

/* ---- Subscriptions -------------------------------------------------- */

static void sub_from_row(cr_subscription_t *s, apr_pool_t *pool,
                         const cr_db_rows_t *rows, int r)
{
    s->id = cell_dup(pool, rows, r, 0);
    s->owner = cell_dup(pool, rows, r, 1);
    s->status = cell_dup(pool, rows, r, 2);
    s->event_codes = cell_dup(pool, rows, r, 3);
    s->endpoint = cell_dup(pool, rows, r, 4);
    s->payload = cell_dup(pool, rows, r, 5);
    s->created = cell_dup(pool, rows, r, 6);
    s->updated = cell_dup(pool, rows, r, 7);
    s->version_id = cell_int(rows, r, 8);
    s->resource = cell_dup(pool, rows, r, 9);
}

/* The rows of cr_subscription_event for sub: one per code of
 * sub->event_codes (space separated, at most MAX_CODES). */
static apr_status_t insert_codes(cr_db_t *db, apr_pool_t *pool,
                                 const cr_subscription_t *sub)
{
    char *codes = apr_pstrdup(pool, sub->event_codes ? sub->event_codes
                                                     : "");
    char *last, *code;
    const char *args[2];
    apr_status_t rv;
    int n = 0;

    args[0] = sub->id;
    for (code = apr_strtok(codes, " ", &last); code;
         code = apr_strtok(NULL, " ", &last)) {
        if (++n > MAX_CODES) {
            return APR_EINVAL;
        }
        args[1] = code;
        rv = cr_db_exec(db, pool, "cr_sub_event_insert", NULL, 2, args);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_sub_insert(cr_db_t *db, apr_pool_t *pool,
                                 const cr_subscription_t *sub)
{
    const char *args[10];
    apr_status_t rv;

    args[0] = sub->id;
    args[1] = sub->owner;
    args[2] = sub->status;
    args[3] = sub->event_codes;
    args[4] = sub->endpoint;
    args[5] = sub->payload;
    args[6] = sub->created;
    args[7] = sub->updated;
    args[8] = apr_itoa(pool, sub->version_id);
    args[9] = sub->resource;
    rv = cr_db_exec(db, pool, "cr_sub_insert", NULL, 10, args);
    return rv == APR_SUCCESS ? insert_codes(db, pool, sub) : rv;
}

apr_status_t cr_store_sub_get(cr_subscription_t *out, cr_db_t *db,
                              apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    const char *args[1];
    apr_status_t rv;

    args[0] = id;
    rv = cr_db_select_one(&rows, db, pool, "cr_sub_get", 1, args);
    if (rv == APR_SUCCESS) {
        sub_from_row(out, pool, rows, 0);
    }
    return rv;
}

apr_status_t cr_store_sub_update(cr_db_t *db, apr_pool_t *pool,
                                 const cr_subscription_t *sub,
                                 int expected)
{
    const char *args[9];
    apr_status_t rv;
    int n = 0;

    args[0] = sub->status;
    args[1] = sub->event_codes;
    args[2] = sub->endpoint;
    args[3] = sub->payload;
    args[4] = sub->updated;
    args[5] = apr_itoa(pool, sub->version_id);
    args[6] = sub->resource;
    args[7] = sub->id;
    args[8] = apr_itoa(pool, expected);
    rv = cr_db_exec(db, pool, "cr_sub_update", &n, 9, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (n != 1) {
        return CR_DB_CONFLICT;
    }
    rv = cr_db_exec(db, pool, "cr_sub_event_delete", NULL, 1, &sub->id);
    return rv == APR_SUCCESS ? insert_codes(db, pool, sub) : rv;
}

apr_status_t cr_store_sub_delete(cr_db_t *db, apr_pool_t *pool,
                                 const char *id, const char *now)
{
    const char *args[2];
    apr_status_t rv;
    int n = 0;

    args[0] = now;
    args[1] = id;
    rv = cr_db_exec(db, pool, "cr_sub_delete", &n, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (n != 1) {
        return APR_NOTFOUND;
    }
    rv = cr_db_exec(db, pool, "cr_sub_event_delete", NULL, 1, &args[1]);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return cr_db_exec(db, pool, "cr_delivery_cancel_sub", NULL, 2, args);
}

apr_status_t cr_store_sub_list(apr_array_header_t **out, cr_db_t *db,
                               apr_pool_t *pool, const char *owner,
                               int max)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    if (max > CR_NOTIFY_MAX_LIST) {
        max = CR_NOTIFY_MAX_LIST;
    }
    if (owner) {
        args[0] = owner;
        args[1] = apr_itoa(pool, max);
        rv = cr_db_select(&rows, db, pool, "cr_sub_list_owner", max, 2,
                          args);
    }
    else {
        args[0] = apr_itoa(pool, max);
        rv = cr_db_select(&rows, db, pool, "cr_sub_list_all", max, 1, args);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(cr_subscription_t));
    for (r = 0; r < rows->nrows; r++) {
        sub_from_row(apr_array_push(*out), pool, rows, r);
    }
    return APR_SUCCESS;
}

/* ---- Events --------------------------------------------------------- */

static const char *new_uuid(apr_pool_t *pool)
{
    apr_uuid_t u;
    char *buf = apr_palloc(pool, APR_UUID_FORMATTED_LENGTH + 1);

    apr_uuid_get(&u);
    apr_uuid_format(buf, &u);
    return buf;
}

/* The next outbox seq: SQLite MAX + 1 (a bulk tool counts on from the
 * first, its rows being kept back), PostgreSQL from the sequence. */
static apr_status_t next_seq(apr_int64_t *seq, cr_db_t *db,
                             apr_pool_t *pool)
{
    cr_db_rows_t *rows;
    apr_status_t rv;

    if (!db->is_sqlite) {
        /* PostgreSQL: from a sequence, no lock across writers. */
        return cr_store_pg_outbox_seq(seq, db, pool);
    }
    if (db->defer_rows && db->outbox_next > 0) {
        *seq = db->outbox_next++;
        return APR_SUCCESS;
    }
    rv = cr_db_select(&rows, db, pool, "cr_outbox_next_seq", 1, 0, NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *seq = rows->nrows == 1 && cr_db_cell(rows, 0, 0)
           ? apr_atoi64(cr_db_cell(rows, 0, 0)) : 1;
    if (db->defer_rows) {
        db->outbox_next = *seq + 1;
    }
    return APR_SUCCESS;
}

/* The active subscriptions of an event code.  A bulk tool reads them once
 * per code (they are copied into the connection's pool) and fans out
 * every event of its run to those. */
static apr_status_t match_subs(cr_db_rows_t **subs, cr_db_t *db,
                               apr_pool_t *pool, const char *code)
{
    const char *args[2];
    apr_pool_t *keep;
    cr_db_rows_t *c;
    apr_status_t rv;
    int n;

    if (db->defer_rows && db->bulk_subs
        && (*subs = apr_hash_get(db->bulk_subs, code, APR_HASH_KEY_STRING))) {
        return APR_SUCCESS;
    }
    args[0] = code;
    args[1] = apr_itoa(pool, CR_NOTIFY_MAX_FANOUT);
    rv = cr_db_select(subs, db, pool, "cr_sub_match", CR_NOTIFY_MAX_FANOUT,
                      2, args);
    if (rv != APR_SUCCESS || !db->defer_rows || db->prepared == NULL) {
        return rv;
    }
    keep = apr_hash_pool_get(db->prepared);
    if (db->bulk_subs == NULL) {
        db->bulk_subs = apr_hash_make(keep);
    }
    c = apr_pmemdup(keep, *subs, sizeof(*c));
    c->cells = apr_pcalloc(keep, sizeof(const char *)
                                 * (apr_size_t)(c->nrows * c->ncols + 1));
    for (n = 0; n < c->nrows * c->ncols; n++) {
        c->cells[n] = (*subs)->cells[n]
                      ? apr_pstrdup(keep, (*subs)->cells[n]) : NULL;
    }
    apr_hash_set(db->bulk_subs, apr_pstrdup(keep, code), APR_HASH_KEY_STRING,
                 c);
    return APR_SUCCESS;
}

apr_status_t cr_store_notify_event(apr_int64_t *seq, int *fanout,
                                   cr_db_t *db, apr_pool_t *pool,
                                   const cr_notify_event_t *event,
                                   const char *now)
{
    cr_db_rows_t *subs;
    const char *args[7];
    const char *seqtext;
    apr_int64_t n = 0;
    apr_status_t rv;
    int r;

    if (fanout) {
        *fanout = 0;
    }
    rv = next_seq(&n, db, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    seqtext = apr_psprintf(pool, "%" APR_INT64_T_FMT, n);
    args[0] = seqtext;
    args[1] = event->event_code;
    args[2] = event->patient_id;
    args[3] = apr_itoa(pool, event->patient_version);
    args[4] = event->operation;
    args[5] = event->message_id;
    args[6] = now;
    /* One row now; a bulk tool's kept back and written 32 at a time,
     * before the deliveries that refer to them (first-use order). */
    rv = cr_db_exec_rows(db, pool, "cr_outbox_insert", 32, 7, 1, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (seq) {
        *seq = n;
    }

    rv = match_subs(&subs, db, pool, event->event_code);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < subs->nrows; r++) {
        const char *dargs[7];

        dargs[0] = new_uuid(pool);
        dargs[1] = cr_db_cell(subs, r, 0);
        dargs[2] = seqtext;
        dargs[3] = event->patient_id;
        dargs[4] = now;
        dargs[5] = now;
        dargs[6] = now;
        rv = cr_db_exec_rows(db, pool, "cr_delivery_insert", 1, 7, 1, dargs);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (fanout) {
        *fanout = subs->nrows;
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_notify_events(apr_array_header_t **out, cr_db_t *db,
                                    apr_pool_t *pool,
                                    const char *patient_id,
                                    apr_int64_t after, int max)
{
    cr_db_rows_t *rows;
    const char *args[2];
    apr_status_t rv;
    int r;

    *out = NULL;
    args[0] = patient_id ? patient_id
                         : apr_psprintf(pool, "%" APR_INT64_T_FMT, after);
    args[1] = apr_itoa(pool, max);
    rv = cr_db_select(&rows, db, pool,
                      patient_id ? "cr_outbox_list_patient"
                                 : "cr_outbox_list_after",
                      max, 2, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(cr_notify_event_t));
    for (r = 0; r < rows->nrows; r++) {
        cr_notify_event_t *e = apr_array_push(*out);

        e->seq = apr_atoi64(cr_db_cell(rows, r, 0));
        e->event_code = cell_dup(pool, rows, r, 1);
        e->patient_id = cell_dup(pool, rows, r, 2);
        e->patient_version = cell_int(rows, r, 3);
        e->operation = cell_dup(pool, rows, r, 4);
        e->message_id = cell_dup(pool, rows, r, 5);
        e->created = cell_dup(pool, rows, r, 6);
    }
    return APR_SUCCESS;
}

/* ---- Delivery ------------------------------------------------------- */

static apr_status_t select_ids(apr_array_header_t **out, cr_db_t *db,
                               apr_pool_t *pool, const char *label,
                               int max, int nargs, const char *const *args)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    int r;

    *out = NULL;
    rv = cr_db_select(&rows, db, pool, label, max, nargs, args);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = apr_array_make(pool, rows->nrows > 0 ? rows->nrows : 1,
                          sizeof(const char *));
    for (r = 0; r < rows->nrows; r++) {
        APR_ARRAY_PUSH(*out, const char *) = cell_dup(pool, rows, r, 0);
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_notify_due_subscriptions(apr_array_header_t **out,
                                               cr_db_t *db,
                                               apr_pool_t *pool,
                                               const char *now, int max)
{
    const char *args[3];

    args[0] = now;
    args[1] = now;
    args[2] = apr_itoa(pool, max);
    return select_ids(out, db, pool, "cr_delivery_due_subs", max, 3, args);
}

apr_status_t cr_store_notify_get(cr_delivery_t *out, cr_db_t *db,
                                 apr_pool_t *pool, const char *id)
{
    cr_db_rows_t *rows;
    apr_status_t rv;

    rv = cr_db_select_one(&rows, db, pool, "cr_delivery_get", 1, &id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    out->id = cell_dup(pool, rows, 0, 0);
    out->subscription_id = cell_dup(pool, rows, 0, 1);
    out->event_seq = apr_atoi64(cr_db_cell(rows, 0, 2));
    out->patient_id = cell_dup(pool, rows, 0, 3);
    out->state = cell_dup(pool, rows, 0, 4);
    out->attempts = cell_int(rows, 0, 5);
    out->next_attempt_at = cell_dup(pool, rows, 0, 6);
    out->last_status = cell_int(rows, 0, 7);
    out->last_error = cell_dup(pool, rows, 0, 8);
    out->delivered_at = cell_dup(pool, rows, 0, 9);
    out->event_code = cell_dup(pool, rows, 0, 10);
    out->patient_version = cell_int(rows, 0, 11);
    out->event_created = cell_dup(pool, rows, 0, 12);
    out->endpoint = cell_dup(pool, rows, 0, 13);
    out->owner = cell_dup(pool, rows, 0, 14);
    out->created = cell_dup(pool, rows, 0, 15);
    return APR_SUCCESS;
}

/* Inside the caller's transaction: claim at most max due deliveries of
 * subscription_id, appended to out. */
static apr_status_t claim_in(apr_array_header_t *out, cr_db_t *db,
                             apr_pool_t *pool, const char *subscription_id,
                             const char *now, const char *locked_until,
                             int max)
{
    apr_array_header_t *ids;
    const char *args[5];
    apr_status_t rv;
    int i;

    args[0] = subscription_id;
    args[1] = now;
    args[2] = now;
    args[3] = apr_itoa(pool, max);
    rv = select_ids(&ids, db, pool, "cr_delivery_due", max, 4, args);
    for (i = 0; rv == APR_SUCCESS && i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        int n = 0;

        args[0] = locked_until;
        args[1] = now;
        args[2] = id;
        args[3] = now;
        args[4] = now;
        rv = cr_db_exec(db, pool, "cr_delivery_claim", &n, 5, args);
        if (rv == APR_SUCCESS && n == 1) {
            rv = cr_store_notify_get(apr_array_push(out), db, pool, id);
        }
    }
    return rv;
}

apr_status_t cr_store_notify_claim(apr_array_header_t **out, cr_db_t *db,
                                   apr_pool_t *pool,
                                   const char *subscription_id,
                                   const char *now,
                                   const char *locked_until, int max)
{
    apr_status_t rv;

    *out = apr_array_make(pool, max > 0 ? max : 1, sizeof(cr_delivery_t));
    rv = cr_db_begin(db, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = claim_in(*out, db, pool, subscription_id, now, locked_until, max);
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    if (rv != APR_SUCCESS) {
        apr_array_clear(*out);
    }
    return rv;
}

apr_status_t cr_store_notify_delivered(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, int http_status,
                                       const char *now)
{
    const char *args[4];
    apr_status_t rv;
    int n = 0;

    args[0] = apr_itoa(pool, http_status);
    args[1] = now;
    args[2] = now;
    args[3] = id;
    rv = cr_db_exec_txn(db, pool, "cr_delivery_delivered", &n, 4, args);
    return rv == APR_SUCCESS && n != 1 ? APR_NOTFOUND : rv;
}

/* Inside the caller's transaction: the failed attempt, as
 * cr_store_notify_failed. */
static apr_status_t failed_in(int *n, int *parked, cr_db_t *db,
                              apr_pool_t *pool, const char *id,
                              int attempts, int max_attempts,
                              const char *next_at, int http_status,
                              const char *error, const char *now)
{
    const char *args[7];
    int park = attempts + 1 >= max_attempts;

    if (parked) {
        *parked = park;
    }
    args[0] = park ? CR_DELIVERY_PARKED : CR_DELIVERY_QUEUED;
    args[1] = apr_itoa(pool, attempts + 1);
    args[2] = next_at;
    args[3] = apr_itoa(pool, http_status);
    args[4] = error;
    args[5] = now;
    args[6] = id;
    return cr_db_exec(db, pool, "cr_delivery_failed", n, 7, args);
}

apr_status_t cr_store_notify_failed(int *parked, cr_db_t *db,
                                    apr_pool_t *pool, const char *id,
                                    int attempts, int max_attempts,
                                    const char *next_at, int http_status,
                                    const char *error, const char *now)
{
    apr_status_t rv = cr_db_begin(db, pool);
    int n = 0;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = failed_in(&n, parked, db, pool, id, attempts, max_attempts,
                   next_at, http_status, error, now);
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    return rv == APR_SUCCESS && n != 1 ? APR_NOTFOUND : rv;
}

apr_status_t cr_store_notify_round(apr_array_header_t **claimed,
                                   cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *settle,
                                   int max_attempts,
                                   const apr_array_header_t *want,
                                   const char *now,
                                   const char *locked_until)
{
    apr_status_t rv;
    int i, total = 0, sync;

    for (i = 0; want && i < want->nelts; i++) {
        total += APR_ARRAY_IDX(want, i, cr_notify_want_t).max;
    }
    *claimed = apr_array_make(pool, total > 0 ? total : 1,
                              sizeof(cr_delivery_t));
    /* The worker's bookkeeping is not made durable on its own commit
     * (docs/notifications.md, "Durability of the worker's rounds"). */
    sync = cr_db_sqlite_relax_sync(db, pool);
    if ((rv = cr_db_begin(db, pool)) != APR_SUCCESS) {
        cr_db_sqlite_restore_sync(db, sync);
        return rv;
    }
    rv = cr_store_pg_async_commit(db, pool);
    for (i = 0; rv == APR_SUCCESS && settle && i < settle->nelts; i++) {
        cr_notify_settle_t *x = &APR_ARRAY_IDX(settle, i,
                                               cr_notify_settle_t);
        const char *args[4];
        int n = 0;

        x->parked = 0;
        if (x->http_status == 200) {
            args[0] = "200";
            args[1] = now;
            args[2] = now;
            args[3] = x->id;
            rv = cr_db_exec(db, pool, "cr_delivery_delivered", &n, 4, args);
        }
        else {
            rv = failed_in(&n, &x->parked, db, pool, x->id, x->attempts,
                           max_attempts, x->next_at, x->http_status,
                           x->error, now);
        }
        x->settled = n == 1;
    }
    for (i = 0; rv == APR_SUCCESS && want && i < want->nelts; i++) {
        const cr_notify_want_t *w = &APR_ARRAY_IDX(want, i,
                                                   cr_notify_want_t);
        rv = claim_in(*claimed, db, pool, w->subscription_id, now,
                      locked_until, w->max);
    }
    if (rv == APR_SUCCESS) {
        rv = cr_db_commit(db);
    }
    else {
        cr_db_rollback(db);
    }
    cr_db_sqlite_restore_sync(db, sync);
    if (rv != APR_SUCCESS) {
        apr_array_clear(*claimed);
    }
    return rv;
}

apr_status_t cr_store_notify_list(apr_array_header_t **out, cr_db_t *db,
                                  apr_pool_t *pool,
                                  const char *subscription_id,
                                  const char *state, int max)
{
    const char *args[3];

    args[0] = subscription_id;
    args[1] = state;
    args[2] = apr_itoa(pool, max);
    return select_ids(out, db, pool, "cr_delivery_list_state", max, 3,
                      args);
}

apr_status_t cr_store_notify_status(cr_notify_status_t *out, cr_db_t *db,
                                    apr_pool_t *pool,
                                    const char *subscription_id)
{
    cr_db_rows_t *rows;
    apr_status_t rv;
    int r;

    memset(out, 0, sizeof(*out));
    rv = cr_db_select(&rows, db, pool, "cr_delivery_count_state", 16, 1,
                      &subscription_id);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (r = 0; r < rows->nrows; r++) {
        const char *state = cr_db_cell(rows, r, 0);
        int n = cell_int(rows, r, 1);

        if (!state) {
            continue;
        }
        if (strcmp(state, CR_DELIVERY_QUEUED) == 0) {
            out->queued = n;
        }
        else if (strcmp(state, CR_DELIVERY_SENDING) == 0) {
            out->sending = n;
        }
        else if (strcmp(state, CR_DELIVERY_DELIVERED) == 0) {
            out->delivered = n;
        }
        else if (strcmp(state, CR_DELIVERY_PARKED) == 0) {
            out->parked = n;
        }
        else if (strcmp(state, CR_DELIVERY_CANCELLED) == 0) {
            out->cancelled = n;
        }
    }
    return APR_SUCCESS;
}

apr_status_t cr_store_notify_requeue(int *n, cr_db_t *db, apr_pool_t *pool,
                                     const char *subscription_id,
                                     const char *id, const char *now)
{
    const char *args[4];

    args[0] = now;
    args[1] = now;
    args[2] = subscription_id;
    args[3] = id;
    return cr_db_exec_txn(db, pool, id ? "cr_delivery_requeue_one"
                                       : "cr_delivery_requeue_all",
                          n, id ? 4 : 3, args);
}
