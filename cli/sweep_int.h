/*
 * sweep_int.h - what the files of `dsim sweep` share.  Prefix sweep__.
 *
 * The files, bottom up, each using only those below it:
 *   sweep_parse.c   the --vary and --where languages (no sweep state)
 *   sweep_record.c  the sweep's spec and the run records in DIR/runs/
 *   sweep_table.c   runs.csv, points.csv, t_visibility.csv, sweep.json
 *   sweep.c         the command: plan, run (threads or MPI), assemble
 */
#ifndef DSIM_SWEEP_INT_H
#define DSIM_SWEEP_INT_H

#include "sweep.h"
#include "sweep_parse.h"

#include "scenario.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct sweep {
    const char *file;
    const char **sets; /* base --set assignments (argv) */
    int n_sets;
    sweep_param *params;
    size_t n_params;
    const char *where;
    sweep_expr *expr;
    sweep_name *names; /* varied then set, for --where */
    size_t n_names;
    uint64_t seed0;
    bool has_seed;
    bool independent;
    size_t n_seeds;
    int jobs;
    const char *out_opt;
    bool no_plot, quiet;
    sim_budget budget; /* --max-output, --max-memory, --max-work: for every run */
    char dir[4096];
    size_t n_points;
    size_t *combo; /* n_points * n_params value indices */
    size_t n_runs;
    cJSON *base; /* resolved base scenario */
    char *name;
    int argc;
    char **argv;
} sweep;

/* Run r is seed index r % K of point r / K (K seeds per point). */
static inline size_t sweep__run_point(const sweep *sw, size_t run) { return run / sw->n_seeds; }
static inline size_t sweep__run_seed_index(const sweep *sw, size_t run) {
    return run % sw->n_seeds;
}
static inline uint64_t sweep__run_seed(const sweep *sw, size_t run) {
    size_t p = sweep__run_point(sw, run), i = sweep__run_seed_index(sw, run);
    return sw->seed0 + (sw->independent ? (uint64_t)p * sw->n_seeds : 0) + i;
}
static inline const char *sweep__point_value(const sweep *sw, size_t point, size_t param) {
    return sw->params[param].values[sw->combo[point * sw->n_params + param]].text;
}

/* The run's record from DIR/runs/, or NULL when it is absent, torn or
 * another sweep's.  Caller owns. */
cJSON *sweep__read_record(const sweep *sw, size_t run);
/* Writes a run's record to DIR/runs/ (cli_write_file).  0 or -1. */
int sweep__store_record(const sweep *sw, size_t run, const char *text);
/* What the sweep is, without the command line: runs/spec.json and the
 * body of sweep.json.  Caller owns. */
cJSON *sweep__spec_json(const sweep *sw);
/* Writes runs.csv, points.csv, t_visibility.csv (when runs carry one) and
 * sweep.json from the run files.  Returns 0 or SWEEP_EXIT_INTERNAL after a
 * message. */
int sweep__assemble(const sweep *sw);

enum { SWEEP_EXIT_BAD_INPUT = 2, SWEEP_EXIT_INTERNAL = 1 };

#endif
