/*
 * registry.c - the static table of models, in alphabetical order, ending
 * in NULL.  Adding a model is one line here and one in models/CMakeLists.
 */
#include "registry.h"
#include "gossip/gossip.h"
#include "kv/kv.h"
#include "mq/mq.h"
#include "phold/phold.h"
#include "web/web.h"

#include <string.h>

// One model a line:
// clang-format off
const sim_model *const sim_models[] = {
    &gossip_model,
    &kv_model,
    &mq_model,
    &phold_model,
    &web_model,
    NULL,
};
// clang-format on

const sim_model *sim_model_find(const char *name) {
    for (size_t i = 0; sim_models[i]; i++)
        if (strcmp(sim_models[i]->name, name) == 0)
            return sim_models[i];
    return NULL;
}
