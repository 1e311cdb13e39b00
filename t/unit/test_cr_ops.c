/*
 * test_cr_ops.c: the BC maintenance operations ($AddPatient,
 * $RevisePatient, $MergePatient, $UnmergePatient) and the audit chain
 * they extend, against a temporary SQLite database, without httpd.
 *
 * The operations are driven the way the request handler and the
 * asynchronous worker drive them: looked up by name in the operation
 * table (cr_ops_find), given a cr_ctx_t with the settings, the caller, a
 * store connection and the parsed request Bundle, and run.  The tests then
 * check what a client sees (HTTP status, the OperationOutcome's issues
 * with their BCHCIM detail codes, the Patient returned) and what was
 * stored (patient rows and versions, PHN, identifiers, source records,
 * merge events, audit rows), read back through store verbs or plain SQL.
 * Nothing here names a function behind the table, so the operations can
 * move between files freely.
 *
 * Each test gets a fresh database in its own mkdtemp directory with every
 * migration of schema/ applied as cr-admin applies them and the whole
 * statement catalogue prepared.  Request bodies are the IG's example
 * Bundles (t/data/ig) where they fit and small Bundles of the shape the
 * server tests send (t/lib/CR/BC.pm bc_request) otherwise.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "core/cr_hashchain.h"
#include "core/cr_json.h"
#include "core/cr_outcome.h"
#include "core/cr_phn.h"
#include "fhir/cr_fhir_patient.h"
#include "ops/cr_audit.h"
#include "ops/cr_ops.h"
#include "ops/cr_service.h"
#include "store/cr_db.h"
#include "store/cr_store.h"
#include "store/cr_store_audit.h"

#define IG_DIR CR_TOP_SRCDIR "/t/data/ig"

#define USER "ig.samples@cgi.com"
#define FHA "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-fha-mt-" \
            "source-patient-id"
#define BP_EXT "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/" \
               "bc-business-period-extension"
#define ORG_SYS "http://hlth.gov.bc.ca/fhir/client/bc-org"

/* What the operations need beside the database (t/unit/cr_test_db.h). */
#define CR_TEST_DB_DIR "/tmp/cr-ops-XXXXXX"
#define CR_TEST_DB_EXTRA \
    cr_settings_t settings; \
    cr_caller_t caller;     /* a UserId header, no client certificate */ \
    int seq;                /* request counter (message ids) */ \
    const char *traces;     /* what the operations traced */
#define CR_TEST_DB_INIT(fx) init_fixture(fx)
struct fixture_t;
static void init_fixture(struct fixture_t *fx);
#include "cr_test_db.h"

/* ---- the database ------------------------------------------------------- */

static char *slurp(apr_pool_t *pool, const char *path)
{
    apr_file_t *f;
    apr_finfo_t info;
    apr_size_t len;
    char *text;

    if (apr_file_open(&f, path, APR_READ, 0, pool) != APR_SUCCESS) {
        fail_msg("cannot open %s", path);
    }
    apr_file_info_get(&info, APR_FINFO_SIZE, f);
    len = (apr_size_t)info.size;
    text = apr_palloc(pool, len + 1);
    apr_file_read_full(f, text, len, &len);
    text[len] = '\0';
    apr_file_close(f);
    return text;
}

static void trace_cb(void *baton, int is_error, const char *msg)
{
    fixture_t *fx = baton;

    fx->traces = apr_pstrcat(fx->pool, fx->traces, is_error ? "error: "
                             : "note: ", msg, "\n", NULL);
}

/* After cr_test_db.h's setup: the settings, the caller and the trace. */
static void init_fixture(struct fixture_t *fx)
{
    /* The defaults cr_config_settings applies when nothing is
     * configured. */
    fx->settings.base_url = "https://registry.example/fhir";
    fx->settings.json.max_depth = 32;
    fx->settings.json.max_string = 65536;
    fx->settings.json.max_array = 1000;
    fx->settings.fhir = cr_fhir_default_limits;
    fx->settings.search.max_params = 20;
    fx->settings.search.max_values = 10;
    fx->settings.search.default_count = 20;
    fx->settings.search.max_count = 100;
    fx->settings.search.max_candidates = 1000;
    fx->settings.phn_range.first = 0;
    fx->settings.phn_range.last = APR_INT64_C(99999999);
    fx->settings.match.certain = CR_MATCH_DEFAULT_CERTAIN;
    fx->settings.match.probable = CR_MATCH_DEFAULT_PROBABLE;
    fx->settings.match.possible = CR_MATCH_DEFAULT_POSSIBLE;
    fx->caller.user_id = USER;
    fx->traces = "";
}

static void sql(fixture_t *fx, const char *text)
{
    int nrows = 0, rv = apr_dbd_query(g_driver, fx->handle, &nrows, text);

    if (rv != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, rv));
    }
}

/* The rows of a query outside the catalogue (checks only): columns
 * joined by '|', rows by '\n', NULL as "NULL". */
static const char *rows(fixture_t *fx, const char *text)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *out = NULL;
    int rv, c, ncols;

    rv = apr_dbd_select(g_driver, fx->pool, fx->handle, &res, text, 0);
    if (rv != 0) {
        fail_msg("%s: %s", text, apr_dbd_error(g_driver, fx->handle, rv));
    }
    ncols = apr_dbd_num_cols(g_driver, res);
    while (apr_dbd_get_row(g_driver, fx->pool, res, &row, -1) == 0) {
        const char *line = "";
        for (c = 0; c < ncols; c++) {
            const char *e = apr_dbd_get_entry(g_driver, row, c);
            line = apr_pstrcat(fx->pool, line, c ? "|" : "", e ? e : "NULL",
                               NULL);
        }
        out = out ? apr_pstrcat(fx->pool, out, "\n", line, NULL) : line;
    }
    return out ? out : "";
}

#define Q(fx, ...) rows(fx, apr_psprintf((fx)->pool, __VA_ARGS__))

/* Every row of every table: what "nothing was written" compares. */
static const char *dump(fixture_t *fx)
{
    const char *tables = rows(fx, "SELECT name FROM sqlite_master WHERE "
                                  "type = 'table' ORDER BY name");
    char *list = apr_pstrdup(fx->pool, tables), *st = NULL, *t;
    const char *out = "";

    for (t = apr_strtok(list, "\n", &st); t; t = apr_strtok(NULL, "\n",
                                                             &st)) {
        out = apr_pstrcat(fx->pool, out, "== ", t, "\n",
                          Q(fx, "SELECT * FROM %s ORDER BY rowid", t), "\n",
                          NULL);
    }
    return out;
}

/* ---- requests ----------------------------------------------------------- */

static json_object *json_of(fixture_t *fx, const char *text)
{
    json_object *o = NULL;

    if (cr_json_parse(&o, fx->pool, text, strlen(text), NULL, NULL)
        != APR_SUCCESS) {
        fail_msg("bad test JSON: %s", text);
    }
    return o;
}

/* A BC request Bundle (bc_request of t/lib/CR/BC.pm): the Parameters
 * with a messageId and the extra parameters, then the resources. */
static json_object *bundle(fixture_t *fx, const char *params,
                           const char *patient)
{
    int n = ++fx->seq;

    return json_of(fx, apr_psprintf(fx->pool,
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-%012d\","
        "\"resource\":{\"resourceType\":\"Parameters\",\"parameter\":["
        "{\"name\":\"messageId\",\"valueString\":\"req-%d\"}%s%s]}},"
        "{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-%012d\","
        "\"resource\":%s}]}", 2 * n, n, params ? "," : "",
        params ? params : "", 2 * n + 1, patient));
}

/* An IG example request Bundle from t/data/ig. */
static json_object *ig_bundle(fixture_t *fx, const char *name)
{
    return json_of(fx, slurp(fx->pool, apr_pstrcat(fx->pool, IG_DIR, "/",
                                                   name, NULL)));
}

static json_object *entry_resource(json_object *b, int i)
{
    return cr_json_get_object(json_object_array_get_idx(
        cr_json_get_array(b, "entry"), i), "resource");
}

/* Add the sender parameter to an IG request, as t/ig/maintain_add.t
 * does. */
static void add_sender(json_object *b, const char *org)
{
    json_object *p = cr_json_array_add_object(cr_json_get_array(
        entry_resource(b, 0), "parameter"));

    cr_json_set_string(p, "name", "sender");
    p = cr_json_set_new_object(p, "valueIdentifier");
    cr_json_set_string(p, "system", ORG_SYS);
    cr_json_set_string(p, "value", org);
}

/* Run operation name on body as the handler does; caller NULL: no
 * UserId.  if_match: the If-Match version, -1 when absent. */
static cr_ctx_t *run_as(fixture_t *fx, const char *name, json_object *body,
                        const cr_caller_t *caller, apr_int64_t if_match)
{
    const cr_op_t *op = cr_ops_find(name);
    cr_ctx_t *ctx = apr_pcalloc(fx->pool, sizeof(*ctx));
    cr_reqinfo_t *req = apr_pcalloc(fx->pool, sizeof(*req));
    static const cr_caller_t nobody = { NULL, NULL, NULL, NULL };

    if (op == NULL) {
        fail_msg("no operation %s in the table", name);
    }
    req->method = "POST";
    req->path = apr_pstrcat(fx->pool, "/fhir/Patient/$", name, NULL);
    req->remote_addr = "192.0.2.1";
    cr_service_ctx_init(ctx, fx->pool, apr_time_now());
    ctx->db = fx->db;
    ctx->settings = &fx->settings;
    ctx->caller = caller ? caller : &nobody;
    ctx->message_id = apr_psprintf(fx->pool, "msg-%d", ++fx->seq);
    ctx->req = req;
    ctx->if_match = if_match;
    ctx->trace = trace_cb;
    ctx->trace_baton = fx;
    op->run(ctx, body);
    /* Every path, answered or failed, ends its transaction. */
    assert_null(fx->db->txn);
    return ctx;
}

static cr_ctx_t *run(fixture_t *fx, const char *name, json_object *body)
{
    return run_as(fx, name, body, &fx->caller, -1);
}

/* The resource of the response Bundle's entry of type rt, or NULL. */
static json_object *response_entry(const cr_ctx_t *ctx, const char *rt)
{
    json_object *entries = cr_json_get_array(ctx->resp.body, "entry");
    size_t i, n = entries ? json_object_array_length(entries) : 0;

    for (i = 0; i < n; i++) {
        json_object *r = entry_resource(ctx->resp.body, (int)i);
        const char *t = cr_json_get_string(r, "resourceType");
        if (t && strcmp(t, rt) == 0) {
            return r;
        }
    }
    return NULL;
}

/* The response's issues as "severity code detail@expression", '; '
 * between them (issues_of of t/lib/CR/BC.pm). */
static const char *issues(const cr_ctx_t *ctx)
{
    json_object *oo = response_entry(ctx, "OperationOutcome");
    json_object *arr = cr_json_get_array(oo, "issue");
    size_t i, n = arr ? json_object_array_length(arr) : 0;
    const char *out = "";

    for (i = 0; i < n; i++) {
        json_object *is = json_object_array_get_idx(arr, i);
        json_object *cod = cr_json_get_array(cr_json_get_object(is,
                                                                "details"),
                                             "coding");
        json_object *ex = cr_json_get_array(is, "expression");
        const char *d = cod ? cr_json_get_string(
            json_object_array_get_idx(cod, 0), "code") : NULL;
        out = apr_pstrcat(ctx->pool, out, i ? "; " : "",
                          cr_json_get_string(is, "severity"), " ",
                          cr_json_get_string(is, "code"), " ", d ? d : "-",
                          ex ? "@" : "",
                          ex ? json_object_get_string(
                                   json_object_array_get_idx(ex, 0)) : "",
                          NULL);
    }
    return out;
}

/* The answer: HTTP status and issues, exactly. */
static void expect(fixture_t *fx, const cr_ctx_t *ctx, int status,
                   const char *want)
{
    const char *got = issues(ctx);

    if (ctx->resp.status != status || strcmp(got, want) != 0) {
        fail_msg("want %d [%s], got %d [%s]\ntraces:\n%s", status, want,
                 ctx->resp.status, got, fx->traces);
    }
    /* The BC operations answer with their Bundle also on errors. */
    assert_non_null(ctx->resp.body);
    assert_int_equal(ctx->resp.body_on_error, 1);
    /* An audit record only with a committed write. */
    assert_int_equal(ctx->resp.audited, status < 300);
}

/* The PHN of a Patient resource, or NULL. */
static const char *phn_of(json_object *patient)
{
    json_object *ids = cr_json_get_array(patient, "identifier");
    size_t i, n = ids ? json_object_array_length(ids) : 0;

    for (i = 0; i < n; i++) {
        json_object *id = json_object_array_get_idx(ids, i);
        const char *s = cr_json_get_string(id, "system");
        if (s && strcmp(s, CR_SYS_PHN) == 0) {
            return cr_json_get_string(id, "value");
        }
    }
    return NULL;
}

/* The Patient the operation answered with: its id. */
static const char *answered_id(const cr_ctx_t *ctx)
{
    json_object *p = response_entry(ctx, "Patient");

    assert_non_null(p);
    return cr_json_get_string(p, "id");
}

/* A person for $AddPatient (person() of t/api/addpatient.t):
 * identifiers (a JSON array's contents) and further elements. */
static const char *add_person(fixture_t *fx, const char *ids,
                              const char *birth, const char *extra)
{
    return apr_psprintf(fx->pool,
        "{\"resourceType\":\"Patient\"%s%s%s,"
        "\"name\":[{\"use\":\"usual\",\"family\":\"Addfam\","
        "\"given\":[\"Ann\"]}],\"gender\":\"female\"%s%s%s,"
        "\"address\":[{\"type\":\"physical\",\"line\":[\"1 Main St\"],"
        "\"city\":\"Victoria\",\"state\":\"BC\",\"country\":\"CA\"}]%s}",
        ids ? ",\"identifier\":[" : "", ids ? ids : "", ids ? "]" : "",
        birth ? ",\"birthDate\":\"" : "", birth ? birth : "",
        birth ? "\"" : "", extra ? extra : "");
}

/* A source system's snapshot for $RevisePatient (snap() of
 * t/api/revise.t, and person() of t/api/merge.t). */
static const char *revise_person(fixture_t *fx, const char *sri,
                                 const char *start, const char *family,
                                 const char *given, const char *birth,
                                 int phone)
{
    return apr_psprintf(fx->pool,
        "{\"resourceType\":\"Patient\"%s%s%s,"
        "\"identifier\":[{\"use\":\"official\",\"system\":\"" FHA "\","
        "\"value\":\"%s\"}],"
        "\"name\":[{\"use\":\"official\",\"family\":\"%s\","
        "\"given\":[\"%s\"]}],\"gender\":\"male\",\"birthDate\":\"%s\"%s,"
        "\"address\":[{\"type\":\"physical\",\"line\":[\"%s St\"],"
        "\"city\":\"Kelowna\",\"state\":\"BC\",\"country\":\"CA\"}]}",
        start ? ",\"extension\":[{\"url\":\"" BP_EXT "\",\"valuePeriod\":"
                "{\"start\":\"" : "", start ? start : "",
        start ? "\"}}]" : "", sri, family, given, birth,
        phone ? ",\"telecom\":[{\"system\":\"phone\",\"value\":"
                "\"2505550199\",\"use\":\"home\"}]" : "", given);
}

/* A merge (or unmerge) request: survivor and non-survivor SRIs of FHA
 * (merge_req of t/api/merge.t). */
static json_object *merge_request(fixture_t *fx, const char *surv,
                                  const char *ns)
{
    return bundle(fx, NULL, apr_psprintf(fx->pool,
        "{\"resourceType\":\"Patient\",\"identifier\":[{\"use\":"
        "\"official\",\"system\":\"" FHA "\",\"value\":\"%s\"}]%s%s%s}",
        surv, ns ? ",\"link\":[{\"extension\":[{\"url\":\"http://hlth.gov."
                   "bc.ca/fhir/client/StructureDefinition/bc-merge-status-"
                   "extension\",\"valueCode\":\"obsolete\"}],\"other\":{"
                   "\"identifier\":{\"system\":\"" FHA "\",\"value\":\""
                 : "", ns ? ns : "",
        ns ? "\"}},\"type\":\"replaces\"}]" : ""));
}

/* ---- stored state ------------------------------------------------------- */

/* A client as t/api/merge.t's state() sees it: the current resource
 * without meta, active, replaced_by, PHN, version, identifiers with
 * their status. */
static const char *client_state(fixture_t *fx, const char *id)
{
    cr_stored_t *s = NULL;
    json_object *r;

    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, id),
                     APR_SUCCESS);
    r = json_of(fx, s->resource);
    json_object_object_del(r, "meta");
    return apr_psprintf(fx->pool, "%s\nactive=%d replaced_by=%s phn=%s\n"
                        "ids=%s", cr_json_serialize(fx->pool, r, NULL),
                        s->active, s->replaced_by ? s->replaced_by : "NULL",
                        s->phn ? s->phn : "NULL",
                        Q(fx, "SELECT value || ':' || status FROM "
                              "cr_identifier WHERE patient_id = '%s' "
                              "ORDER BY value", id));
}

/* The audit trail, one "operation action status patients" a record. */
static const char *audit_trail(fixture_t *fx)
{
    return rows(fx, "SELECT operation || ' ' || action || ' ' || status "
                    "|| ' ' || COALESCE(patients, '-') FROM cr_audit "
                    "ORDER BY seq");
}

static void verify_chain(fixture_t *fx, apr_int64_t want_checked,
                         apr_int64_t want_bad)
{
    apr_int64_t checked = -1, bad = -1;

    assert_int_equal(cr_store_audit_verify(&checked, &bad, fx->db,
                                           fx->pool), APR_SUCCESS);
    if (checked != want_checked || bad != want_bad) {
        fail_msg("audit chain: want %" APR_INT64_T_FMT " checked, first "
                 "broken %" APR_INT64_T_FMT "; got %" APR_INT64_T_FMT ", %"
                 APR_INT64_T_FMT, want_checked, want_bad, checked, bad);
    }
}

/* ---- $AddPatient -------------------------------------------------------- */

/* The IG's Bundle-AddPatient-Request: a force create with a purported
 * PHN, kept (BCHCIM.RP.0.0021, as Bundle-AddPatient-Response). */
static void test_add_ig_example(void **state)
{
    fixture_t *fx = *state;
    json_object *req = ig_bundle(fx, "Bundle-AddPatient-Request.json");
    cr_ctx_t *ctx;
    cr_stored_t *s = NULL;
    const char *id, *before;

    add_sender(req, "HIBC");
    ctx = run(fx, "AddPatient", req);
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0021");
    id = answered_id(ctx);
    assert_string_equal(phn_of(response_entry(ctx, "Patient")),
                        "9253484802");
    assert_string_equal(ctx->resp.location, apr_pstrcat(
        fx->pool, "https://registry.example/fhir/Patient/", id, NULL));
    assert_string_equal(ctx->resp.patients, id);

    /* One client at version 1 holding the purported PHN. */
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, id),
                     APR_SUCCESS);
    assert_int_equal(s->version, 1);
    assert_string_equal(s->phn, "9253484802");
    assert_int_equal(s->active, 1);
    assert_null(s->replaced_by);
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_patient"), "1");
    assert_string_equal(Q(fx, "SELECT version_id || ' ' || operation || ' '"
                              " || user_id FROM cr_patient_version"),
                        "1 add " USER);
    /* Its identifiers: the request's three, all active. */
    assert_string_equal(Q(fx, "SELECT system || ' ' || value || ' ' || "
                              "status FROM cr_identifier WHERE patient_id ="
                              " '%s' ORDER BY value", id),
        "https://fhir.infoway-inforoute.ca/NamingSystem/"
        "ca-veterans-affairs-health-id 3EP14D12Y8Q618LPKH04QW28 active\n"
        CR_SYS_PHN " 9253484802 active\n"
        "https://fhir.infoway-inforoute.ca/NamingSystem/"
        "ca-bc-msp-eligibility-id 9455882493 active");
    /* The registry's own record and HIBC's (the example has no SRI). */
    assert_string_equal(Q(fx, "SELECT source_system || ' ' || "
                              "COALESCE(sri_value, '-') || ' ' || status "
                              "FROM cr_source_record WHERE patient_id = "
                              "'%s' ORDER BY source_system", id),
                        "HIBC - active\nMOH_CRS - active");
    /* One audit record, in the same transaction. */
    assert_string_equal(audit_trail(fx),
                        apr_pstrcat(fx->pool, "AddPatient C 201 ", id,
                                    NULL));
    assert_string_equal(Q(fx, "SELECT method || ' ' || path || ' ' || "
                              "user_id || ' ' || message_id || ' ' || "
                              "remote_addr FROM cr_audit"),
                        apr_pstrcat(fx->pool, "POST /fhir/Patient/"
                                    "$AddPatient " USER " ",
                                    ctx->message_id, " 192.0.2.1", NULL));
    assert_string_equal(Q(fx, "SELECT patient_id FROM cr_audit_patient"),
                        id);

    /* The same request again: the PHN (and the other identifiers) are
     * held by the client just added: 422 duplicate, nothing written. */
    before = dump(fx);
    req = ig_bundle(fx, "Bundle-AddPatient-Request.json");
    add_sender(req, "HIBC");
    ctx = run(fx, "AddPatient", req);
    expect(fx, ctx, 422, "error duplicate BCHCIM.RP.2.0148"
                         "@Bundle.entry[1].resource.identifier");
    assert_null(response_entry(ctx, "Patient"));
    assert_string_equal(dump(fx), before);
}

/* A force create without a PHN: a new PHN is assigned; the same source
 * record identifier again is a duplicate (t/api/addpatient.t). */
static void test_add_new_phn(void **state)
{
    fixture_t *fx = *state;
    const char *person = add_person(fx, "{\"use\":\"official\",\"system\":\""
                                        FHA "\",\"value\":\"ADD1\"}",
                                    "1980-02-03", NULL);
    cr_ctx_t *ctx = run(fx, "AddPatient", bundle(fx, NULL, person));
    cr_stored_t *s = NULL;
    const char *id, *phn, *before;

    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    id = answered_id(ctx);
    phn = phn_of(response_entry(ctx, "Patient"));
    assert_non_null(phn);
    /* A BC PHN: ten digits, a leading 9, the mod-11 check digit, from
     * the configured range (its first usable body). */
    assert_int_equal(strlen(phn), CR_PHN_LEN);
    assert_int_equal(phn[0], '9');
    assert_int_equal(cr_phn_validate(phn), CR_PHN_OK);
    assert_true(cr_phn_body(phn) == cr_phn_next_usable_body(0));
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, id),
                     APR_SUCCESS);
    assert_int_equal(s->version, 1);
    assert_string_equal(s->phn, phn);
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_patient_version"),
                        "1");
    assert_string_equal(Q(fx, "SELECT value || ' ' || status FROM "
                              "cr_identifier ORDER BY value"),
                        apr_pstrcat(fx->pool, phn, " active\nADD1 active",
                                    NULL));
    /* The registry's record and the request's, keyed by its SRI; with
     * neither a sender nor a certificate its source is "UNKNOWN". */
    assert_string_equal(Q(fx, "SELECT source_system || ' ' || "
                              "COALESCE(sri_system, '-') || ' ' || "
                              "COALESCE(sri_value, '-') FROM "
                              "cr_source_record ORDER BY source_system"),
                        "MOH_CRS - -\nUNKNOWN " FHA " ADD1");
    /* One attribute per element, each with the user. */
    assert_string_equal(Q(fx, "SELECT kind || ' ' || user_id FROM "
                              "cr_attribute ORDER BY kind, value"),
                        "address " USER "\nbirthDate " USER "\ngender "
                        USER "\nidentifier " USER "\nidentifier " USER
                        "\nname " USER);
    assert_string_equal(audit_trail(fx),
                        apr_pstrcat(fx->pool, "AddPatient C 201 ", id,
                                    NULL));

    /* The same request, same source record identifier: 422 duplicate,
     * nothing written (no second client, no PHN used up). */
    before = dump(fx);
    ctx = run(fx, "AddPatient", bundle(fx, NULL, person));
    expect(fx, ctx, 422, "error duplicate BCHCIM.RP.2.0148"
                         "@Bundle.entry[1].resource.identifier");
    assert_string_equal(dump(fx), before);

    /* The same demographics without the SRI: a force create never
     * matches, a second client with the next PHN. */
    ctx = run(fx, "AddPatient", bundle(fx, NULL, add_person(
        fx, NULL, "1980-02-03", NULL)));
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    assert_string_not_equal(answered_id(ctx), id);
    assert_true(cr_phn_body(phn_of(response_entry(ctx, "Patient")))
                == cr_phn_next_usable_body(cr_phn_body(phn) + 1));
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_patient"), "2");
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_match_duplicate"),
                        "0");
}

/* Rejections: the status and BCHCIM code of t/api/addpatient.t, and not
 * one row written. */
static void test_add_rejected(void **state)
{
    fixture_t *fx = *state;
    const struct {
        const char *person;
        int user;
        int status;
        const char *issues;
    } bad[] = {
        /* CR-ADD-011: no birth date. */
        { add_person(fx, NULL, NULL, NULL), 1, 422,
          "error business-rule BCHCIM.RP.2.0140@Bundle.entry[1].resource" },
        /* CR-ADD-011: no PHN and no address. */
        { "{\"resourceType\":\"Patient\",\"name\":[{\"use\":\"usual\","
          "\"family\":\"Addfam\",\"given\":[\"Ann\"]}],\"gender\":"
          "\"female\",\"birthDate\":\"1980-02-03\"}", 1, 422,
          "error business-rule BCHCIM.RP.2.0140@Bundle.entry[1].resource" },
        /* CR-ADD-005: a purported PHN with a wrong check digit. */
        { add_person(fx, "{\"system\":\"" CR_SYS_PHN "\",\"value\":"
                         "\"9253484803\"}", "1980-02-03", NULL), 1, 422,
          "error business-rule BCHCIM.RP.2.0141"
          "@Bundle.entry[1].resource.identifier[0]" },
        /* CR-ADD-015: a death date without a PHN. */
        { add_person(fx, NULL, "1980-02-03",
                     ",\"deceasedDateTime\":\"2020-01-01\""), 1, 422,
          "error business-rule BCHCIM.RP.2.0144"
          "@Bundle.entry[1].resource.deceasedDateTime" },
        /* CR-REV-008: no user id. */
        { add_person(fx, NULL, "1980-02-03", NULL), 0, 400,
          "error required BCHCIM.RP.2.0143@Bundle.entry[0].resource" },
    };
    const char *before;
    size_t i;

    /* A client to begin with, so that "unchanged" covers real rows. */
    expect(fx, run(fx, "AddPatient", bundle(fx, NULL, add_person(
                   fx, NULL, "1970-01-01", NULL))), 201,
           "information business-rule BCHCIM.RP.0.0000");
    before = dump(fx);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_ctx_t *ctx = run_as(fx, "AddPatient",
                               bundle(fx, NULL, bad[i].person),
                               bad[i].user ? &fx->caller : NULL, -1);
        expect(fx, ctx, bad[i].status, bad[i].issues);
        assert_null(response_entry(ctx, "Patient"));
        assert_null(ctx->resp.patients);
        assert_string_equal(dump(fx), before);
    }
    assert_string_equal(Q(fx, "SELECT COUNT(*) || ' ' || MAX(version_id) "
                              "FROM cr_patient"), "1 1");
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_audit"), "1");
    /* The comparison sees writes: an accepted add changes the dump. */
    expect(fx, run(fx, "AddPatient", bundle(fx, NULL, add_person(
                   fx, NULL, "1980-02-03", NULL))), 201,
           "information business-rule BCHCIM.RP.0.0000");
    assert_string_not_equal(dump(fx), before);
}

/* ---- the asynchronous worker's hook ------------------------------------- */

typedef struct hook_t {
    int calls;
    int in_txn;
    const char *audit_rows;     /* cr_audit rows seen from inside */
    apr_status_t rv;
    fixture_t *fx;
} hook_t;

static apr_status_t before_commit(cr_ctx_t *ctx, void *baton)
{
    hook_t *h = baton;

    h->calls++;
    h->in_txn = ctx->db->txn != NULL;
    h->audit_rows = Q(h->fx, "SELECT COUNT(*) FROM cr_audit");
    return h->rv;
}

/* The worker marks its job executed in the operation's own transaction
 * (ctx->before_commit): called once, after the audit record, before the
 * commit; when it fails, the whole write is rolled back. */
static void test_before_commit(void **state)
{
    fixture_t *fx = *state;
    hook_t h;
    cr_ctx_t *ctx = apr_pcalloc(fx->pool, sizeof(*ctx));
    const cr_op_t *op = cr_ops_find("AddPatient");
    const char *before;

    memset(&h, 0, sizeof(h));
    h.fx = fx;
    assert_non_null(op);
    assert_int_equal(op->permission, CR_PERM_WRITE);
    cr_service_ctx_init(ctx, fx->pool, apr_time_now());
    ctx->db = fx->db;
    ctx->settings = &fx->settings;
    ctx->caller = &fx->caller;
    ctx->message_id = "job-1";
    ctx->if_match = -1;
    ctx->trace = trace_cb;
    ctx->trace_baton = fx;
    ctx->before_commit = before_commit;
    ctx->before_commit_baton = &h;
    op->run(ctx, bundle(fx, NULL, add_person(fx, NULL, "1980-02-03",
                                             NULL)));
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.in_txn, 1);
    assert_string_equal(h.audit_rows, "1");
    /* The worker's records have no HTTP request behind them. */
    assert_string_equal(Q(fx, "SELECT method || ' ' || path || ' ' || "
                              "message_id FROM cr_audit"), "- - job-1");

    /* The hook fails: 500, nothing of the add is kept. */
    before = dump(fx);
    memset(ctx, 0, sizeof(*ctx));
    cr_service_ctx_init(ctx, fx->pool, apr_time_now());
    ctx->db = fx->db;
    ctx->settings = &fx->settings;
    ctx->caller = &fx->caller;
    ctx->message_id = "job-2";
    ctx->if_match = -1;
    ctx->trace = trace_cb;
    ctx->trace_baton = fx;
    ctx->before_commit = before_commit;
    ctx->before_commit_baton = &h;
    h.rv = APR_EGENERAL;
    op->run(ctx, bundle(fx, NULL, add_person(fx, NULL, "1980-02-03",
                                             NULL)));
    /* The envelope gives the bare store failure the BC code of an
     * internal error. */
    expect(fx, ctx, 500, "fatal exception BCHCIM.RP.2.0114");
    assert_null(fx->db->txn);
    assert_int_equal(h.calls, 2);
    assert_string_equal(dump(fx), before);
}

/* ---- $RevisePatient ----------------------------------------------------- */

/* The IG's Bundle-Revise-withMaxData-Request (with the effective date G5
 * requires, as t/ig/maintain_add.t): an unknown SRI creates a client; a
 * later snapshot of the same source record revises the same client. */
static void test_revise(void **state)
{
    fixture_t *fx = *state;
    json_object *req = ig_bundle(fx, "Bundle-Revise-withMaxData-Request.json");
    json_object *pt = entry_resource(req, 1), *ext;
    cr_ctx_t *ctx;
    cr_stored_t *s = NULL, *v1 = NULL;
    const char *id, *phn, *sri = "2B6F8GN410H1T27NPE";

    ext = cr_json_array_add_object(cr_json_set_new_array(pt, "extension"));
    cr_json_set_string(ext, "url", BP_EXT);
    cr_json_set_string(cr_json_set_new_object(ext, "valuePeriod"), "start",
                       "2024-01-01");
    add_sender(req, "VPP");
    ctx = run(fx, "RevisePatient", req);
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    id = answered_id(ctx);
    phn = phn_of(response_entry(ctx, "Patient"));
    assert_non_null(phn);
    assert_int_equal(cr_phn_validate(phn), CR_PHN_OK);
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, id),
                     APR_SUCCESS);
    assert_int_equal(s->version, 1);
    assert_string_equal(s->phn, phn);
    assert_string_equal(Q(fx, "SELECT source_system || ' ' || "
                              "COALESCE(sri_value, '-') || ' ' || version "
                              "FROM cr_source_record ORDER BY "
                              "source_system"),
                        apr_pstrcat(fx->pool, "MOH_CRS - 1\nVPP ", sri,
                                    " 1", NULL));
    /* Every identifier of the request (eight SRIs, the New Brunswick
     * number) and the new PHN are the client's. */
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_identifier WHERE "
                              "patient_id = '%s' AND status = 'active'",
                              id), "10");

    /* The same source record again, later, without the telephone
     * numbers: the same client, version 2. */
    req = ig_bundle(fx, "Bundle-Revise-withMaxData-Request.json");
    pt = entry_resource(req, 1);
    ext = cr_json_array_add_object(cr_json_set_new_array(pt, "extension"));
    cr_json_set_string(ext, "url", BP_EXT);
    cr_json_set_string(cr_json_set_new_object(ext, "valuePeriod"), "start",
                       "2024-03-01");
    json_object_object_del(pt, "telecom");
    add_sender(req, "VPP");
    ctx = run(fx, "RevisePatient", req);
    expect(fx, ctx, 200, "information business-rule BCHCIM.RP.0.0021");
    assert_string_equal(answered_id(ctx), id);
    assert_null(cr_json_get(response_entry(ctx, "Patient"), "telecom"));
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, id),
                     APR_SUCCESS);
    assert_int_equal(s->version, 2);
    assert_string_equal(s->phn, phn);
    assert_null(cr_json_get(json_of(fx, s->resource), "telecom"));
    /* History kept: version 1 still has the telecoms; the attribute rows
     * are ended at the revise's effective date, not deleted. */
    assert_int_equal(cr_store_version_get(&v1, fx->db, fx->pool, id, 1),
                     APR_SUCCESS);
    assert_int_equal(json_object_array_length(cr_json_get_array(
        json_of(fx, v1->resource), "telecom")), 6);
    assert_string_equal(Q(fx, "SELECT version_id || ' ' || operation FROM "
                              "cr_patient_version WHERE patient_id = '%s' "
                              "ORDER BY version_id", id),
                        "1 add\n2 revise");
    assert_string_equal(Q(fx, "SELECT COUNT(*) || ' ' || MIN(period_end) "
                              "|| ' ' || COUNT(ended_at) FROM cr_attribute "
                              "WHERE kind = 'telecom'"),
                        "6 2024-03-01 6");
    /* Still one client and the same two source records (VPP's updated in
     * place). */
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_patient"), "1");
    assert_string_equal(Q(fx, "SELECT source_system || ' ' || version FROM "
                              "cr_source_record ORDER BY source_system"),
                        "MOH_CRS 1\nVPP 2");
    assert_string_equal(audit_trail(fx), apr_pstrcat(
        fx->pool, "RevisePatient C 201 ", id, "\nRevisePatient U 200 ", id,
        NULL));
}

/* Rejections of a revise leave the client as it was (t/api/revise.t). */
static void test_revise_rejected(void **state)
{
    fixture_t *fx = *state;
    const struct {
        const char *person;
        apr_int64_t if_match;
        int status;
        const char *issues;
    } bad[] = {
        /* CR-REV-007: no effective date. */
        { revise_person(fx, "RA", NULL, "Revfam", "Maria", "1975-06-07",
                        0), -1, 422,
          "error required BCHCIM.RP.2.0163"
          "@Bundle.entry[1].resource.extension" },
        /* CR-REV-015: the minimum data set (no birth date). */
        { "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\""
          BP_EXT "\",\"valuePeriod\":{\"start\":\"2024-05-05\"}}],"
          "\"identifier\":[{\"system\":\"" FHA "\",\"value\":\"RA\"}],"
          "\"name\":[{\"use\":\"official\",\"family\":\"Revfam\","
          "\"given\":[\"Maria\"]}],\"gender\":\"male\"}", -1, 422,
          "error business-rule BCHCIM.RP.2.0140@Bundle.entry[1].resource" },
        /* CR-REV-009: forbidden characters in the SRI. */
        { revise_person(fx, "RA^x", "2024-05-05", "Revfam", "Maria",
                        "1975-06-07", 0), -1, 422,
          "error business-rule BCHCIM.RP.2.0151"
          "@Bundle.entry[1].resource.identifier[0]" },
        /* CR-CONC: If-Match naming another version (inside the
         * transaction: rolled back). */
        { revise_person(fx, "RA", "2024-05-05", "Revfam", "Maria",
                        "1975-06-07", 0), 7, 412,
          "error conflict BCHCIM.RP.2.0150" },
    };
    cr_ctx_t *ctx;
    const char *id, *before;
    size_t i;

    ctx = run(fx, "RevisePatient", bundle(fx, NULL, revise_person(
        fx, "RA", "2024-01-01", "Revfam", "Maria", "1975-06-07", 1)));
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    id = answered_id(ctx);
    before = dump(fx);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ctx = run_as(fx, "RevisePatient", bundle(fx, NULL, bad[i].person),
                     &fx->caller, bad[i].if_match);
        expect(fx, ctx, bad[i].status, bad[i].issues);
        assert_string_equal(dump(fx), before);
    }
    /* The right version is accepted. */
    ctx = run_as(fx, "RevisePatient", bundle(fx, NULL, revise_person(
        fx, "RA", "2024-05-05", "Revfam", "Maria", "1975-06-07", 1)),
        &fx->caller, 1);
    expect(fx, ctx, 200, "information business-rule BCHCIM.RP.0.0021");
    assert_string_equal(answered_id(ctx), id);
    assert_string_equal(Q(fx, "SELECT version_id FROM cr_patient"), "2");
}

/* ---- $MergePatient and $UnmergePatient ---------------------------------- */

/* Two clients of FHA (person() of t/api/merge.t); *a, *b their ids. */
static void two_clients(fixture_t *fx, const char **a, const char **b)
{
    cr_ctx_t *ctx = run(fx, "RevisePatient", bundle(fx, NULL, revise_person(
        fx, "MA", "2024-01-01", "Mergeone", "Alan", "1960-01-01", 0)));

    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    *a = answered_id(ctx);
    ctx = run(fx, "RevisePatient", bundle(fx, NULL, revise_person(
        fx, "MB", "2024-01-01", "Mergetwo", "Bert", "1961-02-02", 0)));
    expect(fx, ctx, 201, "information business-rule BCHCIM.RP.0.0000");
    *b = answered_id(ctx);
}

static void test_merge_unmerge(void **state)
{
    fixture_t *fx = *state;
    const char *a, *b, *before_a, *before_b, *pa, *pb, *snap;
    cr_stored_t *s = NULL;
    cr_ctx_t *ctx;

    two_clients(fx, &a, &b);
    before_a = client_state(fx, a);
    before_b = client_state(fx, b);
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, a),
                     APR_SUCCESS);
    pa = s->phn;
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, b),
                     APR_SUCCESS);
    pb = s->phn;

    /* Merge B into A (CR-MRG-019). */
    ctx = run(fx, "MergePatient", merge_request(fx, "MA", "MB"));
    expect(fx, ctx, 200, "information business-rule BCHCIM.PM.0.0008");
    assert_null(response_entry(ctx, "Patient"));
    assert_string_equal(ctx->resp.patients, apr_pstrcat(fx->pool, b, " ",
                                                        a, NULL));
    /* The non-survivor: inactive, replaced by the survivor, linked to
     * it, holding no identifier (CR-MRG-003, -005). */
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, b),
                     APR_SUCCESS);
    assert_int_equal(s->active, 0);
    assert_string_equal(s->replaced_by, a);
    assert_int_equal(s->version, 2);
    assert_string_equal(cr_json_serialize(fx->pool, cr_json_get(
        json_of(fx, s->resource), "link"), NULL), apr_pstrcat(
        fx->pool, "[{\"other\":{\"reference\":\"Patient/", a,
        "\"},\"type\":\"replaced-by\"}]", NULL));
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_identifier WHERE "
                              "patient_id = '%s'", b), "0");
    /* The survivor: its PHN kept, link replaces, B's identifiers moved
     * with status merged (CR-MRG-004, -005). */
    assert_int_equal(cr_store_patient_get(&s, fx->db, fx->pool, a),
                     APR_SUCCESS);
    assert_int_equal(s->active, 1);
    assert_null(s->replaced_by);
    assert_string_equal(s->phn, pa);
    assert_int_equal(s->version, 2);
    assert_string_equal(cr_json_serialize(fx->pool, cr_json_get(
        json_of(fx, s->resource), "link"), NULL), apr_pstrcat(
        fx->pool, "[{\"other\":{\"reference\":\"Patient/", b,
        "\"},\"type\":\"replaces\"}]", NULL));
    assert_string_equal(Q(fx, "SELECT value || ':' || status FROM "
                              "cr_identifier WHERE patient_id = '%s' "
                              "ORDER BY value", a),
                        strcmp(pa, pb) < 0
                        ? apr_pstrcat(fx->pool, pa, ":active\n", pb,
                                      ":merged\nMA:active\nMB:merged", NULL)
                        : apr_pstrcat(fx->pool, pb, ":merged\n", pa,
                                      ":active\nMA:active\nMB:merged",
                                      NULL));
    /* B's source records now belong to A, status merged; one merge
     * event. */
    assert_string_equal(Q(fx, "SELECT COUNT(*) || ' ' || MIN(status) FROM "
                              "cr_source_record WHERE merge_id IS NOT "
                              "NULL AND patient_id = '%s'", a),
                        "2 merged");
    assert_string_equal(Q(fx, "SELECT survivor_id || ' ' || nonsurvivor_id"
                              " || ' ' || nonsurvivor_version || ' ' || "
                              "ns_value || ' ' || status FROM "
                              "cr_merge_event"),
                        apr_pstrcat(fx->pool, a, " ", b, " 1 MB merged",
                                    NULL));
    assert_string_equal(Q(fx, "SELECT operation FROM cr_audit ORDER BY seq "
                              "DESC LIMIT 1"), "MergePatient");
    assert_string_equal(Q(fx, "SELECT action || ' ' || status || ' ' || "
                              "patients FROM cr_audit ORDER BY seq DESC "
                              "LIMIT 1"),
                        apr_pstrcat(fx->pool, "U 200 ", b, " ", a, NULL));

    /* Rejections change nothing (t/api/merge.t). */
    snap = dump(fx);
    ctx = run(fx, "MergePatient", merge_request(fx, "NOPE", "MA"));
    expect(fx, ctx, 422, "error not-found BCHCIM.PM.2.0152"
                         "@Bundle.entry[1].resource.identifier[0]");
    ctx = run(fx, "MergePatient", merge_request(fx, "MA", "NO"));
    expect(fx, ctx, 422, "error business-rule BCHCIM.PM.2.0153"
                         "@Bundle.entry[1].resource.link[0]");
    ctx = run(fx, "MergePatient", merge_request(fx, "MA", "MA"));
    expect(fx, ctx, 422, "error business-rule BCHCIM.PM.2.0154"
                         "@Bundle.entry[1].resource.link[0]");
    ctx = run(fx, "MergePatient", merge_request(fx, "MA", "MB"));
    expect(fx, ctx, 422, "error business-rule BCHCIM.PM.2.0155"
                         "@Bundle.entry[1].resource.link[0]");
    ctx = run(fx, "MergePatient", merge_request(fx, "MA", NULL));
    expect(fx, ctx, 422, "error required BCHCIM.PM.2.0158"
                         "@Bundle.entry[1].resource");
    assert_string_equal(dump(fx), snap);

    /* Unmerge: both clients exactly as before the merge (CR-UNMRG-001,
     * -002), both events in the non-survivor's history (-003). */
    ctx = run(fx, "UnmergePatient", merge_request(fx, "MA", "MB"));
    expect(fx, ctx, 200, "information business-rule BCHCIM.PM.0.0157");
    assert_string_equal(client_state(fx, a), before_a);
    assert_string_equal(client_state(fx, b), before_b);
    assert_string_equal(Q(fx, "SELECT version_id || ' ' || operation FROM "
                              "cr_patient_version WHERE patient_id = '%s' "
                              "ORDER BY version_id", b),
                        "1 add\n2 merge\n3 unmerge");
    assert_string_equal(Q(fx, "SELECT version_id || ' ' || operation FROM "
                              "cr_patient_version WHERE patient_id = '%s' "
                              "ORDER BY version_id", a),
                        "1 add\n2 merge\n3 unmerge");
    assert_string_equal(Q(fx, "SELECT status || ' ' || (unmerged_at IS NOT "
                              "NULL) FROM cr_merge_event"), "unmerged 1");
    assert_string_equal(Q(fx, "SELECT patient_id || ' ' || status FROM "
                              "cr_source_record WHERE sri_value = 'MB'"),
                        apr_pstrcat(fx->pool, b, " active", NULL));
    assert_string_equal(audit_trail(fx), apr_pstrcat(
        fx->pool, "RevisePatient C 201 ", a, "\nRevisePatient C 201 ", b,
        "\nMergePatient U 200 ", b, " ", a, "\nUnmergePatient U 200 ", a,
        " ", b, NULL));

    /* Nothing left to unmerge (CR-UNMRG-005). */
    snap = dump(fx);
    ctx = run(fx, "UnmergePatient", merge_request(fx, "MA", "MB"));
    expect(fx, ctx, 422, "error not-found BCHCIM.PM.2.0156"
                         "@Bundle.entry[1].resource.link[0]");
    assert_string_equal(dump(fx), snap);
}

/* ---- the audit chain ---------------------------------------------------- */

/* After adds, revises, a merge and an unmerge the chain verifies; a row
 * changed behind the registry's back breaks it at that row. */
static void test_audit_chain(void **state)
{
    fixture_t *fx = *state;
    const char *a, *b, *status3;
    cr_audit_rec_t *rec = NULL;
    char hash[CR_HASH_HEX_LEN + 1];
    cr_ctx_t *ctx;
    json_object *prm;

    expect(fx, run(fx, "AddPatient", bundle(fx, NULL, add_person(
                   fx, NULL, "1970-01-01", NULL))), 201,
           "information business-rule BCHCIM.RP.0.0000");
    two_clients(fx, &a, &b);
    expect(fx, run(fx, "RevisePatient", bundle(fx, NULL, revise_person(
                   fx, "MA", "2024-02-01", "Mergeone", "Alan", "1960-01-01",
                   1))), 200, "information business-rule BCHCIM.RP.0.0021");
    expect(fx, run(fx, "MergePatient", merge_request(fx, "MA", "MB")), 200,
           "information business-rule BCHCIM.PM.0.0008");
    expect(fx, run(fx, "UnmergePatient", merge_request(fx, "MA", "MB")), 200,
           "information business-rule BCHCIM.PM.0.0157");

    /* Six records, each linked to the one before. */
    assert_string_equal(Q(fx, "SELECT group_concat(operation, ' ') FROM "
                              "(SELECT operation FROM cr_audit ORDER BY "
                              "seq)"),
                        "AddPatient RevisePatient RevisePatient "
                        "RevisePatient MergePatient UnmergePatient");
    assert_string_equal(Q(fx, "SELECT COUNT(*) FROM cr_audit a JOIN "
                              "cr_audit p ON p.seq = a.seq - 1 WHERE "
                              "a.prev_hash = p.hash"), "5");
    assert_string_equal(Q(fx, "SELECT prev_hash FROM cr_audit WHERE seq = "
                              "1"), CR_HASH_GENESIS);
    verify_chain(fx, 6, 0);

    /* The administrators' $verify says the same. */
    ctx = apr_pcalloc(fx->pool, sizeof(*ctx));
    cr_service_ctx_init(ctx, fx->pool, apr_time_now());
    ctx->db = fx->db;
    ctx->settings = &fx->settings;
    cr_audit_verify(ctx);
    assert_int_equal(ctx->resp.status, 200);
    prm = cr_json_get_array(ctx->resp.body, "parameter");
    assert_int_equal(json_object_array_length(prm), 2);
    assert_int_equal(cr_json_get_bool(json_object_array_get_idx(prm, 0),
                                      "valueBoolean"), 1);

    /* One field of record 3 changed: the chain breaks at 3. */
    status3 = Q(fx, "SELECT status FROM cr_audit WHERE seq = 3");
    sql(fx, "UPDATE cr_audit SET status = 500 WHERE seq = 3");
    verify_chain(fx, 3, 3);
    ctx->resp.status = 0;
    cr_audit_verify(ctx);
    prm = cr_json_get_array(ctx->resp.body, "parameter");
    assert_int_equal(cr_json_get_bool(json_object_array_get_idx(prm, 0),
                                      "valueBoolean"), 0);
    assert_int_equal(json_object_get_int(cr_json_get(
        json_object_array_get_idx(prm, 2), "valueInteger")), 3);
    /* Put back, intact again. */
    sql(fx, apr_psprintf(fx->pool, "UPDATE cr_audit SET status = %s WHERE "
                                   "seq = 3", status3));
    verify_chain(fx, 6, 0);

    /* A forger who also recomputes record 5's hash breaks the link of
     * record 6 instead. */
    assert_int_equal(cr_store_audit_get(&rec, fx->db, fx->pool, 5),
                     APR_SUCCESS);
    rec->patients = b;
    assert_int_equal(cr_hashchain_compute(hash, rec, rec->prev_hash),
                     APR_SUCCESS);
    sql(fx, apr_psprintf(fx->pool, "UPDATE cr_audit SET patients = '%s', "
                                   "hash = '%s' WHERE seq = 5", b, hash));
    verify_chain(fx, 6, 6);

    /* A record removed: the gap is found where it is. */
    sql(fx, "DELETE FROM cr_audit WHERE seq = 2");
    verify_chain(fx, 2, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_ig_example, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_new_phn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_before_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_revise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revise_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_merge_unmerge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
