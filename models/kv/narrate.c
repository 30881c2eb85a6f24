/*
 * narrate.c - the trace's narration of the kv protocol: versions as the
 * trace prints them (w<id>, a sibling set {w<id>,...}, "nothing", a
 * delete), and the lines for a write's commit and a read's answer.
 *
 * Invariants
 *  (1) Narration only reads state and writes the trace; it draws no
 *      random numbers and schedules nothing, so a run is the same with
 *      tracing on or off.
 *  (2) A line is composed only when the run writes a trace (sim_tracing).
 *
 * Sends no messages.
 */
#include "kv_int.h"

#include <stdarg.h>
#include <stdio.h>

/* Appends to a fixed line, keeping *at within it (a long name truncates). */
static void addf(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void addf(char *buf, size_t len, size_t *at, const char *fmt, ...) {
    if (*at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len - 1 ? *at + (size_t)n : len - 1;
}

/* A version as the trace narrates it: w<id>, a sibling set {w<id>,...},
 * "nothing", and a delete marked. */
const char *kv_vlabel(const kv_shared *k, kv_version v, char *buf, size_t len) {
    if (v.wid == 0) {
        snprintf(buf, len, "nothing");
        return buf;
    }
    if (!k->vclock || kv_vc_count(&k->vc, v) == 1) {
        uint32_t w = k->vclock ? kv_vc_member(&k->vc, v, 0) : v.wid;
        snprintf(buf, len, "w%u%s", w, kv_is_tombstone(v) ? " (a delete)" : "");
        return buf;
    }
    size_t at = 0;
    addf(buf, len, &at, "{");
    for (uint32_t i = 0; i < kv_vc_count(&k->vc, v); i++)
        addf(buf, len, &at, "%sw%u", i ? "," : "", kv_vc_member(&k->vc, v, i));
    addf(buf, len, &at, "}");
    return buf;
}
/* The trace's narration of a write's commit: who acknowledged it. */
void kv_narrate_commit(sim_ctx *ctx, const kv_coord_req *q) {
    kv_shared *k = kv_shared_of(ctx);
    if (!sim_tracing(ctx))
        return;
    char line[400], vb[64];
    size_t at = 0;
    addf(line, sizeof line, &at, "write %s of key %u committed: acks from",
         kv_vlabel(k, q->v, vb, sizeof vb), q->key);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->replied & (1u << i))
            addf(line, sizeof line, &at, " %s", sim_node_name(k->sim, q->targets[i]));
    addf(line, sizeof line, &at, " (W=%lld); not yet", (long long)k->w);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (!(q->replied & (1u << i)))
            addf(line, sizeof line, &at, " %s", sim_node_name(k->sim, q->targets[i]));
    sim_log(ctx, "%s", line);
}

/* The trace's narration of a read's answer: who replied with what (the
 * heart of explaining a stale read). */
void kv_narrate_read(sim_ctx *ctx, const kv_coord_req *q) {
    kv_shared *k = kv_shared_of(ctx);
    if (!sim_tracing(ctx))
        return;
    char line[400], vb[64];
    size_t at = 0;
    addf(line, sizeof line, &at, "read of key %u: replies", q->key);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->replied & (1u << i))
            addf(line, sizeof line, &at, " %s=%s", sim_node_name(k->sim, q->targets[i]),
                 kv_vlabel(k, q->got[i], vb, sizeof vb));
    addf(line, sizeof line, &at, "; answers %s", kv_vlabel(k, q->v, vb, sizeof vb));
    sim_log(ctx, "%s", line);
}
