-- mod_clientregistry schema, migration 008: the history of the review
-- decisions on potential-duplicate pairs (docs/console.md).
--
-- One row per decision on a pair of cr_match_duplicate (smaller id
-- first): a reviewer's $resolve-duplicate (action not-duplicate or open,
-- with the optional comment), and the merges and unmerges that settled
-- or reopened the pair (action merged or unmerged), and notes (action
-- note: a comment alone, the status kept).  seq numbers the
-- decisions of one pair from 1; decided_by names the caller (end user,
-- else certificate subject or token client, else source system).
-- Append-only: nothing updates or deletes a row.

CREATE TABLE cr_match_decision (
    patient_lo TEXT NOT NULL,
    patient_hi TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    decided    TEXT NOT NULL,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL,
    comment    TEXT,
    decided_by TEXT,
    message_id TEXT,
    PRIMARY KEY (patient_lo, patient_hi, seq)
)
;
