/*
 * test_arena.c - the size-class arena (sim/arena.h): class sizes, reuse of
 * freed blocks, large blocks, realloc, and that destroy frees everything;
 * and the large-table allocator beside it (sim_table_calloc in sim.h).
 */
#include "arena.h"
#include "check_util.h"
#include "sim.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

START_TEST(test_classes_are_powers_of_two_and_halves) {
    static const size_t want[][2] = {
        {1, 32},
        {32, 32},
        {33, 48},
        {48, 48},
        {49, 64},
        {64, 64},
        {65, 96},
        {96, 96},
        {97, 128},
        {192, 192},
        {193, 256},
        {48000, 49152},
        {49152, 49152},
        {49153, 65536},
        {786432, 786432},
        {1048576, 1048576},
        {1048577, 1048577},
        {5000000, 5000000},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(sim_arena_block_size(want[i][0]) == want[i][1], "size %zu: %zu, not %zu",
                      want[i][0], sim_arena_block_size(want[i][0]), want[i][1]);
    /* Any size wastes under a third of its block. */
    for (size_t n = 1; n <= 1 << 20; n += 37) {
        size_t b = sim_arena_block_size(n);
        ck_assert(b >= n);
        if (n > 32)
            ck_assert_msg((double)(b - n) < b / 3.0, "size %zu in %zu", n, b);
    }
}
END_TEST

START_TEST(test_blocks_are_distinct_aligned_and_hold_their_bytes) {
    long blocks = sim_live_blocks();
    sim_arena *a = sim_arena_create();
    enum { N = 5000 };
    static unsigned char *p[N];
    static size_t size[N];
    for (int i = 0; i < N; i++) {
        size[i] = 1 + (size_t)(i * 7919) % 20000;
        p[i] = sim_arena_alloc(a, size[i]);
        ck_assert_int_eq((uintptr_t)p[i] % 16, 0);
        memset(p[i], i & 0xff, size[i]);
    }
    /* Nothing overlaps: every block still holds its own byte. */
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < size[i]; k += 97)
            ck_assert_int_eq(p[i][k], i & 0xff);
    for (int i = 0; i < N; i++)
        sim_arena_free(a, p[i], size[i]);
    sim_arena_destroy(a);
    ck_assert_int_eq(sim_live_blocks(), blocks);
}
END_TEST

START_TEST(test_freed_blocks_are_reused_by_their_class) {
    if (!sim_arena_pooled())
        return; /* a sanitizer build: every block is malloc's */
    sim_arena *a = sim_arena_create();
    void *x = sim_arena_alloc(a, 100); /* class 128 */
    void *y = sim_arena_alloc(a, 100);
    ck_assert_ptr_ne(x, y);
    sim_arena_free(a, x, 100);
    ck_assert_ptr_eq(sim_arena_alloc(a, 128), x); /* same class, last in first out */
    sim_arena_free(a, y, 100);
    ck_assert_ptr_ne(sim_arena_alloc(a, 96), y); /* another class */
    ck_assert_uint_eq(sim_arena_bytes(a), 2u << 20);
    /* A large block is malloc's, and counted while it lives. */
    void *big = sim_arena_alloc(a, 3u << 20);
    ck_assert_uint_eq(sim_arena_bytes(a), (2u << 20) + (3u << 20));
    sim_arena_free(a, big, 3u << 20);
    ck_assert_uint_eq(sim_arena_bytes(a), 2u << 20);
    /* A chunk's tail is not lost.  Two 768 KiB blocks leave the first
     * chunk under 512 KiB, so a third starts a second chunk, and the
     * tail (2 MiB - 352 B - 1.5 MiB) becomes free blocks of 384 KiB,
     * 96 KiB, ...: the next 384 KiB request gets the first of them.
     * Chunks are 2 MiB-aligned, so a block's chunk is its address
     * rounded down. */
    const uintptr_t chunk_mask = ~(uintptr_t)((2u << 20) - 1);
    void *h1 = sim_arena_alloc(a, 786432), *h2 = sim_arena_alloc(a, 786432);
    void *h3 = sim_arena_alloc(a, 786432);
    ck_assert_uint_eq(sim_arena_bytes(a), 4u << 20);
    ck_assert((uintptr_t)h1 >> 21 == (uintptr_t)h2 >> 21);
    ck_assert((uintptr_t)h3 >> 21 != (uintptr_t)h1 >> 21);
    void *t = sim_arena_alloc(a, 393216);
    ck_assert((uintptr_t)t >> 21 == (uintptr_t)h1 >> 21);
    ck_assert_uint_eq((uintptr_t)t & ~chunk_mask, 352 + 2 * 786432);
    ck_assert_uint_eq(sim_arena_bytes(a), 4u << 20);
    sim_arena_destroy(a);
}
END_TEST

START_TEST(test_realloc_keeps_the_contents) {
    long blocks = sim_live_blocks();
    sim_arena *a = sim_arena_create();
    uint32_t *v = NULL;
    size_t n = 0;
    for (size_t cap = 4; cap <= 1 << 19; cap *= 2) {
        v = sim_arena_realloc(a, v, n * sizeof *v, cap * sizeof *v);
        for (size_t i = n; i < cap; i++)
            v[i] = (uint32_t)(i * 2654435761u);
        n = cap;
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(v[i], (uint32_t)(i * 2654435761u));
    /* Shrinking keeps the first bytes too. */
    v = sim_arena_realloc(a, v, n * sizeof *v, 10 * sizeof *v);
    for (size_t i = 0; i < 10; i++)
        ck_assert_uint_eq(v[i], (uint32_t)(i * 2654435761u));
    sim_arena_free(a, v, 10 * sizeof *v);
    sim_arena_destroy(a);
    ck_assert_int_eq(sim_live_blocks(), blocks);
}
END_TEST

/* Tables small and large: zeroed, writable to the last byte, 64-byte
 * aligned, and a mapped one (1 MiB and up) at a 2 MiB boundary; each free
 * balances its allocation in the live-block count.  Under AddressSanitizer
 * every table is a malloc block (sim_arena_pooled() says the same of the
 * build), so only the 64-byte alignment is asked of it there. */
START_TEST(test_tables_are_zeroed_aligned_and_freed) {
    static const size_t sizes[][2] = {{1, 1},       {10, 24},      {1000, 192},
                                      {1 << 20, 1}, {100000, 104}, {(3u << 20) + 1, 1}};
    long before = sim_live_blocks();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i][0], size = sizes[i][1], bytes = n * size;
        unsigned char *t = sim_table_calloc(n, size);
        ck_assert_uint_eq((uintptr_t)t % 64, 0);
        if (bytes >= (1u << 20) && sim_arena_pooled())
            ck_assert_uint_eq((uintptr_t)t % (2u << 20), 0);
        for (size_t j = 0; j < bytes; j += 4093)
            ck_assert_uint_eq(t[j], 0);
        ck_assert_uint_eq(t[bytes - 1], 0);
        memset(t, 0xa5, bytes);
        ck_assert_int_eq(sim_live_blocks(), before + 1);
        sim_table_free(t, n, size);
        ck_assert_int_eq(sim_live_blocks(), before);
    }
    sim_table_free(NULL, 5, 5);
    ck_assert_int_eq(sim_live_blocks(), before);
}
END_TEST

/* A reservation (sim_reserve, on default pages and on huge ones) grows in
 * place: what was written stays at its address, new parts read zero,
 * growth in uneven steps (not page multiples) works, and freeing returns
 * the block count.  An impossible size gets NULL, not a crash. */
START_TEST(test_reservations_grow_in_place) {
    long before = sim_live_blocks();
    size_t bytes = (size_t)64 << 20;
    unsigned char *r = sim_reserve(bytes, _i == 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq((uintptr_t)r % (2u << 20), 0);
    ck_assert_int_eq(sim_live_blocks(), before + 1);
    size_t usable = 0;
    static const size_t steps[] = {100, 4096, 5000, (size_t)2 << 20, 12345, (size_t)9 << 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t to = usable + steps[i];
        sim_reserve_grow(r, bytes, usable, to);
        for (size_t j = usable; j < to; j += 997)
            ck_assert_uint_eq(r[j], 0);
        ck_assert_uint_eq(r[to - 1], 0);
        memset(r + usable, (int)(i + 1), to - usable);
        usable = to;
    }
    /* Every byte still holds what its step wrote. */
    size_t at = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        ck_assert_uint_eq(r[at], i + 1);
        at += steps[i];
        ck_assert_uint_eq(r[at - 1], i + 1);
    }
    sim_reserve_grow(r, bytes, usable, bytes); /* all of it */
    r[bytes - 1] = 7;
    sim_reserve_free(r, bytes);
    ck_assert_int_eq(sim_live_blocks(), before);
    ck_assert_ptr_null(sim_reserve(0, false));
    ck_assert_ptr_null(sim_reserve(SIZE_MAX - 5, true));
    sim_reserve_free(NULL, 5);
    ck_assert_int_eq(sim_live_blocks(), before);
}
END_TEST

static Suite *arena_suite(void) {
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_classes_are_powers_of_two_and_halves);
    tcase_add_test(tc, test_blocks_are_distinct_aligned_and_hold_their_bytes);
    tcase_add_test(tc, test_freed_blocks_are_reused_by_their_class);
    tcase_add_test(tc, test_realloc_keeps_the_contents);
    tcase_add_test(tc, test_tables_are_zeroed_aligned_and_freed);
    tcase_add_loop_test(tc, test_reservations_grow_in_place, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(arena_suite()); }
