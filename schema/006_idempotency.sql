-- mod_clientregistry schema, migration 006: idempotent messageId
-- (CR-PARAM-004).
--
-- One row per (sender, messageId) a maintenance operation or an .Async
-- form processed.  The row is inserted ("claimed") first thing inside
-- the write transaction of the request, so it commits exactly when the
-- work does; the primary key makes a second claim of the same pair a
-- no-op (INSERT ... ON CONFLICT DO NOTHING), on SQLite behind the write
-- lock and on PostgreSQL by waiting for the first claimer's commit.  The
-- answer (status, body before the output policy, Location, patients) is
-- added right after the response is built; request_hash is SHA-256 of
-- the operation, If-Match, user id and the canonical request body, to
-- refuse the same messageId with a different request.  Rows older than
-- ClientRegistryIdempotencyRetention are purged (ops/cr_idem.c).

CREATE TABLE cr_idempotency (
    sender        TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    operation     TEXT NOT NULL,
    claim         TEXT NOT NULL,
    created       TEXT NOT NULL,
    status        INTEGER,
    body          TEXT,
    location      TEXT,
    patients      TEXT,
    answered      TEXT,
    PRIMARY KEY (sender, message_id)
)
;
CREATE INDEX cr_idempotency_created ON cr_idempotency (created)
