/*
 * detector.c - the failure detector: what a node believes about which
 * servers are up, learnt from heartbeats and from any other message heard,
 * and lost after `suspicion_timeout` of silence or a request timeout.
 *
 * Invariants
 *  (1) Beliefs come from the protocol alone: messages heard and requests
 *      timed out, never the kernel's knowledge of crashes or partitions.
 *  (2) Without a failure detector (or before it has a table) every peer is
 *      believed up; a node always believes itself up.
 *  (3) A timed-out peer is suspected until it is heard from again.
 *
 * Messages: sends heartbeat to every other active server and to every
 * client (clients choose or act as coordinators on the same beliefs);
 * kv.c's dispatch calls kv_heard_from for every message a server gets.
 * Timer: T_HEARTBEAT (set in kv.c).
 */
#include "kv_int.h"

/* ------------------------------------------------------------------------ */
/* Failure detector: heartbeats, and suspicion after silence.               */

/* What this node believes: is server `peer` up?  Only the protocol's own
 * evidence counts (messages heard, requests timed out), never the kernel's
 * knowledge.  Without a failure detector every peer is presumed up. */
bool kv_believed_up(sim_ctx *ctx, const kv_node *nd, uint32_t peer) {
    kv_shared *k = kv_shared_of(ctx);
    if (!k->fd_on || peer == sim_self(ctx) || !nd->last_heard)
        return true;
    return sim_now(ctx) - nd->last_heard[peer] <= k->suspicion;
}

void kv_heard_from(sim_ctx *ctx, kv_node *nd, uint32_t src) {
    kv_shared *k = kv_shared_of(ctx);
    if (nd->last_heard && src < k->n_servers)
        nd->last_heard[src] = sim_now(ctx);
}

/* A request to peer timed out: suspect it until it is heard from again. */
void kv_suspect(sim_ctx *ctx, kv_node *nd, uint32_t peer) {
    kv_shared *k = kv_shared_of(ctx);
    if (nd->last_heard && peer < k->n_servers)
        nd->last_heard[peer] = sim_now(ctx) - k->suspicion - 1;
}

/* Sends a heartbeat to every other server and to the clients (which choose
 * coordinators, or coordinate, by the same beliefs: as a partition-aware
 * client library learns membership). */
void kv_send_heartbeats(sim_ctx *ctx) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t self = sim_self(ctx);
    uint32_t last = k->first_client + (uint32_t)k->n_clients;
    kv_msg m = {0};
    for (uint32_t i = 0; i < last; i++)
        if (i != self && (i >= k->n_servers || k->ring.active[i]))
            sim_send(ctx, i, KV_MSG_HEARTBEAT, &m, sizeof m, KV_HEADER_BYTES);
}
