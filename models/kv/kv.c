/*
 * kv.c - a Dynamo-style replicated key-value store with N/R/W quorums, and
 * the workload clients that drive it.
 *
 * Design notes
 * ============
 * Nodes: the scenario's nodes are the servers (ring members, by index);
 * the model adds `workload.clients` client nodes after them.  Every request
 * travels the simulated network:
 *
 *   client --client_put/get--> coordinator --put/get--> replicas
 *   client <--..._reply------- coordinator <--put_ack/get_reply--
 *
 * With `coordinator: client` the client coordinates its own requests
 * (Dynamo §6's client-driven coordination), so the write and the read start
 * at the same node, exactly the WARS model of PBS.
 *
 * Invariants
 *  (1) A write commits exactly once, when its coordinator holds W acks from
 *      distinct targets; only then is it acknowledged to the client.
 *  (2) A read answers with the newest version (last-write-wins order) among
 *      the first R replies from distinct targets; with vector clocks, with
 *      the merge of their sibling sets (kv_vmerge).
 *  (3) A request that has neither by `request_timeout` fails; a client's
 *      operation that has no reply by then fails at the client.
 *  (4) A replica keeps, per key, the newest version it was sent (LWW by the
 *      coordinator's local clock, ties broken by write id); so a write
 *      stamped by a clock that runs behind can lose to an older one.  With
 *      vector clocks it keeps the merge: every write no other write it holds
 *      descends from (vclock.h).
 *  (5) A crash of a server loses its coordinator state; its storage survives
 *      if `storage.durable`, except writes since the last commit-log sync
 *      when `storage.sync_interval` > 0.
 *  (6) No protocol decision reads the oracle (oracle.c); only metrics do.
 *      Liveness is learnt from the protocol alone: heartbeats and request
 *      timeouts (the failure detector), never from the kernel.
 *  (7) A put to a stand-in (sloppy quorum) is stored as a hint for its home
 *      replica, never in the stand-in's own store; a hint is deleted only
 *      when its home acknowledges it, it expires (max_hint_window), or its
 *      volatile holder crashes.
 *  (8) Every change to a server's store goes through kv_replica_store (kv_vmerge),
 *      the crash rollback, the volatile wipe or compaction, and each keeps
 *      the server's Merkle trees and the oracle's divergence count in step.
 *  (9) Repairs (read repair, hints, anti-entropy, streams) store versions
 *      under the same rule as puts (kv_vmerge): a repair never replaces a newer
 *      version, nor drops a concurrent sibling.
 *
 * Source map (each file opens with its mechanism's own notes):
 *   kv.c           the hook table (kv_model), message dispatch, timers,
 *                  crash and recovery, faults and membership changes as the
 *                  oracle sees them; slot pools and message sending
 *   kv_config.c    the scenario's configuration, checks, the ring
 *   coord.c        coordinator: quorum reads and writes, read repair
 *   replica.c      replica storage, versions, tombstones, divergence watch
 *   detector.c     failure detector: heartbeats, suspicion
 *   handoff.c      sloppy quorums' hints: storing, replaying, expiring
 *   antientropy.c  Merkle trees and exchanges, streaming bootstrap
 *   client.c       workload, sessions, client-side timeouts
 *   narrate.c      the trace's narration of commits and reads
 *   report.c       the end-of-run report and metrics
 *   kv_int.h       what these files share; kv.h the state and messages;
 *   kv_parts.h, ring.c, store.c, keys.c, merkle.c, vclock.c, oracle.c
 *                  the self-contained parts and the oracle
 *
 * Messages this file handles: all (kv_on_message dispatches each type to
 * its mechanism; every message a server gets feeds the failure detector).
 * It composes none itself; kv_send_msg, defined here, is how the other
 * files send.  Timers: every kind is dispatched in kv_on_timer; T_SYNC (the
 * commit-log sync) is handled here.
 * docs/models/kv.md has the full notes on faults.
 */
#include "kv_int.h"

#include <stdio.h>
#include <string.h>

static const char *const kv_msg_types[] = {
    "client_put", "client_put_reply",
    "client_get", "client_get_reply",
    "put",        "put_ack",
    "get",        "get_reply",
    "heartbeat",  "hint",
    "hint_ack",   "repair",
    "repair_ack", "ae_hashes",
    "ae_keylist", "ae_keys",
    "ae_in_sync", "stream_req",
    NULL,
};

/* ------------------------------------------------------------------------ */
/* Sending.                                                                 */

uint32_t kv_wire(const kv_shared *k, bool with_value, uint32_t value_size) {
    if (value_size == KV_TOMBSTONE)
        with_value = false; /* a delete carries no value */
    uint64_t b = KV_HEADER_BYTES + (uint64_t)k->key_bytes + (with_value ? value_size : 0);
    return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

void kv_send_msg(sim_ctx *ctx, uint32_t dst, uint32_t type, const kv_msg *m, bool with_value) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t bytes = kv_wire(k, with_value, m->v.size);
    if (k->vclock) /* the clocks of the version carried, and of a put's context */
        bytes += kv_vc_wire_bytes(&k->vc, m->v) +
                 (type == KV_MSG_CLIENT_PUT ? kv_vc_wire_bytes(&k->vc, (kv_version){.wid = m->hint})
                                            : 0);
    sim_send(ctx, dst, type, m, sizeof *m, bytes);
}

/* ------------------------------------------------------------------------ */
/* Slot pools for requests and operations (kv_pool in kv.h).                */

kv_slot *kv_pool_at(const kv_pool *p, size_t size, uint32_t i) {
    return (kv_slot *)((char *)p->items + (size_t)i * size);
}

/* The slot a handle names, or NULL if it was released since. */
void *kv_pool_find(const kv_pool *p, size_t size, uint32_t h) {
    uint32_t i = h & SLOT_MASK;
    if (i >= p->n)
        return NULL;
    kv_slot *sl = kv_pool_at(p, size, i);
    return sl->used && (sl->gen & GEN_MASK) == h >> SLOT_BITS ? sl : NULL;
}

/* A zeroed slot (but for its head) and its handle; the pool doubles when
 * full, up to KV_MAX_TRACKED slots, and then returns NULL. */
void *kv_pool_new(kv_pool *p, size_t size, uint32_t *h) {
    if (p->n == 0 || p->free == UINT32_MAX) {
        uint32_t old = p->n, cap = old ? old * 2 : 16;
        /* A full pool at the largest size refuses (NULL), and the caller
         * models the overload. */
        _Static_assert(KV_MAX_TRACKED <= SLOT_MASK, "handles name every slot");
        if (cap > KV_MAX_TRACKED)
            return NULL;
        p->items = sim_realloc(p->items, (size_t)cap * size);
        memset((char *)p->items + (size_t)old * size, 0, (size_t)(cap - old) * size);
        uint32_t head = old ? p->free : UINT32_MAX;
        for (uint32_t i = cap; i-- > old;) {
            kv_pool_at(p, size, i)->next = head;
            head = i;
        }
        p->free = head;
        p->n = cap;
    }
    uint32_t i = p->free;
    kv_slot *sl = kv_pool_at(p, size, i);
    p->free = sl->next;
    uint32_t gen = sl->gen + 1;
    memset(sl, 0, size);
    sl->gen = gen;
    sl->used = 1;
    *h = i | ((gen & GEN_MASK) << SLOT_BITS);
    return sl;
}

void kv_pool_release(kv_pool *p, size_t size, void *item) {
    kv_slot *sl = item;
    sl->used = 0;
    sl->next = p->free;
    p->free = (uint32_t)(((char *)item - (char *)p->items) / size);
}

kv_coord_req *kv_req_find(kv_node *nd, uint32_t h) {
    return kv_pool_find(&nd->reqs, sizeof(kv_coord_req), h);
}
kv_coord_req *kv_req_new(kv_node *nd, uint32_t *h) {
    return kv_pool_new(&nd->reqs, sizeof(kv_coord_req), h);
}
void kv_req_release(kv_node *nd, kv_coord_req *q) { kv_pool_release(&nd->reqs, sizeof *q, q); }
kv_client_op *kv_op_find(kv_node *nd, uint32_t h) {
    return kv_pool_find(&nd->ops, sizeof(kv_client_op), h);
}
kv_client_op *kv_op_new(kv_node *nd, uint32_t *h) {
    return kv_pool_new(&nd->ops, sizeof(kv_client_op), h);
}
void kv_op_release(kv_node *nd, kv_client_op *op) { kv_pool_release(&nd->ops, sizeof *op, op); }

/* ------------------------------------------------------------------------ */
/* Hooks.                                                                   */

/* Heartbeats (first at a random phase, so servers do not beat in step) and
 * hint replay.  A recovering or new node announces itself at once. */
static void start_server_timers(sim_ctx *ctx, kv_node *nd, bool announce) {
    kv_shared *k = kv_shared_of(ctx);
    (void)nd;
    if (k->fd_on) {
        if (announce)
            kv_send_heartbeats(ctx);
        sim_time phase =
            (sim_time)sim_rng_below(sim_node_rng(ctx), (uint32_t)(k->hb_interval / SIM_US)) *
            SIM_US;
        sim_timer_set(ctx, phase + 1, T_HEARTBEAT, 0);
    }
    if (k->hints_on)
        sim_timer_set(ctx, k->replay_interval, T_HINT_REPLAY, 0);
    if (k->delete_fraction > 0)
        sim_timer_set(ctx, k->compaction_interval, T_COMPACT, 0);
    if (k->ae_mode != KV_AE_OFF) {
        sim_time phase = (sim_time)(sim_rng_double(sim_node_rng(ctx)) * (double)k->ae_interval);
        sim_timer_set(ctx, phase + 1, T_AE, 0);
    }
}

static void kv_node_init(sim_ctx *ctx, void *node) {
    kv_shared *k = kv_shared_of(ctx);
    kv_node *nd = node;
    uint32_t self = sim_self(ctx);
    nd->reqs.free = nd->ops.free = nd->hints.free = UINT32_MAX;
    kv_store_init(&nd->store);
    kv_store_init(&nd->seen);
    kv_store_init(&nd->mine);
    kv_store_init(&nd->hinted);
    bool server = self < k->first_client;
    if (k->fd_on) {
        /* Everyone presumed up until silent for the suspicion timeout (a
         * replacement starts after time 0). */
        nd->last_heard = sim_calloc(k->n_servers, sizeof *nd->last_heard);
        for (uint32_t i = 0; i < k->n_servers; i++)
            nd->last_heard[i] = sim_now(ctx);
    }
    if (!server) {
        nd->is_client = true;
        nd->index = self - k->first_client;
        kv_start_workload(ctx, nd);
        return;
    }
    nd->index = self;
    if (k->durable && k->sync_interval > 0)
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
    if (k->ae_mode != KV_AE_OFF)
        kv_trees_rebuild(k, nd);
    bool replacement = sim_node_incarnation(k->sim, self) > 0;
    start_server_timers(ctx, nd, replacement);
    if (replacement && k->bootstrap == KV_BOOT_STREAMING)
        kv_bootstrap_stream(ctx, nd);
}

/* Anti-entropy messages: a head and arrays of their own. */
static void on_ae_message(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    switch (msg->type) {
    case KV_MSG_AE_HASHES:
        kv_on_ae_hashes(ctx, nd, msg);
        break;
    case KV_MSG_AE_KEYLIST:
        kv_on_ae_keylist(ctx, nd, msg);
        break;
    case KV_MSG_AE_KEYS:
        kv_on_ae_keys(ctx, nd, msg);
        break;
    case KV_MSG_AE_IN_SYNC:
        break;
    case KV_MSG_STREAM_REQ:
        kv_on_stream_req(ctx, nd, msg);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    kv_node *nd = node;
    if (nd->last_heard)
        kv_heard_from(ctx, nd, msg->src);
    if (msg->type >= KV_MSG_AE_HASHES) {
        on_ae_message(ctx, nd, msg);
        return;
    }
    kv_msg m;
    SIM_ASSERT(msg->len == sizeof m);
    memcpy(&m, msg->data, sizeof m);
    switch (msg->type) {
    case KV_MSG_CLIENT_PUT:
        kv_coord_start(ctx, nd, KV_OP_PUT, m.key, m.v, m.hint, msg->src, m.req);
        break;
    case KV_MSG_CLIENT_GET:
        kv_coord_start(ctx, nd, KV_OP_GET, m.key, m.v, 0, msg->src, m.req);
        break;
    case KV_MSG_CLIENT_PUT_REPLY:
    case KV_MSG_CLIENT_GET_REPLY:
        kv_client_finish(ctx, nd, m.req, m.ok != 0, m.v);
        break;
    case KV_MSG_PUT:
        kv_on_put(ctx, nd, msg, &m);
        break;
    case KV_MSG_GET:
        kv_on_get(ctx, nd, msg, &m);
        break;
    case KV_MSG_PUT_ACK:
    case KV_MSG_GET_REPLY:
        kv_on_replica_answer(ctx, nd, msg, &m);
        break;
    case KV_MSG_HEARTBEAT:
        break; /* kv_heard_from did it */
    case KV_MSG_HINT:
    case KV_MSG_REPAIR:
        kv_on_handover(ctx, nd, msg, &m);
        break;
    case KV_MSG_HINT_ACK:
        kv_on_hint_ack(ctx, nd, &m);
        break;
    case KV_MSG_REPAIR_ACK:
        kv_on_repair_ack(ctx, nd, msg, &m);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    kv_shared *k = kv_shared_of(ctx);
    kv_node *nd = node;
    switch (kind) {
    case T_ARRIVAL:
        kv_issue_random_op(ctx, nd);
        kv_schedule_next(ctx, nd);
        break;
    case T_THINK:
        kv_issue_random_op(ctx, nd);
        break;
    case T_CLIENT_TIMEOUT:
        kv_on_client_timeout(ctx, nd, (uint32_t)arg);
        break;
    case T_COORD_TIMEOUT:
        kv_on_coord_timeout(ctx, nd, (uint32_t)arg);
        break;
    case T_SYNC:
        nd->n_undo = 0; /* everything written so far is on disk */
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
        break;
    case T_PROBE_READ:
        kv_client_issue(ctx, nd, KV_OP_GET, (uint32_t)arg, (uint16_t)(arg >> 32), true, false);
        break;
    case T_PROBE_NEXT:
        kv_probe_next(ctx, nd);
        break;
    case T_HEARTBEAT:
        kv_send_heartbeats(ctx);
        sim_timer_set(ctx, k->hb_interval, T_HEARTBEAT, 0);
        break;
    case T_HINT_REPLAY:
        kv_hint_replay(ctx, nd);
        break;
    case T_RR_GRACE:
        kv_on_rr_grace(ctx, nd, (uint32_t)arg);
        break;
    case T_COMPACT:
        kv_compact(ctx, nd);
        break;
    case T_AE:
        kv_ae_start(ctx, nd);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_crash(sim_ctx *ctx, void *node) {
    kv_shared *k = kv_shared_of(ctx);
    kv_node *nd = node;
    /* Requests this node coordinated are gone; their clients time out. */
    kv_coord_req *reqs = nd->reqs.items;
    for (uint32_t i = 0; i < nd->reqs.n; i++)
        if (reqs[i].slot.used)
            kv_req_release(nd, &reqs[i]);
    if (nd->is_client) {
        /* The client's operations in flight fail with it. */
        kv_client_op *ops = nd->ops.items;
        for (uint32_t i = 0; i < nd->ops.n; i++)
            if (ops[i].slot.used) {
                kv_client_op *op = &ops[i];
                if (op->kind == KV_OP_PUT)
                    k->oracle.writes_failed++;
                else
                    k->oracle.reads_failed++;
                sim_count(sim_of(ctx), k->c_failed, 1);
                nd->in_flight--;
                sim_gauge_set(sim_of(ctx), k->g_in_flight, (double)--k->ops_in_flight);
                kv_op_release(nd, op);
            }
        return;
    }
    sim_time now = sim_now(ctx);
    if (!k->durable) {
        /* Memory is gone: the store, and the hints held for others. */
        kv_hints_clear(k, nd);
        uint32_t n = 0, *keys = sim_malloc((kv_store_count(&nd->store) + 1) * sizeof *keys);
        for (uint32_t i = 0; i < nd->store.cap; i++)
            if (nd->store.slots[i].key != UINT32_MAX)
                keys[n++] = nd->store.slots[i].key;
        kv_store_clear(&nd->store);
        nd->n_tombs = 0;
        if (nd->trees)
            kv_trees_rebuild(k, nd);
        for (uint32_t i = 0; i < n; i++)
            kv_div_check(k, keys[i], now);
        sim_free(keys);
    } else {
        /* Writes since the last sync were only in memory: undo them. */
        for (uint32_t i = nd->n_undo; i-- > 0;) {
            kv_version cur = kv_store_get(&nd->store, nd->undo[i].key);
            kv_store_set(&nd->store, nd->undo[i].key, nd->undo[i].old);
            kv_tree_update(k, nd, nd->undo[i].key, cur, nd->undo[i].old);
            kv_div_check(k, nd->undo[i].key, now);
        }
    }
    nd->n_undo = 0;
}

static void kv_on_recover(sim_ctx *ctx, void *node) {
    kv_shared *k = kv_shared_of(ctx);
    kv_node *nd = node;
    if (nd->last_heard) {
        /* Beliefs from before the crash are stale: start afresh, everyone
         * presumed up until silent for the suspicion timeout. */
        sim_time now = sim_now(ctx);
        for (uint32_t i = 0; i < k->n_servers; i++)
            nd->last_heard[i] = now;
    }
    if (nd->is_client) {
        kv_start_workload(ctx, nd);
        return;
    }
    if (k->durable && k->sync_interval > 0)
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
    start_server_timers(ctx, nd, true);
}

/* The oracle starts watching a replacement (the last one, if several): the
 * keys it replicates that have an acknowledged version it lacks. */
static void boot_start(kv_shared *k, uint32_t node, sim_time now) {
    if (!k->boot_missing) {
        k->boot_missing = sim_calloc((size_t)k->n_keys, 1);
    } else {
        memset(k->boot_missing, 0, (size_t)k->n_keys);
    }
    const kv_node *nd = kv_node_at(k, node);
    int64_t missing = 0;
    for (uint64_t key = 0; key < (uint64_t)k->n_keys; key++) {
        kv_version newest = k->oracle.keys[key].newest;
        if (newest.wid == 0)
            continue;
        uint32_t pref[KV_MAX_N];
        uint32_t n = kv_ring_preflist(&k->ring, key, pref);
        bool mine = false;
        for (uint32_t i = 0; i < n; i++)
            mine |= pref[i] == node;
        if (mine && !kv_vcovers(k, kv_store_get(&nd->store, (uint32_t)key), newest)) {
            k->boot_missing[key] = 1;
            missing++;
        }
    }
    k->boot_node = node;
    k->boot_at = now;
    k->boot_missing_start = k->boot_missing_now = missing;
    k->boot_done_at = missing ? -1 : now;
    sim_gauge_set(k->sim, k->g_boot_missing, (double)missing);
}

/* Metrics' view of faults: when servers came back, and how long after each
 * fault ended (recover, replace, heal) the replicas took to agree again on
 * every key that was divergent then. */
static void kv_on_fault(sim *s, void *shared, const char *what, uint32_t node) {
    kv_shared *k = shared;
    sim_time now = sim_time_now(s);
    bool server = node < k->n_servers;
    bool recover = strcmp(what, "recover") == 0, replace = strcmp(what, "replace") == 0;
    if (!((server && (recover || replace)) || strcmp(what, "heal") == 0))
        return;
    if (server)
        k->up_since[node] = now;
    if (replace) {
        kv_div_check_all(k, now); /* the new node is empty */
        boot_start(k, node, now);
    }
    if (k->n_fault_ends == KV_MAX_FAULT_ENDS) {
        k->fault_ends_dropped++;
        return;
    }
    struct kv_fault_end *f = &k->fault_ends[k->n_fault_ends++];
    f->at = now;
    f->node = server ? node : UINT32_MAX;
    f->what = recover ? "recover" : replace ? "replace" : "heal";
    f->divergent_then = f->pending = k->oracle.divergent;
    f->converged_at = f->pending == 0 ? now : -1;
    f->ae_at = k->ae_exchanges;
    f->ae_rounds = 0;
}

/* Membership change: placement moves at once (every node learns the new
 * ring immediately, as from a configuration service); data does not move
 * by itself (without repair, a joining node starts empty). */
static void kv_on_world_timer(sim *s, void *shared, uint32_t kind, uint64_t arg) {
    kv_shared *k = shared;
    (void)s;
    SIM_ASSERT(kind == W_MEMBERSHIP && arg < k->n_changes);
    const struct kv_member_change *ch = &k->changes[arg];
    if (ch->join == k->ring.active[ch->member])
        return; /* already so */
    if (!ch->join && k->ring.n_active <= 1)
        return;
    /* The moved fraction: keys whose first replica changes, counted over
     * up to 100000 keys spread over the key space. */
    uint64_t n = (uint64_t)k->n_keys, step = n > 100000 ? n / 100000 : 1, tried = 0, moved = 0;
    uint32_t *before = sim_malloc((size_t)((n + step - 1) / step) * sizeof *before);
    for (uint64_t key = 0; key < n; key += step) {
        uint32_t pref[KV_MAX_N];
        kv_ring_preflist(&k->ring, key, pref);
        before[tried++] = pref[0];
    }
    kv_ring_set_active(&k->ring, ch->member, ch->join, &k->ring_rng);
    uint64_t i = 0;
    for (uint64_t key = 0; key < n; key += step, i++) {
        uint32_t pref[KV_MAX_N];
        kv_ring_preflist(&k->ring, key, pref);
        moved += pref[0] != before[i];
    }
    sim_free(before);
    k->moved_fraction_last = tried ? (double)moved / (double)tried : 0;
    k->membership_changes++;
    k->ring_epoch++; /* ranges renumbered: exchanges in flight are void */
    if (k->ae_mode != KV_AE_OFF)
        for (uint32_t m = 0; m < k->n_servers; m++)
            kv_trees_rebuild(k, kv_node_at(k, m));
    kv_div_check_all(k, sim_time_now(s)); /* replicas are judged on the new lists */
}

static void kv_node_fini(sim_ctx *ctx, void *node) {
    kv_shared *k = kv_shared_of(ctx);
    kv_node *nd = node;
    kv_hints_clear(k, nd); /* a replaced node's hints are gone with it */
    kv_store_fini(&nd->hinted);
    sim_free(nd->hints.items);
    sim_free(nd->last_heard);
    sim_free(nd->tombs);
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_fini(&nd->trees[i]);
    sim_free(nd->trees);
    kv_store_fini(&nd->store);
    kv_store_fini(&nd->seen);
    kv_store_fini(&nd->mine);
    sim_free(nd->reqs.items);
    sim_free(nd->ops.items);
    sim_free(nd->undo);
    memset(nd, 0, sizeof *nd);
}

static void kv_shared_fini(void *shared) {
    kv_shared *k = shared;
    kv_ring_fini(&k->ring);
    kv_keys_fini(&k->keys);
    kv_oracle_fini(&k->oracle);
    sim_dist_fini(&k->value_bytes);
    sim_dist_fini(&k->think_time);
    sim_free(k->probe_t);
    sim_free(k->changes);
    sim_free(k->up_since);
    sim_free(k->boot_missing);
    sim_free(k->splits);
    sim_free(k->hint_lost);
    if (k->vclock)
        kv_vc_fini(&k->vc);
}

/* The charts dsim plot draws of a run (kv_charts.c). */
extern const sim_chart kv_charts[];

/*
 * What a run will cost (sim_model.estimate, checked by the kernel's budget
 * before time 0).  Events: every operation costs a request to its
 * coordinator, N requests and N replies, the answer and two timeouts
 * (2N + 4); heartbeats go from every member to every other node each
 * interval.  Memory: the oracle's record of every key and of every write,
 * and each written key on its N replicas at about 48 bytes (the store grows
 * by half; 39.5 measured).  Within a factor of two of measured runs.
 */
static void kv_estimate(const sim *s, const void *shared, sim_model_estimate *e) {
    const kv_shared *k = shared;
    double secs = (double)(k->wl_stop - k->wl_start) / 1e9;
    double ops;
    if (k->wl_mode == KV_WL_OPEN) {
        ops = k->rate_per_s * secs;
        e->events_key = "kv.workload.rate_per_s";
        snprintf(e->events_why, sizeof e->events_why,
                 "%g operations/s for %g s, about %lld events each", k->rate_per_s, secs,
                 (long long)(2 * k->n + 4));
    } else {
        /* Closed loop or probes: each client has one operation at a time,
         * at least a think time (or probe gap) plus a round trip apart. */
        double gap = k->wl_mode == KV_WL_CLOSED ? sim_dist_mean(&k->think_time) / 1e9
                                                : (double)k->probe_gap / 1e9;
        if (!(gap > 1e-4))
            gap = 1e-4;
        ops = (double)k->n_clients * secs / gap;
        e->events_key = "kv.workload.clients";
        snprintf(e->events_why, sizeof e->events_why,
                 "%lld clients for %g s, an operation every %g s or so, about %lld events each",
                 (long long)k->n_clients, secs, gap, (long long)(2 * k->n + 4));
    }
    double events = ops * (double)(2 * k->n + 4);
    if (k->fd_on && k->hb_interval > 0) {
        double nodes = (double)sim_node_count(s);
        double hb = nodes * nodes * ((double)sim_duration(s) / (double)k->hb_interval);
        if (hb > events) {
            e->events_key = "nodes";
            snprintf(e->events_why, sizeof e->events_why,
                     "%.0f nodes sending each other heartbeats every %g s for %g s", nodes,
                     (double)k->hb_interval / 1e9, (double)sim_duration(s) / 1e9);
        }
        events += hb;
    }
    e->events = events;
    double writes = ops * (1 - k->read_fraction);
    double written = writes < (double)k->n_keys ? writes : (double)k->n_keys;
    double keys_bytes = (double)k->n_keys * (double)sizeof(kv_key_rec);
    double bytes = keys_bytes + writes * (double)sizeof(kv_write_rec) + written * (double)k->n * 48;
    /* Placement and detection, per server: its tokens (and the sort's
     * copy); with heartbeats, when it last heard from every server (n^2);
     * with anti-entropy, a tree record per ring range and the trees of the
     * ranges it holds (2^depth leaves of 8-byte hashes and 4-byte counts,
     * times two for the inner nodes). */
    double servers = (double)k->n_servers, nodes = (double)sim_node_count(s);
    double tokens = servers * (double)k->vnodes;
    double per_node = 32 * (double)k->vnodes;
    if (k->fd_on)
        per_node += 8 * servers;
    if (k->ae_mode != KV_AE_OFF) {
        double held = (double)k->n * (double)k->vnodes;
        if (held > tokens)
            held = tokens;
        per_node += tokens * (double)sizeof(kv_merkle) + held * 20 * (double)(1u << k->ae_depth);
    }
    double placement = nodes * per_node;
    bytes += placement;
    e->bytes = bytes;
    if (placement > bytes / 2) {
        e->bytes_key = "nodes";
        snprintf(e->bytes_why, sizeof e->bytes_why, "%.0f servers with %lld tokens each%s%s",
                 servers, (long long)k->vnodes,
                 k->fd_on ? ", each tracking every other (failure detector)" : "",
                 k->ae_mode != KV_AE_OFF ? ", a Merkle tree per ring range" : "");
    } else if (keys_bytes + written * (double)k->n * 48 > bytes / 2) {
        e->bytes_key = "kv.workload.keys";
        snprintf(e->bytes_why, sizeof e->bytes_why, "%lld keys on %lld replicas",
                 (long long)k->n_keys, (long long)k->n);
    } else {
        e->bytes_key = e->events_key;
        char w[48];
        snprintf(e->bytes_why, sizeof e->bytes_why,
                 "%s writes (the oracle keeps %zu bytes of each)",
                 sim_human_count(writes, w, sizeof w), sizeof(kv_write_rec));
    }
}

const sim_model kv_model = {
    .name = "kv",
    .summary = "Dynamo-style replicated key-value store: N/R/W quorums, staleness oracle",
    .msg_types = kv_msg_types,
    .shared_size = sizeof(kv_shared),
    .node_size = sizeof(kv_node),
    .configure = kv_configure,
    .validate = kv_validate,
    .node_init = kv_node_init,
    .on_message = kv_on_message,
    .on_timer = kv_on_timer,
    .on_crash = kv_on_crash,
    .on_recover = kv_on_recover,
    .on_world_timer = kv_on_world_timer,
    .on_fault = kv_on_fault,
    .report = kv_report,
    .node_fini = kv_node_fini,
    .shared_fini = kv_shared_fini,
    .charts = kv_charts,
    .estimate = kv_estimate,
    .prepare = kv_prepare,
};
