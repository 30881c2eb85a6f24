/*
 * engine_probe.h - a scriptable test model and helpers to load scenarios
 * from strings, shared by the kernel's tests.
 *
 * The probe model logs every hook call; each test installs its own
 * behaviour through function pointers in the shared state after loading
 * and before running.
 */
#ifndef DSIM_ENGINE_PROBE_H
#define DSIM_ENGINE_PROBE_H

#include "report_util.h"
#include "scenario.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PROBE_INIT, PROBE_MSG, PROBE_TIMER, PROBE_CRASH, PROBE_RECOVER, PROBE_FAULT };

typedef struct probe_rec {
    sim_time t;
    uint32_t node, src, type;
    int hook;
    uint64_t arg;
    uint32_t incarnation;
} probe_rec;

typedef struct probe_node {
    uint64_t seen;
    sim_timer timer;
} probe_node;

typedef struct probe_shared {
    void (*init)(sim_ctx *ctx, struct probe_shared *p, probe_node *n);
    void (*msg)(sim_ctx *ctx, struct probe_shared *p, probe_node *n, const sim_msg *m);
    void (*timer)(sim_ctx *ctx, struct probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg);
    void (*recover)(sim_ctx *ctx, struct probe_shared *p, probe_node *n);
    probe_rec *log;
    size_t n_log, cap_log;
    int64_t knob; /* "knob" key of the probe object, for tests that read one */
    /* sim_cfg_given of "knob" and of "spare" (never read), asked before
     * knob is read. */
    bool knob_given, spare_given;
    void *user;
} probe_shared;

static const char *const probe_types[] = {"ping", "pong", "data", NULL};

static void probe_log(sim_ctx *ctx, probe_shared *p, int hook, uint32_t src, uint32_t type,
                      uint64_t arg) {
    if (p->n_log == p->cap_log) {
        p->cap_log = p->cap_log ? p->cap_log * 2 : 256;
        p->log = realloc(p->log, p->cap_log * sizeof *p->log);
    }
    p->log[p->n_log++] = (probe_rec){sim_now(ctx),
                                     sim_self(ctx),
                                     src,
                                     type,
                                     hook,
                                     arg,
                                     sim_node_incarnation(sim_of(ctx), sim_self(ctx))};
}

static int probe_configure(sim_cfg *c, void *shared) {
    probe_shared *p = shared;
    p->knob_given = sim_cfg_given(c, "knob");
    p->spare_given = sim_cfg_given(c, "spare");
    return sim_cfg_int(c, "knob", 0, -1000, 1000, &p->knob);
}

static void probe_node_init(sim_ctx *ctx, void *node) {
    probe_shared *p = sim_shared(ctx);
    probe_log(ctx, p, PROBE_INIT, UINT32_MAX, 0, 0);
    if (p->init)
        p->init(ctx, p, node);
}

static void probe_on_message(sim_ctx *ctx, void *node, const sim_msg *m) {
    probe_shared *p = sim_shared(ctx);
    uint64_t arg = 0;
    if (m->len >= sizeof arg)
        memcpy(&arg, m->data, sizeof arg);
    probe_log(ctx, p, PROBE_MSG, m->src, m->type, arg);
    if (p->msg)
        p->msg(ctx, p, node, m);
}

static void probe_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    probe_shared *p = sim_shared(ctx);
    probe_log(ctx, p, PROBE_TIMER, UINT32_MAX, kind, arg);
    if (p->timer)
        p->timer(ctx, p, node, kind, arg);
}

static void probe_on_crash(sim_ctx *ctx, void *node) {
    (void)node;
    probe_log(ctx, sim_shared(ctx), PROBE_CRASH, UINT32_MAX, 0, 0);
}

static void probe_on_recover(sim_ctx *ctx, void *node) {
    probe_shared *p = sim_shared(ctx);
    probe_log(ctx, p, PROBE_RECOVER, UINT32_MAX, 0, 0);
    if (p->recover)
        p->recover(ctx, p, node);
}

/* Logs a fault notification: type = the action's index in probe_faults. */
static const char *const probe_faults[] = {
    "crash", "recover", "fail",      "replace", "partition", "partition_one_way",
    "heal",  "slow",    "slow_link", "clock",   NULL};
static void probe_on_fault(sim *s, void *shared, const char *what, uint32_t node) {
    probe_shared *p = shared;
    uint32_t type = 0;
    while (probe_faults[type] && strcmp(probe_faults[type], what) != 0)
        type++;
    if (p->n_log == p->cap_log) {
        p->cap_log = p->cap_log ? p->cap_log * 2 : 256;
        p->log = realloc(p->log, p->cap_log * sizeof *p->log);
    }
    p->log[p->n_log++] = (probe_rec){sim_time_now(s),
                                     node,
                                     UINT32_MAX,
                                     type,
                                     PROBE_FAULT,
                                     0,
                                     node == UINT32_MAX ? 0 : sim_node_incarnation(s, node)};
}

static void probe_shared_fini(void *shared) { free(((probe_shared *)shared)->log); }

static const sim_model probe_model = {
    .name = "probe",
    .summary = "test model",
    .msg_types = probe_types,
    .shared_size = sizeof(probe_shared),
    .node_size = sizeof(probe_node),
    .configure = probe_configure,
    .node_init = probe_node_init,
    .on_message = probe_on_message,
    .on_timer = probe_on_timer,
    .on_crash = probe_on_crash,
    .on_recover = probe_on_recover,
    .on_fault = probe_on_fault,
    .shared_fini = probe_shared_fini,
};

static const sim_model *const probe_models[] = {&probe_model, NULL};

static inline sim *probe_load(const char *text) {
    return load_text_ok(text, probe_models, NULL, 0);
}

static inline probe_shared *probe_of(sim *s) { return s->shared; }

/* Loads a probe scenario, installs the init and timer behaviours (either
 * may be NULL) and runs it; caller destroys the returned simulation. */
static inline sim *probe_run(const char *text,
                             void (*init)(sim_ctx *ctx, probe_shared *p, probe_node *n),
                             void (*timer)(sim_ctx *ctx, probe_shared *p, probe_node *n,
                                           uint32_t kind, uint64_t arg)) {
    sim *s = probe_load(text);
    probe_of(s)->init = init;
    probe_of(s)->timer = timer;
    sim_run(s);
    return s;
}

#endif
