/* cr_model: queries on the patient model (core/cr_model.h) that every
 * layer asks, kept beside the types so that no reader of the model needs
 * the FHIR parser that fills it. */
#include "core/cr_model.h"

const cr_identifier_t *cr_model_find_identifier(const cr_patient_t *p,
                                                cr_id_kind_e k)
{
    int i;

    for (i = 0; i < p->identifiers->nelts; i++) {
        const cr_identifier_t *id = &APR_ARRAY_IDX(p->identifiers, i,
                                                   cr_identifier_t);
        if (id->kind == k && id->value && id->period.end == NULL) {
            return id;
        }
    }
    return NULL;
}
