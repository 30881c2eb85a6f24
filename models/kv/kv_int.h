/*
 * kv_int.h - the kv model's internal header: timer kinds, handle layout,
 * and the functions its files share (each prefixed kv_, grouped below by
 * the file that defines it).  Only the model's own .c files include it; the state and
 * message types themselves are in kv.h, which tests and the CLI also read.
 *
 * Include order is one way: each model file includes kv_int.h, which
 * includes kv.h, which includes kv_parts.h, merkle.h, vclock.h and sim.h.
 * No file includes another's private header.
 */
#ifndef DSIM_KV_INT_H
#define DSIM_KV_INT_H

#include "kv.h"

enum {
    T_ARRIVAL,        /* open loop: next operation */
    T_THINK,          /* closed loop: next operation */
    T_CLIENT_TIMEOUT, /* arg: op handle */
    T_COORD_TIMEOUT,  /* arg: request handle */
    T_SYNC,           /* commit-log sync */
    T_PROBE_READ,     /* arg: op handle of the probe write */
    T_PROBE_NEXT,
    T_HEARTBEAT,   /* failure detector: send heartbeats */
    T_HINT_REPLAY, /* hinted handoff: replay hints to targets back up */
    T_RR_GRACE,    /* arg: request handle; read repair's wait is over */
    T_COMPACT,     /* purge tombstones past their grace period */
    T_AE,          /* anti-entropy: start an exchange */
};

enum { W_MEMBERSHIP = 1 };

/* Wire bytes: a fixed header plus the key and, when carried, the value. */
#define KV_HEADER_BYTES 32u

/* Handles: slot in the low 20 bits, generation above. */
#define SLOT_BITS 20u
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
/* The most client operations, coordinated requests or hints one node
 * tracks at once (a pool doubles from 16 up to it).  Past it a node refuses
 * new work (overload_rejects, hints_dropped_full): memory and the event
 * queue stay bounded by the configuration, however high the offered load.
 * Far above what the shipped scenarios reach (their runs are unchanged). */
#define KV_MAX_TRACKED (1u << 14)
#define GEN_BITS       (32u - SLOT_BITS)
#define GEN_MASK       ((1u << GEN_BITS) - 1)

static inline kv_shared *kv_shared_of(sim_ctx *ctx) { return sim_shared(ctx); }
static inline kv_node *kv_node_at(kv_shared *k, uint32_t node) {
    return sim_node_state(k->sim, node);
}

/* ---- kv.c ---- */

uint32_t kv_wire(const kv_shared *k, bool with_value, uint32_t value_size);
void kv_send_msg(sim_ctx *ctx, uint32_t dst, uint32_t type, const kv_msg *m, bool with_value);
kv_slot *kv_pool_at(const kv_pool *p, size_t size, uint32_t i);
void *kv_pool_find(const kv_pool *p, size_t size, uint32_t h);
void *kv_pool_new(kv_pool *p, size_t size, uint32_t *h);
void kv_pool_release(kv_pool *p, size_t size, void *item);
kv_coord_req *kv_req_find(kv_node *nd, uint32_t h);
kv_coord_req *kv_req_new(kv_node *nd, uint32_t *h);
void kv_req_release(kv_node *nd, kv_coord_req *q);
kv_client_op *kv_op_find(kv_node *nd, uint32_t h);
kv_client_op *kv_op_new(kv_node *nd, uint32_t *h);
void kv_op_release(kv_node *nd, kv_client_op *op);

/* ---- kv_config.c ---- */

int kv_configure(sim_cfg *c, void *shared);
int kv_validate(sim_cfg *c, void *shared);
void kv_prepare(sim *s, void *shared);

/* ---- replica.c ---- */

kv_version kv_vmerge(kv_shared *k, kv_version a, kv_version b);
bool kv_only_deletes(const kv_shared *k, kv_version v);
bool kv_vcovers(const kv_shared *k, kv_version a, kv_version b);
void kv_session_put(kv_shared *k, kv_store *st, uint32_t key, kv_version v);
void kv_div_check(kv_shared *k, uint32_t key, sim_time now);
void kv_div_check_all(kv_shared *k, sim_time now);
void kv_compact(sim_ctx *ctx, kv_node *nd);
bool kv_replica_store(sim_ctx *ctx, kv_node *nd, uint32_t key, kv_version v);
void kv_on_put(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m);
void kv_on_handover(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m);
void kv_on_get(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m);

/* ---- detector.c ---- */

bool kv_believed_up(sim_ctx *ctx, const kv_node *nd, uint32_t peer);
void kv_heard_from(sim_ctx *ctx, kv_node *nd, uint32_t src);
void kv_suspect(sim_ctx *ctx, kv_node *nd, uint32_t peer);
void kv_send_heartbeats(sim_ctx *ctx);

/* ---- handoff.c ---- */

void kv_hint_store(sim_ctx *ctx, kv_node *nd, uint32_t target, uint32_t key, kv_version v);
void kv_hint_replay(sim_ctx *ctx, kv_node *nd);
void kv_on_hint_ack(sim_ctx *ctx, kv_node *nd, const kv_msg *m);
void kv_hints_clear(kv_shared *k, kv_node *nd);

/* ---- antientropy.c ---- */

void kv_tree_update(kv_shared *k, kv_node *nd, uint32_t key, kv_version old, kv_version v);
void kv_trees_rebuild(kv_shared *k, kv_node *nd);
void kv_ae_start(sim_ctx *ctx, kv_node *nd);
void kv_on_ae_hashes(sim_ctx *ctx, kv_node *nd, const sim_msg *msg);
void kv_on_ae_keylist(sim_ctx *ctx, kv_node *nd, const sim_msg *msg);
void kv_on_ae_keys(sim_ctx *ctx, kv_node *nd, const sim_msg *msg);
void kv_on_stream_req(sim_ctx *ctx, kv_node *nd, const sim_msg *msg);
void kv_bootstrap_stream(sim_ctx *ctx, kv_node *nd);

/* ---- coord.c ---- */

void kv_coord_start(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key, kv_version v,
                    uint32_t vctx, uint32_t client, uint32_t creq);
void kv_on_replica_answer(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m);
void kv_on_repair_ack(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m);
void kv_on_coord_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h);
void kv_on_rr_grace(sim_ctx *ctx, kv_node *nd, uint32_t h);

/* ---- narrate.c ---- */

const char *kv_vlabel(const kv_shared *k, kv_version v, char *buf, size_t len);
void kv_narrate_commit(sim_ctx *ctx, const kv_coord_req *q);
void kv_narrate_read(sim_ctx *ctx, const kv_coord_req *q);

/* ---- client.c ---- */

uint32_t kv_client_issue(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key, uint16_t probe_t,
                         bool probe, bool del);
void kv_client_finish(sim_ctx *ctx, kv_node *nd, uint32_t h, bool ok, kv_version v);
void kv_on_client_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h);
void kv_issue_random_op(sim_ctx *ctx, kv_node *nd);
void kv_probe_next(sim_ctx *ctx, kv_node *nd);
void kv_schedule_next(sim_ctx *ctx, kv_node *nd);
void kv_start_workload(sim_ctx *ctx, kv_node *nd);

/* ---- report.c ---- */

void kv_report(sim_report *r, void *shared);

#endif
