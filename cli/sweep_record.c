/*
 * sweep_record.c - what a sweep is and what each run left: the sweep's
 * spec (runs/spec.json, the body of sweep.json) and the run records in
 * DIR/runs/.  The lowest of the sweep's files: cli/sweep_table.c (the
 * tables) and cli/sweep.c (the command) use it, it uses neither.
 *
 * A run's record is trusted only if it parses, names this run's point and
 * seed and holds a metrics object; anything else is run again.
 */
#include "cli_util.h"
#include "sweep_int.h"

#include "sim.h"

#include <stdio.h>
#include <string.h>

static void run_path(const sweep *sw, size_t run, char *buf, size_t n) {
    snprintf(buf, n, "%s/runs/run-%zu-%zu.json", sw->dir, sweep__run_point(sw, run),
             sweep__run_seed_index(sw, run));
}

/* Reads a run's record; NULL when absent or not this run's. */
cJSON *sweep__read_record(const sweep *sw, size_t run) {
    char path[4300], why[256];
    run_path(sw, run, path, sizeof path);
    char *text = cli_read_file(path, 1u << 26, NULL, why, sizeof why);
    if (!text)
        return NULL;
    cJSON *rec = cJSON_Parse(text);
    sim_free(text);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(rec, "point");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(rec, "seed");
    if (!cJSON_IsNumber(p) || !cJSON_IsNumber(s) ||
        p->valuedouble != (double)sweep__run_point(sw, run) ||
        s->valuedouble != (double)sweep__run_seed(sw, run) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "metrics"))) {
        cJSON_Delete(rec);
        return NULL;
    }
    return rec;
}

int sweep__store_record(const sweep *sw, size_t run, const char *text) {
    char runs[4200], name[64];
    snprintf(runs, sizeof runs, "%s/runs", sw->dir);
    snprintf(name, sizeof name, "run-%zu-%zu.json", sweep__run_point(sw, run),
             sweep__run_seed_index(sw, run));
    return cli_write_file(runs, name, text);
}

cJSON *sweep__spec_json(const sweep *sw) {
    cJSON *o = cJSON_CreateObject();
    cJSON *vary = cJSON_AddArrayToObject(o, "vary");
    for (size_t k = 0; k < sw->n_params; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "path", sw->params[k].path);
        cJSON *vals = cJSON_AddArrayToObject(p, "values");
        for (size_t i = 0; i < sw->params[k].n; i++)
            cJSON_AddItemToArray(vals, cJSON_CreateString(sw->params[k].values[i].text));
        cJSON_AddItemToArray(vary, p);
    }
    cJSON *sets = cJSON_AddArrayToObject(o, "set");
    for (int i = 0; i < sw->n_sets; i++)
        cJSON_AddItemToArray(sets, cJSON_CreateString(sw->sets[i]));
    if (sw->where)
        cJSON_AddStringToObject(o, "where", sw->where);
    else
        cJSON_AddNullToObject(o, "where");
    cJSON *seeds = cJSON_AddObjectToObject(o, "seeds");
    cJSON_AddNumberToObject(seeds, "per_point", (double)sw->n_seeds);
    cJSON_AddNumberToObject(seeds, "first", (double)sw->seed0);
    cJSON_AddBoolToObject(seeds, "common_random_numbers", !sw->independent);
    cJSON_AddNumberToObject(o, "points", (double)sw->n_points);
    cJSON_AddNumberToObject(o, "runs", (double)sw->n_runs);
    cJSON_AddItemToObject(o, "base_scenario", cJSON_Duplicate(sw->base, true));
    return o;
}
