/* cr_sql_pg: the statements only PostgreSQL runs, for writers in parallel
 * on several httpd nodes (docs/postgresql.md).
 *
 * Every other catalogue is prepared by mod_dbd on every connection of
 * either driver, so its text must parse on SQLite too.  These cannot
 * (FOR UPDATE, nextval, advisory locks), so they are kept apart and
 * prepared on a PostgreSQL connection the first time one is run
 * (cr_db.c, lookup); SQLite never sees them, its writers being one at a
 * time anyway.  Conventions of cr_sql.c otherwise.
 */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_pg_catalogue[] = {
    /* The per-person row lock of an update or merge, held to the end of
     * the transaction; the version is read after the lock is granted, so
     * it is the committed one (READ COMMITTED). */
    { "cr_pg_patient_lock",
      "SELECT version_id FROM cr_patient WHERE id = %s FOR UPDATE" },

    /* PHN bodies from the sequence of migration 010 (cr_phn_counter.n is
     * a BIGSERIAL: on PostgreSQL it owns cr_phn_counter_n_seq), with the
     * allocator row's next_body, which stays the floor (tools and the
     * configured range move it forward). */
    { "cr_pg_phn_next",
      "SELECT nextval('cr_phn_counter_n_seq'), next_body"
      " FROM cr_phn_allocator WHERE id = 1" },
    /* The same, n values in one round trip (bulk tools: phn_block). */
    { "cr_pg_phn_next_n",
      "SELECT nextval('cr_phn_counter_n_seq'),"
      " (SELECT next_body FROM cr_phn_allocator WHERE id = 1)"
      " FROM generate_series(1, %d)" },
    /* Moves the sequence up to the floor when it is below it; run under
     * the session lock below, so two catch-ups never rewind each other. */
    { "cr_pg_phn_catch_up",
      "SELECT setval('cr_phn_counter_n_seq', %lld, false)"
      " FROM cr_phn_counter_n_seq"
      " WHERE (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)"
      " < %lld" },
    { "cr_pg_lock_session",
      "SELECT pg_advisory_lock(%lld)" },
    { "cr_pg_unlock_session",
      "SELECT pg_advisory_unlock(%lld)" },

    /* A lock held to the end of the transaction: PHN catch-up, the
     * audit and outbox sequences' one catch-up. */
    { "cr_pg_lock_xact",
      "SELECT pg_advisory_xact_lock(%lld)" },

    /* The audit chains (schema 013): the first of chains 1..%d, starting
     * at this backend's own, that no other transaction holds; taken to
     * the end of this one.  No row when every chain is held (then the
     * next statement waits for the backend's own).  The filter stops at
     * the first lock granted (LIMIT 1 over a function scan). */
    { "cr_pg_audit_chain_try",
      "SELECT c FROM (SELECT mod(pg_backend_pid() + i, %d) + 1 AS c"
      " FROM generate_series(0, %d) AS i) AS s"
      " WHERE pg_try_advisory_xact_lock(%d, c) LIMIT 1" },
    { "cr_pg_audit_chain_wait",
      "SELECT c FROM (SELECT mod(pg_backend_pid(), %d) + 1 AS c) AS s,"
      " LATERAL (SELECT pg_advisory_xact_lock(%d, s.c)) AS l" },
    /* With the chain held: n record numbers from the sequence and the
     * chain's end (position, hash; NULLs for a new chain), one round
     * trip.  A new snapshot: the previous holder's commit is seen. */
    { "cr_pg_audit_chain_end",
      "SELECT nextval('cr_audit_counter_n_seq'), e.chain_seq, e.hash"
      " FROM generate_series(1, %d) AS g LEFT JOIN"
      " (SELECT chain_seq, hash FROM cr_audit WHERE chain = %d"
      " ORDER BY chain_seq DESC LIMIT 1) AS e ON true" },
    /* Once a process: the sequence raised above every seq already there
     * (records of chain 0 written before 013, a restored trail), under
     * the audit lock so that two catch-ups never rewind each other. */
    { "cr_pg_audit_seq_catch_up",
      "SELECT setval('cr_audit_counter_n_seq', m.m)"
      " FROM (SELECT MAX(seq) AS m FROM cr_audit) AS m,"
      " cr_audit_counter_n_seq AS s"
      " WHERE m.m > (CASE WHEN s.is_called THEN s.last_value"
      " ELSE s.last_value - 1 END)" },

    /* An event's outbox seq (schema 013), and its catch-up as above. */
    { "cr_pg_outbox_next",
      "SELECT nextval('cr_outbox_counter_n_seq')" },
    /* The same, n values in one round trip (bulk tools). */
    { "cr_pg_outbox_next_n",
      "SELECT nextval('cr_outbox_counter_n_seq')"
      " FROM generate_series(1, %d)" },
    { "cr_pg_outbox_seq_catch_up",
      "SELECT setval('cr_outbox_counter_n_seq', m.m)"
      " FROM (SELECT MAX(seq) AS m FROM cr_outbox) AS m,"
      " cr_outbox_counter_n_seq AS s"
      " WHERE m.m > (CASE WHEN s.is_called THEN s.last_value"
      " ELSE s.last_value - 1 END)" },
    /* The notification worker's rounds: this transaction's commit does
     * not wait for its WAL flush (cr_store_notify_round). */
    { "cr_pg_async_commit",
      "SELECT set_config('synchronous_commit', 'off', true)" },
    { NULL, NULL }
};
