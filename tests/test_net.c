/*
 * test_net.c - the simulated network: latency rules and their precedence,
 * per-message-type overrides, loss and duplication rates, partitions
 * (symmetric and one-way) and heal, slow nodes and links, node clocks,
 * and the independence of the loss stream from the latency stream.
 */
#include "check_util.h"
#include "engine_probe.h"

#include <math.h>

/* Node 0 sends one message of each type to every other node at t=0, with
 * the type in the payload. */
static void fan_out(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    (void)n;
    if (sim_self(ctx) != 0)
        return;
    for (uint32_t dst = 1; dst < sim_node_count(sim_of(ctx)); dst++)
        for (uint64_t type = 0; type < 3; type++)
            sim_send(ctx, dst, (uint32_t)type, &type, sizeof type, 0);
}

/* Arrival time of the message of `type` at `node`, or -1. */
static sim_time arrival(probe_shared *p, uint32_t node, uint32_t type) {
    for (size_t i = 0; i < p->n_log; i++)
        if (p->log[i].hook == PROBE_MSG && p->log[i].node == node && p->log[i].type == type)
            return p->log[i].t;
    return -1;
}

START_TEST(test_net_link_rules_last_match_wins) {
    sim *s = probe_run("{\"model\":\"probe\",\"duration\":\"1s\","
                       "\"nodes\":[{\"group\":\"dc\",\"count\":3},{\"group\":\"far\",\"count\":2}],"
                       "\"network\":{\"latency\":\"1ms\",\"links\":["
                       "{\"from\":\"dc\",\"to\":\"far\",\"latency\":\"40ms\"},"
                       "{\"from\":\"dc0\",\"to\":\"far1\",\"latency\":\"70ms\"},"
                       "{\"message\":\"pong\",\"latency\":\"5ms\"},"
                       "{\"from\":\"far0\",\"to\":\"dc0\",\"message\":\"data\",\"one_way\":true,"
                       "\"latency\":\"9ms\"}]}}",
                       fan_out, NULL);
    probe_shared *p = probe_of(s);
    /* dc1: default 1 ms; pong: 5 ms everywhere (rule 3 comes later). */
    ck_assert_int_eq(arrival(p, 1, 0), 1 * SIM_MS);
    ck_assert_int_eq(arrival(p, 1, 1), 5 * SIM_MS);
    /* far0 (node 3): group rule 40 ms; symmetric rule applies in either
     * direction; the one-way data rule is far0 -> dc0 only, not dc0 -> far0. */
    ck_assert_int_eq(arrival(p, 3, 0), 40 * SIM_MS);
    ck_assert_int_eq(arrival(p, 3, 1), 5 * SIM_MS);
    ck_assert_int_eq(arrival(p, 3, 2), 40 * SIM_MS);
    /* far1 (node 4): the node rule overrides the group rule. */
    ck_assert_int_eq(arrival(p, 4, 0), 70 * SIM_MS);
    ck_assert_int_eq(arrival(p, 4, 2), 70 * SIM_MS);
    sim_destroy(s);
}
END_TEST

static void flood(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)n;
    if (sim_self(ctx) != 0)
        return;
    for (int64_t i = 0; i < p->knob * 100; i++) {
        uint64_t x = (uint64_t)i;
        sim_send(ctx, 1, 2, &x, sizeof x, 0);
    }
}

static size_t count_msgs(probe_shared *p, uint32_t node) {
    size_t k = 0;
    for (size_t i = 0; i < p->n_log; i++)
        k += p->log[i].hook == PROBE_MSG && p->log[i].node == node;
    return k;
}

/* 20000 messages with loss 0.3: delivered fraction within 5 standard errors
 * (SE = sqrt(0.3 * 0.7 / 20000) = 0.0032). */
START_TEST(test_net_loss_rate_matches_probability) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"probe\":{\"knob\":200},"
                       "\"network\":{\"loss\":0.3}}",
                       flood, NULL);
    double delivered = (double)count_msgs(probe_of(s), 1) / 20000.0;
    ck_assert_double_le(fabs(delivered - 0.7), 5 * sqrt(0.21 / 20000));
    ck_assert_int_eq(s->kval[KC_DROPPED_LOSS] + (int64_t)count_msgs(probe_of(s), 1), 20000);
    sim_destroy(s);
}
END_TEST

START_TEST(test_net_duplication_rate_matches_probability) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"probe\":{\"knob\":200},"
                       "\"network\":{\"duplicate\":0.2,"
                       "\"latency\":{\"type\":\"uniform\",\"min\":\"1ms\",\"max\":\"9ms\"}}}",
                       flood, NULL);
    double extra = (double)count_msgs(probe_of(s), 1) / 20000.0 - 1.0;
    ck_assert_double_le(fabs(extra - 0.2), 5 * sqrt(0.16 / 20000));
    ck_assert_int_eq(s->kval[KC_DUPLICATED], (int64_t)count_msgs(probe_of(s), 1) - 20000);
    sim_destroy(s);
}
END_TEST

/* Every node pings every other node every 100 ms; arg = send time (ms). */
static void mesh_tick(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    (void)p;
    uint64_t ms = (uint64_t)(sim_now(ctx) / SIM_MS);
    for (uint32_t d = 0; d < sim_node_count(sim_of(ctx)); d++)
        if (d != sim_self(ctx))
            sim_send(ctx, d, 0, &ms, sizeof ms, 0);
    n->timer = sim_timer_set(ctx, 100 * SIM_MS, kind, arg + 1);
}

static void mesh_init(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    n->timer = sim_timer_set(ctx, 0, 1, 0);
}

/* Did a message sent from src to dst at time sent_ms arrive? */
static bool got(probe_shared *p, uint32_t src, uint32_t dst, uint64_t sent_ms) {
    for (size_t i = 0; i < p->n_log; i++)
        if (p->log[i].hook == PROBE_MSG && p->log[i].src == src && p->log[i].node == dst &&
            p->log[i].arg == sent_ms)
            return true;
    return false;
}

START_TEST(test_net_partition_cuts_between_groups_until_heal) {
    sim *s =
        probe_run("{\"model\":\"probe\",\"nodes\":5,\"duration\":\"3s\","
                  "\"faults\":[{\"at\":\"1s\",\"partition\":[[\"n0\",\"n1\"],[\"n2\",\"n3\"]]},"
                  "{\"at\":\"2s\",\"heal\":true}]}",
                  mesh_init, mesh_tick);
    probe_shared *p = probe_of(s);
    for (uint64_t ms = 0; ms <= 2900; ms += 100) {
        bool cut = ms >= 1000 && ms < 2000;
        ck_assert_int_eq(got(p, 0, 2, ms), !cut);
        ck_assert_int_eq(got(p, 3, 1, ms), !cut);
        ck_assert(got(p, 0, 1, ms)); /* same side */
        ck_assert(got(p, 2, 3, ms));
        ck_assert(got(p, 4, 0, ms)); /* n4 is in no group: reaches everyone */
        ck_assert(got(p, 2, 4, ms));
    }
    sim_destroy(s);
}
END_TEST

START_TEST(test_net_one_way_partition_cuts_one_direction) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":3,\"duration\":\"3s\","
                       "\"faults\":[{\"at\":\"1s\",\"partition_one_way\":"
                       "{\"from\":\"n0\",\"to\":[\"n1\",\"n2\"]}},"
                       "{\"at\":\"2s\",\"heal\":true}]}",
                       mesh_init, mesh_tick);
    probe_shared *p = probe_of(s);
    for (uint64_t ms = 0; ms <= 2900; ms += 100) {
        bool cut = ms >= 1000 && ms < 2000;
        ck_assert_int_eq(got(p, 0, 1, ms), !cut);
        ck_assert_int_eq(got(p, 0, 2, ms), !cut);
        ck_assert(got(p, 1, 0, ms));
        ck_assert(got(p, 2, 0, ms));
        ck_assert(got(p, 1, 2, ms));
    }
    sim_destroy(s);
}
END_TEST

START_TEST(test_net_slow_node_and_slow_link_multiply_latency) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":4,\"duration\":\"3s\","
                       "\"network\":{\"latency\":\"2ms\"},"
                       "\"faults\":[{\"at\":\"1s\",\"slow\":\"n1\",\"factor\":10},"
                       "{\"at\":\"1s\",\"slow_link\":{\"from\":\"n2\",\"to\":\"n3\"},\"factor\":3},"
                       "{\"at\":\"2s\",\"slow\":\"n1\",\"factor\":1}]}",
                       mesh_init, mesh_tick);
    probe_shared *p = probe_of(s);
    for (size_t i = 0; i < p->n_log; i++) {
        probe_rec *r = &p->log[i];
        if (r->hook != PROBE_MSG)
            continue;
        sim_time sent = (sim_time)r->arg * SIM_MS, lat = r->t - sent;
        bool slow1 = (r->src == 1 || r->node == 1) && sent >= SIM_S && sent < 2 * SIM_S;
        bool link =
            ((r->src == 2 && r->node == 3) || (r->src == 3 && r->node == 2)) && sent >= SIM_S;
        ck_assert_int_eq(lat, 2 * SIM_MS * (slow1 ? 10 : 1) * (link ? 3 : 1));
    }
    sim_destroy(s);
}
END_TEST

static void read_clock(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    (void)n;
    (void)kind;
    (void)arg;
    sim_time *out = p->user;
    out[sim_self(ctx)] = sim_local_time(ctx);
}

static void clock_init(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    n->timer = sim_timer_set(ctx, 11 * SIM_S, 1, 0);
}

START_TEST(test_net_node_clock_offset_and_drift) {
    sim *s = probe_load("{\"model\":\"probe\",\"nodes\":3,\"duration\":\"20s\","
                        "\"faults\":[{\"at\":\"1s\",\"clock\":\"n1\",\"offset\":\"50ms\"},"
                        "{\"at\":\"1s\",\"clock\":\"n2\",\"offset\":\"-2s\",\"drift_ppm\":1000}]}");
    sim_time clocks[3] = {0};
    probe_of(s)->user = clocks;
    probe_of(s)->init = clock_init;
    probe_of(s)->timer = read_clock;
    sim_run(s);
    ck_assert_int_eq(clocks[0], 11 * SIM_S);
    ck_assert_int_eq(clocks[1], 11 * SIM_S + 50 * SIM_MS);
    /* 10 s since the clock was set, 1000 ppm: +10 ms. */
    ck_assert_int_eq(clocks[2], 9 * SIM_S + 10 * SIM_MS);
    sim_destroy(s);
}
END_TEST

/* Common random numbers: the loss stream is apart from the latency stream,
 * so with and without loss the surviving messages see the same latency. */
static void ten_msgs(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    (void)n;
    if (sim_self(ctx) != 0)
        return;
    for (uint64_t i = 0; i < 10; i++)
        sim_send(ctx, 1, 0, &i, sizeof i, 0);
}

START_TEST(test_net_loss_does_not_shift_latencies) {
    sim *a = probe_load("{\"model\":\"probe\",\"nodes\":2,"
                        "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}}}");
    sim *b = probe_load("{\"model\":\"probe\",\"nodes\":2,"
                        "\"network\":{\"loss\":0.5,\"duplicate\":0,"
                        "\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}}}");
    probe_of(a)->init = ten_msgs;
    probe_of(b)->init = ten_msgs;
    sim_run(a);
    sim_run(b);
    /* Message i's latency in b, if it survived, is the (i - lost before
     * it)-th latency draw: the latency stream only advances for sent
     * messages.  Compare the sorted multiset of b with a prefix of a's
     * draws in send order. */
    probe_shared *pa = probe_of(a), *pb = probe_of(b);
    size_t nb = 0;
    sim_time lat_a[10];
    size_t na = 0;
    for (size_t i = 0; i < pa->n_log; i++)
        if (pa->log[i].hook == PROBE_MSG)
            lat_a[pa->log[i].arg] = pa->log[i].t, na++;
    ck_assert_uint_eq(na, 10);
    uint64_t k = 0;
    for (uint64_t i = 0; i < 10; i++) {
        for (size_t j = 0; j < pb->n_log; j++)
            if (pb->log[j].hook == PROBE_MSG && pb->log[j].arg == i) {
                ck_assert_int_eq(pb->log[j].t, lat_a[k]);
                k++;
                nb++;
            }
    }
    ck_assert_uint_gt(nb, 0);
    ck_assert_uint_lt(nb, 10);
    sim_destroy(a);
    sim_destroy(b);
}
END_TEST

START_TEST(test_net_random_crashes_follow_mtbf) {
    /* 20 nodes, MTBF 10 s, MTTR 1 s, 1000 s: each node is up about 10/11
     * of the time.  Expected crashes about 20 * 1000 / 11 = 1818; allow
     * 10 %, several standard deviations of the renewal count. */
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":20,\"duration\":\"1000s\","
                       "\"random_faults\":{\"crash\":{"
                       "\"mtbf\":{\"type\":\"exponential\",\"mean\":\"10s\"},"
                       "\"mttr\":{\"type\":\"exponential\",\"mean\":\"1s\"}}}}",
                       NULL, NULL);
    probe_shared *p = probe_of(s);
    int crashes = 0, recovers = 0;
    for (size_t i = 0; i < p->n_log; i++) {
        crashes += p->log[i].hook == PROBE_CRASH;
        recovers += p->log[i].hook == PROBE_RECOVER;
    }
    ck_assert_int_ge(crashes, 1636);
    ck_assert_int_le(crashes, 2000);
    ck_assert_int_le(crashes - recovers, 20);
    ck_assert_int_ge(crashes - recovers, 0);
    sim_destroy(s);
}
END_TEST

/* Every message handed to the network is accounted for exactly once:
 * sent + duplicated = delivered + each kind of drop + still in flight. */
START_TEST(test_net_message_accounting_balances) {
    sim *s = probe_load(
        "{\"model\":\"probe\",\"nodes\":6,\"duration\":\"20s\","
        "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"30ms\"},"
        "\"loss\":0.1,\"duplicate\":0.1},"
        "\"random_faults\":{\"crash\":{\"mtbf\":{\"type\":\"exponential\",\"mean\":\"5s\"},"
        "\"mttr\":\"500ms\"},"
        "\"partition\":{\"every\":\"2s\",\"duration\":\"700ms\"}}}");
    probe_of(s)->init = mesh_init;
    probe_of(s)->recover = mesh_init; /* recovered nodes chat again */
    probe_of(s)->timer = mesh_tick;
    sim_run(s);
    const int64_t *k = s->kval;
    ck_assert_int_gt(k[KC_DROPPED_LOSS], 0);
    ck_assert_int_gt(k[KC_DROPPED_PARTITION], 0);
    ck_assert_int_gt(k[KC_DROPPED_DOWN], 0);
    ck_assert_int_gt(k[KC_DUPLICATED], 0);
    ck_assert_int_gt(sim_messages_in_flight(s), 0);
    ck_assert_int_eq(k[KC_SENT] + k[KC_DUPLICATED],
                     k[KC_DELIVERED] + k[KC_DROPPED_LOSS] + k[KC_DROPPED_PARTITION] +
                         k[KC_DROPPED_DOWN] + sim_messages_in_flight(s));
    /* Per type, the same balance (one type here). */
    const sim__msg_stats *ms = &s->msg_stats[0];
    ck_assert_int_eq(ms->sent, k[KC_SENT]);
    ck_assert_int_eq(ms->delivered, k[KC_DELIVERED]);
    sim_destroy(s);
}
END_TEST

/* A node that fails while down from a random crash, and is then replaced,
 * goes on crashing at random. */
START_TEST(test_net_random_crash_cycle_survives_fail_and_replace) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":1,\"duration\":\"100s\","
                       "\"random_faults\":{\"crash\":{\"mtbf\":\"2s\",\"mttr\":\"1s\"}},"
                       "\"faults\":[{\"at\":\"2500ms\",\"fail\":\"n0\"},"
                       "{\"at\":\"10s\",\"replace\":\"n0\"}]}",
                       NULL, NULL);
    probe_shared *p = probe_of(s);
    int late_crashes = 0;
    for (size_t i = 0; i < p->n_log; i++)
        late_crashes += p->log[i].hook == PROBE_CRASH && p->log[i].t > 10 * SIM_S;
    /* Crash every 3 s after the replacement: about 30. */
    ck_assert_int_ge(late_crashes, 25);
    sim_destroy(s);
}
END_TEST

static Suite *net_suite(void) {
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_net_link_rules_last_match_wins);
    tcase_add_test(tc, test_net_loss_rate_matches_probability);
    tcase_add_test(tc, test_net_duplication_rate_matches_probability);
    tcase_add_test(tc, test_net_partition_cuts_between_groups_until_heal);
    tcase_add_test(tc, test_net_one_way_partition_cuts_one_direction);
    tcase_add_test(tc, test_net_slow_node_and_slow_link_multiply_latency);
    tcase_add_test(tc, test_net_node_clock_offset_and_drift);
    tcase_add_test(tc, test_net_loss_does_not_shift_latencies);
    tcase_add_test(tc, test_net_random_crashes_follow_mtbf);
    tcase_add_test(tc, test_net_message_accounting_balances);
    tcase_add_test(tc, test_net_random_crash_cycle_survives_fail_and_replace);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(net_suite()); }
