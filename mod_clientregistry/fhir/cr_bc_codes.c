/* cr_bc_codes: the table of HCIM message codes (see cr_bc_codes.h).
 *
 * Numbering of the codes the registry invented (DECISION-08): 0100-0119
 * envelope problems common to every transaction, 0120-0129 FindCandidates
 * criteria, 0130-0139 GetDemographics look-ups, 0140-0164 the rejections
 * of the maintenance operations (Add, Revise, Merge and unmerge, Partial
 * update).  The IG's own numbers (0000-0021) are never reused for another
 * meaning.  Keep this table and docs/bc-codes.md in step
 * (t/unit/test_cr_fhir_envelope.c checks it).
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "fhir/cr_bc_codes.h"

#define I CR_SEV_INFORMATION
#define W CR_SEV_WARNING
#define E CR_SEV_ERROR

const cr_bc_code_t cr_bc_codes[] = {
    { CR_BC_INVALID, "*", E, 100, "invalid",
      "The message is invalid. Correct it and resubmit.", "registry" },
    { CR_BC_NOT_BUNDLE, "*", E, 101, "structure",
      "The request body must be a Bundle (or a Parameters resource "
      "carrying the Bundle as operationBundle).", "registry" },
    { CR_BC_BUNDLE_TYPE, "*", E, 102, "value",
      "The request Bundle.type must be 'collection'.", "registry" },
    { CR_BC_ENTRY_FULLURL, "*", E, 103, "required",
      "Every request Bundle entry must have a fullUrl.", "registry" },
    { CR_BC_ENTRY_RESOURCE, "*", E, 104, "required",
      "Every request Bundle entry must have a resource.", "registry" },
    { CR_BC_ENTRY_COUNT, "*", E, 105, "invariant",
      "The request Bundle has a number of entries this operation does not "
      "accept.", "registry" },
    { CR_BC_PARAMETERS, "*", E, 106, "required",
      "The request must contain exactly one MetadataParametersIn "
      "Parameters entry.", "registry" },
    { CR_BC_MESSAGE_ID, "*", E, 107, "required",
      "The request Parameters must contain exactly one messageId "
      "(valueString).", "registry" },
    { CR_BC_FLAG_TYPE, "*", E, 108, "value",
      "The request flags history and identifiersOnly must be "
      "valueBoolean.", "registry" },
    { CR_BC_PATIENT_COUNT, "*", E, 109, "invariant",
      "The request has a number of Patient entries this operation does "
      "not accept.", "registry" },
    { CR_BC_RELATED_COUNT, "*", E, 110, "invariant",
      "The request has a number of RelatedPerson entries this operation "
      "does not accept.", "registry" },
    { CR_BC_WRAPPER, "*", E, 111, "structure",
      "A Parameters request body must carry exactly one parameter, "
      "operationBundle, whose resource is the request Bundle.",
      "registry" },
    { CR_BC_PARAM_REPEATED, "*", E, 112, "invariant",
      "A request parameter that may appear once appears more than once.",
      "registry" },
    { CR_BC_ENTRY_TYPE, "*", E, 113, "invariant",
      "The request contains an entry of a resource type this operation "
      "does not accept.", "registry" },
    { CR_BC_UNAVAILABLE, "*", E, 4, "transient",
      "The Client Registry is unavailable. Try again later.",
      "BC client" },
    { CR_BC_WARNING, "*", W, 100, "informational",
      "The request was processed with changes.", "registry" },
    { CR_BC_INTERNAL, "*", E, 114, "exception",
      "The Client Registry could not process the request; it was not "
      "applied.", "registry" },

    { CR_BC_FC_OK, "FC", I, 12, "business-rule",
      "The search completed successfully.", "IG" },
    { CR_BC_FC_NO_RESULTS, "FC", I, 18, "business-rule",
      "The search completed successfully and found no matching client.",
      "BC client" },
    { CR_BC_FC_EXACTLY_ONE, "FC", E, 120, "invariant",
      "A Find Candidates request carries exactly one of a Patient or a "
      "RelatedPerson (invariant-fc-1).", "registry" },
    { CR_BC_FC_NAME, "FC", E, 121, "business-rule",
      "The search needs the client's family name and given name.",
      "registry" },
    { CR_BC_FC_SECOND, "FC", E, 122, "business-rule",
      "Besides the name, the search needs at least one of birth date, "
      "address line, postal code or phone.", "registry" },
    { CR_BC_FC_WILDCARD, "FC", E, 123, "business-rule",
      "Wildcard characters (* % ?) are not allowed in search values.",
      "registry" },
    { CR_BC_FC_MOTHER_PHN, "FC", E, 124, "business-rule",
      "The mother's PHN is not a valid PHN.", "registry" },
    { CR_BC_FC_MOTHER_SHAPE, "FC", E, 125, "business-rule",
      "A search by mother's PHN needs a RelatedPerson with relationship "
      "NMTH and one PHN identifier.", "registry" },
    { CR_BC_FC_PARAM, "FC", E, 126, "not-supported",
      "The search parameter is not supported in this form.", "registry" },

    { CR_BC_GD_OK, "GD", I, 13, "business-rule",
      "The get demographics query completed successfully.", "IG" },
    { CR_BC_GD_NO_RESULTS, "GD", I, 18, "business-rule",
      "The get demographics query completed successfully and found no "
      "client.", "BC client" },
    { CR_BC_GD_NOT_FOUND, "GD", E, 18, "not-found",
      "The client was not found.", "BC client" },
    { CR_BC_GD_MERGED, "GD", W, 15, "business-rule",
      "The identifier you used in the query has been merged. The "
      "surviving identifier was returned.", "IG" },
    { CR_BC_GD_BOTH, "GD", E, 130, "business-rule",
      "The Patient identifies the client by both id and identifier; send "
      "only one of them.", "registry" },
    { CR_BC_GD_NEITHER, "GD", E, 131, "required",
      "The Patient must identify the client by id or by one identifier.",
      "registry" },
    { CR_BC_GD_ONE_IDENTIFIER, "GD", E, 132, "invariant",
      "A get demographics query uses exactly one identifier.",
      "registry" },
    { CR_BC_GD_SYSTEM, "GD", E, 133, "code-invalid",
      "The identifier system is not known to the Client Registry.",
      "registry" },
    { CR_BC_GD_PHN, "GD", E, 134, "business-rule",
      "The PHN is not valid.", "registry" },
    { CR_BC_GD_NO_VALUE, "GD", E, 135, "required",
      "The identifier needs a system and a value.", "registry" },

    { CR_BC_RP_NEW_PHN, "RP", I, 0, "business-rule",
      "The transaction was processed and a new PHN was assigned.", "IG" },
    { CR_BC_RP_EXISTING_PHN, "RP", I, 1, "business-rule",
      "The revise was processed and an existing PHN was found.", "IG" },
    { CR_BC_RP_ACCEPTED, "RP", I, 7, "business-rule",
      "The Revise Person request has been accepted for processing.",
      "IG" },
    { CR_BC_RP_PROCESSED, "RP", I, 21, "business-rule",
      "The revise person request was processed.", "IG" },
    { CR_BC_RP_NAME_FILTERED, "RP", W, 17, "business-rule",
      "The patient name has been modified to filter out invalid "
      "characters.", "IG" },
    { CR_BC_PM_OK, "PM", I, 8, "business-rule",
      "The person merge completed successfully.", "IG" },

    { CR_BC_RP_MINIMUM, "RP", E, 140, "business-rule",
      "The minimum data set is missing: name (use, family, given), "
      "birth date, gender and a PHN, the mother's PHN or an address "
      "(type, line, city, province).", "registry" },
    { CR_BC_RP_PHN, "RP", E, 141, "business-rule",
      "The PHN is not valid (check digit).", "registry" },
    { CR_BC_RP_NAME, "RP", E, 142, "business-rule",
      "A name contains characters that are not allowed.", "registry" },
    { CR_BC_RP_USER, "RP", E, 143, "required",
      "The request has no user id (UserId header or enterer).", "registry" },
    { CR_BC_RP_DEATH, "RP", E, 144, "business-rule",
      "A date of death or death indicator needs a PHN.", "registry" },
    { CR_BC_RP_NO_SRI, "RP", E, 145, "business-rule",
      "The request has no source record identifier and the sender is "
      "not a PHN-bound source.", "registry" },
    { CR_BC_RP_MOTHER, "RP", E, 146, "business-rule",
      "The mother's PHN is not valid or not known to the registry.",
      "registry" },
    { CR_BC_RP_RELATED, "RP", E, 147, "business-rule",
      "The RelatedPerson must have relationship NMTH and the mother's "
      "PHN.", "registry" },
    { CR_BC_RP_DUPLICATE, "RP", E, 148, "duplicate",
      "An identifier of the request is already held by another "
      "client.", "registry" },
    { CR_BC_RP_SENDER, "RP", E, 149, "forbidden",
      "The request's sender is not the authenticated organisation.",
      "registry" },
    { CR_BC_RP_VERSION, "RP", E, 150, "conflict",
      "If-Match does not name the client's current version.", "registry" },
    { CR_BC_RP_SRI_CHARS, "RP", E, 151, "business-rule",
      "The source record identifier contains forbidden characters.",
      "registry" },
    { CR_BC_PM_SURVIVOR, "PM", E, 152, "not-found",
      "The surviving client was not found.", "registry" },
    { CR_BC_PM_NONSURVIVOR, "PM", E, 153, "business-rule",
      "A non-surviving identifier does not resolve to one client.",
      "registry" },
    { CR_BC_PM_SAME, "PM", E, 154, "business-rule",
      "The surviving and non-surviving identifiers are the same "
      "record.", "registry" },
    { CR_BC_PM_MERGED, "PM", E, 155, "business-rule",
      "The non-surviving client has already been merged.", "registry" },
    { CR_BC_PM_NO_MERGE, "PM", E, 156, "not-found",
      "No merge of that identifier into that survivor was found.",
      "registry" },
    { CR_BC_PM_UNMERGED, "PM", I, 157, "business-rule",
      "The unmerge completed; the records are as before the merge.",
      "registry" },
    { CR_BC_PM_MERGE_SHAPE, "PM", E, 158, "required",
      "The merge Patient needs the survivor's identifier and at least "
      "one link of type replaces with the non-survivor's identifier.",
      "registry" },
    { CR_BC_RP_UPD_IDENTIFIER, "RP", E, 159, "business-rule",
      "A partial update names exactly one identifier, the sender's "
      "primary identifier, which must already exist in the registry.",
      "registry" },
    { CR_BC_RP_UPD_NOTHING, "RP", E, 160, "invariant",
      "A partial update must change at least one of name, telecom, "
      "gender, birth date, deceased, address or multiple birth "
      "(invariant-update-1).", "registry" },
    { CR_BC_RP_UPD_OP, "RP", E, 161, "code-invalid",
      "The update operation must be add, delete or replace.", "registry" },
    { CR_BC_RP_EFFECTIVE, "RP", E, 163, "required",
      "The Patient has no effective date (root "
      "bc-business-period-extension with valuePeriod.start).", "registry" },
    { CR_BC_RP_REVIEW, "RP", W, 164, "business-rule",
      "A new client was created; existing clients that may be the "
      "same person were listed for review ($potential-duplicates).",
      "registry" },
    { CR_BC_RP_PATCH_PARAMS, "RP", E, 165, "structure",
      "A $PartialRevisePatient request in the FHIR-Patch form is a "
      "Parameters with messageId, messageDate, PHN, sender, at most one "
      "enterer and one patchOperation (a Parameters of operation parts "
      "type, path, name, value).", "registry" },
    { CR_BC_RP_PATCH_UNSUPPORTED, "RP", E, 166, "not-supported",
      "The patch operation's type, path or value is not one the registry "
      "applies to a client.", "registry" },
    { CR_BC_RP_PATCH_NONE, "RP", E, 167, "not-found",
      "The patch operation's path selects no current value of the "
      "client.", "registry" },
    { CR_BC_RP_PATCH_AMBIGUOUS, "RP", E, 168, "business-rule",
      "The patch operation's path selects values of more than one name "
      "use, telecom system and use, or address type, and its value does "
      "not say which.", "registry" },
    { CR_BC_PM_PARAMS, "PM", E, 180, "structure",
      "A $merge request is a Parameters resource with only source-patient "
      "and target-patient (valueReference), source-patient-identifier and "
      "target-patient-identifier (valueIdentifier with system and value) "
      "and result-patient (a Patient), each at most as often as the "
      "operation allows.", "registry" },
    { CR_BC_PM_NO_TARGET, "PM", E, 181, "required",
      "The merge names no target: send target-patient or "
      "target-patient-identifier.", "registry" },
    { CR_BC_PM_NO_SOURCE, "PM", E, 182, "required",
      "The merge names no source: send source-patient or "
      "source-patient-identifier.", "registry" },
    { CR_BC_PM_SOURCE_UNKNOWN, "PM", E, 183, "not-found",
      "The source patient was not found.", "registry" },
    { CR_BC_PM_SOURCE_SEVERAL, "PM", E, 184, "business-rule",
      "The source-patient reference and source-patient-identifier values "
      "do not resolve to one single client.", "registry" },
    { CR_BC_PM_TARGET_SEVERAL, "PM", E, 185, "business-rule",
      "The target-patient reference and target-patient-identifier values "
      "do not resolve to one single client.", "registry" },
    { CR_BC_PM_RESULT_ID, "PM", E, 186, "business-rule",
      "The result-patient must have the id of the target patient.",
      "registry" },
    { CR_BC_PM_RESULT_LINK, "PM", E, 187, "business-rule",
      "The result-patient must have a link of type replaces to the source "
      "patient.", "registry" },
    { CR_BC_PM_MERGE_STATUS, "PM", E, 188, "code-invalid",
      "The bc-merge-status-extension must be obsolete or cancelled.",
      "registry" },
    { CR_BC_PM_PREVIEW, "PM", E, 189, "not-supported",
      "The Client Registry has no preview mode for $merge.", "registry" },
    { CR_BC_MSG_REUSED, "*", E, 440, "duplicate",
      "The messageId was already used by this sender for a different "
      "request.", "registry" },
    { CR_BC_MSG_PENDING, "*", E, 441, "conflict",
      "A request with this messageId from this sender is being "
      "processed; its answer is not available.", "registry" },
    { CR_BC_MSG_COUNT, NULL, I, 0, NULL, NULL, NULL }
};

#undef I
#undef W
#undef E

static const char *const txn_names[] = { "FC", "GD", "RP", "PM" };

const cr_bc_code_t *cr_bc_code_row(cr_bc_msg_e msg)
{
    if ((int)msg < 0 || msg >= CR_BC_MSG_COUNT) {
        return &cr_bc_codes[CR_BC_INVALID];
    }
    return &cr_bc_codes[msg];
}

const char *cr_bc_txn_name(cr_bc_txn_e txn)
{
    if ((int)txn < 0 || txn > CR_BC_TXN_PM) {
        return "RP";
    }
    return txn_names[txn];
}

cr_bc_txn_e cr_bc_txn_for_operation(const char *op_name)
{
    if (op_name == NULL) {
        return CR_BC_TXN_RP;
    }
    if (strncmp(op_name, "FindCandidates", 14) == 0) {
        return CR_BC_TXN_FC;
    }
    if (strncmp(op_name, "GetDemographics", 15) == 0
        || strcmp(op_name, "HistoryPatient") == 0) {
        return CR_BC_TXN_GD;
    }
    if (strcmp(op_name, "merge") == 0 || strcmp(op_name, "merge.Async") == 0
        || strncmp(op_name, "MergePatient", 12) == 0) {
        return CR_BC_TXN_PM;
    }
    return CR_BC_TXN_RP;
}

const char *cr_bc_code(apr_pool_t *pool, cr_bc_txn_e txn, cr_bc_msg_e msg)
{
    const cr_bc_code_t *row = cr_bc_code_row(msg);
    const char *t = cr_bc_txn_name(txn);

    if (strcmp(row->txns, "*") != 0 && strstr(row->txns, t) == NULL) {
        /* A transaction-specific message keeps its own segment. */
        t = apr_pstrndup(pool, row->txns, 2);
    }
    return apr_psprintf(pool, "BCHCIM.%s.%d.%04d", t, (int)row->severity,
                        row->number);
}

void cr_bc_add(cr_outcome_t *oc, cr_bc_txn_e txn, cr_bc_msg_e msg,
               const char *expression, const char *fmt, ...)
{
    const cr_bc_code_t *row = cr_bc_code_row(msg);
    const char *code = cr_bc_code(oc->pool, txn, msg);

    if (fmt) {
        va_list ap;
        const char *specific;
        va_start(ap, fmt);
        specific = apr_pvsprintf(oc->pool, fmt, ap);
        va_end(ap);
        cr_outcome_add(oc, row->severity, row->issue_code, code, expression,
                       "%s (%s)", row->text, specific);
    }
    else {
        cr_outcome_add(oc, row->severity, row->issue_code, code, expression,
                       "%s", row->text);
    }
}

int cr_bc_code_wellformed(const char *s)
{
    int i;

    if (s == NULL || strncmp(s, "BCHCIM.", 7) != 0) {
        return 0;
    }
    s += 7;
    if (!(strncmp(s, "FC.", 3) == 0 || strncmp(s, "GD.", 3) == 0
          || strncmp(s, "RP.", 3) == 0 || strncmp(s, "PM.", 3) == 0)) {
        return 0;
    }
    s += 3;
    if (s[0] < '0' || s[0] > '2' || s[1] != '.') {
        return 0;
    }
    s += 2;
    for (i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return s[4] == '\0';
}
