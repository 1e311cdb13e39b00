/* cr_dbd: the glue's one door to mod_dbd.
 *
 * This file alone imports mod_dbd's optional functions (acquire for
 * requests, open/close for the background threads), wraps a mod_dbd
 * connection for the store (cr_db_t) together with the cross-process
 * write lock that SQLite writers take, and checks once per process and
 * server that the database has the schema this module serves.  (The
 * directive that registers the SQL catalogue runs before optional
 * functions are retrieved, so cr_config keeps its own ap_dbd_prepare
 * pointer, as mod_authn_dbd does.)
 */
#ifndef CR_DBD_H
#define CR_DBD_H

#include <apr_dbd.h>

#include "httpd/cr_private.h"
#include <mod_dbd.h>

#include "store/cr_db.h"

/* optional_fn_retrieve (and post_config, which runs before it): look up
 * mod_dbd's functions.  Written here only, read afterwards. */
void cr_dbd_retrieve(void);

/* pre_config: register the write lock's mutex type (Mutex directive). */
void cr_dbd_pre_config(apr_pool_t *pconf);

/* post_config: create the write lock; warns when mod_dbd is missing.
 * Returns OK, or HTTP_INTERNAL_SERVER_ERROR when the lock cannot be
 * made. */
int cr_dbd_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: attach this child to the write lock and set up the
 * per-process schema state.  Runs before the background threads
 * start. */
void cr_dbd_child_init(apr_pool_t *pchild, server_rec *s);

/* The request's connection (ap_dbd_acquire, released by mod_dbd with
 * the request), wrapped for the store; NULL (logged) when mod_dbd is not
 * loaded or gives no connection. */
cr_db_t *cr_dbd_acquire(request_rec *r);

/* A connection of server s for a background thread, wrapped in pool;
 * *conn receives what cr_dbd_close needs.  NULL when mod_dbd is not
 * loaded or gives no connection. */
cr_db_t *cr_dbd_open(ap_dbd_t **conn, apr_pool_t *pool, server_rec *s);

/* Give back a connection from cr_dbd_open. */
void cr_dbd_close(server_rec *s, ap_dbd_t *conn);

/* 1 when db (of server s) has exactly the schema this build serves.
 * The answer "yes" is remembered per process and server, so the check
 * costs queries only until it first succeeds.  With r, a failure is
 * logged against the request (the handler answers 503); background
 * callers pass NULL: they poll, and stay quiet. */
int cr_dbd_schema_ready(cr_db_t *db, apr_pool_t *pool, server_rec *s,
                        request_rec *r);

#endif /* CR_DBD_H */
