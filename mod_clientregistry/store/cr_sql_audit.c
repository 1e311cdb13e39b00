/* cr_sql_audit: statements of the audit trail (schema/004_audit.sql). */
#include <stddef.h>

#include "store/cr_sql.h"

#define AUDIT_COLS \
    "seq, recorded, action, operation, method, path, query, status," \
    " client_dn, org_id, source_system, user_id, remote_addr, message_id," \
    " patients, prev_hash, hash"

const cr_sql_stmt_t cr_sql_audit_catalogue[] = {
    { "cr_audit_last",
      "SELECT seq, hash FROM cr_audit ORDER BY seq DESC LIMIT 1" },
    { "cr_audit_insert",
      "INSERT INTO cr_audit (" AUDIT_COLS ") VALUES (%lld, %s, %s, %s, %s,"
      " %s, %s, %d, %s, %s, %s, %s, %s, %s, %s, %s, %s)" },
    { "cr_audit_patient_insert",
      "INSERT INTO cr_audit_patient (patient_id, seq) VALUES (%s, %lld)" },
    { "cr_audit_page",
      "SELECT " AUDIT_COLS " FROM cr_audit WHERE seq > %lld"
      " ORDER BY seq LIMIT %d" },
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
