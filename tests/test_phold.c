/*
 * test_phold.c - the PHOLD benchmark model: its event rate follows from
 * renewal theory, it honours its four contract keys, and it is
 * deterministic.
 */
#include "check_util.h"
#include "engine_probe.h"
#include "registry.h"

#include <math.h>

#ifndef DSIM_SOURCE_DIR
#define DSIM_SOURCE_DIR "."
#endif

static sim *load_bench(const char **sets, int n) {
    sim_load_opts o = {.file = DSIM_SOURCE_DIR "/scenarios/bench/phold.json",
                       .sets = sets,
                       .n_sets = n,
                       .models = sim_models};
    cJSON *resolved = NULL;
    char err[2048] = "";
    sim *s = sim_load(&o, &resolved, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    cJSON_Delete(resolved);
    return s;
}

/* Each of the lps * M event chains is a renewal process with mean gap
 * lookahead + mean, so over D the count is about lps * M * D / (L + mean).
 * With L = 100 ms, mean = 1 s, D = 100 s, 100 LPs and M = 4: 36364 events.
 * The gap's standard deviation is 1 s, so one chain's count has variance
 * about D * var / (L + mean)^3 = 75, and 400 chains give an SD of 173:
 * +-1000 is over 5 SD. */
START_TEST(test_phold_event_rate_follows_renewal_theory) {
    const char *sets[] = {"phold.lps=100", "phold.events_per_lp=4", "duration=100s"};
    sim *s = load_bench(sets, 3);
    sim_run(s);
    int c = sim_metrics_find(s->metrics, SIM_METRIC_COUNTER, "phold.events");
    ck_assert_int_ge(c, 0);
    int64_t events = sim_metrics_counter_value(s->metrics, c);
    ck_assert_int_gt(events, 36364 - 1000);
    ck_assert_int_lt(events, 36364 + 1000);
    /* Every handled event sends one: sent = initial + handled. */
    ck_assert_int_eq(s->kval[KC_SENT], 400 + events);
    sim_destroy(s);
}
END_TEST

START_TEST(test_phold_lookahead_bounds_every_delay) {
    const char *sets[] = {"phold.lps=10", "phold.lookahead=2s", "phold.mean=1ms", "duration=21s"};
    sim *s = load_bench(sets, 4);
    sim_run(s);
    /* Delays are at least 2 s and almost never above 2.02 s: 10 events per
     * 2 s per chain, 10 chains, 21 s -> 100 events (the first at >= 2 s). */
    int c = sim_metrics_find(s->metrics, SIM_METRIC_COUNTER, "phold.events");
    ck_assert_int_eq(sim_metrics_counter_value(s->metrics, c), 100);
    sim_destroy(s);
}
END_TEST

START_TEST(test_phold_is_deterministic) {
    const char *a[] = {"phold.lps=50", "duration=20s"};
    const char *b[] = {"phold.lps=50", "duration=20s", "seed=2"};
    sim *s1 = load_bench(a, 2), *s2 = load_bench(a, 2), *s3 = load_bench(b, 3);
    sim_run(s1);
    sim_run(s2);
    sim_run(s3);
    ck_assert_uint_eq(sim_trace_hash(s1), sim_trace_hash(s2));
    ck_assert_uint_ne(sim_trace_hash(s1), sim_trace_hash(s3));
    sim_destroy(s1);
    sim_destroy(s2);
    sim_destroy(s3);
}
END_TEST

/* Nodes the scenario declares itself take no part: events go to LPs only. */
START_TEST(test_phold_ignores_the_scenarios_own_nodes) {
    const char *sets[] = {"nodes=3", "phold.lps=4", "duration=100s"};
    sim *s = load_bench(sets, 3);
    sim_run(s);
    ck_assert_str_eq(sim_node_name(s, 3), "lp0");
    /* Every message went to an LP (nodes 3..6), and the n* nodes got none. */
    ck_assert_int_eq(s->msg_stats[0].sent, s->kval[KC_SENT]);
    int c = sim_metrics_find(s->metrics, SIM_METRIC_COUNTER, "phold.events");
    int64_t events = sim_metrics_counter_value(s->metrics, c);
    /* 4 chains over 100 s with mean gap 1.1 s: about 364; none lost. */
    ck_assert_int_gt(events, 300);
    ck_assert_int_lt(events, 430);
    ck_assert_int_eq(s->kval[KC_SENT], 4 + events);
    sim_destroy(s);
}
END_TEST

static Suite *phold_suite(void) {
    Suite *s = suite_create("phold");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_phold_event_rate_follows_renewal_theory);
    tcase_add_test(tc, test_phold_lookahead_bounds_every_delay);
    tcase_add_test(tc, test_phold_is_deterministic);
    tcase_add_test(tc, test_phold_ignores_the_scenarios_own_nodes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(phold_suite()); }
