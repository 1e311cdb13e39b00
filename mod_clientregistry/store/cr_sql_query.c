/* cr_sql_query: the statements of the BC query operations (cr_store_query).
 *
 * Conventions of cr_sql.c: labels cr_<table>_<verb>, APR DBD placeholders,
 * a LIMIT on every multi-row SELECT.  Candidate look-ups are equality
 * matches on indexed columns (cr_patient.birth_date, cr_search_index
 * (kind, value, patient_id), cr_identifier (system, value)), so each is an
 * index range of the size of its result.
 */
#include <stddef.h>

#include "store/cr_sql.h"

const cr_sql_stmt_t cr_sql_query_catalogue[] = {
    { "cr_patient_query_get",
      "SELECT id, version_id, last_updated, resource, phn, active,"
      " replaced_by, masked, created FROM cr_patient WHERE id = %s" },
    { "cr_patient_query_set_masked",
      "UPDATE cr_patient SET masked = %d WHERE id = %s" },

    { "cr_identifier_query_lookup",
      "SELECT patient_id, status FROM cr_identifier"
      " WHERE system = %s AND value = %s LIMIT 2" },
    { "cr_identifier_query_list",
      "SELECT system, value, use_code, status FROM cr_identifier"
      " WHERE patient_id = %s ORDER BY system, value LIMIT %d" },

    { "cr_version_query_recent",
      "SELECT version_id, last_updated, resource FROM cr_patient_version"
      " WHERE patient_id = %s ORDER BY version_id DESC LIMIT %d" },

    { "cr_index_query_eq",
      "SELECT patient_id FROM cr_search_index WHERE kind = %s"
      " AND value = %s ORDER BY patient_id LIMIT %d" },
    { "cr_index_query_insert",
      "INSERT INTO cr_search_index (patient_id, kind, value)"
      " VALUES (%s, %s, %s)" },

    { NULL, NULL }
};
