/* cr_sql_audit: statements of the audit trail (schema/004_audit.sql,
 * its chains 013_audit_chains.sql). */
#include <stddef.h>

#include "store/cr_sql.h"

#define AUDIT_COLS \
    "seq, recorded, action, operation, method, path, query, status," \
    " client_dn, org_id, source_system, user_id, remote_addr, message_id," \
    " patients, prev_hash, hash, chain, chain_seq"

#define AUDIT_ROW "(%lld, %s, %s, %s, %s, %s, %s, %d, %s, %s, %s, %s, %s," \
    " %s, %s, %s, %s, %d, %lld)"
#define AUDIT_ROWS_2 AUDIT_ROW ", " AUDIT_ROW
#define AUDIT_ROWS_4 AUDIT_ROWS_2 ", " AUDIT_ROWS_2
#define AUDIT_ROWS_8 AUDIT_ROWS_4 ", " AUDIT_ROWS_4
#define AUDIT_ROWS_16 AUDIT_ROWS_8 ", " AUDIT_ROWS_8
#define AUDIT_ROWS_32 AUDIT_ROWS_16 ", " AUDIT_ROWS_16
#define AUDIT_INSERT_N(n) \
    { "cr_audit_insert_" #n, \
      "INSERT INTO cr_audit (" AUDIT_COLS ") VALUES " AUDIT_ROWS_##n }
/* Multi-row inserts may repeat a (patient, seq) pair no more than the
 * single one could: the caller removes repeats within a record. */
#define AUDIT_PATIENT_N(n) \
    { "cr_audit_patient_insert_" #n, \
      "INSERT INTO cr_audit_patient (patient_id, seq) VALUES " \
      CR_SQL_R2_##n }

const cr_sql_stmt_t cr_sql_audit_catalogue[] = {
    { "cr_audit_last",
      "SELECT seq, hash FROM cr_audit ORDER BY seq DESC LIMIT 1" },
    /* The single writer's append (SQLite): the highest seq, and the end
     * (position, hash) of chain %d; NULLs on an empty trail or chain. */
    { "cr_audit_chain_end",
      "SELECT (SELECT MAX(seq) FROM cr_audit),"
      " (SELECT chain_seq FROM cr_audit WHERE chain = %d"
      " ORDER BY chain_seq DESC LIMIT 1),"
      " (SELECT hash FROM cr_audit WHERE chain = %d"
      " ORDER BY chain_seq DESC LIMIT 1)" },
    { "cr_audit_insert",
      "INSERT INTO cr_audit (" AUDIT_COLS ") VALUES " AUDIT_ROW },
    /* The same, 2 to 32 records at a time (cr_db_exec_rows). */
    AUDIT_INSERT_N(2), AUDIT_INSERT_N(4), AUDIT_INSERT_N(8),
    AUDIT_INSERT_N(16), AUDIT_INSERT_N(32),
    { "cr_audit_patient_insert",
      "INSERT INTO cr_audit_patient (patient_id, seq) VALUES (%s, %lld)" },
    AUDIT_PATIENT_N(2), AUDIT_PATIENT_N(4), AUDIT_PATIENT_N(8),
    AUDIT_PATIENT_N(16), AUDIT_PATIENT_N(32),
    /* Verification: every chain in turn, each in its own order, a page
     * at a time after (chain, chain_seq). */
    { "cr_audit_page",
      "SELECT " AUDIT_COLS " FROM cr_audit"
      " WHERE (chain, chain_seq) > (%d, %lld)"
      " ORDER BY chain, chain_seq LIMIT %d" },
    { "cr_audit_get",
      "SELECT " AUDIT_COLS " FROM cr_audit WHERE seq = %lld" },
    { "cr_audit_by_patient",
      "SELECT seq FROM cr_audit_patient WHERE patient_id = %s"
      " ORDER BY seq DESC LIMIT %d" },
    { "cr_audit_by_org",
      "SELECT seq FROM cr_audit WHERE org_id = %s ORDER BY seq DESC"
      " LIMIT %d" },
    { "cr_audit_by_time",
      "SELECT seq FROM cr_audit WHERE recorded >= %s AND recorded < %s"
      " ORDER BY seq DESC LIMIT %d" },
    { "cr_audit_recent",
      "SELECT seq FROM cr_audit ORDER BY seq DESC LIMIT %d" },
    { NULL, NULL }
};
