/* cr_fhir_merge: the $merge Parameters read into cr_merge_params_t (see
 * cr_fhir_merge.h).  Shape only; the store is ops/cr_op_fhir_merge.c's.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "core/cr_text.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_merge.h"

#define MAX_EXTENSIONS 20
#define MAX_LINKS 20

typedef struct reader_t {
    apr_pool_t *pool;
    cr_outcome_t *oc;
    int bad;                    /* a 400 problem was recorded */
} reader_t;

static void bad(reader_t *r, cr_bc_msg_e msg, const char *expr,
                const char *what)
{
    if (what) {
        cr_bc_add(r->oc, CR_BC_TXN_PM, msg, expr, "%s", what);
    }
    else {
        cr_bc_add(r->oc, CR_BC_TXN_PM, msg, expr, NULL);
    }
    r->bad = 1;
}

int cr_fhir_merge_status_valid(const char *code)
{
    return code != NULL && (strcmp(code, "obsolete") == 0
                            || strcmp(code, "cancelled") == 0);
}

/* bc-merge-status-extension among ext (an element's extensions), if
 * any, must be obsolete or cancelled (CR-MRG-016). */
static void merge_status(reader_t *r, json_object *elem, const char *expr)
{
    json_object *ext = cr_json_get(elem, "extension");
    size_t i, n;

    if (ext == NULL) {
        return;
    }
    if (!json_object_is_type(ext, json_type_array)
        || json_object_array_length(ext) > MAX_EXTENSIONS) {
        bad(r, CR_BC_PM_PARAMS, apr_pstrcat(r->pool, expr, ".extension",
                                            NULL),
            "extension must be an array of at most 20");
        return;
    }
    n = json_object_array_length(ext);
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ext, i);
        const char *url = cr_json_get_string(e, "url");
        const char *code;
        if (url == NULL || strcmp(url, CR_EXT_MERGE_STATUS) != 0) {
            continue;
        }
        code = cr_json_get_string(e, "valueCode");
        if (!cr_fhir_merge_status_valid(code)) {
            bad(r, CR_BC_PM_MERGE_STATUS,
                apr_psprintf(r->pool, "%s.extension[%d].valueCode", expr,
                             (int)i), code);
        }
    }
}

static void add_identifier(reader_t *r, cr_merge_side_in_t *side,
                           json_object *id, const char *expr)
{
    cr_merge_ident_t *mi;
    const char *system = cr_json_get_string(id, "system");
    const char *value = cr_json_get_string(id, "value");

    side->named = 1;

    if (id == NULL || !json_object_is_type(id, json_type_object)
        || system == NULL || value == NULL || !*system || !*value) {
        bad(r, CR_BC_PM_PARAMS, expr, "an identifier needs system and value");
        return;
    }
    if (side->ids->nelts >= CR_MERGE_MAX_IDENTIFIERS) {
        bad(r, CR_BC_PM_PARAMS, expr, "at most 20 identifiers per side");
        return;
    }
    merge_status(r, id, expr);
    mi = apr_array_push(side->ids);
    mi->system = system;
    mi->value = value;
    mi->expr = expr;
}

/* The id of "Patient/<id>" or "<base>/Patient/<id>", or NULL. */
static const char *reference_id(const char *ref)
{
    const char *id = NULL, *p;

    if (strncmp(ref, "Patient/", 8) == 0) {
        id = ref + 8;
    }
    else if ((p = strstr(ref, "/Patient/")) != NULL
             && (strncmp(ref, "http://", 7) == 0
                 || strncmp(ref, "https://", 8) == 0)) {
        id = p + 9;
    }
    return id && cr_text_id_ok(id) ? id : NULL;
}

static void read_reference(reader_t *r, cr_merge_side_in_t *side,
                           json_object *p, const char *expr)
{
    json_object *v = cr_json_get_object(p, "valueReference");
    const char *vexpr = apr_pstrcat(r->pool, expr, ".valueReference", NULL);
    const char *ref;
    json_object *id;

    side->named = 1;
    if (side->ref_expr) {
        bad(r, CR_BC_PM_PARAMS, expr, "the reference may be sent once");
        return;
    }
    side->ref_expr = vexpr;
    if (v == NULL) {
        bad(r, CR_BC_PM_PARAMS, vexpr, "a valueReference is required");
        return;
    }
    ref = cr_json_get_string(v, "reference");
    id = cr_json_get(v, "identifier");
    if (ref) {
        side->ref_id = reference_id(ref);
        if (side->ref_id == NULL) {
            bad(r, CR_BC_PM_PARAMS,
                apr_pstrcat(r->pool, vexpr, ".reference", NULL),
                "the reference must be Patient/<id>");
        }
    }
    if (id) {
        add_identifier(r, side, id,
                       apr_pstrcat(r->pool, vexpr, ".identifier", NULL));
    }
    if (ref == NULL && id == NULL) {
        bad(r, CR_BC_PM_PARAMS, vexpr,
            "the reference needs a reference or an identifier");
    }
}

static void read_result(reader_t *r, cr_merge_params_t *m, json_object *p,
                        const char *expr)
{
    json_object *res = cr_json_get_object(p, "resource");
    const char *rexpr = apr_pstrcat(r->pool, expr, ".resource", NULL);
    const char *rt = cr_json_get_string(res, "resourceType");
    json_object *links;
    size_t i, n;

    if (m->result_expr) {
        bad(r, CR_BC_PM_PARAMS, expr, "result-patient may be sent once");
        return;
    }
    m->result_expr = rexpr;
    if (res == NULL || rt == NULL || strcmp(rt, "Patient") != 0) {
        bad(r, CR_BC_PM_PARAMS, rexpr, "result-patient must be a Patient");
        return;
    }
    links = cr_json_get(res, "link");
    if (links && (!json_object_is_type(links, json_type_array)
                  || json_object_array_length(links) > MAX_LINKS)) {
        bad(r, CR_BC_PM_PARAMS, apr_pstrcat(r->pool, rexpr, ".link", NULL),
            "link must be an array of at most 20");
        return;
    }
    n = links ? json_object_array_length(links) : 0;
    for (i = 0; i < n; i++) {
        merge_status(r, json_object_array_get_idx(links, i),
                     apr_psprintf(r->pool, "%s.link[%d]", rexpr, (int)i));
    }
    m->result = res;
    m->effective = cr_composite_effective(res);
}

int cr_fhir_merge_parse(cr_merge_params_t **out, apr_pool_t *pool,
                        json_object *body, cr_outcome_t *oc)
{
    cr_merge_params_t *m = apr_pcalloc(pool, sizeof(*m));
    reader_t r;
    json_object *params;
    const char *rt = cr_json_get_string(body, "resourceType");
    size_t i, n;

    r.pool = pool;
    r.oc = oc;
    r.bad = 0;
    m->source.ids = apr_array_make(pool, 2, sizeof(cr_merge_ident_t));
    m->target.ids = apr_array_make(pool, 2, sizeof(cr_merge_ident_t));
    *out = m;
    if (body == NULL || rt == NULL || strcmp(rt, "Parameters") != 0) {
        bad(&r, CR_BC_PM_PARAMS, "Parameters", "the body is not Parameters");
        return 400;
    }
    params = cr_json_get(body, "parameter");
    if (params && (!json_object_is_type(params, json_type_array)
                   || json_object_array_length(params)
                      > CR_MERGE_MAX_PARAMS)) {
        bad(&r, CR_BC_PM_PARAMS, "Parameters.parameter",
            "parameter must be an array of at most 50");
        return 400;
    }
    n = params ? json_object_array_length(params) : 0;
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(params, i);
        const char *name = cr_json_get_string(p, "name");
        const char *expr = apr_psprintf(pool, "Parameters.parameter[%d]",
                                        (int)i);
        if (name == NULL) {
            bad(&r, CR_BC_PM_PARAMS, expr, "a parameter needs a name");
        }
        else if (strcmp(name, "source-patient") == 0) {
            read_reference(&r, &m->source, p, expr);
        }
        else if (strcmp(name, "target-patient") == 0) {
            read_reference(&r, &m->target, p, expr);
        }
        else if (strcmp(name, "source-patient-identifier") == 0
                 || strcmp(name, "target-patient-identifier") == 0) {
            add_identifier(&r, name[0] == 's' ? &m->source : &m->target,
                           cr_json_get_object(p, "valueIdentifier"),
                           apr_pstrcat(pool, expr, ".valueIdentifier",
                                       NULL));
        }
        else if (strcmp(name, "result-patient") == 0) {
            read_result(&r, m, p, expr);
        }
        else if (strcmp(name, "preview") == 0) {
            /* operations.md 5.1: BC has no preview mode. */
            bad(&r, CR_BC_PM_PREVIEW, expr, NULL);
        }
        else {
            bad(&r, CR_BC_PM_PARAMS, apr_pstrcat(pool, expr, ".name", NULL),
                apr_psprintf(pool, "unknown parameter %s", name));
        }
    }
    if (!m->target.named) {
        bad(&r, CR_BC_PM_NO_TARGET, "Parameters", NULL);       /* CR-MRG-009 */
    }
    if (!m->source.named) {
        bad(&r, CR_BC_PM_NO_SOURCE, "Parameters", NULL);       /* CR-MRG-010 */
    }
    if (r.bad) {
        return 400;
    }
    if (m->result && m->effective == NULL) {
        /* CR-MRG-017, operations.md 0.7: the root effective date. */
        cr_bc_add(oc, CR_BC_TXN_PM, CR_BC_RP_EFFECTIVE,
                  apr_pstrcat(pool, m->result_expr, ".extension", NULL),
                  NULL);
        return 422;
    }
    return 0;
}

int cr_fhir_merge_link_is(json_object *link, const char *pid)
{
    const char *type = cr_json_get_string(link, "type");
    const char *ref = cr_json_get_string(cr_json_get_object(link, "other"),
                                         "reference");
    const char *id;

    if (type == NULL || strcmp(type, "replaces") != 0 || ref == NULL
        || pid == NULL) {
        return 0;
    }
    id = reference_id(ref);
    return id && strcmp(id, pid) == 0;
}
