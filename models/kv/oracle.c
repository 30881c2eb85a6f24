/*
 * oracle.c - the kv model's oracle: every write's start and commit, every
 * key's newest acknowledged version, and the judgement of every read.  Only
 * metrics read it; no protocol decision may.
 *
 * Definitions (docs/metrics.md has them for users).  Versions are ordered
 * as the store orders them: last-write-wins by (timestamp, write id).
 *  - A write *commits* when its coordinator holds W acks; its version is
 *    then *acknowledged*.
 *  - A key's *newest acknowledged version* is the greatest acknowledged
 *    version so far.  A committing write that is greater becomes the newest
 *    and a *winner*: winners are numbered 1, 2, ... per key (their rank).
 *  - A committing write that is not greater was overtaken.  If it is older
 *    than a version that was already acknowledged when it *started*, it is
 *    *lost*: the client was told it succeeded, it followed that other write
 *    in real time, yet no read can ever return it (last-write-wins with a
 *    clock that runs behind).  Otherwise it was concurrent with the writes
 *    that overtook it, and merely *superseded*: either order is correct.
 *  - A read starting at t_r sees the key's newest acknowledged version a
 *    (rank j, committed at c).  It returns v.  It is fresh if j = 0 or
 *    v >= a; otherwise stale, with k = the number of winners greater than
 *    v: j - rank(v) for a winner acknowledged by t_r, j minus the winners
 *    when v started for any other v, j for no version.  t = t_r - c.
 *  - With R + W > N and no faults every read quorum meets every committed
 *    write quorum and returns the greatest version it sees, so no read is
 *    stale under this definition (test_kv_strict_quorum_is_never_stale).
 */
#include "kv.h"

#include <string.h>

void kv_oracle_init(kv_oracle *o, uint64_t n_keys, const sim_time *t_edges, uint32_t n_t,
                    uint32_t n_probe_t) {
    memset(o, 0, sizeof *o);
    o->n_keys = n_keys;
    o->keys = sim_calloc((size_t)n_keys, sizeof *o->keys);
    o->cap_writes = 1024;
    o->writes = sim_calloc(o->cap_writes, sizeof *o->writes);
    o->n_writes = 1; /* wid 0 is "no version" */
    o->n_t = n_t;
    o->t_edges = sim_calloc(n_t ? n_t : 1, sizeof *o->t_edges);
    if (n_t)
        memcpy(o->t_edges, t_edges, n_t * sizeof *t_edges);
    o->t_reads = sim_calloc(n_t ? n_t : 1, sizeof *o->t_reads);
    o->t_fresh = sim_calloc(n_t ? n_t : 1, sizeof *o->t_fresh);
    o->probe_reads = sim_calloc(n_probe_t ? n_probe_t : 1, sizeof *o->probe_reads);
    o->probe_fresh = sim_calloc(n_probe_t ? n_probe_t : 1, sizeof *o->probe_fresh);
}

void kv_oracle_fini(kv_oracle *o) {
    sim_free(o->keys);
    sim_free(o->writes);
    sim_free(o->t_edges);
    sim_free(o->t_reads);
    sim_free(o->t_fresh);
    sim_free(o->probe_reads);
    sim_free(o->probe_fresh);
    memset(o, 0, sizeof *o);
}

uint32_t kv_oracle_write_start(kv_oracle *o, uint32_t key, sim_time now) {
    o->writes_started++;
    if (o->n_writes == o->cap_writes) {
        SIM_ASSERT(o->cap_writes < UINT32_MAX / 2);
        o->cap_writes *= 2;
        o->writes = sim_realloc(o->writes, (size_t)o->cap_writes * sizeof *o->writes);
    }
    uint32_t wid = o->n_writes++;
    kv_write_rec *w = &o->writes[wid];
    memset(w, 0, sizeof *w);
    w->key = key;
    w->start = now;
    w->commit = -1;
    w->winners_at_start = o->keys[key].winners;
    w->floor_wid = o->keys[key].newest.wid;
    w->floor_ts = o->keys[key].newest.ts;
    return wid;
}

void kv_oracle_write_commit(kv_oracle *o, kv_version v, sim_time now) {
    kv_write_rec *w = &o->writes[v.wid];
    if (w->commit >= 0)
        return; /* the network duplicated the request: coordinated twice */
    kv_key_rec *k = &o->keys[w->key];
    w->commit = now;
    if (k->newest.wid == 0 || kv_version_newer(v, k->newest)) {
        w->rank = ++k->winners;
        k->newest = v;
        k->newest_commit = now;
    } else if (w->floor_wid != 0 &&
               kv_version_newer((kv_version){.ts = w->floor_ts, .wid = w->floor_wid}, v)) {
        o->lost_lww++;
    } else {
        o->superseded_at_commit++;
    }
}

void kv_oracle_write_commit_vc(kv_oracle *o, kv_vc *vc, kv_version v, sim_time now) {
    kv_write_rec *w = &o->writes[v.wid];
    if (w->commit >= 0)
        return; /* coordinated twice */
    kv_key_rec *k = &o->keys[w->key];
    w->commit = now;
    k->newest = kv_vc_merge(vc, k->newest, v);
    w->rank = ++k->winners;
    w->prev_ack = k->last_ack;
    k->last_ack = v.wid;
    k->newest_commit = now;
}

uint32_t kv_oracle_read_judge_vc(const kv_oracle *o, const kv_vc *vc, const kv_client_op *op,
                                 kv_version v, sim_time *t_out) {
    if (op->snap_acked == 0) {
        *t_out = -1;
        return 0;
    }
    *t_out = op->start - op->snap_commit;
    if (kv_vc_covers(vc, v, op->snap))
        return 0;
    uint32_t missed = 0, w = op->snap_last;
    for (int steps = 0; w != 0 && steps < 64; steps++) {
        missed += !kv_vc_covers_write(vc, v, w);
        w = o->writes[w].prev_ack;
    }
    return missed ? missed : 1;
}

void kv_oracle_read_start(const kv_oracle *o, uint32_t key, kv_client_op *op) {
    const kv_key_rec *k = &o->keys[key];
    op->snap_acked = k->winners;
    op->snap_last = k->last_ack;
    op->snap = k->newest;
    op->snap_commit = k->newest_commit;
}

uint32_t kv_oracle_read_judge(const kv_oracle *o, const kv_client_op *op, kv_version v,
                              sim_time *t_out) {
    uint32_t j = op->snap_acked;
    if (j == 0) {
        *t_out = -1;
        return 0;
    }
    *t_out = op->start - op->snap_commit;
    if (v.wid == 0)
        return j;
    if (v.wid == op->snap.wid || kv_version_newer(v, op->snap))
        return 0;
    const kv_write_rec *w = &o->writes[v.wid];
    if (w->rank > 0 && w->commit <= op->start) {
        SIM_ASSERT(w->rank < j);
        return j - w->rank;
    }
    return w->winners_at_start < j ? j - w->winners_at_start : 1;
}
