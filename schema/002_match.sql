-- mod_clientregistry schema, migration 002: probabilistic matching.
--
-- Portable SQL (SQLite 3.24+, PostgreSQL 12+), as 001.  The match records
-- and blocking keys themselves live in cr_search_index (kinds 'bk:...',
-- written with every version by cr_index); this migration adds the
-- Fellegi-Sunter parameters the admin tool estimates, the review list of
-- potential duplicates found at write time, and the index the matcher
-- uses to fetch a candidate's match record.

-- m and u probabilities per field and agreement level, as estimated by
-- 'cr-admin estimate' (EM over the candidate pairs of the stored
-- records).  Levels are stored by name so that a new engine version that
-- adds a level does not misread old rows.  No rows: the built-in
-- defaults apply.
CREATE TABLE cr_match_param (
    field TEXT NOT NULL,
    level TEXT NOT NULL,
    m     DOUBLE PRECISION NOT NULL,
    u     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (field, level)
)
;
-- One row (id = 1) describing the current parameters: the prior
-- proportion of matches among candidate pairs (lambda) and how they were
-- estimated.
CREATE TABLE cr_match_estimate (
    id         INTEGER NOT NULL PRIMARY KEY,
    lambda     DOUBLE PRECISION NOT NULL,
    estimated  TEXT NOT NULL,
    records    BIGINT NOT NULL,
    pairs      BIGINT NOT NULL,
    iterations INTEGER NOT NULL,
    converged  INTEGER NOT NULL
)
;
-- Potential duplicates found when a patient was created or updated: the
-- pair is stored once, smaller id first, with the newest finding.  An
-- administrator reads the list through POST [base]/Patient/$potential-
-- duplicates; nothing is ever merged automatically from it.
CREATE TABLE cr_match_duplicate (
    patient_lo TEXT NOT NULL REFERENCES cr_patient (id),
    patient_hi TEXT NOT NULL REFERENCES cr_patient (id),
    score      DOUBLE PRECISION NOT NULL,
    weight     DOUBLE PRECISION NOT NULL,
    grade      TEXT NOT NULL,
    found      TEXT NOT NULL,
    found_by   TEXT NOT NULL,
    message_id TEXT,
    status     TEXT NOT NULL DEFAULT 'open',
    PRIMARY KEY (patient_lo, patient_hi)
)
;
CREATE INDEX cr_match_duplicate_found ON cr_match_duplicate (status, found)
;
CREATE INDEX cr_match_duplicate_hi ON cr_match_duplicate (patient_hi)
;
-- A candidate's match record by patient id: a partial index holding only
-- the 'bk:rec' rows, with the record itself (covering), so a candidate
-- costs one small index probe.  The predicate is written as a range so
-- that the matcher's queries, which repeat it, can use the index (and no
-- planner prefers the (kind, value) index for them).
CREATE INDEX cr_search_index_match_record ON cr_search_index
    (patient_id, kind, value) WHERE kind >= 'bk:rec' AND kind <= 'bk:rec'
