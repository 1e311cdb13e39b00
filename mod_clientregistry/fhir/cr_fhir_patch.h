/* cr_fhir_patch: the G2 `$PartialRevisePatient` request in its FHIR-Patch
 * form (operations.md 9.3, CR-LEG-002) read into plain C, and the rule
 * that decides which of a client's current values a patch path selects.
 *
 * The request is a Parameters: messageId, messageDate (or
 * messageDateTime), PHN, sender, enterer and patchOperation, a FHIR Patch
 * Parameters whose `operation` parameters carry type, path, name, value.
 * Of FHIRPath only the forms a client's demographics need are read:
 * `Patient` with a name (add), `Patient.<element>` (replace or delete a
 * single-valued element, insert a repeating one) and
 * `Patient.<name|telecom|address>.where(<field> = '<text>' [and ...])`
 * (replace or delete the value it selects).  Everything else (move,
 * indexes, deeper paths, other functions) is refused naming the operation
 * and its part.  The selection rule (cr_fhir_patch_select) is here so it
 * is unit tested without a store; ops/cr_op_partial_patch.c applies the
 * operations to the stored client.  docs/partial-revise-patch.md
 * documents both.  Pure: problems become OperationOutcome issues with
 * their BCHCIM code (fhir/cr_bc_codes.c) and FHIRPath expression.
 */
#ifndef CR_FHIR_PATCH_H
#define CR_FHIR_PATCH_H

#include <apr_tables.h>
#include <json-c/json.h>

#include "core/cr_outcome.h"

/* Bounds on the request: parameters, patch operations, parts of one
 * operation, conditions of one where(), the length of a path. */
#define CR_PATCH_MAX_PARAMS 20
#define CR_PATCH_MAX_OPS 20
#define CR_PATCH_MAX_PARTS 10
#define CR_PATCH_MAX_CONDS 5
#define CR_PATCH_MAX_PATH 256

typedef enum {
    CR_PATCH_ADD,       /* add a value (add, insert; a single: set it) */
    CR_PATCH_REPLACE,   /* end what the path selects, add the value */
    CR_PATCH_DELETE     /* end what the path selects */
} cr_patch_action_e;

/* One condition of a where(): field = 'literal'. */
typedef struct cr_patch_cond_t {
    const char *field, *literal;
} cr_patch_cond_t;

typedef struct cr_patch_op_t {
    int index;                  /* position in patchOperation.parameter */
    const char *type;           /* as sent: add, insert, replace, delete */
    cr_patch_action_e action;
    const char *kind;           /* name, telecom, address, gender,
                                   birthDate, deceased, multipleBirth */
    int repeating;              /* name, telecom, address */
    const char *member;         /* a single's Patient member for value
                                   ("deceasedDateTime"), else NULL */
    apr_array_header_t *where;  /* of cr_patch_cond_t; NULL: none */
    json_object *value;         /* the element or primitive, or NULL */
    const char *expr;           /* the operation in the request */
    const char *path_expr;      /* its path part */
} cr_patch_op_t;

typedef struct cr_patch_req_t {
    const char *message_id, *message_date, *phn, *sender, *enterer;
    const char *phn_expr;
    apr_array_header_t *ops;    /* of cr_patch_op_t, in request order */
} cr_patch_req_t;

/* 1 when body is a $PartialRevisePatient request in the FHIR-Patch form:
 * a Parameters that is not the operationBundle wrapper of a BC Bundle. */
int cr_fhir_patch_is_request(json_object *body);

/* Read body into *out (from pool).  0 when well formed; else the HTTP
 * status (400 for the shape, 422 for an operation the registry does not
 * apply) after adding every problem to oc (transaction RP). */
int cr_fhir_patch_parse(cr_patch_req_t **out, apr_pool_t *pool,
                        json_object *body, cr_outcome_t *oc);

/* The key under which the composite shows one value of a repeating kind
 * (CR-PAT-009): name.use, telecom.system|use, address.type. */
const char *cr_fhir_patch_key(apr_pool_t *pool, const char *kind,
                              json_object *v);

typedef enum {
    CR_PATCH_SEL_OK,
    CR_PATCH_SEL_NONE,
    CR_PATCH_SEL_AMBIGUOUS
} cr_patch_sel_e;

/* Which of the client's current values vals[0..n) (of op->kind) op's
 * where() selects: the values it matches must fall under one key of
 * cr_fhir_patch_key, else the key of a replace's value decides among
 * them.  selected[i] is set for every current value under the chosen key
 * (all of them are ended, so the client shows none, or the replacement).
 * At most CR_COMPOSITE_MAX_ATTRS values are looked at. */
cr_patch_sel_e cr_fhir_patch_select(apr_pool_t *pool,
                                    const cr_patch_op_t *op,
                                    json_object *const *vals, int n,
                                    int *selected);

#endif /* CR_FHIR_PATCH_H */
