/* cr_ops_query: the BC Client Registry's query operations (operations.md
 * sections 1, 2, 8 and 9.6): $FindCandidates (cr_op_find_candidates.c),
 * $GetDemographics with the history and identifiersOnly flags, the G4
 * instance-level $HistoryPatient and the BC RESTful read
 * (cr_op_demographics.c), and the BC RESTful search of section 8
 * (cr_op_bc_rest.c).  Every answer is a SearchResponseBundle
 * (cr_fhir_envelope, framed by cr_bcop), also for errors; none of them
 * changes data (CR-FC-032, CR-GD-027).
 *
 * Candidates are found and ranked by the matching engine
 * (cr_ops_match_find), as for Patient/$match and RevisePatient.
 */
#ifndef CR_OPS_QUERY_H
#define CR_OPS_QUERY_H

#include "core/cr_canon.h"     /* CR_OPDEF_* */
#include "fhir/cr_fhir_patient.h"
#include "ops/cr_service.h"

/* The raw score scale (DECISION-13): search.score of a FindCandidates
 * Patient entry is an integer, the matching engine's Fellegi-Sunter
 * weight (cr_ops_match_find) in tenths of a bit, rounded, from 0 to
 * CR_QUERY_SCORE_IDENTIFIER - 1; patients found by an identifier (a
 * mother's PHN search) score CR_QUERY_SCORE_IDENTIFIER.  Higher is
 * better; each 10 points double the odds that the candidate is the same
 * person.  Which candidates are returned is decided by the match grade
 * (ClientRegistryMatchThresholds: possible and up). */
#define CR_QUERY_SCORE_IDENTIFIER 1000

/* The raw score of an engine weight (bits), as above. */
int cr_ops_query_score(double weight);

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
