/* cr_ops: the operation table (see cr_ops.h). */
#include <string.h>

#include "cr_ops.h"

const cr_op_t cr_ops_table[] = {
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
