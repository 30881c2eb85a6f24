/*
 * merkle.c - the Merkle tree of one replica's token range and the descent
 * that compares two of them (design notes, invariants and message sizes in
 * merkle.h).  A write touches one leaf and its depth ancestors: the leaf's
 * sum changes by (new digest - old digest), then each ancestor is rehashed
 * from its two children, two word mixes each.
 */
#include "merkle.h"

#include <string.h>

/* Seeds of the two hashes, so a digest and a node hash of the same words
 * differ. */
#define DIGEST_SEED 0x6b766d65726b6c65ull /* "kvmerkle" */
#define NODE_SEED   0x6b766e6f64656873ull /* "kvnodehs" */

/* The hashes below are built from the splitmix64 finalizer (sim_mix64) on
 * whole words rather than by XXH3 over a byte buffer: a write rehashes
 * depth nodes one after the other, and packing each pair of children into
 * bytes for XXH3 (a library call, and loads that wait on the byte stores)
 * made an update 2.5 to 3.5 times slower (docs/performance.md).  Word
 * arithmetic is also the same on every host, whatever its byte order. */

/* An internal node from its children: 0 for an empty subtree, never 0
 * otherwise.  For a fixed right child the map from the left one is a
 * bijection (and the other way round), so two pairs that differ in one
 * child collide only through the one value mapped from 0 to 1; pairs that
 * differ in both collide with probability 2^-64 for hash-like children.
 * Nothing here resists an adversary choosing keys to collide, which a
 * simulation does not need. */
static uint64_t node_hash(uint64_t left, uint64_t right) {
    if ((left | right) == 0)
        return 0;
    uint64_t h = sim_mix64(left ^ sim_mix64(right ^ NODE_SEED));
    return h != 0 ? h : 1;
}

static size_t n_leaves(const kv_merkle *t) { return (size_t)1 << t->depth; }

void kv_merkle_init(kv_merkle *t, uint32_t depth) {
    SIM_ASSERT(depth >= 1 && depth <= KV_MERKLE_MAX_DEPTH);
    t->depth = depth;
    t->stale = false;
    t->nodes = NULL;
    t->counts = NULL;
    t->n_keys = 0;
}

void kv_merkle_fini(kv_merkle *t) {
    sim_free(t->nodes);
    sim_free(t->counts);
    t->nodes = NULL;
    t->counts = NULL;
    t->n_keys = 0;
    t->stale = false;
}

void kv_merkle_clear(kv_merkle *t) { kv_merkle_fini(t); }

/* Allocates the arrays at the first key. */
static void ensure(kv_merkle *t) {
    if (t->nodes != NULL)
        return;
    t->nodes = sim_calloc(2 * n_leaves(t), sizeof *t->nodes);
    t->counts = sim_calloc(n_leaves(t), sizeof *t->counts);
}

/* (key, wid) packed in one word is a bijection of the pair, and the mix of
 * it XORed with ts then mixed again is a bijection of ts for a given pair:
 * two versions of one key never collide, and versions of different keys
 * collide with probability 2^-64. */
uint64_t kv_merkle_digest(uint32_t key, int64_t ts, uint32_t wid) {
    if (wid == 0)
        return 0;
    uint64_t kw = ((uint64_t)wid << 32 | key) ^ DIGEST_SEED;
    uint64_t h = sim_mix64((uint64_t)ts ^ sim_mix64(kw));
    return h != 0 ? h : 1;
}

/* Long division of offset * 2^depth by width, one bit (one tree level) at a
 * time, so nothing overflows 64 bits: at each step the remainder r < width
 * doubles, and 2r >= width exactly when r >= width - r. */
uint32_t kv_merkle_leaf_of(const kv_merkle *t, uint64_t lo, uint64_t hi, uint64_t pos) {
    uint64_t offset = pos - lo;
    if (lo == hi)
        return (uint32_t)(offset >> (64 - t->depth));
    uint64_t width = hi - lo;
    SIM_ASSERT(offset < width);
    uint32_t q = 0;
    uint64_t r = offset;
    for (uint32_t i = 0; i < t->depth; i++) {
        if (r >= width - r) {
            r -= width - r;
            q = 2 * q + 1;
        } else {
            r *= 2;
            q = 2 * q;
        }
    }
    return q;
}

/* Rehashes the ancestors of heap slot s (a leaf), bottom up. */
static void rehash_up(uint64_t *nodes, size_t s) {
    for (s >>= 1; s >= 1; s >>= 1)
        nodes[s] = node_hash(nodes[2 * s], nodes[2 * s + 1]);
}

void kv_merkle_update(kv_merkle *t, uint32_t leaf, uint64_t old_digest, uint64_t new_digest) {
    SIM_ASSERT(!t->stale && leaf < n_leaves(t));
    if (old_digest == new_digest)
        return;
    ensure(t);
    if (old_digest == 0) {
        t->counts[leaf]++;
        t->n_keys++;
    } else if (new_digest == 0) {
        SIM_ASSERT(t->counts[leaf] > 0);
        t->counts[leaf]--;
        t->n_keys--;
    }
    size_t s = n_leaves(t) + leaf;
    t->nodes[s] += new_digest - old_digest;
    rehash_up(t->nodes, s);
}

void kv_merkle_load(kv_merkle *t, uint32_t leaf, uint64_t digest) {
    SIM_ASSERT(leaf < n_leaves(t) && digest != 0);
    ensure(t);
    t->counts[leaf]++;
    t->n_keys++;
    t->nodes[n_leaves(t) + leaf] += digest;
    t->stale = true;
}

void kv_merkle_rehash(kv_merkle *t) {
    if (t->nodes != NULL)
        for (size_t s = n_leaves(t) - 1; s >= 1; s--)
            t->nodes[s] = node_hash(t->nodes[2 * s], t->nodes[2 * s + 1]);
    t->stale = false;
}

uint64_t kv_merkle_node(const kv_merkle *t, uint32_t level, uint32_t index) {
    SIM_ASSERT(!t->stale && level <= t->depth && index < ((uint32_t)1 << level));
    return t->nodes != NULL ? t->nodes[((size_t)1 << level) + index] : 0;
}

uint32_t kv_merkle_leaf_count(const kv_merkle *t, uint32_t leaf) {
    SIM_ASSERT(leaf < n_leaves(t));
    return t->counts != NULL ? t->counts[leaf] : 0;
}

size_t kv_merkle_bytes(const kv_merkle *t) {
    return t->nodes != NULL ? n_leaves(t) * (2 * sizeof *t->nodes + sizeof *t->counts) : 0;
}

/* ---- The exchange. ---- */

void kv_merkle_hashes(const kv_merkle *t, uint32_t level, const uint32_t *idx, size_t n,
                      uint64_t *out) {
    for (size_t k = 0; k < n; k++)
        out[k] = kv_merkle_node(t, level, idx[k]);
}

size_t kv_merkle_differ(const kv_merkle *t, uint32_t level, const uint32_t *idx,
                        const uint64_t *hashes, size_t n, uint32_t *out) {
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t i = idx[k];
        if (kv_merkle_node(t, level, i) != hashes[k])
            out[m++] = i;
    }
    return m;
}

/* Backwards, reading idx[k - 1] before writing out[2k - 2] and out[2k - 1],
 * which are never below k - 1: so out may be idx. */
void kv_merkle_children(const uint32_t *idx, size_t n, uint32_t *out) {
    for (size_t k = n; k > 0; k--) {
        uint32_t i = idx[k - 1];
        out[2 * k - 2] = 2 * i;
        out[2 * k - 1] = 2 * i + 1;
    }
}

size_t kv_merkle_children_differ(const kv_merkle *a, const kv_merkle *b, uint32_t level,
                                 const uint32_t *idx, size_t n, uint32_t *out) {
    SIM_ASSERT(a->depth == b->depth && level < a->depth);
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        for (uint32_t c = 2 * idx[k]; c <= 2 * idx[k] + 1; c++)
            if (kv_merkle_node(a, level + 1, c) != kv_merkle_node(b, level + 1, c))
                out[m++] = c;
    }
    return m;
}

size_t kv_merkle_diff(const kv_merkle *a, const kv_merkle *b, uint32_t *leaves_out, size_t cap,
                      kv_merkle_stats *st) {
    SIM_ASSERT(a->depth == b->depth);
    kv_merkle_stats s = {.hashes = 1, .levels = 1, .hash_bytes = kv_merkle_hashes_msg_bytes(1)};
    size_t n = 0;
    if (kv_merkle_root(a) != kv_merkle_root(b)) {
        /* The differing set of one level, and the next: each at most 2^depth
         * entries, and a level's set at most twice the previous one's. */
        uint32_t *cur = sim_malloc(n_leaves(a) * sizeof *cur);
        uint32_t *next = sim_malloc(n_leaves(a) * sizeof *next);
        cur[0] = 0;
        n = 1;
        for (uint32_t level = 0; level < a->depth; level++) {
            s.hashes += 2 * (uint64_t)n;
            s.levels++;
            s.hash_bytes += kv_merkle_hashes_msg_bytes(2 * (uint64_t)n);
            n = kv_merkle_children_differ(a, b, level, cur, n, next);
            uint32_t *tmp = cur;
            cur = next;
            next = tmp;
        }
        s.leaves = n;
        for (size_t k = 0; k < n; k++) {
            s.keys_a += kv_merkle_leaf_count(a, cur[k]);
            s.keys_b += kv_merkle_leaf_count(b, cur[k]);
        }
        if (cap > 0)
            memcpy(leaves_out, cur, (n < cap ? n : cap) * sizeof *cur);
        sim_free(cur);
        sim_free(next);
    }
    if (st != NULL)
        *st = s;
    return n;
}
