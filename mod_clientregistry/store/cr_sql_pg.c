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

    /* The audit chain's append: one appender at a time across all nodes,
     * from here to the end of its transaction (which ends right after). */
    { "cr_pg_lock_xact",
      "SELECT pg_advisory_xact_lock(%lld)" },
    /* The notification worker's rounds: this transaction's commit does
     * not wait for its WAL flush (cr_store_notify_round). */
    { "cr_pg_async_commit",
      "SELECT set_config('synchronous_commit', 'off', true)" },
    { NULL, NULL }
};
