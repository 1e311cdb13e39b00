/* cr_sql_notify: the statements of distributions (issue 13; tables of
 * schema/005_distribution.sql; verbs in cr_store_notify.c): partners'
 * subscriptions, the change-notification outbox written by every write
 * of a person, and the delivery rows the notification worker claims,
 * sends and settles.  The contract is docs/notifications.md. */
#include <stddef.h>

#include "store/cr_sql.h"

#define SUB_COLS \
    "id, owner, status, event_codes, endpoint, payload, created, updated," \
    " version_id, resource"
#define OUTBOX_COLS \
    "seq, event_code, patient_id, patient_version, operation, message_id," \
    " created"
/* A delivery with its event and subscription (cr_store_notify_get). */
#define DELIVERY_COLS \
    "d.id, d.subscription_id, d.event_seq, d.patient_id, d.state," \
    " d.attempts, d.next_attempt_at, d.last_status, d.last_error," \
    " d.delivered_at, o.event_code, o.patient_version, o.created," \
    " s.endpoint, s.owner, d.created"
/* Due: queued and its time has come, or claimed by a worker whose lease
 * ran out (it died). */
#define DUE(d) \
    "((" d ".state = 'queued' AND " d ".next_attempt_at <= %s)" \
    " OR (" d ".state = 'sending' AND " d ".locked_until < %s))"
#define OUTBOX_ROW "(%lld, %s, %s, %d, %s, %s, %s)"
#define OUTBOX_ROWS_2 OUTBOX_ROW ", " OUTBOX_ROW
#define OUTBOX_ROWS_4 OUTBOX_ROWS_2 ", " OUTBOX_ROWS_2
#define OUTBOX_ROWS_8 OUTBOX_ROWS_4 ", " OUTBOX_ROWS_4
#define OUTBOX_ROWS_16 OUTBOX_ROWS_8 ", " OUTBOX_ROWS_8
#define OUTBOX_ROWS_32 OUTBOX_ROWS_16 ", " OUTBOX_ROWS_16
#define OUTBOX_INSERT_N(n) \
    { "cr_outbox_insert_" #n, \
      "INSERT INTO cr_outbox (" OUTBOX_COLS ") VALUES " OUTBOX_ROWS_##n }

const cr_sql_stmt_t cr_sql_notify_catalogue[] = {
    /* Subscriptions. */
    { "cr_sub_insert",
      "INSERT INTO cr_subscription (" SUB_COLS ")"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %d, %s)" },
    { "cr_sub_get",
      "SELECT " SUB_COLS " FROM cr_subscription WHERE id = %s" },
    { "cr_sub_update",
      "UPDATE cr_subscription SET status = %s, event_codes = %s,"
      " endpoint = %s, payload = %s, updated = %s, version_id = %d,"
      " resource = %s WHERE id = %s AND version_id = %d"
      " AND status <> 'deleted'" },
    { "cr_sub_delete",
      "UPDATE cr_subscription SET status = 'deleted', updated = %s,"
      " version_id = version_id + 1 WHERE id = %s AND status <> 'deleted'" },
    { "cr_sub_list_owner",
      "SELECT " SUB_COLS " FROM cr_subscription WHERE owner = %s"
      " AND status <> 'deleted' ORDER BY id LIMIT %d" },
    { "cr_sub_list_all",
      "SELECT " SUB_COLS " FROM cr_subscription WHERE status <> 'deleted'"
      " ORDER BY id LIMIT %d" },
    { "cr_sub_event_insert",
      "INSERT INTO cr_subscription_event (subscription_id, event_code)"
      " VALUES (%s, %s)" },
    { "cr_sub_event_delete",
      "DELETE FROM cr_subscription_event WHERE subscription_id = %s" },
    /* The active subscriptions to one event code (the fan-out). */
    { "cr_sub_match",
      "SELECT s.id FROM cr_subscription s JOIN cr_subscription_event e"
      " ON e.subscription_id = s.id WHERE e.event_code = %s"
      " AND s.status = 'active' ORDER BY s.id LIMIT %d" },

    /* The outbox. */
    { "cr_outbox_next_seq",
      "SELECT COALESCE(MAX(seq), 0) + 1 FROM cr_outbox" },
    { "cr_outbox_insert",
      "INSERT INTO cr_outbox (" OUTBOX_COLS ") VALUES " OUTBOX_ROW },
    /* The same, 2 to 32 events at a time (bulk tools, cr_db_exec_rows). */
    OUTBOX_INSERT_N(2), OUTBOX_INSERT_N(4), OUTBOX_INSERT_N(8),
    OUTBOX_INSERT_N(16), OUTBOX_INSERT_N(32),
    { "cr_outbox_get",
      "SELECT " OUTBOX_COLS " FROM cr_outbox WHERE seq = %lld" },
    { "cr_outbox_list_patient",
      "SELECT " OUTBOX_COLS " FROM cr_outbox WHERE patient_id = %s"
      " ORDER BY seq LIMIT %d" },
    { "cr_outbox_list_after",
      "SELECT " OUTBOX_COLS " FROM cr_outbox WHERE seq > %lld"
      " ORDER BY seq LIMIT %d" },

    /* Deliveries. */
    { "cr_delivery_insert",
      "INSERT INTO cr_delivery (id, subscription_id, event_seq, patient_id,"
      " state, attempts, next_attempt_at, created, updated)"
      " VALUES (%s, %s, %lld, %s, 'queued', 0, %s, %s, %s)" },
    { "cr_delivery_due_subs",
      "SELECT DISTINCT d.subscription_id FROM cr_delivery d"
      " JOIN cr_subscription s ON s.id = d.subscription_id"
      " WHERE s.status = 'active' AND " DUE("d")
      " ORDER BY d.subscription_id LIMIT %d" },
    /* The due deliveries of one subscription that have no earlier
     * unsettled delivery of the same client: at most one per client, in
     * event order. */
    { "cr_delivery_due",
      "SELECT d.id FROM cr_delivery d WHERE d.subscription_id = %s"
      " AND " DUE("d") " AND NOT EXISTS (SELECT 1 FROM cr_delivery p"
      " WHERE p.subscription_id = d.subscription_id"
      " AND p.patient_id = d.patient_id AND p.event_seq < d.event_seq"
      " AND p.state IN ('queued', 'sending'))"
      " ORDER BY d.event_seq LIMIT %d" },
    { "cr_delivery_claim",
      "UPDATE cr_delivery SET state = 'sending', locked_until = %s,"
      " updated = %s WHERE id = %s AND ((state = 'queued'"
      " AND next_attempt_at <= %s) OR (state = 'sending'"
      " AND locked_until < %s))" },
    { "cr_delivery_get",
      "SELECT " DELIVERY_COLS " FROM cr_delivery d"
      " JOIN cr_outbox o ON o.seq = d.event_seq"
      " JOIN cr_subscription s ON s.id = d.subscription_id"
      " WHERE d.id = %s" },
    { "cr_delivery_delivered",
      "UPDATE cr_delivery SET state = 'delivered', attempts = attempts + 1,"
      " last_status = %d, last_error = NULL, delivered_at = %s,"
      " locked_until = NULL, updated = %s WHERE id = %s"
      " AND state = 'sending'" },
    { "cr_delivery_failed",
      "UPDATE cr_delivery SET state = %s, attempts = %d,"
      " next_attempt_at = %s, last_status = %d, last_error = %s,"
      " locked_until = NULL, updated = %s WHERE id = %s"
      " AND state = 'sending'" },
    { "cr_delivery_list_state",
      "SELECT d.id FROM cr_delivery d WHERE d.subscription_id = %s"
      " AND d.state = %s ORDER BY d.event_seq LIMIT %d" },
    { "cr_delivery_count_state",
      "SELECT state, COUNT(*) FROM cr_delivery WHERE subscription_id = %s"
      " GROUP BY state ORDER BY state LIMIT 16" },
    { "cr_delivery_requeue_all",
      "UPDATE cr_delivery SET state = 'queued', attempts = 0,"
      " next_attempt_at = %s, updated = %s WHERE subscription_id = %s"
      " AND state = 'parked'" },
    { "cr_delivery_requeue_one",
      "UPDATE cr_delivery SET state = 'queued', attempts = 0,"
      " next_attempt_at = %s, updated = %s WHERE subscription_id = %s"
      " AND id = %s AND state = 'parked'" },
    { "cr_delivery_cancel_sub",
      "UPDATE cr_delivery SET state = 'cancelled', locked_until = NULL,"
      " updated = %s WHERE subscription_id = %s"
      " AND state IN ('queued', 'sending', 'parked')" },
    { NULL, NULL }
};
