/*
 * replica.c - a server as a replica: versions (last-write-wins or vector
 * clocks behind kv_vmerge and kv_vcovers), every change to its store, the
 * oracle's watch on divergence and on a replacement's missing keys,
 * tombstones and compaction, and the replica's side of puts, gets, hints
 * and repairs.
 *
 * Invariants
 *  (1) Every change to a server's store from the protocol goes through
 *      kv_replica_store, which keeps the store, its Merkle trees
 *      (kv_tree_update), the crash undo log, the tombstone queue and the
 *      oracle's divergence count (kv_div_check) in step.
 *  (2) A replica keeps, per key, the merge of what it was sent (kv_vmerge):
 *      the newest version by LWW, or with vector clocks every write no
 *      other one it holds descends from.  A repair never replaces a newer
 *      version nor drops a concurrent sibling.
 *  (3) The oracle is read for metrics only (divergence, resurrections, a
 *      replacement's missing keys); no reply depends on it.
 *  (4) A tombstone is purged by compaction only after gc_grace, and only if
 *      it is still the key's version there.
 *
 * Messages: receives put, get, hint and repair; sends put_ack, get_reply
 * (the value, or its digest with digest reads), hint_ack and repair_ack.
 * Timer: T_COMPACT.
 */
#include "kv_int.h"

/* ------------------------------------------------------------------------ */
/* Versions: last-write-wins or vector clocks, behind two operations.       */

/* What a replica holding a and receiving b keeps: the newer (LWW) or the
 * merged sibling set (vclock). */
kv_version kv_vmerge(kv_shared *k, kv_version a, kv_version b) {
    if (k->vclock)
        return kv_vc_merge(&k->vc, a, b);
    return kv_version_newer(b, a) ? b : a;
}

/* True if v is a delete, or only deletes (siblings): reading nothing is then
 * the right answer, once the tombstones are purged. */
bool kv_only_deletes(const kv_shared *k, kv_version v) {
    if (v.wid == 0)
        return false;
    if (!k->vclock)
        return kv_is_tombstone(v);
    for (uint32_t i = 0; i < kv_vc_count(&k->vc, v); i++)
        if (!kv_vc_is_delete(&k->vc, kv_vc_member(&k->vc, v, i)))
            return false;
    return true;
}

/* True if a holder of a has everything of b: a is at least as new (LWW), or
 * covers b's writes (vclock).  Everything covers nothing. */
bool kv_vcovers(const kv_shared *k, kv_version a, kv_version b) {
    if (b.wid == 0)
        return true;
    if (k->vclock)
        return kv_vc_covers(&k->vc, a, b);
    return a.wid != 0 && !kv_version_newer(b, a);
}

/* A session store (a client's seen and mine): keeps the merge. */
void kv_session_put(kv_shared *k, kv_store *st, uint32_t key, kv_version v) {
    kv_version old;
    if (!k->vclock) {
        kv_store_put_lww(st, key, v, &old);
        return;
    }
    kv_store_set(st, key, kv_vmerge(k, kv_store_get(st, key), v));
}

/* ------------------------------------------------------------------------ */
/* Replica storage changes, and the oracle's watch on divergence.           */

/* Called when a key that was divergent since `since` has converged at now:
 * settles the fault ends it was pending for. */
static void div_settle(kv_shared *k, sim_time since, sim_time now) {
    for (uint32_t i = 0; i < k->n_fault_ends; i++) {
        struct kv_fault_end *f = &k->fault_ends[i];
        if (f->converged_at < 0 && f->at >= since && --f->pending == 0) {
            f->converged_at = now;
            f->ae_rounds = k->ae_exchanges - f->ae_at;
        }
    }
}

/* Re-judges whether key's replicas (its preference list) agree, after one
 * of them changed.  Metric only: no protocol decision reads it. */
void kv_div_check(kv_shared *k, uint32_t key, sim_time now) {
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    bool differ = false;
    kv_version first = n ? kv_store_get(&kv_node_at(k, pref[0])->store, key) : (kv_version){0};
    for (uint32_t i = 1; i < n && !differ; i++) {
        kv_version v = kv_store_get(&kv_node_at(k, pref[i])->store, key);
        differ = v.wid != first.wid || v.ts != first.ts;
    }
    kv_key_rec *kr = &k->oracle.keys[key];
    if (differ == (kr->div_mark != 0))
        return;
    if (differ) {
        kr->div_mark = now + 1;
        k->oracle.divergent++;
    } else {
        div_settle(k, kr->div_mark - 1, now);
        kr->div_mark = 0;
        k->oracle.divergent--;
    }
    sim_gauge_set(k->sim, k->g_divergent, (double)k->oracle.divergent);
}

/* Re-judges every key (after a placement change or a replacement). */
void kv_div_check_all(kv_shared *k, sim_time now) {
    for (uint64_t key = 0; key < (uint64_t)k->n_keys; key++)
        kv_div_check(k, (uint32_t)key, now);
}

/* The oracle's watch on a replacement: a key it must hold is settled once
 * it holds the newest acknowledged version. */
static void boot_check(kv_shared *k, uint32_t node, uint32_t key, kv_version v) {
    if (!k->boot_missing || node != k->boot_node || !k->boot_missing[key])
        return;
    if (!kv_vcovers(k, v, k->oracle.keys[key].newest))
        return;
    k->boot_missing[key] = 0;
    sim_gauge_set(k->sim, k->g_boot_missing, (double)--k->boot_missing_now);
    if (k->boot_missing_now == 0)
        k->boot_done_at = sim_time_now(k->sim);
}

/* Queues a tombstone for purging at `at` (the queue is in time order: the
 * grace period is the same for all). */
static void tomb_push(kv_node *nd, uint32_t key, uint32_t wid, sim_time at) {
    if (nd->n_tombs == nd->cap_tombs) {
        uint32_t cap = nd->cap_tombs ? nd->cap_tombs * 2 : 64;
        struct kv_tomb *t = sim_malloc(cap * sizeof *t);
        for (uint32_t i = 0; i < nd->n_tombs; i++)
            t[i] = nd->tombs[(nd->tomb_head + i) % nd->cap_tombs];
        sim_free(nd->tombs);
        nd->tombs = t;
        nd->tomb_head = 0;
        nd->cap_tombs = cap;
    }
    nd->tombs[(nd->tomb_head + nd->n_tombs) % nd->cap_tombs] = (struct kv_tomb){key, wid, at};
    nd->n_tombs++;
}

/* Compaction: purges tombstones older than the grace period (still the
 * key's version here: a newer write has replaced it otherwise). */
void kv_compact(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    sim_time now = sim_now(ctx);
    while (nd->n_tombs && nd->tombs[nd->tomb_head].purge_at <= now) {
        struct kv_tomb t = nd->tombs[nd->tomb_head];
        nd->tomb_head = (nd->tomb_head + 1) % nd->cap_tombs;
        nd->n_tombs--;
        kv_version v = kv_store_get(&nd->store, t.key);
        if (v.wid == t.wid && kv_is_tombstone(v)) {
            kv_store_set(&nd->store, t.key, (kv_version){0});
            kv_tree_update(k, nd, t.key, v, (kv_version){0});
            k->tombstones_purged++;
            kv_div_check(k, t.key, now);
        }
    }
    sim_timer_set(ctx, k->compaction_interval, T_COMPACT, 0);
}

/* Stores v at a replica if it is newer (last-write-wins); logs the change
 * for a crash before the next sync.  Returns true if stored. */
bool kv_replica_store(sim_ctx *ctx, kv_node *nd, uint32_t key, kv_version v) {
    kv_shared *k = kv_shared_of(ctx);
    kv_version old;
    if (!k->vclock) {
        if (!kv_store_put_lww(&nd->store, key, v, &old))
            return false;
    } else {
        old = kv_store_get(&nd->store, key);
        kv_version merged = kv_vmerge(k, old, v);
        if (merged.wid == old.wid)
            return false;
        kv_store_set(&nd->store, key, merged);
        v = merged;
    }
    kv_tree_update(k, nd, key, old, v);
    boot_check(k, sim_self(ctx), key, v);
    if (kv_is_tombstone(v)) {
        tomb_push(nd, key, v.wid, sim_now(ctx) + k->gc_grace);
    } else {
        /* Data older than an acknowledged delete: the replica had purged
         * the tombstone (or never had it), and the deleted value is back. */
        kv_version newest = k->oracle.keys[key].newest;
        if (kv_is_tombstone(newest) && !kv_vcovers(k, v, newest))
            k->resurrections++;
    }
    if (k->durable && k->sync_interval > 0) {
        if (nd->n_undo == nd->cap_undo) {
            nd->cap_undo = nd->cap_undo ? nd->cap_undo * 2 : 64;
            nd->undo = sim_realloc(nd->undo, nd->cap_undo * sizeof *nd->undo);
        }
        nd->undo[nd->n_undo].key = key;
        nd->undo[nd->n_undo].old = old;
        nd->n_undo++;
    }
    kv_div_check(k, key, sim_now(ctx));
    return true;
}

/* ------------------------------------------------------------------------ */
/* Replica.                                                                 */

void kv_on_put(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    if (m->hint)
        kv_hint_store(ctx, nd, m->hint - 1, m->key, m->v); /* a stand-in */
    else
        kv_replica_store(ctx, nd, m->key, m->v);
    nd->ops_served++;
    kv_msg a = {.key = m->key, .req = m->req, .ok = 1};
    kv_send_msg(ctx, msg->src, KV_MSG_PUT_ACK, &a, false);
}

/* A hint handed over, or a read repair: stored like a put. */
void kv_on_handover(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = kv_shared_of(ctx);
    bool stored = kv_replica_store(ctx, nd, m->key, m->v);
    if (msg->type == KV_MSG_REPAIR)
        k->rr_applied += stored;
    kv_msg a = {.key = m->key, .req = m->req, .ok = 1};
    kv_send_msg(ctx, msg->src, msg->type == KV_MSG_HINT ? KV_MSG_HINT_ACK : KV_MSG_REPAIR_ACK, &a,
                false);
}

void kv_on_get(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = kv_shared_of(ctx);
    nd->ops_served++;
    kv_msg r = {.key = m->key,
                .req = m->req,
                .ok = 1,
                .hint = m->ok,
                .v = kv_store_get(&nd->store, m->key)};
    if (kv_store_count(&nd->hinted)) {
        /* A stand-in answers with what it holds for others too. */
        r.v = kv_vmerge(k, r.v, kv_store_get(&nd->hinted, m->key));
    }
    if (m->ok & KV_GET_DIGEST) {
        /* A digest: 8 bytes instead of the value. */
        sim_send(ctx, msg->src, KV_MSG_GET_REPLY, &r, sizeof r, kv_wire(k, false, 0) + 8);
        return;
    }
    kv_send_msg(ctx, msg->src, KV_MSG_GET_REPLY, &r, r.v.wid != 0);
}
