/* cr_canon: every canonical URL and fixed code the registry reads or
 * writes (identifier and code systems, extension and profile URLs, the
 * registry's own organisation code), each defined once.
 *
 * These strings are the contract with the BC Client Registry
 * implementation guide: a typo in one copy of a URL is an element that
 * silently stops matching.  So every file takes them from here, and
 * composite names are built from the bases below by literal
 * concatenation (sizeof() of any of them is the string's length + 1).
 */
#ifndef CR_CANON_H
#define CR_CANON_H

/* ------------------------------------------------------------------ */
/* Bases                                                               */
/* ------------------------------------------------------------------ */

/* The BC Ministry of Health client namespace. */
#define CR_CANON_HLTH_BASE "http://hlth.gov.bc.ca/fhir/client/"
/* StructureDefinitions of the IG: its extensions and profiles. */
#define CR_EXT_BASE CR_CANON_HLTH_BASE "StructureDefinition/"
/* HL7 terminology code systems. */
#define CR_CANON_HL7_CS_BASE "http://terminology.hl7.org/CodeSystem/"

/* ------------------------------------------------------------------ */
/* Identifier systems                                                  */
/* ------------------------------------------------------------------ */

/* Infoway naming systems (jurisdictions' identifiers). */
#define CR_SYS_INFOWAY_PREFIX "https://fhir.infoway-inforoute.ca/NamingSystem/"
/* The BC Personal Health Number. */
#define CR_SYS_PHN CR_SYS_INFOWAY_PREFIX "ca-bc-patient-healthcare-id"
/* The HIBC MSP eligibility id. */
#define CR_SYS_MSP CR_SYS_INFOWAY_PREFIX "ca-bc-msp-eligibility-id"
/* A source system's record id: prefix, source code, suffix. */
#define CR_SYS_SRI_PREFIX "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-"
#define CR_SYS_SRI_SUFFIX "-source-patient-id"
/* The G1-G3 id-issuer systems, accepted on input. */
#define CR_SYS_LEGACY_PREFIX CR_CANON_HLTH_BASE "id-issuer/"
/* An encrypted or encoded PHN. */
#define CR_SYS_PHN_ENCRYPTED CR_SYS_LEGACY_PREFIX "BC-encrypted"
/* Organisation codes (the envelope's sender, an audit agent). */
#define CR_SYS_BC_ORG CR_CANON_HLTH_BASE "bc-org"
/* End-user ids (the envelope's enterer). */
#define CR_SYS_BC_USER CR_CANON_HLTH_BASE "bc-userid"

/* ------------------------------------------------------------------ */
/* Code systems                                                        */
/* ------------------------------------------------------------------ */

/* Identifier types (JHN for a PHN). */
#define CR_SYS_V2_0203 CR_CANON_HL7_CS_BASE "v2-0203"
/* meta.security confidentiality (R and V restrict demographics). */
#define CR_SYS_CONFIDENTIALITY CR_CANON_HL7_CS_BASE "v3-Confidentiality"
/* RelatedPerson.relationship (NMTH, the natural mother). */
#define CR_SYS_ROLE_CODE CR_CANON_HL7_CS_BASE "v3-RoleCode"
/* BCHCIM detail codes of OperationOutcome issues. */
#define CR_OO_CODE_SYSTEM \
    "https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/bc-oo-codes"

/* ------------------------------------------------------------------ */
/* Extensions and profiles                                             */
/* ------------------------------------------------------------------ */

#define CR_EXT_DATA_ABSENT \
    "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
#define CR_EXT_IDENTIFIER_STATUS CR_EXT_BASE "bc-identifier-status-extension"
#define CR_EXT_BUSINESS_PERIOD CR_EXT_BASE "bc-business-period-extension"
#define CR_EXT_SOURCE_ID CR_EXT_BASE "bc-sourceId-extension"
#define CR_EXT_MERGE_STATUS CR_EXT_BASE "bc-merge-status-extension"
/* The registry's own audit-chain extensions on AuditEvent. */
#define CR_EXT_AUDIT_SEQUENCE CR_EXT_BASE "cr-audit-sequence"
#define CR_EXT_AUDIT_HASH CR_EXT_BASE "cr-audit-hash"
/* The restricted clients a response showed unmasked (ops/cr_privacy). */
#define CR_EXT_AUDIT_UNMASKED CR_EXT_BASE "cr-audit-unmasked"
#define CR_PROFILE_PATIENT CR_EXT_BASE "bc-patient"

/* ------------------------------------------------------------------ */
/* OperationDefinitions (the operation table, the CapabilityStatement) */
/* ------------------------------------------------------------------ */

#define CR_OPDEF_BASE CR_CANON_HLTH_BASE "OperationDefinition/"
#define CR_OPDEF_FIND_CANDIDATES CR_OPDEF_BASE "bc-patient-find-candidates"
#define CR_OPDEF_GET_DEMOGRAPHICS CR_OPDEF_BASE "bc-patient-get-demographics"
#define CR_OPDEF_HISTORY_PATIENT CR_OPDEF_BASE "bc-patient-history"
#define CR_OPDEF_ADD CR_OPDEF_BASE "bc-patient-add"
#define CR_OPDEF_REVISE CR_OPDEF_BASE "bc-patient-revise"
#define CR_OPDEF_UPDATE CR_OPDEF_BASE "bc-patient-update"
#define CR_OPDEF_MERGE CR_OPDEF_BASE "bc-patient-merge"
/* The G2 $PartialRevisePatient (FHIR-Patch form, CR-LEG-002), published
 * under the G2 base. */
#define CR_OPDEF_PARTIAL_REVISE \
    "http://hl7.org/fhir/ca-bc/client/OperationDefinition/" \
    "bc-patient-partial-revise"

/* ------------------------------------------------------------------ */
/* Codes                                                               */
/* ------------------------------------------------------------------ */

/* The registry's own organisation and source system code: the sender of
 * last resort and the source of what the registry writes itself. */
#define CR_REGISTRY_CODE "MOH_CRS"
/* Identifier.assigner.display of a PHN the registry assigned. */
#define CR_PHN_ASSIGNER "MOH Client Registry - " CR_REGISTRY_CODE

/* ------------------------------------------------------------------ */
/* Distributions (operations.md 7, profiles.md 7.3, DECISION-11/-12)   */
/* ------------------------------------------------------------------ */

/* The change-notification event code system (eventType.coding.system). */
#define CR_CS_NOTIFY_EVENTS "https://terminology.hlth.gov.bc.ca/" \
    "ClientRegistry/CodeSystem/bc-client-registry-patient-change-" \
    "notification-events"
/* The topic: the canonical of the CapabilityStatement and the Subscription
 * example, and the url of the topic resource (both accepted). */
#define CR_TOPIC_PATIENT_CHANGE \
    CR_CANON_HLTH_BASE "SubscriptionTopic/HCIMPatientChangeDistribution"
#define CR_TOPIC_PATIENT_CHANGE_ALT CR_TOPIC_PATIENT_CHANGE "Topic"
#define CR_PROFILE_SUBSCRIPTION CR_EXT_BASE "HCIMPatientChangeSubscription"
#define CR_PROFILE_NOTIFY_BUNDLE \
    CR_EXT_BASE "bc-subscription-notification-bundle"
#define CR_PROFILE_NOTIFY_PARAMETERS \
    CR_EXT_BASE "bc-metadata-parameters-subscription"
/* The subscriptions backport 1.1.0. */
#define CR_BACKPORT_BASE \
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
#define CR_EXT_BACKPORT_FILTER CR_BACKPORT_BASE "backport-filter-criteria"
#define CR_EXT_BACKPORT_PAYLOAD CR_BACKPORT_BASE "backport-payload-content"
#define CR_EXT_TOPIC_CANONICAL \
    CR_BACKPORT_BASE "capabilitystatement-subscriptiontopic-canonical"

#endif /* CR_CANON_H */
