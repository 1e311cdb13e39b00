/* cr_idem: idempotent messageId (see the header).
 *
 * The claim is a row of cr_idempotency inserted first thing inside the
 * operation's write transaction, so the row commits exactly when the
 * work does and a rolled-back request leaves no claim behind.  Its
 * primary key (sender, message_id) makes a concurrent second claim a
 * no-op: on SQLite the second request only gets the write lock after
 * the first committed; on PostgreSQL (any number of httpd nodes) its
 * INSERT ... ON CONFLICT DO NOTHING waits for the first transaction and
 * then inserts nothing.  The loser rolls back and waits, outside any
 * transaction, for the answer the winner stores right after building
 * it (cr_idem_record).  The answer's location column keeps its Location,
 * or for a 202 its Content-Location (the job's status URL).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <openssl/evp.h>

#include "core/cr_datetime.h"
#include "ops/cr_idem.h"
#include "store/cr_store_idem.h"

/* How long a repeat waits for the first request's answer, polling. */
#define IDEM_WAIT_STEP apr_time_from_msec(25)
#define IDEM_WAIT_MAX apr_time_from_sec(20)
/* A claim this old without an answer will not get one (the server
 * stopped between the commit and storing the answer). */
#define IDEM_STALE apr_time_from_sec(120)
/* Each process purges expired answers at most this often. */
#define IDEM_PURGE_EVERY apr_time_from_sec(60)
/* Nesting beyond the JSON parser's own limit is refused by it; this
 * bounds the walk anyway. */
#define IDEM_MAX_DEPTH 64

struct cr_idem_claim_t {
    const char *sender;
    const char *message_id;
    const char *claim;
};

static apr_time_t last_purge;

static const char *instant(apr_pool_t *pool, apr_time_t t)
{
    char buf[CR_DATETIME_INSTANT_SIZE];

    if (cr_datetime_format_instant(buf, sizeof(buf), t) != APR_SUCCESS) {
        return "0001-01-01T00:00:00.000Z";
    }
    return apr_pstrdup(pool, buf);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void put(EVP_MD_CTX *md, const char *s, size_t n)
{
    char len[24];
    int k = apr_snprintf(len, sizeof(len), "%" APR_SIZE_T_FMT ":",
                         (apr_size_t)n);

    EVP_DigestUpdate(md, len, (size_t)k);
    EVP_DigestUpdate(md, s, n);
}

/* The canonical form of o: object members in key order, strings and
 * keys length-prefixed, so equal JSON documents hash equal whatever the
 * member order and white space of their text. */
static void digest_json(EVP_MD_CTX *md, apr_pool_t *pool, json_object *o,
                        int depth)
{
    int i, n;

    if (depth > IDEM_MAX_DEPTH) {
        EVP_DigestUpdate(md, "!", 1);
        return;
    }
    switch (json_object_get_type(o)) {
    case json_type_object: {
        const char **keys;
        n = json_object_object_length(o);
        keys = apr_palloc(pool, sizeof(*keys) * (size_t)(n > 0 ? n : 1));
        i = 0;
        {
            json_object_object_foreach(o, k, v) {
                (void)v;
                if (i < n) {
                    keys[i++] = k;
                }
            }
        }
        qsort(keys, (size_t)i, sizeof(*keys), cmp_key);
        EVP_DigestUpdate(md, "{", 1);
        for (n = i, i = 0; i < n; i++) {
            json_object *v = NULL;
            json_object_object_get_ex(o, keys[i], &v);
            put(md, keys[i], strlen(keys[i]));
            digest_json(md, pool, v, depth + 1);
        }
        EVP_DigestUpdate(md, "}", 1);
        break;
    }
    case json_type_array:
        n = (int)json_object_array_length(o);
        EVP_DigestUpdate(md, "[", 1);
        for (i = 0; i < n; i++) {
            digest_json(md, pool, json_object_array_get_idx(o, (size_t)i),
                        depth + 1);
        }
        EVP_DigestUpdate(md, "]", 1);
        break;
    case json_type_string:
        EVP_DigestUpdate(md, "s", 1);
        put(md, json_object_get_string(o),
            (size_t)json_object_get_string_len(o));
        break;
    case json_type_null:
        EVP_DigestUpdate(md, "n", 1);
        break;
    default: {
        /* Booleans and numbers as json-c writes them. */
        const char *t = json_object_to_json_string_ext(
            o, JSON_C_TO_STRING_PLAIN);
        EVP_DigestUpdate(md, "v", 1);
        put(md, t, strlen(t));
        break;
    }
    }
}

/* SHA-256 (hex) of what makes two requests the same request. */
static const char *request_hash(cr_bcop_t *f, json_object *body)
{
    cr_ctx_t *ctx = f->ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0, i;
    char *hex;
    const char *im = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT,
                                  ctx->if_match > 0 ? ctx->if_match : 0);

    if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    put(md, f->op ? f->op : "", f->op ? strlen(f->op) : 0);
    put(md, im, strlen(im));
    put(md, f->meta.enterer ? f->meta.enterer : "",
        f->meta.enterer ? strlen(f->meta.enterer) : 0);
    digest_json(md, ctx->pool, body, 0);
    EVP_DigestFinal_ex(md, d, &dn);
    EVP_MD_CTX_free(md);
    hex = apr_palloc(ctx->pool, dn * 2 + 1);
    for (i = 0; i < dn; i++) {
        apr_snprintf(hex + i * 2, 3, "%02x", d[i]);
    }
    hex[dn * 2] = '\0';
    return hex;
}

/* Whose message this is: the authenticated organisation; without one,
 * the sender the request names, in a namespace of its own, so that an
 * unauthenticated request never reaches an authenticated sender's
 * answers. */
static const char *sender_key(cr_bcop_t *f)
{
    const cr_ctx_t *ctx = f->ctx;

    if (ctx->caller && ctx->caller->org_id) {
        return apr_pstrcat(ctx->pool, "org:", ctx->caller->org_id, NULL);
    }
    return apr_pstrcat(ctx->pool, "claimed:",
                       f->meta.sender ? f->meta.sender : "", NULL);
}

/* The stored answer, as the first request got it; the output policy is
 * applied where it leaves, for the caller replaying. */
static void replay(cr_bcop_t *f, const cr_idem_row_t *row)
{
    cr_ctx_t *ctx = f->ctx;
    json_object *doc = NULL;

    if (row->body == NULL
        || cr_json_parse(&doc, ctx->pool, row->body, strlen(row->body),
                         NULL, NULL) != APR_SUCCESS) {
        doc = NULL;
    }
    memset(&ctx->resp, 0, sizeof(ctx->resp));
    ctx->resp.status = row->status;
    ctx->resp.body = doc;
    ctx->resp.body_on_error = 1;
    /* The location kept is the Location, or a 202's Content-Location
     * (the job's status URL; an acknowledgement has no Location). */
    if (row->status == 202) {
        ctx->resp.content_location = row->location;
    }
    else {
        ctx->resp.location = row->location;
    }
    ctx->resp.patients = row->patients;
    if (ctx->trace) {
        ctx->trace(ctx->trace_baton, 0, apr_psprintf(
            ctx->pool, "messageId %s (%s) already processed: its "
            "answer (%d) sent again", f->in->message_id,
            row->operation, row->status));
    }
}

#define MESSAGE_ID_EXPR \
    "Bundle.entry[0].resource.parameter.where(name = 'messageId')"

/* Where the request carries its messageId: the BC Bundle's Parameters,
 * a plain Parameters (the G2 $PartialRevisePatient), or no body element
 * at all ($merge: the Request-Id header, named in the text). */
static const char *message_id_expr(const cr_bcop_t *f)
{
    if (f->in->bundle) {
        return MESSAGE_ID_EXPR;
    }
    return f->in->parameters
           ? "Parameters.parameter.where(name = 'messageId')" : NULL;
}

/* (sender, message_id) is taken: refuse a different request, replay the
 * answer, or wait for it while the first request finishes. */
static void answer_taken(cr_bcop_t *f, const char *sender,
                         const char *hash, cr_idem_row_t *row)
{
    cr_ctx_t *ctx = f->ctx;
    apr_time_t start = apr_time_now();
    apr_status_t rv;

    for (;;) {
        if (row == NULL) {
            rv = cr_store_idem_get(&row, ctx->db, ctx->pool, sender,
                                   f->in->message_id);
            if (rv != APR_SUCCESS) {
                cr_bcop_db_fail(f, rv, "reading a processed messageId");
                return;
            }
        }
        if (row && hash && strcmp(row->request_hash, hash) != 0) {
            cr_bc_add(ctx->oc, f->txn, CR_BC_MSG_REUSED, message_id_expr(f),
                      message_id_expr(f) ? NULL : "Request-Id %s",
                      f->in->message_id);
            cr_bcop_finish(f, 422);
            return;
        }
        if (row && row->answered) {
            replay(f, row);
            return;
        }
        if (apr_time_now() - start > IDEM_WAIT_MAX
            || (row && strcmp(row->created, instant(
                    ctx->pool, apr_time_now() - IDEM_STALE)) < 0)) {
            cr_bc_add(ctx->oc, f->txn, CR_BC_MSG_PENDING, message_id_expr(f),
                      row && strcmp(row->created, instant(
                          ctx->pool, apr_time_now() - IDEM_STALE)) < 0
                      ? "processed at %s; the answer was not kept"
                      : "in progress since %s", row ? row->created : "?");
            cr_bcop_finish(f, 409);
            return;
        }
        row = NULL;
        apr_sleep(IDEM_WAIT_STEP);
    }
}

int cr_idem_begin(cr_bcop_t *f, json_object *body)
{
    cr_ctx_t *ctx = f->ctx;
    const char *sender, *hash, *expired;
    cr_idem_row_t *row = NULL;
    apr_status_t rv;
    int claimed = 0;

    if (ctx->check_only) {
        return 0;   /* every check before the transaction passed */
    }
    if (!ctx->idem || ctx->settings->idem_retention <= 0 || f->in == NULL
        || f->in->message_id == NULL) {
        rv = cr_db_begin(ctx->db, ctx->pool);
        if (rv != APR_SUCCESS) {
            cr_bcop_db_fail(f, rv, "starting the transaction");
            return 0;
        }
        return 1;
    }
    sender = sender_key(f);
    hash = request_hash(f, body);
    if (hash == NULL) {
        cr_bcop_db_fail(f, APR_ENOMEM, "hashing the request");
        return 0;
    }
    expired = instant(ctx->pool, ctx->now
                      - apr_time_from_sec(ctx->settings->idem_retention));
    /* A repeat of an answered request needs no write lock. */
    rv = cr_store_idem_get(&row, ctx->db, ctx->pool, sender,
                           f->in->message_id);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(f, rv, "reading a processed messageId");
        return 0;
    }
    if (row && strcmp(row->created, expired) >= 0) {
        answer_taken(f, sender, hash, row);
        return 0;
    }
    rv = cr_db_begin(ctx->db, ctx->pool);
    if (rv == APR_SUCCESS) {
        struct cr_idem_claim_t *c = apr_pcalloc(ctx->pool, sizeof(*c));
        c->sender = sender;
        c->message_id = f->in->message_id;
        c->claim = cr_service_uuid(ctx->pool);
        rv = cr_store_idem_claim(&claimed, ctx->db, ctx->pool, sender,
                                 c->message_id, hash, f->op ? f->op : "",
                                 c->claim, ctx->now_instant, expired);
        if (rv == APR_SUCCESS && claimed) {
            ctx->idem_claim = c;
            return 1;
        }
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(f, rv, "claiming the messageId");
        return 0;
    }
    /* Another request claimed it first and has committed. */
    cr_db_rollback(ctx->db);
    answer_taken(f, sender, hash, NULL);
    return 0;
}

void cr_idem_record(cr_ctx_t *ctx)
{
    struct cr_idem_claim_t *c = ctx->idem_claim;
    apr_time_t now = apr_time_now();
    const char *body, *purge = NULL;
    apr_status_t rv;

    if (c == NULL) {
        return;
    }
    ctx->idem_claim = NULL;
    body = ctx->resp.body ? cr_json_serialize(ctx->pool, ctx->resp.body,
                                              NULL)
                          : ctx->resp.raw_body;
    if (now - last_purge > IDEM_PURGE_EVERY) {
        last_purge = now;
        purge = instant(ctx->pool, now - apr_time_from_sec(
            ctx->settings->idem_retention));
    }
    /* A claim rolled back with its transaction matches no row. */
    rv = cr_store_idem_answer(ctx->db, ctx->pool, c->sender, c->message_id,
                              c->claim, ctx->resp.status ? ctx->resp.status
                              : 500, body, ctx->resp.status == 202
                              ? ctx->resp.content_location
                              : ctx->resp.location,
                              ctx->resp.patients, instant(ctx->pool, now),
                              purge);
    if (rv != APR_SUCCESS && ctx->trace) {
        ctx->trace(ctx->trace_baton, 1, apr_psprintf(
            ctx->pool, "storing the answer of messageId %s failed: a "
            "repeat will be refused with 409", c->message_id));
    }
}
