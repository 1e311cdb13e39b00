/* cr_fhir_patch: the G2 $PartialRevisePatient Parameters and its FHIR
 * Patch read into cr_patch_req_t, and the selection rule of a where()
 * (see cr_fhir_patch.h).  Shape and paths only; the store is
 * ops/cr_op_partial_patch.c's.
 */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_datetime.h"
#include "core/cr_json.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_composite.h"
#include "fhir/cr_fhir_patch.h"

#define TOP "Parameters.parameter[%d]"

typedef struct reader_t {
    apr_pool_t *pool;
    cr_outcome_t *oc;
    int status;                 /* 0, or the worst status so far */
} reader_t;

static void problem(reader_t *r, cr_bc_msg_e msg, int status,
                    const char *expr, const char *what)
{
    cr_bc_add(r->oc, CR_BC_TXN_RP, msg, expr, "%s", what);
    if (r->status == 0 || status < r->status) {
        r->status = status;     /* a 400 outranks a 422 */
    }
}

/* The elements a patch may touch.  kind: the attribute kind; member:
 * the Patient member holding a single's value (NULL: decided by the
 * value's type); vtype: the value[x] a repeating kind's value is. */
static const struct {
    const char *path_name, *kind, *member, *vtype;
    int repeating;
} elements[] = {
    { "name", "name", NULL, "valueHumanName", 1 },
    { "telecom", "telecom", NULL, "valueContactPoint", 1 },
    { "address", "address", NULL, "valueAddress", 1 },
    { "gender", "gender", "gender", "valueCode", 0 },
    { "birthDate", "birthDate", "birthDate", "valueDate", 0 },
    { "deceased", "deceased", NULL, NULL, 0 },
    { "deceasedBoolean", "deceased", "deceasedBoolean", "valueBoolean", 0 },
    { "deceasedDateTime", "deceased", "deceasedDateTime", "valueDateTime",
      0 },
    { "multipleBirth", "multipleBirth", NULL, NULL, 0 },
    { "multipleBirthBoolean", "multipleBirth", "multipleBirthBoolean",
      "valueBoolean", 0 },
    { "multipleBirthInteger", "multipleBirth", "multipleBirthInteger",
      "valueInteger", 0 },
    { NULL, NULL, NULL, NULL, 0 }
};

static int element(const char *name, size_t len)
{
    int k;

    for (k = 0; elements[k].path_name; k++) {
        if (strlen(elements[k].path_name) == len
            && strncmp(elements[k].path_name, name, len) == 0) {
            return k;
        }
    }
    return -1;
}

int cr_fhir_patch_is_request(json_object *body)
{
    const char *rt = cr_json_get_string(body, "resourceType");
    json_object *ps = cr_json_get_array(body, "parameter");
    size_t i, n = ps ? json_object_array_length(ps) : 0;

    if (rt == NULL || strcmp(rt, "Parameters") != 0) {
        return 0;
    }
    for (i = 0; i < n && i < CR_PATCH_MAX_PARAMS; i++) {
        const char *name = cr_json_get_string(
            json_object_array_get_idx(ps, i), "name");
        if (name && strcmp(name, "operationBundle") == 0) {
            return 0;
        }
    }
    return 1;
}

/* ---- the path -------------------------------------------------------------- */

typedef struct path_t {
    int root;                   /* "Patient" alone */
    int elem;                   /* index into elements, or -1 */
    apr_array_header_t *where;  /* of cr_patch_cond_t, or NULL */
} path_t;

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

static const char *ident(const char *s, size_t *len)
{
    const char *b = s;

    while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
        s++;
    }
    *len = (size_t)(s - b);
    return b;
}

/* where(f = 'x' and g = 'y'): s points after "where(".  The rest of the
 * path, or NULL when it is not that form. */
static const char *read_where(apr_pool_t *pool, const char *s,
                              apr_array_header_t *conds)
{
    int k;

    for (k = 0; k < CR_PATCH_MAX_CONDS; k++) {
        cr_patch_cond_t *c;
        const char *f, *lit;
        size_t fl;
        s = skip_ws(s);
        f = ident(s, &fl);
        if (fl == 0) {
            return NULL;
        }
        s = skip_ws(f + fl);
        if (*s != '=') {
            return NULL;
        }
        s = skip_ws(s + 1);
        if (*s != '\'') {
            return NULL;
        }
        lit = ++s;
        while (*s && *s != '\'' && *s != '\\') {
            s++;
        }
        if (*s != '\'') {
            return NULL;
        }
        c = apr_array_push(conds);
        c->field = apr_pstrndup(pool, f, fl);
        c->literal = apr_pstrndup(pool, lit, (apr_size_t)(s - lit));
        s = skip_ws(s + 1);
        if (*s == ')') {
            return s + 1;
        }
        if (strncmp(s, "and", 3) != 0 || (s[3] != ' ' && s[3] != '\t')) {
            return NULL;
        }
        s += 3;
    }
    return NULL;
}

/* 1 when text is one of the path forms of the header. */
static int read_path(apr_pool_t *pool, const char *text, path_t *p)
{
    const char *s = text;
    size_t len;

    memset(p, 0, sizeof(*p));
    p->elem = -1;
    if (strlen(text) > CR_PATCH_MAX_PATH || strncmp(s, "Patient", 7) != 0) {
        return 0;
    }
    s += 7;
    if (*s == '\0') {
        p->root = 1;
        return 1;
    }
    if (*s != '.') {
        return 0;
    }
    ident(s + 1, &len);
    p->elem = element(s + 1, len);
    if (p->elem < 0) {
        return 0;
    }
    s += 1 + len;
    if (*s == '\0') {
        return 1;
    }
    if (!elements[p->elem].repeating || strncmp(s, ".where(", 7) != 0) {
        return 0;
    }
    p->where = apr_array_make(pool, 2, sizeof(cr_patch_cond_t));
    s = read_where(pool, s + 7, p->where);
    return s != NULL && *skip_ws(s) == '\0';
}

/* ---- one operation ----------------------------------------------------------- */

/* The value[x] of the value part, its key into *key. */
static json_object *value_of(json_object *part, const char **key)
{
    *key = NULL;
    {
        json_object_object_foreach(part, k, v) {
            if (strncmp(k, "value", 5) == 0 && k[5] >= 'A' && k[5] <= 'Z') {
                *key = k;
                return v;
            }
        }
    }
    return NULL;
}

/* The value's check for a single element of kind (by value[x]): its
 * Patient member, or NULL when the type is wrong. */
static const char *single_member(int elem, const char *vkey, json_object *v)
{
    int k;

    for (k = 0; elements[k].path_name; k++) {
        if (elements[k].repeating || elements[k].member == NULL
            || strcmp(elements[k].kind, elements[elem].kind) != 0
            || strcmp(elements[k].vtype, vkey) != 0) {
            continue;
        }
        if (elements[elem].member
            && strcmp(elements[elem].member, elements[k].member) != 0) {
            return NULL;
        }
        break;
    }
    if (elements[k].path_name == NULL) {
        return NULL;
    }
    if (strcmp(vkey, "valueBoolean") == 0) {
        return json_object_is_type(v, json_type_boolean)
               ? elements[k].member : NULL;
    }
    if (strcmp(vkey, "valueInteger") == 0) {
        return json_object_is_type(v, json_type_int)
               && json_object_get_int64(v) >= 1
               && json_object_get_int64(v) <= 16
               ? elements[k].member : NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    {
        const char *s = json_object_get_string(v);
        cr_datetime_t dt;
        if (strcmp(vkey, "valueCode") == 0) {
            return strcmp(s, "male") == 0 || strcmp(s, "female") == 0
                   || strcmp(s, "other") == 0 || strcmp(s, "unknown") == 0
                   ? elements[k].member : NULL;
        }
        if (strcmp(vkey, "valueDate") == 0) {
            return cr_datetime_parse_date(&dt, s) == APR_SUCCESS
                   ? elements[k].member : NULL;
        }
        return cr_datetime_parse_datetime(&dt, s) == APR_SUCCESS
               ? elements[k].member : NULL;
    }
}

static void read_op(reader_t *r, json_object *opp, int i, const char *oexpr,
                    apr_array_header_t *ops)
{
    json_object *parts = cr_json_get_array(opp, "part");
    size_t j, n = parts ? json_object_array_length(parts) : 0;
    const char *type = NULL, *path = NULL, *name = NULL, *vkey = NULL;
    const char *texpr = NULL, *pexpr = NULL, *nexpr = NULL, *vexpr = NULL;
    json_object *value = NULL;
    int has_index = 0, elem;
    path_t p;
    cr_patch_op_t o, *op;

    if (n == 0 || n > CR_PATCH_MAX_PARTS) {
        problem(r, CR_BC_RP_PATCH_PARAMS, 400, oexpr,
                "an operation has 1 to 10 parts");
        return;
    }
    for (j = 0; j < n; j++) {
        json_object *part = json_object_array_get_idx(parts, j);
        const char *pn = cr_json_get_string(part, "name");
        const char *px = apr_psprintf(r->pool, "%s.part[%d]", oexpr, (int)j);
        if (pn == NULL) {
            problem(r, CR_BC_RP_PATCH_PARAMS, 400, px, "a part needs a name");
            return;
        }
        if (strcmp(pn, "type") == 0 && type == NULL) {
            type = cr_json_get_string(part, "valueCode");
            texpr = px;
        }
        else if (strcmp(pn, "path") == 0 && path == NULL) {
            path = cr_json_get_string(part, "valueString");
            pexpr = px;
        }
        else if (strcmp(pn, "name") == 0 && name == NULL) {
            name = cr_json_get_string(part, "valueString");
            nexpr = px;
        }
        else if (strcmp(pn, "value") == 0 && vexpr == NULL) {
            value = value_of(part, &vkey);
            vexpr = px;
        }
        else if (strcmp(pn, "index") == 0 && !has_index) {
            json_object *ix = cr_json_get(part, "valueInteger");
            has_index = ix && json_object_is_type(ix, json_type_int)
                        && json_object_get_int64(ix) >= 0 ? 1 : -1;
        }
        else if (strcmp(pn, "source") == 0
                 || strcmp(pn, "destination") == 0) {
            continue;   /* move's parts: the type is refused below */
        }
        else {
            problem(r, CR_BC_RP_PATCH_PARAMS, 400, px,
                    apr_psprintf(r->pool, "part '%.40s' unknown or repeated",
                                 pn));
            return;
        }
    }
    if (type == NULL || path == NULL) {
        problem(r, CR_BC_RP_PATCH_PARAMS, 400, type ? oexpr : texpr
                ? texpr : oexpr, type == NULL
                ? "an operation needs a type (valueCode)"
                : "an operation needs a path (valueString)");
        return;
    }
    if (strcmp(type, "add") != 0 && strcmp(type, "insert") != 0
        && strcmp(type, "replace") != 0 && strcmp(type, "delete") != 0) {
        problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, texpr,
                apr_psprintf(r->pool, "operation type '%.20s'; the "
                             "registry applies add, insert, replace and "
                             "delete", type));
        return;
    }
    if (!read_path(r->pool, path, &p)) {
        problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, pexpr,
                apr_psprintf(r->pool, "path '%.80s'", path));
        return;
    }
    elem = p.elem;
    if (strcmp(type, "add") == 0) {
        /* add: path Patient, the element named by name */
        if (!p.root || name == NULL) {
            problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, p.root ? oexpr
                    : pexpr, "add takes path 'Patient' and the element's "
                    "name");
            return;
        }
        elem = element(name, strlen(name));
        if (elem < 0) {
            problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, nexpr,
                    apr_psprintf(r->pool, "element '%.40s'", name));
            return;
        }
    }
    else if (p.root || (strcmp(type, "insert") == 0
                        && (!elements[elem].repeating || p.where))) {
        problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, pexpr,
                strcmp(type, "insert") == 0
                ? "insert takes path Patient.name, Patient.telecom or "
                  "Patient.address"
                : "the path names no element of Patient");
        return;
    }
    else if (strcmp(type, "insert") == 0 && has_index != 1) {
        problem(r, CR_BC_RP_PATCH_PARAMS, 400, oexpr,
                "insert needs an index (valueInteger, 0 or more)");
        return;
    }
    else if (elements[elem].repeating && strcmp(type, "insert") != 0
             && p.where == NULL) {
        problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, pexpr,
                "a name, telecom or address is replaced or deleted by "
                "selecting it with where(...)");
        return;
    }
    /* Built here and added to ops only when whole: a refused operation
     * leaves no half-read entry behind. */
    memset(&o, 0, sizeof(o));
    op = &o;
    op->index = i;
    op->type = type;
    op->kind = elements[elem].kind;
    op->repeating = elements[elem].repeating;
    op->where = p.where;
    op->expr = oexpr;
    op->path_expr = pexpr;
    op->action = strcmp(type, "delete") == 0 ? CR_PATCH_DELETE
                 : strcmp(type, "replace") == 0 && op->repeating
                 ? CR_PATCH_REPLACE : CR_PATCH_ADD;
    if (op->action == CR_PATCH_DELETE) {
        if (vexpr) {
            problem(r, CR_BC_RP_PATCH_PARAMS, 400, vexpr,
                    "delete takes no value");
            return;
        }
        *(cr_patch_op_t *)apr_array_push(ops) = o;
        return;
    }
    if (value == NULL) {
        problem(r, CR_BC_RP_PATCH_PARAMS, 400, vexpr ? vexpr : oexpr,
                apr_psprintf(r->pool, "%s needs a value", type));
        return;
    }
    if (op->repeating) {
        if (strcmp(vkey, elements[elem].vtype) != 0
            || !json_object_is_type(value, json_type_object)) {
            problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, vexpr,
                    apr_psprintf(r->pool, "%s takes %s", op->kind,
                                 elements[elem].vtype));
            return;
        }
    }
    else {
        op->member = single_member(elem, vkey, value);
        if (op->member == NULL) {
            problem(r, CR_BC_RP_PATCH_UNSUPPORTED, 422, vexpr,
                    apr_psprintf(r->pool, "%.20s is not a valid value of "
                                 "%s", vkey, op->kind));
            return;
        }
    }
    op->value = value;
    *(cr_patch_op_t *)apr_array_push(ops) = o;
}

/* ---- the request ------------------------------------------------------------- */

static const char *id_value(json_object *p)
{
    json_object *vi = cr_json_get_object(p, "valueIdentifier");
    const char *v = vi ? cr_json_get_string(vi, "value") : NULL;

    return v && *v ? v : NULL;
}

int cr_fhir_patch_parse(cr_patch_req_t **out, apr_pool_t *pool,
                        json_object *body, cr_outcome_t *oc)
{
    reader_t r;
    cr_patch_req_t *q = apr_pcalloc(pool, sizeof(*q));
    json_object *ps = cr_json_get_array(body, "parameter");
    json_object *patch = NULL;
    const char *patch_expr = NULL;
    size_t i, n = ps ? json_object_array_length(ps) : 0;
    int seen_date = 0, seen_mid = 0;

    r.pool = pool;
    r.oc = oc;
    r.status = 0;
    q->ops = apr_array_make(pool, 4, sizeof(cr_patch_op_t));
    *out = q;
    if (!cr_fhir_patch_is_request(body) || n == 0
        || n > CR_PATCH_MAX_PARAMS) {
        problem(&r, CR_BC_RP_PATCH_PARAMS, 400, "Parameters",
                "a Parameters with 1 to 20 parameters");
        return r.status;
    }
    for (i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(ps, i);
        const char *name = cr_json_get_string(p, "name");
        const char *x = apr_psprintf(pool, TOP, (int)i);
        const char **slot = NULL, *v = NULL;
        if (name == NULL) {
            problem(&r, CR_BC_RP_PATCH_PARAMS, 400, x, "a parameter needs a "
                    "name");
            continue;
        }
        if (strcmp(name, "messageId") == 0) {
            slot = &q->message_id;
            v = cr_json_get_string(p, "valueString");
            seen_mid++;
        }
        else if (strcmp(name, "messageDate") == 0
                 || strcmp(name, "messageDateTime") == 0) {
            /* the OperationDefinition's messageDate (string) or the IG
             * example's messageDateTime (dateTime) */
            cr_datetime_t dt;
            slot = &q->message_date;
            v = cr_json_get_string(p, name[7] == 'D' && name[11]
                                   ? "valueDateTime" : "valueString");
            if (v == NULL) {
                v = cr_json_get_string(p, "valueDateTime");
            }
            if (v && cr_datetime_parse_datetime(&dt, v) != APR_SUCCESS) {
                v = NULL;
            }
            seen_date++;
        }
        else if (strcmp(name, "PHN") == 0) {
            slot = &q->phn;
            v = cr_json_get_string(p, "valueString");
            q->phn_expr = apr_pstrcat(pool, x, ".valueString", NULL);
        }
        else if (strcmp(name, "sender") == 0) {
            slot = &q->sender;
            v = id_value(p);
        }
        else if (strcmp(name, "enterer") == 0) {
            slot = &q->enterer;
            v = id_value(p);
        }
        else if (strcmp(name, "patchOperation") == 0) {
            if (patch_expr) {
                problem(&r, CR_BC_RP_PATCH_PARAMS, 400, x,
                        "patchOperation may be sent once");
                continue;
            }
            patch = cr_json_get_object(p, "resource");
            patch_expr = x;
            continue;
        }
        else {
            problem(&r, CR_BC_RP_PATCH_PARAMS, 400, x, apr_psprintf(
                pool, "parameter '%.40s' is not one of this operation",
                name));
            continue;
        }
        if (*slot) {
            problem(&r, CR_BC_RP_PATCH_PARAMS, 400, x, apr_psprintf(
                pool, "%s may be sent once", name));
        }
        else if (v == NULL || *v == '\0') {
            problem(&r, CR_BC_RP_PATCH_PARAMS, 400, x, apr_psprintf(
                pool, "%s has no valid value of its type", name));
        }
        else {
            *slot = v;
        }
    }
    if (!seen_mid) {
        cr_bc_add(oc, CR_BC_TXN_RP, CR_BC_MESSAGE_ID, "Parameters", NULL);
        r.status = 400;
    }
    if (!seen_date || q->phn == NULL || q->sender == NULL
        || patch_expr == NULL) {
        problem(&r, CR_BC_RP_PATCH_PARAMS, 400, "Parameters", apr_pstrcat(
            pool, "required:", seen_date ? "" : " messageDate",
            q->phn || q->phn_expr ? "" : " PHN",
            q->sender ? "" : " sender",
            patch_expr ? "" : " patchOperation", NULL));
    }
    if (patch_expr) {
        json_object *pops = cr_json_get_array(patch, "parameter");
        const char *rt = cr_json_get_string(patch, "resourceType");
        size_t k, m = pops ? json_object_array_length(pops) : 0;
        if (rt == NULL || strcmp(rt, "Parameters") != 0 || m == 0
            || m > CR_PATCH_MAX_OPS) {
            problem(&r, CR_BC_RP_PATCH_PARAMS, 400, apr_pstrcat(
                pool, patch_expr, ".resource", NULL),
                "patchOperation is a Parameters with 1 to 20 operations");
            return r.status;
        }
        for (k = 0; k < m; k++) {
            json_object *opp = json_object_array_get_idx(pops, k);
            const char *on = cr_json_get_string(opp, "name");
            const char *ox = apr_psprintf(pool, "%s.resource.parameter[%d]",
                                          patch_expr, (int)k);
            if (on == NULL || strcmp(on, "operation") != 0) {
                problem(&r, CR_BC_RP_PATCH_PARAMS, 400, ox,
                        "every patch parameter is an operation");
                continue;
            }
            read_op(&r, opp, (int)k, ox, q->ops);
        }
    }
    return r.status;
}

/* ---- the selection ------------------------------------------------------------- */

const char *cr_fhir_patch_key(apr_pool_t *pool, const char *kind,
                              json_object *v)
{
    const char *use = cr_json_get_string(v, "use");

    if (strcmp(kind, "telecom") == 0) {
        const char *sys = cr_json_get_string(v, "system");
        return apr_pstrcat(pool, sys ? sys : "", "|", use ? use : "", NULL);
    }
    if (strcmp(kind, "address") == 0) {
        const char *type = cr_json_get_string(v, "type");
        return type ? type : "";
    }
    return use ? use : "";
}

static int matches(const cr_patch_op_t *op, json_object *v)
{
    int k;

    for (k = 0; op->where && k < op->where->nelts; k++) {
        const cr_patch_cond_t *c = &APR_ARRAY_IDX(op->where, k,
                                                  cr_patch_cond_t);
        const char *s = cr_json_get_string(v, c->field);
        if (s == NULL || strcmp(s, c->literal) != 0) {
            return 0;
        }
    }
    return 1;
}

cr_patch_sel_e cr_fhir_patch_select(apr_pool_t *pool,
                                    const cr_patch_op_t *op,
                                    json_object *const *vals, int n,
                                    int *selected)
{
    const char *chosen = NULL, *vkey = NULL;
    int i, several = 0, vkey_matched = 0;

    if (n > CR_COMPOSITE_MAX_ATTRS) {
        n = CR_COMPOSITE_MAX_ATTRS;
    }
    if (op->action == CR_PATCH_REPLACE && op->value) {
        vkey = cr_fhir_patch_key(pool, op->kind, op->value);
    }
    for (i = 0; i < n; i++) {
        const char *key;
        selected[i] = 0;
        if (!matches(op, vals[i])) {
            continue;
        }
        key = cr_fhir_patch_key(pool, op->kind, vals[i]);
        if (chosen == NULL) {
            chosen = key;
        }
        else if (strcmp(chosen, key) != 0) {
            several = 1;
        }
        if (vkey && strcmp(vkey, key) == 0) {
            vkey_matched = 1;
        }
    }
    if (chosen == NULL) {
        return CR_PATCH_SEL_NONE;
    }
    if (several) {
        if (!vkey_matched) {
            return CR_PATCH_SEL_AMBIGUOUS;
        }
        chosen = vkey;
    }
    for (i = 0; i < n; i++) {
        selected[i] = strcmp(cr_fhir_patch_key(pool, op->kind, vals[i]),
                             chosen) == 0;
    }
    return CR_PATCH_SEL_OK;
}
