-- mod_clientregistry schema, migration 001: the Patient store.
--
-- Portable SQL: runs unchanged on SQLite 3.24+ and PostgreSQL 12+.  No
-- AUTOINCREMENT/SERIAL (ids are UUIDs chosen by the module), INTEGER/BIGINT
-- and TEXT only, times as FHIR instants in UTC ('YYYY-MM-DDThh:mm:ss.mmmZ')
-- so that text order is time order.  Statements are separated by a line
-- holding only ';' -- the admin tool splits on it.

CREATE TABLE cr_schema_version (
    version     INTEGER NOT NULL PRIMARY KEY,
    applied     TEXT NOT NULL,
    description TEXT NOT NULL
)
;
-- One row: the next PHN body (the 8 digits between the leading 9 and the
-- check digit) to try.  Allocation happens inside the creating transaction.
CREATE TABLE cr_phn_allocator (
    id        INTEGER NOT NULL PRIMARY KEY,
    next_body BIGINT NOT NULL
)
;
INSERT INTO cr_phn_allocator (id, next_body) VALUES (1, 0)
;
-- The person (composite record): current JSON plus the columns searches
-- and merges need.  phn is the current PHN; replaced_by is set when the
-- record was merged into a survivor.
CREATE TABLE cr_patient (
    id            TEXT NOT NULL PRIMARY KEY,
    phn           TEXT UNIQUE,
    version_id    INTEGER NOT NULL,
    created       TEXT NOT NULL,
    last_updated  TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    masked        INTEGER NOT NULL DEFAULT 0,
    replaced_by   TEXT,
    gender        TEXT,
    birth_date    TEXT,
    birth_date_hi TEXT,
    resource      TEXT NOT NULL
)
;
CREATE INDEX cr_patient_birth_date ON cr_patient (birth_date)
;
CREATE INDEX cr_patient_gender ON cr_patient (gender, id)
;
-- Every version ever written, with who wrote it (provenance): the source
-- system and organisation (from the TLS client identity or the request's
-- sender), the end user (UserId header / enterer), the verified client
-- certificate subject and the request's message id.
CREATE TABLE cr_patient_version (
    patient_id    TEXT NOT NULL REFERENCES cr_patient (id),
    version_id    INTEGER NOT NULL,
    last_updated  TEXT NOT NULL,
    operation     TEXT NOT NULL,
    source_system TEXT,
    org_id        TEXT,
    user_id       TEXT,
    client_dn     TEXT,
    message_id    TEXT,
    resource      TEXT NOT NULL,
    PRIMARY KEY (patient_id, version_id)
)
;
-- Business identifiers (PHN, SRI, SSRI, other jurisdictions).  A (system,
-- value) pair belongs to one person at most: this constraint is what makes
-- PHNs unique even across httpd nodes sharing one PostgreSQL.
CREATE TABLE cr_identifier (
    patient_id TEXT NOT NULL REFERENCES cr_patient (id),
    system     TEXT NOT NULL,
    value      TEXT NOT NULL,
    use_code   TEXT,
    status     TEXT NOT NULL DEFAULT 'active',
    UNIQUE (system, value)
)
;
CREATE INDEX cr_identifier_patient ON cr_identifier (patient_id)
;
CREATE INDEX cr_identifier_value ON cr_identifier (value, patient_id)
;
-- Search and matching keys, rewritten with every version: normalized
-- family/given/name tokens, phone digits, e-mail, postal code, and (from
-- the matching engine) blocking keys.  kind says which.
CREATE TABLE cr_search_index (
    patient_id TEXT NOT NULL REFERENCES cr_patient (id),
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL
)
;
CREATE INDEX cr_search_index_kv ON cr_search_index (kind, value, patient_id)
;
CREATE INDEX cr_search_index_patient ON cr_search_index (patient_id)
