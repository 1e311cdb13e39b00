-- mod_clientregistry schema, migration 005: distributions (issue 13,
-- operations.md section 7, profiles.md 7.3).  The contract between the
-- writers (events) and the notification worker (delivery) is
-- docs/notifications.md; the verbs are store/cr_store_notify.h.
--
-- Portable SQL (SQLite 3.24+, PostgreSQL 12+), as 001.
--
-- cr_subscription: a partner's Subscription (HCIMPatientChangeSubscription),
-- owned by the verified identity that created it.  status active | off |
-- error (as FHIR R4) or deleted (a DELETE keeps the row so that deliveries
-- and the audit trail keep their subscription; a read answers 410).
-- event_codes is the space separated list of the subscribed codes (the
-- same codes are rows of cr_subscription_event, which the fan-out joins).
CREATE TABLE cr_subscription (
    id           TEXT NOT NULL PRIMARY KEY,
    owner        TEXT NOT NULL,
    status       TEXT NOT NULL,
    event_codes  TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    version_id   INTEGER NOT NULL,
    resource     TEXT NOT NULL
)
;
CREATE INDEX cr_subscription_owner ON cr_subscription (owner, id)
;
CREATE TABLE cr_subscription_event (
    subscription_id TEXT NOT NULL REFERENCES cr_subscription (id),
    event_code      TEXT NOT NULL,
    PRIMARY KEY (subscription_id, event_code)
)
;
CREATE INDEX cr_subscription_event_code ON cr_subscription_event (event_code)
;
-- One row per change-notification event, written in the transaction of the
-- change that caused it.  seq is MAX(seq) + 1 under the write lock every
-- write transaction holds (as cr_audit.seq), so it orders the events of
-- the registry.  patient_version is the version of the person the change
-- wrote (cr_patient_version), the one the notification carries.
CREATE TABLE cr_outbox (
    seq             BIGINT NOT NULL PRIMARY KEY,
    event_code      TEXT NOT NULL,
    patient_id      TEXT NOT NULL,
    patient_version INTEGER NOT NULL,
    operation       TEXT NOT NULL,
    message_id      TEXT,
    created         TEXT NOT NULL
)
;
CREATE INDEX cr_outbox_patient ON cr_outbox (patient_id, seq)
;
-- One row per (event, subscription that was active and subscribed to its
-- code when the event was written): the fan-out happens in the event's own
-- transaction.  id is the stable messageId of the notification (a UUID,
-- the same on every attempt).  state queued | sending (claimed by a
-- worker until locked_until) | delivered | parked | cancelled (its
-- subscription was deleted).  event_seq and patient_id are copies of the
-- outbox row so that the per-client order is one index.
CREATE TABLE cr_delivery (
    id              TEXT NOT NULL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES cr_subscription (id),
    event_seq       BIGINT NOT NULL REFERENCES cr_outbox (seq),
    patient_id      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    TEXT,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL,
    UNIQUE (subscription_id, event_seq)
)
;
CREATE INDEX cr_delivery_due ON cr_delivery (state, next_attempt_at)
;
CREATE INDEX cr_delivery_order ON cr_delivery (subscription_id, patient_id, event_seq)
;
CREATE INDEX cr_delivery_sub_state ON cr_delivery (subscription_id, state, event_seq)
