/* cr_fhir_subscription: a partner's Subscription read and checked (see
 * the header). */
#include <string.h>

#include <apr_strings.h>

#include "core/cr_canon.h"
#include "core/cr_json.h"
#include "fhir/cr_events.h"
#include "fhir/cr_fhir_subscription.h"

#define FILTER_PREFIX "eventCode="
#define MIME_FHIR_JSON "application/fhir+json"

static void issue(cr_outcome_t *oc, const char *code, const char *expr,
                  const char *msg)
{
    cr_outcome_add(oc, CR_SEV_ERROR, code, NULL, expr, "%s", msg);
}

/* A string member: NULL with an issue when it is absent (required) or
 * not a string. */
static const char *string_member(json_object *o, const char *key,
                                 const char *expr, int required,
                                 cr_outcome_t *oc)
{
    json_object *v = cr_json_get(o, key);

    if (v == NULL) {
        if (required) {
            issue(oc, "required", expr, "this element is required");
        }
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)
        || json_object_get_string_len(v) == 0) {
        issue(oc, "structure", expr, "must be a non-empty string");
        return NULL;
    }
    return json_object_get_string(v);
}

/* The extensions of _element (an object with an extension array) whose
 * url is url: *n of them, at most max, into found. */
static int find_extensions(json_object *under, const char *url,
                           json_object **found, int max)
{
    json_object *arr = cr_json_get_array(under, "extension");
    size_t i, len = arr ? json_object_array_length(arr) : 0;
    int n = 0;

    for (i = 0; i < len && n < max; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        const char *u = cr_json_get_string(e, "url");
        if (u && strcmp(u, url) == 0) {
            found[n++] = e;
        }
    }
    return n;
}

/* eventCode=CODE[,CODE...] into *codes. */
static void parse_filter(unsigned *codes, apr_pool_t *pool, const char *v,
                         const char *expr, cr_outcome_t *oc)
{
    char *list, *code, *last;
    int n = 0;

    if (v == NULL) {
        return;
    }
    if (strncmp(v, FILTER_PREFIX, sizeof(FILTER_PREFIX) - 1) != 0
        || v[sizeof(FILTER_PREFIX) - 1] == '\0') {
        issue(oc, "value", expr, "a filter criterion of this topic is "
              "eventCode=CODE (codes of the change-notification code "
              "system, comma separated)");
        return;
    }
    list = apr_pstrdup(pool, v + sizeof(FILTER_PREFIX) - 1);
    for (code = apr_strtok(list, ",", &last); code;
         code = apr_strtok(NULL, ",", &last)) {
        unsigned bit = cr_events_bit(code);
        if (++n > CR_SUB_MAX_FILTERS) {
            issue(oc, "value", expr, "too many event codes");
            return;
        }
        if (bit == 0) {
            cr_outcome_add(oc, CR_SEV_ERROR, "code-invalid", NULL, expr,
                           "'%.64s' is not a code of %s", code,
                           CR_CS_NOTIFY_EVENTS);
            continue;
        }
        *codes |= bit;
    }
}

static void check_criteria(cr_sub_input_t *out, apr_pool_t *pool,
                           json_object *json, cr_outcome_t *oc)
{
    const char *crit = string_member(json, "criteria",
                                     "Subscription.criteria", 1, oc);
    json_object *under = cr_json_get_object(json, "_criteria");
    json_object *found[CR_SUB_MAX_FILTERS];
    int n, i;

    if (crit && strcmp(crit, CR_TOPIC_PATIENT_CHANGE) != 0
        && strcmp(crit, CR_TOPIC_PATIENT_CHANGE_ALT) != 0) {
        issue(oc, "not-supported", "Subscription.criteria",
              "the only topic is " CR_TOPIC_PATIENT_CHANGE);
    }
    n = under ? find_extensions(under, CR_EXT_BACKPORT_FILTER, found,
                                CR_SUB_MAX_FILTERS) : 0;
    if (n == 0) {
        issue(oc, "required", "Subscription._criteria.extension",
              "at least one " CR_EXT_BACKPORT_FILTER " extension "
              "(eventCode=CODE) picks the events");
        return;
    }
    for (i = 0; i < n; i++) {
        const char *expr = apr_psprintf(pool, "Subscription._criteria."
                                        "extension[%d].valueString", i);
        parse_filter(&out->codes, pool,
                     string_member(found[i], "valueString", expr, 1, oc),
                     expr, oc);
    }
}

static int url_ok(const char *u)
{
    const char *host;
    size_t i;

    if (strncmp(u, "http://", 7) == 0) {
        host = u + 7;
    }
    else if (strncmp(u, "https://", 8) == 0) {
        host = u + 8;
    }
    else {
        return 0;
    }
    if (*host == '\0' || *host == '/' || *host == ':') {
        return 0;
    }
    for (i = 0; u[i]; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>'
            || c == '\\' || c == '#' || c == '@') {
            return 0;
        }
    }
    return 1;
}

static void check_channel(cr_sub_input_t *out, json_object *json,
                          cr_outcome_t *oc)
{
    json_object *ch = cr_json_get(json, "channel");
    json_object *under, *found[1];
    const char *type, *ep, *payload, *content;

    if (ch == NULL) {
        issue(oc, "required", "Subscription.channel",
              "this element is required");
        return;
    }
    if (!json_object_is_type(ch, json_type_object)) {
        issue(oc, "structure", "Subscription.channel", "must be an object");
        return;
    }
    type = string_member(ch, "type", "Subscription.channel.type", 1, oc);
    if (type && strcmp(type, "rest-hook") != 0) {
        issue(oc, "not-supported", "Subscription.channel.type",
              "the only channel is rest-hook");
    }
    ep = string_member(ch, "endpoint", "Subscription.channel.endpoint", 1,
                       oc);
    if (ep && (strlen(ep) > CR_SUB_MAX_ENDPOINT || !url_ok(ep))) {
        issue(oc, "value", "Subscription.channel.endpoint",
              "must be an absolute http:// or https:// URL (no user info, "
              "no fragment)");
    }
    else if (ep) {
        out->endpoint = ep;
    }
    payload = string_member(ch, "payload", "Subscription.channel.payload",
                            1, oc);
    if (payload && strcmp(payload, MIME_FHIR_JSON) != 0) {
        issue(oc, "not-supported", "Subscription.channel.payload",
              "the only payload is " MIME_FHIR_JSON);
    }
    under = cr_json_get_object(ch, "_payload");
    if (under == NULL
        || find_extensions(under, CR_EXT_BACKPORT_PAYLOAD, found, 1) == 0) {
        issue(oc, "required", "Subscription.channel._payload.extension",
              "the " CR_EXT_BACKPORT_PAYLOAD " extension is required");
        return;
    }
    content = string_member(found[0], "valueCode",
                            "Subscription.channel._payload.extension[0]"
                            ".valueCode", 1, oc);
    if (content && strcmp(content, "full-resource") != 0) {
        issue(oc, "not-supported",
              "Subscription.channel._payload.extension[0].valueCode",
              "the only payload content is full-resource");
    }
}

apr_status_t cr_fhir_subscription_parse(cr_sub_input_t *out,
                                        apr_pool_t *pool, json_object *json,
                                        cr_outcome_t *oc)
{
    int before = cr_outcome_errors(oc);
    const char *rt, *status;
    char *codes = "";
    int i;

    memset(out, 0, sizeof(*out));
    if (json == NULL || !json_object_is_type(json, json_type_object)) {
        issue(oc, "structure", "Subscription", "a Subscription resource "
              "(JSON object) is required");
        return APR_EINVAL;
    }
    rt = cr_json_get_string(json, "resourceType");
    if (rt == NULL || strcmp(rt, "Subscription") != 0) {
        issue(oc, "structure", "Subscription.resourceType",
              "the resource must be a Subscription");
        return APR_EINVAL;
    }
    if (cr_json_get(json, "id")) {
        out->id = string_member(json, "id", "Subscription.id", 0, oc);
    }
    status = string_member(json, "status", "Subscription.status", 1, oc);
    if (status) {
        if (strcmp(status, "requested") == 0
            || strcmp(status, "active") == 0) {
            out->status = "active";
        }
        else if (strcmp(status, "off") == 0) {
            out->status = "off";
        }
        else {
            issue(oc, "value", "Subscription.status", "requested, active "
                  "or off (error is the registry's to set)");
        }
    }
    string_member(json, "reason", "Subscription.reason", 1, oc);
    check_criteria(out, pool, json, oc);
    check_channel(out, json, oc);
    if (cr_outcome_errors(oc) > before) {
        return APR_EINVAL;
    }
    for (i = 0; i < CR_EVENTS_COUNT; i++) {
        if (out->codes & (1u << i)) {
            codes = apr_pstrcat(pool, codes, *codes ? " " : "",
                                cr_events_code(i), NULL);
        }
    }
    out->event_codes = codes;
    return APR_SUCCESS;
}

int cr_fhir_subscription_endpoint_allowed(const char *endpoint,
                                          const char *const *prefixes,
                                          int nprefixes)
{
    int i;

    for (i = 0; endpoint && i < nprefixes; i++) {
        const char *p = prefixes[i];
        size_t n = strlen(p);
        char next;
        if (n == 0 || strncmp(endpoint, p, n) != 0) {
            continue;
        }
        next = endpoint[n];
        if (p[n - 1] == '/' || next == '\0' || next == '/' || next == ':') {
            return 1;
        }
    }
    return 0;
}
