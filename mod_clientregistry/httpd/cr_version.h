/* cr_version: what this build of the module is and which database schema
 * it serves.  The glue reports both (the startup log line, the
 * CapabilityStatement, the schema check of cr_dbd). */
#ifndef CR_VERSION_H
#define CR_VERSION_H

#define CR_VERSION "0.1.0"
#define CR_SCHEMA_VERSION 10
/* For log lines; cr_store_schema_required is the list that counts. */
#define CR_SCHEMA_MIGRATIONS "1, 2, 3, 4, 5, 6, 8, 9, 10"

#endif /* CR_VERSION_H */
