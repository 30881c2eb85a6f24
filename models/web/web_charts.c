/*
 * web_charts.c - the charts of a web run, which `dsim plot` draws
 * (docs/charts.md): the timeline (latency, availability, servers in
 * service and their utilisation, session misses) around the faults, and
 * the load per server from per_server.csv (written by web's report); and
 * for a sweep's folder, tail latency, availability and cost per point.
 */
#include "web_int.h"

static const sim_chart_series web_timeline[] = {
    {.label = "p99",
     .op = SIM_SERIES_VALUE,
     .col = "web.latency_p99_ms",
     .ylabel = "latency p99 (ms)",
     .what = "99th percentile of answered requests' latency, per window"},
    {.label = "availability",
     .op = SIM_SERIES_RATIO,
     .col = "web.ok",
     .den = "web.ok+web.timeouts+web.rejected+web.no_server+web.server_errors+web.overload",
     .ylabel = "availability (% of requests)",
     .what = "requests answered, per interval",
     .scale = 100},
    {.label = "servers",
     .op = SIM_SERIES_VALUE,
     .col = "web.servers_in_service",
     .ylabel = "servers in service",
     .what = "servers the balancers may pick (scale events, autoscaler)"},
    {.label = "utilisation",
     .op = SIM_SERIES_VALUE,
     .col = "web.utilisation",
     .ylabel = "utilisation (%)",
     .what = "busy workers over all workers in service, per window",
     .scale = 100},
    {.label = "session_misses",
     .op = SIM_SERIES_RATE,
     .col = "web.session_misses",
     .ylabel = "session misses / s",
     .what = "requests served by a server without the user's session"},
    {.label = NULL},
};

/* A sweep over policies (or anything): tail latency, availability and
 * cost per point. */
static const sim_chart_series web_points[] = {
    {.label = "p99",
     .col = "model.latency_p99_ms",
     .ylabel = "latency p99 (ms)",
     .what = "99th percentile latency of answered requests (mean over seeds, 95 % CI)"},
    {.label = "availability",
     .col = "model.availability",
     .ylabel = "availability (%)",
     .what = "requests answered",
     .scale = 100},
    {.label = "cost",
     .col = "model.cost_per_million_requests",
     .ylabel = "cost per million requests",
     .what = "server-hours x price, per million answered requests"},
    {.label = NULL},
};

const sim_chart web_charts[] = {
    {.name = "timeline",
     .script = "timeline.gp",
     .title = "A web run over time (shaded: fault windows)",
     .series = web_timeline},
    {.name = "per_server", .script = "web/per_server.gp", .file = "per_server.csv"},
    {.name = "points",
     .script = "points.gp",
     .title = "Per point of the sweep: tail latency, availability, cost",
     .series = web_points,
     .sweep = true},
    {.name = NULL},
};
