/* cr_notify_worker: sends the change notifications of the outbox
 * (docs/notifications.md, operations.md 7).
 *
 * The second thread of each child's durable worker (cr_async_worker runs
 * the async jobs, this one the notifications; both take their work from
 * the database, so whatever is due after a restart or a SIGKILL is taken
 * up again).  Every round it asks the store for the active subscriptions
 * with due deliveries, claims a few deliveries of each (per subscription:
 * at most one per client, in event order, leased -- the store's
 * contract), builds each SubscriptionNotificationBundle (ops/cr_notify.c,
 * masked as for a caller that is not privileged) and starts its POST to
 * [endpoint]/Patient/$PatientNotification through cr_outbound's curl
 * multi: at most MAX_INFLIGHT transfers at once and PER_SUBSCRIPTION to
 * one partner, so a slow or dead partner holds only its own deliveries
 * (and a few of the slots) and never a request thread.  A 200 settles a
 * delivery as delivered; anything else is a failed attempt, due again
 * after an exponential back-off kept in the database
 * (ClientRegistryNotifyRetry), and parked after the last attempt.  A
 * transfer cut short by a stopping child is left claimed: its lease runs
 * out and it is sent again (at least once, the same messageId).
 */
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "core/cr_datetime.h"
#include "ops/cr_notify.h"
#include "store/cr_store_notify.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_notify_worker.h"
#include "httpd/cr_outbound.h"

#define MAX_INFLIGHT 16
#define PER_SUBSCRIPTION 8
#define SUBSCRIPTIONS_PER_ROUND 32
#define ROUND_MS 100
#define IDLE_MS 100

typedef struct notify_worker_t {
    server_rec *s;
    const cr_srv_conf_t *sc;
    apr_thread_t *thread;
    volatile apr_uint32_t *stopping;
    apr_pool_t *pool;              /* the thread's: transfers, batons */
    cr_outbound_multi_t *multi;
    apr_hash_t *busy;              /* subscription id -> int * in flight */
    cr_db_t *db;                   /* of the current round */
    apr_pool_t *round;             /* scratch of the current round */
    apr_array_header_t *delivered; /* ids settled at the round's end */
    int first_delay, attempts, timeout;
    const char *base;
} notify_worker_t;

/* One delivery under way. */
typedef struct baton_t {
    apr_pool_t *pool;
    const char *id, *sub;
    int attempts;                  /* made before this one */
} baton_t;

static const char *instant(apr_pool_t *pool, apr_time_t t)
{
    char buf[CR_DATETIME_INSTANT_SIZE];

    if (cr_datetime_format_instant(buf, sizeof(buf), t) != APR_SUCCESS) {
        return "1970-01-01T00:00:00.000Z";
    }
    return apr_pstrdup(pool, buf);
}

static int *busy_count(notify_worker_t *w, const char *sub)
{
    int *n = apr_hash_get(w->busy, sub, APR_HASH_KEY_STRING);

    if (n == NULL) {
        n = apr_pcalloc(w->pool, sizeof(*n));
        apr_hash_set(w->busy, apr_pstrdup(w->pool, sub),
                     APR_HASH_KEY_STRING, n);
    }
    return n;
}

/* A failed attempt: due again after the back-off, or parked. */
static void failed(notify_worker_t *w, const char *id, int attempts,
                   int status, const char *why)
{
    apr_int64_t delay = w->first_delay;
    int k, parked = 0;
    apr_time_t now = apr_time_now();

    for (k = 0; k < attempts && delay < CR_CONFIG_RETRY_MAX_DELAY; k++) {
        delay *= 2;
    }
    if (delay > CR_CONFIG_RETRY_MAX_DELAY) {
        delay = CR_CONFIG_RETRY_MAX_DELAY;
    }
    cr_store_notify_failed(&parked, w->db, w->round, id, attempts,
                           w->attempts,
                           instant(w->round, now + apr_time_from_sec(delay)),
                           status, why, instant(w->round, now));
    ap_log_error(APLOG_MARK, parked ? APLOG_WARNING : APLOG_INFO, 0, w->s,
                 CR_APLOGNO(00524) "notify: delivery %s: attempt %d failed "
                 "(%s)%s", id, attempts + 1, why,
                 parked ? "; parked" : "; will retry");
}

static void done(void *ctx, void *bv, long code, const char *err)
{
    notify_worker_t *w = ctx;
    baton_t *b = bv;
    int *n = busy_count(w, b->sub);

    (*n)--;
    if (code == CR_OUTBOUND_INTERRUPTED) {
        /* Left claimed: the lease runs out and it is sent again. */
    }
    else if (code == 200) {
        /* Settled with the round's other successes, in one commit. */
        APR_ARRAY_PUSH(w->delivered, const char *) =
            apr_pstrdup(w->round, b->id);
    }
    else {
        failed(w, b->id, b->attempts, code > 0 ? (int)code : 0,
               err ? err : apr_psprintf(w->round, "HTTP %ld", code));
    }
    apr_pool_destroy(b->pool);
}

/* Build and start the notification of claimed delivery d. */
static void start(notify_worker_t *w, const cr_delivery_t *d)
{
    cr_ctx_t ctx;
    cr_settings_t set;
    const char *body = NULL, *err = NULL, *url;
    baton_t *b;
    apr_pool_t *bp;
    apr_size_t n;

    memset(&ctx, 0, sizeof(ctx));
    memset(&set, 0, sizeof(set));
    cr_service_ctx_init(&ctx, w->round, apr_time_now());
    set.base_url = w->base;
    set.fhir = cr_fhir_default_limits;
    ctx.settings = &set;
    ctx.db = w->db;
    if (cr_notify_bundle(&body, &ctx, d, w->base) != APR_SUCCESS) {
        failed(w, d->id, d->attempts, 0, "the notified Patient version "
               "cannot be read");
        return;
    }
    n = strlen(d->endpoint);
    url = apr_pstrcat(w->round, d->endpoint,
                      n > 0 && d->endpoint[n - 1] == '/' ? "" : "/",
                      "Patient/$PatientNotification", NULL);
    apr_pool_create(&bp, w->pool);
    b = apr_pcalloc(bp, sizeof(*b));
    b->pool = bp;
    b->id = apr_pstrdup(bp, d->id);
    b->sub = apr_pstrdup(bp, d->subscription_id);
    b->attempts = d->attempts;
    if (cr_outbound_multi_add(w->multi, url, body, w->timeout, b, &err)
        != APR_SUCCESS) {
        failed(w, d->id, d->attempts, 0, err ? err : "not sent");
        apr_pool_destroy(bp);
        return;
    }
    (*busy_count(w, d->subscription_id))++;
}

/* Claim and start what is due, within the bounds on transfers; how many
 * were claimed. */
static int claim(notify_worker_t *w)
{
    apr_array_header_t *subs = NULL, *got = NULL;
    apr_time_t now = apr_time_now();
    const char *at = instant(w->round, now);
    const char *lease = instant(w->round, now + apr_time_from_sec(
                                    2 * w->timeout + 5));
    int i, j, room, claimed = 0;

    if (cr_store_notify_due_subscriptions(&subs, w->db, w->round, at,
                                          SUBSCRIPTIONS_PER_ROUND)
        != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < subs->nelts; i++) {
        const char *sub = APR_ARRAY_IDX(subs, i, const char *);
        room = MAX_INFLIGHT - cr_outbound_multi_running(w->multi);
        if (room <= 0 || apr_atomic_read32(w->stopping)) {
            return claimed;
        }
        /* At most PER_SUBSCRIPTION transfers to one partner. */
        if (room > PER_SUBSCRIPTION - *busy_count(w, sub)) {
            room = PER_SUBSCRIPTION - *busy_count(w, sub);
        }
        if (room <= 0) {
            continue;   /* its partner still has enough of ours */
        }
        if (cr_store_notify_claim(&got, w->db, w->round, sub, at, lease,
                                  room)
            != APR_SUCCESS) {
            continue;
        }
        for (j = 0; j < got->nelts; j++) {
            start(w, &APR_ARRAY_IDX(got, j, cr_delivery_t));
        }
        claimed += got->nelts;
    }
    return claimed;
}

static void *APR_THREAD_FUNC run(apr_thread_t *t, void *data)
{
    notify_worker_t *w = data;
    ap_dbd_t *dbd;

    apr_pool_create(&w->round, w->pool);
    while (!apr_atomic_read32(w->stopping)) {
        int idle = 1;
        apr_pool_clear(w->round);
        if ((w->db = cr_dbd_open(&dbd, w->round, w->s)) != NULL) {
            if (cr_dbd_schema_ready(w->db, w->round, w->s, NULL)) {
                int claimed = claim(w), n = 0;
                if (cr_outbound_multi_running(w->multi) > 0) {
                    w->delivered = apr_array_make(w->round, MAX_INFLIGHT,
                                                  sizeof(const char *));
                    cr_outbound_multi_run(w->multi, ROUND_MS, done, w);
                    if (w->delivered->nelts > 0) {
                        cr_store_notify_delivered_many(
                            &n, w->db, w->round, w->delivered, 200,
                            instant(w->round, apr_time_now()));
                    }
                }
                idle = claimed == 0
                       && cr_outbound_multi_running(w->multi) == 0;
            }
            cr_dbd_close(w->s, dbd);
            w->db = NULL;
        }
        if (idle) {
            apr_sleep(apr_time_from_msec(IDLE_MS));
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t stop(void *data)
{
    notify_worker_t *w = data;
    apr_status_t trv;

    apr_atomic_set32(w->stopping, 1);
    if (w->thread) {
        apr_thread_join(&trv, w->thread);
        w->thread = NULL;
    }
    return APR_SUCCESS;
}

void cr_notify_worker_start(apr_pool_t *pchild, server_rec *s,
                            volatile apr_uint32_t *stopping)
{
    notify_worker_t *w = apr_pcalloc(pchild, sizeof(*w));
    apr_threadattr_t *attr;
    apr_status_t rv;

    w->s = s;
    w->sc = ap_get_module_config(s->module_config, &clientregistry_module);
    w->stopping = stopping;
    apr_pool_create(&w->pool, pchild);
    w->busy = apr_hash_make(w->pool);
    w->multi = cr_outbound_multi_create(w->pool, s, w->sc, stopping);
    cr_config_notify_retry(&w->first_delay, &w->attempts, &w->timeout,
                           w->sc);
    w->base = cr_config_notify_base(w->pool, s, w->sc);
    if (w->multi == NULL) {
        return;
    }
    apr_threadattr_create(&attr, pchild);
    rv = apr_thread_create(&w->thread, attr, run, w, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CR_APLOGNO(00525)
                     "notify: cannot start the notification thread");
        w->thread = NULL;
        return;
    }
    /* Joined before pchild's subpools go (as the async worker). */
    apr_pool_pre_cleanup_register(pchild, w, stop);
}
