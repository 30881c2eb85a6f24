/*
 * mq_oracle.c - what only the simulator knows: where every copy of every
 * message is, and how it ended.
 *
 * A message is created once, by a producer or by a consumer publishing on
 * completion, and has one copy per consumer group subscribed to its topic
 * (fan-out).  The nodes that hold a copy report it here: the publisher
 * until the broker acknowledges (prod_held), each broker replica whose log
 * has it unfinished for the group (held_b; the balancer in direct mode),
 * each consumer processing it (held_c).  A holder that lets a copy go
 * without processing it says why (mq_cause); the last cause recorded is
 * the one reported if nobody holds the copy at the end.  So the end state
 * of every copy is exactly one of (mq_oracle_end):
 *
 *   processed once | processed more than once | dead-lettered |
 *   still in processing | still at a broker | still at its producer | lost
 *
 * A copy is "in the system" (open) from its creation until it leaves:
 * first processed, dead-lettered, or held by nobody (lost, unless a holder
 * takes it again).  The time integral of the number of open copies after
 * the warm-up gives the mean number in system L.  Independently, each
 * departure is counted (lambda: departures per second) and its time in
 * system taken from the message's creation stamp (W: the mean over
 * departed copies, processed or not).  Little's law L = lambda W is then
 * checked on those measured figures; it holds with losses because lost
 * copies count in all three.  A copy that leaves and comes back (the only
 * common case: at-most-once, where the broker deletes a message when it
 * sends it, and the consumer holds it when it arrives) did not leave: its
 * departure is undone and the gap added to L's integral.  The latency of
 * processed copies (publish -> first processing) is reported apart.
 *
 * Nodes only ever write here; no protocol decision reads it.
 */
#include "mq_int.h"

#include <stdio.h>

static void grow(void **arr, uint32_t *cap, uint32_t need, uint32_t limit, size_t esz) {
    if (need <= *cap)
        return;
    uint64_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    if (c > limit)
        c = limit;
    SIM_ASSERT(c >= need);
    *arr = sim_realloc(*arr, (size_t)c * esz);
    *cap = (uint32_t)c;
}

int mq_oracle_init(mq_shared *p, uint64_t est_msgs) {
    mq_oracle *o = &p->oracle;
    uint64_t cap = est_msgs + 1024;
    if (cap > (uint64_t)p->max_messages)
        cap = (uint64_t)p->max_messages;
    grow((void **)&o->msgs, &o->cap_msgs, (uint32_t)cap, (uint32_t)p->max_messages,
         sizeof *o->msgs);
    grow((void **)&o->copies, &o->cap_copies, (uint32_t)cap, UINT32_MAX, sizeof *o->copies);
    return 0;
}

void mq_oracle_fini(mq_oracle *o) {
    sim_free(o->msgs);
    sim_free(o->copies);
    sim_free(o->gap_keys);
    sim_free(o->gap_at);
    o->msgs = NULL;
    o->copies = NULL;
    o->gap_keys = NULL;
    o->gap_at = NULL;
}

/* Adds open-copy time up to now (only after the warm-up). */
void mq_oracle_flush(mq_shared *p, sim_time now) {
    mq_oracle *o = &p->oracle;
    if (now > p->warmup) {
        sim_time from = o->last_change > p->warmup ? o->last_change : p->warmup;
        o->area += (double)o->open * (double)(now - from);
    }
    o->last_change = now;
}

/* ---- When copies that left unprocessed left (mq_oracle.gap_*). ---- */

static uint32_t gap_home(const mq_oracle *o, uint32_t key) {
    return (key * 0x9E3779B1u) & o->gap_mask;
}

static void gap_insert(mq_oracle *o, uint32_t key, sim_time at) {
    uint32_t i = gap_home(o, key);
    while (o->gap_keys[i])
        i = (i + 1) & o->gap_mask;
    o->gap_keys[i] = key;
    o->gap_at[i] = at;
}

static void gap_put(mq_oracle *o, uint32_t copy, sim_time at) {
    if (2 * (o->gap_n + 1) > o->gap_mask + 1 || !o->gap_keys) {
        uint32_t *keys = o->gap_keys, old = o->gap_keys ? o->gap_mask + 1 : 0;
        sim_time *ats = o->gap_at;
        uint32_t size = old ? old * 2 : 1024;
        o->gap_keys = sim_calloc(size, sizeof *o->gap_keys);
        o->gap_at = sim_malloc((size_t)size * sizeof *o->gap_at);
        o->gap_mask = size - 1;
        for (uint32_t i = 0; i < old; i++)
            if (keys[i])
                gap_insert(o, keys[i], ats[i]);
        sim_free(keys);
        sim_free(ats);
    }
    gap_insert(o, copy + 1, at);
    o->gap_n++;
}

/* Removes the copy's entry (which must exist) and returns its time;
 * backward-shift deletion keeps every probe sequence unbroken. */
static sim_time gap_take(mq_oracle *o, uint32_t copy) {
    uint32_t key = copy + 1, i = gap_home(o, key);
    while (o->gap_keys[i] != key) {
        SIM_ASSERT(o->gap_keys[i]);
        i = (i + 1) & o->gap_mask;
    }
    sim_time at = o->gap_at[i];
    for (uint32_t j = i;;) {
        j = (j + 1) & o->gap_mask;
        if (!o->gap_keys[j])
            break;
        uint32_t k = gap_home(o, o->gap_keys[j]);
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            o->gap_keys[i] = o->gap_keys[j];
            o->gap_at[i] = o->gap_at[j];
            i = j;
        }
    }
    o->gap_keys[i] = 0;
    o->gap_n--;
    return at;
}

static int group_of(const mq_shared *p, const mq_msg_rec *m, int sub) {
    return p->topics[m->topic].subs[sub];
}

/* Opens or closes the copy to match its holders (see the file comment). */
static void settle(mq_shared *p, sim_time now, const mq_msg_rec *m, mq_copy_rec *c, int sub) {
    bool open =
        c->n_proc == 0 && !(c->flags & MQ_COPY_DLQ) && (c->held_b || c->held_c || m->prod_held);
    bool was = c->flags & MQ_COPY_OPEN;
    if (open == was)
        return;
    mq_oracle *o = &p->oracle;
    mq_oracle_flush(p, now);
    int g = group_of(p, m, sub);
    int d = open ? 1 : -1;
    uint32_t copy = m->copy0 + (uint32_t)sub;
    if (!open) {
        /* A departure: processed, dead-lettered, or held by nobody.  Only
         * the last kind can come back: remember when it left. */
        if (c->n_proc == 0 && !(c->flags & MQ_COPY_DLQ)) {
            c->flags |= MQ_COPY_LEFT;
            gap_put(o, copy, now);
        }
        o->left += now >= p->warmup;
        if (m->created >= p->warmup) {
            o->soj_count++;
            o->soj_sum_ns += (double)(now - m->created);
        }
    } else if (c->flags & MQ_COPY_LEFT) {
        /* Back after leaving: it never left.  Undo the departure and count
         * the gap as time in the system. */
        c->flags &= (uint8_t)~MQ_COPY_LEFT;
        sim_time left_at = gap_take(o, copy);
        o->left -= left_at >= p->warmup;
        if (m->created >= p->warmup) {
            o->soj_count--;
            o->soj_sum_ns -= (double)(left_at - m->created);
        }
        sim_time from = left_at > p->warmup ? left_at : p->warmup;
        if (now > from)
            o->area += (double)(now - from);
    }
    c->flags = (uint8_t)(open ? c->flags | MQ_COPY_OPEN : c->flags & ~MQ_COPY_OPEN);
    o->open += d;
    o->open_group[g] += d;
    SIM_ASSERT(o->open >= 0 && o->open_group[g] >= 0);
    sim_gauge_set(p->s, p->g_in_system, (double)o->open);
    sim_gauge_set(p->s, p->groups[g].g_lag, (double)o->open_group[g]);
}

uint32_t mq_oracle_create(mq_shared *p, sim_time now, int topic, uint8_t hops) {
    mq_oracle *o = &p->oracle;
    const mq_topic_cfg *t = &p->topics[topic];
    if (o->n_msgs >= (uint32_t)p->max_messages) {
        o->full = true;
        return UINT32_MAX;
    }
    grow((void **)&o->msgs, &o->cap_msgs, o->n_msgs + 1, (uint32_t)p->max_messages,
         sizeof *o->msgs);
    grow((void **)&o->copies, &o->cap_copies, o->n_copies + (uint32_t)t->n_subs, UINT32_MAX,
         sizeof *o->copies);
    uint32_t id = o->n_msgs++;
    mq_msg_rec *m = &o->msgs[id];
    *m = (mq_msg_rec){.created = now,
                      .copy0 = o->n_copies,
                      .topic = (uint16_t)topic,
                      .prod_held = 1,
                      .hops = hops};
    o->n_copies += (uint32_t)t->n_subs;
    for (int k = 0; k < t->n_subs; k++) {
        o->copies[m->copy0 + (uint32_t)k] = (mq_copy_rec){0};
        settle(p, now, m, &o->copies[m->copy0 + (uint32_t)k], k);
    }
    sim_count(p->s, p->c_published, 1);
    return id;
}

static mq_copy_rec *copy_of(mq_shared *p, uint32_t msg, int sub) {
    SIM_ASSERT(msg < p->oracle.n_msgs);
    const mq_msg_rec *m = &p->oracle.msgs[msg];
    SIM_ASSERT(sub >= 0 && sub < p->topics[m->topic].n_subs);
    return &p->oracle.copies[m->copy0 + (uint32_t)sub];
}

void mq_oracle_producer_release(mq_shared *p, sim_time now, uint32_t msg, int cause) {
    mq_msg_rec *m = &p->oracle.msgs[msg];
    SIM_ASSERT(m->prod_held);
    m->prod_held = 0;
    int n = p->topics[m->topic].n_subs;
    for (int k = 0; k < n; k++) {
        mq_copy_rec *c = &p->oracle.copies[m->copy0 + (uint32_t)k];
        if (cause != MQ_CAUSE_NONE)
            c->cause = (uint8_t)cause;
        settle(p, now, m, c, k);
    }
}

void mq_oracle_hold(mq_shared *p, sim_time now, uint32_t msg, int sub, int kind) {
    mq_copy_rec *c = copy_of(p, msg, sub);
    if (kind == MQ_HOLD_BROKER) {
        SIM_ASSERT(c->held_b < UINT16_MAX);
        c->held_b++;
    } else {
        SIM_ASSERT(c->held_c < UINT16_MAX);
        c->held_c++;
    }
    settle(p, now, &p->oracle.msgs[msg], c, sub);
}

void mq_oracle_release(mq_shared *p, sim_time now, uint32_t msg, int sub, int kind, int cause) {
    mq_copy_rec *c = copy_of(p, msg, sub);
    if (kind == MQ_HOLD_BROKER) {
        SIM_ASSERT(c->held_b > 0);
        c->held_b--;
    } else {
        SIM_ASSERT(c->held_c > 0);
        c->held_c--;
    }
    if (cause != MQ_CAUSE_NONE)
        c->cause = (uint8_t)cause;
    settle(p, now, &p->oracle.msgs[msg], c, sub);
}

void mq_oracle_note(mq_shared *p, uint32_t msg, int sub, int cause) {
    copy_of(p, msg, sub)->cause = (uint8_t)cause;
}

bool mq_oracle_processed(mq_shared *p, sim_time now, uint32_t msg, int sub) {
    mq_oracle *o = &p->oracle;
    mq_copy_rec *c = copy_of(p, msg, sub);
    const mq_msg_rec *m = &o->msgs[msg];
    int g = group_of(p, m, sub);
    SIM_ASSERT(c->n_proc < UINT16_MAX);
    c->n_proc++;
    o->processings++;
    sim_count(p->s, p->c_processed, 1);
    sim_count(p->s, p->groups[g].c_processed, 1);
    if (c->n_proc > 1) {
        o->duplicates++;
        sim_count(p->s, p->c_duplicates, 1);
        return false;
    }
    if (c->flags & MQ_COPY_DLQ)
        c->flags |= MQ_COPY_LATE; /* processed by a consumer after dead-lettering */
    if (now >= p->warmup)
        o->first_done++;
    if (m->created >= p->warmup) {
        sim_time lat = now - m->created;
        o->lat_count++;
        o->lat_sum_ns += (double)lat;
        sim_record(p->s, p->h_latency, lat);
        sim_record(p->s, p->groups[g].h_latency, lat);
    }
    settle(p, now, m, c, sub);
    return true;
}

void mq_oracle_dead_letter(mq_shared *p, sim_time now, uint32_t msg, int sub) {
    mq_copy_rec *c = copy_of(p, msg, sub);
    if (c->flags & MQ_COPY_DLQ)
        return;
    c->flags |= MQ_COPY_DLQ;
    p->oracle.dead_lettered++;
    sim_count(p->s, p->c_dead_lettered, 1);
    settle(p, now, &p->oracle.msgs[msg], c, sub);
}

mq_end mq_oracle_end(const mq_shared *p, uint32_t msg, int sub) {
    const mq_msg_rec *m = &p->oracle.msgs[msg];
    const mq_copy_rec *c = &p->oracle.copies[m->copy0 + (uint32_t)sub];
    if (c->n_proc == 1)
        return MQ_END_ONCE;
    if (c->n_proc > 1)
        return MQ_END_DUPLICATED;
    if (c->flags & MQ_COPY_DLQ)
        return MQ_END_DEAD_LETTERED;
    if (c->held_c)
        return MQ_END_IN_PROCESSING;
    if (c->held_b)
        return MQ_END_AT_BROKER;
    if (m->prod_held)
        return MQ_END_AT_PRODUCER;
    return MQ_END_LOST;
}
