/*
 * test_kv.c - the kv model against the world: PBS's closed forms for
 * partial quorums, the WARS t-visibility figures measured from the model's
 * own messages, zero staleness for strict quorums, lost writes under clock
 * skew, placement moves, durability, and determinism.
 *
 * Statistical bounds: each proportion p estimated from n trials is checked
 * within z standard errors sqrt(p(1-p)/n) of its exact value, with z = 3
 * (or 4 where several proportions are checked at once, to keep the chance
 * of a false failure for the whole file below about 1 %).  Seeds are fixed,
 * so the test is deterministic; the bounds say it would pass for most seeds.
 */
#include "check_util.h"
#include "kv_util.h"

/* ---- PBS k-staleness: p_s = C(N-W, R) / C(N, R). ---- */

static double choose(int n, int k) {
    if (k < 0 || k > n)
        return 0;
    double c = 1;
    for (int i = 1; i <= k; i++)
        c = c * (n - k + i) / i;
    return c;
}

/* One client writes and reads one key in turn (closed loop), each write on
 * exactly W random replicas and each read of R random ones: the read misses
 * the last m writes with probability p_s^m.  stale_k_m counts reads missing
 * exactly m (k = m), so P(k >= m) = sum over i >= m. */
static void check_pbs(int n, int r, int w) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":%d,\"duration\":\"400s\","
             "\"network\":{\"latency\":\"1ms\"},"
             "\"kv\":{\"n\":%d,\"r\":%d,\"w\":%d,\"propagation\":\"none\","
             "\"coordinator\":\"client\",\"workload\":{\"clients\":1,\"keys\":1,"
             "\"mode\":\"closed\",\"think_time\":\"1ms\",\"read_fraction\":0.5}}}",
             n, n, r, w);
    sim *s = kv_load(text);
    sim_run(s);
    cJSON *root;
    cJSON *m = report_model(s, &root);
    double reads = num(m, "reads_ok");
    ck_assert_double_gt(reads, 40000);
    double ps = choose(n - w, r) / choose(n, r);
    double at_least[4] = {0};
    for (int k = 1; k <= 10; k++) {
        char name[32];
        snprintf(name, sizeof name, "stale_k_%d", k);
        double c = num(m, name);
        for (int j = 1; j <= 3 && j <= k; j++)
            at_least[j] += c;
    }
    at_least[1] += num(m, "stale_k_over_10");
    at_least[2] += num(m, "stale_k_over_10");
    at_least[3] += num(m, "stale_k_over_10");
    char what[64];
    for (int j = 1; j <= 3; j++) {
        snprintf(what, sizeof what, "N=%d R=%d W=%d P(k >= %d)", n, r, w, j);
        /* Reads after fewer than j writes cannot be j stale: the first few
         * reads of the run, negligible against 40000. */
        assert_prop(at_least[j] / reads, pow(ps, j), reads, 4, what);
    }
    cJSON_Delete(root);
    sim_destroy(s);
}

START_TEST(test_kv_pbs_k_staleness_3_1_1) { check_pbs(3, 1, 1); }
END_TEST
START_TEST(test_kv_pbs_k_staleness_3_1_2) { check_pbs(3, 1, 2); }
END_TEST
START_TEST(test_kv_pbs_k_staleness_5_2_2) { check_pbs(5, 2, 2); }
END_TEST

/* R + W > N: a read quorum always meets the last write quorum. */
START_TEST(test_kv_strict_quorum_is_never_stale) {
    const char *configs[][3] = {{"3", "2", "2"}, {"3", "1", "3"}, {"3", "3", "1"}, {"5", "3", "3"}};
    for (int i = 0; i < 4; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":6,\"duration\":\"20s\","
                 "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"2ms\"}},"
                 "\"kv\":{\"n\":%s,\"r\":%s,\"w\":%s,\"read_targets\":\"quorum\","
                 "\"workload\":{\"clients\":8,\"keys\":20,\"rate_per_s\":4000,"
                 "\"read_fraction\":0.5}}}",
                 configs[i][0], configs[i][1], configs[i][2]);
        sim *s = kv_load(text);
        sim_run(s);
        kv_shared *k = kv_of(s);
        ck_assert_int_gt(k->oracle.reads_ok, 30000);
        ck_assert_int_eq(k->oracle.stale, 0);
        ck_assert_int_eq(k->oracle.ryw_violations, 0);
        ck_assert_int_eq(k->oracle.mr_violations, 0);
        sim_destroy(s);
    }
}
END_TEST

/* The same workload with R + W <= N does show stale reads: the oracle is
 * not blind. */
START_TEST(test_kv_partial_quorum_shows_stale_reads) {
    /* A random coordinator: the first replica coordinating every request
     * would always read its own latest copy. */
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":6,\"duration\":\"20s\","
                     "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"2ms\"}},"
                     "\"kv\":{\"n\":3,\"r\":1,\"w\":1,\"read_targets\":\"quorum\","
                     "\"coordinator\":\"random\","
                     "\"workload\":{\"clients\":8,\"keys\":20,\"rate_per_s\":4000,"
                     "\"read_fraction\":0.5}}}");
    sim_run(s);
    ck_assert_int_gt(kv_of(s)->oracle.stale, 100);
    sim_destroy(s);
}
END_TEST

/* ---- WARS: P(consistent at t = 0) for N=3, R=W=1, from simulated
 * messages with per-type latencies (validation.md). ---- */

static void check_wars(const char *w_mean, double want) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"300s\","
             "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"},"
             "\"links\":[{\"message\":\"put\",\"latency\":{\"type\":\"exponential\","
             "\"mean\":\"%s\"}}]},"
             "\"kv\":{\"n\":3,\"r\":1,\"w\":1,\"coordinator\":\"client\","
             "\"workload\":{\"clients\":4,\"keys\":1000000,\"mode\":\"probe\","
             "\"probe\":{\"t\":[\"0ms\"],\"gap\":\"20ms\"}}}}",
             w_mean);
    sim *s = kv_load(text);
    sim_run(s);
    kv_oracle *o = &kv_of(s)->oracle;
    double n = (double)o->probe_reads[0];
    ck_assert_double_gt(n, 20000);
    double p = (double)o->probe_fresh[0] / n;
    /* validation.md: within 0.01 of the WARS value (about 4 to 7 SE here). */
    ck_assert_msg(fabs(p - want) <= 0.01, "W ~ Exp(%s): P(consistent) %.4f, expected %.3f", w_mean,
                  p, want);
    sim_destroy(s);
}

START_TEST(test_kv_wars_fast_writes) { check_wars("0.25ms", 0.943); }
END_TEST
START_TEST(test_kv_wars_equal_means) { check_wars("1ms", 0.752); }
END_TEST
START_TEST(test_kv_wars_slow_writes) { check_wars("10ms", 0.419); }
END_TEST

/* ---- Clock skew under last-write-wins. ---- */

/* Returns the writes lost to timestamp order (acknowledged, yet older by
 * the clocks than a write already acknowledged when they began). */
static int64_t lost_with_offset(const char *offset) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"10s\","
             "\"network\":{\"latency\":\"1ms\"},"
             "\"faults\":[{\"at\":\"0s\",\"clock\":\"n1\",\"offset\":\"%s\"}],"
             "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"coordinator\":\"random\","
             "\"workload\":{\"clients\":4,\"keys\":50,\"rate_per_s\":400,"
             "\"read_fraction\":0.5}}}",
             offset);
    sim *s = kv_load(text);
    sim_run(s);
    cJSON *root;
    cJSON *m = report_model(s, &root);
    int64_t lost = (int64_t)num(m, "lost_to_timestamp_order");
    ck_assert_int_eq((int64_t)num(m, "lost_acknowledged_writes"), lost);
    cJSON_Delete(root);
    sim_destroy(s);
    return lost;
}

START_TEST(test_kv_lww_clock_skew_loses_acknowledged_writes) {
    ck_assert_int_eq(lost_with_offset("0s"), 0);
    /* n1's clock is 1 s behind and it coordinates a third of the writes
     * (random coordinator): each of them that follows, within a second, a
     * write to the same key through n0 or n2 loses.  With 50 keys each
     * written about 4 times a second, nearly all of n1's writes after the
     * first second do: about 2000 * 1/3 * 0.9 = 600 of 2000. */
    int64_t lost = lost_with_offset("-1s");
    ck_assert_int_gt(lost, 450);
    ck_assert_int_lt(lost, 700);
    /* 50 ms behind: far fewer, since a key is rarely written twice within
     * 50 ms (4 writes per second: about 1 - e^-0.2 = 18 % of n1's writes). */
    int64_t small = lost_with_offset("-50ms");
    ck_assert_int_gt(small, 50);
    ck_assert_int_lt(small, 200);
}
END_TEST

/* ---- Durability. ---- */

static int64_t lost_after_crash(bool durable, const char *sync) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"4s\","
             "\"network\":{\"latency\":\"1ms\"},"
             "\"faults\":[{\"at\":\"2s\",\"crash\":[\"n0\",\"n1\",\"n2\"]},"
             "{\"at\":\"2100ms\",\"recover\":[\"n0\",\"n1\",\"n2\"]}],"
             "\"kv\":{\"n\":3,\"r\":1,\"w\":1,"
             "\"storage\":{\"durable\":%s,\"sync_interval\":\"%s\"},"
             "\"workload\":{\"clients\":2,\"keys\":100,\"rate_per_s\":500,"
             "\"read_fraction\":0,\"stop\":\"1990ms\"}}}",
             durable ? "true" : "false", sync);
    sim *s = kv_load(text);
    sim_run(s);
    cJSON *root;
    cJSON *m = report_model(s, &root);
    int64_t lost = (int64_t)num(m, "lost_acknowledged_writes");
    cJSON_Delete(root);
    sim_destroy(s);
    return lost;
}

START_TEST(test_kv_durable_storage_survives_crashes) {
    ck_assert_int_eq(lost_after_crash(true, "0s"), 0);
    /* Volatile storage: every replica crashed, every key's data is gone. */
    ck_assert_int_eq(lost_after_crash(false, "0s"), 100);
    /* A commit log synced every 10 s never synced before the crash at 2 s. */
    ck_assert_int_eq(lost_after_crash(true, "10s"), 100);
    /* Synced every 50 ms: only writes of the last 50 ms before the crash
     * (writes stop 10 ms before it) can be lost, a few keys at most. */
    ck_assert_int_le(lost_after_crash(true, "50ms"), 30);
}
END_TEST

/* ---- Placement. ---- */

START_TEST(test_kv_join_moves_about_one_over_n_plus_one) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":10,\"duration\":\"2s\","
                     "\"kv\":{\"n\":3,\"vnodes\":64,\"membership\":[{\"at\":\"1s\","
                     "\"join\":\"n9\"}],\"workload\":{\"clients\":1,\"keys\":100000,"
                     "\"rate_per_s\":10}}}");
    sim_run(s);
    kv_shared *k = kv_of(s);
    ck_assert_int_eq(k->membership_changes, 1);
    /* Expect 1/10; one member's share with 64 vnodes has relative SD
     * sqrt(9 / (10 * 64 + 1)) = 0.12, so 0.1 +- 0.04 is over 3 SD. */
    ck_assert_double_ge(k->moved_fraction_last, 0.06);
    ck_assert_double_le(k->moved_fraction_last, 0.14);
    sim_destroy(s);
}
END_TEST

START_TEST(test_kv_modulo_join_moves_most_keys) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":10,\"duration\":\"2s\","
                     "\"kv\":{\"n\":3,\"partitioner\":\"modulo\",\"membership\":[{\"at\":\"1s\","
                     "\"join\":\"n9\"}],\"workload\":{\"clients\":1,\"keys\":100000,"
                     "\"rate_per_s\":10}}}");
    sim_run(s);
    /* n/(n+1) = 0.9 of keys change their first replica. */
    ck_assert_double_ge(kv_of(s)->moved_fraction_last, 0.88);
    ck_assert_double_le(kv_of(s)->moved_fraction_last, 0.92);
    sim_destroy(s);
}
END_TEST

/* ---- Availability under a partition. ---- */

START_TEST(test_kv_quorum_fails_when_partitioned_away) {
    /* During the partition the clients reach only n0, which cannot gather
     * two replies for anything: every operation issued then fails. */
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":3,\"duration\":\"4s\","
                     "\"network\":{\"latency\":\"1ms\"},"
                     "\"faults\":[{\"at\":\"1s\",\"partition\":[[\"n0\",\"client\"],"
                     "[\"n1\",\"n2\"]]},{\"at\":\"3s\",\"heal\":true}],"
                     "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"request_timeout\":\"100ms\","
                     "\"workload\":{\"clients\":2,\"keys\":100,\"rate_per_s\":200}}}");
    sim_run(s);
    kv_oracle *o = &kv_of(s)->oracle;
    int64_t failed = o->reads_failed + o->writes_failed;
    int64_t done = failed + o->reads_ok + o->writes_ok;
    /* Half the time partitioned: about half the operations fail. */
    ck_assert_int_gt(failed, done * 4 / 10);
    ck_assert_int_lt(failed, done * 6 / 10);
    ck_assert_int_eq(o->stale, 0);
    sim_destroy(s);
}
END_TEST

/* A duplicated client request is coordinated twice; the write commits once
 * in the oracle's books and every operation still finishes. */
START_TEST(test_kv_survives_duplicated_messages) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":5,\"duration\":\"5s\","
                     "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"},"
                     "\"duplicate\":0.2},"
                     "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"workload\":{\"clients\":4,"
                     "\"keys\":50,\"rate_per_s\":2000,\"read_fraction\":0.5}}}");
    sim_run(s);
    kv_oracle *o = &kv_of(s)->oracle;
    ck_assert_int_gt(s->kval[KC_DUPLICATED], 1000);
    ck_assert_int_eq(o->reads_failed + o->writes_failed, 0);
    ck_assert_int_eq(o->stale, 0); /* R + W > N still holds */
    ck_assert_int_ge(o->writes_ok + o->reads_ok + kv_of(s)->ops_in_flight,
                     o->writes_started + o->reads_started);
    sim_destroy(s);
}
END_TEST

/* ---- Determinism and bad input. ---- */

START_TEST(test_kv_same_seed_same_hash) {
    const char *text = "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"3s\","
                       "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}},"
                       "\"kv\":{\"n\":3,\"r\":1,\"w\":1,\"workload\":{\"clients\":3,"
                       "\"keys\":100,\"rate_per_s\":1000,\"popularity\":\"zipf\"}}}";
    sim *a = kv_load(text), *b = kv_load(text);
    sim_run(a);
    sim_run(b);
    ck_assert_uint_eq(sim_trace_hash(a), sim_trace_hash(b));
    ck_assert_int_eq(kv_of(a)->oracle.stale, kv_of(b)->oracle.stale);
    sim_destroy(a);
    sim_destroy(b);
}
END_TEST

START_TEST(test_kv_rejects_impossible_quorums) {
    ck_assert_str_eq(kv_error("{\"model\":\"kv\",\"nodes\":5,\"kv\":{\"n\":3,\"r\":4}}"),
                     "$.kv.r: r = 4 is more than n = 3 (a read asks at most the n replicas of "
                     "a key)");
    ck_assert_str_eq(kv_error("{\"model\":\"kv\",\"nodes\":2,\"kv\":{\"n\":3}}"),
                     "$.kv.n: n = 3 replicas, but there are only 2 servers ($.nodes)");
}
END_TEST

/* Split points from the scenario place ranges where the user says: with
 * splits at 10 and 20 over 4 servers, keys 0-9 go to the first server,
 * 10-19 to the second, 20 and up to the third (and the fourth holds only
 * replicas). */
START_TEST(test_kv_split_points_place_ranges) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":4,\"duration\":\"1s\","
                     "\"kv\":{\"n\":1,\"r\":1,\"w\":1,\"partitioner\":\"range\","
                     "\"split_points\":[10,20],\"workload\":{\"keys\":100}}}");
    kv_shared *k = kv_of(s);
    ck_assert_uint_eq(k->ring.n_splits, 2);
    const uint32_t want[][2] = {{0, 0}, {9, 0}, {10, 1}, {19, 1}, {20, 2}, {99, 2}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t pref[KV_MAX_N];
        ck_assert_uint_eq(kv_ring_preflist(&k->ring, want[i][0], pref), 1);
        ck_assert_uint_eq(pref[0], want[i][1]);
    }
    sim_destroy(s);
    ck_assert_str_eq(kv_error("{\"model\":\"kv\",\"nodes\":4,\"kv\":{\"split_points\":[10]}}"),
                     "$.kv.split_points: only the range partitioner takes split points");
}
END_TEST

static Suite *kv_suite(void) {
    Suite *s = suite_create("kv");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_kv_pbs_k_staleness_3_1_1);
    tcase_add_test(tc, test_kv_pbs_k_staleness_3_1_2);
    tcase_add_test(tc, test_kv_pbs_k_staleness_5_2_2);
    tcase_add_test(tc, test_kv_strict_quorum_is_never_stale);
    tcase_add_test(tc, test_kv_partial_quorum_shows_stale_reads);
    tcase_add_test(tc, test_kv_wars_fast_writes);
    tcase_add_test(tc, test_kv_wars_equal_means);
    tcase_add_test(tc, test_kv_wars_slow_writes);
    tcase_add_test(tc, test_kv_lww_clock_skew_loses_acknowledged_writes);
    tcase_add_test(tc, test_kv_durable_storage_survives_crashes);
    tcase_add_test(tc, test_kv_join_moves_about_one_over_n_plus_one);
    tcase_add_test(tc, test_kv_modulo_join_moves_most_keys);
    tcase_add_test(tc, test_kv_quorum_fails_when_partitioned_away);
    tcase_add_test(tc, test_kv_survives_duplicated_messages);
    tcase_add_test(tc, test_kv_same_seed_same_hash);
    tcase_add_test(tc, test_kv_rejects_impossible_quorums);
    tcase_add_test(tc, test_kv_split_points_place_ranges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(kv_suite()); }
