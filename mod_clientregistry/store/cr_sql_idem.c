/* cr_sql_idem: the statements of idempotent messageId (cr_store_idem.c,
 * table cr_idempotency of schema/006_idempotency.sql).  The claim is an
 * INSERT that does nothing on a conflict, so a second claimer learns it
 * lost from the row count instead of an error that would abort its
 * PostgreSQL transaction. */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_idem_catalogue[] = {
    { "cr_idem_get",
      "SELECT request_hash, operation, claim, created, status, body,"
      " location, patients FROM cr_idempotency"
      " WHERE sender = %s AND message_id = %s" },
    { "cr_idem_expire",
      "DELETE FROM cr_idempotency WHERE sender = %s AND message_id = %s"
      " AND created < %s" },
    { "cr_idem_claim",
      "INSERT INTO cr_idempotency (sender, message_id, request_hash,"
      " operation, claim, created) VALUES (%s, %s, %s, %s, %s, %s)"
      " ON CONFLICT (sender, message_id) DO NOTHING" },
    { "cr_idem_answer",
      "UPDATE cr_idempotency SET status = %d, body = %s, location = %s,"
      " patients = %s, answered = %s WHERE sender = %s AND message_id = %s"
      " AND claim = %s AND status IS NULL" },
    { "cr_idem_purge",
      "DELETE FROM cr_idempotency WHERE created < %s" },
    { NULL, NULL }
};
