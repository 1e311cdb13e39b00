/*
 * cr_ops_review: the duplicate review's explanations and history, for the
 * steward's console (docs/console.md) and any other reviewer of the API.
 *
 *  - evidence: why the matcher paired two clients, field by field (the
 *    values compared, the agreement level, its weight), computed now from
 *    their current match records with the current parameters
 *    (match/cr_match_evidence), as a Parameters part ($potential-
 *    duplicates) or as an extension of a $match entry's search element;
 *  - history: the decisions on a pair (table cr_match_decision,
 *    migration 008), each with who, when and the reviewer's comment;
 *  - cr_ops_review_note: records one decision, inside the caller's write
 *    transaction ($resolve-duplicate, $MergePatient, $UnmergePatient).
 *
 * Evidence holds demographics: it leaves the registry only through the
 * output policy (ops/cr_privacy.c), which withholds the field-by-field
 * part of a pair with a restricted client from callers that are not
 * privileged (docs/security.md section 5).
 */
#ifndef CR_OPS_REVIEW_H
#define CR_OPS_REVIEW_H

#include "core/cr_canon.h"
#include "match/cr_match.h"
#include "ops/cr_service.h"

/* Extension on Bundle.entry.search of a $match answer. */
#define CR_EXT_MATCH_EVIDENCE CR_EXT_BASE "cr-match-evidence"

/* Longest $resolve-duplicate comment accepted (bytes). */
#define CR_OPS_REVIEW_MAX_COMMENT 2000

/* What a pair's evidence needs once per request: the parameters and
 * thresholds in force. */
typedef struct cr_ops_review_t {
    cr_ctx_t *ctx;
    cr_match_params_t params;
    cr_match_thresholds_t thresholds;
} cr_ops_review_t;

/* Load the parameters (a store failure is returned). */
apr_status_t cr_ops_review_init(cr_ops_review_t *rv, cr_ctx_t *ctx,
                                const cr_match_thresholds_t *t);

/* Add to parts (a Parameters part array) the part "evidence" of the pair
 * patient, other: parts "subject" (both references), one "field" per
 * compared field (name, level when compared, weight, patientValue,
 * otherValue), and the current "weight", "score" and "grade".  A client
 * without a match record gives an evidence without fields. */
apr_status_t cr_ops_review_evidence_part(cr_ops_review_t *rv,
                                         json_object *parts,
                                         const char *patient,
                                         const char *other);

/* The same for a $match entry: the extension CR_EXT_MATCH_EVIDENCE added
 * to search (Bundle.entry.search), query being the matched Patient's
 * record and candidate the entry's client. */
apr_status_t cr_ops_review_evidence_ext(cr_ops_review_t *rv,
                                        json_object *search,
                                        const cr_match_record_t *query,
                                        const char *candidate);

/* Add to parts one part "decision" per decision on the pair, newest
 * first (parts seq, decided, action, status, comment, decidedBy). */
apr_status_t cr_ops_review_history_parts(cr_ctx_t *ctx, json_object *parts,
                                         const char *a, const char *b);

/* Record a decision on the pair a, b inside the caller's transaction:
 * now, the caller (end user, else certificate subject or token client,
 * else source system), the message id; comment may be NULL. */
apr_status_t cr_ops_review_note(cr_ctx_t *ctx, const char *a, const char *b,
                                const char *action, const char *status,
                                const char *comment);

#endif /* CR_OPS_REVIEW_H */
