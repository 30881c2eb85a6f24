/*
 * test_set.c - the set of nonzero 64-bit keys (sim/set.h): random adds and
 * removes against a plain reference array, with keys chosen to collide
 * (few distinct keys in a small table, so runs are long and wrap around
 * the table's end, which is where backward-shift deletion can go wrong);
 * clearing; and that fini frees the table.
 */
#include "check_util.h"
#include "set.h"
#include "sim.h"

#include <check.h>
#include <stdint.h>

/* 200,000 random operations over 64 keys (up to 64 present: table 128 at
 * most), checked after every one against a flag per key. */
START_TEST(test_random_operations_match_a_reference) {
    long before = sim_live_blocks();
    enum { KEYS = 64 };
    uint64_t keys[KEYS];
    bool in[KEYS] = {0};
    uint32_t n = 0;
    sim_rng rng;
    sim_rng_seed(&rng, 7, 1);
    for (int i = 0; i < KEYS; i++)
        keys[i] = sim_rng_u64(&rng) | 1;
    sim_set s = {0};
    ck_assert(!sim_set_has(&s, keys[0]));
    ck_assert(!sim_set_remove(&s, keys[0]));
    for (int op = 0; op < 200000; op++) {
        uint32_t k = sim_rng_below(&rng, KEYS);
        if (sim_rng_below(&rng, 2) == 0) {
            ck_assert(sim_set_add(&s, keys[k]) == !in[k]);
            n += !in[k];
            in[k] = true;
        } else {
            ck_assert(sim_set_remove(&s, keys[k]) == in[k]);
            n -= in[k];
            in[k] = false;
        }
        ck_assert_uint_eq(s.n, n);
        if (op % 97 == 0)
            for (int j = 0; j < KEYS; j++)
                ck_assert(sim_set_has(&s, keys[j]) == in[j]);
        ck_assert(2 * s.n <= s.cap);
    }
    sim_set_clear(&s);
    ck_assert_uint_eq(s.n, 0);
    for (int j = 0; j < KEYS; j++)
        ck_assert(!sim_set_has(&s, keys[j]));
    ck_assert(sim_set_add(&s, keys[3]));
    ck_assert(sim_set_has(&s, keys[3]));
    sim_set_fini(&s);
    ck_assert_uint_eq(s.cap, 0);
    ck_assert_int_eq(sim_live_blocks(), before);
}
END_TEST

/* Many keys: the table grows through its doublings and keeps them all. */
START_TEST(test_growth_keeps_every_key) {
    sim_set s = {0};
    for (uint64_t k = 1; k <= 100000; k++)
        ck_assert(sim_set_add(&s, k << 32));
    ck_assert_uint_eq(s.n, 100000);
    ck_assert_uint_eq(s.cap, 262144);
    for (uint64_t k = 1; k <= 100000; k += 2)
        ck_assert(sim_set_remove(&s, k << 32));
    for (uint64_t k = 1; k <= 100000; k++)
        ck_assert(sim_set_has(&s, k << 32) == (k % 2 == 0));
    sim_set_fini(&s);
}
END_TEST

static Suite *set_suite(void) {
    Suite *s = suite_create("set");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_random_operations_match_a_reference);
    tcase_add_test(tc, test_growth_keeps_every_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(set_suite()); }
