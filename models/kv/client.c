/*
 * client.c - the workload clients: open-loop (arrivals at workload.interarrival),
 * closed-loop (think time) and probe (a write, then reads at the t values)
 * operations; the choice of coordinator; client-side timeouts; and the
 * judging of every answer against the oracle and the client's session.
 *
 * Operation states (kv_client_op): issued -> replied (ok or failed) or
 * timed out; kv_client_issue, kv_client_finish, kv_on_client_timeout.
 *
 * Invariants
 *  (1) An operation finishes exactly once: by its reply, or by the
 *      client-side timeout (a later reply finds the slot freed).
 *  (2) The oracle is snapshotted when a read starts and consulted when it
 *      finishes, for metrics only; the session floors (seen, mine) judge
 *      monotonic reads and read-your-writes.
 *  (3) A client that coordinates its own requests (coordinator: client)
 *      calls kv_coord_start directly instead of sending a request.
 *
 * Messages: sends client_put and client_get; receives their replies (via
 * kv.c's dispatch).  Timers: T_ARRIVAL, T_THINK, T_CLIENT_TIMEOUT,
 * T_PROBE_READ, T_PROBE_NEXT.
 */
#include "kv_int.h"

#include <math.h>

/* ------------------------------------------------------------------------ */
/* Client.                                                                  */

/* The coordinator for key: the client itself, or a replica of the key (the
 * first, or one at random); with a failure detector, among the replicas
 * the client believes up, if any. */
static uint32_t coordinator_for(sim_ctx *ctx, kv_node *nd, kv_shared *k, uint32_t key) {
    if (k->coordinator == KV_COORD_CLIENT)
        return sim_self(ctx);
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    SIM_ASSERT(n > 0);
    if (nd->last_heard) {
        uint32_t up = 0;
        for (uint32_t i = 0; i < n; i++)
            if (kv_believed_up(ctx, nd, pref[i]))
                pref[up++] = pref[i];
        if (up > 0) {
            n = up;
        } else if (k->quorum == KV_QUORUM_SLOPPY) {
            /* Every replica is believed down: any node along the ring can
             * coordinate a sloppy quorum (its stand-ins keep the hints). */
            uint32_t walk[KV_MAX_WALK];
            uint32_t total = kv_ring_walk(&k->ring, key, KV_MAX_WALK, walk);
            for (uint32_t i = n; i < total; i++)
                if (kv_believed_up(ctx, nd, walk[i]))
                    return walk[i];
            n = kv_ring_preflist(&k->ring, key, pref);
        } else {
            n = kv_ring_preflist(&k->ring, key, pref); /* try them all the same */
        }
    }
    if (k->coordinator == KV_COORD_RANDOM)
        return pref[sim_rng_below(sim_node_rng(ctx), n)];
    return pref[0];
}

/* Issues one operation; returns its handle. */
uint32_t kv_client_issue(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key, uint16_t probe_t,
                         bool probe, bool del) {
    kv_shared *k = kv_shared_of(ctx);
    sim *s = sim_of(ctx);
    uint32_t h;
    kv_client_op *op = kv_op_new(nd, &h);
    if (!op) {
        /* The client has KV_MAX_TRACKED operations outstanding already:
         * this one fails at once, counted as issued and failed. */
        k->overload_rejects++;
        sim_count(s, kind == KV_OP_PUT ? k->c_writes : k->c_reads, 1);
        sim_count(s, k->c_failed, 1);
        if (kind == KV_OP_PUT)
            k->oracle.writes_failed++;
        else
            k->oracle.reads_failed++;
        return UINT32_MAX;
    }
    op->kind = (uint8_t)kind;
    op->key = key;
    op->start = sim_now(ctx);
    op->probe = probe;
    op->probe_t = probe_t;
    nd->in_flight++;
    sim_gauge_set(s, k->g_in_flight, (double)++k->ops_in_flight);
    kv_version v = {0}, vctx = {0};
    if (kind == KV_OP_PUT) {
        if (k->vclock) {
            /* The context: what this client read of the key, and its own
             * last write; the write replaces every sibling in it. */
            vctx = kv_vmerge(k, kv_store_get(&nd->seen, key), kv_store_get(&nd->mine, key));
            k->writes_merging_siblings += kv_vc_count(&k->vc, vctx) > 1;
        }
        op->wid = kv_oracle_write_start(&k->oracle, key, op->start);
        v.wid = op->wid;
        if (del) {
            v.size = KV_TOMBSTONE;
            k->deletes++;
        } else {
            double size = sim_dist_sample(&k->value_bytes, sim_node_rng(ctx));
            v.size = size >= 4e9 ? KV_TOMBSTONE - 1 : (uint32_t)llround(size);
        }
        sim_count(s, k->c_writes, 1);
    } else {
        kv_oracle_read_start(&k->oracle, key, op);
        k->oracle.reads_started++;
        op->seen_floor = kv_store_get(&nd->seen, key);
        op->own_floor = kv_store_get(&nd->mine, key);
        sim_count(s, k->c_reads, 1);
    }
    op->timer = sim_timer_set(ctx, k->request_timeout, T_CLIENT_TIMEOUT, h);
    uint32_t coord = coordinator_for(ctx, nd, k, key);
    op->coord = coord;
    if (coord == sim_self(ctx)) {
        kv_coord_start(ctx, nd, kind, key, v, vctx.wid, sim_self(ctx), h);
    } else {
        kv_msg m = {.key = key, .req = h, .hint = vctx.wid, .v = v};
        kv_send_msg(ctx, coord, kind == KV_OP_PUT ? KV_MSG_CLIENT_PUT : KV_MSG_CLIENT_GET, &m,
                    kind == KV_OP_PUT);
    }
    return h;
}

/* Session guarantees, in the store's own version order: a read must not
 * return a version older than one this client read before (monotonic
 * reads) or older than its own last acknowledged write (read your writes). */
static void check_session(sim_ctx *ctx, kv_node *nd, const kv_client_op *op, kv_version v) {
    kv_shared *k = kv_shared_of(ctx);
    /* Only what the client knew when the read started counts: an open-loop
     * client may have a write and a read of the same key in flight at once. */
    if (!kv_vcovers(k, v, op->seen_floor))
        k->oracle.mr_violations++;
    if (!kv_vcovers(k, v, op->own_floor))
        k->oracle.ryw_violations++;
    if (v.wid != 0)
        kv_session_put(k, &nd->seen, op->key, v);
}

/* issued -> replied: records the outcome of an operation. */
void kv_client_finish(sim_ctx *ctx, kv_node *nd, uint32_t h, bool ok, kv_version v) {
    kv_shared *k = kv_shared_of(ctx);
    sim *s = sim_of(ctx);
    kv_client_op *op = kv_op_find(nd, h);
    if (!op)
        return; /* timed out already */
    sim_timer_cancel(ctx, op->timer);
    sim_time now = sim_now(ctx);
    kv_oracle *o = &k->oracle;
    bool probe_write = false;
    if (op->kind == KV_OP_PUT) {
        if (ok) {
            o->writes_ok++;
            sim_record(s, k->h_write, now - op->start);
            /* The reply carries the version as stamped by the coordinator. */
            kv_session_put(k, &nd->mine, op->key, v);
            probe_write = k->wl_mode == KV_WL_PROBE;
        } else {
            o->writes_failed++;
            sim_count(s, k->c_failed, 1);
        }
    } else if (ok) {
        o->reads_ok++;
        sim_record(s, k->h_read, now - op->start);
        sim_time t;
        /* "Not found" when the newest acknowledged write was a delete is
         * that delete, its tombstone purged: judge it as the delete. */
        if (v.wid == 0 && kv_only_deletes(k, op->snap))
            v = op->snap;
        uint32_t stale_k = k->vclock ? kv_oracle_read_judge_vc(o, &k->vc, op, v, &t)
                                     : kv_oracle_read_judge(o, op, v, &t);
        if (k->vclock && v.wid) {
            int64_t sib = kv_vc_count(&k->vc, v);
            k->sibling_max = sib > k->sibling_max ? sib : k->sibling_max;
            k->sibling_hist[sib <= 7 ? sib : 8]++;
        }
        if (sim_tracing(ctx)) {
            char a[64], b[64];
            if (stale_k)
                sim_log(ctx,
                        "STALE read of key %u: got %s, but %s was the newest acknowledged write "
                        "when the read started (committed %.3f ms before it; k = %u newer "
                        "acknowledged writes missed)",
                        op->key, kv_vlabel(k, v, a, sizeof a), kv_vlabel(k, op->snap, b, sizeof b),
                        (double)(op->start - op->snap_commit) / 1e6, stale_k);
            else
                sim_log(ctx, "read of key %u: got %s, the newest acknowledged (fresh)", op->key,
                        kv_vlabel(k, v, a, sizeof a));
        }
        if (stale_k) {
            o->stale++;
            o->k_hist[stale_k <= 10 ? stale_k : 0]++;
            sim_count(s, k->c_stale, 1);
            sim_record(s, k->h_k, stale_k);
        }
        if (t >= 0 && o->n_t) {
            uint32_t b = 0;
            while (b + 1 < o->n_t && t >= o->t_edges[b + 1])
                b++;
            o->t_reads[b]++;
            o->t_fresh[b] += stale_k == 0;
        }
        if (op->probe) {
            o->probe_reads[op->probe_t]++;
            o->probe_fresh[op->probe_t] += stale_k == 0;
        }
        check_session(ctx, nd, op, v);
    } else {
        o->reads_failed++;
        sim_count(s, k->c_failed, 1);
    }
    nd->in_flight--;
    sim_gauge_set(s, k->g_in_flight, (double)--k->ops_in_flight);
    bool was_probe = op->probe;
    uint32_t key = op->key;
    uint16_t pt = op->probe_t;
    kv_op_release(nd, op);
    if (k->wl_mode == KV_WL_PROBE) {
        if (probe_write) {
            /* Wait exactly t after the acknowledgement, then read. */
            uint64_t arg = (uint64_t)key | ((uint64_t)pt << 32);
            sim_timer_set(ctx, k->probe_t[pt], T_PROBE_READ, arg);
        } else if (was_probe || !ok) {
            sim_timer_set(ctx, k->probe_gap, T_PROBE_NEXT, 0);
        }
    } else if (k->wl_mode == KV_WL_CLOSED) {
        kv_schedule_next(ctx, nd);
    }
}

void kv_on_client_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_shared *k = kv_shared_of(ctx);
    kv_client_op *op = kv_op_find(nd, h);
    if (!op)
        return;
    if (op->coord != sim_self(ctx))
        kv_suspect(ctx, nd, op->coord); /* cleared when it is heard from */
    sim_count(sim_of(ctx), k->c_timeouts, 1);
    kv_client_finish(ctx, nd, h, false, (kv_version){0});
}

void kv_issue_random_op(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    sim_rng *rng = sim_node_rng(ctx);
    bool write = sim_rng_double(rng) >= k->read_fraction;
    uint32_t key = (uint32_t)kv_keys_next(&k->keys, rng, write);
    bool del = write && k->delete_fraction > 0 && sim_rng_double(rng) < k->delete_fraction;
    kv_client_issue(ctx, nd, write ? KV_OP_PUT : KV_OP_GET, key, 0, false, del);
}

void kv_probe_next(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    if (sim_now(ctx) > k->wl_stop)
        return;
    /* Each client probes the keys of its own range, one fresh key each. */
    uint64_t per = (uint64_t)k->n_keys / (uint64_t)k->n_clients;
    uint32_t key = (uint32_t)((uint64_t)nd->index * per + nd->probe_next % per);
    nd->probe_next++;
    uint16_t t = (uint16_t)(nd->probe_t % k->n_probe_t);
    nd->probe_t++;
    kv_client_issue(ctx, nd, KV_OP_PUT, key, t, false, false);
}

/* The next operation of an open- or closed-loop client. */
void kv_schedule_next(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    (void)nd;
    sim_time now = sim_now(ctx);
    const sim_dist *d = k->wl_mode == KV_WL_OPEN ? &k->interarrival : &k->think_time;
    sim_time delay = sim_dist_sample_time(d, sim_node_rng(ctx));
    if (delay > k->wl_stop - now)
        return;
    sim_timer_set(ctx, delay, k->wl_mode == KV_WL_OPEN ? T_ARRIVAL : T_THINK, 0);
}

void kv_start_workload(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    sim_time now = sim_now(ctx);
    if (now > k->wl_stop)
        return;
    sim_time start = k->wl_start > now ? k->wl_start - now : 0;
    if (k->wl_mode == KV_WL_PROBE) {
        sim_timer_set(ctx, start, T_PROBE_NEXT, 0);
    } else if (k->wl_mode == KV_WL_OPEN) {
        sim_time delay = sim_dist_sample_time(&k->interarrival, sim_node_rng(ctx));
        if (start + delay <= k->wl_stop - now)
            sim_timer_set(ctx, start + delay, T_ARRIVAL, 0);
    } else {
        sim_timer_set(ctx, start, T_THINK, 0);
    }
    (void)nd;
}
