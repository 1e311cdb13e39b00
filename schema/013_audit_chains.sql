-- mod_clientregistry schema, migration 013: the audit trail as several
-- hash chains, and the outbox seq from a sequence, so PostgreSQL's writers of every node append in parallel
-- (docs/postgresql.md, "The audit chains").
--
-- Each record names its chain and its position in it (chain_seq, from 1).
-- Chain 0 is the single writer's: SQLite appends only there, and every
-- record written before this migration is in it with chain_seq = seq, so
-- its hashes (which do not cover chain or chain_seq) still verify.  On
-- PostgreSQL an appender takes one of chains 1..16 that no other
-- transaction holds (a transaction-scoped advisory lock per chain) and
-- links its records to that chain's end; records of chains 1 and up hash
-- their chain and chain_seq too.  The unique index is the fence: two
-- appenders can never both extend a chain from the same end.
--
-- seq stays the record's unique number (AuditEvent/{seq}, the patient
-- index); on PostgreSQL it comes from the sequence of cr_audit_counter's
-- BIGSERIAL column (cr_audit_counter_n_seq), raised once above the
-- records already there (store/cr_store_audit.c).  No row is written to
-- that table; on SQLite it stays empty and seq is MAX + 1 as before.
--
-- The same for the change-notification outbox (schema 005): on PostgreSQL
-- an event's seq comes from cr_outbox_counter_n_seq, taken while the
-- writer holds its person's row lock, so the events of one client are
-- numbered in commit order without a lock across all writers; SQLite
-- keeps MAX + 1 under its single writer.
ALTER TABLE cr_audit ADD COLUMN chain INTEGER NOT NULL DEFAULT 0
;
ALTER TABLE cr_audit ADD COLUMN chain_seq BIGINT NOT NULL DEFAULT 0
;
UPDATE cr_audit SET chain_seq = seq
;
CREATE UNIQUE INDEX cr_audit_chain ON cr_audit (chain, chain_seq)
;
CREATE TABLE cr_audit_counter (
    n BIGSERIAL NOT NULL
)
;
CREATE TABLE cr_outbox_counter (
    n BIGSERIAL NOT NULL
)
