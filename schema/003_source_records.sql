-- mod_clientregistry schema, migration 003: source records and
-- per-attribute provenance (the write side of the BC operations).
--
-- Portable SQL (SQLite 3.24+, PostgreSQL 12+), as 001.  A person
-- (cr_patient, the composite) is built from the source records the source
-- systems send.  Each source record is identified by its source record
-- identifier (SRI system + value); the registry's own record of a person
-- (the PHN it assigned, merge links) is a source record with source
-- system MOH_CRS and no SRI.  Attributes are never changed in place: a
-- value that a source no longer sends gets period_end; merges move a
-- source record to the survivor (status 'merged', merge_id) and an
-- unmerge moves it back.

CREATE TABLE cr_source_record (
    id            TEXT NOT NULL PRIMARY KEY,
    patient_id    TEXT NOT NULL REFERENCES cr_patient (id),
    source_system TEXT NOT NULL,
    sri_system    TEXT,
    sri_value     TEXT,
    status        TEXT NOT NULL DEFAULT 'active',
    merge_id      TEXT,
    version       INTEGER NOT NULL,
    created       TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    snapshot      TEXT,
    UNIQUE (sri_system, sri_value)
)
;
CREATE INDEX cr_source_record_patient ON cr_source_record (patient_id)
;
CREATE INDEX cr_source_record_merge ON cr_source_record (merge_id)
;
-- One value a source record supplied: kind name | telecom | address |
-- identifier | gender | birthDate | deceased | multipleBirth | mother |
-- link; value is the FHIR element's JSON (without its period); the
-- business period; who supplied it (source system, end user) and when.
CREATE TABLE cr_attribute (
    id               TEXT NOT NULL PRIMARY KEY,
    patient_id       TEXT NOT NULL,
    source_record_id TEXT NOT NULL REFERENCES cr_source_record (id),
    kind             TEXT NOT NULL,
    value            TEXT NOT NULL,
    period_start     TEXT,
    period_end       TEXT,
    source_system    TEXT,
    org_id           TEXT,
    user_id          TEXT,
    message_id       TEXT,
    recorded_at      TEXT NOT NULL,
    ended_at         TEXT
)
;
CREATE INDEX cr_attribute_source ON cr_attribute (source_record_id, period_end)
;
CREATE INDEX cr_attribute_patient ON cr_attribute (patient_id)
;
-- Merges, so that an unmerge can restore the state before them.
CREATE TABLE cr_merge_event (
    id                  TEXT NOT NULL PRIMARY KEY,
    survivor_id         TEXT NOT NULL REFERENCES cr_patient (id),
    nonsurvivor_id      TEXT NOT NULL REFERENCES cr_patient (id),
    nonsurvivor_version INTEGER NOT NULL,
    ns_system           TEXT NOT NULL,
    ns_value            TEXT NOT NULL,
    status              TEXT NOT NULL,
    merged_at           TEXT NOT NULL,
    message_id          TEXT,
    unmerged_at         TEXT
)
;
CREATE INDEX cr_merge_event_ns ON cr_merge_event (ns_system, ns_value, status)
;
-- The asynchronous requests ($AddPatient.Async ...): durably queued
-- before the 202, executed by a background worker, their response POSTed
-- to the sender's callback endpoint with retries.  next_attempt_at (FHIR
-- instant) makes the back-off survive restarts; a job whose worker died
-- (status running, locked_until past) is taken up again.  executed is set
-- in the operation's own transaction, so a job is applied at most once.
CREATE TABLE cr_async_job (
    id              TEXT NOT NULL PRIMARY KEY,
    operation       TEXT NOT NULL,
    body            TEXT NOT NULL,
    settings        TEXT NOT NULL,
    message_id      TEXT,
    org_id          TEXT,
    source_system   TEXT,
    user_id         TEXT,
    client_dn       TEXT,
    if_match        BIGINT NOT NULL,
    status          TEXT NOT NULL,
    executed        INTEGER NOT NULL DEFAULT 0,
    result          TEXT,
    result_status   INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
)
;
CREATE INDEX cr_async_job_due ON cr_async_job (status, next_attempt_at)
