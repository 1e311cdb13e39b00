/* cr_hashchain: the audit trail's record and its SHA-256 chain.
 *
 * Each record's hash covers the previous record's hash and every field of
 * the record, each field encoded as "<length>:<bytes>;" (a missing field
 * as "-;"), so no two different records serialise alike. */
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
