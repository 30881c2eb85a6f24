/*
 * scenario.h - loading a scenario file into a ready-to-run simulation.
 */
#ifndef DSIM_SCENARIO_H
#define DSIM_SCENARIO_H

#include "sim_int.h"

#include <cjson/cJSON.h>

typedef struct sim_load_opts {
    const char *file;        /* path of the scenario */
    const char *const *sets; /* "path=value" overrides, applied in order */
    int n_sets;
    bool has_seed; /* --seed given: overrides the scenario's seed */
    uint64_t seed;
    /* Model table to choose from, NULL-terminated: sim_models for the
     * command; tests pass models of their own.  The kernel never names the
     * model registry itself. */
    const sim_model *const *models;
} sim_load_opts;

/*
 * Reads, checks and resolves the scenario.  On success returns a simulation
 * ready for sim_run and stores the resolved scenario in *resolved (caller
 * owns both).  On bad input returns NULL with one message in err:
 *   error: FILE: $.path: what is wrong (what is allowed)
 */
sim *sim_load(const sim_load_opts *opts, cJSON **resolved, char *err, size_t errlen);

#endif
