/* cr_sql: the statement catalogue.  Every SQL statement the module runs is
 * listed here as a {label, text} pair with APR DBD placeholders (%s, %d,
 * %lld), so that one text serves the sqlite3 and pgsql drivers and mod_dbd
 * can prepare them all on each new connection.  No SQL is built at run
 * time. */
#ifndef CR_SQL_H
#define CR_SQL_H

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

#endif /* CR_SQL_H */
