/*
 * mq_common.c - the helpers every role of the mq model uses: the ring
 * buffer, sending a message, which partition a key goes to, and each
 * node's idea of who leads a partition.  The bottom of the file order
 * (mq_int.h): it calls no other file of the model.
 */
#include "mq_int.h"

#include <stdio.h>

void mq_ring_init(mq_ring *r, uint32_t esz) { *r = (mq_ring){.esz = esz}; }

void mq_ring_fini(mq_ring *r) {
    sim_free(r->buf);
    r->buf = NULL;
    r->n = r->cap = r->head = 0;
}

void mq_ring_grow(mq_ring *r) {
    uint32_t cap = r->cap ? r->cap * 2 : 16;
    unsigned char *buf = sim_malloc((size_t)cap * r->esz);
    for (uint32_t i = 0; i < r->n; i++)
        memcpy(buf + (size_t)i * r->esz, mq_ring_at(r, i), r->esz);
    sim_free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
}

void mq_ring_remove(mq_ring *r, uint32_t i) {
    SIM_ASSERT(i < r->n);
    for (uint32_t j = i; j + 1 < r->n; j++)
        memcpy(mq_ring_at(r, j), mq_ring_at(r, j + 1), r->esz);
    r->n--;
}

void mq_send(sim_ctx *ctx, const mq_shared *p, uint32_t dst, uint32_t type, const void *m,
             uint32_t len, int64_t body_bytes) {
    int64_t wire = p->header_bytes + body_bytes;
    sim_send(ctx, dst, type, m, len, (uint32_t)(wire > 0 ? wire : 1));
}

uint32_t mq_pg(const mq_shared *p, int topic, uint32_t k) {
    return p->topics[topic].first_part + k;
}

uint32_t mq_leader_of(const mq_shared *p, const mq_node *n, uint32_t pg) {
    return p->parts[pg].replicas[n->leader[pg]];
}

void mq_leader_next(const mq_shared *p, mq_node *n, uint32_t pg) {
    n->leader[pg] = (uint8_t)((n->leader[pg] + 1) % p->parts[pg].n_replicas);
}

bool mq_poison(const mq_shared *p, int g, uint32_t msg) {
    double q = p->groups[g].poison_probability;
    if (q <= 0)
        return false;
    /* splitmix64 of the group's key and the id: a uniform draw per pair. */
    uint64_t z = p->groups[g].poison_key + (uint64_t)(msg + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 < q;
}

bool mq_leader_hint(const mq_shared *p, mq_node *n, uint32_t pg, uint32_t node, uint32_t epoch) {
    const mq_part_info *pi = &p->parts[pg];
    for (uint8_t r = 0; r < pi->n_replicas; r++) {
        if (pi->replicas[r] != node)
            continue;
        if (epoch < n->leader_epoch[pg])
            return false;
        bool newer = epoch > n->leader_epoch[pg];
        n->leader[pg] = r;
        n->leader_epoch[pg] = epoch;
        return newer;
    }
    return false;
}
