/*
 * cr_match_evidence.c: the field-by-field explanation of a match score
 * (see cr_match_evidence.h).  It reuses the engine's own comparison and
 * weights, so it cannot drift from what matching computes.
 */
#include <string.h>

#include <apr_strings.h>

#include "match/cr_match_evidence.h"

/* s appended to acc with "; " between values (acc may be NULL). */
static const char *join(apr_pool_t *pool, const char *acc, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return acc;
    }
    return acc ? apr_pstrcat(pool, acc, "; ", s, NULL) : s;
}

const char *cr_match_evidence_value(apr_pool_t *pool,
                                    const cr_match_record_t *rec, int f)
{
    const char *out = NULL;
    int i;

    switch (f) {
    case CR_MF_GIVEN:
    case CR_MF_FAMILY:
        for (i = 0; i < rec->nnames && i < CR_MATCH_MAX_NAMES; i++) {
            out = join(pool, out, f == CR_MF_GIVEN ? rec->name[i].given
                                                   : rec->name[i].family);
        }
        break;
    case CR_MF_BIRTH: {
        size_t n = strnlen(rec->birth, sizeof(rec->birth));
        if (n >= 4) {
            out = apr_pstrndup(pool, rec->birth, 4);
        }
        if (n >= 6) {
            out = apr_pstrcat(pool, out, "-",
                              apr_pstrndup(pool, rec->birth + 4, 2), NULL);
        }
        if (n >= 8) {
            out = apr_pstrcat(pool, out, "-",
                              apr_pstrndup(pool, rec->birth + 6, 2), NULL);
        }
        break;
    }
    case CR_MF_SEX:
        out = rec->sex == 'm' ? "male" : rec->sex == 'f' ? "female"
              : rec->sex == 'o' ? "other" : NULL;
        break;
    case CR_MF_PHONE:
        for (i = 0; i < rec->nphones && i < CR_MATCH_MAX_PHONES; i++) {
            out = join(pool, out, rec->phone[i]);
        }
        break;
    case CR_MF_POSTAL:
        for (i = 0; i < rec->naddrs && i < CR_MATCH_MAX_ADDRS; i++) {
            out = join(pool, out, rec->addr[i].postal);
        }
        break;
    case CR_MF_ADDRESS:
        for (i = 0; i < rec->naddrs && i < CR_MATCH_MAX_ADDRS; i++) {
            const cr_match_addr_t *a = &rec->addr[i];
            const char *street = apr_pstrcat(
                pool, a->house, a->house[0] && a->street[0] ? " " : "",
                a->street, NULL);
            const char *s = apr_pstrcat(
                pool, street, street[0] && a->city[0] ? ", " : "", a->city,
                NULL);
            out = join(pool, out, s);
        }
        break;
    default:
        break;
    }
    return out ? out : "";
}

void cr_match_evidence(cr_match_evidence_t *ev, apr_pool_t *pool,
                       const cr_match_params_t *p,
                       const cr_match_thresholds_t *t,
                       const cr_match_record_t *a,
                       const cr_match_record_t *b)
{
    int f;

    memset(ev, 0, sizeof(*ev));
    cr_match_compare(&ev->vector, a, b);
    for (f = 0; f < CR_MF_COUNT; f++) {
        cr_match_evidence_field_t *e = &ev->field[f];
        int l = ev->vector.level[f];
        e->field = cr_match_field_name(f);
        if (l != CR_MATCH_MISSING && l < cr_match_field_levels(f)) {
            e->level = cr_match_level_name(f, l);
            e->weight = p->w[f][l];
        }
        e->value_a = cr_match_evidence_value(pool, a, f);
        e->value_b = cr_match_evidence_value(pool, b, f);
    }
    ev->weight = cr_match_weight(p, &ev->vector);
    ev->score = cr_match_score(p, ev->weight);
    ev->grade = cr_match_grade(t, ev->score, &ev->vector);
}
