/* cr_sql_match_tune: the statements of the matcher's self-tuning (see
 * cr_store_match_tune.h): the history of fits with their parameters, the
 * value counts of the term-frequency adjustment, and the tuner's claim
 * row (migration 009). */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_match_tune_catalogue[] = {
    /* Fits: ids are assigned inside the saving transaction. */
    { "cr_match_fit_next_id",
      "SELECT COALESCE(MAX(id), 0) + 1 FROM cr_match_fit" },
    { "cr_match_fit_insert",
      "INSERT INTO cr_match_fit (id, fitted, lambda, records, pairs,"
      " iterations, converged, source)"
      " VALUES (%lld, %s, %lf, %lld, %lld, %d, %d, %s)" },
    { "cr_match_fit_param_insert",
      "INSERT INTO cr_match_fit_param (fit_id, field, level, m, u)"
      " VALUES (%lld, %s, %s, %lf, %lf)" },
    { "cr_match_fit_list",
      "SELECT id, fitted, lambda, records, pairs, iterations, converged,"
      " source FROM cr_match_fit ORDER BY id DESC LIMIT %d" },
    { "cr_match_fit_get",
      "SELECT id, fitted, lambda, records, pairs, iterations, converged,"
      " source FROM cr_match_fit WHERE id = %lld" },
    { "cr_match_fit_params",
      "SELECT field, level, m, u FROM cr_match_fit_param"
      " WHERE fit_id = %lld LIMIT %d" },
    /* The tuner's row. */
    { "cr_match_tune_get",
      "SELECT active_fit, claimed_until FROM cr_match_tune WHERE id = 1" },
    { "cr_match_tune_set_active",
      "UPDATE cr_match_tune SET active_fit = %lld WHERE id = 1" },
    /* Claim the next fit until an instant, if nobody holds a claim that
     * has not expired (instants compare as text). */
    { "cr_match_tune_claim",
      "UPDATE cr_match_tune SET claimed_until = %s"
      " WHERE id = 1 AND claimed_until < %s" },
    { "cr_match_tune_release",
      "UPDATE cr_match_tune SET claimed_until = '' WHERE id = 1" },
    /* Records the next fit would see (the trigger of a re-fit). */
    { "cr_match_tune_records",
      "SELECT COUNT(*) FROM cr_patient WHERE replaced_by IS NULL" },
    /* Value counts. */
    { "cr_match_freq_clear",
      "DELETE FROM cr_match_freq" },
    { "cr_match_freq_insert",
      "INSERT INTO cr_match_freq (field, value, n, share)"
      " VALUES (%s, %s, %lld, %lf)" },
    /* A query's three values with each field's summary rows ('' and '#'):
     * at most nine rows from the primary key, named 'tf:<field>'. */
    { "cr_match_freq_lookup",
      "SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'given' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'family' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'city' AND value IN (%s, '', '#')" },
    /* The same after the parameters of cr_match_param_all, so that a
     * query reads both with one statement. */
    { "cr_match_param_all_freq",
      "SELECT '', '', lambda, 0 FROM cr_match_estimate WHERE id = 1"
      " UNION ALL SELECT field, level, m, u FROM cr_match_param"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'given' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'family' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'city' AND value IN (%s, '', '#')"
      " LIMIT %d" },
    /* The same with, in place of the parameters, the key of the fit they
     * belong to (field '', the key in the second column): a connection
     * that holds the parameters of that fit reads no more
     * (cr_store_match_params_freq_load).  cr_store_match_params_save
     * rewrites the estimate row with every change of cr_match_param. */
    { "cr_match_fit_key_freq",
      "SELECT '', CAST(estimated AS TEXT) || '|' || CAST(records AS TEXT)"
      " || '|' || CAST(pairs AS TEXT) || '|' || CAST(iterations AS TEXT)"
      " || '|' || CAST(lambda AS TEXT), lambda, 0"
      " FROM cr_match_estimate WHERE id = 1"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'given' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'family' AND value IN (%s, '', '#')"
      " UNION ALL SELECT 'tf:' || field, value, n, share FROM cr_match_freq"
      " WHERE field = 'city' AND value IN (%s, '', '#')"
      " LIMIT %d" },
    { NULL, NULL }
};
