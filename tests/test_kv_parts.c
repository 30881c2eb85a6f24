/*
 * test_kv_parts.c - tests of the kv model's self-contained parts
 * (models/kv/ring.c, store.c, keys.c): preference lists of the hash ring
 * and the range and modulo partitioners, consistent hashing's balance and
 * the keys it moves when a member joins or leaves, the replica store's LWW
 * rule, growth, deletion and memory per key, and the key choosers'
 * distributions.
 *
 * Every statistical test runs at fixed seeds, so results are reproducible.
 * Bounds are set so a correct implementation passes at practically any seed:
 * means within 4 or 5 standard errors (derived from the law being tested,
 * with the sample size stated next to each), chi-square statistics below
 * their critical value at alpha = 0.001.  Run one test with
 * CK_RUN_CASE/CK_RUN_SUITE and CK_FORK=no under a debugger.
 */
#include "check_util.h"
#include "kv_parts.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Critical chi-square values at alpha = 0.001 by degrees of freedom. */
#define CHI2_CRIT_DF9  27.877
#define CHI2_CRIT_DF10 29.588
#define CHI2_CRIT_DF99 148.230

static sim_rng stream(uint32_t index) {
    sim_rng rng;
    sim_rng_stream(&rng, 20240917, 0, SIM_DOMAIN_MODEL, 0, index);
    return rng;
}

static void hash_ring(kv_ring *r, uint32_t n, uint32_t members, uint32_t active, uint32_t vnodes,
                      uint32_t seed_index) {
    sim_rng rng = stream(seed_index);
    kv_ring_init(r, KV_PART_HASH, n, members, active, vnodes, 1000000, &rng, NULL, 0);
}

/* Checks that list holds `len` distinct active members. */
static void check_list(const kv_ring *r, const uint32_t *list, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) {
        EXPECT_U(list[i], <, r->n_members);
        EXPECT_MSG(r->active[list[i]], "inactive member %u in a list", list[i]);
        for (uint32_t j = 0; j < i; j++)
            EXPECT_U(list[i], !=, list[j]);
    }
}

/* ---- Preference lists. ---- */

START_TEST(test_preflists_have_min_n_distinct_active_members) {
    const kv_partitioner kinds[] = {KV_PART_HASH, KV_PART_RANGE, KV_PART_MODULO};
    const uint32_t ns[] = {1, 3, 5, 16};
    for (size_t k = 0; k < 3; k++) {
        for (size_t t = 0; t < 4; t++) {
            /* 8 members, 6 active at first, then one of those leaves. */
            sim_rng rng = stream(1);
            kv_ring r;
            kv_ring_init(&r, kinds[k], ns[t], 8, 6, 16, 10000, &rng, NULL, 0);
            kv_ring_set_active(&r, 2, false, &rng);
            EXPECT_U(r.n_active, ==, 5);
            uint32_t want = ns[t] < 5 ? ns[t] : 5, list[KV_MAX_N];
            for (uint64_t key = 0; key < 10000; key++) {
                uint32_t len = kv_ring_preflist(&r, key, list);
                EXPECT_U(len, ==, want);
                check_list(&r, list, len);
            }
            kv_ring_fini(&r);
        }
    }
}
END_TEST

/* Ranges partition the keys: a key's list is its range's list, the walk
 * starts with the list, and a hash range's bounds hold the key's position. */
START_TEST(test_ranges_carry_their_keys_lists) {
    const kv_partitioner kinds[] = {KV_PART_HASH, KV_PART_RANGE, KV_PART_MODULO};
    for (size_t k = 0; k < 3; k++) {
        sim_rng rng = stream(2);
        kv_ring r;
        kv_ring_init(&r, kinds[k], 3, 7, 6, 8, 5000, &rng, NULL, 0);
        kv_ring_set_active(&r, 4, false, &rng);
        uint32_t ranges = kv_ring_range_count(&r);
        EXPECT_U(ranges, ==, kinds[k] == KV_PART_HASH ? 5u * 8u : 5u);
        uint32_t *seen = calloc(ranges, sizeof *seen);
        for (uint64_t key = 0; key < 5000; key++) {
            uint32_t a[KV_MAX_N], b[KV_MAX_N], w[KV_MAX_WALK];
            uint32_t na = kv_ring_preflist(&r, key, a);
            uint32_t range = kv_ring_range_of(&r, key);
            EXPECT_U(range, <, ranges);
            seen[range]++;
            uint32_t nb = kv_ring_range_preflist(&r, range, b);
            uint32_t nw = kv_ring_walk(&r, key, KV_MAX_WALK, w);
            EXPECT_U(na, ==, nb);
            EXPECT_U(nw, ==, 5);
            for (uint32_t i = 0; i < na; i++) {
                EXPECT_U(a[i], ==, b[i]);
                EXPECT_U(a[i], ==, w[i]);
            }
            check_list(&r, w, nw);
            uint64_t lo, hi, pos = kv_ring_key_pos(&r, key);
            kv_ring_range_bounds(&r, range, &lo, &hi);
            if (kinds[k] == KV_PART_HASH)
                EXPECT_MSG(pos - lo < hi - lo, "key %llu outside its range",
                           (unsigned long long)key);
            else
                EXPECT_MSG(lo == 0 && hi == 0, "range bounds of a non-hash ring");
        }
        /* Hash arcs are small and many: most of the 40 hold some of the keys. */
        uint32_t used = 0;
        for (uint32_t i = 0; i < ranges; i++)
            used += seen[i] > 0;
        EXPECT_U(used, >=, ranges * 3 / 4);
        free(seen);
        kv_ring_fini(&r);
    }
}
END_TEST

START_TEST(test_preflist_is_empty_without_active_members) {
    const kv_partitioner kinds[] = {KV_PART_HASH, KV_PART_RANGE, KV_PART_MODULO};
    for (size_t k = 0; k < 3; k++) {
        sim_rng rng = stream(2);
        kv_ring r;
        kv_ring_init(&r, kinds[k], 3, 4, 1, 8, 100, &rng, NULL, 0);
        kv_ring_set_active(&r, 0, false, &rng);
        uint32_t list[KV_MAX_N];
        EXPECT_U(kv_ring_preflist(&r, 7, list), ==, 0);
        double shares[4];
        kv_ring_shares(&r, shares);
        for (int m = 0; m < 4; m++)
            EXPECT(shares[m] == 0.0);
        kv_ring_fini(&r);
    }
}
END_TEST

START_TEST(test_hash_preflists_are_stable_and_deterministic_for_a_seed) {
    kv_ring a, b, c;
    hash_ring(&a, 3, 50, 50, 16, 3);
    hash_ring(&b, 3, 50, 50, 16, 3);
    hash_ring(&c, 3, 50, 50, 16, 4);
    EXPECT_U(a.n_tokens, ==, 800);
    EXPECT_U(a.n_tokens, ==, b.n_tokens);
    EXPECT(a.seed == b.seed);
    EXPECT_I(memcmp(a.tokens, b.tokens, a.n_tokens * sizeof *a.tokens), ==, 0);
    int same_as_other_seed = 0;
    for (uint64_t key = 0; key < 10000; key++) {
        uint32_t la[KV_MAX_N], la2[KV_MAX_N], lb[KV_MAX_N], lc[KV_MAX_N];
        EXPECT_U(kv_ring_preflist(&a, key, la), ==, 3);
        EXPECT_U(kv_ring_preflist(&a, key, la2), ==, 3);
        EXPECT_U(kv_ring_preflist(&b, key, lb), ==, 3);
        EXPECT_U(kv_ring_preflist(&c, key, lc), ==, 3);
        EXPECT_I(memcmp(la, la2, sizeof(uint32_t) * 3), ==, 0);
        EXPECT_I(memcmp(la, lb, sizeof(uint32_t) * 3), ==, 0);
        same_as_other_seed += memcmp(la, lc, sizeof(uint32_t) * 3) == 0;
    }
    /* Another seed places everything anew: the same list (in order) for a
     * key has probability about 1 / (50 * 49 * 48), so a handful at most. */
    EXPECT_I(same_as_other_seed, <, 20);
    kv_ring_fini(&a);
    kv_ring_fini(&b);
    kv_ring_fini(&c);
}
END_TEST

/* Initial members and members joining later draw from the same stream in
 * the same order: joining members 5..9 one by one to a ring built with
 * members 0..4 gives the ring built with all ten at once. */
START_TEST(test_hash_joins_in_index_order_give_the_initial_ring) {
    sim_rng ra = stream(17), rb = stream(17);
    kv_ring a, b;
    kv_ring_init(&a, KV_PART_HASH, 3, 10, 10, 32, 1000, &ra, NULL, 0);
    kv_ring_init(&b, KV_PART_HASH, 3, 10, 5, 32, 1000, &rb, NULL, 0);
    for (uint32_t m = 5; m < 10; m++)
        kv_ring_set_active(&b, m, true, &rb);
    EXPECT_U(a.n_tokens, ==, 320);
    EXPECT_U(b.n_tokens, ==, 320);
    EXPECT(memcmp(a.tokens, b.tokens, 320 * sizeof *a.tokens) == 0);
    for (uint64_t key = 0; key < 10000; key++) {
        uint32_t la[KV_MAX_N], lb[KV_MAX_N];
        kv_ring_preflist(&a, key, la);
        kv_ring_preflist(&b, key, lb);
        EXPECT(memcmp(la, lb, 3 * sizeof la[0]) == 0);
    }
    kv_ring_fini(&a);
    kv_ring_fini(&b);
}
END_TEST

/*
 * The lookup and the walk against a plain linear scan of the sorted tokens:
 * the first token at or after the key's position, wrapping, then clockwise
 * skipping owners already listed.  Ten rings (17 members of 8 tokens, one
 * of which leaves: 128 tokens) of 10^4 keys each.
 *
 * Keys past the last token must wrap to the first.  In each ring the gap
 * after the last token is about Exp(mean 1/129) of the ring, so the ten gaps
 * sum to about Gamma(10) / 129: about 775 of the 10^5 keys wrap, and fewer
 * than 150 needs the ten gaps below 0.2 of their mean, probability under
 * 10^-4 (Gamma(10) below 2).
 */
START_TEST(test_hash_preflist_walks_clockwise_from_the_key_position) {
    int wrapped = 0;
    for (uint32_t s = 0; s < 10; s++) {
        kv_ring r;
        hash_ring(&r, 4, 20, 17, 8, 500 + s);
        kv_ring_set_active(&r, 3, false, NULL);
        EXPECT_U(r.n_tokens, ==, 128);
        for (uint32_t i = 1; i < r.n_tokens; i++)
            EXPECT(r.tokens[i - 1].pos < r.tokens[i].pos ||
                   (r.tokens[i - 1].pos == r.tokens[i].pos &&
                    r.tokens[i - 1].owner < r.tokens[i].owner));
        for (uint64_t key = 0; key < 10000; key++) {
            uint64_t pos = kv_ring_key_pos(&r, key);
            uint32_t i = 0;
            while (i < r.n_tokens && r.tokens[i].pos < pos)
                i++;
            wrapped += i == r.n_tokens;
            uint32_t want[KV_MAX_N], got[KV_MAX_N], len = 0;
            for (uint32_t step = 0; step < r.n_tokens && len < 4; step++) {
                uint32_t owner = r.tokens[(i + step) % r.n_tokens].owner;
                bool seen = false;
                for (uint32_t j = 0; j < len; j++)
                    seen = seen || want[j] == owner;
                if (!seen)
                    want[len++] = owner;
            }
            EXPECT_U(kv_ring_preflist(&r, key, got), ==, 4);
            EXPECT_I(memcmp(want, got, sizeof(uint32_t) * 4), ==, 0);
        }
        kv_ring_fini(&r);
    }
    EXPECT_I(wrapped, >, 150);
}
END_TEST

/* ---- Consistent hashing: balance and movement. ---- */

/*
 * With n members of V uniform tokens, the nV tokens cut the ring into nV
 * spacings that are Dirichlet(1, ..., 1), and a member owns V of them, so
 * its share is Beta(V, (n - 1) V): mean 1/n and relative standard deviation
 * sqrt((n - 1) / (nV + 1)).  Shares sum to exactly 1, so the mean share is
 * exactly 1/n and RSD^2 = n * sum((s_i - 1/n)^2) is an unbiased estimate of
 * (n - 1) / (nV + 1) for every seed.  We average RSD^2 over seeds.
 *
 * Its spread: n * sum((s_i - 1/n)^2) / target is close to chi-square with
 * n - 1 degrees of freedom over n - 1, whose relative standard deviation is
 * sqrt(2 / (n - 1)); the Beta's skew adds a little, so the bound below is
 * 5 such standard errors of the mean over the seeds.
 */
static void check_balance(uint32_t n, uint32_t v, int seeds, double expected_rsd) {
    double target = sqrt((double)(n - 1) / ((double)n * v + 1));
    EXPECT_MSG(fabs(target - expected_rsd) < 5e-5, "formula %g vs %g", target, expected_rsd);
    double sum_sq = 0.0;
    double *shares = malloc(n * sizeof *shares);
    for (int s = 0; s < seeds; s++) {
        kv_ring r;
        hash_ring(&r, 3, n, n, v, 1000 + (uint32_t)s);
        kv_ring_shares(&r, shares);
        double total = 0.0, sq = 0.0;
        for (uint32_t m = 0; m < n; m++) {
            total += shares[m];
            sq += (shares[m] - 1.0 / n) * (shares[m] - 1.0 / n);
        }
        EXPECT(fabs(total - 1.0) < 1e-9);
        sum_sq += n * sq; /* RSD^2 = var / mean^2 = (sq / n) * n^2 */
        kv_ring_fini(&r);
    }
    free(shares);
    double mean_sq = sum_sq / seeds;
    double rel_se = sqrt(2.0 / (n - 1)) / sqrt((double)seeds);
    double rsd = sqrt(mean_sq);
    EXPECT_MSG(fabs(mean_sq / (target * target) - 1.0) < 5 * rel_se,
               "n %u V %u: RSD %.4f, expected %.4f (bound on RSD^2 %.1f%%)", n, v, rsd, target,
               500 * rel_se);
}

/* 1000 seeds: RSD^2 within 5 * sqrt(2/9) / sqrt(1000) = 7.5 %, the RSD
 * within about 3.7 %. */
START_TEST(test_hash_balance_n10_v16_matches_beta_rsd) { check_balance(10, 16, 1000, 0.2364); }
END_TEST

/* 100 seeds: RSD^2 within 5 * sqrt(2/99) / sqrt(100) = 7.1 %, the RSD
 * within about 3.6 %. */
START_TEST(test_hash_balance_n100_v100_matches_beta_rsd) { check_balance(100, 100, 100, 0.0995); }
END_TEST

/* The share kv_ring_shares reports is the fraction of keys whose first
 * replica a member is: over K = 10^5 keys each member's count is binomial,
 * within 5 sqrt(K s (1 - s)) of K s. */
START_TEST(test_hash_shares_match_fraction_of_first_replicas) {
    enum { K = 100000, M = 10 };
    kv_ring r;
    hash_ring(&r, 3, M, M, 16, 6);
    double shares[M];
    kv_ring_shares(&r, shares);
    long counts[M] = {0};
    uint32_t list[KV_MAX_N];
    for (uint64_t key = 0; key < K; key++) {
        kv_ring_preflist(&r, key, list);
        counts[list[0]]++;
    }
    for (int m = 0; m < M; m++) {
        double mean = K * shares[m], sd = sqrt(K * shares[m] * (1 - shares[m]));
        EXPECT_MSG(fabs(counts[m] - mean) < 5 * sd, "member %d: %ld keys, share %g", m, counts[m],
                   shares[m]);
    }
    kv_ring_fini(&r);
}
END_TEST

/*
 * Member n joins a ring of n (n = 10, V = 100).  Exactly: every key whose
 * first replica changes now starts at the new member, and every new list is
 * the old one with the new member inserted (the rest keep their order).
 * Statistically, per seed the moved fraction over K keys is the new member's
 * share within 5 binomial standard errors; over S seeds its mean is
 * 1/(n+1) within 4 standard errors, the variance per seed being the share's,
 * Beta(V, nV): mu (1 - mu) / ((n+1) V + 1), plus the binomial mu (1 - mu) / K.
 */
START_TEST(test_hash_join_moves_its_share_of_keys_onto_the_new_member) {
    enum { n = 10, V = 100, K = 20000, S = 40 };
    uint32_t(*before)[3] = malloc(sizeof(uint32_t[3]) * K);
    double sum = 0.0;
    for (int s = 0; s < S; s++) {
        kv_ring r;
        hash_ring(&r, 3, n + 1, n, V, 2000 + (uint32_t)s);
        for (uint64_t key = 0; key < K; key++)
            kv_ring_preflist(&r, key, before[key]);
        sim_rng rng = stream(3000 + (uint32_t)s);
        kv_ring_set_active(&r, n, true, &rng);
        long moved = 0;
        for (uint64_t key = 0; key < K; key++) {
            uint32_t after[KV_MAX_N];
            EXPECT_U(kv_ring_preflist(&r, key, after), ==, 3);
            if (after[0] != before[key][0]) {
                moved++;
                EXPECT_U(after[0], ==, n);
            }
            uint32_t rest[3], len = 0;
            for (int i = 0; i < 3; i++)
                if (after[i] != n)
                    rest[len++] = after[i];
            for (uint32_t i = 0; i < len; i++)
                EXPECT_U(rest[i], ==, before[key][i]);
        }
        double shares[n + 1];
        kv_ring_shares(&r, shares);
        double f = (double)moved / K, p = shares[n];
        EXPECT_MSG(fabs(f - p) < 5 * sqrt(p * (1 - p) / K), "seed %d: moved %g, share %g", s, f, p);
        sum += f;
        kv_ring_fini(&r);
    }
    free(before);
    double mu = 1.0 / (n + 1);
    double var = mu * (1 - mu) / ((n + 1.0) * V + 1) + mu * (1 - mu) / K;
    double mean = sum / S;
    EXPECT_MSG(fabs(mean - mu) < 4 * sqrt(var / S), "moved %.4f, expected %.4f", mean, mu);
}
END_TEST

/* Leaving restores every list exactly (the member's tokens go, the others
 * never moved), and rejoining puts the member back at its old tokens. */
START_TEST(test_hash_leave_restores_lists_and_rejoin_restores_place) {
    enum { K = 100000 };
    kv_ring r;
    hash_ring(&r, 3, 11, 10, 16, 7);
    uint32_t(*orig)[3] = malloc(sizeof(uint32_t[3]) * K);
    uint32_t(*joined)[3] = malloc(sizeof(uint32_t[3]) * K);
    kv_token *tokens = malloc(r.n_tokens * sizeof *tokens);
    memcpy(tokens, r.tokens, r.n_tokens * sizeof *tokens);
    uint32_t n_tokens = r.n_tokens;
    for (uint64_t key = 0; key < K; key++)
        kv_ring_preflist(&r, key, orig[key]);
    sim_rng rng = stream(8);
    kv_ring_set_active(&r, 10, true, &rng);
    for (uint64_t key = 0; key < K; key++)
        kv_ring_preflist(&r, key, joined[key]);
    kv_ring_set_active(&r, 10, false, &rng);
    EXPECT_U(r.n_tokens, ==, n_tokens);
    EXPECT_I(memcmp(r.tokens, tokens, n_tokens * sizeof *tokens), ==, 0);
    for (uint64_t key = 0; key < K; key++) {
        uint32_t list[KV_MAX_N];
        kv_ring_preflist(&r, key, list);
        EXPECT_I(memcmp(list, orig[key], sizeof orig[key]), ==, 0);
    }
    /* Rejoining draws nothing: a stream in any state gives the old place. */
    sim_rng other = stream(9);
    kv_ring_set_active(&r, 10, true, &other);
    for (uint64_t key = 0; key < K; key++) {
        uint32_t list[KV_MAX_N];
        kv_ring_preflist(&r, key, list);
        EXPECT_I(memcmp(list, joined[key], sizeof joined[key]), ==, 0);
    }
    free(tokens);
    free(orig);
    free(joined);
    kv_ring_fini(&r);
}
END_TEST

/* A member leaving from the middle of the index range: its keys go to the
 * next members clockwise, nobody else's first replica changes. */
START_TEST(test_hash_leave_moves_only_the_leavers_keys) {
    enum { K = 50000 };
    kv_ring r;
    hash_ring(&r, 3, 10, 10, 16, 10);
    uint32_t(*orig)[3] = malloc(sizeof(uint32_t[3]) * K);
    for (uint64_t key = 0; key < K; key++)
        kv_ring_preflist(&r, key, orig[key]);
    kv_ring_set_active(&r, 4, false, NULL);
    for (uint64_t key = 0; key < K; key++) {
        uint32_t list[KV_MAX_N];
        kv_ring_preflist(&r, key, list);
        if (orig[key][0] != 4)
            EXPECT_U(list[0], ==, orig[key][0]);
        else
            EXPECT_U(list[0], ==, orig[key][1]);
    }
    free(orig);
    kv_ring_fini(&r);
}
END_TEST

/* Modulo placement moves a key unless pos mod n == pos mod (n + 1), which
 * for uniform positions has probability 1/(n+1): n = 10 moves 10/11 of
 * K = 10^5 keys, within 5 binomial standard errors (0.0045). */
START_TEST(test_modulo_join_moves_n_over_n_plus_1_of_keys) {
    enum { n = 10, K = 100000 };
    sim_rng rng = stream(11);
    kv_ring r;
    kv_ring_init(&r, KV_PART_MODULO, 3, n + 1, n, 0, K, &rng, NULL, 0);
    uint32_t *before = malloc(K * sizeof *before);
    uint32_t list[KV_MAX_N];
    for (uint64_t key = 0; key < K; key++) {
        kv_ring_preflist(&r, key, list);
        EXPECT_U(list[0], ==, kv_ring_key_pos(&r, key) % n);
        EXPECT_U(list[1], ==, (list[0] + 1) % n);
        before[key] = list[0];
    }
    kv_ring_set_active(&r, n, true, &rng);
    long moved = 0;
    for (uint64_t key = 0; key < K; key++) {
        kv_ring_preflist(&r, key, list);
        moved += list[0] != before[key];
    }
    double p = (double)n / (n + 1), f = (double)moved / K;
    EXPECT_MSG(fabs(f - p) < 5 * sqrt(p * (1 - p) / K), "moved %g, expected %g", f, p);
    kv_ring_set_active(&r, n, false, &rng);
    for (uint64_t key = 0; key < K; key++) {
        kv_ring_preflist(&r, key, list);
        EXPECT_U(list[0], ==, before[key]);
    }
    free(before);
    kv_ring_fini(&r);
}
END_TEST

/* Modulo's first replica counts the active list, not member indexes. */
START_TEST(test_modulo_counts_over_active_members_in_order) {
    sim_rng rng = stream(12);
    kv_ring r;
    kv_ring_init(&r, KV_PART_MODULO, 3, 6, 6, 0, 1000, &rng, NULL, 0);
    kv_ring_set_active(&r, 1, false, &rng);
    const uint32_t active[5] = {0, 2, 3, 4, 5};
    uint32_t list[KV_MAX_N];
    for (uint64_t key = 0; key < 1000; key++) {
        uint32_t first = (uint32_t)(kv_ring_key_pos(&r, key) % 5);
        EXPECT_U(kv_ring_preflist(&r, key, list), ==, 3);
        for (uint32_t i = 0; i < 3; i++)
            EXPECT_U(list[i], ==, active[(first + i) % 5]);
    }
    double shares[6];
    kv_ring_shares(&r, shares);
    EXPECT(shares[1] == 0.0 && shares[0] == 0.2 && shares[5] == 0.2);
    kv_ring_fini(&r);
}
END_TEST

/* ---- Range partitioning. ---- */

/* Checks equal ranges over [0, n_keys) key by key: in active-list order,
 * lengths differing by at most one, each list the range's member followed
 * by the next active members. */
static void check_equal_ranges(kv_ring *r, const uint32_t *active, uint32_t n_active) {
    uint64_t len[32] = {0};
    uint32_t pos = 0, list[KV_MAX_N];
    for (uint64_t key = 0; key < r->n_keys; key++) {
        uint32_t got = kv_ring_preflist(r, key, list);
        while (pos < n_active && active[pos] != list[0])
            pos++;
        EXPECT_MSG(pos < n_active, "key %llu: member %u out of order", (unsigned long long)key,
                   list[0]);
        len[pos]++;
        for (uint32_t i = 1; i < got; i++)
            EXPECT_U(list[i], ==, active[(pos + i) % n_active]);
    }
    double shares[32];
    kv_ring_shares(r, shares);
    uint64_t lo = r->n_keys / n_active;
    for (uint32_t i = 0; i < n_active; i++) {
        EXPECT(len[i] == lo || len[i] == lo + 1);
        EXPECT(fabs(shares[active[i]] - (double)len[i] / r->n_keys) < 1e-12);
    }
}

START_TEST(test_range_equal_ranges_cover_keys_in_order) {
    const uint64_t key_counts[] = {1000, 1003, 7, 3};
    for (size_t t = 0; t < 4; t++) {
        sim_rng rng = stream(13);
        kv_ring r;
        kv_ring_init(&r, KV_PART_RANGE, 3, 7, 7, 0, key_counts[t], &rng, NULL, 0);
        const uint32_t all[7] = {0, 1, 2, 3, 4, 5, 6};
        check_equal_ranges(&r, all, 7);
        /* A member leaving re-splits equally over the rest. */
        kv_ring_set_active(&r, 2, false, &rng);
        const uint32_t rest[6] = {0, 1, 3, 4, 5, 6};
        check_equal_ranges(&r, rest, 6);
        kv_ring_fini(&r);
    }
}
END_TEST

#ifdef __SIZEOF_INT128__
/* Near 2^64 keys the boundaries floor(i K / A) still come out exact. */
START_TEST(test_range_boundaries_are_exact_for_huge_key_spaces) {
    const uint64_t k = UINT64_MAX - 12345;
    sim_rng rng = stream(14);
    kv_ring r;
    kv_ring_init(&r, KV_PART_RANGE, 1, 7, 7, 0, k, &rng, NULL, 0);
    uint32_t list[KV_MAX_N];
    for (uint32_t i = 1; i < 7; i++) {
        uint64_t b = (uint64_t)((unsigned __int128)i * k / 7);
        kv_ring_preflist(&r, b - 1, list);
        EXPECT_U(list[0], ==, i - 1);
        kv_ring_preflist(&r, b, list);
        EXPECT_U(list[0], ==, i);
    }
    kv_ring_preflist(&r, k - 1, list);
    EXPECT_U(list[0], ==, 6);
    kv_ring_fini(&r);
}
END_TEST
#endif

START_TEST(test_range_split_points_are_honoured) {
    const uint64_t splits[] = {10, 500, 900};
    sim_rng rng = stream(15);
    kv_ring r;
    kv_ring_init(&r, KV_PART_RANGE, 2, 4, 4, 0, 1000, &rng, splits, 3);
    ck_assert_ptr_ne(r.splits, splits); /* copied */
    uint32_t list[KV_MAX_N];
    for (uint64_t key = 0; key < 1000; key++) {
        uint32_t want = key < 10 ? 0 : key < 500 ? 1 : key < 900 ? 2 : 3;
        EXPECT_U(kv_ring_preflist(&r, key, list), ==, 2);
        EXPECT_U(list[0], ==, want);
        EXPECT_U(list[1], ==, (want + 1) % 4);
    }
    double shares[4];
    kv_ring_shares(&r, shares);
    EXPECT(fabs(shares[0] - 0.01) < 1e-12 && fabs(shares[1] - 0.49) < 1e-12);
    EXPECT(fabs(shares[2] - 0.4) < 1e-12 && fabs(shares[3] - 0.1) < 1e-12);
    kv_ring_fini(&r);
}
END_TEST

/* The order-id example: with the key space split where the existing ids
 * end, every new sequential id falls in the last range, so one member takes
 * all the writes. */
START_TEST(test_range_sequential_ids_land_on_last_range_member) {
    const uint64_t splits[] = {2500, 5000, 7500};
    sim_rng rng = stream(16);
    kv_ring r;
    kv_ring_init(&r, KV_PART_RANGE, 3, 4, 4, 0, 1000000, &rng, splits, 3);
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_SEQUENTIAL, 1000000, 0.99, 0, 0, false);
    long on_last = 0;
    uint32_t list[KV_MAX_N];
    for (int i = 0; i < 7500; i++)
        kv_keys_next(&kc, &rng, true); /* the existing ids */
    for (int i = 0; i < 20000; i++) {
        kv_ring_preflist(&r, kv_keys_next(&kc, &rng, true), list);
        on_last += list[0] == 3;
    }
    EXPECT_I(on_last, ==, 20000);
    kv_keys_fini(&kc);
    kv_ring_fini(&r);
}
END_TEST

/* ---- Storage. ---- */

static kv_version ver(sim_time ts, uint32_t wid, uint32_t size) {
    return (kv_version){.ts = ts, .wid = wid, .size = size};
}

START_TEST(test_store_entry_is_24_bytes) { EXPECT_U(sizeof(kv_store_entry), ==, 24); }
END_TEST

START_TEST(test_store_put_keeps_newer_by_time_then_write_id) {
    long live = sim_live_blocks();
    kv_store st;
    kv_store_init(&st);
    kv_version old;
    EXPECT_U(kv_store_get(&st, 5).wid, ==, 0);
    EXPECT(kv_store_put_lww(&st, 5, ver(100, 7, 10), &old));
    EXPECT_U(old.wid, ==, 0);
    /* Older timestamp loses, whatever its write id. */
    EXPECT(!kv_store_put_lww(&st, 5, ver(99, 9, 20), &old));
    EXPECT_U(old.wid, ==, 7);
    /* Same timestamp: the larger write id wins. */
    EXPECT(!kv_store_put_lww(&st, 5, ver(100, 6, 30), &old));
    EXPECT(kv_store_put_lww(&st, 5, ver(100, 8, 40), &old));
    EXPECT_U(old.wid, ==, 7);
    /* The same version again is not newer. */
    EXPECT(!kv_store_put_lww(&st, 5, ver(100, 8, 40), NULL));
    EXPECT(kv_store_put_lww(&st, 5, ver(101, 1, 50), &old));
    EXPECT(old.ts == 100 && old.wid == 8 && old.size == 40);
    kv_version v = kv_store_get(&st, 5);
    EXPECT(v.ts == 101 && v.wid == 1 && v.size == 50);
    EXPECT_U(kv_store_count(&st), ==, 1);
    /* set overwrites unconditionally, even with an older version. */
    kv_store_set(&st, 5, ver(3, 2, 1));
    EXPECT(kv_store_get(&st, 5).ts == 3);
    EXPECT_U(kv_store_count(&st), ==, 1);
    kv_store_fini(&st);
    EXPECT_I(sim_live_blocks(), ==, live);
}
END_TEST

START_TEST(test_store_grows_and_finds_every_key) {
    enum { K = 1000000 };
    kv_store st;
    kv_store_init(&st);
    /* Sequential ids and a strided pattern, both common in workloads. */
    for (uint32_t k = 0; k < K; k++)
        kv_store_set(&st, k, ver(k, k + 1, k % 1000));
    for (uint32_t k = 0; k < K / 10; k++)
        kv_store_set(&st, 0x40000000u + k * 4096u, ver(1, 1, 1));
    EXPECT_U(kv_store_count(&st), ==, K + K / 10);
    for (uint32_t k = 0; k < K; k++) {
        kv_version v = kv_store_get(&st, k);
        EXPECT(v.ts == k && v.wid == k + 1 && v.size == k % 1000);
    }
    for (uint32_t k = 0; k < K / 10; k++)
        EXPECT_U(kv_store_get(&st, 0x40000000u + k * 4096u).wid, ==, 1);
    EXPECT_U(kv_store_get(&st, K).wid, ==, 0);
    kv_store_fini(&st);
}
END_TEST

/* Deletes keys in random order from a table near 3/4 full, where probe
 * runs are long: after each deletion every remaining key is found and the
 * deleted ones are not, which fails if a shift strands an entry behind an
 * empty slot. */
START_TEST(test_store_delete_keeps_other_keys_findable) {
    enum { K = 3000 };
    kv_store st;
    kv_store_init(&st);
    sim_rng rng = stream(20);
    uint32_t keys[K];
    for (uint32_t i = 0; i < K; i++) {
        do
            keys[i] = sim_rng_u32(&rng) % 100000000u;
        while (kv_store_get(&st, keys[i]).wid != 0);
        kv_store_set(&st, keys[i], ver(1, i + 1, 0));
    }
    EXPECT_U(kv_store_count(&st), ==, K);
    /* Random order: Fisher-Yates. */
    for (uint32_t i = K - 1; i > 0; i--) {
        uint32_t j = sim_rng_below(&rng, i + 1), t = keys[i];
        keys[i] = keys[j];
        keys[j] = t;
    }
    for (uint32_t i = 0; i < K; i++) {
        EXPECT_U(kv_store_get(&st, keys[i]).wid, !=, 0);
        kv_store_set(&st, keys[i], ver(0, 0, 0));
        EXPECT_U(kv_store_count(&st), ==, K - 1 - i);
        EXPECT_U(kv_store_get(&st, keys[i]).wid, ==, 0);
        if (i % 50 == 0 || i > K - 50)
            for (uint32_t j = i + 1; j < K; j++)
                EXPECT_U(kv_store_get(&st, keys[j]).wid, !=, 0);
    }
    EXPECT_U(kv_store_count(&st), ==, 0);
    /* Deleting an absent key, or from an empty table, is harmless. */
    kv_store_set(&st, 42, ver(0, 0, 0));
    kv_store_fini(&st);
    kv_store_set(&st, 42, ver(0, 0, 0));
    EXPECT_U(kv_store_get(&st, 42).wid, ==, 0);
}
END_TEST

/* 24-byte entries, doubled when the next key would pass 3/4 load: from the
 * first doubling on (3 keys or more) a key costs between 32 and 64 bytes.
 * Over one growth cycle of a table of C slots, from 3C/8 + 1 keys (just
 * grown) to 3C/4 (full), 24 C / count bytes per key averages
 * 64 ln 2 = 44.4 bytes (uniform over the counts). */
START_TEST(test_store_memory_per_key_stays_within_48_bytes) {
    kv_store st;
    kv_store_init(&st);
    EXPECT_U(kv_store_bytes(&st), ==, 0);
    /* From 64 keys on (below, the minimum table of 8 slots and the rounding
     * of small capacities dominate) a key costs 32 to 48 bytes: the load
     * stays between 1/2 and 3/4.  Over a growth cycle (between two growths)
     * the mean is 24 x (the mean of cap / count for count from cap/2 to
     * 3 cap/4) = 96 ln 1.5 = 38.92. */
    enum { K = 1 << 20 };
    double sum_per_key = 0.0;
    uint32_t cycles = 0, in_cycle = 0;
    size_t last_bytes = 0;
    double cycle_sum = 0.0;
    for (uint32_t k = 0; k < K; k++) {
        kv_store_set(&st, k * 7919u, ver(1, 1, 1));
        size_t bytes = kv_store_bytes(&st);
        double per_key = (double)bytes / kv_store_count(&st);
        if (k + 1 >= 3)
            EXPECT_MSG(per_key <= 64.0 && per_key >= 32.0, "%u keys: %g bytes each", k + 1,
                       per_key);
        if (k + 1 >= 64)
            EXPECT_MSG(per_key <= 48.0, "%u keys: %g bytes each", k + 1, per_key);
        if (bytes != last_bytes) {
            /* A growth: the cycle that ended counts if it began after one. */
            if (last_bytes != 0 && k + 1 > 100000 && in_cycle > 0) {
                sum_per_key += cycle_sum / in_cycle;
                cycles++;
            }
            cycle_sum = 0.0;
            in_cycle = 0;
            last_bytes = bytes;
        }
        cycle_sum += per_key;
        in_cycle++;
    }
    EXPECT_MSG(cycles >= 2, "%u growth cycles", cycles);
    double mean = sum_per_key / cycles;
    EXPECT_MSG(fabs(mean - 96 * log(1.5)) < 0.1, "mean %g bytes per key", mean);
    kv_store_clear(&st);
    EXPECT_U(kv_store_count(&st), ==, 0);
    EXPECT_U(kv_store_bytes(&st), ==, 0);
    EXPECT_U(kv_store_get(&st, 7919).wid, ==, 0);
    kv_store_fini(&st);
}
END_TEST

/* 10^5 random operations (LWW puts with frequent timestamp ties, forced
 * sets, deletions, lookups, an occasional clear) over 5000 keys against a
 * plain array. */
START_TEST(test_store_matches_array_reference_under_random_operations) {
    enum { KEYS = 5000, OPS = 100000 };
    long blocks = sim_live_blocks();
    kv_version *ref = calloc(KEYS, sizeof *ref);
    kv_store st;
    kv_store_init(&st);
    sim_rng rng = stream(21);
    uint32_t next_wid = 1, count = 0;
    for (int op = 0; op < OPS; op++) {
        /* Keys spread over a wide id range so they collide in the table. */
        uint32_t i = sim_rng_below(&rng, KEYS), key = i * 2654435761u % 0xfffffff0u;
        uint32_t what = sim_rng_below(&rng, 100);
        kv_version v = ver(sim_rng_below(&rng, 20), next_wid++, sim_rng_below(&rng, 1000));
        if (what < 50) {
            kv_version old;
            bool stored = kv_store_put_lww(&st, key, v, &old);
            EXPECT(old.wid == ref[i].wid && old.ts == ref[i].ts && old.size == ref[i].size);
            bool newer = ref[i].wid == 0 || kv_version_newer(v, ref[i]);
            EXPECT(stored == newer);
            if (newer) {
                count += ref[i].wid == 0;
                ref[i] = v;
            }
        } else if (what < 65) {
            count += ref[i].wid == 0;
            kv_store_set(&st, key, v);
            ref[i] = v;
        } else if (what < 85) {
            count -= ref[i].wid != 0;
            kv_store_set(&st, key, ver(0, 0, 0));
            ref[i] = ver(0, 0, 0);
        } else if (what < 99 || op % 1000 != 0) {
            kv_version got = kv_store_get(&st, key);
            EXPECT(got.wid == ref[i].wid &&
                   (got.wid == 0 || (got.ts == ref[i].ts && got.size == ref[i].size)));
        } else {
            kv_store_clear(&st);
            memset(ref, 0, KEYS * sizeof *ref);
            count = 0;
        }
        EXPECT_U(kv_store_count(&st), ==, count);
    }
    for (uint32_t i = 0; i < KEYS; i++)
        EXPECT_U(kv_store_get(&st, i * 2654435761u % 0xfffffff0u).wid, ==, ref[i].wid);
    kv_store_fini(&st);
    free(ref);
    EXPECT_I(sim_live_blocks(), ==, blocks);
}
END_TEST

/* ---- Key choice. ---- */

static double harmonic(uint64_t n, double theta) {
    double h = 0.0;
    for (uint64_t k = n; k >= 1; k--)
        h += pow((double)k, -theta);
    return h;
}

/* Chi-square of counts over bins with probabilities p. */
static double chi_square(const long *counts, const double *p, int bins, long draws) {
    double chi = 0.0;
    for (int b = 0; b < bins; b++) {
        double e = p[b] * (double)draws;
        chi += ((double)counts[b] - e) * ((double)counts[b] - e) / e;
    }
    return chi;
}

/* Zipf(n, theta) probabilities of ranks 1..10 and, if n > 10, the rest. */
static int zipf_bins(uint64_t n, double theta, double *p) {
    double h = harmonic(n, theta), head = 0.0;
    int bins = 0;
    for (uint64_t k = 1; k <= 10 && k <= n; k++, bins++)
        head += p[bins] = pow((double)k, -theta) / h;
    if (n > 10)
        p[bins++] = 1.0 - head;
    return bins;
}

/* 10^5 draws over 100 keys (1000 expected per key): chi-square, 99 df. */
START_TEST(test_keys_uniform_passes_chi_square) {
    enum { KEYS = 100, DRAWS = 100000 };
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_UNIFORM, KEYS, 0, 0, 0, false);
    sim_rng rng = stream(30);
    long counts[KEYS] = {0};
    double p[KEYS];
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = kv_keys_next(&kc, &rng, i % 2 == 0);
        EXPECT_U(k, <, KEYS);
        counts[k]++;
    }
    for (int k = 0; k < KEYS; k++)
        p[k] = 1.0 / KEYS;
    double chi = chi_square(counts, p, KEYS, DRAWS);
    EXPECT_MSG(chi < CHI2_CRIT_DF99, "chi-square %g", chi);
    kv_keys_fini(&kc);
}
END_TEST

/* Unscrambled, rank r is key r - 1: 10^5 draws at theta = 0.99 against
 * the exact pmf, for n = 10 (ranks 1..10, 9 df) and n = 1000 (ranks 1..10
 * and the rest, 10 df). */
START_TEST(test_keys_zipf_rank_frequencies_match_exact_pmf) {
    enum { DRAWS = 100000 };
    const uint64_t ns[] = {10, 1000};
    for (int t = 0; t < 2; t++) {
        kv_keychooser kc;
        kv_keys_init(&kc, KV_POP_ZIPF, ns[t], 0.99, 0, 0, false);
        sim_rng rng = stream(31 + (uint32_t)t);
        long counts[11] = {0};
        for (int i = 0; i < DRAWS; i++) {
            uint64_t k = kv_keys_next(&kc, &rng, false);
            EXPECT_U(k, <, ns[t]);
            counts[k < 10 ? k : 10]++;
        }
        double p[11];
        int bins = zipf_bins(ns[t], 0.99, p);
        double chi = chi_square(counts, p, bins, DRAWS);
        EXPECT_MSG(chi < (bins == 10 ? CHI2_CRIT_DF9 : CHI2_CRIT_DF10), "n %llu: chi %g",
                   (unsigned long long)ns[t], chi);
        kv_keys_fini(&kc);
    }
}
END_TEST

/*
 * Scrambling only relabels ranks: the scrambled chooser consumes the stream
 * exactly as the plain one, so drawing both from copies of one stream pairs
 * each rank (plain key + 1) with its scrambled key.  The pairing must be a
 * function (a rank always maps to the same key) and one to one.  At theta
 * 0.01 the pmf is nearly flat, every rank's probability at least
 * n^-0.01 / H >= 0.93 / n, so 40 n draws miss a given rank with probability
 * below e^-37: every rank is seen, and the map is checked on all of [0, n).
 */
static void check_scramble_bijection(uint64_t n, uint32_t seed_index) {
    kv_keychooser plain, scrambled;
    kv_keys_init(&plain, KV_POP_ZIPF, n, 0.01, 0, 0, false);
    kv_keys_init(&scrambled, KV_POP_ZIPF, n, 0.01, 0, 0, true);
    uint64_t *map = malloc(n * sizeof *map), *inverse = malloc(n * sizeof *inverse);
    for (uint64_t i = 0; i < n; i++)
        map[i] = inverse[i] = UINT64_MAX;
    sim_rng a = stream(seed_index), b = a;
    uint64_t seen = 0, fixed = 0;
    for (uint64_t i = 0; i < 40 * n; i++) {
        uint64_t r = kv_keys_next(&plain, &a, false), k = kv_keys_next(&scrambled, &b, false);
        EXPECT_U(k, <, n);
        if (map[r] == UINT64_MAX) {
            EXPECT_MSG(inverse[k] == UINT64_MAX, "n %llu: keys %llu and %llu both map to %llu",
                       (unsigned long long)n, (unsigned long long)r, (unsigned long long)inverse[k],
                       (unsigned long long)k);
            map[r] = k;
            inverse[k] = r;
            seen++;
            fixed += r == k;
        }
        EXPECT_U(map[r], ==, k);
    }
    EXPECT_U(seen, ==, n);
    /* A scramble that leaves most ranks in place is no scramble. */
    if (n >= 1000)
        EXPECT_U(fixed, <, n / 100);
    free(map);
    free(inverse);
    kv_keys_fini(&plain);
    kv_keys_fini(&scrambled);
}

START_TEST(test_keys_scramble_is_a_bijection_for_small_n) {
    const uint64_t ns[] = {1, 2, 3, 5, 1000, 1023, 1024, 1025, 4097};
    for (uint32_t t = 0; t < sizeof ns / sizeof ns[0]; t++)
        check_scramble_bijection(ns[t], 40 + t);
}
END_TEST

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The point of scrambling is that popular keys are spread over the key
 * space (so a range partitioner does not get all of them).  Over 10^7 and
 * 10^9 keys, the distinct keys of the ranks drawn in 2 10^4 Zipf(0.99)
 * draws (several thousand, including all the top ones) fall evenly into 10
 * equal slices of the key space: chi-square, 9 df, as for a uniform sample
 * without replacement (slightly less spread than with).  Without the
 * scramble they would all be in the first slice.
 */
START_TEST(test_keys_scramble_spreads_popular_ranks_over_key_space) {
    const uint64_t ns[] = {10000000, 1000000000};
    for (int t = 0; t < 2; t++) {
        uint64_t n = ns[t];
        kv_keychooser kc;
        kv_keys_init(&kc, KV_POP_ZIPF, n, 0.99, 0, 0, true);
        ck_assert_ptr_null(kc.recent);
        sim_rng rng = stream(50 + (uint32_t)t);
        enum { DRAWS = 20000 };
        uint64_t *keys = malloc(DRAWS * sizeof *keys);
        for (int i = 0; i < DRAWS; i++) {
            keys[i] = kv_keys_next(&kc, &rng, false);
            EXPECT_U(keys[i], <, n);
        }
        /* Distinct keys: sort, then count each once. */
        qsort(keys, DRAWS, sizeof *keys, u64_cmp);
        long counts[10] = {0}, distinct = 0;
        for (int i = 0; i < DRAWS; i++)
            if (i == 0 || keys[i] != keys[i - 1]) {
                counts[keys[i] / (n / 10)]++;
                distinct++;
            }
        double p[10];
        for (int b = 0; b < 10; b++)
            p[b] = 0.1;
        double chi = chi_square(counts, p, 10, distinct);
        EXPECT_MSG(chi < CHI2_CRIT_DF9, "n %llu: %ld distinct, chi-square %g",
                   (unsigned long long)n, distinct, chi);
        free(keys);
        kv_keys_fini(&kc);
    }
}
END_TEST

/* hot_ops = 0.9 of 10^5 operations on the first hot_keys = 0.1 of 1000
 * keys: the fraction within 5 binomial standard errors (0.0047), and keys
 * uniform within each set (chi-square over 10 slices of each, 9 df). */
START_TEST(test_keys_hotspot_puts_hot_ops_on_hot_keys) {
    enum { KEYS = 1000, DRAWS = 100000 };
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_HOTSPOT, KEYS, 0, 0.9, 0.1, false);
    sim_rng rng = stream(60);
    long hot = 0, hot_slices[10] = {0}, cold_slices[10] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = kv_keys_next(&kc, &rng, i % 3 == 0);
        EXPECT_U(k, <, KEYS);
        if (k < 100) {
            hot++;
            hot_slices[k / 10]++;
        } else {
            cold_slices[(k - 100) / 90]++;
        }
    }
    double f = (double)hot / DRAWS;
    EXPECT_MSG(fabs(f - 0.9) < 5 * sqrt(0.9 * 0.1 / DRAWS), "hot fraction %g", f);
    double p[10];
    for (int b = 0; b < 10; b++)
        p[b] = 0.1;
    EXPECT(chi_square(hot_slices, p, 10, hot) < CHI2_CRIT_DF9);
    EXPECT(chi_square(cold_slices, p, 10, DRAWS - hot) < CHI2_CRIT_DF9);
    kv_keys_fini(&kc);
}
END_TEST

/* Finds key among the last `window` writes; returns its recency rank
 * (1 = last) or 0. */
static uint64_t recency(const uint64_t *written, uint64_t n_written, uint64_t window,
                        uint64_t key) {
    for (uint64_t r = 1; r <= window && r <= n_written; r++)
        if (written[n_written - r] == key)
            return r;
    return 0;
}

/*
 * Before any write, latest reads are uniform (10^4 reads over 10 slices of
 * the key space, 9 df).  After 100 writes of distinct keys (uniform over
 * 2^40 keys, so a repeat has probability below 10^-8), 10^5 reads have
 * recency ranks distributed as Zipf(100, 0.99): ranks 1..10 and the rest,
 * 10 df.
 */
START_TEST(test_keys_latest_reads_favour_recent_writes) {
    const uint64_t n = UINT64_C(1) << 40;
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_LATEST, n, 0.99, 0, 0, false);
    sim_rng rng = stream(70);
    long slices[11] = {0};
    double p[11];
    for (int i = 0; i < 10000; i++)
        slices[kv_keys_next(&kc, &rng, false) / (n / 10)]++;
    for (int b = 0; b < 10; b++)
        p[b] = 0.1;
    EXPECT(chi_square(slices, p, 10, 10000) < CHI2_CRIT_DF9);

    uint64_t written[100];
    for (int i = 0; i < 100; i++)
        written[i] = kv_keys_next(&kc, &rng, true);
    long counts[11] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t r = recency(written, 100, 100, kv_keys_next(&kc, &rng, false));
        EXPECT_U(r, !=, 0);
        counts[r <= 10 ? r - 1 : 10]++;
    }
    int bins = zipf_bins(100, 0.99, p);
    double chi = chi_square(counts, p, bins, 100000);
    EXPECT_MSG(chi < CHI2_CRIT_DF10, "chi-square %g", chi);
    kv_keys_fini(&kc);
}
END_TEST

typedef struct written_key {
    uint64_t key;
    uint32_t index; /* order of the write */
} written_key;

static int written_key_cmp(const void *a, const void *b) {
    const written_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* After more than KV_RECENT writes the window slides: 2 10^4 reads return
 * only keys among the last KV_RECENT writes, and the older half of the
 * window is still reached.  At theta 0.5, ranks beyond half the window have
 * probability 1 - sqrt(1/2) = 0.293 (to O(window^-1/2)), so about 5860 of
 * the reads, binomial standard deviation 64; the bound 5000 is far below. */
START_TEST(test_keys_latest_window_keeps_last_kv_recent_writes) {
    enum { WRITES = KV_RECENT + 5000 };
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_LATEST, UINT64_C(1) << 40, 0.5, 0, 0, false);
    sim_rng rng = stream(71);
    written_key *window = malloc(KV_RECENT * sizeof *window);
    for (uint32_t i = 0; i < WRITES; i++) {
        uint64_t k = kv_keys_next(&kc, &rng, true);
        if (i >= WRITES - KV_RECENT)
            window[i - (WRITES - KV_RECENT)] = (written_key){k, i};
    }
    EXPECT_U(kc.n_recent, ==, WRITES);
    qsort(window, KV_RECENT, sizeof *window, written_key_cmp);
    long older_half = 0;
    for (int i = 0; i < 20000; i++) {
        written_key probe = {kv_keys_next(&kc, &rng, false), 0};
        uint32_t lo = 0, hi = KV_RECENT;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (written_key_cmp(&window[mid], &probe) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        EXPECT_MSG(lo < KV_RECENT && window[lo].key == probe.key, "read %d outside the window", i);
        older_half += WRITES - window[lo].index > KV_RECENT / 2;
    }
    EXPECT_I(older_half, >, 5000);
    free(window);
    kv_keys_fini(&kc);
}
END_TEST

/* Sequential writes count 0, 1, 2, ... and wrap at n_keys; reads go back
 * from the latest id, the r-th most recent with probability proportional to
 * r^-theta: 10^5 reads after ids 0..9 against Zipf(10, 0.99), 9 df. */
START_TEST(test_keys_sequential_counts_up_wraps_and_reads_recent_ids) {
    kv_keychooser kc;
    kv_keys_init(&kc, KV_POP_SEQUENTIAL, 5, 0.99, 0, 0, false);
    ck_assert_ptr_null(kc.recent);
    sim_rng rng = stream(80);
    const uint64_t want[] = {0, 1, 2, 3, 4, 0, 1, 2};
    for (int i = 0; i < 8; i++)
        EXPECT_U(kv_keys_next(&kc, &rng, true), ==, want[i]);
    /* Last writes 2, 1, 0, 4, 3, 2, ...: reads stay in [0, 5) and the
     * latest id is the most read. */
    long counts5[5] = {0};
    for (int i = 0; i < 10000; i++) {
        uint64_t k = kv_keys_next(&kc, &rng, false);
        EXPECT_U(k, <, 5);
        counts5[k]++;
    }
    for (int k = 0; k < 5; k++)
        if (k != 2)
            EXPECT_I(counts5[2], >, counts5[k]);
    kv_keys_fini(&kc);

    kv_keys_init(&kc, KV_POP_SEQUENTIAL, 1000000, 0.99, 0, 0, false);
    for (uint64_t i = 0; i < 10; i++)
        EXPECT_U(kv_keys_next(&kc, &rng, true), ==, i);
    long counts[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t k = kv_keys_next(&kc, &rng, false);
        EXPECT_U(k, <, 10);
        counts[9 - k]++; /* recency rank 1 is id 9 */
    }
    double p[11];
    int bins = zipf_bins(10, 0.99, p);
    double chi = chi_square(counts, p, bins, 100000);
    EXPECT_MSG(chi < CHI2_CRIT_DF9, "chi-square %g", chi);
    kv_keys_fini(&kc);
}
END_TEST

START_TEST(test_keys_are_deterministic_for_a_stream) {
    const kv_pop_kind kinds[] = {KV_POP_UNIFORM, KV_POP_ZIPF, KV_POP_HOTSPOT, KV_POP_LATEST,
                                 KV_POP_SEQUENTIAL};
    for (int t = 0; t < 5; t++) {
        kv_keychooser a, b;
        kv_keys_init(&a, kinds[t], 1000000, 0.99, 0.8, 0.2, true);
        kv_keys_init(&b, kinds[t], 1000000, 0.99, 0.8, 0.2, true);
        sim_rng ra = stream(90), rb = stream(90);
        for (int i = 0; i < 10000; i++)
            EXPECT_U(kv_keys_next(&a, &ra, i % 4 == 0), ==, kv_keys_next(&b, &rb, i % 4 == 0));
        kv_keys_fini(&a);
        kv_keys_fini(&b);
    }
}
END_TEST

static Suite *kv_parts_suite(void) {
    Suite *s = suite_create("kv_parts");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_preflists_have_min_n_distinct_active_members);
    tcase_add_test(tc, test_preflist_is_empty_without_active_members);
    tcase_add_test(tc, test_ranges_carry_their_keys_lists);
    tcase_add_test(tc, test_hash_preflists_are_stable_and_deterministic_for_a_seed);
    tcase_add_test(tc, test_hash_joins_in_index_order_give_the_initial_ring);
    tcase_add_test(tc, test_hash_preflist_walks_clockwise_from_the_key_position);
    tcase_add_test(tc, test_hash_balance_n10_v16_matches_beta_rsd);
    tcase_add_test(tc, test_hash_balance_n100_v100_matches_beta_rsd);
    tcase_add_test(tc, test_hash_shares_match_fraction_of_first_replicas);
    tcase_add_test(tc, test_hash_join_moves_its_share_of_keys_onto_the_new_member);
    tcase_add_test(tc, test_hash_leave_restores_lists_and_rejoin_restores_place);
    tcase_add_test(tc, test_hash_leave_moves_only_the_leavers_keys);
    tcase_add_test(tc, test_modulo_join_moves_n_over_n_plus_1_of_keys);
    tcase_add_test(tc, test_modulo_counts_over_active_members_in_order);
    tcase_add_test(tc, test_range_equal_ranges_cover_keys_in_order);
#ifdef __SIZEOF_INT128__
    tcase_add_test(tc, test_range_boundaries_are_exact_for_huge_key_spaces);
#endif
    tcase_add_test(tc, test_range_split_points_are_honoured);
    tcase_add_test(tc, test_range_sequential_ids_land_on_last_range_member);
    tcase_add_test(tc, test_store_entry_is_24_bytes);
    tcase_add_test(tc, test_store_put_keeps_newer_by_time_then_write_id);
    tcase_add_test(tc, test_store_grows_and_finds_every_key);
    tcase_add_test(tc, test_store_delete_keeps_other_keys_findable);
    tcase_add_test(tc, test_store_memory_per_key_stays_within_48_bytes);
    tcase_add_test(tc, test_store_matches_array_reference_under_random_operations);
    tcase_add_test(tc, test_keys_uniform_passes_chi_square);
    tcase_add_test(tc, test_keys_zipf_rank_frequencies_match_exact_pmf);
    tcase_add_test(tc, test_keys_scramble_is_a_bijection_for_small_n);
    tcase_add_test(tc, test_keys_scramble_spreads_popular_ranks_over_key_space);
    tcase_add_test(tc, test_keys_hotspot_puts_hot_ops_on_hot_keys);
    tcase_add_test(tc, test_keys_latest_reads_favour_recent_writes);
    tcase_add_test(tc, test_keys_latest_window_keeps_last_kv_recent_writes);
    tcase_add_test(tc, test_keys_sequential_counts_up_wraps_and_reads_recent_ids);
    tcase_add_test(tc, test_keys_are_deterministic_for_a_stream);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(kv_parts_suite()); }
