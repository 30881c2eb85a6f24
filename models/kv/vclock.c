/*
 * vclock.c - vector clocks and interned sibling sets (vclock.h).
 */
#include "vclock.h"

#include <string.h>

void kv_vc_init(kv_vc *vc, uint32_t n_nodes) {
    memset(vc, 0, sizeof *vc);
    vc->n_nodes = n_nodes;
    vc->issued = sim_calloc(n_nodes ? n_nodes : 1, sizeof *vc->issued);
}

void kv_vc_fini(kv_vc *vc) {
    sim_free(vc->clock_off);
    sim_free(vc->clock_len);
    sim_free(vc->wsize);
    sim_free(vc->pool);
    sim_free(vc->issued);
    sim_free(vc->sets);
    sim_free(vc->members);
    sim_free(vc->table);
    memset(vc, 0, sizeof *vc);
}

static bool is_set(kv_version v) { return v.wid >= KV_VC_SET_BIT; }

static const kv_vc_entry *clock_of(const kv_vc *vc, uint32_t wid, uint32_t *len) {
    if (wid >= vc->n_writes || vc->clock_len[wid] == 0) {
        *len = 0;
        return NULL;
    }
    *len = vc->clock_len[wid];
    return vc->pool + vc->clock_off[wid];
}

/* a descends from (or equals) b: every entry of b is matched or exceeded. */
static bool descends(const kv_vc *vc, uint32_t a, uint32_t b) {
    if (a == b)
        return true;
    uint32_t la, lb;
    const kv_vc_entry *ea = clock_of(vc, a, &la), *eb = clock_of(vc, b, &lb);
    uint32_t i = 0;
    for (uint32_t j = 0; j < lb; j++) {
        while (i < la && ea[i].node < eb[j].node)
            i++;
        if (i == la || ea[i].node != eb[j].node || ea[i].counter < eb[j].counter)
            return false;
    }
    return true;
}

uint32_t kv_vc_count(const kv_vc *vc, kv_version a) {
    if (a.wid == 0)
        return 0;
    return is_set(a) ? vc->sets[a.wid - KV_VC_SET_BIT].len : 1;
}

uint32_t kv_vc_member(const kv_vc *vc, kv_version a, uint32_t i) {
    if (!is_set(a))
        return a.wid;
    const struct kv_vc_set *st = &vc->sets[a.wid - KV_VC_SET_BIT];
    SIM_ASSERT(i < st->len);
    return vc->members[st->off + i];
}

kv_version kv_vc_stamp(kv_vc *vc, uint32_t wid, uint32_t size, uint32_t node, kv_version context) {
    SIM_ASSERT(wid < KV_VC_SET_BIT && node < vc->n_nodes);
    kv_version self = {.ts = 0, .wid = wid, .size = size};
    if (wid >= vc->cap_writes) {
        uint32_t cap = vc->cap_writes ? vc->cap_writes : 1024;
        while (cap <= wid)
            cap *= 2;
        vc->clock_off = sim_realloc(vc->clock_off, (size_t)cap * sizeof *vc->clock_off);
        vc->clock_len = sim_realloc(vc->clock_len, (size_t)cap * sizeof *vc->clock_len);
        vc->wsize = sim_realloc(vc->wsize, (size_t)cap * sizeof *vc->wsize);
        memset(vc->clock_len + vc->cap_writes, 0, cap - vc->cap_writes);
        vc->cap_writes = cap;
    }
    if (wid < vc->n_writes && vc->clock_len[wid])
        return self; /* stamped already */
    if (wid >= vc->n_writes) {
        memset(vc->clock_len + vc->n_writes, 0, wid + 1 - vc->n_writes);
        vc->n_writes = wid + 1;
    }
    /* The context's clocks merged: pointwise maximum, sorted by node.  The
     * union of the siblings' clocks may be longer than a clock may keep: it
     * is truncated below, once the actor's entry is in. */
    uint32_t room = 1;
    for (uint32_t m = 0; m < kv_vc_count(vc, context); m++) {
        uint32_t len;
        clock_of(vc, kv_vc_member(vc, context, m), &len);
        room += len;
    }
    kv_vc_entry *merged = sim_malloc(room * sizeof *merged);
    kv_vc_entry *out = sim_malloc(room * sizeof *out);
    uint32_t n = 0;
    for (uint32_t m = 0; m < kv_vc_count(vc, context); m++) {
        uint32_t len;
        const kv_vc_entry *e = clock_of(vc, kv_vc_member(vc, context, m), &len);
        uint32_t i = 0, j = 0, k = 0;
        while (i < n || j < len) {
            if (j == len || (i < n && merged[i].node < e[j].node)) {
                out[k++] = merged[i++];
            } else if (i == n || e[j].node < merged[i].node) {
                out[k++] = e[j++];
            } else {
                out[k] = merged[i];
                if (e[j].counter > out[k].counter)
                    out[k].counter = e[j].counter;
                k++, i++, j++;
            }
        }
        kv_vc_entry *t = merged;
        merged = out;
        out = t;
        n = k;
    }
    sim_free(out);
    /* The actor's entry: above the context and above all it issued. */
    uint32_t pos = 0;
    while (pos < n && merged[pos].node < node)
        pos++;
    uint32_t base = vc->issued[node];
    if (pos < n && merged[pos].node == node) {
        if (merged[pos].counter > base)
            base = merged[pos].counter;
    } else {
        memmove(merged + pos + 1, merged + pos, (n - pos) * sizeof *merged);
        merged[pos].node = node;
        n++;
    }
    merged[pos].counter = vc->issued[node] = base + 1;
    /* Truncation: drop the smallest counters (never the new entry). */
    while (n > KV_VC_MAX_ENTRIES) {
        uint32_t drop = pos == 0 ? 1 : 0;
        for (uint32_t i = 0; i < n; i++)
            if (i != pos && merged[i].counter < merged[drop].counter)
                drop = i;
        memmove(merged + drop, merged + drop + 1, (n - drop - 1) * sizeof *merged);
        if (drop < pos)
            pos--;
        n--;
        vc->truncations++;
    }
    if (vc->n_pool + n > vc->cap_pool) {
        vc->cap_pool = vc->cap_pool ? vc->cap_pool * 2 : 4096;
        while (vc->n_pool + n > vc->cap_pool)
            vc->cap_pool *= 2;
        vc->pool = sim_realloc(vc->pool, vc->cap_pool * sizeof *vc->pool);
    }
    vc->clock_off[wid] = (uint32_t)vc->n_pool;
    vc->clock_len[wid] = (uint8_t)n;
    vc->wsize[wid] = size;
    memcpy(vc->pool + vc->n_pool, merged, n * sizeof *merged);
    vc->n_pool += n;
    sim_free(merged);
    return self;
}

static uint64_t members_hash(const uint32_t *m, uint32_t n) {
    return sim_hash64(m, (size_t)n * sizeof *m, 0x5eed5e75u);
}

/* The interned id of a set of writes (sorted ascending, n >= 1). */
static kv_version intern(kv_vc *vc, const uint32_t *m, uint32_t n) {
    uint64_t size = 0;
    for (uint32_t i = 0; i < n; i++)
        size += vc->wsize[m[i]] == KV_TOMBSTONE ? 0 : vc->wsize[m[i]];
    if (n == 1)
        return (kv_version){.ts = 0, .wid = m[0], .size = vc->wsize[m[0]]};
    uint32_t sz = size >= KV_TOMBSTONE ? KV_TOMBSTONE - 1 : (uint32_t)size;
    if (2 * (vc->n_sets + 1) > vc->table_cap) {
        uint32_t cap = vc->table_cap ? vc->table_cap * 2 : 1024;
        uint32_t *t = sim_calloc(cap, sizeof *t);
        for (uint32_t s = 0; s < vc->n_sets; s++) {
            uint64_t h = members_hash(vc->members + vc->sets[s].off, vc->sets[s].len);
            uint32_t i = (uint32_t)h & (cap - 1);
            while (t[i])
                i = (i + 1) & (cap - 1);
            t[i] = s + 1;
        }
        sim_free(vc->table);
        vc->table = t;
        vc->table_cap = cap;
    }
    uint64_t h = members_hash(m, n);
    uint32_t i = (uint32_t)h & (vc->table_cap - 1);
    for (; vc->table[i]; i = (i + 1) & (vc->table_cap - 1)) {
        const struct kv_vc_set *st = &vc->sets[vc->table[i] - 1];
        if (st->len == n && memcmp(vc->members + st->off, m, n * sizeof *m) == 0)
            return (kv_version){.ts = 0, .wid = KV_VC_SET_BIT + vc->table[i] - 1, .size = sz};
    }
    SIM_ASSERT(vc->n_sets < KV_VC_SET_BIT - 1);
    if (vc->n_sets == vc->cap_sets) {
        vc->cap_sets = vc->cap_sets ? vc->cap_sets * 2 : 256;
        vc->sets = sim_realloc(vc->sets, vc->cap_sets * sizeof *vc->sets);
    }
    if (vc->n_members + n > vc->cap_members) {
        vc->cap_members = vc->cap_members ? vc->cap_members * 2 : 1024;
        while (vc->n_members + n > vc->cap_members)
            vc->cap_members *= 2;
        vc->members = sim_realloc(vc->members, vc->cap_members * sizeof *vc->members);
    }
    vc->sets[vc->n_sets] = (struct kv_vc_set){(uint32_t)vc->n_members, n, sz};
    memcpy(vc->members + vc->n_members, m, n * sizeof *m);
    vc->n_members += n;
    vc->table[i] = ++vc->n_sets;
    return (kv_version){.ts = 0, .wid = KV_VC_SET_BIT + vc->n_sets - 1, .size = sz};
}

kv_version kv_vc_merge(kv_vc *vc, kv_version a, kv_version b) {
    if (a.wid == 0 || a.wid == b.wid)
        return b.wid ? b : a;
    if (b.wid == 0)
        return a;
    uint32_t na = kv_vc_count(vc, a), nb = kv_vc_count(vc, b);
    uint32_t *all = sim_malloc((size_t)(na + nb) * sizeof *all);
    uint32_t n = 0;
    for (uint32_t i = 0; i < na; i++)
        all[n++] = kv_vc_member(vc, a, i);
    for (uint32_t i = 0; i < nb; i++)
        all[n++] = kv_vc_member(vc, b, i);
    /* Keep a write unless another (distinct) member descends from it. */
    uint32_t *keep = sim_malloc((size_t)n * sizeof *keep);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool dominated = false, dup = false;
        for (uint32_t j = 0; j < n && !dominated; j++)
            if (all[j] != all[i] && descends(vc, all[j], all[i]))
                dominated = true;
        for (uint32_t j = 0; j < k && !dup; j++)
            dup = keep[j] == all[i];
        if (!dominated && !dup)
            keep[k++] = all[i];
    }
    /* Sorted by write id (insertion sort: sets are small). */
    for (uint32_t i = 1; i < k; i++)
        for (uint32_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            uint32_t t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    kv_version out = intern(vc, keep, k);
    sim_free(all);
    sim_free(keep);
    return out;
}

bool kv_vc_covers_write(const kv_vc *vc, kv_version a, uint32_t wid) {
    for (uint32_t i = 0; i < kv_vc_count(vc, a); i++)
        if (descends(vc, kv_vc_member(vc, a, i), wid))
            return true;
    return false;
}

bool kv_vc_covers(const kv_vc *vc, kv_version a, kv_version b) {
    if (a.wid == b.wid)
        return true;
    for (uint32_t i = 0; i < kv_vc_count(vc, b); i++)
        if (!kv_vc_covers_write(vc, a, kv_vc_member(vc, b, i)))
            return false;
    return true;
}

uint32_t kv_vc_wire_bytes(const kv_vc *vc, kv_version a) {
    uint32_t bytes = 0;
    for (uint32_t i = 0; i < kv_vc_count(vc, a); i++) {
        uint32_t len;
        clock_of(vc, kv_vc_member(vc, a, i), &len); /* 0 before the write is stamped */
        bytes += len * KV_VC_ENTRY_BYTES;
    }
    return bytes;
}

bool kv_vc_is_delete(const kv_vc *vc, uint32_t wid) {
    return wid < vc->n_writes && vc->wsize[wid] == KV_TOMBSTONE;
}
