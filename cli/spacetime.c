/*
 * spacetime.c - data for a space-time (Lamport) diagram of one stale read.
 *
 * The trace file names who sent what to whom but not when it was sent nor
 * which key it carried, so the diagram is made from a replay instead: the
 * run's resolved scenario is loaded again with a model table in which kv is
 * replaced by a copy whose on_message records every delivered message (send
 * and arrival times, ends, type, and the kv_msg fields: key, request,
 * version) and then calls kv's own handler.  The run is the same event for
 * event (the trace hash is compared with summary.json's).  A delivered
 * message is marked as a stale read when kv's own oracle counted one
 * (kv.stale_reads) while handling it: the judgement is the model's, not
 * this file's.
 *
 * The story drawn is the stale read whose reply came soonest after the
 * start of the write it missed: one write, one read, and the replica
 * traffic between, in a window a few milliseconds wide.  A run without a
 * stale read gets the same story for a read that saw the latest write.  Only the lanes of
 * nodes that touched that key in the window are drawn; other keys'
 * messages in the window are drawn faint when there are few of them.
 */
#include "spacetime.h"
#include "plot_int.h"

#include "kv.h"
#include "registry.h"
#include "scenario.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS   500000u
#define MAX_MESSAGES 600000u
#define MAX_FAINT    600u

typedef struct st_msg {
    sim_time sent, recv;
    uint32_t src, dst, type, key, req;
    kv_version v;
    bool ok, stale;
} st_msg;

/* The recording copy of kv.  The kernel reaches it through s->model. */
typedef struct st_model {
    sim_model m; /* first: the kernel sees a plain model */
    const sim_model *orig;
    int c_stale;
    st_msg *msgs;
    size_t n, cap;
    bool overflow;
} st_model;

enum { CLIENT_PUT, CLIENT_PUT_REPLY, CLIENT_GET, CLIENT_GET_REPLY, PUT, PUT_ACK, GET, GET_REPLY };
static const char *const type_names[] = {
    "client_put", "client_put_reply", "client_get", "client_get_reply",
    "put",        "put_ack",          "get",        "get_reply"};
#define N_TYPES 8

static void st_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    sim *s = sim_of(ctx);
    st_model *w = (st_model *)(uintptr_t)s->model;
    int64_t before = sim_counter_value(s, w->c_stale);
    w->orig->on_message(ctx, node, msg);
    if (w->overflow)
        return;
    if (w->n == w->cap) {
        if (w->cap >= MAX_MESSAGES) {
            w->overflow = true;
            return;
        }
        w->cap = w->cap ? 2 * w->cap : 4096;
        w->msgs = sim_realloc(w->msgs, w->cap * sizeof *w->msgs);
    }
    st_msg *r = &w->msgs[w->n++];
    memset(r, 0, sizeof *r);
    r->sent = msg->sent_at;
    r->recv = sim_now(ctx);
    r->src = msg->src;
    r->dst = sim_self(ctx);
    r->type = msg->type;
    r->key = UINT32_MAX;
    if (msg->len >= sizeof(kv_msg)) {
        kv_msg m;
        memcpy(&m, msg->data, sizeof m);
        r->key = m.key;
        r->req = m.req;
        r->v = m.v;
        r->ok = m.ok != 0;
    }
    r->stale = sim_counter_value(s, w->c_stale) > before;
}

/* Our type index (CLIENT_PUT...) of a model type id, or -1. */
static int our_type(const int *map, uint32_t type) { return type < 64 ? map[type] : -1; }

typedef struct story {
    size_t stale;       /* the stale read's reply */
    sim_time w_start;   /* start of the write it missed */
    sim_time r_start;   /* start of the read */
    uint32_t wid_acked; /* the newest acknowledged version at the read's start */
} story;

/* Finds the story of the stale read at index i; false if incomplete. */
static bool tell(const st_model *w, const int *map, size_t i, story *out) {
    const st_msg *rr = &w->msgs[i];
    sim_time r_start = -1;
    for (size_t j = i; j-- > 0;) {
        const st_msg *m = &w->msgs[j];
        if (our_type(map, m->type) == CLIENT_GET && m->src == rr->dst && m->key == rr->key &&
            m->req == rr->req && m->sent <= rr->recv) {
            r_start = m->sent;
            break;
        }
    }
    if (r_start < 0)
        return false;
    /* The newest version acknowledged before the read started. */
    kv_version best = {0};
    for (size_t j = i; j-- > 0;) {
        const st_msg *m = &w->msgs[j];
        if (our_type(map, m->type) == CLIENT_PUT_REPLY && m->key == rr->key && m->ok &&
            m->sent < r_start && kv_version_newer(m->v, best))
            best = m->v;
    }
    if (best.wid == 0)
        return false;
    for (size_t j = i; j-- > 0;) {
        const st_msg *m = &w->msgs[j];
        if (our_type(map, m->type) == CLIENT_PUT && m->key == rr->key && m->v.wid == best.wid) {
            *out =
                (story){.stale = i, .w_start = m->sent, .r_start = r_start, .wid_acked = best.wid};
            return true;
        }
    }
    return false;
}

static double ms(sim_time t, sim_time t0) { return (double)(t - t0) / 1e6; }

/* Closes the files of the diagram: 0, or -1 if one could not be written
 * (those not written yet are discarded). */
static int close_all(cli_out **o, int n) {
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!o[i])
            continue;
        if (rc == 0)
            rc = cli_out_close(o[i]);
        else
            cli_out_discard(o[i]);
        o[i] = NULL;
    }
    return rc;
}

/* Writes the diagram's files for the chosen story. */
static int write_story(const st_model *w, const int *map, const sim *s, const story *st,
                       const cJSON *scenario, const char *data_dir, spacetime_info *info, char *err,
                       size_t errlen) {
    const st_msg *rr = &w->msgs[st->stale];
    uint32_t key = rr->key;
    sim_time span = rr->recv - st->w_start;
    sim_time pad = span / 12 > 200000 ? span / 12 : 200000;
    sim_time t0 = st->w_start - pad, t1 = rr->recv + pad;
    if (t0 < 0)
        t0 = 0;
    /* Whole arrows: the window reaches the arrival of every message of the
     * key sent in it (a put to a far replica), plus room for the labels. */
    sim_time last = rr->recv;
    for (size_t j = 0; j < w->n; j++) {
        const st_msg *m = &w->msgs[j];
        if (m->key == key && m->sent >= t0 && m->sent <= t1 && m->recv > last)
            last = m->recv;
    }
    t1 = last + (last - t0) / 6;

    /* Lanes: nodes that touched the key in the window, in node order. */
    uint32_t n_nodes = sim_node_count(s);
    int *lane = sim_calloc(n_nodes, sizeof *lane);
    for (uint32_t i = 0; i < n_nodes; i++)
        lane[i] = -1;
    size_t faint = 0;
    for (size_t j = 0; j < w->n; j++) {
        const st_msg *m = &w->msgs[j];
        if (m->sent > t1 || m->recv < t0)
            continue;
        if (m->key == key && our_type(map, m->type) >= 0)
            lane[m->src] = lane[m->dst] = 0;
    }
    int n_lanes = 0;
    for (uint32_t i = 0; i < n_nodes; i++)
        if (lane[i] == 0)
            lane[i] = n_lanes++;
    for (size_t j = 0; j < w->n; j++) {
        const st_msg *m = &w->msgs[j];
        if (m->sent <= t1 && m->recv >= t0 && m->key != key && lane[m->src] >= 0 &&
            lane[m->dst] >= 0)
            faint++;
    }
    bool show_faint = faint <= MAX_FAINT;

    /* Writes W1, W2, ... in order of their start in the window. */
    uint32_t wids[64];
    int n_wids = 0;
    static const char *const files[] = {"spacetime-other.dat",   "spacetime-request.dat",
                                        "spacetime-replica.dat", "spacetime-reply.dat",
                                        "spacetime-answer.dat",  "spacetime-points.dat",
                                        "spacetime-lanes.dat"};
    cli_out *o[7] = {0};
    FILE *f[6];
    for (int i = 0; i < 7; i++) {
        o[i] = cli_out_open(data_dir, files[i]);
        if (!o[i]) {
            close_all(o, i);
            sim_free(lane);
            return cli_fail(err, errlen, "cannot write %s", files[i]);
        }
        if (i < 6) {
            f[i] = o[i]->f;
            fprintf(f[i], "# %s: x (ms), y (lane), dx, dy or label; written by dsim plot\n",
                    files[i]);
        }
    }
    for (size_t j = 0; j < w->n; j++) {
        const st_msg *m = &w->msgs[j];
        if (m->sent > t1 || m->recv < t0 || lane[m->src] < 0 || lane[m->dst] < 0)
            continue;
        int t = our_type(map, m->type);
        double x = ms(m->sent, t0), y = lane[m->src];
        double dx = ms(m->recv, m->sent) + 0, dy = lane[m->dst] - lane[m->src];
        if (m->key != key || t < 0) {
            if (show_faint)
                fprintf(f[0], "%.6f %d %.6f %d\n", x, (int)y, dx, (int)dy);
            continue;
        }
        int cls = t == CLIENT_PUT || t == CLIENT_GET ? 1
                  : t == PUT || t == GET             ? 2
                  : t == PUT_ACK || t == GET_REPLY   ? 3
                                                     : 4;
        fprintf(f[cls], "%.6f %d %.6f %d\n", x, (int)y, dx, (int)dy);
        if (t == CLIENT_PUT) {
            int k;
            for (k = 0; k < n_wids && wids[k] != m->v.wid; k++)
                ;
            if (k == n_wids && n_wids < 64)
                wids[n_wids++] = m->v.wid;
        }
    }
    /* Points: write starts (1), commits (2), read starts (3),
     * fresh reads (4), stale reads (5), with labels. */
    for (size_t j = 0; j < w->n; j++) {
        const st_msg *m = &w->msgs[j];
        if (m->key != key || m->sent > t1 || m->recv < t0 || lane[m->src] < 0 || lane[m->dst] < 0)
            continue;
        int t = our_type(map, m->type);
        int k = 0;
        while (k < n_wids && wids[k] != m->v.wid)
            k++;
        char name[32];
        if (m->v.wid == 0)
            snprintf(name, sizeof name, "nothing");
        else if (k < n_wids)
            snprintf(name, sizeof name, "W%d", k + 1);
        else
            snprintf(name, sizeof name, "an older write");
        if (t == CLIENT_PUT)
            fprintf(f[5], "%.6f %d 1 \"write %s\"\n", ms(m->sent, t0), lane[m->src], name);
        else if (t == CLIENT_PUT_REPLY && m->ok)
            /* Committed at the coordinator once it holds W acks: when it
             * answers, not when the answer arrives (docs/metrics.md). */
            fprintf(f[5], "%.6f %d 2 \"%s committed\"\n", ms(m->sent, t0), lane[m->src], name);
        else if (t == CLIENT_GET)
            fprintf(f[5], "%.6f %d 3 \"read\"\n", ms(m->sent, t0), lane[m->src]);
        else if (t == CLIENT_GET_REPLY && m->ok) {
            if (m->stale) {
                int a = 0;
                while (a < n_wids && wids[a] != st->wid_acked)
                    a++;
                char acked[32];
                if (a < n_wids)
                    snprintf(acked, sizeof acked, "W%d", a + 1);
                else
                    snprintf(acked, sizeof acked, "a newer write");
                fprintf(f[5], "%.6f %d 5 \"STALE: got %s, not %s\"\n", ms(m->recv, t0),
                        lane[m->dst], name, acked);
            } else {
                fprintf(f[5], "%.6f %d 4 \"got %s\"\n", ms(m->recv, t0), lane[m->dst], name);
            }
        }
    }
    /* The lanes: number and node name (a name the loader checked, cleaned
     * again: it is read as data, by ytic()). */
    for (uint32_t i = 0; i < n_nodes; i++)
        if (lane[i] >= 0) {
            char name[96];
            plot_label(name, sizeof name, sim_node_name(s, i));
            fprintf(o[6]->f, "%d \"%s\"\n", lane[i], name);
        }
    sim_free(lane);
    if (close_all(o, 7) < 0)
        return cli_fail(err, errlen, "cannot write the diagram's data in %s", data_dir);
    const cJSON *kvc = cJSON_GetObjectItemCaseSensitive(scenario, "kv");
    *info = (spacetime_info){
        .lanes = n_lanes,
        .key = key,
        .stale = rr->stale,
        .n = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kvc, "n")),
        .r = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kvc, "r")),
        .w = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kvc, "w")),
        .t0_s = sim_time_to_s(t0),
        .span_ms = ms(t1, t0),
        .faint = show_faint,
        .faint_count = faint,
    };
    return 0;
}

int spacetime_derive(const cJSON *sum, const char *data_dir, spacetime_info *info, char *err,
                     size_t errlen) {
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(sum, "scenario");
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "model"));
    const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sum, "trace_hash"));
    double events = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sum, "engine"), "events"));
    int rc = 0;
    if (!model || strcmp(model, "kv") != 0 || !hash)
        rc = cli_fail(err, errlen, "the diagram is drawn for kv runs");
    else if (!(events <= MAX_EVENTS))
        rc = cli_fail(err, errlen, "%.0f events is too many to replay (at most %u)", events,
                      MAX_EVENTS);
    char scen[4400];
    snprintf(scen, sizeof scen, "%s/spacetime-scenario.json", data_dir);
    if (rc == 0) {
        char *t = cJSON_Print(sc);
        if (!t || cli_write_file(data_dir, "spacetime-scenario.json", t) < 0)
            rc = cli_fail(err, errlen, "cannot write %s", scen);
        cJSON_free(t);
    }
    if (rc)
        return rc;

    /* The model table with kv replaced by its recording copy. */
    st_model w = {.m = kv_model, .orig = &kv_model};
    w.m.on_message = st_on_message;
    size_t n_models = 0;
    while (sim_models[n_models])
        n_models++;
    const sim_model **table = sim_calloc(n_models + 1, sizeof *table);
    for (size_t i = 0; i < n_models; i++)
        table[i] = sim_models[i] == &kv_model ? &w.m : sim_models[i];
    sim_budget no_limits = {-1, -1, -1}; /* the run passed its own; this one is bounded */
    sim_load_opts lo = {.file = scen, .models = table, .budget = &no_limits};
    cJSON *res = NULL;
    char lerr[2048];
    sim *s = sim_load(&lo, &res, lerr, sizeof lerr);
    cJSON_Delete(res);
    if (!s) {
        rc = cli_fail(err, errlen, "the scenario does not load again: %s", lerr);
    } else {
        /* The summary's count of events is the folder's word: the replay
         * is bounded by itself. */
        if (!s->max_events || s->max_events > MAX_EVENTS + 1)
            s->max_events = MAX_EVENTS + 1;
        w.c_stale = sim_counter(s, "kv.stale_reads");
        int map[64];
        for (int i = 0; i < 64; i++)
            map[i] = -1;
        for (uint32_t t = 0; t < s->n_types && t < 64; t++)
            for (int k = 0; k < N_TYPES; k++)
                if (strcmp(s->type_names[t], type_names[k]) == 0)
                    map[t] = k;
        sim_run(s);
        char h[17];
        snprintf(h, sizeof h, "%016llx", (unsigned long long)sim_trace_hash(s));
        story best = {0}, st;
        bool found = false;
        char shown[32];
        plot_label(shown, sizeof shown, hash);
        if (s->events > MAX_EVENTS)
            rc = cli_fail(err, errlen, "more than %u events to replay", MAX_EVENTS);
        else if (strcmp(h, hash) != 0)
            rc = cli_fail(err, errlen, "the replay differs from the run (trace hash %s, not %s)", h,
                          shown);
        else if (w.overflow)
            rc = cli_fail(err, errlen, "more than %u messages to replay", MAX_MESSAGES);
        /* A stale read if there is one; else a read that saw the latest
         * write (with R + W > N, say), to show why it did. */
        for (int pass = 0; pass < 2 && rc == 0 && !found; pass++) {
            for (size_t i = 0; i < w.n; i++) {
                const st_msg *m = &w.msgs[i];
                bool want =
                    pass == 0 ? m->stale : our_type(map, m->type) == CLIENT_GET_REPLY && m->ok;
                if (!want || !tell(&w, map, i, &st))
                    continue;
                if (!found || m->recv - st.w_start < w.msgs[best.stale].recv - best.w_start) {
                    best = st;
                    found = true;
                }
            }
        }
        if (rc == 0 && !found)
            rc = cli_fail(err, errlen, "the run has no read of a written key to draw");
        if (rc == 0)
            rc = write_story(&w, map, s, &best, sc, data_dir, info, err, errlen);
        sim_destroy(s);
    }
    sim_free(w.msgs);
    sim_free(table);
    return rc;
}
