/*
 * antientropy.c - anti-entropy and streaming bootstrap: each server keeps
 * one Merkle tree per ring range it holds keys of, and periodically
 * compares one range with another replica of it, descending where the
 * hashes differ and exchanging the versions that differ (Dynamo §4.7).  A
 * replacement may instead ask a replica of each range for all of it.
 *
 * The exchange, for one range (merkle mode; full mode starts at keylist):
 *
 *   A --ae_hashes(level 0)--> B --ae_hashes(level 1)--> A ... (where differ)
 *   equal at some level: --ae_in_sync-->
 *   at the leaves:      --ae_keylist (key, digest)-->
 *   answer:             <--ae_keys(level 0): versions and keys wanted--
 *   final:              --ae_keys(level 1): the versions asked for-->
 *   bootstrap:          new --stream_req--> replica --ae_keys(level 2)--> new
 *
 * Invariants
 *  (1) A server's trees match its store at every moment: kv_tree_update
 *      follows every change, kv_trees_rebuild follows a placement change
 *      or a wipe.
 *  (2) Every message carries the ring's epoch; one sent before a
 *      membership change is ignored (its range numbers mean other ranges).
 *  (3) Versions received are stored through kv_replica_store, so a repair
 *      never replaces a newer version nor drops a sibling.
 *  (4) Peers are chosen by the failure detector's beliefs, in turn among
 *      the range's other replicas.
 *
 * Timer: T_AE (every interval plus jitter from the node's stream).
 */
#include "kv_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Merkle trees: kept in step with every change to a replica's store.      */

/* A key's leaf in its range's tree. */
static uint32_t key_leaf(kv_shared *k, const kv_merkle *t, uint32_t range, uint32_t key) {
    uint64_t lo, hi;
    kv_ring_range_bounds(&k->ring, range, &lo, &hi);
    return kv_merkle_leaf_of(t, lo, hi, kv_ring_key_pos(&k->ring, key));
}

/* The store's version of key went from old to v (wid 0: none). */
void kv_tree_update(kv_shared *k, kv_node *nd, uint32_t key, kv_version old, kv_version v) {
    if (!nd->trees)
        return;
    uint32_t range = kv_ring_range_of(&k->ring, key);
    kv_merkle *t = &nd->trees[range];
    kv_merkle_update(t, key_leaf(k, t, range, key), kv_merkle_digest(key, old.ts, old.wid),
                     kv_merkle_digest(key, v.ts, v.wid));
}

/* (Re)builds every tree of a server from its store: at the start, after a
 * placement change (ranges move), after a crash wiped it. */
void kv_trees_rebuild(kv_shared *k, kv_node *nd) {
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_fini(&nd->trees[i]);
    nd->n_trees = kv_ring_range_count(&k->ring);
    nd->trees = sim_realloc(nd->trees, (nd->n_trees ? nd->n_trees : 1) * sizeof *nd->trees);
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_init(&nd->trees[i], (uint32_t)k->ae_depth);
    for (uint32_t i = 0; i < nd->store.cap; i++) {
        const kv_store_entry *e = &nd->store.slots[i];
        if (e->key == UINT32_MAX)
            continue;
        uint32_t range = kv_ring_range_of(&k->ring, e->key);
        kv_merkle *t = &nd->trees[range];
        kv_merkle_load(t, key_leaf(k, t, range, e->key), kv_merkle_digest(e->key, e->ts, e->wid));
    }
    for (uint32_t i = 0; i < nd->n_trees; i++)
        if (nd->trees[i].stale)
            kv_merkle_rehash(&nd->trees[i]);
}

/* ------------------------------------------------------------------------ */
/* Anti-entropy: replica pairs compare Merkle trees, repair what differs.   */

/* Sends an anti-entropy message: the head, then `len` bytes of arrays;
 * `wire` is what it costs on the network (merkle.h's table). */
static void ae_send(sim_ctx *ctx, uint32_t dst, uint32_t type, kv_ae_head h, const void *body,
                    size_t len, uint64_t wire) {
    kv_shared *k = kv_shared_of(ctx);
    h.epoch = k->ring_epoch;
    size_t total = sizeof h + len;
    char stackbuf[1024];
    char *buf = total <= sizeof stackbuf ? stackbuf : sim_malloc(total);
    memcpy(buf, &h, sizeof h);
    if (len)
        memcpy(buf + sizeof h, body, len);
    uint32_t w = wire > UINT32_MAX ? UINT32_MAX : (uint32_t)wire;
    sim_send(ctx, dst, type, buf, (uint32_t)total, w);
    if (buf != stackbuf)
        sim_free(buf);
    bool stream = type == KV_MSG_STREAM_REQ || (type == KV_MSG_AE_KEYS && h.level == 2);
    if (stream) {
        k->stream_bytes += (int64_t)w;
    } else {
        k->ae_messages++;
        k->ae_bytes += (int64_t)w;
    }
}

/* Value bytes of a version (none for a tombstone). */
static uint64_t value_bytes_of(kv_version v) {
    return kv_is_tombstone(v) || v.wid == 0 ? 0 : v.size;
}

static int cmp_ae_key(const void *a, const void *b) {
    uint32_t x = ((const kv_ae_key *)a)->key, y = ((const kv_ae_key *)b)->key;
    return (x > y) - (x < y);
}

/* The keys of this node's store in `range` and, if leaves is not NULL, in
 * one of the leaves marked there.  Caller frees. */
static kv_ae_key *range_keys(kv_shared *k, kv_node *nd, uint32_t range, const uint8_t *leaves,
                             uint32_t *n_out) {
    uint32_t n = 0, cap = 16;
    kv_ae_key *out = sim_malloc(cap * sizeof *out);
    const kv_merkle *t = range < nd->n_trees ? &nd->trees[range] : NULL;
    for (uint32_t i = 0; i < nd->store.cap; i++) {
        const kv_store_entry *e = &nd->store.slots[i];
        if (e->key == UINT32_MAX || kv_ring_range_of(&k->ring, e->key) != range)
            continue;
        if (leaves && t) {
            uint32_t leaf = key_leaf(k, t, range, e->key);
            if (!(leaves[leaf >> 3] & (1u << (leaf & 7))))
                continue;
        }
        if (n == cap)
            out = sim_realloc(out, (cap *= 2) * sizeof *out);
        out[n++] = (kv_ae_key){.key = e->key, .v = {.ts = e->ts, .wid = e->wid, .size = e->size}};
    }
    /* In key order, not the table's: a table fed keys in the order of their
     * hash fills one end first and probes for ever (store.c places a key by
     * its hash's high bits). */
    qsort(out, n, sizeof *out, cmp_ae_key);
    *n_out = n;
    return out;
}

/* A bit set of leaves. */
static uint8_t *leaf_marks(const kv_shared *k, const uint32_t *leaves, uint32_t n) {
    uint8_t *mark = sim_calloc(((size_t)1 << k->ae_depth) / 8 + 1, 1);
    for (uint32_t i = 0; i < n; i++)
        mark[leaves[i] >> 3] |= (uint8_t)(1u << (leaves[i] & 7));
    return mark;
}

/* Sends (key, digest) of this node's keys in the given leaves (all of the
 * range when leaves is NULL: full mode).  The leaf list travels too. */
static void send_keylist(sim_ctx *ctx, kv_node *nd, uint32_t dst, uint32_t range,
                         const uint32_t *leaves, uint32_t n_leaves) {
    kv_shared *k = kv_shared_of(ctx);
    uint8_t *mark = leaves ? leaf_marks(k, leaves, n_leaves) : NULL;
    uint32_t n;
    kv_ae_key *keys = range_keys(k, nd, range, mark, &n);
    sim_free(mark);
    /* Body: the leaves, then (key, digest) pairs. */
    size_t len = n_leaves * sizeof(uint32_t) + (size_t)n * 2 * sizeof(uint64_t);
    char *body = sim_malloc(len + 1);
    if (n_leaves)
        memcpy(body, leaves, n_leaves * sizeof(uint32_t));
    char *p = body + n_leaves * sizeof(uint32_t);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t pair[2] = {keys[i].key,
                            kv_merkle_digest(keys[i].key, keys[i].v.ts, keys[i].v.wid)};
        memcpy(p, pair, sizeof pair);
        p += sizeof pair;
    }
    kv_ae_head h = {.range = range, .n = n_leaves, .n2 = n};
    ae_send(ctx, dst, KV_MSG_AE_KEYLIST, h, body, len,
            kv_merkle_keys_msg_bytes(n) + (uint64_t)n_leaves * KV_MERKLE_INDEX_BYTES);
    k->ae_keys_listed += n;
    sim_free(body);
    sim_free(keys);
}

/* Sends versions (with their values) and, in a first answer, the keys
 * wanted back.  level: 0 first answer, 1 final, 2 a stream. */
static void send_keys(sim_ctx *ctx, uint32_t dst, uint32_t range, uint32_t level,
                      const kv_ae_key *keys, uint32_t n, const uint32_t *want, uint32_t n_want) {
    kv_shared *k = kv_shared_of(ctx);
    size_t len = (size_t)n * sizeof *keys + (size_t)n_want * sizeof *want;
    char *body = sim_malloc(len + 1);
    memcpy(body, keys, (size_t)n * sizeof *keys);
    if (n_want)
        memcpy(body + (size_t)n * sizeof *keys, want, (size_t)n_want * sizeof *want);
    uint64_t values = 0;
    for (uint32_t i = 0; i < n; i++)
        values += value_bytes_of(keys[i].v) +
                  (k->vclock ? kv_vc_wire_bytes(&k->vc, keys[i].v) : 0); /* clocks too */
    kv_ae_head h = {.range = range, .level = level, .n = n, .n2 = n_want};
    ae_send(ctx, dst, KV_MSG_AE_KEYS, h, body, len,
            kv_merkle_repair_msg_bytes(n, values) + (uint64_t)n_want * KV_MERKLE_KEY_BYTES);
    if (level == 2)
        k->stream_keys += n;
    else
        k->ae_keys_streamed += n;
    sim_free(body);
}

/* Sends the hashes of nodes idx[0..n) of a level of this node's tree. */
static void send_hashes(sim_ctx *ctx, kv_node *nd, uint32_t dst, uint32_t range, uint32_t level,
                        const uint32_t *idx, uint32_t n) {
    kv_shared *k = kv_shared_of(ctx);
    size_t len = (size_t)n * (sizeof *idx + sizeof(uint64_t));
    char *body = sim_malloc(len + 1);
    uint64_t *hashes = sim_malloc(((size_t)n + 1) * sizeof *hashes);
    kv_merkle_hashes(&nd->trees[range], level, idx, n, hashes);
    memcpy(body, idx, (size_t)n * sizeof *idx);
    memcpy(body + (size_t)n * sizeof *idx, hashes, (size_t)n * sizeof *hashes);
    kv_ae_head h = {.range = range, .level = level, .n = n};
    ae_send(ctx, dst, KV_MSG_AE_HASHES, h, body, len, kv_merkle_hashes_msg_bytes(n));
    k->ae_hashes += n;
    sim_free(hashes);
    sim_free(body);
}

/* The replica of `range` this node compares with on its `turn`: the
 * others in turn, skipping those believed down.  UINT32_MAX if this node is
 * not a replica of the range or no other is up. */
static uint32_t ae_peer(sim_ctx *ctx, kv_node *nd, uint32_t range, uint32_t turn) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_range_preflist(&k->ring, range, pref), self = sim_self(ctx), me = n;
    for (uint32_t i = 0; i < n; i++)
        if (pref[i] == self)
            me = i;
    if (me == n || n < 2)
        return UINT32_MAX;
    for (uint32_t j = 0; j < n - 1; j++) {
        uint32_t peer = pref[(me + 1 + (turn + j) % (n - 1)) % n];
        if (kv_believed_up(ctx, nd, peer))
            return peer;
    }
    return UINT32_MAX;
}

/* Every interval (plus jitter): compare the next range this node
 * replicates with one of its other replicas. */
void kv_ae_start(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t ranges = kv_ring_range_count(&k->ring);
    for (uint32_t tries = 0; tries < ranges; tries++) {
        uint32_t range = nd->ae_next % ranges, turn = nd->ae_next / ranges;
        nd->ae_next++;
        uint32_t peer = ae_peer(ctx, nd, range, turn);
        if (peer == UINT32_MAX)
            continue;
        k->ae_exchanges++;
        if (k->ae_mode == KV_AE_FULL) {
            send_keylist(ctx, nd, peer, range, NULL, 0);
        } else {
            uint32_t root = 0;
            send_hashes(ctx, nd, peer, range, 0, &root, 1);
        }
        break;
    }
    sim_time jitter =
        k->ae_jitter > 0 ? (sim_time)(sim_rng_double(sim_node_rng(ctx)) * (double)k->ae_jitter) : 0;
    sim_timer_set(ctx, k->ae_interval + jitter, T_AE, 0);
}

/* Reads the head of an anti-entropy message; false if it is stale (sent
 * before a placement change: its range numbers mean other ranges now). */
static bool ae_head_fresh(sim_ctx *ctx, const sim_msg *msg, kv_ae_head *h) {
    SIM_ASSERT(msg->len >= sizeof *h);
    memcpy(h, msg->data, sizeof *h);
    return h->epoch == kv_shared_of(ctx)->ring_epoch;
}

/* The same, and false too if this node keeps no tree for the range. */
static bool ae_head(sim_ctx *ctx, const kv_node *nd, const sim_msg *msg, kv_ae_head *h) {
    return ae_head_fresh(ctx, msg, h) && nd->trees && h->range < nd->n_trees;
}

/* A level's hashes from the peer: descend where they differ. */
void kv_on_ae_hashes(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = kv_shared_of(ctx);
    kv_ae_head h;
    if (!ae_head(ctx, nd, msg, &h))
        return;
    uint32_t *idx = sim_malloc((2 * (size_t)h.n + 1) * sizeof *idx);
    uint64_t *hashes = sim_malloc(((size_t)h.n + 1) * sizeof *hashes);
    const char *p = (const char *)msg->data + sizeof h;
    memcpy(idx, p, (size_t)h.n * sizeof *idx);
    memcpy(hashes, p + (size_t)h.n * sizeof *idx, (size_t)h.n * sizeof *hashes);
    size_t d = kv_merkle_differ(&nd->trees[h.range], h.level, idx, hashes, h.n, idx);
    k->ae_levels++;
    if (d == 0) {
        if (h.level == 0)
            k->ae_in_sync++;
        ae_send(ctx, msg->src, KV_MSG_AE_IN_SYNC, (kv_ae_head){.range = h.range}, NULL, 0,
                KV_MERKLE_HEADER_BYTES);
    } else if (h.level == (uint32_t)k->ae_depth) {
        send_keylist(ctx, nd, msg->src, h.range, idx, (uint32_t)d);
    } else {
        kv_merkle_children(idx, d, idx);
        send_hashes(ctx, nd, msg->src, h.range, h.level + 1, idx, (uint32_t)(2 * d));
    }
    sim_free(idx);
    sim_free(hashes);
}

/* The peer's (key, digest) list for some leaves (or a whole range): answer
 * with our versions where they differ, and the keys we lack. */
void kv_on_ae_keylist(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = kv_shared_of(ctx);
    kv_ae_head h;
    if (!ae_head(ctx, nd, msg, &h))
        return;
    const char *p = (const char *)msg->data + sizeof h;
    uint8_t *mark = NULL;
    if (h.n) {
        uint32_t *leaves = sim_malloc((size_t)h.n * sizeof *leaves);
        memcpy(leaves, p, (size_t)h.n * sizeof *leaves);
        mark = leaf_marks(k, leaves, h.n);
        sim_free(leaves);
    }
    p += (size_t)h.n * sizeof(uint32_t);
    /* Theirs, by key (the digest kept in ts). */
    kv_store theirs;
    kv_store_init(&theirs);
    for (uint32_t i = 0; i < h.n2; i++) {
        uint64_t pair[2];
        memcpy(pair, p + (size_t)i * sizeof pair, sizeof pair);
        kv_store_set(&theirs, (uint32_t)pair[0], (kv_version){.ts = (sim_time)pair[1], .wid = 1});
    }
    uint32_t n_mine;
    kv_ae_key *mine = range_keys(k, nd, h.range, mark, &n_mine);
    sim_free(mark);
    uint32_t n_send = 0;
    for (uint32_t i = 0; i < n_mine; i++) {
        kv_version t = kv_store_get(&theirs, mine[i].key);
        uint64_t dig = kv_merkle_digest(mine[i].key, mine[i].v.ts, mine[i].v.wid);
        if (t.wid == 0 || (uint64_t)t.ts != dig)
            mine[n_send++] = mine[i];
        if (t.wid != 0)
            kv_store_set(&theirs, mine[i].key, (kv_version){0}); /* seen */
    }
    /* What is left of theirs, we lack. */
    uint32_t n_want = 0, *want = sim_malloc((kv_store_count(&theirs) + 1) * sizeof *want);
    for (uint32_t i = 0; i < theirs.cap; i++)
        if (theirs.slots[i].key != UINT32_MAX)
            want[n_want++] = theirs.slots[i].key;
    kv_store_fini(&theirs);
    if (n_send || n_want)
        send_keys(ctx, msg->src, h.range, 0, mine, n_send, want, n_want);
    sim_free(mine);
    sim_free(want);
}

/* Versions from the peer: store the newer; in a first answer, send back
 * ours where ours is newer, and the keys asked for. */
void kv_on_ae_keys(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = kv_shared_of(ctx);
    kv_ae_head h;
    if (!ae_head_fresh(ctx, msg, &h))
        return;
    const char *p = (const char *)msg->data + sizeof h;
    kv_ae_key *keys = sim_malloc(((size_t)h.n + h.n2 + 1) * sizeof *keys);
    memcpy(keys, p, (size_t)h.n * sizeof *keys);
    uint32_t n_back = 0;
    for (uint32_t i = 0; i < h.n; i++) {
        kv_ae_key in = keys[i];
        if (kv_replica_store(ctx, nd, in.key, in.v)) {
            if (h.level == 2)
                k->stream_applied++;
            else
                k->ae_keys_repaired++;
        }
        kv_version mine = kv_store_get(&nd->store, in.key);
        if (h.level == 0 && !kv_vcovers(k, in.v, mine))
            keys[n_back++] = (kv_ae_key){.key = in.key, .v = mine};
    }
    if (h.level == 2 && nd->streams_pending)
        nd->streams_pending--;
    if (h.level == 0) {
        for (uint32_t i = 0; i < h.n2; i++) {
            uint32_t key;
            memcpy(&key, p + (size_t)h.n * sizeof *keys + (size_t)i * sizeof key, sizeof key);
            kv_version mine = kv_store_get(&nd->store, key);
            if (mine.wid)
                keys[n_back++] = (kv_ae_key){.key = key, .v = mine};
        }
        if (n_back)
            send_keys(ctx, msg->src, h.range, 1, keys, n_back, NULL, 0);
    }
    sim_free(keys);
}

/* A replacement asks for everything this node holds of a range. */
void kv_on_stream_req(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = kv_shared_of(ctx);
    kv_ae_head h;
    if (!ae_head_fresh(ctx, msg, &h))
        return;
    uint32_t n;
    kv_ae_key *keys = range_keys(k, nd, h.range, NULL, &n);
    send_keys(ctx, msg->src, h.range, 2, keys, n, NULL, 0);
    sim_free(keys);
}

/* A replacement that bootstraps by streaming asks one other replica of
 * every range it replicates for the whole range. */
void kv_bootstrap_stream(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = kv_shared_of(ctx);
    uint32_t ranges = kv_ring_range_count(&k->ring);
    for (uint32_t r = 0; r < ranges; r++) {
        uint32_t peer = ae_peer(ctx, nd, r, 0);
        if (peer == UINT32_MAX)
            continue;
        ae_send(ctx, peer, KV_MSG_STREAM_REQ, (kv_ae_head){.range = r}, NULL, 0,
                KV_MERKLE_HEADER_BYTES);
        nd->streams_pending++;
    }
}
