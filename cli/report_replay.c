/*
 * report_replay.c - the run of a folder again, recorded for report.html.
 *
 * As for the space-time chart (spacetime.c), the trace file is optional and
 * holds neither send times nor keys, so the page's events come from a
 * replay: the folder's resolved scenario is loaded again through the
 * checking loader, with the run's model replaced by a copy whose
 * on_message records every delivered message (ends, send and arrival
 * times, type; for kv the kv_msg key and version, and whether kv's own
 * oracle counted a stale read while handling it) and whose on_message and
 * on_timer note, for gossip, when a node first holds an update.  The
 * narration (sim_log lines) and the faults the kernel applies are read
 * from the trace stream, which goes to a stream of ours (fopencookie) that
 * keeps only those lines.  Tracing changes no decision of a model, so the
 * replay is the run event for event; the trace hash is compared with the
 * folder's when the whole run was replayed.
 *
 * Invariants
 *  (1) Everything recorded is bounded (REPLAY_MAX_*), whatever the folder
 *      claims; the caller bounds the events.
 *  (2) Nothing here trusts the folder's text: it reaches the loader as a
 *      scenario (data) and leaves as strings the page escapes.
 */
#define _GNU_SOURCE /* fopencookie */
#include "report.h"

#include "cli_util.h"
#include "gossip/gossip.h"
#include "kv.h"
#include "registry.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_MSGS  600000u
#define REPLAY_MAX_LINES 60000u
#define REPLAY_MAX_LEARN 100000u
#define LINE_MAX_BYTES   2048u

typedef struct rp_model {
    sim_model m; /* first: the kernel sees a plain model */
    const sim_model *orig;
    report_replay *out;
    int c_stale; /* kv.stale_reads, or -1 */
    bool kv, gossip;
    /* The trace stream's current line. */
    char line[LINE_MAX_BYTES];
    size_t line_len;
    bool line_long;
    const sim *s;
    uint32_t *order; /* node indices sorted by name */
} rp_model;

static rp_model *wrapper_of(sim_ctx *ctx) { return (rp_model *)(uintptr_t)sim_of(ctx)->model; }

static void learn_note(rp_model *w, sim_ctx *ctx, uint64_t before, uint64_t after) {
    uint64_t fresh = after & ~before;
    report_replay *r = w->out;
    for (uint32_t u = 0; fresh && u < 64; u++, fresh >>= 1) {
        if (!(fresh & 1))
            continue;
        if (r->n_learn == r->cap_learn) {
            if (r->cap_learn >= REPLAY_MAX_LEARN)
                return;
            r->cap_learn = r->cap_learn ? 2 * r->cap_learn : 1024;
            r->learn = sim_realloc(r->learn, r->cap_learn * sizeof *r->learn);
        }
        r->learn[r->n_learn++] =
            (report_learn){.t = sim_now(ctx), .node = sim_self(ctx), .update = u};
    }
}

static void rp_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    rp_model *w = wrapper_of(ctx);
    sim *s = sim_of(ctx);
    int64_t stale_before = w->c_stale >= 0 ? sim_counter_value(s, w->c_stale) : 0;
    uint64_t have_before = w->gossip ? ((gossip_node *)node)->have : 0;
    w->orig->on_message(ctx, node, msg);
    if (w->gossip)
        learn_note(w, ctx, have_before, ((gossip_node *)node)->have);
    report_replay *r = w->out;
    if (r->msgs_capped)
        return;
    if (r->n_msgs == r->cap_msgs) {
        if (r->cap_msgs >= REPLAY_MAX_MSGS) {
            r->msgs_capped = true;
            return;
        }
        r->cap_msgs = r->cap_msgs ? 2 * r->cap_msgs : 4096;
        r->msgs = sim_realloc(r->msgs, r->cap_msgs * sizeof *r->msgs);
    }
    report_msg *m = &r->msgs[r->n_msgs++];
    memset(m, 0, sizeof *m);
    m->sent = msg->sent_at;
    m->recv = sim_now(ctx);
    m->src = msg->src;
    m->dst = sim_self(ctx);
    m->type = msg->type;
    if (w->kv && msg->len >= sizeof(kv_msg)) {
        kv_msg km;
        memcpy(&km, msg->data, sizeof km);
        m->is_kv = true;
        m->key = km.key;
        m->wid = km.v.wid;
        m->vts = km.v.ts;
        m->ok = km.ok != 0;
        m->stale = w->c_stale >= 0 && sim_counter_value(s, w->c_stale) > stale_before;
    }
}

static void rp_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    rp_model *w = wrapper_of(ctx);
    uint64_t have_before = w->gossip ? ((gossip_node *)node)->have : 0;
    w->orig->on_timer(ctx, node, kind, arg);
    if (w->gossip)
        learn_note(w, ctx, have_before, ((gossip_node *)node)->have);
}

/* ---- The trace stream: keeps the "log" and "fault" lines. ---- */

static int by_name(const void *a, const void *b, void *arg) {
    char *const *names = arg;
    return strcmp(names[*(const uint32_t *)a], names[*(const uint32_t *)b]);
}

/* The node's index from its name: a binary search of the names in order
 * (order[], built once: a run of 10^6 nodes logs many lines). */
static int32_t node_index(const rp_model *w, const char *name) {
    const report_replay *r = w->out;
    uint32_t lo = 0, hi = r->n_nodes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->nodes[w->order[mid]], name);
        if (c == 0)
            return (int32_t)w->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void take_line(rp_model *w, const char *line) {
    report_replay *r = w->out;
    /* The kernel writes {"t":N,"ev":"..." first: look no further. */
    const char *ev = strstr(line, "\"ev\":\"");
    if (!ev || ev - line > 40)
        return;
    ev += 6;
    bool fault = strncmp(ev, "fault\"", 6) == 0;
    if (!fault && strncmp(ev, "log\"", 4) != 0)
        return;
    if (r->n_lines == r->cap_lines) {
        if (r->cap_lines >= REPLAY_MAX_LINES) {
            r->lines_capped = true;
            return;
        }
        r->cap_lines = r->cap_lines ? 2 * r->cap_lines : 1024;
        r->lines = sim_realloc(r->lines, r->cap_lines * sizeof *r->lines);
    }
    cJSON *j = cJSON_Parse(line);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "t");
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "text"));
    const char *node = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "node"));
    if (cJSON_IsNumber(t) && text) {
        size_t n = strlen(text) + 1;
        char *copy = sim_malloc(n);
        memcpy(copy, text, n);
        r->lines[r->n_lines++] = (report_line){.t = (sim_time)t->valuedouble,
                                               .node = node ? node_index(w, node) : -1,
                                               .fault = fault,
                                               .text = copy};
    }
    cJSON_Delete(j);
}

static ssize_t cookie_write(void *c, const char *buf, size_t size) {
    rp_model *w = c;
    for (size_t i = 0; i < size; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (!w->line_long) {
                w->line[w->line_len] = '\0';
                take_line(w, w->line);
            }
            w->line_len = 0;
            w->line_long = false;
        } else if (w->line_len + 1 < sizeof w->line) {
            w->line[w->line_len++] = ch;
        } else {
            w->line_long = true;
        }
    }
    return (ssize_t)size;
}

static int cookie_close(void *c) {
    (void)c;
    return 0;
}

static char *dup_text(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = sim_malloc(n);
    memcpy(p, s, n);
    return p;
}

int report_replay_run(const cJSON *sum, const char *data_dir, uint64_t max_events,
                      report_replay *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->max_events = max_events;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(sum, "scenario");
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "model"));
    const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum, "trace_hash"));
    const sim_model *orig = model ? sim_model_find(model) : NULL;
    if (!orig)
        return cli_fail(err, errlen, "the folder's scenario names no known model");
    char *text = cJSON_Print(sc);
    int rc = text ? cli_write_file(data_dir, "report-scenario.json", text) : -1;
    cJSON_free(text);
    if (rc < 0)
        return cli_fail(err, errlen, "cannot write the scenario's copy for the replay");
    char path[4400];
    snprintf(path, sizeof path, "%s/report-scenario.json", data_dir);

    rp_model *w = sim_calloc(1, sizeof *w);
    w->m = *orig;
    w->orig = orig;
    w->out = out;
    w->kv = orig == &kv_model;
    w->gossip = strcmp(orig->name, "gossip") == 0;
    if (orig->on_message)
        w->m.on_message = rp_on_message;
    if (orig->on_timer)
        w->m.on_timer = rp_on_timer;
    size_t n_models = 0;
    while (sim_models[n_models])
        n_models++;
    const sim_model **table = sim_calloc(n_models + 1, sizeof *table);
    for (size_t i = 0; i < n_models; i++)
        table[i] = sim_models[i] == orig ? &w->m : sim_models[i];
    /* The folder's run passed its budget already (perhaps with limits
     * raised), and this one is bounded by max_events: no limits here. */
    sim_budget no_limits = {-1, -1, -1};
    sim_load_opts lo = {.file = path, .models = table, .budget = &no_limits};
    cJSON *res = NULL;
    char lerr[2048];
    sim *s = sim_load(&lo, &res, lerr, sizeof lerr);
    cJSON_Delete(res);
    if (!s) {
        rc = cli_fail(err, errlen, "the scenario does not load again: %s", lerr);
    } else {
        out->n_nodes = sim_node_count(s);
        out->nodes = sim_calloc(out->n_nodes ? out->n_nodes : 1, sizeof *out->nodes);
        for (uint32_t i = 0; i < out->n_nodes; i++)
            out->nodes[i] = dup_text(sim_node_name(s, i));
        w->order = sim_calloc(out->n_nodes ? out->n_nodes : 1, sizeof *w->order);
        for (uint32_t i = 0; i < out->n_nodes; i++)
            w->order[i] = i;
        qsort_r(w->order, out->n_nodes, sizeof *w->order, by_name, out->nodes);
        out->n_types = s->n_types;
        out->types = sim_calloc(s->n_types ? s->n_types : 1, sizeof *out->types);
        for (uint32_t i = 0; i < s->n_types; i++)
            out->types[i] = dup_text(s->type_names[i]);
        w->c_stale = w->kv ? sim_counter(s, "kv.stale_reads") : -1;
        w->s = s;
        cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
        s->trace = fopencookie(w, "w", io);
        bool bounded = !s->max_events || s->max_events > max_events;
        if (bounded)
            s->max_events = max_events;
        sim_run(s);
        if (s->trace)
            fflush(s->trace);
        out->events = s->events;
        out->end = s->now;
        out->whole = !(bounded && s->events >= max_events);
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)sim_trace_hash(s));
        out->same = out->whole && hash && strcmp(h, hash) == 0;
        sim_destroy(s); /* closes the trace stream: cookie_close keeps w */
        rc = 0;
    }
    sim_free(table);
    sim_free(w->order);
    sim_free(w);
    if (rc)
        report_replay_free(out);
    return rc;
}

void report_replay_free(report_replay *r) {
    for (size_t i = 0; i < r->n_lines; i++)
        sim_free(r->lines[i].text);
    for (uint32_t i = 0; i < r->n_nodes; i++)
        sim_free(r->nodes[i]);
    for (uint32_t i = 0; i < r->n_types; i++)
        sim_free(r->types[i]);
    sim_free(r->nodes);
    sim_free(r->types);
    sim_free(r->msgs);
    sim_free(r->lines);
    sim_free(r->learn);
    memset(r, 0, sizeof *r);
}
