/* cr_sql_async: the statements of the asynchronous job queue
 * (cr_store_async.c, table cr_async_job of schema/003_source_records.sql):
 * the maintenance operations enqueue, the per-child worker claims, runs
 * and delivers. */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_async_catalogue[] = {
    { "cr_async_insert",
      "INSERT INTO cr_async_job (id, operation, body, settings, message_id,"
      " org_id, source_system, user_id, client_dn, if_match, status,"
      " next_attempt_at, created, updated) VALUES (%s, %s, %s, %s, %s, %s,"
      " %s, %s, %s, %lld, 'queued', %s, %s, %s)" },
    { "cr_async_due",
      "SELECT id FROM cr_async_job WHERE (status = 'queued'"
      " AND next_attempt_at <= %s) OR (status = 'running'"
      " AND locked_until < %s) ORDER BY next_attempt_at LIMIT %d" },
    { "cr_async_claim",
      "UPDATE cr_async_job SET status = 'running', locked_until = %s,"
      " updated = %s WHERE id = %s AND ((status = 'queued'"
      " AND next_attempt_at <= %s) OR (status = 'running'"
      " AND locked_until < %s))" },
    { "cr_async_get",
      "SELECT operation, body, settings, message_id, org_id, source_system,"
      " user_id, client_dn, if_match, executed, result, result_status,"
      " attempts, status, last_error FROM cr_async_job WHERE id = %s" },
    { "cr_async_executed",
      "UPDATE cr_async_job SET executed = 1 WHERE id = %s" },
    { "cr_async_result",
      "UPDATE cr_async_job SET executed = 1, result = %s,"
      " result_status = %d, status = 'running', next_attempt_at = %s,"
      " updated = %s WHERE id = %s" },
    { "cr_async_retry",
      "UPDATE cr_async_job SET status = %s, attempts = %d,"
      " next_attempt_at = %s, last_error = %s, updated = %s WHERE id = %s" },
    { NULL, NULL }
};
