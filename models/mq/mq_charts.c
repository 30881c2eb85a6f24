/*
 * mq_charts.c - the charts of an mq run, which `dsim plot` draws
 * (docs/charts.md): one timeline panel per consumer group's lag and per
 * topic's backlog (its partitions added up), around the faults.
 */
#include "sim.h"

static const sim_chart_series mq_timeline[] = {
    {.label = "backlog: {}",
     .op = SIM_SERIES_VALUE,
     .col = "mq.backlog.{}.p*",
     .ylabel = "messages waiting",
     .what = "topic {}: messages queued, all partitions"},
    {.label = "lag: {}",
     .op = SIM_SERIES_VALUE,
     .col = "mq.lag.{}",
     .ylabel = "messages behind",
     .what = "group {}: lag (messages published and not yet consumed)"},
    {.label = NULL},
};

const sim_chart mq_charts[] = {
    {.name = "timeline",
     .script = "timeline.gp",
     .title = "Queues over time (shaded: fault windows)",
     .series = mq_timeline},
    {.name = NULL},
};
