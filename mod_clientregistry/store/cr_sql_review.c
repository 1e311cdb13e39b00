/* cr_sql_review: the statements of the duplicate review's evidence and
 * decision history (see cr_store_review.h; table cr_match_decision of
 * migration 008). */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_review_catalogue[] = {
    /* A patient's current match record (the covering partial index of
     * migration 002, with its own range predicate). */
    { "cr_review_record_get",
      "SELECT value FROM cr_search_index WHERE patient_id = %s"
      " AND kind >= 'bk:rec' AND kind <= 'bk:rec' LIMIT 1" },
    /* The next decision of a pair: seq one more than the pair's last
     * (inside the write transaction that makes the decision). */
    { "cr_review_decision_add",
      "INSERT INTO cr_match_decision (patient_lo, patient_hi, seq, decided,"
      " action, status, comment, decided_by, message_id)"
      " SELECT %s, %s, COALESCE(MAX(seq), 0) + 1, %s, %s, %s, %s, %s, %s"
      " FROM cr_match_decision WHERE patient_lo = %s AND patient_hi = %s" },
    { "cr_review_history",
      "SELECT seq, decided, action, status, comment, decided_by, message_id"
      " FROM cr_match_decision WHERE patient_lo = %s AND patient_hi = %s"
      " ORDER BY seq DESC LIMIT %d" },
    /* The review list by status, grade ('' for any) and patient ('' for
     * any), sorted by the finding ('-found') or the score ('-score',
     * 'score'): for the console's queue (the plain order by status and
     * finding is cr_match_duplicate_list, on its index). */
    { "cr_review_duplicate_list",
      "SELECT patient_lo, patient_hi, score, weight, grade, found, found_by,"
      " message_id, status FROM cr_match_duplicate WHERE status = %s"
      " AND (%s = '' OR grade = %s)"
      " AND (%s = '' OR patient_lo = %s OR patient_hi = %s)"
      " ORDER BY CASE WHEN %s = '-score' THEN -score"
      " WHEN %s = 'score' THEN score ELSE 0 END,"
      " found DESC, patient_lo, patient_hi LIMIT %d OFFSET %d" },
    { NULL, NULL }
};
