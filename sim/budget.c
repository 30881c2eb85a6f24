/*
 * budget.c - what a run will cost, estimated before it starts, and the
 * limits that refuse a scenario which would take hours or exhaust memory.
 *
 * Three estimates, each against its own limit (sim_budget, defaults in
 * scenario.h; the command's --max-output, --max-memory and --max-work
 * change them):
 *  - time-series cells: (duration / metrics.interval + 1) samples times the
 *    columns registered at load (counters and gauges; a model that
 *    registers more later only adds to it), kept in memory at 8 bytes each
 *    and written to timeseries.csv;
 *  - state bytes: the nodes (kernel and model parts), the time series, and
 *    the model's own estimate (sim_model.estimate: keys x replicas, pools,
 *    logs);
 *  - events: the model's estimate of the messages and timers of the whole
 *    run (offered load x duration x events per operation).
 * Estimates aim to be right within a small factor: the limits are there to
 * catch the typo that asks for 10^9 operations per second or an interval of
 * 1 ns, not to tune a run.  `dsim validate` prints them.
 */
#include "scenario.h"
#include "sim_int.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sim_human_count(double x, char *buf, size_t n) {
    if (!(x < 1e300))
        snprintf(buf, n, "an unbounded number");
    else if (x >= 1e12)
        snprintf(buf, n, "%.3g trillion", x / 1e12);
    else if (x >= 1e9)
        snprintf(buf, n, "%.3g billion", x / 1e9);
    else if (x >= 1e6)
        snprintf(buf, n, "%.3g million", x / 1e6);
    else if (x >= 1e4)
        snprintf(buf, n, "%.0f,%03.0f", floor(x / 1000), fmod(floor(x), 1000));
    else
        snprintf(buf, n, "%.0f", x);
    return buf;
}

char *sim_human_bytes(double x, char *buf, size_t n) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    if (!(x < 1e300)) {
        snprintf(buf, n, "unbounded memory");
        return buf;
    }
    while (x >= 1024 && u < 6) {
        x /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.3g %s" : "%.0f %s", x, units[u]);
    return buf;
}

void sim_estimate_run(const sim *s, sim_estimate *e) {
    memset(e, 0, sizeof *e);
    double rows = 1;
    if (s->sample_interval > 0)
        rows = floor((double)s->duration / (double)s->sample_interval) + 1;
    double cols =
        (double)sim_metrics_n_counters(s->metrics) + (double)sim_metrics_n_gauges(s->metrics);
    e->rows = rows;
    e->cols = cols;
    e->cells = rows * cols;
    /* The nodes: the kernel's record and the model's state; the time
     * series: its cells and its times, at 8 bytes each. */
    e->bytes = (double)s->n_nodes * ((double)sizeof(sim__node) + (double)s->model->node_size) +
               (double)s->model->shared_size + 8 * (e->cells + rows);
    if (s->model->estimate) {
        s->model->estimate(s, s->shared, &e->model);
        e->bytes += e->model.bytes;
        e->events = e->model.events;
    }
}

/* "40 seconds", "3.5 minutes", "2.1 hours". */
static char *human_seconds(double x, char *buf, size_t n) {
    if (x >= 3600)
        snprintf(buf, n, "%.3g hours", x / 3600);
    else if (x >= 60)
        snprintf(buf, n, "%.3g minutes", x / 60);
    else
        snprintf(buf, n, "%.3g seconds", x);
    return buf;
}

/* Resolves one limit: 0 is the default, negative is off (infinite). */
static double limit_of(double v, double def) { return v == 0 ? def : v < 0 ? INFINITY : v; }

/* The three limits in force: b's, with defaults and "off" resolved. */
static void limits_of(const sim_budget *b, double *cells, double *bytes, double *events) {
    sim_budget none = {0};
    if (!b)
        b = &none;
    *cells = limit_of(b->max_cells, SIM_BUDGET_CELLS);
    *bytes = limit_of(b->max_bytes, SIM_BUDGET_BYTES);
    *events = limit_of(b->max_events, SIM_BUDGET_EVENTS);
}

int sim_budget_check(const sim *s, const sim_estimate *e, const sim_budget *b, char *err,
                     size_t errlen) {
    double max_cells, max_bytes, max_events;
    limits_of(b, &max_cells, &max_bytes, &max_events);
    char h1[64], h2[64], h3[64], h4[64], t1[32], t2[32];
    if (e->cells > max_cells) {
        snprintf(err, errlen,
                 "$.metrics.interval: %s over %s gives %s samples of %.0f columns, %s cells "
                 "(%s in memory); the limit is %s (--max-output CELLS): use a longer interval or "
                 "a shorter duration",
                 sim_time_format(s->sample_interval, t1, sizeof t1),
                 sim_time_format(s->duration, t2, sizeof t2),
                 sim_human_count(e->rows, h1, sizeof h1), e->cols,
                 sim_human_count(e->cells, h2, sizeof h2),
                 sim_human_bytes(8 * e->cells, h3, sizeof h3),
                 sim_human_count(max_cells, h4, sizeof h4));
        return -1;
    }
    if (e->events > max_events) {
        snprintf(err, errlen,
                 "$.%s: %s: about %s events, some %s of work at 5 million events/s; the limit "
                 "is %s events (--max-work EVENTS): lower it or raise the limit",
                 e->model.events_key ? e->model.events_key : "duration", e->model.events_why,
                 sim_human_count(e->events, h1, sizeof h1),
                 human_seconds(e->events / 5e6, h2, sizeof h2),
                 sim_human_count(max_events, h3, sizeof h3));
        return -1;
    }
    if (e->bytes > max_bytes) {
        char lim[32];
        const char *key =
            e->model.bytes_key && e->model.bytes > e->bytes / 2 ? e->model.bytes_key : "nodes";
        const char *why = key == e->model.bytes_key ? e->model.bytes_why : "the nodes' state";
        snprintf(err, errlen,
                 "$.%s: %s need about %s of memory; the limit is %s (--max-memory BYTES, e.g. "
                 "8GiB): make it smaller or raise the limit",
                 key, why, sim_human_bytes(e->bytes, h1, sizeof h1),
                 sim_human_bytes(max_bytes, lim, sizeof lim));
        return -1;
    }
    return 0;
}

int sim_budget_parse(const char *v, bool bytes, double *out) {
    if (strcmp(v, "off") == 0 || strcmp(v, "none") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x >= 1) || !(x <= 1e18))
        return -1;
    if (*end && bytes) {
        static const struct {
            const char *suffix;
            double mul;
        } units[] = {{"B", 1},           {"KB", 1e3},           {"MB", 1e6},
                     {"GB", 1e9},        {"TB", 1e12},          {"KiB", 1024.0},
                     {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
        size_t i;
        for (i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcmp(end, units[i].suffix) == 0)
                break;
        if (i == sizeof units / sizeof units[0])
            return -1;
        x *= units[i].mul;
        end += strlen(end);
    }
    if (*end || !(x <= 1e18))
        return -1;
    *out = floor(x);
    return 0;
}

void sim_estimate_print(FILE *f, const sim_estimate *e, const sim_budget *b) {
    char h1[64], h2[64], h3[64];
    double max_cells, max_bytes, max_events;
    limits_of(b, &max_cells, &max_bytes, &max_events);
    fprintf(f, "estimate: time series %s rows x %.0f columns = %s cells (limit %s)\n",
            sim_human_count(e->rows, h1, sizeof h1), e->cols,
            sim_human_count(e->cells, h2, sizeof h2),
            isinf(max_cells) ? "off" : sim_human_count(max_cells, h3, sizeof h3));
    fprintf(f, "estimate: memory about %s (limit %s)%s%s\n",
            sim_human_bytes(e->bytes, h1, sizeof h1),
            isinf(max_bytes) ? "off" : sim_human_bytes(max_bytes, h2, sizeof h2),
            e->model.bytes_key ? ": " : "", e->model.bytes_key ? e->model.bytes_why : "");
    if (e->events > 0)
        fprintf(f, "estimate: about %s events, some %s at 5 million events/s (limit %s): %s\n",
                sim_human_count(e->events, h1, sizeof h1),
                human_seconds(e->events / 5e6, h2, sizeof h2),
                isinf(max_events) ? "off" : sim_human_count(max_events, h3, sizeof h3),
                e->model.events_why);
    else
        fprintf(f, "estimate: events not estimated by this model\n");
}
