/*
 * test_engine.c - the run loop and the context API, through a scriptable
 * probe model: ordering, timers and their cancellation, stopping, crashes,
 * recoveries and replacements, determinism of the trace hash, leaks.
 */
#include "check_util.h"
#include "engine_probe.h"

#include <signal.h>

/* ---- ordering ---- */

static void send_three(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    (void)n;
    if (sim_self(ctx) != 0)
        return;
    for (uint64_t i = 0; i < 3; i++)
        sim_send(ctx, 1, 2, &i, sizeof i, 0);
}

START_TEST(test_engine_equal_latency_messages_arrive_in_send_order) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"duration\":\"1s\","
                       "\"network\":{\"latency\":\"5ms\"}}",
                       send_three, NULL);
    probe_shared *p = probe_of(s);
    int k = 0;
    for (size_t i = 0; i < p->n_log; i++)
        if (p->log[i].hook == PROBE_MSG) {
            ck_assert_int_eq(p->log[i].t, 5 * SIM_MS);
            ck_assert_uint_eq(p->log[i].arg, (uint64_t)k);
            ck_assert_uint_eq(p->log[i].src, 0);
            ck_assert_uint_eq(p->log[i].type, 2);
            k++;
        }
    ck_assert_int_eq(k, 3);
    sim_destroy(s);
}
END_TEST

/* ---- timers ---- */

static void tick_init(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    n->timer = sim_timer_set(ctx, 0, 7, 0);
}

static void tick_again(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    (void)p;
    n->timer = sim_timer_set(ctx, SIM_S, kind, arg + 1);
}

START_TEST(test_engine_runs_events_at_duration_and_not_after) {
    sim *s =
        probe_run("{\"model\":\"probe\",\"nodes\":1,\"duration\":\"10s\"}", tick_init, tick_again);
    probe_shared *p = probe_of(s);
    int fired = 0;
    for (size_t i = 0; i < p->n_log; i++)
        if (p->log[i].hook == PROBE_TIMER) {
            ck_assert_int_eq(p->log[i].t, (sim_time)fired * SIM_S);
            ck_assert_uint_eq(p->log[i].arg, (uint64_t)fired);
            fired++;
        }
    ck_assert_int_eq(fired, 11); /* t = 0, 1, ..., 10 s inclusive */
    ck_assert_int_eq(s->now, 10 * SIM_S);
    sim_destroy(s);
}
END_TEST

START_TEST(test_engine_stops_at_max_events) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":1,\"duration\":\"1h\",\"max_events\":25}",
                       tick_init, tick_again);
    ck_assert_uint_eq(s->events, 25);
    sim_destroy(s);
}
END_TEST

static void cancel_init(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    sim_timer a = sim_timer_set(ctx, 2 * SIM_S, 1, 0);
    n->timer = sim_timer_set(ctx, 3 * SIM_S, 2, 0);
    ck_assert(sim_timer_cancel(ctx, a));
    ck_assert(!sim_timer_cancel(ctx, a));
    ck_assert(!sim_timer_cancel(ctx, SIM_TIMER_NONE));
}

static void cancel_self(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    (void)p;
    (void)kind;
    (void)arg;
    /* The running timer's own handle is no longer pending. */
    ck_assert(!sim_timer_cancel(ctx, n->timer));
}

START_TEST(test_engine_cancelled_timer_never_fires) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":1,\"duration\":\"10s\"}", cancel_init,
                       cancel_self);
    probe_shared *p = probe_of(s);
    int fired = 0;
    for (size_t i = 0; i < p->n_log; i++)
        if (p->log[i].hook == PROBE_TIMER) {
            ck_assert_uint_eq(p->log[i].type, 2);
            ck_assert_int_eq(p->log[i].t, 3 * SIM_S);
            fired++;
        }
    ck_assert_int_eq(fired, 1);
    sim_destroy(s);
}
END_TEST

static void negative_delay(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    (void)n;
    sim_timer_set(ctx, -1, 0, 0);
}

START_TEST(test_engine_timer_in_the_past_aborts) {
    probe_run("{\"model\":\"probe\",\"nodes\":1}", negative_delay, NULL);
}
END_TEST

static void stop_at_5(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    if (arg == 5)
        sim_stop(ctx);
    else
        tick_again(ctx, p, n, kind, arg);
}

START_TEST(test_engine_model_can_stop_the_run) {
    sim *s =
        probe_run("{\"model\":\"probe\",\"nodes\":1,\"duration\":\"1h\"}", tick_init, stop_at_5);
    ck_assert_int_eq(s->now, 5 * SIM_S);
    sim_destroy(s);
}
END_TEST

/* ---- crashes ---- */

/* Node 0 sends node 1 a message every 100 ms (arg = send time in ms), and
 * node 1 runs a timer every 100 ms. */
static void chatter_init(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    n->timer = sim_timer_set(ctx, 0, 1, 0);
}

static void chatter_tick(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind,
                         uint64_t arg) {
    (void)p;
    if (sim_self(ctx) == 0) {
        uint64_t ms = (uint64_t)(sim_now(ctx) / SIM_MS);
        sim_send(ctx, 1, 0, &ms, sizeof ms, 0);
    }
    n->timer = sim_timer_set(ctx, 100 * SIM_MS, kind, arg + 1);
}

START_TEST(test_engine_crash_drops_in_flight_messages_and_timers) {
    /* Latency 250 ms: messages sent at 0.8, 0.9 s are in flight at the crash
     * (1.05 s) and arrive during the down time or after recovery (1.45 s).
     * Messages sent while node 1 is down and arriving after it recovers are
     * delivered. */
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"duration\":\"3s\","
                       "\"network\":{\"latency\":\"250ms\"},"
                       "\"faults\":[{\"at\":\"1050ms\",\"crash\":\"n1\"},"
                       "{\"at\":\"1450ms\",\"recover\":\"n1\"}]}",
                       chatter_init, chatter_tick);
    probe_shared *p = probe_of(s);
    int crashes = 0, recovers = 0;
    for (size_t i = 0; i < p->n_log; i++) {
        probe_rec *r = &p->log[i];
        if (r->node != 1)
            continue;
        crashes += r->hook == PROBE_CRASH;
        recovers += r->hook == PROBE_RECOVER;
        if (r->hook == PROBE_MSG) {
            /* Sent at arg ms, arrives 250 ms later; sent 800..1000 ms
             * (in flight at the crash, or sent while down and arriving
             * before recovery) must be dropped. */
            ck_assert_int_eq(r->t, (sim_time)(r->arg + 250) * SIM_MS);
            ck_assert_msg(r->arg < 800 || r->arg >= 1200, "message sent at %llu ms delivered",
                          (unsigned long long)r->arg);
        }
        if (r->hook == PROBE_TIMER)
            /* Timers die at the crash and are not re-armed (the probe does
             * not re-arm on recover). */
            ck_assert_int_lt(r->t, 1050 * SIM_MS);
    }
    ck_assert_int_eq(crashes, 1);
    ck_assert_int_eq(recovers, 1);
    /* Messages sent 1200..2700 ms arrive at 1450..2950: 16 of them. */
    int late = 0;
    for (size_t i = 0; i < p->n_log; i++)
        late += p->log[i].node == 1 && p->log[i].hook == PROBE_MSG && p->log[i].arg >= 1200;
    ck_assert_int_eq(late, 16);
    ck_assert_int_gt(s->kval[KC_DROPPED_DOWN], 0);
    sim_destroy(s);
}
END_TEST

/* The model's fault hook sees each action once, in order, at its time, after
 * it took effect: a crashed node is down, a recovered or replaced one up
 * (the replacement already in its new incarnation). */
START_TEST(test_engine_fault_hook_sees_every_action_after_it_applies) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":3,\"duration\":\"5s\","
                       "\"faults\":[{\"at\":\"1s\",\"crash\":\"n1\"},"
                       "{\"at\":\"1s\",\"crash\":\"n1\"},"
                       "{\"at\":\"2s\",\"partition\":[\"n0\",[\"n1\",\"n2\"]]},"
                       "{\"at\":\"2500ms\",\"recover\":\"n1\"},"
                       "{\"at\":\"3s\",\"heal\":true},"
                       "{\"at\":\"4s\",\"replace\":\"n2\"}]}",
                       NULL, NULL);
    probe_shared *p = probe_of(s);
    static const struct {
        sim_time t;
        uint32_t node;
        const char *what;
        uint32_t incarnation;
    } want[] = {{SIM_S, 1, "crash", 0},           {2 * SIM_S, UINT32_MAX, "partition", 0},
                {2500 * SIM_MS, 1, "recover", 0}, {3 * SIM_S, UINT32_MAX, "heal", 0},
                {4 * SIM_S, 2, "crash", 0},       {4 * SIM_S, 2, "replace", 1}};
    size_t got = 0;
    for (size_t i = 0; i < p->n_log; i++) {
        probe_rec *r = &p->log[i];
        if (r->hook != PROBE_FAULT)
            continue;
        ck_assert_uint_lt(got, sizeof want / sizeof want[0]);
        ck_assert_int_eq(r->t, want[got].t);
        ck_assert_uint_eq(r->node, want[got].node);
        ck_assert_str_eq(probe_faults[r->type], want[got].what);
        ck_assert_uint_eq(r->incarnation, want[got].incarnation);
        got++;
    }
    ck_assert_uint_eq(got, sizeof want / sizeof want[0]);
    sim_destroy(s);
}
END_TEST

START_TEST(test_engine_replace_starts_an_empty_node) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"duration\":\"3s\","
                       "\"faults\":[{\"at\":\"1s\",\"fail\":\"n1\"},"
                       "{\"at\":\"1500ms\",\"recover\":\"n1\"},"
                       "{\"at\":\"2s\",\"replace\":\"n1\"}]}",
                       chatter_init, chatter_tick);
    probe_shared *p = probe_of(s);
    int inits = 0;
    for (size_t i = 0; i < p->n_log; i++) {
        probe_rec *r = &p->log[i];
        if (r->node != 1)
            continue;
        /* A failed node does not recover. */
        ck_assert(r->hook != PROBE_RECOVER);
        if (r->hook == PROBE_INIT) {
            ck_assert_uint_eq(r->incarnation, (uint32_t)inits);
            ck_assert_int_eq(r->t, inits ? 2 * SIM_S : 0);
            inits++;
        }
        if (r->hook == PROBE_MSG)
            ck_assert(r->t < SIM_S || r->t >= 2 * SIM_S);
    }
    ck_assert_int_eq(inits, 2);
    ck_assert(sim_node_up(s, 1));
    sim_destroy(s);
}
END_TEST

/* ---- determinism ---- */

static void random_chatter(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind,
                           uint64_t arg) {
    (void)p;
    uint32_t dst = sim_rng_below(sim_node_rng(ctx), sim_node_count(sim_of(ctx)));
    uint64_t x = sim_rng_u64(sim_node_rng(ctx));
    sim_send(ctx, dst, 0, &x, sizeof x, 0);
    n->timer = sim_timer_set(ctx, 10 * SIM_MS, kind, arg + 1);
}

static uint64_t chatter_hash(const char *seed_set) {
    const char *sets[] = {seed_set};
    char err[2048];
    sim *s = load_text_opts(
        "{\"model\":\"probe\",\"nodes\":8,\"duration\":\"5s\","
        "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"3ms\"},\"loss\":0.1},"
        "\"random_faults\":{\"crash\":{\"mtbf\":{\"type\":\"exponential\",\"mean\":\"1s\"},"
        "\"mttr\":\"200ms\"}}}",
        probe_models, sets, 1, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    probe_of(s)->init = chatter_init;
    probe_of(s)->timer = random_chatter;
    sim_run(s);
    uint64_t h = sim_trace_hash(s);
    sim_destroy(s);
    return h;
}

/* ---- The prefetch hook's lookahead. ---- */

/* What the hook was shown, in order: stage, the timer's argument, and how
 * many timers had fired when it was called. */
typedef struct peek_rec {
    int stage;
    uint64_t arg;
    size_t fired;
} peek_rec;
static peek_rec peeks[256];
static size_t n_peeks, n_fired;

static void peek_hook(const void *shared, const void *node, int stage, const sim_peek *ev) {
    (void)shared;
    (void)node;
    ck_assert(!ev->msg);
    if (n_peeks < 256)
        peeks[n_peeks++] = (peek_rec){stage, ev->arg, n_fired};
}

/* Twenty timers at 1, 2, ... 20 ms (argument i for the i-th) and nothing
 * else until the run's end. */
static void twenty_timers(sim_ctx *ctx, probe_shared *p, probe_node *n) {
    (void)p;
    (void)n;
    for (uint32_t i = 1; i <= 20; i++)
        sim_timer_set(ctx, (sim_time)i * SIM_MS, 0, i);
}
static void count_fired(sim_ctx *ctx, probe_shared *p, probe_node *n, uint32_t kind, uint64_t arg) {
    (void)ctx;
    (void)p;
    (void)n;
    (void)kind;
    ck_assert_uint_eq(arg, ++n_fired); /* in order */
}

/* While timer j is dispatched (j - 1 fired before it), stage 1 is shown
 * timer j + 1 and stage 0 timer j + 3, whenever the queue's sorted front
 * holds them: each stage sees the event it says, and most events are
 * seen by both.  A model with a hook runs as the same model without. */
START_TEST(test_engine_prefetch_hook_sees_the_events_ahead) {
    static sim_model with_hook;
    with_hook = probe_model;
    with_hook.prefetch = peek_hook;
    const sim_model *const models[] = {&with_hook, NULL};
    const char *text = "{\"model\":\"probe\",\"nodes\":1,\"duration\":\"1s\"}";
    n_peeks = n_fired = 0;
    sim *s = load_text_ok(text, models, NULL, 0);
    probe_of(s)->init = twenty_timers;
    probe_of(s)->timer = count_fired;
    sim_run(s);
    ck_assert_uint_eq(n_fired, 20);
    size_t seen[2] = {0, 0};
    for (size_t i = 0; i < n_peeks; i++) {
        /* Before the first timer fires, the kernel's time-series sample at
         * 0 is dispatched too: then timer 1 is the next event. */
        uint64_t dispatching = peeks[i].fired + 1;
        uint64_t ahead = peeks[i].stage == 0 ? 3 : 1, arg = peeks[i].arg;
        ck_assert_msg(arg == dispatching + ahead || (dispatching == 1 && arg == ahead),
                      "stage %d shown timer %llu while timer %llu ran", peeks[i].stage,
                      (unsigned long long)arg, (unsigned long long)dispatching);
        seen[peeks[i].stage]++;
    }
    /* The sample and 19 timers have a timer after them, the sample and 17
     * timers three after them: the front always shows them (queue.c tops
     * it up to SIM_QUEUE_AHEAD + 1 entries). */
    ck_assert_uint_eq(seen[1], 20);
    ck_assert_uint_eq(seen[0], 18);
    uint64_t h = sim_trace_hash(s);
    sim_destroy(s);
    s = probe_run(text, twenty_timers, NULL);
    ck_assert_uint_eq(sim_trace_hash(s), h);
    sim_destroy(s);
}
END_TEST

START_TEST(test_engine_same_seed_same_hash_other_seed_other_hash) {
    uint64_t a = chatter_hash("seed=7"), b = chatter_hash("seed=7"), c = chatter_hash("seed=8");
    ck_assert_uint_eq(a, b);
    ck_assert_uint_ne(a, c);
}
END_TEST

START_TEST(test_engine_frees_everything) {
    long before = sim_live_blocks();
    chatter_hash("seed=3");
    ck_assert_int_eq(sim_live_blocks(), before);
}
END_TEST

/* The time series has a row at 0, at every interval, and at the end. */
START_TEST(test_engine_samples_time_series) {
    sim *s = probe_run("{\"model\":\"probe\",\"nodes\":2,\"duration\":\"2500ms\","
                       "\"metrics\":{\"interval\":\"1s\"},"
                       "\"faults\":[{\"at\":\"1500ms\",\"crash\":\"n0\"}]}",
                       NULL, NULL);
    ck_assert_uint_eq(sim_metrics_n_samples(s->metrics), 4);
    sim_time expect[] = {0, SIM_S, 2 * SIM_S, 2500 * SIM_MS};
    /* Columns in registration order: the kernel counters, then nodes_up. */
    size_t col = KC_COUNT;
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(sim_metrics_sample_time(s->metrics, i), expect[i]);
        ck_assert_double_eq(sim_metrics_sample_value(s->metrics, i, col), i < 2 ? 2 : 1);
    }
    sim_destroy(s);
}
END_TEST

static Suite *engine_suite(void) {
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_engine_equal_latency_messages_arrive_in_send_order);
    tcase_add_test(tc, test_engine_runs_events_at_duration_and_not_after);
    tcase_add_test(tc, test_engine_stops_at_max_events);
    tcase_add_test(tc, test_engine_cancelled_timer_never_fires);
    tcase_add_test_raise_signal(tc, test_engine_timer_in_the_past_aborts, SIGABRT);
    tcase_add_test(tc, test_engine_model_can_stop_the_run);
    tcase_add_test(tc, test_engine_crash_drops_in_flight_messages_and_timers);
    tcase_add_test(tc, test_engine_replace_starts_an_empty_node);
    tcase_add_test(tc, test_engine_fault_hook_sees_every_action_after_it_applies);
    tcase_add_test(tc, test_engine_same_seed_same_hash_other_seed_other_hash);
    tcase_add_test(tc, test_engine_frees_everything);
    tcase_add_test(tc, test_engine_samples_time_series);
    tcase_add_test(tc, test_engine_prefetch_hook_sees_the_events_ahead);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(engine_suite()); }
