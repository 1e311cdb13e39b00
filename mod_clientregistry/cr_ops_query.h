/* cr_ops_query: the BC Client Registry's query operations (operations.md
 * sections 1, 2, 8 and 9.6): $FindCandidates, $GetDemographics (with the
 * history and identifiersOnly flags), the G4 instance-level $HistoryPatient
 * and the BC RESTful forms of section 8.  Every answer is a
 * SearchResponseBundle (cr_fhir_envelope), also for errors; none of them
 * changes data (CR-FC-032, CR-GD-027).
 *
 * Candidate ranking sits behind one function, cr_ops_query_candidates:
 * the probabilistic matching engine replaces its body without touching
 * the operations.
 */
#ifndef CR_OPS_QUERY_H
#define CR_OPS_QUERY_H

#include "cr_fhir_patient.h"
#include "cr_service.h"

#define CR_OPDEF_BASE "http://hlth.gov.bc.ca/fhir/client/OperationDefinition/"
#define CR_OPDEF_FIND_CANDIDATES CR_OPDEF_BASE "bc-patient-find-candidates"
#define CR_OPDEF_GET_DEMOGRAPHICS CR_OPDEF_BASE "bc-patient-get-demographics"
#define CR_OPDEF_HISTORY_PATIENT CR_OPDEF_BASE "bc-patient-history"

/* The raw score scale (DECISION-13): integer points, see
 * cr_ops_query_candidates and docs/bc-codes.md. */
#define CR_QUERY_SCORE_MAX 190
#define CR_QUERY_SCORE_THRESHOLD 90

/* One ranked candidate. */
typedef struct cr_query_candidate_t {
    const char *id;            /* patient id */
    int score;                 /* raw integer score, higher is better */
} cr_query_candidate_t;

/* The candidates for the example person query (validated, at least a
 * name and one more criterion), best first, at most max: an array of
 * cr_query_candidate_t from ctx->pool.  Only candidates at or above the
 * threshold are returned.  Merged-away patients are never candidates.
 * Returns a store status (cr_db.h) on failure.
 *
 * Scoring (a simple, explainable stand-in for the matching engine):
 * family name 40 and given name 30 (normalized equality; a given name's
 * initial 10), birth date 40 (day and month swapped 20), phone 30,
 * postal code 20, address line 20, e-mail 10, gender +10 when equal and
 * -10 when different; the best-scoring name pair counts. */
apr_status_t cr_ops_query_candidates(apr_array_header_t **out,
                                     cr_ctx_t *ctx,
                                     const cr_patient_t *query, int max);

/* POST [base]/Patient/$FindCandidates (cr_op_fn). */
void cr_ops_query_find_candidates(cr_ctx_t *ctx, json_object *body);

/* POST [base]/Patient/$GetDemographics (cr_op_fn). */
void cr_ops_query_get_demographics(cr_ctx_t *ctx, json_object *body);

/* POST [base]/Patient/$GetDemographics.History: the G1 URL of
 * GetDemographics with history = true (cr_op_fn). */
void cr_ops_query_get_demographics_history(cr_ctx_t *ctx, json_object *body);

/* GET [base]/Patient/{id}/$HistoryPatient (G4, operations.md 9.6): the
 * client with history, as GetDemographics. */
void cr_ops_query_history_patient(cr_ctx_t *ctx, const char *id);

/* BC RESTful forms (operations.md 8, chosen by the BCFhirVersion Accept
 * parameter):
 *   GET [base]/Patient?family=&given=&...        FindCandidates rules
 *   GET [base]/Patient?identifier=system|value   GetDemographics
 *   GET [base]/Patient/_history?identifier=...   ... with history
 *   GET [base]/Patient/_identifiersOnly?identifier=...
 *   GET [base]/Patient/{id}[/_history | /_identifiersOnly]
 * query is the raw query string; lenient is Prefer: handling=lenient. */
void cr_ops_query_rest_search(cr_ctx_t *ctx, const char *query, int history,
                              int identifiers_only, int lenient);
void cr_ops_query_rest_read(cr_ctx_t *ctx, const char *id, int history,
                            int identifiers_only);

#endif /* CR_OPS_QUERY_H */
