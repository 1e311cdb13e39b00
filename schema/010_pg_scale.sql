-- mod_clientregistry schema, migration 010: writers in parallel on
-- PostgreSQL (several httpd nodes on one database; docs/postgresql.md).
--
-- Portable SQL, as 001: the same text runs on both databases, and what it
-- creates only matters on PostgreSQL.  There the BIGSERIAL column creates
-- and owns the sequence cr_phn_counter_n_seq, from which PHN bodies are
-- drawn without a lock held to the end of the creating transaction
-- (store/cr_store_pg.c); cr_phn_allocator.next_body stays the floor below
-- which no body is taken.  No row is ever written to the table.  On
-- SQLite BIGSERIAL is only a type name and the table stays empty: its
-- single writer keeps allocating from cr_phn_allocator as before.
CREATE TABLE cr_phn_counter (
    n BIGSERIAL NOT NULL
)
