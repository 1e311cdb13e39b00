/* cr_outbound: the registry's outbound HTTP (see cr_outbound.h).
 *
 * One token per process: the cache (core/cr_oauth.h) sits behind a mutex;
 * a thread that finds it expired fetches a new one while holding the
 * mutex, so that concurrent senders wait for one fetch instead of each
 * asking the token endpoint.  A partner answering 401 gets one more try
 * with a freshly fetched token (the cached one may have been revoked).
 * The token request authenticates the registry with HTTP Basic (client id
 * and secret form-encoded, RFC 6749 2.3.1) and carries the configured
 * scope.  ClientRegistryOutboundCertificate adds the registry's own
 * certificate (and a CA file to verify partners) to every request, the
 * token request included.
 */
#include <string.h>

#include <curl/curl.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "core/cr_oauth.h"
#include "core/cr_text.h"
#include "httpd/cr_outbound.h"

#define TOKEN_TIMEOUT 10L
#define MAX_ANSWER (64 * 1024)

static apr_thread_mutex_t *token_lock = NULL;
static cr_oauth_token_t token_cache;

typedef struct answer_t {
    char *buf;
    apr_size_t len;
    apr_pool_t *pool;
} answer_t;

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    answer_t *a = ud;
    apr_size_t add = size * n;
    char *nb;

    if (a == NULL) {
        return add;   /* discarded */
    }
    if (a->len + add > MAX_ANSWER) {
        return 0;     /* too long: abort */
    }
    nb = apr_palloc(a->pool, a->len + add + 1);
    if (a->len) {
        memcpy(nb, a->buf, a->len);
    }
    memcpy(nb + a->len, ptr, add);
    a->len += add;
    nb[a->len] = '\0';
    a->buf = nb;
    return add;
}

static int abort_when_stopping(void *ud, curl_off_t dltotal,
                               curl_off_t dlnow, curl_off_t ultotal,
                               curl_off_t ulnow)
{
    volatile apr_uint32_t *stopping = ud;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return stopping != NULL && apr_atomic_read32(stopping) ? 1 : 0;
}

static void tls_options(CURL *c, const cr_outbound_conf_t *o)
{
    if (o == NULL) {
        return;
    }
    if (o->cert) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY, o->key ? o->key : o->cert);
    }
    if (o->ca) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca);
    }
}

/* The client secret: the directive's, or the first line of its file. */
static const char *client_secret(const cr_outbound_conf_t *o,
                                 apr_pool_t *pool)
{
    char *text = NULL;
    apr_file_t *f;
    apr_size_t n = 4096;

    if (o->client_secret) {
        return o->client_secret;
    }
    if (o->client_secret_file == NULL
        || apr_file_open(&f, o->client_secret_file, APR_FOPEN_READ,
                         APR_FPROT_OS_DEFAULT, pool) != APR_SUCCESS) {
        return NULL;
    }
    text = apr_pcalloc(pool, n + 1);
    apr_file_read(f, text, &n);
    apr_file_close(f);
    text[n] = '\0';
    text[strcspn(text, "\r\n")] = '\0';
    return text;
}

/* Fetch a token into token_cache; call with token_lock held.  NULL, or
 * why not. */
static const char *fetch_token(const cr_outbound_conf_t *o,
                               apr_pool_t *pool)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    answer_t a = { NULL, 0, pool };
    const char *secret = client_secret(o, pool), *why = NULL;
    const char *body = cr_oauth_request_body(pool, o->scope);
    long code = 0;
    CURLcode cc;

    memset(&token_cache, 0, sizeof(token_cache));
    if (c == NULL) {
        return "curl_easy_init failed";
    }
    if (secret == NULL) {
        curl_easy_cleanup(c);
        return "the client secret (file) cannot be read";
    }
    h = curl_slist_append(h, "Content-Type: "
                             "application/x-www-form-urlencoded");
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, o->token_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME,
                     cr_text_url_encode(pool, o->client_id));
    curl_easy_setopt(c, CURLOPT_PASSWORD, cr_text_url_encode(pool,
                                                               secret));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, TOKEN_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    tls_options(c, o);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        why = apr_pstrcat(pool, "token endpoint: ", curl_easy_strerror(cc),
                          NULL);
    }
    else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code),
             code != 200) {
        why = apr_psprintf(pool, "token endpoint: HTTP %ld", code);
    }
    else if (cr_oauth_parse_token(&token_cache, a.buf ? a.buf : "", a.len,
                                  apr_time_now(), &why) != APR_SUCCESS) {
        why = apr_pstrcat(pool, "token endpoint: ", why, NULL);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return why;
}

/* The bearer token to send (copied into pool), or NULL with *err set.
 * refresh: the partner refused the token it was given (used). */
static const char *bearer(const cr_outbound_conf_t *o, const char *used,
                          apr_pool_t *pool, const char **err)
{
    const char *tok = NULL, *why = NULL;

    apr_thread_mutex_lock(token_lock);
    if (used && strcmp(used, token_cache.value) == 0) {
        memset(&token_cache, 0, sizeof(token_cache));
    }
    if (!cr_oauth_token_usable(&token_cache, apr_time_now())) {
        why = fetch_token(o, pool);
    }
    if (why == NULL) {
        tok = apr_pstrdup(pool, token_cache.value);
    }
    apr_thread_mutex_unlock(token_lock);
    *err = why;
    return tok;
}

static long post_once(const cr_outbound_conf_t *o, const char *url,
                      const char *body, const char *tok, long timeout,
                      volatile apr_uint32_t *stopping, const char **err,
                      apr_pool_t *pool)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    long code = -1;
    CURLcode cc;

    if (c == NULL) {
        *err = "curl_easy_init failed";
        return -1;
    }
    h = curl_slist_append(h, "Content-Type: application/fhir+json");
    h = curl_slist_append(h, "Accept: application/fhir+json");
    if (tok) {
        h = curl_slist_append(h, apr_pstrcat(pool, "Authorization: Bearer ",
                                             tok, NULL));
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 5 ? timeout : 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stopping);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    tls_options(c, o);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    }
    else if (cc == CURLE_ABORTED_BY_CALLBACK) {
        *err = "interrupted: the child is stopping";
        code = CR_OUTBOUND_INTERRUPTED;
    }
    else {
        *err = apr_pstrdup(pool, curl_easy_strerror(cc));
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

long cr_outbound_post(server_rec *s, const cr_srv_conf_t *sc,
                      const char *url, const char *body, long timeout,
                      volatile apr_uint32_t *stopping, const char **err,
                      apr_pool_t *pool)
{
    const cr_outbound_conf_t *o = sc ? sc->outbound : NULL;
    const char *tok = NULL;
    long code;

    *err = NULL;
    if (o && o->token_url) {
        if (token_lock == NULL) {
            *err = "the token cache could not be set up";
            return -1;
        }
        if ((tok = bearer(o, NULL, pool, err)) == NULL) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CR_APLOGNO(00520)
                         "outbound: no token for %s: %s", url, *err);
            return -1;
        }
    }
    code = post_once(o, url, body, tok, timeout, stopping, err, pool);
    if (code == 401 && tok) {
        /* The partner refused the token: once more with a new one. */
        if ((tok = bearer(o, tok, pool, err)) == NULL) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CR_APLOGNO(00521)
                         "outbound: no new token for %s: %s", url, *err);
            return 401;
        }
        code = post_once(o, url, body, tok, timeout, stopping, err, pool);
    }
    return code;
}

void cr_outbound_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)s;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&token_cache, 0, sizeof(token_cache));
    if (apr_thread_mutex_create(&token_lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS) {
        token_lock = NULL;
    }
}

/* ---- many at once ------------------------------------------------------ */

typedef struct xfer_t {
    CURL *c;
    struct curl_slist *h;
    apr_pool_t *pool;
    const char *url, *body, *tok;
    long timeout;
    int retried;
    void *baton;
    struct xfer_t *prev, *next;   /* the multi's list of transfers */
} xfer_t;

struct cr_outbound_multi_t {
    CURLM *multi;
    apr_pool_t *pool;
    server_rec *s;
    const cr_srv_conf_t *sc;
    volatile apr_uint32_t *stopping;
    int running;
    xfer_t *list;
};

static void list_add(cr_outbound_multi_t *m, xfer_t *x)
{
    x->prev = NULL;
    x->next = m->list;
    if (m->list) {
        m->list->prev = x;
    }
    m->list = x;
    m->running++;
}

static void list_remove(cr_outbound_multi_t *m, xfer_t *x)
{
    if (x->prev) {
        x->prev->next = x->next;
    }
    else {
        m->list = x->next;
    }
    if (x->next) {
        x->next->prev = x->prev;
    }
    m->running--;
}

/* Stop transfer x and take it off the list (its pool stays). */
static void xfer_stop(cr_outbound_multi_t *m, xfer_t *x)
{
    curl_multi_remove_handle(m->multi, x->c);
    curl_easy_cleanup(x->c);
    curl_slist_free_all(x->h);
    list_remove(m, x);
}

static apr_status_t multi_cleanup(void *data)
{
    cr_outbound_multi_t *m = data;

    while (m->list) {
        xfer_stop(m, m->list);   /* the pools go with m->pool */
    }
    curl_multi_cleanup(m->multi);
    return APR_SUCCESS;
}

cr_outbound_multi_t *cr_outbound_multi_create(apr_pool_t *pool,
                                              server_rec *s,
                                              const cr_srv_conf_t *sc,
                                              volatile apr_uint32_t *stopping)
{
    cr_outbound_multi_t *m = apr_pcalloc(pool, sizeof(*m));

    m->multi = curl_multi_init();
    m->pool = pool;
    m->s = s;
    m->sc = sc;
    m->stopping = stopping;
    if (m->multi == NULL) {
        return NULL;
    }
    apr_pool_cleanup_register(pool, m, multi_cleanup,
                              apr_pool_cleanup_null);
    return m;
}

static apr_status_t xfer_start(cr_outbound_multi_t *m, xfer_t *x)
{
    const cr_outbound_conf_t *o = m->sc ? m->sc->outbound : NULL;

    x->c = curl_easy_init();
    x->h = NULL;
    if (x->c == NULL) {
        return APR_ENOMEM;
    }
    x->h = curl_slist_append(x->h, "Content-Type: application/fhir+json");
    x->h = curl_slist_append(x->h, "Accept: application/fhir+json");
    if (x->tok) {
        x->h = curl_slist_append(x->h, apr_pstrcat(x->pool, "Authorization: "
                                                   "Bearer ", x->tok, NULL));
    }
    curl_easy_setopt(x->c, CURLOPT_URL, x->url);
    curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, x->h);
    curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->c, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
    curl_easy_setopt(x->c, CURLOPT_TIMEOUT, x->timeout);
    curl_easy_setopt(x->c, CURLOPT_CONNECTTIMEOUT,
                     x->timeout < 5 ? x->timeout : 5L);
    curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(x->c, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(x->c, CURLOPT_PRIVATE, (char *)x);
    tls_options(x->c, o);
    if (curl_multi_add_handle(m->multi, x->c) != CURLM_OK) {
        curl_easy_cleanup(x->c);
        curl_slist_free_all(x->h);
        return APR_EGENERAL;
    }
    list_add(m, x);
    return APR_SUCCESS;
}

apr_status_t cr_outbound_multi_add(cr_outbound_multi_t *m, const char *url,
                                   const char *body, long timeout,
                                   void *baton, const char **err)
{
    const cr_outbound_conf_t *o = m->sc ? m->sc->outbound : NULL;
    apr_pool_t *xp;
    xfer_t *x;
    apr_status_t rv;

    *err = NULL;
    apr_pool_create(&xp, m->pool);
    x = apr_pcalloc(xp, sizeof(*x));
    x->pool = xp;
    x->url = apr_pstrdup(xp, url);
    x->body = apr_pstrdup(xp, body);
    x->timeout = timeout;
    x->baton = baton;
    if (o && o->token_url) {
        if (token_lock == NULL
            || (x->tok = bearer(o, NULL, xp, err)) == NULL) {
            *err = apr_pstrdup(m->pool, *err ? *err : "no token cache");
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, m->s,
                         CR_APLOGNO(00523) "outbound: no token for %s: %s",
                         url, *err);
            apr_pool_destroy(xp);
            return APR_EGENERAL;
        }
    }
    if ((rv = xfer_start(m, x)) != APR_SUCCESS) {
        *err = "the transfer could not start";
        apr_pool_destroy(xp);
    }
    return rv;
}

int cr_outbound_multi_running(const cr_outbound_multi_t *m)
{
    return m->running;
}

void cr_outbound_multi_run(cr_outbound_multi_t *m, int wait_ms,
                           cr_outbound_done_fn *done, void *ctx)
{
    apr_time_t until = apr_time_now() + apr_time_from_msec(wait_ms);
    const cr_outbound_conf_t *o = m->sc ? m->sc->outbound : NULL;
    int still = 0, left, finished = 0;
    CURLMsg *msg;

    do {
        if (m->stopping && apr_atomic_read32(m->stopping)) {
            return;
        }
        curl_multi_perform(m->multi, &still);
        while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
            xfer_t *x = NULL;
            long code = -1;
            const char *err = NULL;
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                              (char **)&x);
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
            }
            else {
                err = apr_pstrdup(m->pool,
                                  curl_easy_strerror(msg->data.result));
            }
            if (code == 401 && x->tok && !x->retried && o) {
                /* The partner refused the token: once more, new token. */
                const char *why = NULL, *tok;
                tok = bearer(o, x->tok, x->pool, &why);
                xfer_stop(m, x);
                x->retried = 1;
                x->tok = tok;
                if (tok && xfer_start(m, x) == APR_SUCCESS) {
                    continue;
                }
                done(ctx, x->baton, 401, why ? why : "token refused");
                apr_pool_destroy(x->pool);
                continue;
            }
            xfer_stop(m, x);
            done(ctx, x->baton, code, err);
            apr_pool_destroy(x->pool);
            finished++;
        }
        if (m->running == 0 || finished) {
            return;   /* room for more: the caller claims again */
        }
        {
            apr_interval_time_t rest = until - apr_time_now();
            int ms = rest > 0 ? (int)(rest / 1000) : 0;
            int fds = 0;
            if (ms > 50) {
                ms = 50;   /* look at stopping now and then */
            }
            curl_multi_wait(m->multi, NULL, 0, ms, &fds);
        }
    } while (apr_time_now() < until);
    curl_multi_perform(m->multi, &still);
}
