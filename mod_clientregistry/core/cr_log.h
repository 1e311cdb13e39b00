/* cr_log: the tag every log message of this project starts with.
 *
 * Our tags follow httpd's rules for its own AHnnnnn tags in a namespace
 * of our own: CR_APLOGNO(nnnnn) expands to "CRnnnnn: ", a new number for
 * a new call site, the number kept when only the wording changes, never
 * reused (docs/log-tags.md holds the next free number of each range).
 * The macro needs nothing from httpd, so any layer may tag the messages
 * it hands to the glue for logging.
 */
#ifndef CR_LOG_H
#define CR_LOG_H

#define CR_APLOGNO(n) "CR" #n ": "

#endif /* CR_LOG_H */
