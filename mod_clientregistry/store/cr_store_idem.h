/* cr_store_idem: the verbs of idempotent messageId (CR-PARAM-004) over
 * table cr_idempotency (schema/006_idempotency.sql): read a sender's
 * message, claim it inside a write transaction, record its answer, and
 * purge what is past the retention.  ops/cr_idem.c decides what they
 * mean. */
#ifndef CR_STORE_IDEM_H
#define CR_STORE_IDEM_H

#include "store/cr_db.h"

/* One processed (or being processed) message. */
typedef struct cr_idem_row_t {
    const char *request_hash;
    const char *operation;
    const char *claim;         /* the claimer's token */
    const char *created;       /* FHIR instant of the claim */
    int answered;              /* status and body are set */
    int status;
    const char *body;          /* the answer as built (before the output
                                * policy), or NULL */
    const char *location;
    const char *patients;
} cr_idem_row_t;

/* *out the row of (sender, message_id), or NULL when there is none. */
apr_status_t cr_store_idem_get(cr_idem_row_t **out, cr_db_t *db,
                               apr_pool_t *pool, const char *sender,
                               const char *message_id);

/* Inside a write transaction: drop the row of (sender, message_id) when
 * it was claimed before `expired` (past the retention), then claim the
 * pair with claim token `claim`.  *claimed 1 when this transaction holds
 * it, 0 when another committed claim does (PostgreSQL: the INSERT waits
 * for a concurrent claimer's transaction to end first). */
apr_status_t cr_store_idem_claim(int *claimed, cr_db_t *db,
                                 apr_pool_t *pool, const char *sender,
                                 const char *message_id, const char *hash,
                                 const char *operation, const char *claim,
                                 const char *now, const char *expired);

/* In its own transaction: the answer of the claim `claim`, once; and,
 * when purge_before is not NULL, every row claimed before it. */
apr_status_t cr_store_idem_answer(cr_db_t *db, apr_pool_t *pool,
                                  const char *sender,
                                  const char *message_id,
                                  const char *claim, int status,
                                  const char *body, const char *location,
                                  const char *patients, const char *now,
                                  const char *purge_before);

#endif /* CR_STORE_IDEM_H */
