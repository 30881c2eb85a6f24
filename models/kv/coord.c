/*
 * coord.c - the coordinator: a client's request becomes a kv_coord_req
 * that sends the put or get to its targets (the preference list, or a
 * sloppy quorum's stand-ins for nodes believed down), answers the client
 * at W acks or R replies, and runs read repair.
 *
 * Request states (kv_coord_req):
 *
 *   free --kv_coord_start--> waiting --W acks / R replies--> done (freed)
 *                             |   +--request timeout--> failed (freed)
 *   get, digests disagree:   waiting --fetch the value--> done
 *   get, blocking repair:    waiting --repair acks--> done
 *   done, async read repair: lingering --all replies / grace--> repairs sent
 *   done, put with hints on: lingering --all acks / timeout--> hints kept
 *
 * Transitions: kv_coord_start (free -> waiting, or failed at once when
 * fewer targets than the quorum are believed up), kv_on_replica_answer
 * (waiting -> done, through get_quorum for reads and reply_client),
 * kv_on_repair_ack, kv_on_rr_grace and rr_finish, kv_on_coord_timeout
 * (waiting -> failed; lingering -> freed, hinting silent put targets).
 *
 * Invariants
 *  (1) A write commits exactly once, when the coordinator holds W acks from
 *      distinct targets; only then is it acknowledged (and the oracle told).
 *  (2) A read answers with the newest version among the first R replies
 *      from distinct targets (with vector clocks, their merge).
 *  (3) A request with neither by request_timeout fails; targets that did
 *      not answer are suspected.
 *  (4) Late replies find the slot freed or reused (the handle's generation)
 *      and are ignored.
 *
 * Messages: sends put, get and repair to replicas, client_put_reply and
 * client_get_reply to the client (or finishes the client's own operation
 * when it coordinates); receives put_ack, get_reply and repair_ack.
 * Timers: T_COORD_TIMEOUT, T_RR_GRACE.
 */
#include "kv_int.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Coordinator.                                                             */

/* Targets for a request: the first `count` of the key's preference list,
 * or for the PBS teaching mode (propagation none) `count` of its n
 * replicas chosen at random. */
static uint32_t choose_targets(sim_ctx *ctx, kv_shared *k, uint32_t key, uint32_t count,
                               uint32_t *out) {
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    if (k->propagation == KV_PROP_NONE) {
        sim_rng *rng = sim_node_rng(ctx);
        for (uint32_t i = 0; i < n && i < count; i++) {
            uint32_t j = i + sim_rng_below(rng, n - i);
            uint32_t t = pref[i];
            pref[i] = pref[j];
            pref[j] = t;
        }
    }
    if (count < n)
        n = count;
    memcpy(out, pref, n * sizeof *out);
    return n;
}

/* Sloppy quorum (Dynamo §4.6): the first `want` of the key's n home
 * replicas, each one believed down replaced by the next node along the ring
 * believed up, which will keep a hint for it.  Homes left without a
 * stand-in go to orphans (room for KV_MAX_N); returns the targets. */
static uint32_t sloppy_targets(sim_ctx *ctx, kv_node *nd, uint32_t key, uint32_t want,
                               kv_coord_req *q, uint32_t *orphans, uint32_t *n_orphans) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t walk[KV_MAX_WALK];
    uint32_t total = kv_ring_walk(&k->ring, key, KV_MAX_WALK, walk);
    uint32_t home = total < (uint32_t)k->n ? total : (uint32_t)k->n;
    uint32_t next = home, got = 0;
    for (uint32_t i = 0; i < home && got < want; i++) {
        if (kv_believed_up(ctx, nd, walk[i])) {
            q->hint_for[got] = 0;
            q->targets[got++] = walk[i];
            continue;
        }
        while (next < total && !kv_believed_up(ctx, nd, walk[next]))
            next++;
        if (next < total) {
            q->hint_for[got] = walk[i] + 1;
            q->targets[got++] = walk[next++];
        } else {
            orphans[(*n_orphans)++] = walk[i];
        }
    }
    return got;
}

/* Answers the client: by message, or directly when the client coordinates
 * its own request. */
static void reply_client(sim_ctx *ctx, kv_node *nd, kv_coord_req *q, bool ok) {
    q->done = 1;
    if (q->client == sim_self(ctx)) {
        kv_client_finish(ctx, nd, q->creq, ok, q->v);
        return;
    }
    kv_msg m = {.key = q->key, .req = q->creq, .ok = ok, .v = q->v};
    bool get = q->kind == KV_OP_GET;
    kv_send_msg(ctx, q->client, get ? KV_MSG_CLIENT_GET_REPLY : KV_MSG_CLIENT_PUT_REPLY, &m,
                get && ok);
}

/* free -> waiting: sends the request to its targets. */
void kv_coord_start(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key, kv_version v,
                    uint32_t vctx, uint32_t client, uint32_t creq) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t h;
    kv_coord_req *q = kv_req_new(nd, &h);
    if (!q) {
        /* The coordinator tracks KV_MAX_TRACKED requests already: it
         * refuses this one with a failure at once (load shedding). */
        k->overload_rejects++;
        kv_coord_req refused = {.kind = (uint8_t)kind, .key = key, .client = client, .creq = creq};
        reply_client(ctx, nd, &refused, false);
        return;
    }
    q->kind = (uint8_t)kind;
    q->key = key;
    q->client = client;
    q->creq = creq;
    nd->coordinated++;
    uint32_t want =
        kind == KV_OP_PUT
            ? (k->propagation == KV_PROP_NONE ? (uint32_t)k->w : (uint32_t)k->n)
            : (k->read_targets == KV_READ_ALL && k->propagation == KV_PROP_ALL ? (uint32_t)k->n
                                                                               : (uint32_t)k->r);
    q->n_need = (uint8_t)(kind == KV_OP_PUT ? k->w : k->r);
    if (kind == KV_OP_PUT) {
        /* Last-write-wins stamps the coordinator's own clock. */
        q->v = v;
        q->v.ts = sim_local_time(ctx);
        if (k->vclock) /* a clock instead of a timestamp; the client is the actor */
            q->v = kv_vc_stamp(&k->vc, v.wid, v.size, client, (kv_version){.wid = vctx});
    }
    if (k->quorum == KV_QUORUM_SLOPPY) {
        uint32_t orphans[KV_MAX_N], n_orphans = 0;
        q->n_targets = (uint8_t)sloppy_targets(ctx, nd, key, want, q, orphans, &n_orphans);
        /* No stand-in is up for these: the coordinator keeps their hints. */
        if (kind == KV_OP_PUT && !nd->is_client)
            for (uint32_t i = 0; i < n_orphans; i++)
                kv_hint_store(ctx, nd, orphans[i], key, q->v);
    } else {
        uint32_t n = choose_targets(ctx, k, key, want, q->targets);
        if (kind == KV_OP_PUT && k->hints_on && !nd->is_client) {
            /* Strict quorum with hints (as Cassandra): a target believed
             * down gets a hint kept here instead; it cannot count for W. */
            uint32_t kept = 0;
            for (uint32_t i = 0; i < n; i++) {
                if (kv_believed_up(ctx, nd, q->targets[i]))
                    q->targets[kept++] = q->targets[i];
                else
                    kv_hint_store(ctx, nd, q->targets[i], key, q->v);
            }
            n = kept;
        }
        q->n_targets = (uint8_t)n;
    }
    if (q->n_targets < q->n_need) {
        /* Fewer members (or members believed up) than the quorum: fail at
         * once. */
        reply_client(ctx, nd, q, false);
        kv_req_release(nd, q);
        return;
    }
    if (kind == KV_OP_GET && k->rr_mode != KV_RR_OFF)
        q->rr = k->rr_chance >= 1 || sim_rng_double(sim_node_rng(ctx)) < k->rr_chance;
    kv_msg m = {.key = key, .req = h, .v = q->v};
    for (uint32_t i = 0; i < q->n_targets; i++) {
        if (kind == KV_OP_PUT) {
            m.hint = q->hint_for[i];
        } else {
            /* Digest reads: the first target sends the value, the others
             * the version's digest. */
            m.ok = k->digest_reads && i > 0 ? KV_GET_DIGEST : 0;
        }
        kv_send_msg(ctx, q->targets[i], kind == KV_OP_PUT ? KV_MSG_PUT : KV_MSG_GET, &m,
                    kind == KV_OP_PUT);
    }
    q->timer = sim_timer_set(ctx, k->request_timeout, T_COORD_TIMEOUT, h);
}

static int target_index(const kv_coord_req *q, uint32_t node) {
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->targets[i] == node)
            return (int)i;
    return -1;
}

static bool same_version(kv_version a, kv_version b) { return a.wid == b.wid && a.ts == b.ts; }

/* Read repair: sends the newest version to every target that answered with
 * an older one (or none).  Returns the bit set of targets repaired. */
static uint16_t send_repairs(sim_ctx *ctx, kv_node *nd, kv_coord_req *q, uint32_t h) {
    kv_shared *k = kv_shared_of(ctx);
    (void)nd;
    uint16_t sent = 0;
    if (q->v.wid == 0)
        return 0;
    kv_msg m = {.key = q->key, .req = h, .v = q->v};
    for (uint32_t i = 0; i < q->n_targets; i++)
        if ((q->replied & (1u << i)) && !same_version(q->got[i], q->v)) {
            kv_send_msg(ctx, q->targets[i], KV_MSG_REPAIR, &m, true);
            sent |= (uint16_t)(1u << i);
            if (sim_tracing(ctx)) {
                char a[64], b[64];
                sim_log(ctx, "read repair: sends %s of key %u to %s, which had %s",
                        kv_vlabel(k, q->v, a, sizeof a), q->key,
                        sim_node_name(k->sim, q->targets[i]), kv_vlabel(k, q->got[i], b, sizeof b));
            }
            k->rr_repairs++;
        }
    if (sent)
        k->rr_reads++;
    return sent;
}

/* The handle of a request (for messages about it sent after its start). */
static uint32_t req_handle(const kv_node *nd, const kv_coord_req *q) {
    uint32_t i = (uint32_t)(q - (const kv_coord_req *)nd->reqs.items);
    return i | ((q->slot.gen & GEN_MASK) << SLOT_BITS);
}

/* Async read repair's end: every target answered, or the grace is over. */
static void rr_finish(sim_ctx *ctx, kv_node *nd, kv_coord_req *q) {
    send_repairs(ctx, nd, q, req_handle(nd, q));
    kv_req_release(nd, q);
}

/* A get has its R replies: answer, after fetching the value (digest reads)
 * or repairing the replicas that answered (blocking read repair). */
static void get_quorum(sim_ctx *ctx, kv_node *nd, kv_coord_req *q) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t h = req_handle(nd, q);
    if (k->digest_reads && q->v.wid != 0 && q->waiting == 0) {
        /* Is the newest version among the values received? */
        int holder = -1;
        bool have_value = false;
        for (uint32_t i = 0; i < q->n_targets; i++)
            if ((q->replied & (1u << i)) && same_version(q->got[i], q->v)) {
                have_value |= (q->full >> i) & 1u;
                if (holder < 0)
                    holder = (int)i;
            }
        if (!have_value) {
            k->rr_digest_mismatch++;
            kv_msg m = {.key = q->key, .req = h, .ok = KV_GET_FETCH};
            kv_send_msg(ctx, q->targets[holder], KV_MSG_GET, &m, false);
            q->waiting = 1;
            return;
        }
    }
    if (q->rr && k->rr_mode == KV_RR_BLOCKING && q->waiting != 2) {
        uint16_t sent = send_repairs(ctx, nd, q, h);
        if (sent) {
            q->pending = sent;
            q->waiting = 2;
            return;
        }
    }
    sim_timer_cancel(ctx, q->timer);
    kv_narrate_read(ctx, q);
    reply_client(ctx, nd, q, true);
    if (q->rr && k->rr_mode == KV_RR_ASYNC) {
        /* Dynamo's read repair: wait a grace period for the other replies. */
        if (q->replied == (1u << q->n_targets) - 1)
            rr_finish(ctx, nd, q);
        else
            q->timer = sim_timer_set(ctx, k->rr_grace, T_RR_GRACE, h);
        return;
    }
    kv_req_release(nd, q);
}

/* A put ack or a get reply from a replica: waiting -> done at W or R. */
void kv_on_replica_answer(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = kv_shared_of(ctx);
    kv_coord_req *q = kv_req_find(nd, m->req);
    if (!q)
        return; /* finished: a late answer */
    int i = target_index(q, msg->src);
    if (i < 0)
        return; /* not a target */
    if (msg->type == KV_MSG_GET_REPLY && (m->hint & KV_GET_FETCH)) {
        /* The value, fetched after the digests disagreed. */
        if (q->waiting != 1)
            return;
        q->v = kv_vmerge(k, q->v, m->v);
        q->full |= (uint16_t)(1u << i);
        q->waiting = 0;
        get_quorum(ctx, nd, q);
        return;
    }
    if (q->replied & (1u << i))
        return; /* a duplicate */
    q->replied |= (uint16_t)(1u << i);
    if (q->kind == KV_OP_GET) {
        q->got[i] = m->v;
        if (!(m->hint & KV_GET_DIGEST))
            q->full |= (uint16_t)(1u << i);
    }
    if (q->done) {
        /* Async read repair collecting the remaining replies, or a put
         * waiting for its last acks before hinting the silent targets. */
        if (q->replied == (1u << q->n_targets) - 1) {
            sim_timer_cancel(ctx, q->timer);
            if (q->kind == KV_OP_GET)
                rr_finish(ctx, nd, q);
            else
                kv_req_release(nd, q);
        }
        return;
    }
    if (q->waiting)
        return; /* answered later, by the fetch or the repair acks */
    q->n_acks++;
    if (q->kind == KV_OP_GET)
        q->v = kv_vmerge(k, q->v, m->v);
    if (q->n_acks < q->n_need)
        return;
    if (q->kind == KV_OP_GET) {
        get_quorum(ctx, nd, q);
        return;
    }
    if (k->vclock)
        kv_oracle_write_commit_vc(&k->oracle, &k->vc, q->v, sim_now(ctx));
    else
        kv_oracle_write_commit(&k->oracle, q->v, sim_now(ctx));
    kv_narrate_commit(ctx, q);
    reply_client(ctx, nd, q, true);
    if (k->hints_on && !nd->is_client && q->replied != (1u << q->n_targets) - 1)
        return; /* the timeout hints the targets that stay silent */
    sim_timer_cancel(ctx, q->timer);
    kv_req_release(nd, q);
}

/* Blocking read repair: a stale replica stored the newest version. */
void kv_on_repair_ack(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_coord_req *q = kv_req_find(nd, m->req);
    if (!q || q->waiting != 2)
        return;
    int i = target_index(q, msg->src);
    if (i < 0 || !(q->pending & (1u << i)))
        return;
    q->pending &= (uint16_t) ~(1u << i);
    if (q->pending)
        return;
    sim_timer_cancel(ctx, q->timer);
    reply_client(ctx, nd, q, true);
    kv_req_release(nd, q);
}

void kv_on_coord_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_coord_req *q = kv_req_find(nd, h);
    if (!q)
        return;
    /* Targets that never answered are suspected (failure detector); a put's
     * silent targets get a hint kept here (as Cassandra does), whether the
     * write committed or not, so the write still reaches every replica. */
    kv_shared *k = kv_shared_of(ctx);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (!(q->replied & (1u << i))) {
            kv_suspect(ctx, nd, q->targets[i]);
            if (q->kind == KV_OP_PUT && k->hints_on && !nd->is_client) {
                uint32_t home = q->hint_for[i] ? q->hint_for[i] - 1 : q->targets[i];
                if (home != sim_self(ctx))
                    kv_hint_store(ctx, nd, home, q->key, q->v);
                else
                    kv_replica_store(ctx, nd, q->key, q->v);
            }
        }
    if (!q->done)
        reply_client(ctx, nd, q, false);
    kv_req_release(nd, q);
}

void kv_on_rr_grace(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_coord_req *q = kv_req_find(nd, h);
    if (q && q->done)
        rr_finish(ctx, nd, q);
}
