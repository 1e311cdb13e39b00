/* cr_hashchain: the audit trail's record and its SHA-256 chain.
 *
 * Each record's hash covers the previous record's hash and every field of
 * the record, each field encoded as "<length>:<bytes>;" (a missing field
 * as "-;"), so no two different records serialise alike.
 *
 * The trail is one or more chains (schema/013_audit_chains.sql): chain 0
 * is the single writer's (SQLite, and every record written before 013),
 * chains 1 and up are PostgreSQL's parallel appenders'.  A record of a
 * chain other than 0 also hashes its chain and its position in it, so a
 * record moved to another chain or another place breaks; chain 0's
 * records hash as they always did, so existing trails still verify. */
#ifndef CR_HASHCHAIN_H
#define CR_HASHCHAIN_H

#include <apr.h>
#include <apr_pools.h>

#define CR_HASH_HEX_LEN 64
#define CR_HASH_GENESIS \
    "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct cr_audit_rec_t {
    apr_int64_t seq;
    const char *recorded;       /* FHIR instant */
    const char *action;         /* C R U D E */
    const char *operation;      /* read, search-type, create, $Name, ... */
    const char *method;
    const char *path;
    const char *query;
    int status;
    const char *client_dn;
    const char *org_id;
    const char *source_system;
    const char *user_id;
    const char *remote_addr;
    const char *message_id;
    const char *patients;       /* space-separated patient ids */
    const char *prev_hash;
    const char *hash;
    int chain;                  /* 0: the single writer's chain */
    apr_int64_t chain_seq;      /* position in the chain, from 1 */
} cr_audit_rec_t;

/* SHA-256 (hex, lower case) of prev_hash and the fields of rec (its own
 * prev_hash/hash fields are ignored).  APR_EGENERAL if OpenSSL fails. */
apr_status_t cr_hashchain_compute(char out[CR_HASH_HEX_LEN + 1],
                                  const cr_audit_rec_t *rec,
                                  const char *prev_hash);

/* Copy rec with every string into pool (for queues). */
cr_audit_rec_t *cr_hashchain_copy(apr_pool_t *pool,
                                  const cr_audit_rec_t *rec);

#endif /* CR_HASHCHAIN_H */
