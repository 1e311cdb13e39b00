/* cr_hashchain: SHA-256 chaining of audit records (OpenSSL EVP). */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "core/cr_hashchain.h"

static void put(EVP_MD_CTX *md, const char *s)
{
    char len[24];

    if (s == NULL) {
        EVP_DigestUpdate(md, "-;", 2);
        return;
    }
    snprintf(len, sizeof(len), "%lu:", (unsigned long)strlen(s));
    EVP_DigestUpdate(md, len, strlen(len));
    EVP_DigestUpdate(md, s, strlen(s));
    EVP_DigestUpdate(md, ";", 1);
}

apr_status_t cr_hashchain_compute(char out[CR_HASH_HEX_LEN + 1],
                                  const cr_audit_rec_t *rec,
                                  const char *prev_hash)
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char num[24];
    int ok;

    out[0] = '\0';
    if (md == NULL) {
        return APR_ENOMEM;
    }
    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    if (ok) {
        put(md, prev_hash);
        snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, rec->seq);
        put(md, num);
        if (rec->chain != 0) {
            snprintf(num, sizeof(num), "%d", rec->chain);
            put(md, num);
            snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, rec->chain_seq);
            put(md, num);
        }
        put(md, rec->recorded);
        put(md, rec->action);
        put(md, rec->operation);
        put(md, rec->method);
        put(md, rec->path);
        put(md, rec->query);
        snprintf(num, sizeof(num), "%d", rec->status);
        put(md, num);
        put(md, rec->client_dn);
        put(md, rec->org_id);
        put(md, rec->source_system);
        put(md, rec->user_id);
        put(md, rec->remote_addr);
        put(md, rec->message_id);
        put(md, rec->patients);
        ok = EVP_DigestFinal_ex(md, dig, &n);
    }
    EVP_MD_CTX_free(md);
    if (!ok || n != CR_HASH_HEX_LEN / 2) {
        return APR_EGENERAL;
    }
    for (i = 0; i < n; i++) {
        out[2 * i] = hex[dig[i] >> 4];
        out[2 * i + 1] = hex[dig[i] & 15];
    }
    out[2 * n] = '\0';
    return APR_SUCCESS;
}

static const char *sdup(apr_pool_t *p, const char *s)
{
    return s ? apr_pstrdup(p, s) : NULL;
}

cr_audit_rec_t *cr_hashchain_copy(apr_pool_t *pool,
                                  const cr_audit_rec_t *rec)
{
    cr_audit_rec_t *c = apr_palloc(pool, sizeof(*c));

    *c = *rec;
    c->recorded = sdup(pool, rec->recorded);
    c->action = sdup(pool, rec->action);
    c->operation = sdup(pool, rec->operation);
    c->method = sdup(pool, rec->method);
    c->path = sdup(pool, rec->path);
    c->query = sdup(pool, rec->query);
    c->client_dn = sdup(pool, rec->client_dn);
    c->org_id = sdup(pool, rec->org_id);
    c->source_system = sdup(pool, rec->source_system);
    c->user_id = sdup(pool, rec->user_id);
    c->remote_addr = sdup(pool, rec->remote_addr);
    c->message_id = sdup(pool, rec->message_id);
    c->patients = sdup(pool, rec->patients);
    c->prev_hash = sdup(pool, rec->prev_hash);
    c->hash = sdup(pool, rec->hash);
    return c;
}
