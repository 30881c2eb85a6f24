/*
 * store.c - one replica's key -> version map: open addressing with linear
 * probing over 24-byte entries, growing by half at 3/4 load, and deletion by
 * backward shift, so there are no tombstones and a lookup stops at the first
 * empty slot.  Replicas of a big run hold tens of millions of key versions
 * between them, so the table is flat (no per-key allocation).  Growing by
 * half (rather than doubling) keeps the load between 1/2 and 3/4, so a
 * stored key costs 32 to 48 bytes (39 on average over a growth cycle:
 * 96 ln 1.5); a key's home slot is its mixed hash scaled to the capacity
 * (Lemire's multiply-shift), so the capacity need not be a power of two.
 *
 * A caution that comes with homes from the high bits: a table filled with
 * keys in the order of their hash (another table's slot order) puts them
 * all in its first slots and probes quadratically; callers that copy a
 * table's keys into another sort them by key first (antientropy.c's range_keys).
 *
 * Invariants:
 *  (1) cap is 0 or >= MIN_CAP, and count * 4 <= cap * 3.
 *  (2) every stored key lies on the probe run that starts at its home slot
 *      (home(key)): no empty slot between home and the key, cyclically.
 * Backward-shift deletion keeps (2) by moving later entries of the run into
 * the hole whenever their home is not strictly after the hole.
 */
#include "kv_parts.h"

#include <string.h>

#define EMPTY   UINT32_MAX
#define MIN_CAP 8u

/* Keys are often sequential ids; mixing (Wellons' lowbias32, a bijection on
 * 32 bits) spreads runs of them over the table instead of filling one
 * stretch of it, which linear probing would make slow. */
static uint32_t mix(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Marks every slot empty: only the key matters in an empty slot. */
static void mark_empty(kv_store_entry *slots, uint32_t cap) {
    memset(slots, 0xff, (size_t)cap * sizeof *slots);
}

void kv_store_init(kv_store *st) {
    st->slots = NULL;
    st->cap = 0;
    st->count = 0;
}

void kv_store_fini(kv_store *st) {
    sim_free(st->slots);
    kv_store_init(st);
}

/* Releases the table too: a replica that loses its data (a crash without
 * durable storage) should give its memory back. */
void kv_store_clear(kv_store *st) { kv_store_fini(st); }

/* A key's home slot: its mixed hash scaled to [0, cap). */
static uint32_t home(const kv_store *st, uint32_t key) {
    return (uint32_t)(((uint64_t)mix(key) * st->cap) >> 32);
}

static uint32_t next(const kv_store *st, uint32_t i) { return i + 1 == st->cap ? 0 : i + 1; }

/* Slots from a to b going forward (cyclically). */
static uint32_t dist(const kv_store *st, uint32_t a, uint32_t b) {
    return b >= a ? b - a : b + st->cap - a;
}

/* The slot holding key, or the empty slot where it would go.  cap > 0. */
static uint32_t find(const kv_store *st, uint32_t key) {
    uint32_t i = home(st, key);
    while (st->slots[i].key != key && st->slots[i].key != EMPTY)
        i = next(st, i);
    return i;
}

static void grow(kv_store *st) {
    uint32_t old_cap = st->cap;
    kv_store_entry *old = st->slots;
    SIM_ASSERT(old_cap <= UINT32_MAX / 2);
    st->cap = old_cap == 0 ? MIN_CAP : old_cap + old_cap / 2;
    st->slots = sim_malloc((size_t)st->cap * sizeof *st->slots);
    mark_empty(st->slots, st->cap);
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i].key != EMPTY)
            st->slots[find(st, old[i].key)] = old[i];
    sim_free(old);
}

static kv_version version_of(const kv_store_entry *e) {
    return (kv_version){.ts = e->ts, .wid = e->wid, .size = e->size};
}

kv_version kv_store_get(const kv_store *st, uint32_t key) {
    SIM_ASSERT(key != EMPTY);
    if (st->count == 0)
        return (kv_version){0};
    const kv_store_entry *e = &st->slots[find(st, key)];
    return e->key == key ? version_of(e) : (kv_version){0};
}

/* The slot for key, inserting an entry (to be filled in) if it is absent. */
static kv_store_entry *slot_for_insert(kv_store *st, uint32_t key) {
    if (st->cap == 0 || (uint64_t)(st->count + 1) * 4 > (uint64_t)st->cap * 3) {
        if (st->cap != 0) {
            kv_store_entry *e = &st->slots[find(st, key)];
            if (e->key == key)
                return e; /* an overwrite needs no room */
        }
        grow(st);
    }
    kv_store_entry *e = &st->slots[find(st, key)];
    if (e->key == EMPTY) {
        e->key = key;
        e->wid = 0;
        st->count++;
    }
    return e;
}

static void fill(kv_store_entry *e, kv_version v) {
    e->ts = v.ts;
    e->wid = v.wid;
    e->size = v.size;
    e->_pad = 0;
}

bool kv_store_put_lww(kv_store *st, uint32_t key, kv_version v, kv_version *old) {
    SIM_ASSERT(key != EMPTY && v.wid != 0);
    kv_store_entry *e = slot_for_insert(st, key);
    kv_version prev = e->wid != 0 ? version_of(e) : (kv_version){0};
    if (old != NULL)
        *old = prev;
    if (prev.wid != 0 && !kv_version_newer(v, prev))
        return false;
    fill(e, v);
    return true;
}

static void erase(kv_store *st, uint32_t key) {
    if (st->count == 0)
        return;
    uint32_t hole = find(st, key);
    if (st->slots[hole].key != key)
        return;
    for (uint32_t j = next(st, hole); st->slots[j].key != EMPTY; j = next(st, j)) {
        /* The entry at j may fill the hole if its home is not in (hole, j]:
         * its distance from home is at least the hole's distance from j. */
        if (dist(st, home(st, st->slots[j].key), j) >= dist(st, hole, j)) {
            st->slots[hole] = st->slots[j];
            hole = j;
        }
    }
    st->slots[hole].key = EMPTY;
    st->count--;
}

void kv_store_set(kv_store *st, uint32_t key, kv_version v) {
    SIM_ASSERT(key != EMPTY);
    if (v.wid == 0)
        erase(st, key);
    else
        fill(slot_for_insert(st, key), v);
}
