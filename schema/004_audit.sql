-- mod_clientregistry schema, migration 004: the audit trail.
--
-- One row per request (read, search, write, denied), append-only and
-- hash-chained: hash = SHA-256(prev_hash, every field), prev_hash = the
-- hash of row seq - 1 (64 zeros for the first).  Deleting, editing or
-- reordering a row breaks the chain, which cr-admin audit-verify and the
-- admin operation AuditEvent/$verify detect.

CREATE TABLE cr_audit (
    seq           BIGINT NOT NULL PRIMARY KEY,
    recorded      TEXT NOT NULL,
    action        TEXT NOT NULL,
    operation     TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    query         TEXT,
    status        INTEGER NOT NULL,
    client_dn     TEXT,
    org_id        TEXT,
    source_system TEXT,
    user_id       TEXT,
    remote_addr   TEXT,
    message_id    TEXT,
    patients      TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
)
;
CREATE INDEX cr_audit_recorded ON cr_audit (recorded, seq)
;
CREATE INDEX cr_audit_org ON cr_audit (org_id, seq)
;
-- Which patients each audit record touched, for searches by patient.
CREATE TABLE cr_audit_patient (
    patient_id TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (patient_id, seq)
)
