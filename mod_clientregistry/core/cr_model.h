/* cr_model: small types shared by every layer that are not FHIR resources:
 * who is calling (the caller identity recorded as provenance and audit)
 * and the registry's settings that core and store code need to know. */
#ifndef CR_MODEL_H
#define CR_MODEL_H

#include <apr.h>

/* Who made a request.  Filled by the glue layer from the verified TLS
 * client certificate (through the identity mapping directives), the
 * request's UserId header and, failing those, the request's own sender;
 * recorded with every version written. */
typedef struct cr_caller_t {
    const char *source_system;  /* HCIM source code, e.g. "FHA_MT" */
    const char *org_id;         /* organisation code (the IG's sender) */
    const char *user_id;        /* end user, "<userid>@<idp>" */
    const char *client_dn;      /* verified certificate subject, or the
                                   bearer token's client, or NULL */
    int privileged;             /* sees restricted clients unmasked and
                                   bc-sourceId-extension (httpd decides:
                                   ClientRegistryPrivileged) */
} cr_caller_t;

/* PHN bodies (the 8 digits between the leading 9 and the check digit) the
 * registry may assign; both ends inclusive.  phn.md DECISION-16. */
typedef struct cr_phn_range_t {
    apr_int64_t first;
    apr_int64_t last;
} cr_phn_range_t;

#endif /* CR_MODEL_H */
