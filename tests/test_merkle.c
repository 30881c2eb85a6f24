/*
 * test_merkle.c - tests of the kv Merkle tree (models/kv/merkle.c): digests,
 * placement of positions in leaves (with wraparound), order independence,
 * incremental updates against a rebuild from scratch, the descent between
 * two trees and what it costs, against the closed form of validation.md.
 *
 * Random tests run at fixed seeds.  Run one test with CK_RUN_CASE and
 * CK_FORK=no under a debugger.
 */
#include "check_util.h"
#include "merkle.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static sim_rng stream(uint32_t index) {
    sim_rng rng;
    sim_rng_stream(&rng, 20261201, 0, SIM_DOMAIN_MODEL, 0, index);
    return rng;
}

/* A key's position on the ring, as kv_ring_key_pos makes it. */
static uint64_t key_pos(uint32_t key) {
    unsigned char b[4] = {(unsigned char)key, (unsigned char)(key >> 8), (unsigned char)(key >> 16),
                          (unsigned char)(key >> 24)};
    return sim_hash64(b, sizeof b, 7);
}

/* The tree's leaf for a key, over the whole ring. */
static uint32_t leaf_of_key(const kv_merkle *t, uint32_t key) {
    return kv_merkle_leaf_of(t, 0, 0, key_pos(key));
}

static void check_same_tree(const kv_merkle *a, const kv_merkle *b) {
    EXPECT_U(a->depth, ==, b->depth);
    EXPECT_U(kv_merkle_count(a), ==, kv_merkle_count(b));
    for (uint32_t level = 0; level <= a->depth; level++)
        for (uint32_t i = 0; i < (1u << level); i++)
            if (kv_merkle_node(a, level, i) != kv_merkle_node(b, level, i))
                ck_abort_msg("node (%u, %u) differs", level, i);
    for (uint32_t i = 0; i < (1u << a->depth); i++)
        EXPECT_U(kv_merkle_leaf_count(a, i), ==, kv_merkle_leaf_count(b, i));
}

/* ---- Digests and the empty tree. ---- */

START_TEST(test_digest_is_nonzero_for_real_versions_and_zero_for_none) {
    sim_rng rng = stream(1);
    EXPECT_U(kv_merkle_digest(5, 123, 0), ==, 0);
    EXPECT_U(kv_merkle_digest(0, 0, 0), ==, 0);
    EXPECT(kv_merkle_digest(0, 0, 1) != 0);
    EXPECT(kv_merkle_digest(UINT32_MAX, INT64_MIN, UINT32_MAX) != 0);
    for (int i = 0; i < 200000; i++) {
        uint32_t key = sim_rng_u32(&rng), wid = sim_rng_u32(&rng) | 1;
        int64_t ts = (int64_t)sim_rng_u64(&rng);
        uint64_t d = kv_merkle_digest(key, ts, wid);
        EXPECT(d != 0);
        /* Every field matters. */
        EXPECT(d != kv_merkle_digest(key ^ 1, ts, wid));
        EXPECT(d != kv_merkle_digest(key, ts ^ 1, wid));
        EXPECT(d != kv_merkle_digest(key, ts, wid ^ 2));
    }
}
END_TEST

START_TEST(test_digest_is_the_same_on_every_machine) {
    /* Pinned values: little-endian bytes and XXH3, whatever the host, so
     * trees built on different machines (or by different builds) compare. */
    uint64_t d = kv_merkle_digest(1, 2, 3);
    EXPECT_U(d, ==, 0x83fb72de1af84d66ull);
    kv_merkle t;
    kv_merkle_init(&t, 1);
    kv_merkle_update(&t, 0, 0, d);
    EXPECT_U(kv_merkle_node(&t, 1, 0), ==, d);
    EXPECT_U(kv_merkle_root(&t), ==, 0x7299d589f2aed035ull);
    kv_merkle_fini(&t);
}
END_TEST

START_TEST(test_empty_trees_cost_nothing_and_compare_equal_at_the_root) {
    kv_merkle a, b;
    kv_merkle_init(&a, 20);
    kv_merkle_init(&b, 20);
    EXPECT_U(kv_merkle_bytes(&a), ==, 0);
    EXPECT_U(kv_merkle_root(&a), ==, 0);
    EXPECT_U(kv_merkle_node(&a, 20, 12345), ==, 0);
    EXPECT_U(kv_merkle_leaf_count(&a, 12345), ==, 0);
    kv_merkle_stats st;
    EXPECT_U(kv_merkle_diff(&a, &b, NULL, 0, &st), ==, 0);
    EXPECT_U(st.hashes, ==, 1);
    EXPECT_U(st.levels, ==, 1);
    EXPECT_U(st.hash_bytes, ==, kv_merkle_hashes_msg_bytes(1));
    /* A tree emptied by deletes equals one that never held a key. */
    uint64_t d = kv_merkle_digest(9, 9, 9);
    kv_merkle_update(&a, 77, 0, d);
    EXPECT(kv_merkle_root(&a) != 0);
    EXPECT_U(kv_merkle_bytes(&a), ==, (size_t)20 << 20);
    EXPECT_U(kv_merkle_diff(&a, &b, NULL, 0, NULL), ==, 1);
    kv_merkle_update(&a, 77, d, 0);
    EXPECT_U(kv_merkle_root(&a), ==, 0);
    EXPECT_U(kv_merkle_count(&a), ==, 0);
    EXPECT_U(kv_merkle_diff(&a, &b, NULL, 0, NULL), ==, 0);
    kv_merkle_clear(&a);
    EXPECT_U(kv_merkle_bytes(&a), ==, 0);
    EXPECT_U(a.depth, ==, 20);
    kv_merkle_fini(&a);
    kv_merkle_fini(&b);
}
END_TEST

/* ---- Placement. ---- */

START_TEST(test_leaf_of_splits_small_ranges_exactly) {
    kv_merkle t;
    kv_merkle_init(&t, 3);
    /* Width 24 = 8 leaves of 3 positions. */
    for (uint64_t off = 0; off < 24; off++)
        EXPECT_U(kv_merkle_leaf_of(&t, 1000, 1024, 1000 + off), ==, off / 3);
    /* Width 10: leaf = floor(off * 8 / 10). */
    for (uint64_t off = 0; off < 10; off++)
        EXPECT_U(kv_merkle_leaf_of(&t, 50, 60, 50 + off), ==, off * 8 / 10);
    /* Fewer positions than leaves: one position per leaf it reaches. */
    EXPECT_U(kv_merkle_leaf_of(&t, 7, 9, 7), ==, 0);
    EXPECT_U(kv_merkle_leaf_of(&t, 7, 9, 8), ==, 4);
    kv_merkle_fini(&t);
}
END_TEST

START_TEST(test_leaf_of_wraps_past_the_top_of_the_ring) {
    kv_merkle t;
    kv_merkle_init(&t, 3);
    /* [2^64 - 100, 100): 200 positions, 25 per leaf, leaf 4 starts at 0. */
    uint64_t lo = UINT64_MAX - 99, hi = 100;
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, lo), ==, 0);
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, lo + 24), ==, 0);
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, lo + 25), ==, 1);
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, UINT64_MAX), ==, 3);
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, 0), ==, 4);
    EXPECT_U(kv_merkle_leaf_of(&t, lo, hi, 99), ==, 7);
    /* The whole ring (lo == hi), from anywhere: top bits of the offset. */
    EXPECT_U(kv_merkle_leaf_of(&t, 0, 0, 0), ==, 0);
    EXPECT_U(kv_merkle_leaf_of(&t, 0, 0, UINT64_MAX), ==, 7);
    EXPECT_U(kv_merkle_leaf_of(&t, 0, 0, (uint64_t)5 << 61), ==, 5);
    EXPECT_U(kv_merkle_leaf_of(&t, 1000, 1000, 999), ==, 7);
    EXPECT_U(kv_merkle_leaf_of(&t, 1000, 1000, 1000), ==, 0);
    kv_merkle_fini(&t);
}
END_TEST

START_TEST(test_leaf_of_is_exact_at_slice_boundaries_of_huge_ranges) {
    /* [1, 0) holds 2^64 - 1 positions: slice i starts at offset
     * ceil(i (2^64 - 1) / 2^d) = i 2^(64-d) for i > 0. */
    for (uint32_t d = 1; d <= KV_MERKLE_MAX_DEPTH; d++) {
        kv_merkle t;
        kv_merkle_init(&t, d);
        EXPECT_U(kv_merkle_leaf_of(&t, 1, 0, 1), ==, 0);
        EXPECT_U(kv_merkle_leaf_of(&t, 1, 0, UINT64_MAX), ==, (1u << d) - 1);
        for (uint32_t i = 1; i < (1u << d); i += 1 + (i >> 3)) {
            uint64_t start = (uint64_t)i << (64 - d);
            EXPECT_U(kv_merkle_leaf_of(&t, 1, 0, 1 + start), ==, i);
            EXPECT_U(kv_merkle_leaf_of(&t, 1, 0, start), ==, i - 1);
        }
        kv_merkle_fini(&t);
    }
}
END_TEST

START_TEST(test_leaf_of_follows_ring_order_and_fills_leaves_evenly) {
    /* A wrapping range of random width: leaves never decrease with the
     * offset, and hashed positions fill the 2^10 leaves evenly (chi-square
     * below the alpha = 0.001 critical value for 1023 degrees of freedom,
     * 1168.5, with 100 expected per leaf). */
    sim_rng rng = stream(2);
    kv_merkle t;
    kv_merkle_init(&t, 10);
    uint64_t width = ((uint64_t)1 << 50) + sim_rng_u64(&rng) % ((uint64_t)1 << 50);
    uint64_t lo = UINT64_MAX - width / 3, hi = lo + width;
    EXPECT(lo > hi);
    uint32_t prev = 0;
    for (uint64_t k = 0; k < 100000; k++) {
        uint64_t off = width / 100000 * k;
        uint32_t leaf = kv_merkle_leaf_of(&t, lo, hi, lo + off);
        EXPECT_U(leaf, >=, prev);
        prev = leaf;
    }
    EXPECT_U(prev, ==, 1023);
    uint32_t *counts = calloc(1024, sizeof *counts);
    for (int k = 0; k < 102400; k++)
        counts[kv_merkle_leaf_of(&t, lo, hi, lo + sim_rng_below64(&rng, width))]++;
    double chi2 = 0;
    for (int i = 0; i < 1024; i++)
        chi2 += (counts[i] - 100.0) * (counts[i] - 100.0) / 100.0;
    ck_assert_double_lt(chi2, 1168.5);
    free(counts);
    kv_merkle_fini(&t);
}
END_TEST

/* ---- Contents. ---- */

/* A reference replica: the current version of each key (wid 0 = absent). */
typedef struct ref {
    uint32_t n;
    int64_t *ts;
    uint32_t *wid;
} ref;

static void ref_init(ref *r, uint32_t n) {
    r->n = n;
    r->ts = calloc(n, sizeof *r->ts);
    r->wid = calloc(n, sizeof *r->wid);
}

static void ref_fini(ref *r) {
    free(r->ts);
    free(r->wid);
}

static uint64_t ref_digest(const ref *r, uint32_t key) {
    return kv_merkle_digest(key, r->ts[key], r->wid[key]);
}

/* Sets key's version in both the reference and the tree, incrementally. */
static void ref_set(ref *r, kv_merkle *t, uint32_t key, int64_t ts, uint32_t wid) {
    uint64_t old = ref_digest(r, key);
    r->ts[key] = ts;
    r->wid[key] = wid;
    kv_merkle_update(t, leaf_of_key(t, key), old, ref_digest(r, key));
}

/* A tree of the reference's contents built from scratch, in bulk. */
static void ref_rebuild(const ref *r, kv_merkle *t, uint32_t depth) {
    kv_merkle_init(t, depth);
    for (uint32_t key = 0; key < r->n; key++)
        if (r->wid[key] != 0)
            kv_merkle_load(t, leaf_of_key(t, key), ref_digest(r, key));
    kv_merkle_rehash(t);
}

START_TEST(test_same_contents_in_any_order_give_identical_trees) {
    const uint32_t n = 5000;
    sim_rng rng = stream(3);
    ref final;
    ref_init(&final, n);
    for (uint32_t k = 0; k < n; k++)
        if (sim_rng_below(&rng, 4) != 0) {
            final.ts[k] = (int64_t)sim_rng_below(&rng, 1000000);
            final.wid[k] = 1 + sim_rng_below(&rng, 1u << 30);
        }
    uint32_t *order = malloc(n * sizeof *order);
    for (uint32_t k = 0; k < n; k++)
        order[k] = k;
    kv_merkle first;
    for (int round = 0; round < 5; round++) {
        /* Fisher-Yates shuffle; later rounds also write and delete
         * intermediate versions on the way to the final ones. */
        for (uint32_t k = n - 1; k > 0; k--) {
            uint32_t j = sim_rng_below(&rng, k + 1), tmp = order[k];
            order[k] = order[j];
            order[j] = tmp;
        }
        ref cur;
        ref_init(&cur, n);
        kv_merkle t;
        kv_merkle_init(&t, 9);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t key = order[k];
            if (round > 0 && sim_rng_below(&rng, 2) == 0)
                ref_set(&cur, &t, key, 5, 1 + sim_rng_below(&rng, 100));
            if (round > 1 && sim_rng_below(&rng, 3) == 0)
                ref_set(&cur, &t, key, 0, 0);
            ref_set(&cur, &t, key, final.ts[key], final.wid[key]);
        }
        if (round == 0) {
            first = t;
        } else {
            check_same_tree(&first, &t);
            EXPECT(memcmp(first.nodes, t.nodes, (size_t)2 << 9 << 3) == 0);
            kv_merkle_fini(&t);
        }
        ref_fini(&cur);
    }
    kv_merkle rebuilt;
    ref_rebuild(&final, &rebuilt, 9);
    check_same_tree(&first, &rebuilt);
    kv_merkle_fini(&rebuilt);
    kv_merkle_fini(&first);
    free(order);
    ref_fini(&final);
}
END_TEST

/* Invariant (1) and (2) of merkle.h, checked from the definitions. */
static void check_invariants(const ref *r, const kv_merkle *t) {
    uint32_t leaves = 1u << t->depth;
    uint64_t *sum = calloc(leaves, sizeof *sum);
    uint32_t *cnt = calloc(leaves, sizeof *cnt);
    uint64_t total = 0;
    for (uint32_t key = 0; key < r->n; key++)
        if (r->wid[key] != 0) {
            uint32_t leaf = leaf_of_key(t, key);
            sum[leaf] += ref_digest(r, key);
            cnt[leaf]++;
            total++;
        }
    EXPECT_U(kv_merkle_count(t), ==, total);
    for (uint32_t i = 0; i < leaves; i++) {
        EXPECT_U(kv_merkle_node(t, t->depth, i), ==, sum[i]);
        EXPECT_U(kv_merkle_leaf_count(t, i), ==, cnt[i]);
    }
    for (uint32_t level = 0; level < t->depth; level++)
        for (uint32_t i = 0; i < (1u << level); i++) {
            uint64_t l = kv_merkle_node(t, level + 1, 2 * i);
            uint64_t rr = kv_merkle_node(t, level + 1, 2 * i + 1);
            uint64_t h = kv_merkle_node(t, level, i);
            EXPECT((l | rr) != 0 ? h != 0 : h == 0);
        }
    free(sum);
    free(cnt);
}

START_TEST(test_incremental_updates_match_a_rebuild_under_random_operations) {
    /* 60,000 operations per depth on 3000 keys: two thirds writes (an
     * insert or an update), a third deletes (a write when the key is
     * absent); after every 2000 the tree must equal one rebuilt from
     * scratch in bulk, node for node, and at the end it must satisfy the
     * invariants computed from their definitions. */
    const uint32_t depths[] = {1, 4, 8, 12};
    for (size_t di = 0; di < sizeof depths / sizeof *depths; di++) {
        sim_rng rng = stream(4 + (uint32_t)di);
        const uint32_t n = 3000;
        ref r;
        ref_init(&r, n);
        kv_merkle t;
        kv_merkle_init(&t, depths[di]);
        uint32_t next_wid = 1;
        for (int op = 1; op <= 60000; op++) {
            uint32_t key = sim_rng_below(&rng, n), kind = sim_rng_below(&rng, 3);
            if (r.wid[key] == 0 || kind != 2)
                ref_set(&r, &t, key, (int64_t)sim_rng_below(&rng, 1u << 20), next_wid++);
            else
                ref_set(&r, &t, key, 0, 0);
            if (op % 2000 == 0) {
                kv_merkle rebuilt;
                ref_rebuild(&r, &rebuilt, depths[di]);
                check_same_tree(&t, &rebuilt);
                EXPECT_U(kv_merkle_diff(&t, &rebuilt, NULL, 0, NULL), ==, 0);
                kv_merkle_fini(&rebuilt);
            }
        }
        check_invariants(&r, &t);
        kv_merkle_fini(&t);
        ref_fini(&r);
    }
}
END_TEST

/* ---- The descent. ---- */

START_TEST(test_one_differing_key_gives_one_leaf_and_1_plus_2d_hashes) {
    /* Two replicas of 2000 keys that differ in one: a newer version, a key
     * missing on one side, then a key present only on the other. */
    for (uint32_t d = 1; d <= KV_MERKLE_MAX_DEPTH; d++) {
        const uint32_t n = 2000;
        ref ra, rb;
        ref_init(&ra, n + 1);
        ref_init(&rb, n + 1);
        kv_merkle a, b;
        kv_merkle_init(&a, d);
        kv_merkle_init(&b, d);
        for (uint32_t k = 0; k < n; k++) {
            ref_set(&ra, &a, k, 10 + k, 1 + k);
            ref_set(&rb, &b, k, 10 + k, 1 + k);
        }
        uint32_t key = (d * 7919) % n;
        for (int variant = 0; variant < 3; variant++) {
            kv_merkle *changed = variant == 2 ? &a : &b;
            ref *rc = variant == 2 ? &ra : &rb;
            uint32_t k = variant == 2 ? n : key;
            if (variant == 0)
                ref_set(rc, changed, k, 1000000, 999999);
            else if (variant == 1)
                ref_set(rc, changed, k, 0, 0);
            else
                ref_set(rc, changed, k, 5, 5);
            uint32_t leaves[2];
            kv_merkle_stats st;
            EXPECT_U(kv_merkle_diff(&a, &b, leaves, 2, &st), ==, 1);
            EXPECT_U(leaves[0], ==, leaf_of_key(&a, k));
            EXPECT_U(st.leaves, ==, 1);
            EXPECT_U(st.hashes, ==, 1 + 2 * d);
            EXPECT_U(st.levels, ==, d + 1);
            EXPECT_U(st.hash_bytes, ==,
                     kv_merkle_hashes_msg_bytes(1) + d * kv_merkle_hashes_msg_bytes(2));
            EXPECT_U(st.keys_a, ==, kv_merkle_leaf_count(&a, leaves[0]));
            EXPECT_U(st.keys_b, ==, kv_merkle_leaf_count(&b, leaves[0]));
            /* Undo: back in sync, one hash to confirm it. */
            if (variant == 2)
                ref_set(rc, changed, k, 0, 0);
            else
                ref_set(rc, changed, k, 10 + k, 1 + k);
            EXPECT_U(kv_merkle_diff(&a, &b, NULL, 0, &st), ==, 0);
            EXPECT_U(st.hashes, ==, 1);
        }
        kv_merkle_fini(&a);
        kv_merkle_fini(&b);
        ref_fini(&ra);
        ref_fini(&rb);
    }
}
END_TEST

/* Runs the protocol of merkle.h between two trees that see each other only
 * through message contents (indexes and hashes), counting messages and
 * hashes; returns the differing leaves found. */
static size_t exchange_by_messages(const kv_merkle *x, const kv_merkle *y, uint32_t *leaves,
                                   uint64_t *hashes_sent, uint64_t *messages, uint64_t *bytes) {
    size_t cap = (size_t)1 << x->depth;
    uint32_t *idx = malloc(cap * sizeof *idx);
    uint64_t *msg = malloc(cap * sizeof *msg);
    const kv_merkle *sender = x, *receiver = y;
    idx[0] = 0;
    size_t n = 1;
    *hashes_sent = *messages = *bytes = 0;
    for (uint32_t level = 0;; level++) {
        kv_merkle_hashes(sender, level, idx, n, msg); /* the message */
        *hashes_sent += n;
        *messages += 1;
        *bytes += kv_merkle_hashes_msg_bytes(n);
        n = kv_merkle_differ(receiver, level, idx, msg, n, idx);
        if (n == 0 || level == x->depth)
            break;
        kv_merkle_children(idx, n, idx);
        n *= 2;
        const kv_merkle *tmp = sender;
        sender = receiver;
        receiver = tmp;
    }
    memcpy(leaves, idx, n * sizeof *idx);
    free(idx);
    free(msg);
    return n;
}

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

START_TEST(test_exchange_by_messages_matches_the_one_shot_diff) {
    const uint32_t depths[] = {1, 2, 6, 11, 16};
    const uint32_t ms[] = {0, 1, 3, 40, 700};
    for (size_t di = 0; di < 5; di++)
        for (size_t mi = 0; mi < 5; mi++) {
            uint32_t d = depths[di], n = 5000;
            kv_merkle a, b;
            kv_merkle_init(&a, d);
            kv_merkle_init(&b, d);
            for (uint32_t k = 0; k < n; k++) {
                uint64_t dg = kv_merkle_digest(k, 1, 1 + k);
                kv_merkle_update(&a, leaf_of_key(&a, k), 0, dg);
                kv_merkle_update(&b, leaf_of_key(&b, k), 0, dg);
            }
            for (uint32_t i = 0; i < ms[mi]; i++) {
                uint32_t k = n + i; /* present only on b */
                kv_merkle_update(&b, leaf_of_key(&b, k), 0, kv_merkle_digest(k, 2, 1 + k));
            }
            uint32_t *l1 = malloc(sizeof(uint32_t) << d), *l2 = malloc(sizeof(uint32_t) << d);
            kv_merkle_stats st;
            size_t n1 = kv_merkle_diff(&a, &b, l1, (size_t)1 << d, &st);
            uint64_t hashes, messages, bytes;
            size_t n2 = exchange_by_messages(&a, &b, l2, &hashes, &messages, &bytes);
            EXPECT_U(n1, ==, n2);
            EXPECT(memcmp(l1, l2, n1 * sizeof *l1) == 0);
            for (size_t k = 1; k < n1; k++)
                EXPECT_U(l1[k - 1], <, l1[k]);
            EXPECT_U(st.hashes, ==, hashes);
            EXPECT_U(st.levels, ==, messages);
            EXPECT_U(st.hash_bytes, ==, bytes);
            EXPECT_U(st.keys_b - st.keys_a, ==, ms[mi]);
            /* Every extra key's leaf was found, and the cap is honoured. */
            for (uint32_t i = 0; i < ms[mi]; i++) {
                uint32_t leaf = leaf_of_key(&a, n + i);
                EXPECT(bsearch(&leaf, l1, n1, sizeof *l1, cmp_u32) != NULL);
            }
            uint32_t few[2] = {UINT32_MAX, UINT32_MAX};
            if (n1 > 0) {
                EXPECT_U(kv_merkle_diff(&a, &b, few, 1, NULL), ==, n1);
                EXPECT_U(few[0], ==, l1[0]);
                EXPECT_U(few[1], ==, UINT32_MAX);
            }
            free(l1);
            free(l2);
            kv_merkle_fini(&a);
            kv_merkle_fini(&b);
        }
}
END_TEST

START_TEST(test_children_expand_in_order_and_in_place) {
    uint32_t idx[8] = {0, 3, 4, 9};
    uint32_t out[8];
    kv_merkle_children(idx, 4, out);
    const uint32_t want[8] = {0, 1, 6, 7, 8, 9, 18, 19};
    EXPECT(memcmp(out, want, sizeof want) == 0);
    kv_merkle_children(idx, 4, idx);
    EXPECT(memcmp(idx, want, sizeof want) == 0);
}
END_TEST

/* ---- Validation: hashes compared against the closed form. ---- */

/* Expected hashes sent for m differing keys spread uniformly over 2^d
 * leaves: 1 + 2 sum_{j<d} 2^j (1 - (1 - 2^-j)^m) (validation.md), and an
 * upper bound on its standard deviation: a level's count of nodes holding
 * at least one of the keys is an occupancy count with variance
 * n(n-1)(1-2/n)^m + n(1-1/n)^m - n^2(1-1/n)^2m (n = 2^j cells, m balls),
 * and the standard deviation of a sum is at most the sum of the standard
 * deviations, whatever the correlation between levels. */
static double expected_hashes(uint32_t d, uint32_t m, double *sd_bound) {
    double e = 1, sd = 0;
    for (uint32_t j = 0; j < d; j++) {
        double n = ldexp(1, (int)j);
        double q1 = pow(1 - 1 / n, m), q2 = pow(1 - 2 / n, m);
        e += 2 * n * (1 - q1);
        double var = n * (n - 1) * q2 + n * q1 - n * n * q1 * q1;
        sd += 2 * sqrt(var > 0 ? var : 0);
    }
    if (sd_bound != NULL)
        *sd_bound = sd;
    return e;
}

/* Two replicas share `common` keys and differ in m others (a newer
 * version on b for half, a key only on b for the rest); positions are
 * hashed keys, so the m keys fall in independent uniform leaves.  Returns
 * the mean hashes sent over `seeds` seeds and checks the leaves found. */
static double mean_hashes(uint32_t d, uint32_t m, uint32_t common, uint32_t seeds) {
    double total = 0;
    for (uint32_t s = 0; s < seeds; s++) {
        kv_merkle a, b;
        kv_merkle_init(&a, d);
        kv_merkle_init(&b, d);
        uint32_t base = (s + 1) * 10000000u; /* fresh keys for every seed */
        for (uint32_t k = base; k < base + common; k++) {
            uint64_t dg = kv_merkle_digest(k, 1, 7);
            kv_merkle_update(&a, leaf_of_key(&a, k), 0, dg);
            kv_merkle_update(&b, leaf_of_key(&b, k), 0, dg);
        }
        for (uint32_t i = 0; i < m; i++) {
            uint32_t k = i < m / 2 ? base + i : base + common + i;
            kv_merkle_update(&b, leaf_of_key(&b, k), i < m / 2 ? kv_merkle_digest(k, 1, 7) : 0,
                             kv_merkle_digest(k, 2, 8));
        }
        uint32_t *seen = calloc((size_t)1 << d, sizeof *seen);
        for (uint32_t i = 0; i < m; i++) {
            uint32_t k = i < m / 2 ? base + i : base + common + i;
            seen[leaf_of_key(&a, k)] = 1;
        }
        uint64_t distinct = 0;
        for (size_t l = 0; l < ((size_t)1 << d); l++)
            distinct += seen[l];
        kv_merkle_stats st;
        EXPECT_U(kv_merkle_diff(&a, &b, NULL, 0, &st), ==, distinct);
        total += (double)st.hashes;
        free(seen);
        kv_merkle_fini(&a);
        kv_merkle_fini(&b);
    }
    return total / seeds;
}

START_TEST(test_validation_examples_follow_from_the_formula) {
    /* validation.md's two examples, rounded to the nearest hash. */
    EXPECT_U(llround(expected_hashes(15, 100, NULL)), ==, 1694);
    EXPECT_U(llround(expected_hashes(20, 1000, NULL)), ==, 20291);
    /* One key: exactly 1 + 2d. */
    EXPECT_U(llround(expected_hashes(15, 1, NULL)), ==, 31);
}
END_TEST

/* The issue asks for 10 %.  The mean over S seeds has a standard error of
 * at most sd_bound / sqrt(S): 37.5 / sqrt(20) = 8.4 hashes (0.5 %) at
 * d = 15, m = 100 and 122.8 / sqrt(5) = 54.9 (0.3 %) at d = 20, m = 1000,
 * so the test also holds the mean to 5 standard errors, which a correct
 * descent passes at practically any seed and a miscount of even a few
 * percent fails. */
static void check_validation(uint32_t d, uint32_t m, uint32_t seeds) {
    double sd;
    double want = expected_hashes(d, m, &sd);
    double got = mean_hashes(d, m, 2000, seeds);
    double se = sd / sqrt(seeds);
    if (fabs(got - want) > 0.10 * want)
        ck_abort_msg("d=%u m=%u: %.1f hashes, expected %.1f (10 %%)", d, m, got, want);
    if (fabs(got - want) > 5 * se)
        ck_abort_msg("d=%u m=%u: %.1f hashes, expected %.1f +- 5 x %.1f", d, m, got, want, se);
}

START_TEST(test_hashes_compared_d15_m100_match_the_formula) { check_validation(15, 100, 20); }
END_TEST

START_TEST(test_hashes_compared_d20_m1000_match_the_formula) { check_validation(20, 1000, 5); }
END_TEST

START_TEST(test_hashes_compared_across_depths_and_counts_match_the_formula) {
    const uint32_t ds[] = {4, 8, 10, 12};
    const uint32_t ms[] = {1, 10, 50, 300};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            check_validation(ds[i], ms[j], 20);
}
END_TEST

/* ---- Message sizes. ---- */

START_TEST(test_message_sizes_follow_the_table) {
    EXPECT_U(kv_merkle_hashes_msg_bytes(0), ==, 32);
    EXPECT_U(kv_merkle_hashes_msg_bytes(1), ==, 44);
    EXPECT_U(kv_merkle_hashes_msg_bytes(10), ==, 152);
    EXPECT_U(kv_merkle_keys_msg_bytes(1000000), ==, 16000032);
    EXPECT_U(kv_merkle_repair_msg_bytes(2, 300), ==, 32 + 48 + 300);
}
END_TEST

static Suite *merkle_suite(void) {
    Suite *s = suite_create("merkle");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_digest_is_nonzero_for_real_versions_and_zero_for_none);
    tcase_add_test(tc, test_digest_is_the_same_on_every_machine);
    tcase_add_test(tc, test_empty_trees_cost_nothing_and_compare_equal_at_the_root);
    tcase_add_test(tc, test_leaf_of_splits_small_ranges_exactly);
    tcase_add_test(tc, test_leaf_of_wraps_past_the_top_of_the_ring);
    tcase_add_test(tc, test_leaf_of_is_exact_at_slice_boundaries_of_huge_ranges);
    tcase_add_test(tc, test_leaf_of_follows_ring_order_and_fills_leaves_evenly);
    tcase_add_test(tc, test_same_contents_in_any_order_give_identical_trees);
    tcase_add_test(tc, test_incremental_updates_match_a_rebuild_under_random_operations);
    tcase_add_test(tc, test_one_differing_key_gives_one_leaf_and_1_plus_2d_hashes);
    tcase_add_test(tc, test_exchange_by_messages_matches_the_one_shot_diff);
    tcase_add_test(tc, test_children_expand_in_order_and_in_place);
    tcase_add_test(tc, test_validation_examples_follow_from_the_formula);
    tcase_add_test(tc, test_hashes_compared_d15_m100_match_the_formula);
    tcase_add_test(tc, test_hashes_compared_d20_m1000_match_the_formula);
    tcase_add_test(tc, test_hashes_compared_across_depths_and_counts_match_the_formula);
    tcase_add_test(tc, test_message_sizes_follow_the_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(merkle_suite()); }
