/*
 * web_charts.c - the charts of a web run, which `dsim plot` draws
 * (docs/charts.md): the timeline (latency, availability, servers in
 * service and their utilisation, session misses) around the faults, and
 * the load per server from per_server.csv (written by web's report);
 * requests by outcome, server work by answer and stale copies shown per
 * window (caching.csv), and the limiter's decisions and its watched key
 * against the limit (limiter.csv); and for a sweep's folder, tail
 * latency, availability and cost per point, and what caching and limiting
 * did per point.
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

/* Per point of a sweep over validators, max-age or limiter settings
 * (panels only for the columns the runs have). */
static const sim_chart_series web_caching_points[] = {
    {.label = "hits",
     .col = "model.cache_hit_fraction",
     .ylabel = "fresh cache hits (% of requests)",
     .what = "requests a fresh cached copy answered (they never reached the limiter)",
     .scale = 100},
    {.label = "work_full",
     .col = "model.server_work_full_s",
     .ylabel = "server work, 200s (s)",
     .what = "server time spent on full answers"},
    {.label = "work_304",
     .col = "model.server_work_304_s",
     .ylabel = "server work, 304s (s)",
     .what = "server time spent on 304s (the validator checks)"},
    {.label = "stale",
     .col = "model.stale_shown_fraction",
     .ylabel = "stale shown (% of copies)",
     .what = "copies shown while the origin had a newer version",
     .scale = 100},
    {.label = "rejected",
     .col = "model.rl_rejected",
     .ylabel = "429s",
     .what = "requests the limiter refused"},
    {.label = "burst",
     .col = "model.rl_watch_max_over_nominal",
     .ylabel = "most in a window / limit",
     .what =
         "key 0's most admitted in any trailing window, over its limit (fixed window: up to 2)"},
    {.label = NULL},
};

const sim_chart web_charts[] = {
    {.name = "timeline",
     .script = "timeline.gp",
     .title = "A web run over time (shaded: fault windows)",
     .series = web_timeline},
    {.name = "per_server", .script = "web/per_server.gp", .file = "per_server.csv"},
    {.name = "caching",
     .script = "web/caching.gp",
     .title = "Where the requests went: browser cache, 304, 200, 429",
     .file = "caching.csv"},
    {.name = "limiter",
     .script = "web/limiter.gp",
     .title = "The rate limiter, window by window",
     .file = "limiter.csv"},
    {.name = "points",
     .script = "points.gp",
     .title = "Per point of the sweep: tail latency, availability, cost",
     .series = web_points,
     .sweep = true},
    {.name = "caching_points",
     .script = "points.gp",
     .title = "Per point of the sweep: what caching and limiting did",
     .series = web_caching_points,
     .sweep = true},
    {.name = NULL},
};
