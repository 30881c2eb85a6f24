/*
 * merkle_exchange.c - two replicas of one token range, KEYS keys each,
 * differing in DIVERGENT of them; for each tree depth: the cost of building
 * the trees (incrementally, one write at a time, and in bulk), of one
 * anti-entropy exchange (hashes, messages, bytes, wall time of the
 * descent), how many keys the differing leaves make it stream against how
 * many really differ, and the cost of one write's update (the tree alone,
 * and with the key's leaf and digests); and the "full"
 * mode that ships every key's digest instead.  One JSON object per line.
 *
 * The divergent keys: half have a newer version on replica b, a quarter
 * are missing on b, a quarter exist on b only (extra key ids).  Positions
 * are hashed keys over the whole ring, as kv's hash partitioner makes them.
 *
 * usage: merkle_exchange [KEYS] [DIVERGENT] [DEPTH ...]   (default 1000000
 * 1000 10 12 15 18 20)
 */
#include "merkle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t key_pos(uint32_t key) {
    unsigned char b[4] = {(unsigned char)key, (unsigned char)(key >> 8), (unsigned char)(key >> 16),
                          (unsigned char)(key >> 24)};
    return sim_hash64(b, sizeof b, 1);
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef struct replica {
    int64_t *ts;
    uint32_t *wid; /* 0 = absent */
} replica;

int main(int argc, char **argv) {
    long n_arg = argc > 1 ? atol(argv[1]) : 1000000;
    long m_arg = argc > 2 ? atol(argv[2]) : 1000;
    uint32_t depths[16] = {10, 12, 15, 18, 20};
    int n_depths = 5;
    if (argc > 3) {
        n_depths = 0;
        for (int i = 3; i < argc && n_depths < 16; i++)
            depths[n_depths++] = (uint32_t)atoi(argv[i]);
    }
    if (n_arg < 1 || n_arg > 100000000 || m_arg < 0 || m_arg > n_arg) {
        fprintf(stderr, "usage: merkle_exchange [KEYS] [DIVERGENT <= KEYS] [DEPTH (1..20) ...]\n");
        return 2;
    }
    for (int i = 0; i < n_depths; i++)
        if (depths[i] < 1 || depths[i] > KV_MERKLE_MAX_DEPTH) {
            fprintf(stderr, "merkle_exchange: depth %u outside 1..20\n", depths[i]);
            return 2;
        }
    uint32_t n = (uint32_t)n_arg, m = (uint32_t)m_arg;
    uint32_t extra = m / 4; /* keys only on b: ids n .. n + extra - 1 */
    uint32_t total = n + extra;

    /* Contents: every key 0..n-1 on a; b a copy, then the divergence. */
    sim_rng rng;
    sim_rng_seed(&rng, 2026, 12);
    replica a = {calloc(total, sizeof(int64_t)), calloc(total, sizeof(uint32_t))};
    replica b = {calloc(total, sizeof(int64_t)), calloc(total, sizeof(uint32_t))};
    uint64_t *pos = malloc(total * sizeof *pos);
    uint32_t wid = 1;
    for (uint32_t k = 0; k < total; k++) {
        pos[k] = key_pos(k);
        if (k < n) {
            a.ts[k] = b.ts[k] = (int64_t)sim_rng_below(&rng, 1000000000);
            a.wid[k] = b.wid[k] = wid++;
        }
    }
    uint32_t *perm = malloc(n * sizeof *perm);
    for (uint32_t k = 0; k < n; k++)
        perm[k] = k;
    uint32_t n_newer = m - extra - m / 4, n_missing = m / 4;
    for (uint32_t i = 0; i < n_newer + n_missing; i++) {
        uint32_t j = i + sim_rng_below(&rng, n - i), k = perm[j];
        perm[j] = perm[i];
        perm[i] = k;
        if (i < n_newer) {
            b.ts[k] += 1000;
            b.wid[k] = wid++;
        } else {
            b.ts[k] = 0;
            b.wid[k] = 0;
        }
    }
    for (uint32_t k = n; k < total; k++) {
        b.ts[k] = (int64_t)sim_rng_below(&rng, 1000000000);
        b.wid[k] = wid++;
    }
    uint64_t keys_a = 0, keys_b = 0, divergent = 0;
    for (uint32_t k = 0; k < total; k++) {
        keys_a += a.wid[k] != 0;
        keys_b += b.wid[k] != 0;
        divergent += a.wid[k] != b.wid[k];
    }

    /* Full mode: a ships every key's (key, digest); b compares each with its
     * own and answers with the repairs (same in both modes, not counted). */
    uint64_t full_bytes = kv_merkle_keys_msg_bytes(keys_a);
    printf("{\"mode\": \"full\", \"keys\": %u, \"divergent\": %llu, \"messages\": 1, "
           "\"keys_streamed\": %llu, \"bytes\": %llu}\n",
           n, (unsigned long long)divergent, (unsigned long long)keys_a,
           (unsigned long long)full_bytes);

    for (int di = 0; di < n_depths; di++) {
        uint32_t d = depths[di];
        kv_merkle ta, tb;
        kv_merkle_init(&ta, d);
        kv_merkle_init(&tb, d);

        /* a one write at a time (position -> leaf, digest, update), b in bulk. */
        double t0 = now_s();
        for (uint32_t k = 0; k < total; k++)
            if (a.wid[k] != 0)
                kv_merkle_update(&ta, kv_merkle_leaf_of(&ta, 0, 0, pos[k]), 0,
                                 kv_merkle_digest(k, a.ts[k], a.wid[k]));
        double t_insert = now_s() - t0;
        t0 = now_s();
        for (uint32_t k = 0; k < total; k++)
            if (b.wid[k] != 0)
                kv_merkle_load(&tb, kv_merkle_leaf_of(&tb, 0, 0, pos[k]),
                               kv_merkle_digest(k, b.ts[k], b.wid[k]));
        kv_merkle_rehash(&tb);
        double t_bulk = now_s() - t0;

        /* The exchange: median wall time of 11 descents. */
        uint32_t *dirty = malloc(sizeof(uint32_t) << d);
        kv_merkle_stats st;
        double runs[11];
        size_t n_dirty = 0;
        for (int r = 0; r < 11; r++) {
            t0 = now_s();
            n_dirty = kv_merkle_diff(&ta, &tb, dirty, (size_t)1 << d, &st);
            runs[r] = now_s() - t0;
        }
        qsort(runs, 11, sizeof *runs, cmp_double);

        /* Streaming: find the keys of the differing leaves (a pass over the
         * store, as a replica without a per-leaf key index does), check that
         * they hold every divergent key, and count those that differ. */
        unsigned char *is_dirty = calloc((size_t)1 << d, 1);
        for (size_t i = 0; i < n_dirty; i++)
            is_dirty[dirty[i]] = 1;
        t0 = now_s();
        uint64_t streamed = 0, found = 0;
        for (uint32_t k = 0; k < total; k++) {
            if (is_dirty[kv_merkle_leaf_of(&ta, 0, 0, pos[k])]) {
                streamed += a.wid[k] != 0;
                found += a.wid[k] != b.wid[k];
            } else if (a.wid[k] != b.wid[k]) {
                fprintf(stderr, "merkle_exchange: divergent key %u missed at depth %u\n", k, d);
                return 1;
            }
        }
        double t_scan = now_s() - t0;
        if (streamed != st.keys_a || found != divergent) {
            fprintf(stderr, "merkle_exchange: counts disagree at depth %u\n", d);
            return 1;
        }
        uint64_t key_bytes = kv_merkle_keys_msg_bytes(streamed);

        /* One write's cost on a tree of this size: overwrite random keys of
         * a with newer versions.  First the tree alone (kv_merkle_update
         * over a prepared sequence of leaves and digests), then the whole
         * write as kv will do it (position -> leaf, old and new digests,
         * update: the random reads of the key's data dominate). */
        uint32_t n_upd = 1000000;
        uint32_t *upd_leaf = malloc(n_upd * sizeof *upd_leaf);
        uint64_t *upd_old = malloc(n_upd * sizeof *upd_old);
        uint64_t *upd_new = malloc(n_upd * sizeof *upd_new);
        for (uint32_t i = 0; i < n_upd; i++) {
            uint32_t k;
            do
                k = sim_rng_below(&rng, n);
            while (a.wid[k] == 0);
            upd_leaf[i] = kv_merkle_leaf_of(&ta, 0, 0, pos[k]);
            upd_old[i] = kv_merkle_digest(k, a.ts[k], a.wid[k]);
            a.ts[k] += 1;
            upd_new[i] = kv_merkle_digest(k, a.ts[k], a.wid[k]);
        }
        t0 = now_s();
        for (uint32_t i = 0; i < n_upd; i++)
            kv_merkle_update(&ta, upd_leaf[i], upd_old[i], upd_new[i]);
        double t_upd = now_s() - t0;
        free(upd_leaf);
        free(upd_old);
        free(upd_new);
        t0 = now_s();
        for (uint32_t i = 0; i < n_upd; i++) {
            uint32_t k = sim_rng_below(&rng, n);
            if (a.wid[k] == 0)
                continue;
            uint64_t old = kv_merkle_digest(k, a.ts[k], a.wid[k]);
            a.ts[k] += 1;
            kv_merkle_update(&ta, kv_merkle_leaf_of(&ta, 0, 0, pos[k]), old,
                             kv_merkle_digest(k, a.ts[k], a.wid[k]));
        }
        double t_write = now_s() - t0;
        /* Undo on the keys the replicas share, so every depth sees the
         * same divergence (a divergent key stays divergent). */
        for (uint32_t k = 0; k < n; k++)
            if (a.wid[k] != 0 && a.wid[k] == b.wid[k])
                a.ts[k] = b.ts[k];

        printf("{\"mode\": \"merkle\", \"depth\": %u, \"leaves\": %u, \"keys_per_leaf\": %.2f, "
               "\"tree_bytes\": %zu, \"insert_ns\": %.1f, \"bulk_ns_per_key\": %.1f, "
               "\"update_ns\": %.1f, \"write_ns\": %.1f, \"exchange_us\": %.1f, \"hashes\": %llu, "
               "\"messages\": %u, \"hash_bytes\": %llu, \"dirty_leaves\": %zu, "
               "\"keys_streamed\": %llu, \"divergent\": %llu, \"overstreaming\": %.2f, "
               "\"key_bytes\": %llu, \"bytes\": %llu, \"bytes_vs_full\": %.4f, "
               "\"scan_ms\": %.1f}\n",
               d, 1u << d, (double)keys_a / (double)(1u << d), kv_merkle_bytes(&ta),
               t_insert / (double)keys_a * 1e9, t_bulk / (double)keys_b * 1e9,
               t_upd / (double)n_upd * 1e9, t_write / (double)n_upd * 1e9, runs[5] * 1e6,
               (unsigned long long)st.hashes, st.levels + 1, (unsigned long long)st.hash_bytes,
               n_dirty, (unsigned long long)streamed, (unsigned long long)divergent,
               divergent ? (double)streamed / (double)divergent : 0.0,
               (unsigned long long)key_bytes, (unsigned long long)(st.hash_bytes + key_bytes),
               (double)(st.hash_bytes + key_bytes) / (double)full_bytes, t_scan * 1e3);
        free(is_dirty);
        free(dirty);
        kv_merkle_fini(&ta);
        kv_merkle_fini(&tb);
    }
    free(perm);
    free(pos);
    free(a.ts);
    free(a.wid);
    free(b.ts);
    free(b.wid);
    return 0;
}
