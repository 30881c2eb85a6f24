/*
 * handoff.c - hinted handoff: a stand-in in a sloppy quorum keeps a write
 * for a replica it believes down, as a hint, and hands it over when the
 * replica is believed up again (Dynamo §4.6).
 *
 * Invariants
 *  (1) A hint is never stored in the stand-in's own store; only in its
 *      hint pool, with the newest hinted version per key kept apart
 *      (nd->hinted) so the stand-in can answer reads.
 *  (2) A hint is deleted only when its home acknowledges it, when it is
 *      older than max_hint_window, or when its volatile holder crashes
 *      (kv_hints_clear, which marks its key for the oracle).
 *  (3) A write for a node down longer than the window, or past max_hints,
 *      is not hinted (anti-entropy's job then); both are counted.
 *  (4) Replay sends at most replay_rate_per_s x replay_interval hints per
 *      round; a hint sent and not acknowledged within request_timeout is
 *      sent again.
 *
 * Messages: sends hint (to the hint's target; the handle in `req`);
 * receives hint_ack.  Timer: T_HINT_REPLAY.
 */
#include "kv_int.h"

/* ------------------------------------------------------------------------ */
/* Hinted handoff.                                                          */

static kv_hint *hint_find(kv_node *nd, uint32_t h) {
    return kv_pool_find(&nd->hints, sizeof(kv_hint), h);
}

static void hint_release(kv_shared *k, kv_node *nd, kv_hint *hn) {
    /* The stand-in's copy for reads goes with its last hint. */
    if (kv_store_get(&nd->hinted, hn->key).wid == hn->v.wid)
        kv_store_set(&nd->hinted, hn->key, (kv_version){0});
    kv_pool_release(&nd->hints, sizeof *hn, hn);
    nd->n_hints--;
    k->hints_pending--;
    sim_gauge_set(k->sim, k->g_hints, (double)k->hints_pending);
}

/* Keeps a write for `target`, which this node believes down. */
void kv_hint_store(sim_ctx *ctx, kv_node *nd, uint32_t target, uint32_t key, kv_version v) {
    kv_shared *k = kv_shared_of(ctx);
    sim_time now = sim_now(ctx);
    if (nd->last_heard && now - nd->last_heard[target] > k->hint_window) {
        k->hints_dropped_window++; /* down too long: anti-entropy's job now */
        return;
    }
    if (nd->n_hints >= (uint64_t)k->max_hints) {
        k->hints_dropped_full++;
        return;
    }
    uint32_t h;
    kv_hint *hn = kv_pool_new(&nd->hints, sizeof *hn, &h);
    if (!hn) { /* KV_MAX_TRACKED hints held already: as full as max_hints */
        k->hints_dropped_full++;
        return;
    }
    kv_session_put(k, &nd->hinted, key, v); /* the stand-in answers reads with it */
    hn->target = target;
    hn->key = key;
    hn->v = v;
    hn->stored_at = now;
    hn->sent_at = -1;
    nd->n_hints++;
    k->hints_stored++;
    if (sim_tracing(ctx)) {
        char vb[64];
        sim_log(ctx, "keeps a hint: %s of key %u for %s, believed down",
                kv_vlabel(k, v, vb, sizeof vb), key, sim_node_name(k->sim, target));
    }
    k->hints_pending++;
    sim_gauge_set(k->sim, k->g_hints, (double)k->hints_pending);
}

/* Every replay interval: hints whose target is believed up again are sent
 * (at most replay_rate_per_s x interval, oldest slots first); a hint sent
 * and not acknowledged within the request timeout is sent again; hints
 * older than the window expire. */
void kv_hint_replay(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    sim_time now = sim_now(ctx);
    double budget_d = k->replay_rate * sim_time_to_s(k->replay_interval);
    int64_t budget = budget_d < 1 ? 1 : budget_d > 1e9 ? 1000000000 : (int64_t)budget_d;
    for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
        kv_hint *hn = (kv_hint *)kv_pool_at(&nd->hints, sizeof *hn, i);
        if (!hn->slot.used)
            continue;
        if (now - hn->stored_at > k->hint_window) {
            k->hints_expired++;
            hint_release(k, nd, hn);
            continue;
        }
        if (budget == 0 || !kv_believed_up(ctx, nd, hn->target) ||
            (hn->sent_at >= 0 && now - hn->sent_at < k->request_timeout))
            continue;
        kv_msg m = {
            .key = hn->key, .req = i | ((hn->slot.gen & GEN_MASK) << SLOT_BITS), .v = hn->v};
        kv_send_msg(ctx, hn->target, KV_MSG_HINT, &m, true);
        hn->sent_at = now;
        budget--;
    }
    sim_timer_set(ctx, k->replay_interval, T_HINT_REPLAY, 0);
}

void kv_on_hint_ack(sim_ctx *ctx, kv_node *nd, const kv_msg *m) {
    kv_shared *k = kv_shared_of(ctx);
    kv_hint *hn = hint_find(nd, m->req);
    if (!hn)
        return; /* delivered already (a resent hint), or expired */
    sim_time now = sim_now(ctx), from = hn->stored_at;
    if (k->up_since[hn->target] > from)
        from = k->up_since[hn->target];
    sim_record(k->sim, k->h_hint_lag, now - from);
    if (now - from > k->hint_lag_max)
        k->hint_lag_max = now - from;
    k->hints_delivered++;
    hint_release(k, nd, hn);
}

/* Drops every hint (a volatile holder crashed). */
void kv_hints_clear(kv_shared *k, kv_node *nd) {
    for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
        kv_hint *hn = (kv_hint *)kv_pool_at(&nd->hints, sizeof *hn, i);
        if (hn->slot.used) {
            k->hints_lost_with_holder++;
            if (!k->hint_lost)
                k->hint_lost = sim_calloc((size_t)k->n_keys, 1);
            k->hint_lost[hn->key] = 1;
            hint_release(k, nd, hn);
        }
    }
    kv_store_clear(&nd->hinted);
}
