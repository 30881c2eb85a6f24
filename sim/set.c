/*
 * set.c - the set of set.h.
 *
 * Invariant: every key sits in the run of occupied slots that starts at its
 * home slot (sim_mix64(key) & mask) and contains no empty slot before it.
 * Removal keeps it by moving later keys of the run back into the hole,
 * unless a key's home lies cyclically after the hole (in (hole, j]), where
 * moving it would put it before its home.
 */
#include "set.h"

#include "sim.h"

#include <string.h>

static uint32_t home(const sim_set *s, uint64_t key) {
    return (uint32_t)sim_mix64(key) & (s->cap - 1);
}

/* The slot holding key, or the empty slot where its probe ends. */
static uint32_t probe(const sim_set *s, uint64_t key) {
    uint32_t i = home(s, key);
    while (s->slots[i] != 0 && s->slots[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

bool sim_set_has(const sim_set *s, uint64_t key) {
    return s->cap > 0 && s->slots[probe(s, key)] == key;
}

static void grow(sim_set *s) {
    uint64_t *old = s->slots;
    uint32_t n = s->cap;
    SIM_ASSERT(n <= UINT32_MAX / 2);
    s->cap = n ? 2 * n : 16;
    s->slots = sim_calloc(s->cap, sizeof *s->slots);
    for (uint32_t i = 0; i < n; i++)
        if (old[i])
            s->slots[probe(s, old[i])] = old[i];
    sim_free(old);
}

bool sim_set_add(sim_set *s, uint64_t key) {
    SIM_ASSERT(key != 0);
    if (sim_set_has(s, key))
        return false;
    if (2 * ((uint64_t)s->n + 1) > s->cap)
        grow(s);
    s->slots[probe(s, key)] = key;
    s->n++;
    return true;
}

bool sim_set_remove(sim_set *s, uint64_t key) {
    if (s->cap == 0 || key == 0)
        return false;
    uint32_t mask = s->cap - 1, i = probe(s, key);
    if (s->slots[i] != key)
        return false;
    for (uint32_t j = (i + 1) & mask; s->slots[j] != 0; j = (j + 1) & mask) {
        /* The key at j moves back unless its home is in (i, j]. */
        if (((j - home(s, s->slots[j])) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
    s->n--;
    return true;
}

void sim_set_clear(sim_set *s) {
    if (s->cap > 0)
        memset(s->slots, 0, (size_t)s->cap * sizeof *s->slots);
    s->n = 0;
}

void sim_set_fini(sim_set *s) {
    sim_free(s->slots);
    *s = (sim_set){0};
}
