/* cr_events: the change-notification event codes (profiles.md 7.3,
 * CR-TERM-002) and which of them a change of a person causes.
 *
 * The code table is the one list of the codes: the Subscription validator
 * refuses any other, the writers record only these.  cr_events_derive is
 * a pure function of the person before and after one write (the stored
 * Patient resources), so that every write path -- RESTful create and
 * update, AddPatient, RevisePatient, the partial updates, merge and
 * unmerge, sync or async, cr-admin load -- gets the same events from the
 * same rules (ops/cr_person.c calls it for every version it writes).  The
 * rules, in terms of the two resources (B before, NULL for a new person;
 * A after):
 *
 *   NEW            B is NULL and A has a PHN (a newly assigned PHN)
 *   NEWBORN        B is NULL, A has a PHN and a contained mother
 *                  (RelatedPerson, the newborn form of AddPatient)
 *   NEWBORN_GENDER A has a contained mother and its gender went from
 *                  unknown or other (undifferentiated) to another value
 *   COMPOSITE      B is not NULL and the composite differs (anything but
 *                  id, text, meta.versionId and meta.lastUpdated)
 *   DEATH          A is deceased (deceasedBoolean true or a
 *                  deceasedDateTime) and its deceased value differs
 *                  from B's
 *   PHN            B and A have different PHNs (the first PHN, the
 *                  registry's own) and the change is not a merge, or
 *                  an unmerge gave A its own PHN back (B had a
 *                  replaced-by link, A has none)
 *   PHNMERGE       a merge: A keeps its PHN and gains another (the
 *                  survivor), or A gains a replaced-by link (the
 *                  non-survivor, whose PHN now points to the survivor)
 *   PHNJOIN        B is not NULL, A has a PHN and a source record
 *                  identifier (SRI, use not secondary) A has and B had not
 *   SSRI           B is not NULL and A has a secondary SRI (a child
 *                  system's record) B had not
 *   EID            B is not NULL and B had an SRI or secondary SRI that A
 *                  has not (a source record moved to another person)
 *
 * A write that changes nothing causes no event.
 */
#ifndef CR_EVENTS_H
#define CR_EVENTS_H

#include <apr_pools.h>
#include <json-c/json.h>

/* One bit per code, in the order of cr_events_codes. */
enum {
    CR_EVT_NEW = 1 << 0,
    CR_EVT_NEWBORN = 1 << 1,
    CR_EVT_NEWBORN_GENDER = 1 << 2,
    CR_EVT_COMPOSITE = 1 << 3,
    CR_EVT_DEATH = 1 << 4,
    CR_EVT_PHN = 1 << 5,
    CR_EVT_PHNMERGE = 1 << 6,
    CR_EVT_PHNJOIN = 1 << 7,
    CR_EVT_SSRI = 1 << 8,
    CR_EVT_EID = 1 << 9
};

/* How many codes there are. */
#define CR_EVENTS_COUNT 10

/* The code of bit number i (0 .. CR_EVENTS_COUNT - 1), e.g. "NEW". */
const char *cr_events_code(int i);

/* The display of bit number i (profiles.md 7.3), e.g. "new PHN". */
const char *cr_events_display(int i);

/* The bit of code (case-sensitive), or 0 when it is not a code of the
 * change-notification code system. */
unsigned cr_events_bit(const char *code);

/* The events a write causes: before (NULL for a new person) and after
 * are the stored Patient resources.  Scratch from pool. */
unsigned cr_events_derive(apr_pool_t *pool, json_object *before,
                          json_object *after);

#endif /* CR_EVENTS_H */
