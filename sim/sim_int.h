/*
 * sim_int.h - the kernel's internal header, shared by the files of sim/ and
 * by the command (cli/).  Models never include it.
 *
 * It defines the simulation object and what hangs off it: the node table,
 * the network's link rules and partition state, the fault schedule, the
 * future event list and the event pool.  Internal cross-file helpers carry
 * the prefix sim__.
 */
#ifndef DSIM_SIM_INT_H
#define DSIM_SIM_INT_H

#include "metrics.h"
#include "queue.h"
#include "sim.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

struct cJSON;

/* Largest accepted sizes: beyond these a scenario is refused as absurd. */
#define SIM_MAX_NODES  1000000u
#define SIM_MAX_GROUPS 256u
/* Seeds stay below 10^15 so that JSON output (15 significant digits)
 * prints every seed exactly. */
#define SIM_MAX_SEED 999999999999999LL

/* A set of nodes named in a scenario: everyone, one group, or one node. */
typedef enum { SIM_SEL_ANY, SIM_SEL_GROUP, SIM_SEL_NODE } sim__sel_kind;
typedef struct sim__sel {
    sim__sel_kind kind;
    uint32_t id;
} sim__sel;

/* A node set given as a list of names (partition groups, one-way cuts). */
typedef struct sim__nodeset {
    uint32_t n;
    uint32_t *nodes; /* sorted ascending, unique */
} sim__nodeset;

/* One entry of network.links: later rules override earlier ones for the
 * properties they set. */
typedef struct sim__link_rule {
    sim__sel from, to;
    bool one_way;
    int msg_type; /* -1: every type */
    bool has_latency, has_loss, has_duplicate;
    sim_dist latency;
    double loss, duplicate;
} sim__link_rule;

/* A slowed link (fault action), both directions unless one_way. */
typedef struct sim__slow_link {
    sim__sel from, to;
    bool one_way;
    double factor;
} sim__slow_link;

typedef struct sim__cut {
    sim__nodeset from, to;
} sim__cut;

typedef enum sim__fault_kind {
    SIM_FAULT_PARTITION,
    SIM_FAULT_CUT, /* one-way partition */
    SIM_FAULT_HEAL,
    SIM_FAULT_CRASH,
    SIM_FAULT_RECOVER,
    SIM_FAULT_FAIL,
    SIM_FAULT_REPLACE,
    SIM_FAULT_SLOW_NODE,
    SIM_FAULT_SLOW_LINK,
    SIM_FAULT_CLOCK,
    SIM_FAULT_KIND_COUNT
} sim__fault_kind;

extern const char *const sim__fault_names[SIM_FAULT_KIND_COUNT];

typedef struct sim__fault {
    sim_time at;
    sim__fault_kind kind;
    uint32_t n_nodes; /* crash/recover/fail/replace/slow_node/clock targets */
    uint32_t *nodes;
    uint32_t n_groups; /* partition */
    sim__nodeset *groups;
    sim__cut cut;           /* one-way partition */
    sim__slow_link slow;    /* slow link */
    double factor;          /* slow node */
    sim_time clock_offset;  /* clock */
    double clock_drift_ppm; /* clock */
    bool random;            /* injected by random faults (not the schedule) */
} sim__fault;

typedef struct sim__random_crash {
    bool enabled;
    sim__nodeset nodes;
    sim_dist mtbf, mttr;
} sim__random_crash;

typedef struct sim__random_partition {
    bool enabled;
    sim__nodeset nodes;
    sim_dist every, duration;
} sim__random_partition;

typedef struct sim__node {
    const char *name; /* owned by the sim's name storage */
    int group;
    bool up;
    bool failed;          /* permanently */
    uint32_t incarnation; /* +1 at every replacement */
    int part;             /* symmetric partition side, 0 = not in any group */
    double slow;          /* latency multiplier, 1 = normal */
    sim_time clock_offset;
    double clock_drift_ppm;
    sim_time clock_set_at;
    sim_rng rng;      /* the model's stream for this node */
    sim_rng net_rng;  /* latency draws of messages it sends */
    sim_rng loss_rng; /* loss and duplication draws, apart so that changing the loss
                         rate does not shift latencies (common random numbers) */
    sim_rng fault_rng;
    void *state;
} sim__node;

typedef struct sim__group {
    char *name;
    uint32_t first, count;
} sim__group;

/* Per message type accounting. */
typedef struct sim__msg_stats {
    int64_t sent, bytes, delivered, dropped;
} sim__msg_stats;

/* Kernel counters.  The hot path bumps plain integers; sim__kstats_sync
 * folds them into the metrics registry before each sample and the report. */
enum {
    KC_SENT,
    KC_BYTES,
    KC_DELIVERED,
    KC_DROPPED_LOSS,
    KC_DROPPED_PARTITION,
    KC_DROPPED_DOWN,
    KC_DUPLICATED,
    KC_TIMERS,
    KC_FAULTS,
    KC_COUNT
};

#define SIM__HASH_BUF 4096

struct sim {
    /* Configuration (resolved scenario). */
    struct cJSON *root; /* the scenario as read; model strings point into it */
    char *file;
    char *name;
    uint64_t seed;
    uint32_t run;
    sim_time duration;
    uint64_t max_events;
    sim_time sample_interval;
    const sim_model *model;
    void *shared;
    uint32_t n_types;
    const char *const *type_names;

    /* Nodes and groups. */
    uint32_t n_nodes;
    sim__node *nodes;
    uint32_t n_groups;
    sim__group groups[SIM_MAX_GROUPS];
    uint32_t nodes_up;
    /* Per node, in compact arrays that stay in the first-level cache because
     * every send and delivery reads them: epoch[i] counts node i's crashes
     * (timers and messages from an older epoch are dropped); gate[i] is
     * epoch[i] while node i is up and SIM__DOWN while it is down, so a
     * delivery is one comparison.  Updated through sim__node_gate. */
    uint32_t *epoch;
    uint32_t *gate;

    /* Network. */
    sim_dist default_latency;
    double default_loss, default_duplicate;
    uint32_t n_rules;
    sim__link_rule *rules;
    uint32_t n_cuts;
    sim__cut *cuts;
    bool partitioned;
    uint32_t n_slow_links;
    sim__slow_link *slow_links;
    /* True while the network has no rules, partitions, cuts, slowdowns,
     * loss or duplication: sends then skip straight to the latency draw.
     * Recomputed by sim__net_refresh after every change. */
    bool net_plain;
    /* The default latency when it is a constant (-1 otherwise): no draw. */
    sim_time plain_latency;
    sim__msg_stats *msg_stats; /* per type */

    /* Faults. */
    uint32_t n_faults;
    sim__fault *faults;
    sim__random_crash random_crash;
    sim__random_partition random_partition;
    sim_rng partition_rng;
    sim__fault random_part_fault; /* the active random partition */

    /* Events. */
    sim_queue queue;
    sim_time now;
    uint64_t events;
    int64_t in_flight; /* messages scheduled and not yet dispatched */
    bool stopping;
    bool ran;
    /* The command's check, every check_every events (sim__set_check):
     * progress and interruption.  checkpoint is the next event count at
     * which the loop looks up from its work (a check or max_events). */
    bool (*check)(sim *s, void *arg);
    void *check_arg;
    uint64_t check_every, checkpoint;
    bool interrupted; /* a check asked the run to stop */

    /* Metrics and trace. */
    sim_metrics *metrics;
    int64_t kval[KC_COUNT], ksynced[KC_COUNT];
    int kid[KC_COUNT];
    int gauge_nodes_up;
    XXH3_state_t *hash;
    /* Trace records are buffered and hashed a buffer at a time: the digest
     * is the same, and the per-event cost is a copy. */
    size_t hlen;
    unsigned char hbuf[SIM__HASH_BUF];
    FILE *trace;
    uint32_t acting; /* node whose hook runs, or UINT32_MAX */
};

struct sim_ctx {
    sim *s;
    uint32_t self;
};

/* ---- Event kinds stored in the queue. ---- */
enum {
    SIM_EV_MSG = 1,
    SIM_EV_TIMER = 2,
    SIM_EV_FAULT = 3,        /* arg = index in faults */
    SIM_EV_SAMPLE = 4,       /* time-series tick */
    SIM_EV_CRASH_RANDOM = 5, /* node = target */
    SIM_EV_RECOVER_RANDOM = 6,
    SIM_EV_PARTITION_RANDOM = 7,
    SIM_EV_HEAL_RANDOM = 8,
    SIM_EV_WORLD = 9, /* model world timer: type = kind, data.arg = arg */
};

#define SIM__DOWN UINT32_MAX

static inline void sim__node_gate(sim *s, uint32_t node) {
    SIM_ASSERT(s->epoch[node] != SIM__DOWN);
    s->gate[node] = s->nodes[node].up ? s->epoch[node] : SIM__DOWN;
}

/* ---- sim.c ---- */

/* Creates an empty simulation.  Caller owns; free with sim_destroy. */
sim *sim__create(void);
void sim_destroy(sim *s);
/* Creates nodes for the groups declared so far and initialises per-node
 * streams; called once by the scenario loader. */
int sim__create_nodes(sim *s);
/* Runs node_init on every node, schedules faults and sampling, then runs
 * until duration or max_events, or until a check asks it to stop (then
 * s->interrupted is set).  Returns 0. */
int sim_run(sim *s);
/* Before sim_run: calls check(s, arg) every `every` events (> 0); when it
 * returns true the run ends after that event, as if cut by max_events.  A
 * check reads s->now and s->events and must change nothing of the run, so
 * that a run with a check is the run without it: the command uses it for
 * its progress line and for Ctrl-C, never a model. */
void sim__set_check(sim *s, uint64_t every, bool (*check)(sim *s, void *arg), void *arg);
/* The run's trace hash (valid after sim_run). */
uint64_t sim_trace_hash(sim *s);
/* Writes summary metrics and model report into a new cJSON object. */
struct cJSON;
/* A file a model added to the report. */
typedef struct sim__report_file {
    char *name, *text;
} sim__report_file;
/* Runs the model's report: returns the metrics object, the human lines and
 * the files (caller frees with sim__report_files_free). */
struct cJSON *sim__report_json(sim *s, char **human, sim__report_file **files, size_t *n_files);
void sim__report_files_free(sim__report_file *files, size_t n);

/* ---- net.c ---- */
void sim__net_send(sim *s, uint32_t src, uint32_t dst, uint32_t type, const void *data,
                   uint32_t len, uint32_t wire_bytes, sim_time delay);
bool sim__net_path_up(const sim *s, uint32_t src, uint32_t dst);
void sim__net_refresh(sim *s);
void sim__net_fini(sim *s);
bool sim__nodeset_has(const sim__nodeset *set, uint32_t node);
bool sim__sel_has(const sim *s, sim__sel sel, uint32_t node);

/* ---- faults.c ---- */
void sim__faults_schedule(sim *s);
void sim__fault_apply(sim *s, const sim__fault *f);
void sim__fault_random_event(sim *s, int kind, uint32_t node);
void sim__faults_fini(sim *s);
void sim__node_crash(sim *s, uint32_t node);
void sim__node_recover(sim *s, uint32_t node);
void sim__node_replace(sim *s, uint32_t node);

/* Folds the kernel counters into the metrics registry. */
void sim__kstats_sync(sim *s);

/* ---- trace.c ---- */
void sim__trace_flush(sim *s);
void sim__trace_event_slow(sim *s, int kind, uint32_t node, uint32_t src, uint32_t type,
                           const void *data, uint32_t len);

/* Record header size: 32 bytes keep headers aligned in the buffer when
 * payloads are multiples of 8 (most are), which makes the copy cheap. */
#define SIM__TRACE_HDR 32

/* Writes the 32-byte record header (layout in trace.c). */
static inline void sim__trace_header(unsigned char *rec, sim_time now, int kind, uint32_t node,
                                     uint32_t src, uint32_t type, uint32_t len) {
    uint64_t t = (uint64_t)now;
    uint32_t k = (uint32_t)kind, zero = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The host order is the record's order: plain stores (this runs for
     * every event).  Not through a temporary array: reading that back
     * whole stalls on store forwarding. */
    memcpy(rec, &t, 8);
    memcpy(rec + 8, &node, 4);
    memcpy(rec + 12, &src, 4);
    memcpy(rec + 16, &k, 4);
    memcpy(rec + 20, &type, 4);
    memcpy(rec + 24, &len, 4);
    memcpy(rec + 28, &zero, 4);
#else
    uint32_t v[8] = {(uint32_t)t, (uint32_t)(t >> 32), node, src, k, type, len, zero};
    for (int i = 0; i < 8; i++)
        for (int b = 0; b < 4; b++)
            rec[4 * i + b] = (unsigned char)(v[i] >> (8 * b));
#endif
}

/* Appends a record to the hash buffer, which has room for it. */
static inline void sim__trace_buffer(sim *s, int kind, uint32_t node, uint32_t src, uint32_t type,
                                     const void *data, uint32_t len) {
    unsigned char *rec = s->hbuf + s->hlen;
    sim__trace_header(rec, s->now, kind, node, src, type, len);
    if (len)
        memcpy(rec + SIM__TRACE_HDR, data, len);
    s->hlen += SIM__TRACE_HDR + len;
}

/* Appends an event's record to the trace hash (and, with --trace, its line
 * to the trace file).  Inline: every dispatched event makes one. */
static inline void sim__trace_event(sim *s, int kind, uint32_t node, uint32_t src, uint32_t type,
                                    const void *data, uint32_t len) {
    if (s->trace || s->hlen + SIM__TRACE_HDR + len > SIM__HASH_BUF)
        sim__trace_event_slow(s, kind, node, src, type, data, len);
    else
        sim__trace_buffer(s, kind, node, src, type, data, len);
}
void sim__trace_line(sim *s, const char *what, uint32_t node, const char *text);

/* Calls a node hook with a context; the acting node is recorded. */
#define SIM__CTX(sp, node) ((sim_ctx){.s = (sp), .self = (node)})

#endif
