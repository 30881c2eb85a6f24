/*
 * registry.h - the table of models the `dsim` command offers.
 */
#ifndef DSIM_REGISTRY_H
#define DSIM_REGISTRY_H

#include "sim.h"

/* Every model, alphabetical, ending in NULL. */
extern const sim_model *const sim_models[];
/* The model called name, or NULL. */
const sim_model *sim_model_find(const char *name);

#endif
