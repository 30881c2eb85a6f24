/*
 * scenario.h - loading a scenario file into a ready-to-run simulation.
 */
#ifndef DSIM_SCENARIO_H
#define DSIM_SCENARIO_H

#include "sim_int.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * The resource budget checked before a run (budget.c): a scenario whose
 * estimate exceeds a limit is refused at load with exit 2 and a message
 * naming the key, the estimate and the flag that raises it.  A limit of 0
 * takes the default; a negative one turns that check off.
 */
typedef struct sim_budget {
    double max_cells;  /* time-series cells kept and written (rows x columns) */
    double max_bytes;  /* memory of the simulation's state */
    double max_events; /* events of the whole run */
} sim_budget;

#define SIM_BUDGET_CELLS  5e7                  /* 400 MB in memory, about 500 MB of CSV */
#define SIM_BUDGET_BYTES  (1024.0 * 1048576.0) /* 1 GiB */
#define SIM_BUDGET_EVENTS 3e8                  /* about a minute at 5 M events/s */

typedef struct sim_estimate {
    double rows, cols, cells; /* time series: samples x columns (columns known at load) */
    double bytes;             /* kernel (nodes, time series) plus the model's state */
    double events;            /* the model's estimate; 0 when it gives none */
    sim_model_estimate model;
} sim_estimate;

/* Estimates what the loaded scenario will cost. */
void sim_estimate_run(const sim *s, sim_estimate *e);
/* Checks e against b; returns 0, or -1 with "$.key: message" in err. */
int sim_budget_check(const sim *s, const sim_estimate *e, const sim_budget *b, char *err,
                     size_t errlen);
/* Reads a limit given on the command line: a number >= 1 (for bytes
 * optionally with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), or "off".
 * Returns 0, or -1 if v is none of these. */
int sim_budget_parse(const char *v, bool bytes, double *out);
/* Prints the estimates and their limits, one line each ("estimate: ..."). */
void sim_estimate_print(FILE *f, const sim_estimate *e, const sim_budget *b);

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
    /* The resource budget; NULL for the defaults. */
    const sim_budget *budget;
} sim_load_opts;

/*
 * Reads, checks and resolves the scenario.  On success returns a simulation
 * ready for sim_run and stores the resolved scenario in *resolved (caller
 * owns both).  On bad input returns NULL with one message in err:
 *   error: FILE: $.path: what is wrong (what is allowed)
 */
sim *sim_load(const sim_load_opts *opts, cJSON **resolved, char *err, size_t errlen);

#endif
