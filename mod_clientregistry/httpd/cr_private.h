/* cr_private: the include hub of the glue layer (the files that talk to
 * httpd): httpd's headers, the module's log binding and its log tag
 * macro.  Each glue file's own prototypes live in its own header
 * (cr_config.h, cr_handler.h, ...).  Core, store and service files never
 * include it: the build checks that (tools/check-layers). */
#ifndef CR_PRIVATE_H
#define CR_PRIVATE_H

#include <apr_optional.h>
#include <apr_strings.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

/* httpd.h pulls in ap_config_auto.h, whose PACKAGE_* macros clash with
 * ours; the glue never needs either. */
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_VERSION
#undef PACKAGE_BUGREPORT
#undef PACKAGE_URL

#include "core/cr_log.h"

/* mod_clientregistry.c gets this from AP_DECLARE_MODULE. */
#ifndef CR_MODULE_MAIN
APLOG_USE_MODULE(clientregistry);
#endif
extern module AP_MODULE_DECLARE_DATA clientregistry_module;

#endif /* CR_PRIVATE_H */
