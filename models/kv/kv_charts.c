/*
 * kv_charts.c - the charts of a kv run, which `dsim plot` draws
 * (docs/charts.md): the timeline of its time series around the faults, and
 * the load per server from per_node.csv (written by kv's report).
 */
#include "sim.h"

static const sim_chart_series kv_timeline[] = {
    {.label = "availability",
     .op = SIM_SERIES_COMPLEMENT,
     .col = "kv.failed_ops",
     .den = "kv.reads+kv.writes",
     .ylabel = "availability (% of ops)",
     .what = "operations that succeeded, per interval",
     .scale = 100},
    {.label = "stale_read_fraction",
     .op = SIM_SERIES_RATIO,
     .col = "kv.stale_reads",
     .den = "kv.reads",
     .ylabel = "stale reads (% of reads)",
     .what = "reads that returned an old version, per interval",
     .scale = 100},
    {.label = "divergent_keys",
     .op = SIM_SERIES_VALUE,
     .col = "kv.divergent_keys",
     .ylabel = "divergent keys",
     .what = "keys whose replicas disagree"},
    {.label = "hints_pending",
     .op = SIM_SERIES_VALUE,
     .col = "kv.hints_pending",
     .ylabel = "hints pending",
     .what = "writes held for an absent replica (hinted handoff)"},
    {.label = NULL},
};

const sim_chart kv_charts[] = {
    {.name = "timeline",
     .script = "timeline.gp",
     .title = "A kv run over time (shaded: fault windows)",
     .series = kv_timeline},
    {.name = "per_node", .script = "kv/per_node.gp", .file = "per_node.csv"},
    {.name = NULL},
};
