/* cr_store_notify: distributions in the database (issue 13, operations.md
 * section 7, profiles.md 7.3; tables of schema/005_distribution.sql; the
 * contract in full is docs/notifications.md).
 *
 * Three parts, one per side:
 *
 * Subscriptions (cr_subscription, cr_subscription_event): the RESTful
 * Subscription interactions insert, read, update (version checked) and
 * delete them.  A subscription is owned by the verified identity that
 * created it (owner); a DELETE marks it 'deleted' and cancels its
 * unsettled deliveries, in one transaction.
 *
 * Events (cr_outbox, cr_delivery): every write of a person calls
 * cr_store_notify_event inside its own write transaction, once per event
 * code the change produced.  The event gets the next seq of the outbox
 * (SQLite: MAX + 1 under its single writer; PostgreSQL: from a sequence,
 * drawn while the writer holds its person's row lock, so one client's
 * events are numbered in commit order: cr_store_pg_outbox_seq) and, in the
 * same transaction, one delivery row per subscription that is 'active' and
 * subscribed to that code at that moment (the fan-out happens at commit
 * time, never later: a subscription sees the events written after it was
 * created).  The delivery id is a new UUID, the stable messageId of the
 * notification: the same on every attempt.  A rolled back write leaves no
 * event and no delivery.
 *
 * Delivery (the notification worker): cr_store_notify_due_subscriptions
 * names the subscriptions with due deliveries; cr_store_notify_claim takes
 * the due deliveries of one subscription, at most one per client, in
 * event order (a delivery waits while an earlier delivery of the same
 * client to the same subscription is queued or sending: events of one
 * client reach one subscription in order), and leases them ('sending'
 * until locked_until; a worker that dies leaves them due again when the
 * lease runs out).  Each claimed delivery is settled by
 * cr_store_notify_delivered or cr_store_notify_failed (next attempt time,
 * or 'parked' once the attempts reach the maximum).  A parked delivery no
 * longer holds back later ones of its client; cr_store_notify_requeue
 * puts it back in the queue with a fresh attempt budget.
 * cr_store_notify_status counts the deliveries of a subscription by state
 * and cr_store_notify_list lists the ids in one state (parked, say).
 *
 * Verbs that say "in its own transaction" begin and commit one (the
 * worker holds no transaction around them); the others run in the
 * caller's.  Times are FHIR instants (UTC, as cr_datetime), compared as
 * text.  Nothing here logs or picks an HTTP status; results as in
 * cr_db.h (APR_NOTFOUND: no such row, CR_DB_CONFLICT: the version check
 * failed).
 */
#ifndef CR_STORE_NOTIFY_H
#define CR_STORE_NOTIFY_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "store/cr_db.h"

/* Most subscriptions one event fans out to (a LIMIT of the fan-out). */
#define CR_NOTIFY_MAX_FANOUT 1000
/* Most subscriptions one listing returns. */
#define CR_NOTIFY_MAX_LIST 1000

/* Delivery states. */
#define CR_DELIVERY_QUEUED    "queued"
#define CR_DELIVERY_SENDING   "sending"
#define CR_DELIVERY_DELIVERED "delivered"
#define CR_DELIVERY_PARKED    "parked"
#define CR_DELIVERY_CANCELLED "cancelled"

/* A subscription row. */
typedef struct cr_subscription_t {
    const char *id;
    const char *owner;         /* verified identity of its creator */
    const char *status;        /* active | off | error | deleted */
    const char *event_codes;   /* space separated, e.g. "NEW COMPOSITE" */
    const char *endpoint;      /* channel.endpoint (the partner's base) */
    const char *payload;       /* "full-resource" */
    const char *created, *updated;
    int version_id;
    const char *resource;      /* the Subscription as stored (JSON text) */
} cr_subscription_t;

/* An event row. */
typedef struct cr_notify_event_t {
    apr_int64_t seq;
    const char *event_code;    /* profiles.md 7.3: NEW, COMPOSITE, ... */
    const char *patient_id;
    int patient_version;       /* the version the change wrote */
    const char *operation;     /* the writer: "create", "revise", ... */
    const char *message_id;    /* the request's message id, or NULL */
    const char *created;
} cr_notify_event_t;

/* A delivery with its event and subscription. */
typedef struct cr_delivery_t {
    const char *id;            /* the notification's messageId (UUID) */
    const char *subscription_id;
    apr_int64_t event_seq;
    const char *patient_id;
    const char *state;
    int attempts;              /* attempts made (before this one) */
    const char *next_attempt_at;
    int last_status;           /* HTTP status of the last attempt, 0 none */
    const char *last_error;
    const char *delivered_at;
    const char *event_code;
    int patient_version;
    const char *event_created;
    const char *endpoint;      /* the subscription's channel.endpoint */
    const char *owner;         /* the subscription's owner */
    const char *created;
} cr_delivery_t;

/* ---- Subscriptions -------------------------------------------------- */

/* Inside the caller's transaction: insert sub (its codes as rows of
 * cr_subscription_event too).  APR_EEXIST if the id is taken. */
apr_status_t cr_store_sub_insert(cr_db_t *db, apr_pool_t *pool,
                                 const cr_subscription_t *sub);

/* Read subscription id (deleted ones too: status "deleted").
 * APR_NOTFOUND if none. */
apr_status_t cr_store_sub_get(cr_subscription_t *out, cr_db_t *db,
                              apr_pool_t *pool, const char *id);

/* Inside the caller's transaction: replace subscription sub->id, which
 * must be at version expected, by sub (sub->version_id the new version;
 * its codes replace the old ones).  CR_DB_CONFLICT when it changed or was
 * deleted meanwhile. */
apr_status_t cr_store_sub_update(cr_db_t *db, apr_pool_t *pool,
                                 const cr_subscription_t *sub,
                                 int expected);

/* Inside the caller's transaction: mark subscription id deleted and
 * cancel its queued, sending and parked deliveries.  APR_NOTFOUND when
 * there is no such subscription or it is already deleted. */
apr_status_t cr_store_sub_delete(cr_db_t *db, apr_pool_t *pool,
                                 const char *id, const char *now);

/* The subscriptions (cr_subscription_t) not deleted, of owner (NULL: of
 * everybody), by id, at most max. */
apr_status_t cr_store_sub_list(apr_array_header_t **out, cr_db_t *db,
                               apr_pool_t *pool, const char *owner,
                               int max);

/* ---- Events (writers) ----------------------------------------------- */

/* Inside the write transaction of the change: append event (event_code,
 * patient_id, patient_version, operation, message_id) created at now and
 * fan it out to the active subscriptions of its code (deliveries due at
 * now).  *seq (may be NULL) receives its seq, *fanout (may be NULL) the
 * number of deliveries queued. */
apr_status_t cr_store_notify_event(apr_int64_t *seq, int *fanout,
                                   cr_db_t *db, apr_pool_t *pool,
                                   const cr_notify_event_t *event,
                                   const char *now);

/* The events (cr_notify_event_t) of patient_id in seq order (NULL: of
 * everybody after seq after), at most max. */
apr_status_t cr_store_notify_events(apr_array_header_t **out, cr_db_t *db,
                                    apr_pool_t *pool,
                                    const char *patient_id,
                                    apr_int64_t after, int max);

/* ---- Delivery (the notification worker) ----------------------------- */

/* The ids (const char *) of at most max active subscriptions that have a
 * delivery due at now.  No transaction needed. */
apr_status_t cr_store_notify_due_subscriptions(apr_array_header_t **out,
                                               cr_db_t *db,
                                               apr_pool_t *pool,
                                               const char *now, int max);

/* In its own transaction: claim at most max deliveries of subscription
 * subscription_id due at now, at most one per client, oldest event first,
 * leased until locked_until.  *out receives the claimed deliveries
 * (cr_delivery_t, state "sending", attempts = attempts made before). */
apr_status_t cr_store_notify_claim(apr_array_header_t **out, cr_db_t *db,
                                   apr_pool_t *pool,
                                   const char *subscription_id,
                                   const char *now,
                                   const char *locked_until, int max);

/* Read delivery id (with its event and subscription).  APR_NOTFOUND. */
apr_status_t cr_store_notify_get(cr_delivery_t *out, cr_db_t *db,
                                 apr_pool_t *pool, const char *id);

/* In its own transaction: claimed delivery id was delivered at now (the
 * partner answered http_status).  APR_NOTFOUND when it is no longer
 * claimed (cancelled meanwhile). */
apr_status_t cr_store_notify_delivered(cr_db_t *db, apr_pool_t *pool,
                                       const char *id, int http_status,
                                       const char *now);

/* In its own transaction: the attempt on claimed delivery id failed
 * (http_status, 0 when there was no answer; error, a short text).  The
 * attempts become attempts + 1; when they reach max_attempts the
 * delivery is parked (*parked = 1), otherwise it is due again at next_at.
 * APR_NOTFOUND when it is no longer claimed. */
apr_status_t cr_store_notify_failed(int *parked, cr_db_t *db,
                                    apr_pool_t *pool, const char *id,
                                    int attempts, int max_attempts,
                                    const char *next_at, int http_status,
                                    const char *error, const char *now);

/* What the worker learnt of one claimed delivery (cr_store_notify_round
 * settles it): http_status 200, delivered; anything else (0: no answer)
 * a failed attempt, with attempts, next_at and error as
 * cr_store_notify_failed takes them.  settled and parked are set by
 * cr_store_notify_round. */
typedef struct cr_notify_settle_t {
    const char *id;
    int http_status;
    int attempts;              /* made before this one */
    const char *next_at;       /* failures: due again at */
    const char *error;         /* failures: a short text */
    int settled;               /* out: it was still claimed */
    int parked;                /* out: a failure that parked it */
} cr_notify_settle_t;

/* A claim: at most max due deliveries of subscription_id. */
typedef struct cr_notify_want_t {
    const char *subscription_id;
    int max;
} cr_notify_want_t;

/* One round of the worker in one transaction of its own: settle every
 * entry of settle (cr_notify_settle_t: delivered, or failed and due again
 * or parked after max_attempts), then claim for every entry of want
 * (cr_notify_want_t) as cr_store_notify_claim does; *claimed receives
 * the claimed deliveries (cr_delivery_t) of all of them.  The commit is
 * not forced to disk on its own (SQLite synchronous=NORMAL, PostgreSQL
 * synchronous_commit off, for this transaction only): what a crash of
 * the machine can lose is the round's settlements and claims, never an
 * event or a delivery row, so a notification lost that way is sent again
 * with the same messageId (docs/notifications.md).  On failure nothing
 * changed and settle should be offered again. */
apr_status_t cr_store_notify_round(apr_array_header_t **claimed,
                                   cr_db_t *db, apr_pool_t *pool,
                                   apr_array_header_t *settle,
                                   int max_attempts,
                                   const apr_array_header_t *want,
                                   const char *now,
                                   const char *locked_until);

/* The ids (const char *) of at most max deliveries of subscription_id in
 * state (e.g. CR_DELIVERY_PARKED), in event order. */
apr_status_t cr_store_notify_list(apr_array_header_t **out, cr_db_t *db,
                                  apr_pool_t *pool,
                                  const char *subscription_id,
                                  const char *state, int max);

/* How many deliveries of subscription_id are in each state. */
typedef struct cr_notify_status_t {
    int queued, sending, delivered, parked, cancelled;
} cr_notify_status_t;
apr_status_t cr_store_notify_status(cr_notify_status_t *out, cr_db_t *db,
                                    apr_pool_t *pool,
                                    const char *subscription_id);

/* In its own transaction: the parked delivery id of subscription_id (NULL:
 * every parked delivery of it) is queued again, due at now, with no
 * attempts made.  *n (may be NULL) receives how many. */
apr_status_t cr_store_notify_requeue(int *n, cr_db_t *db, apr_pool_t *pool,
                                     const char *subscription_id,
                                     const char *id, const char *now);

#endif /* CR_STORE_NOTIFY_H */
