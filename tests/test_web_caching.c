/*
 * test_web_caching.c - the web model's client caches on the request path
 * (issue 12): the TTL closed form through the whole model, ETag never
 * showing a stale copy by itself, Last-Modified's one-second blind spot
 * exactly when the timing says, 304s costing less than full answers, and
 * every request accounted for with hits and eviction races.
 *
 * Scenarios are JSON text loaded by the kernel's loader, as a user's would
 * be; network latency is 0 or constant so that the timing is exact where
 * the test says so.  Debugging one case:
 *   CK_FORK=no CK_RUN_CASE=cache ./build/tests/test_web_caching
 */
#include "web_util.h"

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* One user and one item, zero network delay: args seed, duration, think
 * time JSON, users.cache object, the class's cache object, extra class
 * keys, web.changes. */
#define ONE_ITEM                                                                                   \
    "{\"model\": \"web\", \"seed\": %d, \"duration\": \"%s\","                                     \
    " \"network\": {\"latency\": {\"type\": \"constant\", \"value\": \"0ms\"}},"                   \
    " \"web\": {\"users\": {\"count\": 1, \"loop\": \"%s\", \"think_time\": %s,"                   \
    " \"cache\": {\"enabled\": true}},"                                                            \
    " \"classes\": [{\"name\": \"item\", \"items\": 1, \"service\": {\"type\": \"constant\","      \
    " \"value\": \"1ms\"}, \"cache\": %s %s}],"                                                    \
    " \"servers\": {\"count\": 1, \"workers\": 1}, \"changes\": %s}}"

/* One item behind a TTL cache, requests from `users` on `clients` nodes
 * (args: users, clients, arrivals, workers), Poisson at 10/s each.
 * No network delay and no service time. */
#define TTL_ITEM                                                                                   \
    "{\"model\": \"web\", \"seed\": 5, \"duration\": \"1000s\","                                   \
    " \"network\": {\"latency\": {\"type\": \"constant\", \"value\": \"0ms\"}},"                   \
    " \"web\": {\"users\": {\"count\": %d, \"clients\": %d, \"loop\": \"open\","                   \
    " \"arrivals\": \"%s\", \"think_time\": {\"type\": \"exponential\", \"mean\": \"100ms\"},"     \
    " \"cache\": {\"enabled\": true}},"                                                            \
    " \"classes\": [{\"name\": \"item\", \"items\": 1, \"service\": {\"type\": \"constant\","      \
    " \"value\": \"0ms\"}, \"cache\": {\"max_age\": \"200ms\", \"validators\": \"none\"}}],"       \
    " \"servers\": {\"count\": 1, \"workers\": %d}}}"

/*
 * A TTL cache under Poisson requests: with max-age T and requests at rate
 * lambda, each fetch starts a window of T in which every request hits, so
 * the hit ratio is lambda T / (1 + lambda T) (renewal-reward).  Here
 * lambda = 10/s, T = 200 ms: 2/3, with service and network at 0 so a fetch
 * takes no time.  1000 s gives about 3,300 cycles of 1 miss + Poisson(2)
 * hits; the ratio's SD is about (1 - p) sqrt(lambda T / cycles) /
 * (1 + lambda T) = 0.0027, bound 4 SD = 0.011.  The first request is the
 * login, which always goes to the server.
 */
START_TEST(test_ttl_hit_ratio_through_the_model) {
    run r = run_fmt(TTL_ITEM, 1, 1, "per_user", 1);
    double hits = num(r.m, "cache_hits"), reqs = num(r.m, "requests");
    double p = hits / reqs, want = 2.0 / 3;
    ck_assert_msg(fabs(p - want) <= 0.011, "hit ratio %.4f, lambda T / (1 + lambda T) %.4f", p,
                  want);
    /* Every miss is a full answer (no validators). */
    ck_assert_int_eq((int64_t)num(r.m, "full_responses"), (int64_t)(reqs - hits));
    ck_assert_int_eq((int64_t)num(r.m, "revalidations"), 0);
    run_free(&r);
}
END_TEST

/*
 * The same closed form with pooled arrivals (users.arrivals): 50 users of
 * one item, each its own cache, their requests drawn from one Poisson
 * stream per client node (2 nodes).  Each user still sees Poisson
 * requests at 10/s, so the hit ratio is 2/3 again: 50 x 1000 s / 0.3 s
 * cycles, SD (1/3) sqrt(2 / 166,667) / 3 = 0.0004, plus 50 logins
 * among 500,000 requests: bound 0.002.
 */
START_TEST(test_ttl_hit_ratio_with_pooled_arrivals) {
    run r = run_fmt(TTL_ITEM, 50, 2, "pooled", 64);
    double hits = num(r.m, "cache_hits"), reqs = num(r.m, "requests");
    double p = hits / reqs, want = 2.0 / 3;
    ck_assert_double_gt(reqs, 490000);
    ck_assert_msg(fabs(p - want) <= 0.002, "hit ratio %.4f, lambda T / (1 + lambda T) %.4f", p,
                  want);
    run_free(&r);
}
END_TEST

/*
 * If-Modified-Since at one-second resolution, one resource changed at
 * 1.2 s and 1.7 s, revalidated on every use (max-age 0), requests every
 * 100 ms (closed loop, 1 ms of service, no network delay).  The copy
 * fetched after 1.2 s is version 1 with Last-Modified 1 s; version 2 has
 * the same date, so every revalidation from 1.7 s on is answered 304 and
 * shows version 1: every copy shown after the second change is stale, and
 * none before.  The count is checked exactly against the same run cut at
 * 1.7 s (the runs are deterministic, so the longer one begins with it).
 * With If-None-Match the same timeline shows no stale copy, and with the
 * second change moved to 2.3 s (another second) neither does
 * Last-Modified.
 */
START_TEST(test_last_modified_misses_a_change_within_its_second) {
    const char *changes12 = "[{\"at\": \"1200ms\"}, {\"at\": \"1700ms\"}]";
    const char *think = "{\"type\": \"constant\", \"value\": \"100ms\"}";
    run lm = run_fmt(ONE_ITEM, 1, "3s", "closed", think,
                     "{\"no_cache\": true, \"validators\": \"last_modified\"}", "", changes12);
    run cut = run_fmt(ONE_ITEM, 1, "1700ms", "closed", think,
                      "{\"no_cache\": true, \"validators\": \"last_modified\"}", "", changes12);
    int64_t after = (int64_t)num(lm.m, "shown") - (int64_t)num(cut.m, "shown");
    ck_assert_int_ge(after, 10);
    ck_assert_int_eq((int64_t)num(lm.m, "stale_last_modified"), after);
    ck_assert_int_eq((int64_t)num(lm.m, "stale_shown"), after);
    ck_assert_int_eq((int64_t)num(cut.m, "stale_shown"), 0);
    run_free(&lm);
    run_free(&cut);

    run et = run_fmt(ONE_ITEM, 1, "3s", "closed", think,
                     "{\"no_cache\": true, \"validators\": \"etag\"}", "", changes12);
    ck_assert_int_eq((int64_t)num(et.m, "stale_shown"), 0);
    ck_assert_int_gt((int64_t)num(et.m, "not_modified"), 10);
    run_free(&et);

    run apart = run_fmt(ONE_ITEM, 1, "3s", "closed", think,
                        "{\"no_cache\": true, \"validators\": \"last_modified\"}", "",
                        "[{\"at\": \"1200ms\"}, {\"at\": \"2300ms\"}]");
    ck_assert_int_eq((int64_t)num(apart.m, "stale_shown"), 0);
    run_free(&apart);

    /* Both validators: the server needs both to match, so ETag decides. */
    run both = run_fmt(ONE_ITEM, 1, "3s", "closed", think,
                       "{\"no_cache\": true, \"validators\": \"both\"}", "", changes12);
    ck_assert_int_eq((int64_t)num(both.m, "stale_shown"), 0);
    run_free(&both);
}
END_TEST

/* Many users over a Zipf catalogue whose items change (Poisson): with
 * max-age the stale copies shown are fresh hits (max-age not run out), and
 * with ETag and no max-age no copy is stale by the cache's doing (only
 * answers overtaken by a change while they travelled, which no cache can
 * prevent).  A 304 costs the server only the check: less work in all than
 * without validators, for the same requests. */
#define CATALOGUE                                                                                  \
    "{\"model\": \"web\", \"seed\": %d, \"duration\": \"60s\","                                    \
    " \"web\": {\"users\": {\"count\": 200, \"think_time\": {\"type\": \"exponential\","           \
    " \"mean\": \"500ms\"}, \"cache\": {\"enabled\": %s, \"entries\": %d}},"                       \
    " \"classes\": [{\"name\": \"product\", \"items\": 1000, \"zipf\": 1.0,"                       \
    " \"change_rate_per_s\": 0.01, \"service\": {\"type\": \"exponential\", \"mean\": \"10ms\"},"  \
    " \"cache\": %s}],"                                                                            \
    " \"servers\": {\"count\": 2, \"workers\": 4}}}"

START_TEST(test_causes_of_stale_copies) {
    run age =
        run_fmt(CATALOGUE, 2, "true", 1000, "{\"max_age\": \"5s\", \"validators\": \"etag\"}");
    ck_assert_int_gt((int64_t)num(age.m, "stale_max_age"), 0);
    ck_assert_int_eq((int64_t)num(age.m, "stale_last_modified"), 0);
    ck_assert_int_gt((int64_t)num(age.m, "cache_hits"), 0);
    run etag =
        run_fmt(CATALOGUE, 2, "true", 1000, "{\"no_cache\": true, \"validators\": \"etag\"}");
    ck_assert_int_eq((int64_t)num(etag.m, "stale_max_age"), 0);
    ck_assert_int_eq((int64_t)num(etag.m, "stale_last_modified"), 0);
    ck_assert_int_eq((int64_t)num(etag.m, "cache_hits"), 0);
    ck_assert_int_gt((int64_t)num(etag.m, "not_modified"), 0);
    /* In flight only: at most a handful in 20,000 shown. */
    ck_assert_int_le((int64_t)num(etag.m, "stale_shown"), 20);
    run none =
        run_fmt(CATALOGUE, 2, "true", 1000, "{\"no_cache\": true, \"validators\": \"none\"}");
    ck_assert_int_eq((int64_t)num(none.m, "not_modified"), 0);
    /* Same load, but every revalidation a full answer: more server work.
     * A 304's work is the ETag check only (5 us per KiB of 20 KB = 98 us). */
    double w304 = num(etag.m, "server_work_304_s"), n304 = num(etag.m, "not_modified");
    ck_assert_msg(fabs(w304 / n304 - 97.65625e-6) < 1e-9, "work per 304 %.9f s", w304 / n304);
    ck_assert_double_lt(num(etag.m, "server_work_full_s") + w304,
                        0.8 * num(none.m, "server_work_full_s"));
    run off = run_fmt(CATALOGUE, 2, "false", 1000, "{\"max_age\": \"5s\"}");
    ck_assert_int_eq((int64_t)num(off.m, "stale_max_age"), 0);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(off.m, "cache_hits"));
    run_free(&age);
    run_free(&etag);
    run_free(&none);
    run_free(&off);
}
END_TEST

/* Open loop with a cache of one entry over two items: a copy is often
 * evicted while its revalidation travels, and the 304 then names a copy
 * the cache no longer has (an eviction race): the request goes again,
 * unconditional.  Every request still ends exactly once, counting hits:
 * requests = ends + hits + in flight. */
START_TEST(test_eviction_races_and_accounting) {
    run r = run_fmt(
        "{\"model\": \"web\", \"seed\": 3, \"duration\": \"30s\","
        " \"web\": {\"users\": {\"count\": 20, \"loop\": \"open\","
        " \"think_time\": {\"type\": \"exponential\", \"mean\": \"5ms\"},"
        " \"cache\": {\"enabled\": true, \"entries\": 1}},"
        " \"classes\": [{\"name\": \"item\", \"items\": 2, \"zipf\": 0.1,"
        " \"change_rate_per_s\": 0.5, \"service\": {\"type\": \"exponential\", \"mean\": \"1ms\"},"
        " \"cache\": {\"max_age\": \"2ms\"}}],"
        " \"servers\": {\"count\": 2, \"workers\": 8}}}");
    ck_assert_int_gt((int64_t)num(r.m, "eviction_races"), 0);
    ck_assert_int_gt((int64_t)num(r.m, "cache_evictions"), 0);
    web_oracle *o = ((web_shared *)r.s->shared)->oracle;
    int64_t ended = 0;
    for (int e = 0; e < WEB_END_COUNT; e++)
        ended += o->ends[e];
    ck_assert_int_eq(o->requests, ended + o->hits + (int64_t)num(r.m, "in_flight_at_end"));
    ck_assert_int_ge((int64_t)num(r.m, "in_flight_at_end"), 0);
    run_free(&r);
}
END_TEST

/* Same seed, same trace; caching on changes what reaches the servers. */
START_TEST(test_caching_runs_are_deterministic) {
    run a = run_fmt(CATALOGUE, 4, "true", 50, "{\"max_age\": \"2s\", \"validators\": \"both\"}");
    run b = run_fmt(CATALOGUE, 4, "true", 50, "{\"max_age\": \"2s\", \"validators\": \"both\"}");
    ck_assert_uint_eq(sim_trace_hash(a.s), sim_trace_hash(b.s));
    ck_assert_int_eq((int64_t)num(a.m, "stale_shown"), (int64_t)num(b.m, "stale_shown"));
    ck_assert_int_gt((int64_t)num(a.m, "cache_evictions"), 0);
    run_free(&a);
    run_free(&b);
}
END_TEST

/*
 * The limiter behind the caches: a token bucket of rate 20/s and burst 20
 * per user, one user sending 100/s (open loop), clients giving up on a
 * 429.  At most b + r t = 20 + 20 x 30 requests pass in 30 s, and a
 * backlogged source gets nearly all of it (above 99 %).  With a cache in
 * front (max-age 1 s over 5 items), every request that leaves the client
 * is decided exactly once and no hit is: decisions = requests - hits
 * (less those still travelling at the end).
 */
#define LIMITED                                                                                    \
    "{\"model\": \"web\", \"seed\": 6, \"duration\": \"30s\","                                     \
    " \"web\": {\"users\": {\"count\": 1, \"loop\": \"open\", \"on_429\": \"give_up\","            \
    " \"think_time\": {\"type\": \"exponential\", \"mean\": \"10ms\"},"                            \
    " \"cache\": {\"enabled\": %s}},"                                                              \
    " \"classes\": [{\"name\": \"api\", \"items\": 5, \"service\": {\"type\": \"exponential\","    \
    " \"mean\": \"1ms\"}, \"cache\": {\"max_age\": \"1s\"}}],"                                     \
    " \"servers\": {\"count\": 1, \"workers\": 4},"                                                \
    " \"limiter\": {\"algorithm\": \"token_bucket\", \"rate_per_s\": 20, \"burst\": 20}}}"

START_TEST(test_limiter_behind_the_cache) {
    run r = run_fmt(LIMITED, "false");
    double allowed = num(r.m, "rl_allowed"), rejected = num(r.m, "rl_rejected");
    ck_assert_double_le(allowed, 20 + 20 * 30);
    ck_assert_double_ge(allowed, 0.99 * (20 + 20 * 30));
    /* Decided once each: all but those still on their way at the end. */
    double in_flight = num(r.m, "in_flight_at_end");
    ck_assert_double_le(allowed + rejected, num(r.m, "requests"));
    ck_assert_double_ge(allowed + rejected, num(r.m, "requests") - in_flight);
    ck_assert_double_le(num(r.m, "limited"), rejected);
    ck_assert_double_ge(num(r.m, "limited"), rejected - in_flight);
    ck_assert_int_eq((int64_t)num(r.m, "retries_429"), 0);
    run_free(&r);
    run c = run_fmt(LIMITED, "true");
    double decided = num(c.m, "rl_allowed") + num(c.m, "rl_rejected") + num(c.m, "rl_soft") +
                     num(c.m, "rl_delayed");
    ck_assert_int_gt((int64_t)num(c.m, "cache_hits"), 1000);
    double sent = num(c.m, "requests") - num(c.m, "cache_hits");
    ck_assert_double_le(decided, sent);
    ck_assert_double_ge(decided, sent - num(c.m, "in_flight_at_end"));
    /* Fewer requests reach the limiter, so fewer are refused. */
    ck_assert_double_lt(num(c.m, "rl_rejected"), rejected);
    run_free(&c);
}
END_TEST

/* Loads a scenario given as text and returns its resolved copy. */
static cJSON *resolve_web(const char *text) {
    const char *path = temp_scenario(text);
    sim_load_opts o = {.file = path, .models = web_models};
    cJSON *resolved = NULL;
    char err[2048] = "";
    sim *s = sim_load(&o, &resolved, err, sizeof err);
    unlink(path);
    ck_assert_msg(s != NULL, "%s", err);
    sim_destroy(s);
    return resolved;
}

/*
 * The limiter reads the algorithm, then only the keys that algorithm uses
 * (web_limit.h): the resolved scenario holds exactly those, with their
 * defaults, and loads again to itself; a key the algorithm does not use is
 * refused, from the file or from a --set (tests/scenarios/invalid/ has the
 * messages).
 */
START_TEST(test_limiter_reads_only_its_algorithms_keys) {
#define COMMON_FIRST "algorithm key "
#define COMMON_LAST  " placement store_latency retry_after soft"
    static const struct {
        const char *algo, *keys;
    } rows[] = {
        {"none", "algorithm"},
        {"fixed_window", COMMON_FIRST "limit window" COMMON_LAST},
        {"sliding_log", COMMON_FIRST "limit window" COMMON_LAST},
        {"sliding_counter", COMMON_FIRST "limit window" COMMON_LAST},
        {"token_bucket", COMMON_FIRST "rate_per_s burst tick" COMMON_LAST},
        {"leaky_bucket", COMMON_FIRST "rate_per_s burst" COMMON_LAST},
        {"leaky_queue", COMMON_FIRST "rate_per_s queue" COMMON_LAST},
    };
#undef COMMON_FIRST
#undef COMMON_LAST
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"model\": \"web\", \"duration\": \"1s\","
                 " \"web\": {\"limiter\": {\"algorithm\": \"%s\"}}}",
                 rows[i].algo);
        cJSON *r = resolve_web(text);
        cJSON *lim =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "web"), "limiter");
        ck_assert_ptr_nonnull(lim);
        char keys[256] = "";
        const cJSON *k;
        cJSON_ArrayForEach(k, lim) {
            size_t len = strlen(keys);
            snprintf(keys + len, sizeof keys - len, "%s%s", len ? " " : "", k->string);
        }
        ck_assert_str_eq(keys, rows[i].keys);
        char *once = cJSON_PrintUnformatted(r);
        cJSON *again = resolve_web(once);
        char *twice = cJSON_PrintUnformatted(again);
        ck_assert_str_eq(once, twice);
        cJSON_free(once);
        cJSON_free(twice);
        cJSON_Delete(again);
        cJSON_Delete(r);
    }
    const char *bucket = "{\"model\": \"web\", \"duration\": \"1s\","
                         " \"web\": {\"limiter\": {\"algorithm\": \"token_bucket\","
                         " \"rate_per_s\": 5}}}";
    const char *sets[] = {"web.limiter.limit=50"};
    char err[2048] = "";
    ck_assert_ptr_null(load_text_opts(bucket, web_models, sets, 1, err, sizeof err));
    ck_assert_msg(strstr(err, ": $.web.limiter.limit: token_bucket does not use \"limit\" (it "
                              "uses rate_per_s, burst, tick): remove it, or choose fixed_window, "
                              "sliding_log or sliding_counter") != NULL,
                  "%s", err);
    /* Switched off from the command line: "none" said explicitly keeps
     * the bucket's keys and limits nothing; a key given with no algorithm
     * at all is refused. */
    const char *off[] = {"web.limiter.algorithm=none"};
    sim *s0 = load_text_ok(bucket, web_models, off, 1);
    ck_assert(!((web_shared *)s0->shared)->limiting);
    sim_destroy(s0);
    const char *bare = "{\"model\": \"web\", \"duration\": \"1s\","
                       " \"web\": {\"limiter\": {\"rate_per_s\": 5}}}";
    ck_assert_ptr_null(load_text_opts(bare, web_models, NULL, 0, err, sizeof err));
    ck_assert_msg(strstr(err, ": $.web.limiter.rate_per_s: the limiter is off (no algorithm "
                              "given)") != NULL,
                  "%s", err);
    const char *replaced[] = {"web.limiter={}"};
    sim *s = load_text_ok(bucket, web_models, replaced, 1);
    ck_assert(!((web_shared *)s->shared)->limiting);
    sim_destroy(s);
}
END_TEST

#ifndef DSIM_SOURCE_DIR
#define DSIM_SOURCE_DIR "."
#endif

/* The most one key got through in one trailing window, for each algorithm,
 * under scenarios/web/limit-algorithms.json's bursts (about 20 calls in
 * 0.2 s, then 1.5 s of silence, against 10 a second): the bounds of
 * ../shared/validation.md, over three seeds.  The fixed window reaches
 * twice its limit (a burst across a window's edge: seed 1 has one), the
 * log never passes its limit, the token bucket stays within b + r t, the
 * shaper within rate x 1 s + 1 (the span is closed at its end). */
START_TEST(test_limiters_bound_what_passes_in_a_window) {
    static const struct {
        const char *limiter;
        double bound;
    } cases[] = {
        {"web.limiter={\"algorithm\":\"fixed_window\",\"limit\":10}", 20},
        {"web.limiter={\"algorithm\":\"sliding_log\",\"limit\":10}", 10},
        {"web.limiter={\"algorithm\":\"token_bucket\",\"rate_per_s\":10,\"burst\":10}", 20},
        {"web.limiter={\"algorithm\":\"token_bucket\",\"rate_per_s\":10,\"burst\":4}", 14},
        {"web.limiter={\"algorithm\":\"leaky_queue\",\"rate_per_s\":10,\"queue\":20}", 11},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int seed = 1; seed <= 3; seed++) {
            char seed_set[32];
            snprintf(seed_set, sizeof seed_set, "seed=%d", seed);
            const char *sets[] = {cases[i].limiter, seed_set};
            run r = run_sim(load_path_ok(DSIM_SOURCE_DIR "/scenarios/web/limit-algorithms.json",
                                         web_models, sets, 2));
            double most = num(r.m, "rl_watch_max_in_span");
            ck_assert_msg(most <= cases[i].bound, "%s seed %d: %.0f in one window, bound %.0f",
                          cases[i].limiter, seed, most, cases[i].bound);
            if (seed == 1 && i == 0)
                ck_assert_double_eq(most, 20); /* the boundary burst: 2 x the limit */
            if (seed == 1 && i == 1)
                ck_assert_double_eq(most, 10); /* the log admits its limit, no more */
            ck_assert_double_eq(num(r.m, "rl_watch_nominal"), 10);
            run_free(&r);
        }
    }
}
END_TEST

/* Every per-user figure adds up to the run's: per user (per_client.csv)
 * and per kind (well-behaved, abusive); and with more users than
 * per_client.csv takes, the kinds alone. */
static void check_users_add_up(const char *path, const char **sets, int n_sets, bool rows) {
    run r = run_sim(load_path_ok(path, web_models, sets, n_sets));
    const web_shared *p = r.s->shared;
    const web_oracle *o = p->oracle;
    ck_assert(rows == (o->ustat != NULL));
    web_ustat sum = {0}, abusive = {0};
    for (int64_t u = 0; o->ustat && u < p->n_users; u++) {
        const web_ustat *t = &o->ustat[u];
        web_ustat *into[2] = {&sum, u < p->n_abusive ? &abusive : NULL};
        for (int k = 0; k < 2 && into[k]; k++) {
            into[k]->requests += t->requests;
            into[k]->ok += t->ok;
            into[k]->limited_429 += t->limited_429;
            into[k]->admitted += t->admitted;
            into[k]->hits += t->hits;
            into[k]->not_modified += t->not_modified;
        }
    }
    uint64_t k_requests = (uint64_t)o->kind[0].requests + o->kind[1].requests;
    uint64_t k_ok = (uint64_t)o->kind[0].ok + o->kind[1].ok;
    uint64_t k_admitted = (uint64_t)o->kind[0].admitted + o->kind[1].admitted;
    ck_assert_uint_eq(k_requests, (uint64_t)o->requests);
    ck_assert_uint_eq(k_ok, (uint64_t)o->ends[WEB_END_OK]);
    ck_assert_uint_eq((uint64_t)o->kind[0].limited_429 + o->kind[1].limited_429,
                      (uint64_t)o->limited_429);
    ck_assert_uint_eq((uint64_t)o->kind[0].hits + o->kind[1].hits, (uint64_t)o->hits);
    if (p->limiting)
        ck_assert_double_eq((double)k_admitted,
                            num(r.m, "rl_allowed") + num(r.m, "rl_soft") + num(r.m, "rl_delayed"));
    if (rows) {
        ck_assert_uint_eq(sum.requests, k_requests);
        ck_assert_uint_eq(sum.ok, k_ok);
        ck_assert_uint_eq(sum.admitted, k_admitted);
        ck_assert_uint_eq(sum.not_modified, (uint64_t)o->not_modified);
        ck_assert_uint_eq(abusive.requests, o->kind[1].requests);
        ck_assert_uint_eq(abusive.limited_429, o->kind[1].limited_429);
    }
    if (p->n_abusive > 0) {
        /* The limiter holds the abusive users to their bucket, and lets
         * every well-behaved call through (limit-abusive-client's point). */
        double secs = (double)sim_duration(r.s) / 1e9;
        ck_assert_double_le(num(r.m, "abusive_admitted_per_user_per_s"), 10 + 20 / secs + 1e-9);
        /* All but the few still on their way at the end. */
        ck_assert_double_ge(num(r.m, "normal_ok_fraction"),
                            1 - num(r.m, "in_flight_at_end") / num(r.m, "normal_requests"));
        ck_assert_double_lt(num(r.m, "abusive_ok_fraction"), 0.2);
    }
    /* The windows' running counts never go back, and end at or below the
     * run's totals (the last window ends at or before the run). */
    ck_assert_uint_gt(o->n_rows, 0);
    for (uint32_t i = 1; i < o->n_rows; i++) {
        ck_assert_int_ge(o->rows[i].requests, o->rows[i - 1].requests);
        ck_assert_int_ge(o->rows[i].hits, o->rows[i - 1].hits);
        ck_assert_int_gt(o->rows[i].at, o->rows[i - 1].at);
    }
    ck_assert_int_le(o->rows[o->n_rows - 1].requests, o->requests);
    run_free(&r);
}

START_TEST(test_per_user_figures_add_up) {
    check_users_add_up(DSIM_SOURCE_DIR "/scenarios/web/limit-abusive-client.json", NULL, 0, true);
    check_users_add_up(DSIM_SOURCE_DIR "/scenarios/web/cache-product-page.json", NULL, 0, true);
    const char *many[] = {"web.users.count=20000", "duration=2s"};
    check_users_add_up(DSIM_SOURCE_DIR "/scenarios/web/cache-product-page.json", many, 2, false);
}
END_TEST

/*
 * Stale-while-revalidate, on an exact timeline: one user asking for one
 * item every 400 ms (open loop, from 0.4 s), no network delay, 1 ms of
 * service, max-age 1 s.  The login at 0.4 s stores a copy that expires at
 * 1.401 s; the asks at 0.8 and 1.2 s are fresh hits; at 1.6 s the copy has
 * expired but is within stale_while_revalidate, so it answers at once and
 * a background If-None-Match refreshes it (304 at 1.601 s, expiring at
 * 2.601 s), and so on: of the 29 asks after the login, every third (the
 * 4th, 7th, ... 28th) is answered by an expired copy, 9 in all, and the
 * user never waits for a revalidation.  Without the key the same 9 are
 * revalidations the user waits for.  With the item changed at 1.5 s, the
 * copy shown at 1.6 s is stale (the only one: its background fetch brings
 * the new version).
 */
/* Each of the report's figures keys[i] is exactly want[i]. */
typedef struct figure {
    const char *key;
    int64_t want;
} figure;
static void expect_figures(cJSON *m, const figure *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        ck_assert_msg((int64_t)num(m, f[i].key) == f[i].want, "%s: %lld, expected %lld", f[i].key,
                      (long long)num(m, f[i].key), (long long)f[i].want);
}

START_TEST(test_stale_while_revalidate_answers_and_refreshes_behind) {
    const char *think = "{\"type\": \"constant\", \"value\": \"400ms\"}";
    const char *swr = "{\"max_age\": \"1s\", \"stale_while_revalidate\": \"10s\"}";
    static const figure unchanged[] = {
        {"requests", 30},        {"cache_hits", 29}, {"swr_served", 9}, {"swr_revalidations", 9},
        {"swr_not_modified", 9}, {"swr_full", 0},    {"swr_failed", 0}, {"swr_in_flight_at_end", 0},
        {"revalidations", 0},    {"stale_shown", 0}};
    static const figure without[] = {{"cache_hits", 20}, {"revalidations", 9}, {"not_modified", 9}};
    static const figure changed[] = {{"swr_served", 9},
                                     {"swr_full", 1},
                                     {"swr_not_modified", 8},
                                     {"stale_shown", 1},
                                     {"stale_while_revalidate", 1}};
    run a = run_fmt(ONE_ITEM, 1, "12100ms", "open", think, swr, "", "[]");
    expect_figures(a.m, unchanged, sizeof unchanged / sizeof unchanged[0]);
    /* caching.csv's swr columns come from the windows' running counts:
     * the window ending at 12 s has seen all 9 of each, and no window
     * counts one that the next one does not. */
    const web_oracle *o = ((const web_shared *)a.s->shared)->oracle;
    ck_assert_uint_eq(o->n_rows, 12);
    ck_assert_int_eq(o->rows[11].swr_served, 9);
    ck_assert_int_eq(o->rows[11].swr_sent, 9);
    for (uint32_t i = 1; i < o->n_rows; i++) {
        ck_assert_int_ge(o->rows[i].swr_served, o->rows[i - 1].swr_served);
        ck_assert_int_ge(o->rows[i].swr_sent, o->rows[i - 1].swr_sent);
    }
    ck_assert_int_eq(o->rows[0].swr_served, 0); /* the first copy is fresh until 1 s */
    run_free(&a);

    run b = run_fmt(ONE_ITEM, 1, "12100ms", "open", think, "{\"max_age\": \"1s\"}", "", "[]");
    expect_figures(b.m, without, sizeof without / sizeof without[0]);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(b.m, "swr_served"));
    run_free(&b);

    run c = run_fmt(ONE_ITEM, 1, "12100ms", "open", think, swr, "", "[{\"at\": \"1500ms\"}]");
    expect_figures(c.m, changed, sizeof changed / sizeof changed[0]);
    run_free(&c);
}
END_TEST

/*
 * Stale-while-revalidate at scale: 3000 users on 3 client nodes over 20
 * items, max-age 200 ms and 20 ms one-way links, so hundreds of background
 * revalidations are in flight at once and many users ask for a copy whose
 * check is still travelling (the client keeps a set of them), and client1
 * crashes mid-run, losing its own.  Every revalidation sent ends exactly
 * once (304, full or failed) or is still in flight at the end; each user's
 * copy has at most one on its way, so there are fewer revalidations than
 * answers from an expired copy; the crash fails some; and the run is
 * byte-identical twice.
 */
START_TEST(test_stale_while_revalidate_sends_one_check_per_copy) {
    const char *text =
        "{\"model\": \"web\", \"seed\": 5, \"duration\": \"10s\","
        " \"network\": {\"latency\": {\"type\": \"constant\", \"value\": \"20ms\"}},"
        " \"faults\": [{\"at\": \"4s\", \"crash\": [\"client1\"]},"
        " {\"at\": \"6s\", \"recover\": [\"client1\"]}],"
        " \"web\": {\"users\": {\"count\": 3000, \"clients\": 3, \"loop\": \"open\","
        " \"think_time\": {\"type\": \"exponential\", \"mean\": \"50ms\"},"
        " \"cache\": {\"enabled\": true, \"entries\": 5}},"
        " \"classes\": [{\"name\": \"product\", \"items\": 20, \"zipf\": 1.0,"
        " \"change_rate_per_s\": 0.5, \"service\": {\"type\": \"constant\", \"value\": \"1ms\"},"
        " \"cache\": {\"max_age\": \"200ms\", \"validators\": \"etag\","
        " \"stale_while_revalidate\": \"5s\"}}],"
        " \"servers\": {\"count\": 64, \"workers\": 8}}}";
    run a = run_sim(load_text_ok(text, web_models, NULL, 0));
    double sent = num(a.m, "swr_revalidations"), served = num(a.m, "swr_served");
    ck_assert_double_eq(sent, num(a.m, "swr_not_modified") + num(a.m, "swr_full") +
                                  num(a.m, "swr_failed") + num(a.m, "swr_in_flight_at_end"));
    ck_assert_double_gt(num(a.m, "swr_failed"), 0);
    ck_assert_double_gt(sent, 10000);
    ck_assert_double_lt(sent, 0.9 * served);
    /* The figure the first version (a scan of the requests in flight) gave. */
    ck_assert_double_eq(sent, 97057);
    run b = run_sim(load_text_ok(text, web_models, NULL, 0));
    ck_assert_uint_eq(sim_trace_hash(a.s), sim_trace_hash(b.s));
    run_free(&a);
    run_free(&b);
}
END_TEST

/*
 * The model's prefetch hook (sim.h) is a hint: the same scenario run by the
 * model with it and by a copy without it gives the same trace and figures.
 * Four client nodes, caches, a limiter that rejects, and a server crash, so
 * that every role's part of the hook is shown events, some cancelled.
 */
START_TEST(test_prefetch_hook_changes_no_result) {
    const char *text =
        "{\"model\": \"web\", \"seed\": 3, \"duration\": \"20s\","
        " \"network\": {\"latency\": {\"type\": \"exponential\", \"mean\": \"500us\"}},"
        " \"faults\": [{\"at\": \"5s\", \"crash\": [\"server1\"]},"
        " {\"at\": \"9s\", \"recover\": [\"server1\"]}],"
        " \"web\": {\"users\": {\"count\": 2000, \"clients\": 4, \"loop\": \"open\","
        " \"think_time\": {\"type\": \"exponential\", \"mean\": \"1s\"},"
        " \"cache\": {\"enabled\": true, \"entries\": 50}},"
        " \"classes\": [{\"name\": \"product\", \"items\": 5000, \"zipf\": 1.0,"
        " \"change_rate_per_s\": 0.01, \"service\": {\"type\": \"exponential\", \"mean\": \"5ms\"},"
        " \"cache\": {\"max_age\": \"5s\", \"validators\": \"etag\"}}],"
        " \"servers\": {\"count\": 8},"
        " \"limiter\": {\"algorithm\": \"token_bucket\", \"rate_per_s\": 1, \"burst\": 2}}}";
    ck_assert_ptr_nonnull(web_model.prefetch);
    static sim_model without;
    without = web_model;
    without.prefetch = NULL;
    const sim_model *const plain[] = {&without, NULL};
    run a = run_sim(load_text_ok(text, web_models, NULL, 0));
    run b = run_sim(load_text_ok(text, plain, NULL, 0));
    ck_assert_uint_eq(sim_trace_hash(a.s), sim_trace_hash(b.s));
    static const char *const keys[] = {"requests",    "cache_hits",  "revalidations",
                                       "rl_rejected", "stale_shown", "ok"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_double_eq(num(a.m, keys[i]), num(b.m, keys[i]));
    ck_assert_double_gt(num(a.m, "cache_hits"), 0);
    ck_assert_double_gt(num(a.m, "rl_rejected"), 0);
    run_free(&a);
    run_free(&b);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("web_caching");
    TCase *c = tcase_create("cache");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, test_ttl_hit_ratio_through_the_model);
    tcase_add_test(c, test_ttl_hit_ratio_with_pooled_arrivals);
    tcase_add_test(c, test_last_modified_misses_a_change_within_its_second);
    tcase_add_test(c, test_causes_of_stale_copies);
    tcase_add_test(c, test_eviction_races_and_accounting);
    tcase_add_test(c, test_caching_runs_are_deterministic);
    tcase_add_test(c, test_limiter_behind_the_cache);
    tcase_add_test(c, test_limiter_reads_only_its_algorithms_keys);
    tcase_add_test(c, test_limiters_bound_what_passes_in_a_window);
    tcase_add_test(c, test_per_user_figures_add_up);
    tcase_add_test(c, test_stale_while_revalidate_answers_and_refreshes_behind);
    tcase_add_test(c, test_stale_while_revalidate_sends_one_check_per_copy);
    tcase_add_test(c, test_prefetch_hook_changes_no_result);
    suite_add_tcase(s, c);
    return s;
}

int main(void) { return check_run(suite()); }
