/* cr_sql: the statement catalogue.  Every SQL statement the module runs is
 * listed here as a {label, text} pair with APR DBD placeholders (%s, %d,
 * %lld), so that one text serves the sqlite3 and pgsql drivers and mod_dbd
 * can prepare them all on each new connection.  No SQL is built at run
 * time. */
#ifndef CR_SQL_H
#define CR_SQL_H

/* Multi-row VALUES lists of 3 and 5 placeholders and IN lists of 1, by
 * powers of two, for the batched statements of cr_db_exec_rows. */
#define CR_SQL_R3_1 "(%s, %s, %s)"
#define CR_SQL_R3_2 CR_SQL_R3_1 ", " CR_SQL_R3_1
#define CR_SQL_R3_4 CR_SQL_R3_2 ", " CR_SQL_R3_2
#define CR_SQL_R3_8 CR_SQL_R3_4 ", " CR_SQL_R3_4
#define CR_SQL_R3_16 CR_SQL_R3_8 ", " CR_SQL_R3_8
#define CR_SQL_R3_32 CR_SQL_R3_16 ", " CR_SQL_R3_16
#define CR_SQL_R5_1 "(%s, %s, %s, %s, %s)"
#define CR_SQL_R5_2 CR_SQL_R5_1 ", " CR_SQL_R5_1
#define CR_SQL_R5_4 CR_SQL_R5_2 ", " CR_SQL_R5_2
#define CR_SQL_R5_8 CR_SQL_R5_4 ", " CR_SQL_R5_4
#define CR_SQL_R2_1 "(%s, %lld)"
#define CR_SQL_R2_2 CR_SQL_R2_1 ", " CR_SQL_R2_1
#define CR_SQL_R2_4 CR_SQL_R2_2 ", " CR_SQL_R2_2
#define CR_SQL_R2_8 CR_SQL_R2_4 ", " CR_SQL_R2_4
#define CR_SQL_R2_16 CR_SQL_R2_8 ", " CR_SQL_R2_8
#define CR_SQL_R2_32 CR_SQL_R2_16 ", " CR_SQL_R2_16
#define CR_SQL_IN_2 "%s, %s"
#define CR_SQL_IN_4 CR_SQL_IN_2 ", " CR_SQL_IN_2
#define CR_SQL_IN_8 CR_SQL_IN_4 ", " CR_SQL_IN_4
#define CR_SQL_IN_16 CR_SQL_IN_8 ", " CR_SQL_IN_8
#define CR_SQL_IN_32 CR_SQL_IN_16 ", " CR_SQL_IN_16

typedef struct cr_sql_stmt_t {
    const char *label;
    const char *sql;
} cr_sql_stmt_t;

/* The Patient store's statements, terminated by an entry with label
 * NULL. */
extern const cr_sql_stmt_t cr_sql_catalogue[];

/* The matching engine's statements (cr_sql_match.c). */
extern const cr_sql_stmt_t cr_sql_match_catalogue[];

/* Every catalogue part (each feature keeps its statements in its own
 * array next to the code that runs them), terminated by NULL.  mod_dbd
 * and the tests prepare all of them. */
extern const cr_sql_stmt_t *const cr_sql_catalogues[];

/* Feature catalogues. */
extern const cr_sql_stmt_t cr_sql_audit_catalogue[];
extern const cr_sql_stmt_t cr_sql_query_catalogue[];
extern const cr_sql_stmt_t cr_sql_source_catalogue[];
extern const cr_sql_stmt_t cr_sql_async_catalogue[];
extern const cr_sql_stmt_t cr_sql_review_catalogue[];
extern const cr_sql_stmt_t cr_sql_notify_catalogue[];
extern const cr_sql_stmt_t cr_sql_match_tune_catalogue[];
extern const cr_sql_stmt_t cr_sql_idem_catalogue[];

/* PostgreSQL only, prepared when first run (cr_sql_pg.c); not in
 * cr_sql_catalogues. */
extern const cr_sql_stmt_t cr_sql_pg_catalogue[];

/* Advisory lock keys of cr_sql_pg_catalogue. */
#define CR_SQL_PG_LOCK_PHN 0x43520001
#define CR_SQL_PG_LOCK_AUDIT 0x43520002
#define CR_SQL_PG_LOCK_OUTBOX 0x43520003
/* The audit chains' two-key locks: (this, chain). */
#define CR_SQL_PG_LOCK_AUDIT_CHAIN 0x43520004

#endif /* CR_SQL_H */
