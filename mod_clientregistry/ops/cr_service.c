/* cr_service: shared helpers of the operations. */
#include <string.h>

#include <apr_strings.h>
#include <apr_uuid.h>

#include "core/cr_datetime.h"
#include "ops/cr_service.h"

void cr_service_ctx_init(cr_ctx_t *ctx, apr_pool_t *pool, apr_time_t now)
{
    char buf[CR_DATETIME_INSTANT_SIZE];

    ctx->pool = pool;
    ctx->now = now;
    if (cr_datetime_format_instant(buf, sizeof(buf), now) != APR_SUCCESS) {
        apr_cpystrn(buf, "1970-01-01T00:00:00.000Z", sizeof(buf));
    }
    ctx->now_instant = apr_pstrdup(pool, buf);
    ctx->today = apr_pstrndup(pool, buf, 10);
    ctx->oc = cr_outcome_make(pool);
    memset(&ctx->resp, 0, sizeof(ctx->resp));
}

const char *cr_service_uuid(apr_pool_t *pool)
{
    apr_uuid_t u;
    char *buf = apr_palloc(pool, APR_UUID_FORMATTED_LENGTH + 1);

    apr_uuid_get(&u);
    apr_uuid_format(buf, &u);
    return buf;
}

int cr_service_status_for_errors(const cr_outcome_t *oc)
{
    int i, profile = 0;

    /* A resource that fails basic validation (shape, primitive formats)
     * is a 400 whatever else is wrong with it; one that is well formed but
     * breaks profile or business rules is a 422. */
    for (i = 0; i < oc->issues->nelts; i++) {
        const cr_issue_t *is = &APR_ARRAY_IDX(oc->issues, i, cr_issue_t);
        if (is->severity < CR_SEV_ERROR) {
            continue;
        }
        if (strcmp(is->code, "code-invalid") == 0
            || strcmp(is->code, "business-rule") == 0
            || strcmp(is->code, "duplicate") == 0
            || strcmp(is->code, "not-supported") == 0) {
            profile = 1;
        }
        else {
            return 400;
        }
    }
    return profile ? 422 : 400;
}

static void trace(cr_ctx_t *ctx, int is_error, const char *msg)
{
    if (ctx->trace) {
        ctx->trace(ctx->trace_baton, is_error, msg);
    }
}

void cr_service_db_failure(cr_ctx_t *ctx, apr_status_t rv, const char *what)
{
    cr_db_t *db = ctx->db;

    if (db) {
        cr_db_rollback(db);
    }
    ctx->resp.race_lost = db && !db->is_sqlite
                          && (rv == APR_EAGAIN || rv == APR_EEXIST);
    if (rv == APR_EAGAIN) {
        ctx->resp.status = 503;
        ctx->resp.retry_after = 1;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "transient", NULL, NULL,
                       "the registry database is busy; retry shortly");
        trace(ctx, 0, apr_psprintf(ctx->pool, "%s: database busy (%s)",
                                   what, db && db->last_label
                                         ? db->last_label : "?"));
    }
    else if (rv == CR_DB_CONFLICT) {
        ctx->resp.status = 409;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "conflict", NULL, NULL,
                       "the record was changed by another request at the "
                       "same time; read it again and retry");
    }
    else if (rv == APR_EEXIST) {
        ctx->resp.status = 409;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "conflict", NULL, NULL,
                       "another request stored the same identifier at the "
                       "same time; retry");
        trace(ctx, 0, apr_psprintf(ctx->pool, "%s: uniqueness conflict on "
                                   "%s", what, db && db->last_label
                                         ? db->last_label : "?"));
    }
    else if (rv == CR_DB_EXHAUSTED) {
        ctx->resp.status = 503;
        cr_outcome_add(ctx->oc, CR_SEV_ERROR, "transient", NULL, NULL,
                       "no PHN can be assigned: the configured PHN range "
                       "is exhausted");
        trace(ctx, 1, apr_psprintf(ctx->pool, "%s: the configured PHN range "
                                   "(ClientRegistryPHNRange) is exhausted",
                                   what));
    }
    else {
        ctx->resp.status = 500;
        cr_outcome_add(ctx->oc, CR_SEV_FATAL, "exception", NULL, NULL,
                       "internal error while %s; the request was not "
                       "applied", what);
        trace(ctx, 1, apr_psprintf(ctx->pool, "%s: database error %d on %s:"
                                   " %s", what, db ? db->last_rv : 0,
                                   db && db->last_label ? db->last_label
                                                        : "?",
                                   db && db->last_error ? db->last_error
                                                        : "?"));
    }
}
