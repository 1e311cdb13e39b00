-- mod_clientregistry schema, migration 009: a matcher that tunes itself.
--
-- Portable SQL (SQLite 3.24+, PostgreSQL 12+), as 001.  Every fit of the
-- Fellegi-Sunter parameters (by the module's background tuner or by
-- 'cr-admin estimate') is kept with its date, so that an administrator
-- can list them and return to an earlier one ('cr-admin fits',
-- 'cr-admin fit-use'); the current set stays in cr_match_param and
-- cr_match_estimate (002), which the matcher reads.  The value counts of
-- given names, family names and cities drive the term-frequency
-- adjustment (docs/matching.md).

-- One row per fit: when, from how many records and candidate pairs, by
-- whom ('auto': the background tuner; 'admin': cr-admin estimate).
CREATE TABLE cr_match_fit (
    id         BIGINT NOT NULL PRIMARY KEY,
    fitted     TEXT NOT NULL,
    lambda     DOUBLE PRECISION NOT NULL,
    records    BIGINT NOT NULL,
    pairs      BIGINT NOT NULL,
    iterations INTEGER NOT NULL,
    converged  INTEGER NOT NULL,
    source     TEXT NOT NULL
)
;
-- The m and u of each fit, per field and level (names, as in 002).
CREATE TABLE cr_match_fit_param (
    fit_id BIGINT NOT NULL REFERENCES cr_match_fit (id),
    field  TEXT NOT NULL,
    level  TEXT NOT NULL,
    m      DOUBLE PRECISION NOT NULL,
    u      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (fit_id, field, level)
)
;
-- Value counts for the term-frequency adjustment, rebuilt with every fit:
-- field 'given', 'family' or 'city'; value the normalized compact value;
-- n the records holding it.  Per field, value '' holds the number of
-- records with the field (n) and the sum of the squared value shares
-- (share); value '#' holds the count assumed for a value not listed (n).
CREATE TABLE cr_match_freq (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    n     BIGINT NOT NULL,
    share DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (field, value)
)
;
-- The tuner's state (one row): the fit in use (0: the defaults or an
-- estimate older than this migration) and until when one child of one
-- server has claimed the next fit (an instant; '' when free).
CREATE TABLE cr_match_tune (
    id            INTEGER NOT NULL PRIMARY KEY,
    active_fit    BIGINT NOT NULL,
    claimed_until TEXT NOT NULL
)
;
INSERT INTO cr_match_tune (id, active_fit, claimed_until) VALUES (1, 0, '')
