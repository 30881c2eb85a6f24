/*
 * test_web.c - the web model (models/web): queueing theory (random
 * assignment against M/M/1, one big server against Erlang C, power of two
 * choices against the supermarket model), consistent hashing and mod-N
 * against their ideal remapping, sessions through scale events and crashes,
 * health checks, request accounting under chaos, determinism.
 *
 * Scenarios are JSON text loaded by the kernel's loader, as a user's would
 * be.  The queueing tests set the network latency to 0 so that the servers
 * are the only delay and read web's server_time_mean_ms (arrival at the
 * server to the answer).  Each statistical bound is 4 standard deviations
 * of the estimate, the deviation measured over 8-10 seeds of the same run
 * (recorded next to each test); the seeds here are fixed, so the tests are
 * deterministic, and a 4-SD bound fails by chance about once in 16000.
 *
 * Debugging one case:  CK_FORK=no CK_RUN_CASE=queueing ./build/tests/test_web
 */
#include "web_util.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DSIM_SOURCE_DIR
#define DSIM_SOURCE_DIR "."
#endif

static web_shared *shared_of(sim *s) { return s->shared; }

/* Open-loop Poisson load: `users` users each sending at 1/s (exponential
 * think time), exponential service of mean `svc`, no network delay. */
#define QUEUEING                                                                                   \
    "{\"model\": \"web\", \"seed\": %d, \"duration\": \"%s\","                                     \
    " \"network\": {\"latency\": {\"type\": \"constant\", \"value\": \"0ms\"}},"                   \
    " \"web\": {\"users\": {\"count\": %d, \"loop\": \"open\","                                    \
    " \"think_time\": {\"type\": \"exponential\", \"mean\": \"1s\"}},"                             \
    " \"classes\": [{\"name\": \"req\", \"service\": {\"type\": \"exponential\", \"mean\": "       \
    "\"%s\"}}],"                                                                                   \
    " \"servers\": {\"count\": %d, \"workers\": %d, \"queue\": 100000},"                           \
    " \"balancer\": {\"policy\": \"%s\"}}}"

/* ---- queueing ------------------------------------------------------------ */

/*
 * Random assignment to c = 10 single-worker servers: each sees a Poisson
 * stream of lambda = 100/s with mu = 125/s (rho = 0.8), an M/M/1 queue:
 * mean time at the server 1 / (mu - lambda) = 40 ms, in the queue
 * rho / (mu - lambda) = 32 ms.  Over 10 seeds of 100 s the mean time had
 * SD 1.15 ms: bound 4.6 ms (and the same for the wait).
 */
START_TEST(test_random_assignment_matches_mm1) {
    run r = run_fmt(QUEUEING, 3, "100s", 1000, "8ms", 10, 1, "random");
    double w = num(r.m, "server_time_mean_ms"), wq = num(r.m, "queue_wait_mean_ms");
    ck_assert_msg(fabs(w - 40) <= 4.6, "W = %.3f ms, M/M/1 40 ms", w);
    ck_assert_msg(fabs(wq - 32) <= 4.6, "Wq = %.3f ms, M/M/1 32 ms", wq);
    ck_assert_msg(fabs(num(r.m, "utilisation") - 0.8) <= 0.02, "utilisation %.4f",
                  num(r.m, "utilisation"));
    run_free(&r);
}
END_TEST

/* Erlang C: the probability of waiting with c servers and offered load a. */
static double erlang_c(int c, double a) {
    double term = 1, sum = 0;
    for (int k = 0; k < c; k++) {
        sum += term;
        term *= a / (k + 1);
    }
    double top = term / (1 - a / c);
    return top / (sum + top);
}

/*
 * The same load on one server with 10 workers is M/M/10: Erlang C gives
 * P(wait) = 0.409 and a mean wait C / (c mu - lambda) = 1.637 ms (SD over
 * 8 seeds of 100 s: 0.062 ms; bound 0.25 ms).  The pooling gain: its mean
 * time at the server (9.6 ms) is a quarter of the ten small servers' 40.
 */
START_TEST(test_big_server_matches_erlang_c) {
    run r = run_fmt(QUEUEING, 3, "100s", 1000, "8ms", 1, 10, "random");
    double wq_th = erlang_c(10, 8.0) / (10 * 125.0 - 1000.0) * 1000;
    ck_assert_msg(fabs(wq_th - 1.6367) < 0.001, "Erlang C itself: %.4f", wq_th);
    double wq = num(r.m, "queue_wait_mean_ms"), w = num(r.m, "server_time_mean_ms");
    ck_assert_msg(fabs(wq - wq_th) <= 0.25, "Wq = %.4f ms, Erlang C %.4f ms", wq, wq_th);
    ck_assert_msg(w < 40.0 / 3, "W = %.3f ms: the big server should pool", w);
    run_free(&r);
}
END_TEST

/*
 * Power of two choices (Mitzenmacher's supermarket model): at lambda = 0.9
 * per server the mean time in system tends, as n grows, to
 * sum_{i>=1} lambda^(2^i - 2) = 2.6137 service times (random: 10).  At
 * n = 100 the finite system is a little worse: 26.43 ms over 6 seeds of
 * 50 s (1.1 %% above the limit), SD 0.19 ms.  Bound: from the limit minus
 * 4 SD to the limit plus 3 %% plus 4 SD.  Random assignment on the same
 * load is checked to be near 10 service times, so the test tells them
 * apart.
 */
START_TEST(test_power_of_two_matches_supermarket_model) {
    double limit = 0;
    for (int i = 1; i < 10; i++)
        limit += pow(0.9, pow(2, i) - 2);
    ck_assert_msg(fabs(limit - 2.6137) < 0.001, "the series: %.4f", limit);
    run r = run_fmt(QUEUEING, 5, "50s", 9000, "10ms", 100, 1, "power_of_choices");
    double w = num(r.m, "server_time_mean_ms") / 10;
    ck_assert_msg(w >= limit - 0.076 && w <= limit * 1.03 + 0.076,
                  "W = %.4f service times, the supermarket limit %.4f", w, limit);
    run_free(&r);
    run q = run_fmt(QUEUEING, 5, "50s", 9000, "10ms", 100, 1, "random");
    double wr = num(q.m, "server_time_mean_ms") / 10;
    ck_assert_msg(wr > 8 && wr < 12, "random: W = %.3f service times, M/M/1 10", wr);
    run_free(&q);
}
END_TEST

/* Least connections on the same load is near join-the-shortest-queue:
 * better than two choices. */
START_TEST(test_least_connections_beats_two_choices) {
    run r = run_fmt(QUEUEING, 5, "20s", 9000, "10ms", 100, 1, "least_connections");
    double w = num(r.m, "server_time_mean_ms") / 10;
    ck_assert_msg(w < 1.5, "least connections: W = %.3f service times", w);
    run_free(&r);
}
END_TEST

/* ---- hashing -------------------------------------------------------------- */

#define HASHING                                                                                    \
    "{\"model\": \"web\", \"seed\": 1, \"duration\": \"10s\","                                     \
    " \"web\": {\"users\": {\"count\": 10000, \"think_time\": \"100s\"},"                          \
    " \"servers\": {\"count\": 10}, \"balancer\": {\"policy\": \"%s\"},"                           \
    " \"session\": {\"state\": \"stateful\"},"                                                     \
    " \"scale\": [{\"at\": \"3s\", \"action\": \"add\"},"                                          \
    " {\"at\": \"6s\", \"action\": \"remove\", \"server\": \"server3\"}]}}"

/*
 * Adding one server to n = 10 under consistent hashing moves 1/11 of the
 * users, all onto the new server; removing one moves its own users only.
 * The share a server owns with 100 vnodes varies by about 1/sqrt(100) of
 * itself: SD 0.009 around 0.0909, bound 0.04.  mod-N moves n/(n+1) = 0.909
 * (binomial over 10,000 users: SD 0.003, bound 0.012).
 */
START_TEST(test_consistent_hashing_moves_one_in_n_plus_one) {
    run r = run_fmt(HASHING, "consistent_hash");
    web_oracle *o = shared_of(r.s)->oracle;
    ck_assert_uint_eq(o->n_recs, 2);
    for (int i = 0; i < 2; i++) {
        const web_scale_rec *e = &o->recs[i];
        double f = (double)e->remapped / (double)e->users;
        ck_assert_msg(fabs(f - 1.0 / 11) <= 0.04, "event %d: %.4f of users moved", i, f);
    }
    ck_assert_int_eq(o->recs[0].onto_new, o->recs[0].remapped);
    ck_assert_int_eq(o->recs[1].onto_new, 0);
    ck_assert_uint_eq(o->recs[0].before, 10);
    ck_assert_uint_eq(o->recs[0].after, 11);
    ck_assert_uint_eq(o->recs[1].after, 10);
    run_free(&r);

    run m = run_fmt(HASHING, "hash_mod");
    o = shared_of(m.s)->oracle;
    for (int i = 0; i < 2; i++) {
        double f = (double)o->recs[i].remapped / (double)o->recs[i].users;
        ck_assert_msg(fabs(f - 10.0 / 11) <= 0.012, "mod-N event %d: %.4f moved", i, f);
    }
    run_free(&m);
}
END_TEST

/* ---- sessions ------------------------------------------------------------- */

#define SESSIONS                                                                                   \
    "{\"model\": \"web\", \"seed\": 2, \"duration\": \"20s\", %s"                                  \
    " \"web\": {\"users\": {\"count\": 400},"                                                      \
    " \"servers\": {\"count\": 4}, \"balancer\": {\"policy\": \"%s\", \"sticky\": \"%s\"},"        \
    " \"session\": {\"state\": \"%s\"} %s}}"

static const char *const scale_events =
    ", \"scale\": [{\"at\": \"5s\", \"action\": \"add\"},"
    " {\"at\": \"10s\", \"action\": \"remove\", \"server\": \"server1\"},"
    " {\"at\": \"15s\", \"action\": \"remove\", \"drain\": false}]";
static const char *const a_crash = "\"faults\": [{\"at\": \"7s\", \"crash\": [\"server2\"]}, "
                                   "{\"at\": \"9s\", \"recover\": [\"server2\"]}],";

/* Validation: with no faults and no scale events, sticky, hash and
 * stateless tiers lose no session and miss none; round robin with
 * stateful sessions misses (the control: the check can fail). */
START_TEST(test_no_faults_no_session_lost) {
    const char *tiers[][3] = {{"round_robin", "table", "stateful"},
                              {"least_connections", "cookie", "stateful"},
                              {"hash_mod", "none", "stateful"},
                              {"consistent_hash", "none", "stateful"},
                              {"round_robin", "none", "stateless"}};
    for (int i = 0; i < 5; i++) {
        run r = run_fmt(SESSIONS, "", tiers[i][0], tiers[i][1], tiers[i][2], "");
        ck_assert_msg(num(r.m, "sessions_lost") == 0, "%s/%s/%s lost %g", tiers[i][0], tiers[i][1],
                      tiers[i][2], num(r.m, "sessions_lost"));
        ck_assert_msg(num(r.m, "session_misses") == 0, "%s/%s/%s missed %g", tiers[i][0],
                      tiers[i][1], tiers[i][2], num(r.m, "session_misses"));
        ck_assert_int_eq((int)num(r.m, "logins"), 400);
        run_free(&r);
    }
    run c = run_fmt(SESSIONS, "", "round_robin", "none", "stateful", "");
    ck_assert_msg(num(c.m, "session_misses") > 1000, "round robin, stateful: %g misses",
                  num(c.m, "session_misses"));
    run_free(&c);
}
END_TEST

/* A stateless tier loses no session at any scale event or server crash;
 * a stateful one does, and a crash loses exactly the sessions the server
 * held (each user who comes back then misses). */
START_TEST(test_stateless_loses_nothing_stateful_loses_what_it_held) {
    run r = run_fmt(SESSIONS, a_crash, "round_robin", "none", "stateless", scale_events);
    ck_assert_int_eq((int)num(r.m, "sessions_lost"), 0);
    ck_assert_int_eq((int)num(r.m, "session_misses"), 0);
    ck_assert_int_gt((int)num(r.m, "store_reads"), 1000);
    run_free(&r);

    run s = run_fmt(SESSIONS, a_crash, "round_robin", "table", "stateful", scale_events);
    web_oracle *o = shared_of(s.s)->oracle;
    ck_assert_int_gt(o->lost_crash, 0);
    ck_assert_int_gt(o->lost_removed, 0);
    ck_assert_int_gt(o->misses_lost, 0);
    /* Every lost session's user missed at most once for it. */
    ck_assert_int_le(o->misses_lost, o->lost_crash + o->lost_removed);
    run_free(&s);
}
END_TEST

/* Sticky sessions keep every user on its server through a scale-out (no
 * miss); round robin spreads the new server's share of misses. */
START_TEST(test_sticky_sessions_survive_scale_out) {
    const char *add = ", \"scale\": [{\"at\": \"5s\", \"action\": \"add\"}]";
    run r = run_fmt(SESSIONS, "", "least_connections", "table", "stateful", add);
    ck_assert_int_eq((int)num(r.m, "session_misses"), 0);
    run_free(&r);
    run h = run_fmt(SESSIONS, "", "hash_mod", "none", "stateful", add);
    /* About 4/5 of the users move under mod-N: each misses once. */
    double m = num(h.m, "session_misses");
    ck_assert_msg(m > 0.7 * 400 && m < 0.9 * 400, "mod-N scale-out: %g misses", m);
    run_free(&h);
}
END_TEST

/* Draining with migration moves the sessions to where the users hash: no
 * session lost, none missed for the removed server. */
START_TEST(test_drain_with_migration_loses_nothing) {
    const char *rm = ", \"scale\": [{\"at\": \"5s\", \"action\": \"remove\", \"migrate\": true}]";
    run r = run_fmt(SESSIONS, "", "consistent_hash", "none", "stateful", rm);
    ck_assert_int_eq((int)num(r.m, "sessions_lost"), 0);
    ck_assert_int_eq((int)num(r.m, "session_misses"), 0);
    ck_assert_int_gt((int)num(r.m, "sessions_migrated"), 50);
    run_free(&r);
}
END_TEST

/* ---- failures ------------------------------------------------------------- */

#define HEALTH                                                                                     \
    "{\"model\": \"web\", \"seed\": 4, \"duration\": \"30s\","                                     \
    " \"faults\": [{\"at\": \"5s\", \"crash\": [\"server0\"]}],"                                   \
    " \"web\": {\"users\": {\"count\": 200}, \"servers\": {\"count\": 4},"                         \
    " \"balancer\": {\"policy\": \"round_robin\", \"health\": {\"interval\": \"%s\"}}}}"

/* Health checks take a dead server out of rotation after two missed
 * rounds; without them every fourth request waits for the balancer's
 * timeout and is retried, to the end of the run. */
START_TEST(test_health_checks_stop_sending_to_a_dead_server) {
    run h = run_fmt(HEALTH, "1s");
    run n = run_fmt(HEALTH, "0s");
    double rh = num(h.m, "retries"), rn = num(n.m, "retries");
    /* 200 users in a closed loop: without health checks a quarter of the
     * requests wait 2 s and are retried, so a cycle takes 1.5 s on average:
     * 133 requests/s, 33 retries/s for 25 s (830).  With them, only the
     * 2-3 s until two rounds are missed. */
    ck_assert_msg(rh < 150, "with health checks: %g retries", rh);
    ck_assert_msg(rn > 700 && rn < 960, "without: %g retries", rn);
    ck_assert_msg(num(h.m, "availability") > 0.999 && num(n.m, "availability") > 0.999,
                  "retries hide the dead server from users: %g, %g", num(h.m, "availability"),
                  num(n.m, "availability"));
    ck_assert_msg(num(n.m, "latency_p99_ms") > 1000,
                  "without health checks the p99 holds a "
                  "timeout: %g ms",
                  num(n.m, "latency_p99_ms"));
    run_free(&h);
    run_free(&n);
}
END_TEST

/* Invariant (1) of web.c under chaos (random crashes of servers and a
 * balancer, overload, scale events): every request ends exactly once. */
START_TEST(test_every_request_ends_once_under_chaos) {
    const char *text =
        "{\"model\": \"web\", \"seed\": 9, \"duration\": \"30s\","
        " \"random_faults\": {\"crash\": {\"nodes\": [\"server0\", \"server1\", \"lb1\","
        " \"store0\"], \"mtbf\": \"4s\", \"mttr\": \"1s\"}},"
        " \"web\": {\"users\": {\"count\": 150, \"loop\": \"open\", \"session_length\": \"3s\","
        " \"away\": \"1s\"}, \"servers\": {\"count\": 3, \"queue\": 50},"
        " \"balancer\": {\"count\": 2, \"policy\": \"power_of_choices\", \"timeout\": \"500ms\"},"
        " \"session\": {\"state\": \"stateless\", \"store\": {\"durable\": false}},"
        " \"scale\": [{\"at\": \"10s\", \"action\": \"add\"}, {\"at\": \"20s\", \"action\":"
        " \"remove\", \"count\": 2}]}}";
    run r = run_text(text);
    web_oracle *o = shared_of(r.s)->oracle;
    int64_t ended = 0;
    for (int e = 0; e < WEB_END_COUNT; e++)
        ended += o->ends[e];
    ck_assert_int_eq(o->requests, ended + (int64_t)num(r.m, "in_flight_at_end") + o->abandoned);
    ck_assert_int_eq(o->abandoned, 0);
    ck_assert_int_gt(o->ends[WEB_END_TIMEOUT] + o->ends[WEB_END_REJECTED], 0);
    ck_assert_int_gt(o->ends[WEB_END_OK], o->requests / 2);
    ck_assert_int_gt(o->lost_crash, 0); /* the volatile store crashed */
    /* Invariant (3) of web_oracle.c. */
    int64_t sum = 0;
    for (uint32_t h = 0; h < WEB_MAX_SERVERS + WEB_MAX_STORES; h++)
        sum += o->live_on[h];
    ck_assert_int_eq(sum, o->live);
    run_free(&r);
}
END_TEST

/* ---- scaling -------------------------------------------------------------- */

/* The autoscaler adds servers when a spike triples the load and drains
 * them after it; the bill counts every server-hour. */
START_TEST(test_autoscaler_follows_a_spike) {
    const char *text =
        "{\"model\": \"web\", \"seed\": 1, \"duration\": \"180s\","
        " \"web\": {\"users\": {\"count\": 150, \"loop\": \"open\"},"
        " \"servers\": {\"count\": 2},"
        " \"load\": [{\"at\": \"60s\", \"factor\": 3}, {\"at\": \"120s\", \"factor\": 1}],"
        " \"autoscale\": {\"enabled\": true, \"target_utilisation\": 0.5, \"interval\": \"5s\","
        " \"boot_time\": \"10s\", \"cooldown\": \"10s\", \"min\": 2, \"max\": 12}}}";
    run r = run_text(text);
    web_shared *p = shared_of(r.s);
    ck_assert_int_gt(p->as_actions, 1);
    /* After the spike the tier shrinks back towards min. */
    ck_assert_uint_le(p->n_in_service, 4);
    double hours = num(r.m, "server_hours");
    ck_assert_msg(hours > 2 * 180 / 3600.0 * 1.2, "server-hours %.4f: the spike added none", hours);
    run_free(&r);
}
END_TEST

/* ---- determinism ----------------------------------------------------------- */

START_TEST(test_same_seed_same_trace_hash_other_seed_differs) {
    const char *sets7[] = {"seed=7"}, *sets8[] = {"seed=8"};
    char text[4096];
    snprintf(text, sizeof text, SESSIONS, a_crash, "power_of_choices", "cookie", "stateful",
             scale_events);
    sim *a = load_text_ok(text, web_models, sets7, 1);
    sim *b = load_text_ok(text, web_models, sets7, 1);
    sim *c = load_text_ok(text, web_models, sets8, 1);
    sim_run(a);
    sim_run(b);
    sim_run(c);
    ck_assert_uint_eq(sim_trace_hash(a), sim_trace_hash(b));
    ck_assert_uint_ne(sim_trace_hash(a), sim_trace_hash(c));
    ck_assert_int_eq(shared_of(a)->oracle->requests, shared_of(b)->oracle->requests);
    sim_destroy(a);
    sim_destroy(b);
    sim_destroy(c);
}
END_TEST

/* Every policy runs, and a sticky table costs what the estimate says. */
START_TEST(test_every_policy_serves) {
    static const char *const pols[] = {
        "round_robin",   "weighted_round_robin", "random",   "least_connections",
        "least_latency", "power_of_choices",     "hash_mod", "consistent_hash"};
    for (int i = 0; i < 8; i++) {
        run r = run_fmt(SESSIONS, "", pols[i], "none", "none", "");
        ck_assert_msg(num(r.m, "availability") == 1, "%s: availability %g", pols[i],
                      num(r.m, "availability"));
        ck_assert_msg(num(r.m, "served_max_over_mean") < 1.6, "%s: imbalance %g", pols[i],
                      num(r.m, "served_max_over_mean"));
        run_free(&r);
    }
}
END_TEST

/* Weighted round robin serves in proportion to the weights, exactly. */
START_TEST(test_weighted_round_robin_follows_weights) {
    run r = run_text("{\"model\": \"web\", \"duration\": \"20s\", \"web\": {\"users\": "
                     "{\"count\": 100}, \"servers\": {\"count\": 3}, \"balancer\": {\"policy\": "
                     "\"weighted_round_robin\", \"weights\": [1, 2, 3]}}}");
    int64_t served[3];
    for (uint32_t i = 0; i < 3; i++) {
        web_node *nd = sim_node_state(r.s, web_server_node(shared_of(r.s), i));
        served[i] = nd->srv->served;
    }
    /* Smooth WRR is exact per cycle of 6 picks; what is still queued at
     * the end (a few requests) is not served yet. */
    int64_t total = served[0] + served[1] + served[2];
    for (int i = 0; i < 3; i++)
        ck_assert_msg(llabs(served[i] * 6 - total * (i + 1)) <= 6 * 10,
                      "server%d served %lld of %lld", i, (long long)served[i], (long long)total);
    run_free(&r);
}
END_TEST

/* ---- Pooled arrivals (users.arrivals "pooled"). ---- */

/* Open-loop users of exponential think time on `clients` nodes: args
 * seed, duration, users, clients, arrivals, think mean, the rest of the
 * users object, and the scenario's extra top-level keys (faults). */
#define POOLED                                                                                     \
    "{\"model\": \"web\", \"seed\": %d, \"duration\": \"%s\", %s"                                  \
    " \"web\": {\"users\": {\"count\": %d, \"clients\": %d, \"loop\": \"open\","                   \
    " \"arrivals\": \"%s\", \"think_time\": {\"type\": \"exponential\", \"mean\": \"%s\"} %s},"    \
    " \"classes\": [{\"name\": \"page\", \"service\": {\"type\": \"constant\", \"value\": "        \
    "\"1ms\"}}], \"servers\": {\"count\": 4, \"workers\": 8}}}"

/* |x - want| <= tol, with the figures in the message. */
static void expect_near(const char *what, double x, double want, double tol) {
    ck_assert_msg(fabs(x - want) <= tol, "%s: %.0f, expected %.0f +- %.0f", what, x, want, tol);
}

/* The per-user counts' variance over their mean (1 for Poisson counts). */
static double dispersion(const run *r) {
    const web_shared *p = r->s->shared;
    const web_ustat *u = p->oracle->ustat;
    ck_assert_ptr_nonnull(u);
    double sum = 0, sq = 0, n = (double)p->n_users;
    for (int64_t i = 0; i < p->n_users; i++)
        sum += u[i].requests;
    double mean = sum / n;
    for (int64_t i = 0; i < p->n_users; i++)
        sq += (u[i].requests - mean) * (u[i].requests - mean);
    return sq / (n - 1) / mean;
}

/*
 * 2000 users on 4 client nodes, each a Poisson stream of mean gap 2 s, for
 * 100 s: 100,000 requests expected, Poisson SD 316, bound 4 SD = 1265.
 * Each user's count is Poisson(50), so their variance over their mean is
 * 1, with SD sqrt(2 / 2000 + 1 / (2000 x 50)) = 0.032: bound 4 SD = 0.13.
 * Both ways of drawing them pass the same bounds (the same process), the
 * pooled run is byte-identical twice, and its draws differ from the
 * per-user run's.  A crash of client0 from 30 s to 40 s silences its 500
 * users for 10 s: 2,500 fewer requests expected.
 */
START_TEST(test_pooled_arrivals_are_each_users_poisson_stream) {
    const char *mode[2] = {"per_user", "pooled"};
    uint64_t hash[2];
    for (int m = 0; m < 2; m++) {
        run r = run_fmt(POOLED, 3, "100s", "", 2000, 4, mode[m], "2s", "");
        expect_near(mode[m], num(r.m, "requests"), 100000, 1265);
        double d = dispersion(&r);
        ck_assert_msg(fabs(d - 1) <= 0.13, "%s: dispersion %.3f", mode[m], d);
        hash[m] = sim_trace_hash(r.s);
        if (m == 1)
            ck_assert_int_eq((int64_t)num(r.m, "pooled_arrivals_dropped"), 0);
        run_free(&r);
    }
    ck_assert_uint_ne(hash[0], hash[1]);
    run again = run_fmt(POOLED, 3, "100s", "", 2000, 4, "pooled", "2s", "");
    ck_assert_uint_eq(sim_trace_hash(again.s), hash[1]);
    run_free(&again);
    const char *crash = "\"faults\": [{\"at\": \"30s\", \"crash\": [\"client0\"]},"
                        " {\"at\": \"40s\", \"recover\": [\"client0\"]}],";
    for (int m = 0; m < 2; m++) {
        run r = run_fmt(POOLED, 3, "100s", crash, 2000, 4, mode[m], "2s", "");
        /* Requests issued; those client0 waited for at the crash are
         * abandoned, not ended, but were counted when issued. */
        expect_near(mode[m], num(r.m, "requests"), 97500, 1265);
        run_free(&r);
    }
}
END_TEST

/*
 * Sessions of 5 s, then 5 s away, think time Exp(1 s), 200 users for
 * 1000 s.  A cycle is a login, the session's Poisson(5) requests, the
 * request that finds the session over (the logout, not counted), which
 * comes an Exp(1 s) after its end, and the time away: C = 11 s on average
 * (E[C^2] = 122), so a user sends r = (1 + 5) / 11 requests a second.
 * Over a finite run a renewal-reward count is r t + r E[C^2] / (2 E[C]) -
 * E[sum of the rewards' times into their cycle] / E[C], less r times the
 * first think time: per user 3.025 - 12.5 / 11 - 0.545 = +1.34 requests,
 * so 200 x (1000 r + 1.34) = 109,360 expected (count variance about
 * 96,000 from the renewal-reward CLT: SD 310, bound 4 SD = 1250; six seeds
 * of each way gave 108,876 to 109,808).  Logouts: 200 x (1000 / 11 - 0.13)
 * = 18,156 (SD about 12: bound 100).  Pooled, the arrivals drawn for a
 * user away are dropped, 5 per cycle at 8.5 s into it on average: 200 x
 * (1000 x 5 / 11 - 1.80) = 90,549 (SD about 300: bound 1250).
 */
START_TEST(test_pooled_arrivals_thin_users_who_are_away) {
    const char *mode[2] = {"per_user", "pooled"};
    const char *sessions = ", \"session_length\": \"5s\", \"away\": \"5s\"";
    for (int m = 0; m < 2; m++) {
        run r = run_fmt(POOLED, 8, "1000s", "", 200, 2, mode[m], "1s", sessions);
        expect_near(mode[m], num(r.m, "requests"), 200 * (1000 * 6.0 / 11 + 1.34), 1250);
        const web_shared *p = r.s->shared;
        expect_near(mode[m], (double)p->oracle->logouts, 200 * (1000 / 11.0 - 0.13), 100);
        if (m == 1)
            expect_near("dropped", num(r.m, "pooled_arrivals_dropped"),
                        200 * (1000 * 5.0 / 11 - 1.80), 1250);
        run_free(&r);
    }
}
END_TEST

/*
 * 10 abusive users among 1000 on 3 client nodes (so each node's abusive
 * prefix differs: 4, 3 and 3 locals), thinking 10 times faster: they keep
 * their own timers while the rest are pooled.  Think time Exp(1 s), 100 s:
 * the abusive send 10 x 100 x 10 = 10,000 (SD 100: bound 400), the others
 * 990 x 100 = 99,000 (SD 315: bound 1260).
 */
START_TEST(test_pooled_arrivals_keep_abusive_users_apart) {
    run r = run_fmt(POOLED, 9, "100s", "", 1000, 3, "pooled", "1s",
                    ", \"abusive\": {\"count\": 10, \"think_factor\": 10}");
    expect_near("abusive", num(r.m, "abusive_requests"), 10000, 400);
    expect_near("normal", num(r.m, "normal_requests"), 99000, 1260);
    run_free(&r);
}
END_TEST

static Suite *web_suite(void) {
    Suite *s = suite_create("web");
    TCase *q = tcase_create("queueing");
    tcase_set_timeout(q, 120);
    tcase_add_test(q, test_random_assignment_matches_mm1);
    tcase_add_test(q, test_big_server_matches_erlang_c);
    tcase_add_test(q, test_power_of_two_matches_supermarket_model);
    tcase_add_test(q, test_least_connections_beats_two_choices);
    suite_add_tcase(s, q);
    TCase *h = tcase_create("hashing");
    tcase_add_test(h, test_consistent_hashing_moves_one_in_n_plus_one);
    suite_add_tcase(s, h);
    TCase *se = tcase_create("sessions");
    tcase_set_timeout(se, 60);
    tcase_add_test(se, test_no_faults_no_session_lost);
    tcase_add_test(se, test_stateless_loses_nothing_stateful_loses_what_it_held);
    tcase_add_test(se, test_sticky_sessions_survive_scale_out);
    tcase_add_test(se, test_drain_with_migration_loses_nothing);
    suite_add_tcase(s, se);
    TCase *f = tcase_create("failures");
    tcase_set_timeout(f, 60);
    tcase_add_test(f, test_health_checks_stop_sending_to_a_dead_server);
    tcase_add_test(f, test_every_request_ends_once_under_chaos);
    tcase_add_test(f, test_autoscaler_follows_a_spike);
    suite_add_tcase(s, f);
    TCase *a = tcase_create("arrivals");
    tcase_set_timeout(a, 120);
    tcase_add_test(a, test_pooled_arrivals_are_each_users_poisson_stream);
    tcase_add_test(a, test_pooled_arrivals_thin_users_who_are_away);
    tcase_add_test(a, test_pooled_arrivals_keep_abusive_users_apart);
    suite_add_tcase(s, a);
    TCase *d = tcase_create("determinism");
    tcase_set_timeout(d, 60);
    tcase_add_test(d, test_same_seed_same_trace_hash_other_seed_differs);
    tcase_add_test(d, test_every_policy_serves);
    tcase_add_test(d, test_weighted_round_robin_follows_weights);
    suite_add_tcase(s, d);
    return s;
}

int main(void) { return check_run(web_suite()); }
