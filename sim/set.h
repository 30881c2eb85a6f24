/*
 * set.h - a set of nonzero 64-bit keys: open addressing with linear
 * probing and backward-shift deletion (no tombstones, so a lookup stops at
 * the first empty slot however many keys came and went).
 *
 * For the small membership sets models keep on their hot paths (the mq
 * consumer's dedupe window, the web client's copies being revalidated):
 * add, has and remove are O(1) on average; the table doubles when it
 * would be more than half full and never shrinks.  A zeroed struct is an
 * empty set that allocates nothing.
 *
 * Determinism.  Keys are hashed by sim_mix64, and nothing iterates the
 * table, so no result depends on its layout.
 */
#ifndef DSIM_SET_H
#define DSIM_SET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_set {
    uint64_t *slots; /* 0 = empty */
    uint32_t cap;    /* a power of two, or 0 */
    uint32_t n;
} sim_set;

/* Adds key (nonzero); false if it was there already. */
bool sim_set_add(sim_set *s, uint64_t key);
bool sim_set_has(const sim_set *s, uint64_t key);
/* Removes key; false if it was not there. */
bool sim_set_remove(sim_set *s, uint64_t key);
/* Empties the set, keeping its table. */
void sim_set_clear(sim_set *s);
void sim_set_fini(sim_set *s);

#endif
