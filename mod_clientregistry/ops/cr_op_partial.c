/* cr_op_partial: $PartialUpdatePatient (G3/G4, operations.md 9.4) and
 * its G2 name $PartialRevisePatient (whose G2 FHIR-Patch form,
 * a Parameters body, is ops/cr_op_partial_patch.c's).
 *
 * The request Patient carries one identifier (a PHN: the registry's own
 * record of the client holding it; else the source record it names) and
 * only the elements to change, each with its operation add, delete or
 * replace (bc-update-patient-operation-extension; replace when absent).
 * The changes end or add attributes of that one source record as of the
 * effective date, and the person is rebuilt at the next version
 * (If-Match).  meta.security, when sent, replaces the record's security
 * labels (R or V restrict the client, N lifts that).  Declared in
 * cr_ops_maintain.h.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_phn.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_envelope.h"
#include "fhir/cr_fhir_patch.h"
#include "ops/cr_bcop.h"
#include "ops/cr_idem.h"
#include "ops/cr_ops_maintain.h"
#include "store/cr_store.h"
#include "store/cr_store_source.h"

#define UPDATE_OP_EXT CR_EXT_BASE "bc-update-patient-operation-extension"

/* The update operation of element el (its extension, removed from el):
 * "add", "delete", "replace", NULL when absent, "" when invalid. */
static const char *take_update_op(json_object *el)
{
    json_object *exts = cr_json_get_array(el, "extension");
    size_t i, n = exts ? json_object_array_length(exts) : 0;

    for (i = 0; i < n && i < 50; i++) {
        json_object *e = json_object_array_get_idx(exts, i);
        const char *url = cr_json_get_string(e, "url");
        json_object *cod;
        const char *code;
        if (url == NULL || strcmp(url, UPDATE_OP_EXT) != 0) {
            continue;
        }
        cod = cr_json_get_array(cr_json_get_object(e, "valueCodeableConcept"),
                                "coding");
        code = cod ? cr_json_get_string(json_object_array_get_idx(cod, 0),
                                        "code") : NULL;
        if (code == NULL) {
            code = cr_json_get_string(e, "valueCode");
        }
        /* code belongs to e, which the deletion below frees. */
        code = code == NULL ? ""
               : strcmp(code, "add") == 0 ? "add"
               : strcmp(code, "delete") == 0 ? "delete"
               : strcmp(code, "replace") == 0 ? "replace" : "";
        json_object_array_del_idx(exts, i, 1);
        if (json_object_array_length(exts) == 0) {
            json_object_object_del(el, "extension");
        }
        return code;
    }
    return NULL;
}

/* The key two values of a repeating kind share when one replaces the
 * other: name.use, telecom.system+use, address.type+use. */
static const char *elem_key(apr_pool_t *pool, const char *kind,
                            json_object *v)
{
    const char *use = cr_json_get_string(v, "use");

    if (strcmp(kind, "telecom") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "system")
                           ? cr_json_get_string(v, "system") : "", "|",
                           use ? use : "", NULL);
    }
    if (strcmp(kind, "address") == 0) {
        return apr_pstrcat(pool, cr_json_get_string(v, "type")
                           ? cr_json_get_string(v, "type") : "", "|",
                           use ? use : "", NULL);
    }
    return use ? use : "";
}

typedef struct upd_t {
    const char *op;
    cr_snapattr_t attr;
    json_object *value;        /* parsed attr.value */
} upd_t;

/* The changes a PartialPatientUpdate asks for (of upd_t). */
static int read_updates(cr_bcop_t *m, json_object *patient,
                        apr_array_header_t *out, const char *start)
{
    static const char *const reps[] = { "name", "telecom", "address", NULL };
    static const char *const singles[][3] = {
        { "gender", "_gender", NULL },
        { "birthDate", "_birthDate", NULL },
        { "deceasedDateTime", "_deceasedDateTime", NULL },
        { "deceasedBoolean", "_deceasedBoolean", NULL },
        { "multipleBirthBoolean", "_multipleBirthBoolean", NULL },
        { "multipleBirthInteger", "_multipleBirthInteger", NULL },
        { NULL, NULL, NULL } };
    apr_pool_t *pool = m->ctx->pool;
    json_object *work = cr_json_copy(pool, patient);
    int k;
    size_t i, n;

    for (k = 0; reps[k]; k++) {
        json_object *arr = cr_json_get_array(work, reps[k]);
        n = arr ? json_object_array_length(arr) : 0;
        for (i = 0; i < n && i < 50; i++) {
            json_object *el = json_object_array_get_idx(arr, i);
            json_object *one = json_object_new_object(), *a1;
            apr_array_header_t *sa;
            upd_t *u;
            const char *op = take_update_op(el);
            if (op && *op == 0) {
                json_object_put(one);
                return 0;
            }
            a1 = json_object_new_array();
            json_object_array_add(a1, json_object_get(el));
            json_object_object_add(one, reps[k], a1);
            sa = cr_composite_extract(pool, one, start);
            json_object_put(one);
            if (sa->nelts == 0) {
                continue;
            }
            u = apr_array_push(out);
            u->op = op ? op : "replace";
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
            u->value = el;
        }
    }
    for (k = 0; singles[k][0]; k++) {
        json_object *v = cr_json_get(work, singles[k][0]);
        json_object *under = cr_json_get_object(work, singles[k][1]);
        json_object *one;
        apr_array_header_t *sa;
        const char *op = NULL;
        upd_t *u;
        if (v == NULL && under == NULL) {
            continue;
        }
        if (under) {
            op = take_update_op(under);
            if (op && *op == 0) {
                return 0;
            }
            if (json_object_object_length(under) == 0) {
                json_object_object_del(work, singles[k][1]);
            }
        }
        one = json_object_new_object();
        if (v) {
            json_object_object_add(one, singles[k][0], json_object_get(v));
        }
        under = cr_json_get_object(work, singles[k][1]);
        if (under) {
            json_object_object_add(one, singles[k][1],
                                   json_object_get(under));
        }
        sa = cr_composite_extract(pool, one, start);
        u = apr_array_push(out);
        u->op = op ? op : "replace";
        if (sa->nelts > 0) {
            u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
        }
        else {
            /* delete without a value: the kind is enough */
            memset(&u->attr, 0, sizeof(u->attr));
            u->attr.kind = strncmp(singles[k][0], "deceased", 8) == 0
                           ? "deceased"
                           : strncmp(singles[k][0], "multipleBirth", 13) == 0
                           ? "multipleBirth" : singles[k][0];
        }
        u->value = NULL;
        json_object_put(one);
    }
    {
        /* meta.security replaces the client's labels (operations.md 0.7:
         * R or V restrict, N lifts a restriction). */
        json_object *sec = cr_json_get_array(cr_json_get(work, "meta"),
                                             "security");
        if (sec && json_object_array_length(sec) > 0) {
            json_object *one = json_object_new_object();
            json_object *meta = cr_json_set_new_object(one, "meta");
            apr_array_header_t *sa;
            upd_t *u;
            json_object_object_add(meta, "security", json_object_get(sec));
            sa = cr_composite_extract(pool, one, start);
            json_object_put(one);
            if (sa->nelts > 0) {
                u = apr_array_push(out);
                u->op = "replace";
                u->attr = APR_ARRAY_IDX(sa, 0, cr_snapattr_t);
                u->value = NULL;
            }
        }
    }
    return 1;
}

static apr_status_t apply_updates(cr_bcop_t *m, const char *rec_id,
                                  const char *pid,
                                  const apr_array_header_t *ups,
                                  const char *end_date)
{
    cr_ctx_t *ctx = m->ctx;
    apr_array_header_t *cur;
    apr_status_t rv;
    int i, j;

    rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
    for (i = 0; rv == APR_SUCCESS && i < ups->nelts; i++) {
        const upd_t *u = &APR_ARRAY_IDX(ups, i, upd_t);
        int single = strcmp(u->attr.kind, "name") != 0
                     && strcmp(u->attr.kind, "telecom") != 0
                     && strcmp(u->attr.kind, "address") != 0;
        const char *key = u->value ? elem_key(ctx->pool, u->attr.kind,
                                              u->value) : NULL;
        int present = 0;
        for (j = 0; rv == APR_SUCCESS && j < cur->nelts; j++) {
            cr_source_attr_t *a = &APR_ARRAY_IDX(cur, j, cr_source_attr_t);
            json_object *v = NULL;
            int hit;
            if (a->id == NULL || strcmp(a->kind, u->attr.kind) != 0) {
                continue;
            }
            if (u->attr.value && strcmp(a->value, u->attr.value) == 0) {
                present = 1;
            }
            if (strcmp(u->op, "add") == 0) {
                continue;
            }
            if (single) {
                hit = 1;
            }
            else if (strcmp(u->op, "delete") == 0 && u->attr.value
                     && strcmp(a->value, u->attr.value) == 0) {
                hit = 1;
            }
            else {
                hit = cr_json_parse(&v, ctx->pool, a->value,
                                    strlen(a->value), NULL, NULL)
                      == APR_SUCCESS
                      && strcmp(elem_key(ctx->pool, a->kind, v), key) == 0;
            }
            if (hit && !(strcmp(u->op, "replace") == 0 && u->attr.value
                         && strcmp(a->value, u->attr.value) == 0)) {
                rv = cr_store_source_end(ctx->db, ctx->pool, a->id, end_date,
                                         ctx->now_instant);
                a->id = NULL;
            }
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0
            && u->attr.value && !present) {
            rv = cr_store_source_add(ctx->db, ctx->pool, rec_id, pid,
                                     &u->attr, &m->prov);
        }
        if (rv == APR_SUCCESS && strcmp(u->op, "delete") != 0) {
            /* later updates see this value as current */
            rv = cr_store_source_current(&cur, ctx->db, ctx->pool, rec_id);
        }
    }
    return rv;
}

static void partial(cr_ctx_t *ctx, json_object *body, const char *name)
{
    static const cr_envelope_rules_t rules = {
        .txn = CR_BC_TXN_RP, .min_entries = 2, .max_entries = 2,
        .min_patients = 1, .max_patients = 1,
        .min_related = 0, .max_related = 0
    };
    cr_bcop_t m;
    const cr_envelope_entry_t *e;
    json_object *ids;
    const char *sys, *val, *eff, *pid = NULL, *rec_id = NULL;
    apr_array_header_t *ups;
    cr_source_rec_t *rec = NULL;
    apr_int64_t cur = 0;
    apr_status_t rv;

    cr_bcop_init(&m, ctx, CR_BC_TXN_RP, name,
              CR_ENV_PROFILE_BASE "bc-revise-response-bundle");
    if (!cr_bcop_open(&m, body, &rules, 1)) {
        return;
    }
    e = &APR_ARRAY_IDX(m.in->patients, 0, cr_envelope_entry_t);
    ids = cr_json_get_array(e->resource, "identifier");
    if (ids == NULL || json_object_array_length(ids) != 1) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_IDENTIFIER,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    sys = cr_json_get_string(json_object_array_get_idx(ids, 0), "system");
    val = cr_json_get_string(json_object_array_get_idx(ids, 0), "value");
    if (sys == NULL || val == NULL) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_IDENTIFIER,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0 && cr_phn_validate(val) != CR_PHN_OK) {
        cr_bcop_reject(&m, CR_BC_RP_PHN,
                       apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                       422);
        return;
    }
    eff = cr_composite_effective(e->resource);
    ups = apr_array_make(ctx->pool, 8, sizeof(upd_t));
    if (!read_updates(&m, e->resource, ups, eff ? eff : ctx->today)) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_OP, e->expr, 422);
        return;
    }
    if (ups->nelts == 0) {
        cr_bcop_reject(&m, CR_BC_RP_UPD_NOTHING, e->expr, 400);
        return;
    }
    /* The transaction, with the messageId claimed (CR-PARAM-004). */
    if (!cr_idem_begin(&m, body)) {
        return;
    }
    if (strcmp(sys, CR_SYS_PHN) == 0) {
        /* PHN: the registry's member record of the client holding it. */
        rv = cr_store_identifier_owner(&pid, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS && pid) {
            rv = cr_bcop_ensure_records(&m, pid);
            rec_id = cr_store_source_registry_id(ctx->pool, pid);
        }
    }
    else {
        rv = cr_store_source_find(&rec, ctx->db, ctx->pool, sys, val);
        if (rv == APR_SUCCESS) {
            pid = rec->patient_id;
            rec_id = rec->id;
        }
        else if (rv == APR_NOTFOUND) {
            rv = APR_SUCCESS;
        }
    }
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "finding the record");
        return;
    }
    if (pid == NULL) {
        cr_bcop_abort(&m, CR_BC_RP_UPD_IDENTIFIER,
                      apr_pstrcat(ctx->pool, e->expr, ".identifier", NULL),
                      422);
        return;
    }
    rv = cr_bcop_current_version(&cur, &m, pid);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "reading the client");
        return;
    }
    if (!cr_bcop_version_ok(&m, cur)) {
        cr_bcop_abort(&m, CR_BC_RP_VERSION, NULL, 412);
        return;
    }
    rv = apply_updates(&m, rec_id, pid, ups, eff ? eff : ctx->now_instant);
    if (rv != APR_SUCCESS) {
        cr_bcop_db_fail(&m, rv, "storing the partial update");
        return;
    }
    cr_bcop_revise_and_answer(&m, pid, cur + 1, "partial-update", name,
                              "storing the partial update");
}

void cr_ops_maintain_partial_update(cr_ctx_t *ctx, json_object *body)
{
    partial(ctx, body, "PartialUpdatePatient");
}

void cr_ops_maintain_partial_revise(cr_ctx_t *ctx, json_object *body)
{
    if (cr_fhir_patch_is_request(body)) {
        /* the G2 FHIR-Patch form (CR-LEG-002) */
        cr_op_partial_patch(ctx, body);
        return;
    }
    partial(ctx, body, "PartialRevisePatient");
}
