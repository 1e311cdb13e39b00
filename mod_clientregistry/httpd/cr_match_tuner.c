/* cr_match_tuner: the matcher tunes itself (docs/matching.md).
 *
 * One thread per child wakes every ClientRegistryMatchTuning interval
 * (default 60 s) and compares the number of active patients with the
 * number the current parameters were fitted on.  When at least the
 * configured number of records (default 1000) was added since (or there
 * was no fit yet and the registry holds that many), it claims the next
 * fit in the database (cr_match_tune: an UPDATE that one thread of all
 * children and servers on the database can win, for at most
 * CLAIM_SECONDS), and runs cr_ops_match_fit: the reading is done without
 * a transaction, the saving in one short write transaction, so requests
 * never wait for a fit, and the next $match uses the new parameters.
 * Every fit is kept with its date; cr-admin fits / fit-use list them and
 * return to an earlier one.  A stopping child abandons a fit under way
 * (the fit asks the tuner's stop flag between records, EM rounds and
 * pages) and saves nothing, so a graceful stop never waits for a fit.
 */
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "core/cr_datetime.h"
#include "ops/cr_ops_match_tune.h"
#include "store/cr_store_match.h"
#include "store/cr_store_match_tune.h"
#include "httpd/cr_config.h"
#include "httpd/cr_dbd.h"
#include "httpd/cr_match_tuner.h"

/* How long a claim holds (a fit that takes longer than this may be
 * started a second time by another child: harmless, the later one
 * wins). */
#define CLAIM_SECONDS 1800
/* Sleep steps, so that a stopping child is noticed quickly. */
#define STEP apr_time_from_msec(250)

typedef struct tuner_t {
    server_rec *s;
    apr_thread_t *thread;
    int records;                 /* new records that start a re-fit */
    int interval;                /* seconds between looks */
    volatile apr_uint32_t stopping;
} tuner_t;

static tuner_t *tuner = NULL;

static const char *instant(apr_pool_t *pool, apr_time_t t)
{
    char buf[CR_DATETIME_INSTANT_SIZE];

    if (cr_datetime_format_instant(buf, sizeof(buf), t) != APR_SUCCESS) {
        return "1970-01-01T00:00:00.000Z";
    }
    return apr_pstrdup(pool, buf);
}

/* Whether the registry grew enough since the current parameters were
 * fitted. */
static int due(tuner_t *t, cr_db_t *db, apr_pool_t *pool)
{
    cr_store_match_estimate_t est;
    cr_match_params_t p;
    long n = 0;

    if (cr_store_match_params_load(&p, &est, db, pool) != APR_SUCCESS
        || cr_store_match_tune_records(&n, db, pool) != APR_SUCCESS) {
        return 0;
    }
    return n >= CR_OPS_MATCH_FIT_MIN_RECORDS
           && n - (est.estimated ? est.records : 0) >= t->records;
}

/* The fit's cancel callback: the child is stopping. */
static int stopping(void *baton)
{
    tuner_t *t = baton;

    return apr_atomic_read32(&t->stopping) != 0;
}

static void tick(tuner_t *t, apr_pool_t *pool)
{
    server_rec *s = t->s;
    cr_ops_match_fit_t fit;
    cr_match_cancel_t cancel;
    ap_dbd_t *dbd;
    cr_db_t *db;
    apr_time_t now = apr_time_now(), t0;
    apr_status_t rv;
    int won = 0;

    if ((db = cr_dbd_open(&dbd, pool, s)) == NULL) {
        return;
    }
    if (!cr_dbd_schema_ready(db, pool, s, NULL) || !due(t, db, pool)) {
        cr_dbd_close(s, dbd);
        return;
    }
    rv = cr_store_match_tune_claim(
        &won, db, pool, instant(pool, now + apr_time_from_sec(CLAIM_SECONDS)),
        instant(pool, now));
    /* Another child may have fitted between the look and the claim. */
    if (rv != APR_SUCCESS || !won || !due(t, db, pool)) {
        if (won) {
            cr_store_match_tune_release(db, pool);
        }
        cr_dbd_close(s, dbd);
        return;
    }
    t0 = apr_time_now();
    cancel.fn = stopping;
    cancel.baton = t;
    rv = cr_ops_match_fit(&fit, db, pool, CR_OPS_MATCH_FIT_SAMPLE, "auto",
                          instant(pool, t0), &cancel);
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00100)
                     "match tuning: fit %" APR_INT64_T_FMT " from %ld "
                     "records, %ld candidate pairs, %d EM rounds%s%s, "
                     "%ld value counts, in %.1f s", fit.fit_id, fit.records,
                     fit.pairs, fit.iterations,
                     fit.converged ? "" : " (not converged)",
                     fit.m_fixed ? ", m kept (no match class)" : "",
                     fit.tf_values, (apr_time_now() - t0) / 1e6);
    }
    else if (rv == CR_MATCH_CANCELLED) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, CR_APLOGNO(00121)
                     "match tuning: the child is stopping; the fit under "
                     "way was abandoned after %.1f s and not saved",
                     (apr_time_now() - t0) / 1e6);
    }
    else if (rv != CR_OPS_MATCH_FIT_TOO_FEW) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, CR_APLOGNO(00101)
                     "match tuning: the fit failed (%s); the current "
                     "parameters stay", db->last_error ? db->last_error
                                                       : "store error");
    }
    cr_store_match_tune_release(db, pool);
    cr_dbd_close(s, dbd);
}

static void *APR_THREAD_FUNC run(apr_thread_t *th, void *data)
{
    tuner_t *t = data;
    apr_pool_t *scratch;
    apr_time_t next = apr_time_now() + apr_time_from_sec(t->interval);

    apr_pool_create(&scratch, apr_thread_pool_get(th));
    while (!apr_atomic_read32(&t->stopping)) {
        if (apr_time_now() >= next) {
            apr_pool_clear(scratch);
            tick(t, scratch);
            next = apr_time_now() + apr_time_from_sec(t->interval);
        }
        apr_sleep(STEP);
    }
    apr_pool_destroy(scratch);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static apr_status_t stop(void *data)
{
    tuner_t *t = data;
    apr_status_t trv;

    apr_atomic_set32(&t->stopping, 1);
    if (t->thread) {
        apr_thread_join(&trv, t->thread);
    }
    return APR_SUCCESS;
}

void cr_match_tuner_child_stopping(apr_pool_t *pchild, int graceful)
{
    (void)pchild;
    (void)graceful;
    if (tuner != NULL) {
        apr_atomic_set32(&tuner->stopping, 1);
    }
}

void cr_match_tuner_child_init(apr_pool_t *pchild, server_rec *s)
{
    const cr_srv_conf_t *sc = ap_get_module_config(s->module_config,
                                                   &clientregistry_module);
    apr_threadattr_t *attr;
    apr_status_t rv;
    int on, records, interval;

    if (sc == NULL) {
        return;
    }
    cr_config_match_tuning(&on, &records, &interval, sc);
    if (!on) {
        return;
    }
    tuner = apr_pcalloc(pchild, sizeof(*tuner));
    tuner->s = s;
    tuner->records = records;
    tuner->interval = interval;
    apr_threadattr_create(&attr, pchild);
    rv = apr_thread_create(&tuner->thread, attr, run, tuner, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CR_APLOGNO(00102)
                     "match tuning: cannot start the tuner thread");
        tuner->thread = NULL;
        return;
    }
    /* Joined before pchild destroys mod_dbd's connection pool (as the
     * async worker, cr_async_worker.c). */
    apr_pool_pre_cleanup_register(pchild, tuner, stop);
}
