/* cr_ops_match: the matching engine as a service.
 *
 *  - cr_ops_match_find: THE entry point for every feature that needs to
 *    know which stored patients may be the same person as a given one
 *    (FindCandidates, RevisePatient's "existing PHN was found" decision,
 *    $match, duplicate detection at write time).
 *  - POST [base]/Patient/$match (FHIR R4 Patient-match).
 *  - POST [base]/Patient/$potential-duplicates: the review list of the
 *    duplicates found at write time (an administrator's operation).
 *  - POST [base]/Patient/$resolve-duplicate: a reviewer dismisses or
 *    reopens a pair of that list (an administrator's operation).
 *  - cr_ops_match_record_duplicates: called by creates and updates inside
 *    their transaction.
 *
 * How it works: the query's match record (cr_match_record_build) gives
 * blocking keys (cr_match_keys); each key is one bounded index look-up
 * (cr_store_match_candidates, at most CR_OPS_MATCH_PER_KEY rows, at most
 * CR_OPS_MATCH_MAX_CANDIDATES candidates in all), so a query touches a
 * bounded number of rows whatever the size of the registry.  Every
 * candidate is compared field by field with the query, weighed with the
 * Fellegi-Sunter weights of the stored (or default) m/u parameters,
 * scored 0..1 and graded by the ClientRegistryMatchThresholds.
 */
#ifndef CR_OPS_MATCH_H
#define CR_OPS_MATCH_H

#include "match/cr_match.h"
#include "ops/cr_service.h"

/* Rows one blocking look-up may return, and candidates scored per query:
 * together they bound the work of one query (at most CR_MATCH_MAX_KEYS
 * look-ups). */
#define CR_OPS_MATCH_PER_KEY 100
#define CR_OPS_MATCH_MAX_CANDIDATES 500

/* Most pairs recorded as potential duplicates per write. */
#define CR_OPS_MATCH_MAX_DUPLICATES 10

/* One scored candidate. */
typedef struct cr_match_result_t {
    const char *patient_id;      /* the stored patient (cr_patient.id) */
    double score;                /* posterior match probability, 0..1 */
    double weight;               /* raw Fellegi-Sunter weight, in bits */
    cr_match_grade_e grade;      /* from score (ClientRegistryMatch-
                                  * Thresholds) and the safety rule of
                                  * cr_match_grade */
    cr_match_vector_t vector;    /* agreement level per field, to explain
                                  * the score (cr_match_level_name) */
} cr_match_result_t;

/* cr_ops_match_find: the query has too little to match on. */
#define CR_OPS_MATCH_NOT_ENOUGH (APR_OS_START_USERERR + 20)

/*
 * Find the stored patients that may be the person query describes.
 *
 * out:         receives an array of cr_match_result_t allocated from
 *              ctx->pool, best first (score, then weight, descending;
 *              then patient id ascending, so the order is stable).  It is
 *              set (possibly empty) whenever APR_SUCCESS is returned.
 * ctx:         ctx->db (with or without an open transaction: inside one,
 *              the caller's own uncommitted writes are seen), ctx->pool,
 *              ctx->settings->match (thresholds; all zero means the
 *              defaults, CR_MATCH_DEFAULT_*).
 * query:       a parsed Patient (cr_fhir_patient_parse).  Its names,
 *              birth date, gender, phones and addresses are compared; a
 *              current PHN among its identifiers only helps to find a
 *              candidate (blocking), never to score one.  When query->id
 *              is set, that patient is never returned (a record is not
 *              its own duplicate).
 * max_results: at most this many results (>= 1).
 * min_grade:   the weakest grade returned: CR_MATCH_CERTAIN for certain
 *              matches only, CR_MATCH_PROBABLE for certain and probable,
 *              CR_MATCH_POSSIBLE for all three, CR_MATCH_CERTAINLY_NOT for
 *              every candidate scored.
 *
 * Returns APR_SUCCESS; CR_OPS_MATCH_NOT_ENOUGH when the query yields no
 * blocking key, has fewer than two fields, or has neither a birth date,
 * a phone, an address nor a PHN (a name alone finds namesakes); or a
 * store error (cr_db.h: APR_EAGAIN busy, APR_EGENERAL ...), which the
 * caller reports with cr_service_db_failure.  Nothing is logged and
 * ctx->resp/ctx->oc are not touched.
 *
 * Usage: FindCandidates returns the results (grade possible and up) with
 * their score; RevisePatient links an existing record automatically only
 * when exactly one result is CR_MATCH_CERTAIN, and reports probable ones.
 */
apr_status_t cr_ops_match_find(apr_array_header_t **out, cr_ctx_t *ctx,
                               const cr_patient_t *query, int max_results,
                               cr_match_grade_e min_grade);

/*
 * Record the potential duplicates of patient p (just written, inside the
 * caller's write transaction, so p's own new keys are visible and p->id
 * is excluded): every stored patient that cr_ops_match_find grades
 * probable or certain, at most CR_OPS_MATCH_MAX_DUPLICATES, is added to
 * (or refreshed in) the review list with the write's operation and
 * message id.  Nothing is merged or linked.  recorded (may be NULL)
 * receives the number of pairs recorded, so that the caller can report
 * them.
 *
 * Returns APR_SUCCESS (also when p has too little to match on) or a
 * store error; on error the caller rolls back and reports it.
 */
apr_status_t cr_ops_match_record_duplicates(int *recorded, cr_ctx_t *ctx,
                                            const cr_patient_t *p,
                                            const char *operation);

/*
 * POST [base]/Patient/$match (http://hl7.org/fhir/OperationDefinition/
 * Patient-match).  body: a Parameters resource with
 *   resource            1..1  the Patient to match (validated as a
 *                             bc-patient; identifiers other than a PHN
 *                             are ignored for matching; when it carries
 *                             an id, that stored patient is left out of
 *                             the answer, so a stored record can be
 *                             matched against the others)
 *   onlyCertainMatches  0..1  boolean: return only a certain match; when
 *                             several records are certain, none is
 *                             returned and an OperationOutcome entry says
 *                             so (as the operation's definition asks)
 *   count               0..1  positive integer: at most this many
 *                             results (capped by ClientRegistryMaxPageSize;
 *                             default ClientRegistryPageSize)
 * Response 200: a Bundle of type searchset, total = number of entries,
 * one entry per candidate graded possible or better, best first, with
 * the stored Patient, search.mode "match", search.score (0..1) and the
 * extension http://hl7.org/fhir/StructureDefinition/match-grade
 * (valueCode certain | probable | possible) on entry.search.
 * Errors: 400 (OperationOutcome) when the body is not a Parameters
 * resource (invalid), lacks resource (required) or carries it twice,
 * has an unknown parameter (not-supported) or a parameter of the wrong
 * type or value (invalid); the Patient's own validation errors with their
 * usual status (400/422); 422 business-rule when the Patient has too
 * little to match on.
 */
void cr_ops_match_run(cr_ctx_t *ctx, json_object *body);

/*
 * POST [base]/Patient/$potential-duplicates: the review list.  body: a
 * Parameters resource (or no parameters at all) with
 *   patient  0..1  string (an id) or Reference ("Patient/<id>"): only the
 *                  pairs involving this patient
 *   status   0..1  code, default "open": the review status of the pairs
 *                  ("open", "not-duplicate" dismissed by a reviewer with
 *                  $resolve-duplicate, "merged" by MergePatient; another
 *                  code is code-invalid)
 *   count    0..1  positive integer, default ClientRegistryPageSize,
 *                  capped by ClientRegistryMaxPageSize
 *   offset   0..1  non-negative integer, default 0
 * Response 200: a Parameters resource with one "duplicate" parameter per
 * pair, newest finding first, whose parts are patient and other
 * (valueReference "Patient/<id>", smaller id first), score (valueDecimal,
 * 0..1), weight (valueDecimal, bits), grade (valueCode), found
 * (valueInstant), foundBy (valueCode: the write that found it, "create"
 * or "update"), messageId (valueString, when known) and status
 * (valueCode).  Errors: 400 as for $match.
 */
void cr_ops_match_duplicates(cr_ctx_t *ctx, json_object *body);

/*
 * POST [base]/Patient/$resolve-duplicate: a reviewer's decision on one
 * pair of the review list (an administrator's operation).  body: a
 * Parameters resource with
 *   patient     1..1  string (an id) or Reference ("Patient/<id>"): one
 *                     Patient of the pair
 *   other       1..1  the same for the other Patient (order free)
 *   resolution  1..1  code: "not-duplicate" (dismiss the pair: a later
 *                     write that finds it again keeps it dismissed) or
 *                     "open" (back on the review list)
 * One transaction: the pair's status is set and the write's audit record
 * (operation "resolve-duplicate", action U, both patients) appended, and
 * 200 is answered only after the commit, with a Parameters resource
 * holding the pair as $potential-duplicates shows it (new status).
 * Errors (OperationOutcome): 400 not a Parameters resource (invalid), a
 * parameter missing (required), given twice or not an id (invalid),
 * unknown (not-supported), an unknown resolution (code-invalid), patient
 * and other the same (invalid); 404 not-found when the pair is not on
 * the list (in any status); 409 conflict when the pair was merged
 * (status "merged": only UnmergePatient reopens it); 503/500 store
 * failures.
 */
void cr_ops_match_resolve_duplicate(cr_ctx_t *ctx, json_object *body);

#endif /* CR_OPS_MATCH_H */
