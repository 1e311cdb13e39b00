/* cr_sql: the statement catalogue (see cr_sql.h).
 *
 * Conventions: labels are cr_<table>_<verb>; every SELECT that can return
 * more than one row carries a LIMIT bound from the caller's settings; text
 * comparisons on normalized keys use ranges (>= and <) rather than LIKE so
 * that no input character can act as a wildcard and indexes are used on
 * both SQLite and PostgreSQL.
 */
#include <stddef.h>

#include "store/cr_sql.h"

#define PATIENT_COLS \
    "id, version_id, last_updated, resource, phn, active, replaced_by"

const cr_sql_stmt_t cr_sql_catalogue[] = {
    /* The recorded migrations: the module serves a database only when
     * they are exactly the ones it was built for. */
    { "cr_schema_version_get",
      "SELECT MAX(version) FROM cr_schema_version" },
    { "cr_schema_version_list",
      "SELECT version FROM cr_schema_version ORDER BY version LIMIT 1000" },

    /* PHN allocation (phn.md section 6, DECISION-16).  The no-op update
     * takes the row lock on PostgreSQL; SQLite is already serialized by
     * BEGIN IMMEDIATE. */
    { "cr_phn_lock",
      "UPDATE cr_phn_allocator SET next_body = next_body WHERE id = 1" },
    { "cr_phn_get",
      "SELECT next_body FROM cr_phn_allocator WHERE id = 1" },
    { "cr_phn_set",
      "UPDATE cr_phn_allocator SET next_body = %lld WHERE id = 1" },

    { "cr_patient_insert",
      "INSERT INTO cr_patient (id, phn, version_id, created, last_updated,"
      " active, gender, birth_date, birth_date_hi, resource)"
      " VALUES (%s, %s, %d, %s, %s, %d, %s, %s, %s, %s)" },
    /* The same, 2 to 32 rows at a time (cr-admin load, defer_rows). */
/* A row of cr_patient_insert and of cr_version_insert, with the
 * placeholder types of their one-row forms (%d: the pgsql driver binds
 * %s as text, which an integer column refuses). */
#define PATIENT_ROW "(%s, %s, %d, %s, %s, %d, %s, %s, %s, %s)"
#define VERSION_ROW "(%s, %d, %s, %s, %s, %s, %s, %s, %s, %s)"
#define ROWS_2(r) r ", " r
#define ROWS_4(r) ROWS_2(r) ", " ROWS_2(r)
#define ROWS_8(r) ROWS_4(r) ", " ROWS_4(r)
#define ROWS_16(r) ROWS_8(r) ", " ROWS_8(r)
#define ROWS_32(r) ROWS_16(r) ", " ROWS_16(r)
#define PATIENT_INSERT_N(n) \
    { "cr_patient_insert_" #n, \
      "INSERT INTO cr_patient (id, phn, version_id, created, last_updated," \
      " active, gender, birth_date, birth_date_hi, resource)" \
      " VALUES " ROWS_##n(PATIENT_ROW) }
    PATIENT_INSERT_N(2), PATIENT_INSERT_N(4), PATIENT_INSERT_N(8),
    PATIENT_INSERT_N(16), PATIENT_INSERT_N(32),
    { "cr_patient_update",
      "UPDATE cr_patient SET phn = %s, version_id = %d, last_updated = %s,"
      " active = %d, gender = %s, birth_date = %s, birth_date_hi = %s,"
      " resource = %s WHERE id = %s AND version_id = %d" },
    { "cr_patient_get",
      "SELECT " PATIENT_COLS " FROM cr_patient WHERE id = %s" },
    { "cr_patient_get_by_phn",
      "SELECT " PATIENT_COLS " FROM cr_patient WHERE phn = %s" },
    { "cr_patient_filter_row",
      "SELECT id, gender, birth_date, birth_date_hi FROM cr_patient"
      " WHERE id = %s" },

    { "cr_version_insert",
      "INSERT INTO cr_patient_version (patient_id, version_id, last_updated,"
      " operation, source_system, org_id, user_id, client_dn, message_id,"
      " resource) VALUES (%s, %d, %s, %s, %s, %s, %s, %s, %s, %s)" },
#define VERSION_INSERT_N(n) \
    { "cr_version_insert_" #n, \
      "INSERT INTO cr_patient_version (patient_id, version_id, last_updated," \
      " operation, source_system, org_id, user_id, client_dn, message_id," \
      " resource) VALUES " ROWS_##n(VERSION_ROW) }
    VERSION_INSERT_N(2), VERSION_INSERT_N(4), VERSION_INSERT_N(8),
    VERSION_INSERT_N(16), VERSION_INSERT_N(32),
    { "cr_version_get",
      "SELECT patient_id, version_id, last_updated, resource, operation"
      " FROM cr_patient_version WHERE patient_id = %s AND version_id = %d" },
    { "cr_version_list",
      "SELECT patient_id, version_id, last_updated, resource, operation"
      " FROM cr_patient_version WHERE patient_id = %s"
      " ORDER BY version_id DESC LIMIT %d OFFSET %d" },
    { "cr_version_count",
      "SELECT COUNT(*) FROM cr_patient_version WHERE patient_id = %s" },

    { "cr_identifier_owner",
      "SELECT patient_id, status FROM cr_identifier"
      " WHERE system = %s AND value = %s" },
    { "cr_identifier_insert",
      "INSERT INTO cr_identifier (patient_id, system, value, use_code,"
      " status) VALUES (%s, %s, %s, %s, %s)" },
#define IDENTIFIER_INSERT_N(n) \
    { "cr_identifier_insert_" #n, \
      "INSERT INTO cr_identifier (patient_id, system, value, use_code," \
      " status) VALUES " CR_SQL_R5_##n }
    IDENTIFIER_INSERT_N(2), IDENTIFIER_INSERT_N(4), IDENTIFIER_INSERT_N(8),
    /* Whether a PHN is held: under the PHN system, or as a current PHN
     * under a legacy system (cr_store_phn_held). */
    { "cr_phn_holder",
      "SELECT patient_id FROM cr_identifier WHERE system = %s AND value = %s"
      " UNION ALL SELECT id FROM cr_patient WHERE phn = %s" },
    { "cr_identifier_delete_patient",
      "DELETE FROM cr_identifier WHERE patient_id = %s" },
    { "cr_identifier_get_patient",
      "SELECT system, value FROM cr_identifier WHERE patient_id = %s"
      " LIMIT %d" },
    { "cr_identifier_search_value",
      "SELECT DISTINCT patient_id FROM cr_identifier WHERE value = %s"
      " ORDER BY patient_id LIMIT %d" },
    { "cr_identifier_search_system_value",
      "SELECT DISTINCT patient_id FROM cr_identifier"
      " WHERE system = %s AND value = %s ORDER BY patient_id LIMIT %d" },
    { "cr_identifier_search_system",
      "SELECT DISTINCT patient_id FROM cr_identifier WHERE system = %s"
      " ORDER BY patient_id LIMIT %d" },

    { "cr_index_insert",
      "INSERT INTO cr_search_index (patient_id, kind, value)"
      " VALUES (%s, %s, %s)" },
    /* The same, 2 to 32 rows at a time (cr_db_exec_rows). */
#define INDEX_INSERT_N(n) \
    { "cr_index_insert_" #n, \
      "INSERT INTO cr_search_index (patient_id, kind, value)" \
      " VALUES " CR_SQL_R3_##n }
    INDEX_INSERT_N(2), INDEX_INSERT_N(4), INDEX_INSERT_N(8),
    INDEX_INSERT_N(16), INDEX_INSERT_N(32),
    { "cr_index_delete_patient",
      "DELETE FROM cr_search_index WHERE patient_id = %s" },
    { "cr_index_get_patient",
      "SELECT kind, value FROM cr_search_index WHERE patient_id = %s"
      " LIMIT %d" },
    { "cr_index_search_eq",
      "SELECT DISTINCT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value = %s ORDER BY patient_id LIMIT %d" },
    { "cr_index_search_range",
      "SELECT DISTINCT patient_id FROM cr_search_index"
      " WHERE kind = %s AND value >= %s AND value < %s"
      " ORDER BY patient_id LIMIT %d" },

    { "cr_patient_search_id",
      "SELECT id FROM cr_patient WHERE id = %s" },
    { "cr_patient_search_gender",
      "SELECT id FROM cr_patient WHERE gender = %s ORDER BY id LIMIT %d" },
    { "cr_patient_search_birth",
      "SELECT id FROM cr_patient WHERE birth_date >= %s"
      " AND birth_date <= %s ORDER BY id LIMIT %d" },
    { "cr_patient_search_all",
      "SELECT id FROM cr_patient ORDER BY id LIMIT %d" },

    { NULL, NULL }
};

const cr_sql_stmt_t *const cr_sql_catalogues[] = {
    cr_sql_catalogue,
    cr_sql_match_catalogue,
    cr_sql_match_tune_catalogue,
    cr_sql_audit_catalogue,
    cr_sql_query_catalogue,
    cr_sql_source_catalogue,
    cr_sql_async_catalogue,
    cr_sql_review_catalogue,
    cr_sql_notify_catalogue,
    cr_sql_idem_catalogue,
    NULL
};
