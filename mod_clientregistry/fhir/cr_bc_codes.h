/* cr_bc_codes: the BC Client Registry's OperationOutcome detail codes
 * (HCIM message codes BCHCIM.<txn>.<severity>.<nnnn>), in one table.
 *
 * The IG publishes a handful of codes (profiles.md section 8); every other
 * situation the registry reports got a code invented in the same pattern
 * (DECISION-08).  Each message is listed once, with the transactions it
 * applies to, its severity (which is also the code's severity digit), the
 * FHIR issue-type code it is reported with and its English text.
 * docs/bc-codes.md lists the same table for readers; a unit test keeps
 * the two in step.
 */
#ifndef CR_BC_CODES_H
#define CR_BC_CODES_H

#include <apr_pools.h>

#include "core/cr_outcome.h"

/* Transactions of the HCIM code pattern. */
typedef enum {
    CR_BC_TXN_FC = 0,   /* find candidates */
    CR_BC_TXN_GD,       /* get demographics */
    CR_BC_TXN_RP,       /* revise / add person */
    CR_BC_TXN_PM        /* person merge */
} cr_bc_txn_e;

/* Messages.  Generic ones (CR_BC_INVALID ... CR_BC_INTERNAL) exist for
 * every transaction; the others for the transactions their table row
 * names. */
typedef enum {
    /* Envelope (request Bundle, MetadataParametersIn), any transaction. */
    CR_BC_INVALID = 0,         /* generic: the message is invalid */
    CR_BC_NOT_BUNDLE,
    CR_BC_BUNDLE_TYPE,
    CR_BC_ENTRY_FULLURL,
    CR_BC_ENTRY_RESOURCE,
    CR_BC_ENTRY_COUNT,
    CR_BC_PARAMETERS,
    CR_BC_MESSAGE_ID,
    CR_BC_FLAG_TYPE,
    CR_BC_PATIENT_COUNT,
    CR_BC_RELATED_COUNT,
    CR_BC_WRAPPER,
    CR_BC_PARAM_REPEATED,
    CR_BC_ENTRY_TYPE,
    CR_BC_UNAVAILABLE,
    CR_BC_WARNING,             /* generic: processed with changes */
    CR_BC_INTERNAL,            /* generic: unexpected failure */
    /* FindCandidates. */
    CR_BC_FC_OK,
    CR_BC_FC_NO_RESULTS,
    CR_BC_FC_EXACTLY_ONE,
    CR_BC_FC_NAME,
    CR_BC_FC_SECOND,
    CR_BC_FC_WILDCARD,
    CR_BC_FC_MOTHER_PHN,
    CR_BC_FC_MOTHER_SHAPE,
    CR_BC_FC_PARAM,
    /* GetDemographics. */
    CR_BC_GD_OK,
    CR_BC_GD_NO_RESULTS,
    CR_BC_GD_NOT_FOUND,
    CR_BC_GD_MERGED,
    CR_BC_GD_BOTH,
    CR_BC_GD_NEITHER,
    CR_BC_GD_ONE_IDENTIFIER,
    CR_BC_GD_SYSTEM,
    CR_BC_GD_PHN,
    CR_BC_GD_NO_VALUE,
    /* Revise / add / merge (published by the IG, used by the
     * maintenance operations). */
    CR_BC_RP_NEW_PHN,
    CR_BC_RP_EXISTING_PHN,
    CR_BC_RP_ACCEPTED,
    CR_BC_RP_PROCESSED,
    CR_BC_RP_NAME_FILTERED,
    CR_BC_PM_OK,
    /* The maintenance operations' rejections (registry-invented); each
     * keeps the transaction of its code (RP or PM). */
    CR_BC_RP_MINIMUM,
    CR_BC_RP_PHN,
    CR_BC_RP_NAME,
    CR_BC_RP_USER,
    CR_BC_RP_DEATH,
    CR_BC_RP_NO_SRI,
    CR_BC_RP_MOTHER,
    CR_BC_RP_RELATED,
    CR_BC_RP_DUPLICATE,
    CR_BC_RP_SENDER,
    CR_BC_RP_VERSION,
    CR_BC_RP_SRI_CHARS,
    CR_BC_PM_SURVIVOR,
    CR_BC_PM_NONSURVIVOR,
    CR_BC_PM_SAME,
    CR_BC_PM_MERGED,
    CR_BC_PM_NO_MERGE,
    CR_BC_PM_UNMERGED,
    CR_BC_PM_MERGE_SHAPE,
    CR_BC_RP_UPD_IDENTIFIER,
    CR_BC_RP_UPD_NOTHING,
    CR_BC_RP_UPD_OP,
    CR_BC_RP_EFFECTIVE,
    CR_BC_RP_REVIEW,
    /* $PartialRevisePatient in the G2 FHIR-Patch form (CR-LEG-002). */
    CR_BC_RP_PATCH_PARAMS,
    CR_BC_RP_PATCH_UNSUPPORTED,
    CR_BC_RP_PATCH_NONE,
    CR_BC_RP_PATCH_AMBIGUOUS,
    /* $merge with Parameters (operations.md 5.1). */
    CR_BC_PM_PARAMS,
    CR_BC_PM_NO_TARGET,
    CR_BC_PM_NO_SOURCE,
    CR_BC_PM_SOURCE_UNKNOWN,
    CR_BC_PM_SOURCE_SEVERAL,
    CR_BC_PM_TARGET_SEVERAL,
    CR_BC_PM_RESULT_ID,
    CR_BC_PM_RESULT_LINK,
    CR_BC_PM_MERGE_STATUS,
    CR_BC_PM_PREVIEW,
    /* Idempotent messageId (ops/cr_idem.c, CR-PARAM-004). */
    CR_BC_MSG_REUSED,
    CR_BC_MSG_PENDING,
    CR_BC_MSG_COUNT
} cr_bc_msg_e;

/* One row of the table. */
typedef struct cr_bc_code_t {
    cr_bc_msg_e msg;
    const char *txns;          /* "*" = every transaction, else e.g. "GD" */
    cr_severity_e severity;    /* information, warning or error */
    int number;                /* the nnnn part */
    const char *issue_code;    /* FHIR issue-type code */
    const char *text;          /* English message (details.text) */
    const char *origin;        /* "IG", "BC client" or "registry" */
} cr_bc_code_t;

/* The table, in cr_bc_msg_e order, terminated by a row with text NULL. */
extern const cr_bc_code_t cr_bc_codes[];

/* The row of msg (never NULL for a valid msg). */
const cr_bc_code_t *cr_bc_code_row(cr_bc_msg_e msg);

/* "FC", "GD", "RP" or "PM". */
const char *cr_bc_txn_name(cr_bc_txn_e txn);

/* The transaction of an operation code ("FindCandidates" -> FC,
 * "GetDemographics" -> GD, "merge"/"MergePatient..." -> PM, anything
 * else -> RP). */
cr_bc_txn_e cr_bc_txn_for_operation(const char *op_name);

/* The detail code of msg in txn ("BCHCIM.GD.2.0130"), allocated from
 * pool.  A message defined only for other transactions keeps its own
 * first transaction (the table is authoritative). */
const char *cr_bc_code(apr_pool_t *pool, cr_bc_txn_e txn, cr_bc_msg_e msg);

/* Append msg to oc with its severity, issue-type code, detail code and
 * text.  expression may be NULL.  fmt (may be NULL) adds a printf-style
 * specific to the table text: "<text> (<specific>)". */
void cr_bc_add(cr_outcome_t *oc, cr_bc_txn_e txn, cr_bc_msg_e msg,
               const char *expression, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* True when s has the shape BCHCIM.(FC|GD|RP|PM).[0-2].nnnn. */
int cr_bc_code_wellformed(const char *s);

#endif /* CR_BC_CODES_H */
