/* cr_sql_source: the statements of the source-record store
 * (cr_store_source.c, schema/003_source_records.sql). */
#include <stddef.h>

#include "store/cr_sql.h"

#define SOURCE_COLS \
    "id, patient_id, source_system, status, version, snapshot, merge_id"

const cr_sql_stmt_t cr_sql_source_catalogue[] = {
    { "cr_source_get_by_sri",
      "SELECT " SOURCE_COLS " FROM cr_source_record"
      " WHERE sri_system = %s AND sri_value = %s" },
    { "cr_source_get",
      "SELECT " SOURCE_COLS " FROM cr_source_record WHERE id = %s" },
    { "cr_source_insert",
      "INSERT INTO cr_source_record (id, patient_id, source_system,"
      " sri_system, sri_value, status, version, created, last_updated,"
      " snapshot) VALUES (%s, %s, %s, %s, %s, 'active', 1, %s, %s, %s)" },
    { "cr_source_update",
      "UPDATE cr_source_record SET version = version + 1,"
      " last_updated = %s, snapshot = %s WHERE id = %s" },
    { "cr_source_move",
      "UPDATE cr_source_record SET patient_id = %s, status = %s,"
      " merge_id = %s, last_updated = %s WHERE id = %s" },
    { "cr_source_list_patient",
      "SELECT id FROM cr_source_record WHERE patient_id = %s"
      " ORDER BY created, id LIMIT %d" },
    { "cr_source_list_merge",
      "SELECT id FROM cr_source_record WHERE merge_id = %s"
      " ORDER BY id LIMIT %d" },

    { "cr_attr_insert",
      "INSERT INTO cr_attribute (id, patient_id, source_record_id, kind,"
      " value, period_start, period_end, source_system, org_id, user_id,"
      " message_id, recorded_at)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)" },
    { "cr_attr_current_source",
      "SELECT id, kind, value FROM cr_attribute"
      " WHERE source_record_id = %s AND period_end IS NULL"
      " ORDER BY recorded_at, id LIMIT %d" },
    { "cr_attr_end",
      "UPDATE cr_attribute SET period_end = %s, ended_at = %s"
      " WHERE id = %s AND period_end IS NULL" },
    { "cr_attr_end_value",
      "UPDATE cr_attribute SET period_end = %s, ended_at = %s"
      " WHERE source_record_id = %s AND kind = %s AND value = %s"
      " AND period_end IS NULL" },
    { "cr_attr_current_patient",
      "SELECT a.kind, a.value, a.period_start, a.source_system, a.user_id,"
      " s.status, s.source_system, a.recorded_at FROM cr_attribute a"
      " JOIN cr_source_record s ON s.id = a.source_record_id"
      " WHERE s.patient_id = %s AND a.period_end IS NULL"
      " ORDER BY s.created, s.id, a.recorded_at, a.id LIMIT %d" },

    { "cr_patient_source_set_replaced_by",
      "UPDATE cr_patient SET replaced_by = %s WHERE id = %s" },
    { "cr_identifier_source_set_status",
      "UPDATE cr_identifier SET status = %s WHERE patient_id = %s"
      " AND system = %s AND value = %s" },

    { "cr_merge_insert",
      "INSERT INTO cr_merge_event (id, survivor_id, nonsurvivor_id,"
      " nonsurvivor_version, ns_system, ns_value, status, merged_at,"
      " message_id) VALUES (%s, %s, %s, %d, %s, %s, 'merged', %s, %s)" },
    { "cr_merge_find",
      "SELECT id, survivor_id, nonsurvivor_id, nonsurvivor_version"
      " FROM cr_merge_event WHERE ns_system = %s AND ns_value = %s"
      " AND status = 'merged' ORDER BY merged_at DESC LIMIT 1" },
    { "cr_merge_undo",
      "UPDATE cr_merge_event SET status = 'unmerged', unmerged_at = %s"
      " WHERE id = %s AND status = 'merged'" },
    { NULL, NULL }
};
