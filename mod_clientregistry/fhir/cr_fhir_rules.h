/* cr_fhir_rules: the BC Client Registry's business rules on a request
 * Patient (operations.md 1-4), apart from the profile checks of
 * cr_fhir_patient: what a FindCandidates search needs, what makes a
 * GetDemographics key, and the rules of Add and Revise (minimum data set,
 * name characters, addresses, a death needs a PHN, SRI characters,
 * PHN-bound sources).
 *
 * Every function here is pure: it reads the parsed model (cr_patient_t)
 * or the request JSON, never the database or the request context, so the
 * rules are unit-tested on their own (t/unit/test_cr_fhir_rules.c).  The
 * functions that take a cr_outcome_t record their problem there with its
 * BC detail code and return 0; the predicates (*_ok) leave the code and
 * the HTTP status to the operation.
 */
#ifndef CR_FHIR_RULES_H
#define CR_FHIR_RULES_H

#include <json-c/json.h>

#include "core/cr_outcome.h"
#include "fhir/cr_bc_codes.h"
#include "fhir/cr_fhir_patient.h"

/* ---- RelatedPerson ------------------------------------------------------ */

/* A RelatedPerson (JSON) whose relationship codes the natural mother
 * (v3-RoleCode NMTH): the newborn's mother of AddPatient and of a
 * mother's-PHN search (D-14).  At most 20 relationships of 20 codings are
 * looked at. */
int cr_fhir_rules_is_mother(json_object *related);

/* ---- FindCandidates ----------------------------------------------------- */

/* CR-FC-018: every search value of a FindCandidates Patient (json, at
 * FHIRPath path) that holds a wildcard (* % ?) is recorded; the number
 * found. */
int cr_fhir_rules_fc_wildcards(cr_outcome_t *oc, cr_bc_txn_e txn,
                               json_object *json, const char *path);

/* CR-FC-011 to CR-FC-013: a family and a given name, and besides them a
 * birth date, address line, postal code or phone.  1, or 0 after
 * recording each missing criterion. */
int cr_fhir_rules_fc_criteria(cr_outcome_t *oc, cr_bc_txn_e txn,
                              const cr_patient_t *p, const char *root);

/* ---- GetDemographics ---------------------------------------------------- */

/* An identifier used as a look-up key (CR-GD-009, CR-GD-010): a known
 * system and, for a PHN, a valid one; *system becomes the PHN system for
 * the legacy names of it.  expr (may be NULL) is the identifier's
 * FHIRPath.  1, or 0 after recording the problem. */
int cr_fhir_rules_gd_key(cr_outcome_t *oc, cr_bc_txn_e txn,
                         const char **system, const char *value,
                         const char *expr);

/* ---- AddPatient / RevisePatient ----------------------------------------- */

/* Rule 1: a source record identifier uses letters, digits and - . _ : /
 * only. */
int cr_fhir_rules_sri_chars_ok(const char *s);

/* True when system names a source record identifier (an SRI or a legacy
 * id-issuer system). */
int cr_fhir_rules_is_sri_system(const char *system);

/* Rule 2: every family and given name uses allowed characters. */
int cr_fhir_rules_names_ok(const cr_patient_t *p);

/* An address that counts for the minimum data set: type or use, a line,
 * a city, and a province for Canada and the US. */
int cr_fhir_rules_address_ok(const cr_address_t *a);

/* operations.md 3, the minimum data set: a name with use, family and
 * given, birth date, gender, and a PHN (has_phn: the Patient's or the
 * mother's) or an address. */
int cr_fhir_rules_minimum_ok(const cr_patient_t *p, int has_phn);

/* Rule 6 (operations.md 4): a date of death or death indicator needs a
 * PHN -- a BC PHN or another jurisdiction's health number (the IG's
 * max-data Revise example carries a death date and a New Brunswick number
 * only). */
int cr_fhir_rules_death_ok(const cr_patient_t *p);

/* The source record identifier of p: the first current SRI (or legacy
 * id) whose use is not secondary, else the first current one; NULL. */
const cr_identifier_t *cr_fhir_rules_find_sri(const cr_patient_t *p);

/* A PHN-bound source (HIBC, MSP, MOH_CRS, MOH) identifies its records by
 * PHN and may revise without an SRI. */
int cr_fhir_rules_phn_bound(const char *source);

#endif /* CR_FHIR_RULES_H */
