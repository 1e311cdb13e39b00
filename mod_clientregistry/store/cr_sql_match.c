/* cr_sql_match: the matching engine's statements (see cr_sql.h and
 * cr_store_match.h).
 *
 * A query's candidates come from one statement per 16 blocking keys:
 * each key is one range of the covering (kind, value, patient_id) index
 * of cr_search_index with its own LIMIT, and the distinct ids found fetch
 * their match records from the covering partial index of migration 002.
 * The rows one query touches are bounded by the number of keys times
 * LIMIT, whatever the size of the registry; a candidate found through
 * several keys is read once.  Whether a candidate was merged away
 * (cr_patient.replaced_by) is checked only for the few candidates a query
 * returns (cr_match_active), not for every one scored.  (One statement
 * rather than one per key: with SQLite every statement outside a
 * transaction takes and drops the file locks.)
 *
 * Two habits keep both planners (SQLite without ANALYZE statistics, and
 * PostgreSQL) on those indexes: the record row is selected with the
 * partial index's own range predicate (kind >= 'bk:rec' AND kind <=
 * 'bk:rec'), which no planner can answer better from the (kind, value,
 * ...) index than by the patient id's equality; and CROSS JOIN fixes the
 * join order in SQLite (outer table first), while PostgreSQL treats it as
 * a plain inner join.
 *
 * Where a key has more patients than its LIMIT, ORDER BY patient_id says
 * which ones are taken: SQLite walks the index in that order anyway (no
 * sort in its plan), and PostgreSQL, whose planner may scan in heap order
 * once its statistics change, then picks the same candidates.
 */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_match_catalogue[] = {
    /* The candidates of up to 16 blocking keys with their match records:
     * each key one range of the covering (kind, value, patient_id) index
     * with its own LIMIT (unused keys are '' with LIMIT 0); IN collapses a
     * candidate found through several keys into one; each candidate's
     * record comes from the covering partial index of 002. */
    { "cr_match_candidates",
      "SELECT r.patient_id, r.value FROM cr_search_index r"
      " WHERE r.patient_id IN ("
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k1"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k2"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k3"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k4"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k5"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k6"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k7"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k8"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k9"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k10"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k11"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k12"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k13"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k14"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k15"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k16"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k17"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k18"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k19"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k20"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k21"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k22"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k23"
      " UNION ALL"
      " SELECT patient_id FROM (SELECT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d) k24)"
      " AND r.kind >= 'bk:rec' AND r.kind <= 'bk:rec'"
      " ORDER BY r.patient_id LIMIT %d" },
    /* Which of up to 10 patients exist and are not merged away (unused
     * slots are ""). */
    { "cr_match_active",
      "SELECT id FROM cr_patient"
      " WHERE id IN (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
      " AND replaced_by IS NULL LIMIT 10" },
    /* The stored records in id order, a page at a time (estimation). */
    { "cr_match_records_page",
      "SELECT p.id, r.value FROM cr_patient p CROSS JOIN cr_search_index r"
      " WHERE p.id > %s AND p.replaced_by IS NULL"
      " AND r.patient_id = p.id"
      " AND r.kind >= 'bk:rec' AND r.kind <= 'bk:rec'"
      " ORDER BY p.id LIMIT %d" },

    /* Re-keying (cr-admin rekey): the patients a page at a time, and
     * their matcher rows ("bk:" up to "bk;", the next character). */
    { "cr_match_patients_page",
      "SELECT id, resource FROM cr_patient WHERE id > %s"
      " ORDER BY id LIMIT %d" },
    { "cr_match_keys_delete",
      "DELETE FROM cr_search_index WHERE patient_id = %s"
      " AND kind >= 'bk:' AND kind < 'bk;'" },
    /* The same for 2 to 32 patients at a time (cr_db_exec_rows). */
#define KEYS_DELETE_N(n) \
    { "cr_match_keys_delete_" #n, \
      "DELETE FROM cr_search_index WHERE kind >= 'bk:' AND kind < 'bk;'" \
      " AND patient_id IN (" CR_SQL_IN_##n ")" }
    KEYS_DELETE_N(2), KEYS_DELETE_N(4), KEYS_DELETE_N(8), KEYS_DELETE_N(16),
    KEYS_DELETE_N(32),
    { "cr_match_key_insert",
      "INSERT INTO cr_search_index (patient_id, kind, value)"
      " VALUES (%s, %s, %s)" },

    /* Fellegi-Sunter parameters: lambda (as field '', level '') and
     * every m/u row in one statement, for the matcher's every query. */
    { "cr_match_param_all",
      "SELECT '', '', lambda, 0 FROM cr_match_estimate WHERE id = 1"
      " UNION ALL SELECT field, level, m, u FROM cr_match_param"
      " LIMIT %d" },
    { "cr_match_param_clear",
      "DELETE FROM cr_match_param" },
    { "cr_match_param_insert",
      "INSERT INTO cr_match_param (field, level, m, u)"
      " VALUES (%s, %s, %lf, %lf)" },
    { "cr_match_estimate_get",
      "SELECT lambda, estimated, records, pairs, iterations, converged"
      " FROM cr_match_estimate WHERE id = 1" },
    { "cr_match_estimate_clear",
      "DELETE FROM cr_match_estimate" },
    { "cr_match_estimate_insert",
      "INSERT INTO cr_match_estimate (id, lambda, estimated, records, pairs,"
      " iterations, converged) VALUES (1, %lf, %s, %lld, %lld, %d, %d)" },

    /* Potential duplicates: one row per pair (smaller id first); a new
     * finding refreshes the score but keeps a reviewer's status (the
     * DO UPDATE never sets status), so a dismissed pair stays dismissed
     * however often a write finds it again. */
    { "cr_match_duplicate_upsert",
      "INSERT INTO cr_match_duplicate (patient_lo, patient_hi, score,"
      " weight, grade, found, found_by, message_id, status)"
      " VALUES (%s, %s, %lf, %lf, %s, %s, %s, %s, 'open')"
      " ON CONFLICT (patient_lo, patient_hi) DO UPDATE SET"
      " score = excluded.score, weight = excluded.weight,"
      " grade = excluded.grade, found = excluded.found,"
      " found_by = excluded.found_by, message_id = excluded.message_id" },
    { "cr_match_duplicate_list",
      "SELECT patient_lo, patient_hi, score, weight, grade, found, found_by,"
      " message_id, status FROM cr_match_duplicate WHERE status = %s"
      " ORDER BY found DESC, patient_lo, patient_hi LIMIT %d OFFSET %d" },
    /* One pair, for a reviewer's decision (read inside the write
     * transaction that changes it). */
    { "cr_match_duplicate_get",
      "SELECT patient_lo, patient_hi, score, weight, grade, found, found_by,"
      " message_id, status FROM cr_match_duplicate"
      " WHERE patient_lo = %s AND patient_hi = %s LIMIT 1" },
    /* A reviewer's decision (or a merge's): the pair's new status. */
    { "cr_match_duplicate_set_status",
      "UPDATE cr_match_duplicate SET status = %s"
      " WHERE patient_lo = %s AND patient_hi = %s" },
    /* The same, only when the pair still has the status a merge gave it
     * (an unmerge reopens what its merge closed, nothing else). */
    { "cr_match_duplicate_set_status_from",
      "UPDATE cr_match_duplicate SET status = %s"
      " WHERE patient_lo = %s AND patient_hi = %s AND status = %s" },
    { "cr_match_duplicate_list_patient",
      "SELECT patient_lo, patient_hi, score, weight, grade, found, found_by,"
      " message_id, status FROM cr_match_duplicate"
      " WHERE status = %s AND (patient_lo = %s OR patient_hi = %s)"
      " ORDER BY found DESC, patient_lo, patient_hi LIMIT %d OFFSET %d" },

    { NULL, NULL }
};
