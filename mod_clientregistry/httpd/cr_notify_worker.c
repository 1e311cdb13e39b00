/* cr_notify_worker: sends the change notifications of the outbox
 * (docs/notifications.md, operations.md 7).
 *
 * The second thread of each child's durable worker (cr_async_worker runs
 * the async jobs, this one the notifications; both take their work from
 * the database, so whatever is due after a restart or a SIGKILL is taken
 * up again).  Every round it asks the store for the active subscriptions
 * with due deliveries and, in one transaction (cr_store_notify_round,
 * committed without its own fsync: docs/notification-delivery.md),
 * settles what the last transfers came to and claims a few deliveries of
 * each (per subscription: at most one per client, in event order, leased
 * -- the store's contract).  It builds each SubscriptionNotificationBundle
 * (ops/cr_notify.c; an event's Patient read and masked once per round, as
 * for a caller that is not privileged, for all its subscriptions) and
 * starts its POST to [endpoint]/Patient/$PatientNotification through
 * cr_outbound's curl multi: at most MAX_INFLIGHT transfers at once and
 * PER_SUBSCRIPTION to one partner, so a slow or dead partner holds only
 * its own deliveries (and a few of the slots) and never a request thread.
 * A 200 settles a delivery as delivered; anything else is a failed
 * attempt, due again after an exponential back-off kept in the database
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

#define MAX_INFLIGHT 48
#define PER_SUBSCRIPTION 16
#define SUBSCRIPTIONS_PER_ROUND 32
#define ROUND_MS 100
#define IDLE_MS 100
/* Once a transfer has finished, how long the round waits for more to
 * finish before it settles them (all in one commit). */
#define GATHER_MS 10

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
    apr_pool_t *settle_pool;       /* settle's, until a round commits */
    apr_array_header_t *settle;    /* cr_notify_settle_t to commit */
    apr_hash_t *cache;             /* "patient/version" -> json_object,
                                    * of the round (in its pool) */
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

/* What an attempt on delivery id came to, settled by the next round's
 * commit: 200 delivered; else a failed attempt, due again after the
 * back-off (or parked: the store decides from the attempts). */
static void outcome(notify_worker_t *w, const char *id, int attempts,
                    int status, const char *why)
{
    cr_notify_settle_t *x = apr_array_push(w->settle);

    memset(x, 0, sizeof(*x));
    x->id = apr_pstrdup(w->settle_pool, id);
    x->http_status = status;
    x->attempts = attempts;
    if (status != 200) {
        apr_int64_t delay = w->first_delay;
        int k;

        for (k = 0; k < attempts && delay < CR_CONFIG_RETRY_MAX_DELAY;
             k++) {
            delay *= 2;
        }
        if (delay > CR_CONFIG_RETRY_MAX_DELAY) {
            delay = CR_CONFIG_RETRY_MAX_DELAY;
        }
        x->next_at = instant(w->settle_pool,
                             apr_time_now() + apr_time_from_sec(delay));
        x->error = apr_pstrdup(w->settle_pool, why);
    }
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
    else {
        outcome(w, b->id, b->attempts, code > 0 ? (int)code : 0,
                code == 200 ? NULL
                : err ? err : apr_psprintf(w->round, "HTTP %ld", code));
    }
    apr_pool_destroy(b->pool);
}

/* The masked Patient of d's event: read, parsed and masked once per
 * round for every subscription the event goes to (cr_notify_patient).
 * Kept for the round only, so the mask is decided when the round claims,
 * as it was for each delivery on its own. */
static json_object *patient_of(notify_worker_t *w, cr_ctx_t *ctx,
                               const cr_delivery_t *d)
{
    const char *key = apr_psprintf(w->round, "%s/%d", d->patient_id,
                                   d->patient_version);
    json_object *p = apr_hash_get(w->cache, key, APR_HASH_KEY_STRING);

    if (p) {
        return p;
    }
    if (cr_notify_patient(&p, ctx, d->patient_id, d->patient_version,
                          w->base) != APR_SUCCESS || p == NULL) {
        return NULL;
    }
    apr_hash_set(w->cache, key, APR_HASH_KEY_STRING, p);
    return p;
}

/* Build and start the notification of claimed delivery d. */
static void start(notify_worker_t *w, const cr_delivery_t *d)
{
    cr_ctx_t ctx;
    cr_settings_t set;
    const char *body = NULL, *err = NULL, *url;
    json_object *patient;
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
    if ((patient = patient_of(w, &ctx, d)) == NULL
        || cr_notify_bundle_of(&body, &ctx, d, w->base, patient)
           != APR_SUCCESS) {
        outcome(w, d->id, d->attempts, 0, "the notified Patient version "
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
        outcome(w, d->id, d->attempts, 0, err ? err : "not sent");
        apr_pool_destroy(bp);
        return;
    }
    (*busy_count(w, d->subscription_id))++;
}

/* The failures a committed round settled, in the log. */
static void log_failures(notify_worker_t *w)
{
    int i;

    for (i = 0; i < w->settle->nelts; i++) {
        const cr_notify_settle_t *x = &APR_ARRAY_IDX(w->settle, i,
                                                     cr_notify_settle_t);
        if (x->http_status == 200 || !x->settled) {
            continue;
        }
        ap_log_error(APLOG_MARK, x->parked ? APLOG_WARNING : APLOG_INFO, 0,
                     w->s, CR_APLOGNO(00524) "notify: delivery %s: attempt "
                     "%d failed (%s)%s", x->id, x->attempts + 1,
                     x->error ? x->error : "?",
                     x->parked ? "; parked" : "; will retry");
    }
}

/* One round in one transaction: settle what the last transfers came to
 * and claim what is due, within the bounds on transfers; then start the
 * claimed transfers.  How many were claimed; -1 when the round could not
 * commit (the outcomes are kept for the next one). */
static int round_once(notify_worker_t *w)
{
    apr_array_header_t *subs = NULL, *got = NULL, *want;
    apr_time_t now = apr_time_now();
    const char *at = instant(w->round, now);
    const char *lease = instant(w->round, now + apr_time_from_sec(
                                    2 * w->timeout + 5));
    int i, room, left;

    want = apr_array_make(w->round, SUBSCRIPTIONS_PER_ROUND,
                          sizeof(cr_notify_want_t));
    left = MAX_INFLIGHT - cr_outbound_multi_running(w->multi);
    if (left > 0 && !apr_atomic_read32(w->stopping)
        && cr_store_notify_due_subscriptions(&subs, w->db, w->round, at,
                                             SUBSCRIPTIONS_PER_ROUND)
           == APR_SUCCESS) {
        for (i = 0; i < subs->nelts && left > 0; i++) {
            const char *sub = APR_ARRAY_IDX(subs, i, const char *);
            /* At most PER_SUBSCRIPTION transfers to one partner. */
            room = PER_SUBSCRIPTION - *busy_count(w, sub);
            if (room > left) {
                room = left;
            }
            if (room <= 0) {
                continue;   /* its partner still has enough of ours */
            }
            ((cr_notify_want_t *)apr_array_push(want))->subscription_id =
                sub;
            APR_ARRAY_IDX(want, want->nelts - 1, cr_notify_want_t).max =
                room;
            left -= room;
        }
    }
    if (want->nelts == 0 && w->settle->nelts == 0) {
        return 0;
    }
    if (cr_store_notify_round(&got, w->db, w->round, w->settle, w->attempts,
                              want, at, lease)
        != APR_SUCCESS) {
        return -1;   /* settle is offered again next round */
    }
    log_failures(w);
    apr_array_clear(w->settle);
    apr_pool_clear(w->settle_pool);
    w->cache = apr_hash_make(w->round);
    for (i = 0; i < got->nelts; i++) {
        start(w, &APR_ARRAY_IDX(got, i, cr_delivery_t));
    }
    return got->nelts;
}

/* Run the transfers until one finishes (or ROUND_MS), then gather the
 * others that finish within GATHER_MS, so that a round settles them
 * together. */
static void transfer(notify_worker_t *w)
{
    int before = w->settle->nelts;
    apr_time_t until;

    cr_outbound_multi_run(w->multi, ROUND_MS, done, w);
    if (w->settle->nelts == before) {
        return;
    }
    until = apr_time_now() + apr_time_from_msec(GATHER_MS);
    while (cr_outbound_multi_running(w->multi) > 0
           && !apr_atomic_read32(w->stopping)) {
        apr_interval_time_t rest = until - apr_time_now();
        if (rest <= 0) {
            break;
        }
        cr_outbound_multi_run(w->multi, (int)(rest / 1000) + 1, done, w);
    }
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
                int claimed = round_once(w);
                if (cr_outbound_multi_running(w->multi) > 0) {
                    transfer(w);
                }
                /* A round that failed waits as an idle one does. */
                idle = claimed < 0
                       || (claimed == 0 && w->settle->nelts == 0
                           && cr_outbound_multi_running(w->multi) == 0);
            }
            cr_dbd_close(w->s, dbd);
            w->db = NULL;
        }
        if (idle) {
            apr_sleep(apr_time_from_msec(IDLE_MS));
        }
    }
    /* What finished but was not settled yet: settled now if the database
     * still answers, else sent again when its lease runs out (the same
     * messageId). */
    if (w->settle->nelts > 0) {
        apr_pool_clear(w->round);
        if ((w->db = cr_dbd_open(&dbd, w->round, w->s)) != NULL) {
            round_once(w);
            cr_dbd_close(w->s, dbd);
            w->db = NULL;
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
    apr_pool_create(&w->settle_pool, w->pool);
    w->settle = apr_array_make(w->pool, MAX_INFLIGHT,
                               sizeof(cr_notify_settle_t));
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
