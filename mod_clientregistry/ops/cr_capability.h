/* cr_capability: the CapabilityStatement, generated from what the module
 * serves (interactions, search parameters, formats, settings). */
#ifndef CR_CAPABILITY_H
#define CR_CAPABILITY_H

#include "ops/cr_service.h"

/* GET [base]/metadata. */
void cr_capability_get(cr_ctx_t *ctx, const char *software_version);

#endif /* CR_CAPABILITY_H */
