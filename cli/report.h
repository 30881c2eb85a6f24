/*
 * report.h - report.html, the page a class can open: one self-contained
 * file per run folder (docs/report.md describes it).
 */
#ifndef DSIM_REPORT_H
#define DSIM_REPORT_H

#include "sim.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The `dsim report DIR` command: argv after "report".  Returns the exit
 * status (0, 2 for a folder that is not a run's, 1 if it cannot write). */
int report_cmd(int argc, char **argv);

extern const char report_help[];

/* Writes DIR/report.html from the folder after `dsim run` (and its charts).
 * Does nothing when DSIM_NO_REPORT is set.  Prints "report: DIR/report.html"
 * unless quiet; problems go to stderr.  0, or -1; never affects the run's
 * exit status. */
int report_auto(const char *dir, bool quiet);

/* ---- report_replay.c: the run again, recorded for the page. ---- */

/* A delivered message.  key/wid/ts/ok are kv's (kv_msg), else 0. */
typedef struct report_msg {
    sim_time sent, recv;
    uint32_t src, dst, type;
    uint32_t key, wid;
    sim_time vts;
    bool ok, stale, is_kv;
} report_msg;

/* A line of the trace's narration (ev "log") or a fault the kernel applied
 * (ev "fault"); node is -1 for the whole network.  text is owned. */
typedef struct report_line {
    sim_time t;
    int32_t node;
    bool fault;
    char *text;
} report_line;

/* A gossip node learning update u at time t. */
typedef struct report_learn {
    sim_time t;
    uint32_t node, update;
} report_learn;

typedef struct report_replay {
    report_msg *msgs;
    size_t n_msgs, cap_msgs;
    report_line *lines;
    size_t n_lines, cap_lines;
    report_learn *learn;
    size_t n_learn, cap_learn;
    bool msgs_capped, lines_capped;
    char **nodes; /* node names, n_nodes (owned) */
    uint32_t n_nodes;
    char **types; /* message type names, n_types (owned) */
    uint32_t n_types;
    uint64_t events;     /* events replayed */
    sim_time end;        /* simulated time reached */
    bool whole;          /* the whole run was replayed */
    bool same;           /* ... and its trace hash is the folder's */
    uint64_t max_events; /* the bound used */
} report_replay;

/* Replays the run of summary.json sum (its resolved scenario and seed,
 * loaded through the checking loader from a copy written to data_dir),
 * at most max_events events, recording every delivered message, the
 * narration and, for gossip, who learned what when.  0 with *out filled
 * (caller frees it with report_replay_free), or -1 with a reason in err. */
int report_replay_run(const cJSON *sum, const char *data_dir, uint64_t max_events,
                      report_replay *out, char *err, size_t errlen);
void report_replay_free(report_replay *r);

/* ---- report_js.c: the page's style and script, compiled in. ---- */
extern const char report_css[];
extern const char report_js[];

#endif
