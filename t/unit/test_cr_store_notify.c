/*
 * test_cr_store_notify.c: the distribution store (store/cr_store_notify.c,
 * schema/005_distribution.sql, docs/notifications.md) against a temporary
 * SQLite database through apr_dbd directly: subscriptions (insert, read,
 * version-checked update, delete that cancels deliveries, listing by
 * owner), events with their fan-out to the active subscriptions of their
 * code only (CR-NOT-009) in the write transaction (a rollback leaves
 * neither), and the worker's side: claim in per-client order, leases,
 * delivered, failure with back-off, parking after the maximum, status,
 * requeue, and the worker's round (settle and claim in one transaction).
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

#include "store/cr_db.h"
#include "store/cr_store_notify.h"

#define CR_TEST_DB_DIR "/tmp/cr-store-notify-XXXXXX"
#include "cr_test_db.h"

#define T0 "2026-01-15T10:00:00.000Z"
#define T1 "2026-01-15T10:00:01.000Z"
#define T2 "2026-01-15T10:00:30.000Z"
#define T3 "2026-01-15T10:05:00.000Z"

static void add_sub(fixture_t *fx, const char *id, const char *owner,
                    const char *status, const char *codes)
{
    cr_subscription_t s;

    memset(&s, 0, sizeof(s));
    s.id = id;
    s.owner = owner;
    s.status = status;
    s.event_codes = codes;
    s.endpoint = "http://127.0.0.1:9/partner";
    s.payload = "full-resource";
    s.created = s.updated = T0;
    s.version_id = 1;
    s.resource = "{\"resourceType\":\"Subscription\"}";
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_insert(fx->db, fx->pool, &s), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
}

static apr_int64_t add_event(fixture_t *fx, const char *code,
                             const char *patient, int version, int *fanout)
{
    cr_notify_event_t e;
    apr_int64_t seq = 0;

    memset(&e, 0, sizeof(e));
    e.event_code = code;
    e.patient_id = patient;
    e.patient_version = version;
    e.operation = "revise";
    e.message_id = "m-1";
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_notify_event(&seq, fanout, fx->db, fx->pool,
                                           &e, T0), APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    return seq;
}

static void test_subscriptions(void **state)
{
    fixture_t *fx = *state;
    cr_subscription_t s;
    apr_array_header_t *list;

    add_sub(fx, "s1", "CN=partner-a", "active", "NEW COMPOSITE");
    add_sub(fx, "s2", "CN=partner-b", "active", "DEATH");
    assert_int_equal(cr_store_sub_get(&s, fx->db, fx->pool, "s1"),
                     APR_SUCCESS);
    assert_string_equal(s.owner, "CN=partner-a");
    assert_string_equal(s.event_codes, "NEW COMPOSITE");
    assert_string_equal(s.endpoint, "http://127.0.0.1:9/partner");
    assert_int_equal(s.version_id, 1);
    assert_int_equal(cr_store_sub_get(&s, fx->db, fx->pool, "nope"),
                     APR_NOTFOUND);

    /* A taken id. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    s.id = "s2";
    assert_int_equal(cr_store_sub_insert(fx->db, fx->pool, &s), APR_EEXIST);
    cr_db_rollback(fx->db);

    /* Update with the version check: the codes are replaced. */
    assert_int_equal(cr_store_sub_get(&s, fx->db, fx->pool, "s1"),
                     APR_SUCCESS);
    s.event_codes = "DEATH";
    s.version_id = 2;
    s.updated = T1;
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_update(fx->db, fx->pool, &s, 1),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_update(fx->db, fx->pool, &s, 1),
                     CR_DB_CONFLICT);
    cr_db_rollback(fx->db);
    assert_int_equal(cr_store_sub_get(&s, fx->db, fx->pool, "s1"),
                     APR_SUCCESS);
    assert_int_equal(s.version_id, 2);
    assert_string_equal(s.event_codes, "DEATH");

    /* Listing by owner and for everybody. */
    assert_int_equal(cr_store_sub_list(&list, fx->db, fx->pool,
                                       "CN=partner-b", 10), APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(list, 0, cr_subscription_t).id, "s2");
    assert_int_equal(cr_store_sub_list(&list, fx->db, fx->pool, NULL, 10),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 2);

    /* Delete: marked, gone from the lists, a second delete finds none. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_delete(fx->db, fx->pool, "s1", T2),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_sub_get(&s, fx->db, fx->pool, "s1"),
                     APR_SUCCESS);
    assert_string_equal(s.status, "deleted");
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_delete(fx->db, fx->pool, "s1", T2),
                     APR_NOTFOUND);
    cr_db_rollback(fx->db);
    assert_int_equal(cr_store_sub_list(&list, fx->db, fx->pool, NULL, 10),
                     APR_SUCCESS);
    assert_int_equal(list->nelts, 1);
}

/* CR-NOT-009: an event fans out to the active subscriptions of its code
 * only; a rolled back write leaves no event and no delivery. */
static void test_fanout(void **state)
{
    fixture_t *fx = *state;
    cr_notify_status_t st;
    apr_array_header_t *events;
    cr_notify_event_t e;
    int fanout = -1;
    apr_int64_t seq;

    add_sub(fx, "a", "CN=a", "active", "NEW COMPOSITE");
    add_sub(fx, "b", "CN=b", "active", "COMPOSITE");
    add_sub(fx, "c", "CN=c", "off", "NEW COMPOSITE");

    seq = add_event(fx, "NEW", "p1", 1, &fanout);
    assert_int_equal(seq, 1);
    assert_int_equal(fanout, 1);
    seq = add_event(fx, "COMPOSITE", "p1", 2, &fanout);
    assert_int_equal(seq, 2);
    assert_int_equal(fanout, 2);
    seq = add_event(fx, "DEATH", "p1", 3, &fanout);
    assert_int_equal(seq, 3);
    assert_int_equal(fanout, 0);

    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "a"),
                     APR_SUCCESS);
    assert_int_equal(st.queued, 2);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "b"),
                     APR_SUCCESS);
    assert_int_equal(st.queued, 1);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "c"),
                     APR_SUCCESS);
    assert_int_equal(st.queued, 0);

    /* Rolled back: nothing stays. */
    memset(&e, 0, sizeof(e));
    e.event_code = "NEW";
    e.patient_id = "p2";
    e.patient_version = 1;
    e.operation = "create";
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_notify_event(NULL, NULL, fx->db, fx->pool, &e,
                                           T0), APR_SUCCESS);
    cr_db_rollback(fx->db);
    assert_int_equal(cr_store_notify_events(&events, fx->db, fx->pool, "p2",
                                            0, 10), APR_SUCCESS);
    assert_int_equal(events->nelts, 0);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "a"),
                     APR_SUCCESS);
    assert_int_equal(st.queued, 2);

    assert_int_equal(cr_store_notify_events(&events, fx->db, fx->pool, "p1",
                                            0, 10), APR_SUCCESS);
    assert_int_equal(events->nelts, 3);
    assert_string_equal(APR_ARRAY_IDX(events, 0, cr_notify_event_t)
                        .event_code, "NEW");
    assert_int_equal(APR_ARRAY_IDX(events, 2, cr_notify_event_t)
                     .patient_version, 3);
    assert_int_equal(cr_store_notify_events(&events, fx->db, fx->pool, NULL,
                                            2, 10), APR_SUCCESS);
    assert_int_equal(events->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(events, 0, cr_notify_event_t)
                        .event_code, "DEATH");
}

/* Events of one client reach one subscription in order; other clients
 * are not held back; a lease that runs out makes a delivery due again;
 * the messageId stays the same on every attempt. */
static void test_claim_order(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *claimed, *subs;
    cr_delivery_t d, first, second;
    int parked = -1;

    add_sub(fx, "a", "CN=a", "active", "NEW COMPOSITE DEATH");
    add_event(fx, "NEW", "p1", 1, NULL);
    add_event(fx, "COMPOSITE", "p1", 2, NULL);
    add_event(fx, "NEW", "p2", 1, NULL);
    add_event(fx, "DEATH", "p1", 3, NULL);

    assert_int_equal(cr_store_notify_due_subscriptions(&subs, fx->db,
                                                       fx->pool, T0, 10),
                     APR_SUCCESS);
    assert_int_equal(subs->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(subs, 0, const char *), "a");

    /* One per client, oldest first: p1's NEW and p2's NEW. */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T0, T2, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 2);
    first = APR_ARRAY_IDX(claimed, 0, cr_delivery_t);
    assert_string_equal(first.patient_id, "p1");
    assert_string_equal(first.event_code, "NEW");
    assert_string_equal(first.state, "sending");
    assert_string_equal(first.endpoint, "http://127.0.0.1:9/partner");
    assert_string_equal(first.owner, "CN=a");
    assert_int_equal(first.patient_version, 1);
    assert_int_equal(first.attempts, 0);
    assert_int_equal((int)strlen(first.id), 36);
    second = APR_ARRAY_IDX(claimed, 1, cr_delivery_t);
    assert_string_equal(second.patient_id, "p2");
    assert_string_equal(second.event_code, "NEW");

    /* While leased nothing more is due for p1 (nor p2). */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T1, T2, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 0);

    /* p2's is delivered; p1's fails and is due again at T3. */
    assert_int_equal(cr_store_notify_delivered(fx->db, fx->pool, second.id,
                                               200, T1), APR_SUCCESS);
    assert_int_equal(cr_store_notify_failed(&parked, fx->db, fx->pool,
                                            first.id, 0, 5, T3, 503,
                                            "HTTP 503", T1), APR_SUCCESS);
    assert_int_equal(parked, 0);
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, first.id),
                     APR_SUCCESS);
    assert_string_equal(d.state, "queued");
    assert_int_equal(d.attempts, 1);
    assert_int_equal(d.last_status, 503);
    assert_string_equal(d.last_error, "HTTP 503");
    assert_string_equal(d.next_attempt_at, T3);

    /* Before T3 p1's NEW is not due and its COMPOSITE waits behind it. */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T2, T3, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 0);

    /* At T3 the same delivery (same messageId) comes again. */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T3, "2026-01-15T10:06:00.000Z",
                                           10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id,
                        first.id);
    assert_int_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).attempts, 1);
    assert_int_equal(cr_store_notify_delivered(fx->db, fx->pool, first.id,
                                               200, T3), APR_SUCCESS);
    assert_int_equal(cr_store_notify_delivered(fx->db, fx->pool, first.id,
                                               200, T3), APR_NOTFOUND);
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, first.id),
                     APR_SUCCESS);
    assert_string_equal(d.state, "delivered");
    assert_int_equal(d.attempts, 2);
    assert_string_equal(d.delivered_at, T3);

    /* Now p1's COMPOSITE; a worker that dies leaves it leased until the
     * lease runs out, then it is due again. */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T3, "2026-01-15T10:06:00.000Z",
                                           10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).event_code,
                        "COMPOSITE");
    d = APR_ARRAY_IDX(claimed, 0, cr_delivery_t);
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           "2026-01-15T10:05:30.000Z",
                                           "2026-01-15T10:07:00.000Z", 10),
                     APR_SUCCESS);
    assert_int_equal(claimed->nelts, 0);
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           "2026-01-15T10:06:30.000Z",
                                           "2026-01-15T10:07:00.000Z", 10),
                     APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id, d.id);
}

/* After the maximum attempts a delivery is parked, no longer holds back
 * its client's later events, is listed, and is sent again on requeue. */
static void test_park_requeue(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *claimed, *ids;
    cr_notify_status_t st;
    cr_delivery_t d;
    int parked = -1, n = -1;

    add_sub(fx, "a", "CN=a", "active", "NEW COMPOSITE");
    add_event(fx, "NEW", "p1", 1, NULL);
    add_event(fx, "COMPOSITE", "p1", 2, NULL);

    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T0, T1, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    d = APR_ARRAY_IDX(claimed, 0, cr_delivery_t);
    assert_int_equal(cr_store_notify_failed(&parked, fx->db, fx->pool, d.id,
                                            2, 3, T2, 0, "connect refused",
                                            T0), APR_SUCCESS);
    assert_int_equal(parked, 1);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "a"),
                     APR_SUCCESS);
    assert_int_equal(st.parked, 1);
    assert_int_equal(st.queued, 1);
    assert_int_equal(cr_store_notify_list(&ids, fx->db, fx->pool, "a",
                                          CR_DELIVERY_PARKED, 10),
                     APR_SUCCESS);
    assert_int_equal(ids->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(ids, 0, const char *), d.id);

    /* The later event of p1 is no longer held back. */
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T1, T2, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).event_code,
                        "COMPOSITE");
    assert_int_equal(cr_store_notify_delivered(
        fx->db, fx->pool, APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id, 200,
        T1), APR_SUCCESS);

    /* Requeue one that is not parked: none; then the parked one. */
    assert_int_equal(cr_store_notify_requeue(&n, fx->db, fx->pool, "a",
                                             APR_ARRAY_IDX(claimed, 0,
                                                           cr_delivery_t).id,
                                             T2), APR_SUCCESS);
    assert_int_equal(n, 0);
    assert_int_equal(cr_store_notify_requeue(&n, fx->db, fx->pool, "a",
                                             NULL, T2), APR_SUCCESS);
    assert_int_equal(n, 1);
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, d.id),
                     APR_SUCCESS);
    assert_string_equal(d.state, "queued");
    assert_int_equal(d.attempts, 0);
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T2, T3, 10), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_string_equal(APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id, d.id);
}

/* Deleting a subscription cancels its unsettled deliveries; an inactive
 * subscription has none due. */
static void test_delete_cancels(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *claimed, *subs;
    cr_notify_status_t st;

    add_sub(fx, "a", "CN=a", "active", "NEW");
    add_event(fx, "NEW", "p1", 1, NULL);
    add_event(fx, "NEW", "p2", 1, NULL);
    assert_int_equal(cr_store_notify_claim(&claimed, fx->db, fx->pool, "a",
                                           T0, T1, 1), APR_SUCCESS);
    assert_int_equal(claimed->nelts, 1);
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_delete(fx->db, fx->pool, "a", T1),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "a"),
                     APR_SUCCESS);
    assert_int_equal(st.cancelled, 2);
    assert_int_equal(st.queued + st.sending, 0);
    /* The worker's result for the cancelled one is refused. */
    assert_int_equal(cr_store_notify_delivered(
        fx->db, fx->pool, APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id, 200,
        T1), APR_NOTFOUND);
    assert_int_equal(cr_store_notify_due_subscriptions(&subs, fx->db,
                                                       fx->pool, T3, 10),
                     APR_SUCCESS);
    assert_int_equal(subs->nelts, 0);
    /* New events do not fan out to it. */
    {
        int fanout = -1;
        add_event(fx, "NEW", "p3", 1, &fanout);
        assert_int_equal(fanout, 0);
    }
}

/* An outcome for cr_store_notify_round's settle. */
static cr_notify_settle_t *push_settle(apr_array_header_t *settle,
                                       const char *id, int status,
                                       const char *next_at,
                                       const char *error)
{
    cr_notify_settle_t *x = apr_array_push(settle);

    memset(x, 0, sizeof(*x));
    x->id = id;
    x->http_status = status;
    x->next_at = next_at;
    x->error = error;
    return x;
}

/* The worker's round in one transaction: the last round's outcomes are
 * settled (a success delivered, a failure due again, a last failure
 * parked, the outcome of a delivery cancelled meanwhile refused) and the
 * due deliveries of several subscriptions claimed, each still at most one
 * per client in event order. */
static void test_round(void **state)
{
    fixture_t *fx = *state;
    apr_array_header_t *claimed, *settle, *want;
    cr_notify_settle_t *x;
    cr_notify_want_t *wa;
    cr_delivery_t d;
    cr_notify_status_t st;
    const char *ida[2], *idb[2];
    int i;

    add_sub(fx, "a", "CN=a", "active", "NEW COMPOSITE");
    add_sub(fx, "b", "CN=b", "active", "NEW COMPOSITE");
    add_event(fx, "NEW", "p1", 1, NULL);
    add_event(fx, "COMPOSITE", "p1", 2, NULL);
    add_event(fx, "NEW", "p2", 1, NULL);

    settle = apr_array_make(fx->pool, 4, sizeof(cr_notify_settle_t));
    want = apr_array_make(fx->pool, 2, sizeof(cr_notify_want_t));
    wa = apr_array_push(want);
    wa->subscription_id = "a";
    wa->max = 10;
    wa = apr_array_push(want);
    wa->subscription_id = "b";
    wa->max = 10;
    assert_int_equal(cr_store_notify_round(&claimed, fx->db, fx->pool,
                                           settle, 3, want, T0, T1),
                     APR_SUCCESS);
    /* p1's NEW and p2's NEW for each subscription; p1's COMPOSITE waits. */
    assert_int_equal(claimed->nelts, 4);
    for (i = 0; i < 2; i++) {
        d = APR_ARRAY_IDX(claimed, i, cr_delivery_t);
        assert_string_equal(d.subscription_id, "a");
        assert_string_equal(d.state, "sending");
        assert_string_equal(d.event_code, "NEW");
        ida[i] = d.id;
        d = APR_ARRAY_IDX(claimed, i + 2, cr_delivery_t);
        assert_string_equal(d.subscription_id, "b");
        idb[i] = d.id;
    }

    /* a's two: delivered and failed (due again at T2); b's first failed
     * for the last time (parked); b is then deleted, so the outcome of
     * its second is refused. */
    assert_int_equal(cr_db_begin(fx->db, fx->pool), APR_SUCCESS);
    assert_int_equal(cr_store_sub_delete(fx->db, fx->pool, "b", T0),
                     APR_SUCCESS);
    assert_int_equal(cr_db_commit(fx->db), APR_SUCCESS);
    push_settle(settle, ida[0], 200, NULL, NULL);
    push_settle(settle, ida[1], 503, T2, "HTTP 503");
    push_settle(settle, idb[1], 200, NULL, NULL);
    want->nelts = 1;
    assert_int_equal(cr_store_notify_round(&claimed, fx->db, fx->pool,
                                           settle, 1, want, T1, T2),
                     APR_SUCCESS);
    /* max_attempts 1: the 503 parks ida[1]. */
    x = &APR_ARRAY_IDX(settle, 0, cr_notify_settle_t);
    assert_int_equal(x[0].settled, 1);
    assert_int_equal(x[0].parked, 0);
    assert_int_equal(x[1].settled, 1);
    assert_int_equal(x[1].parked, 1);
    assert_int_equal(x[2].settled, 0);
    /* p1's COMPOSITE follows its delivered NEW in the same round. */
    assert_int_equal(claimed->nelts, 1);
    d = APR_ARRAY_IDX(claimed, 0, cr_delivery_t);
    assert_string_equal(d.event_code, "COMPOSITE");
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, ida[0]),
                     APR_SUCCESS);
    assert_string_equal(d.state, "delivered");
    assert_int_equal(d.attempts, 1);
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, ida[1]),
                     APR_SUCCESS);
    assert_string_equal(d.state, "parked");
    assert_int_equal(d.last_status, 503);
    assert_int_equal(cr_store_notify_status(&st, fx->db, fx->pool, "b"),
                     APR_SUCCESS);
    assert_int_equal(st.cancelled, 3);

    /* A failure short of the maximum is due again at next_at. */
    apr_array_clear(settle);
    x = push_settle(settle, APR_ARRAY_IDX(claimed, 0, cr_delivery_t).id, 0,
                    T3, "connect refused");
    want->nelts = 0;
    assert_int_equal(cr_store_notify_round(&claimed, fx->db, fx->pool,
                                           settle, 3, want, T2, T3),
                     APR_SUCCESS);
    assert_int_equal(claimed->nelts, 0);
    assert_int_equal(x->settled, 1);
    assert_int_equal(x->parked, 0);
    assert_int_equal(cr_store_notify_get(&d, fx->db, fx->pool, x->id),
                     APR_SUCCESS);
    assert_string_equal(d.state, "queued");
    assert_string_equal(d.next_attempt_at, T3);
    assert_int_equal(d.attempts, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park_requeue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_cancels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_round, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
