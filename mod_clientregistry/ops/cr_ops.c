/* cr_ops: the operation table (see cr_ops.h). */
#include <string.h>

#include "ops/cr_ops.h"
#include "ops/cr_ops_maintain.h"
#include "ops/cr_ops_match.h"
#include "ops/cr_ops_query.h"

const cr_op_t cr_ops_table[] = {
    { "match", cr_ops_match_run, CR_PERM_READ,
      "http://hl7.org/fhir/OperationDefinition/Patient-match" },
    { "potential-duplicates", cr_ops_match_duplicates, CR_PERM_ADMIN,
      "https://mod-clientregistry.invalid/OperationDefinition/"
      "Patient-potential-duplicates" },
    { "resolve-duplicate", cr_ops_match_resolve_duplicate, CR_PERM_ADMIN,
      "https://mod-clientregistry.invalid/OperationDefinition/"
      "Patient-resolve-duplicate" },
    { "FindCandidates", cr_ops_query_find_candidates, CR_PERM_READ,
      CR_OPDEF_FIND_CANDIDATES },
    { "GetDemographics", cr_ops_query_get_demographics, CR_PERM_READ,
      CR_OPDEF_GET_DEMOGRAPHICS },
    { "GetDemographics.History", cr_ops_query_get_demographics_history,
      CR_PERM_READ, CR_OPDEF_GET_DEMOGRAPHICS },
    { "AddPatient", cr_ops_maintain_add, CR_PERM_WRITE, CR_OPDEF_ADD },
    { "RevisePatient", cr_ops_maintain_revise, CR_PERM_WRITE,
      CR_OPDEF_REVISE },
    { "PartialUpdatePatient", cr_ops_maintain_partial_update,
      CR_PERM_WRITE, CR_OPDEF_UPDATE },
    { "PartialRevisePatient", cr_ops_maintain_partial_revise,
      CR_PERM_WRITE, CR_OPDEF_PARTIAL_REVISE },
    { "MergePatient", cr_ops_maintain_merge, CR_PERM_MERGE,
      CR_OPDEF_MERGE },
    { "UnmergePatient", cr_ops_maintain_unmerge, CR_PERM_MERGE,
      CR_OPDEF_MERGE },
    { "merge", cr_ops_maintain_fhir_merge, CR_PERM_MERGE, CR_OPDEF_MERGE },
    { "merge.Async", cr_ops_maintain_fhir_merge_async, CR_PERM_MERGE,
      CR_OPDEF_MERGE },
    { "AddPatient.Async", cr_ops_maintain_add_async, CR_PERM_WRITE,
      CR_OPDEF_ADD },
    { "RevisePatient.Async", cr_ops_maintain_revise_async, CR_PERM_WRITE,
      CR_OPDEF_REVISE },
    { "PartialUpdatePatient.Async", cr_ops_maintain_partial_async,
      CR_PERM_WRITE, CR_OPDEF_UPDATE },
    { "MergePatient.Async", cr_ops_maintain_merge_async, CR_PERM_MERGE,
      CR_OPDEF_MERGE },
    { NULL, NULL, CR_PERM_READ, NULL }
};

const cr_op_t *cr_ops_find(const char *name)
{
    const cr_op_t *op;

    for (op = cr_ops_table; op->name; op++) {
        if (strcmp(op->name, name) == 0) {
            return op;
        }
    }
    return NULL;
}

const char *cr_ops_permission_name(cr_permission_e p)
{
    switch (p) {
    case CR_PERM_READ:
        return "read";
    case CR_PERM_WRITE:
        return "write";
    case CR_PERM_MERGE:
        return "merge";
    default:
        return "admin";
    }
}

int cr_ops_bundle_based(const cr_op_t *op)
{
    return op != NULL && op->name[0] >= 'A' && op->name[0] <= 'Z';
}
