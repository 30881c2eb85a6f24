/*
 * web_config.c - reading the scenario's "web" object (every key is in
 * docs/scenario-format.md and docs/models/web.md), the checks across keys,
 * the node groups, the consistent-hash ring, and the run's estimate.
 *
 * Node groups, in this order: "client" (users live on them), "lb" (the
 * balancers), "server" (the pool: in service or idle, for scale-out), and
 * "store" (session stores, stateless only).  Names are the group and an
 * index: client0, lb0, server3, store0.
 */
#include "web_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define HOUR (3600 * SIM_S)

static const char *const policies[] = {
    "round_robin",       "weighted_round_robin", "random",
    "least_connections", "least_latency",        "power_of_choices",
    "hash_mod",          "consistent_hash",      NULL};
static const char *const stickies[] = {"none", "table", "cookie", NULL};
static const char *const states[] = {"none", "stateful", "stateless", NULL};
static const char *const loops[] = {"closed", "open", NULL};
static const char *const arrivals[] = {"per_user", "pooled", NULL};
static const char *const actions[] = {"add", "remove", NULL};
/* The limiter's algorithms, "none" first (index - 1 is rl_algo_of's). */
static const char *const rl_algos[] = {
    "none",         "fixed_window", "sliding_log", "sliding_counter",
    "token_bucket", "leaky_bucket", "leaky_queue", NULL};
static const int rl_algo_of[] = {WEB_RL_FIXED, WEB_RL_SLIDING_LOG, WEB_RL_SLIDING_COUNTER,
                                 WEB_RL_TOKEN, WEB_RL_LEAKY_METER, WEB_RL_LEAKY_QUEUE};
static const char *const rl_scopes[] = {"user", "client", "global", NULL};
static const char *const rl_placements[] = {"local", "shared", NULL};
static const char *const overages[] = {"flag", "delay", "deprioritise", NULL};
static const char *const on_429s[] = {"retry_after", "backoff", "give_up", "ignore", NULL};
static const char *const validators[] = {"none", "etag", "last_modified", "both", NULL};
static const char *const evictions[] = {"lru", "lfu", "fifo", NULL};

static int read_users(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "users") < 0 ||
        sim_cfg_int(c, "count", 100, 1, WEB_MAX_USERS, &p->n_users) < 0 ||
        sim_cfg_int(c, "clients", 1, 1, 1024, &p->n_clients) < 0 ||
        sim_cfg_enum(c, "loop", "closed", loops, &p->loop) < 0 ||
        sim_cfg_enum(c, "arrivals", "per_user", arrivals, &p->arrivals) < 0 ||
        sim_cfg_dist(c, "think_time", "{\"type\": \"exponential\", \"mean\": \"1s\"}",
                     SIM_UNIT_TIME, &p->think) < 0 ||
        sim_cfg_dist(c, "session_length", "0s", SIM_UNIT_TIME, &p->session_length) < 0 ||
        sim_cfg_dist(c, "away", "0s", SIM_UNIT_TIME, &p->away) < 0 ||
        sim_cfg_int(c, "session_bytes", 4096, 0, 1 << 30, &p->session_bytes) < 0 ||
        sim_cfg_time(c, "timeout", "10s", SIM_MS, HOUR, &p->client_timeout) < 0 ||
        sim_cfg_int(c, "max_outstanding", 1 << 16, 1, WEB_MAX_SLOTS, &p->client_max_outstanding) <
            0)
        return -1;
    if (sim_cfg_enum(c, "on_429", "retry_after", on_429s, &p->on_429) < 0 ||
        sim_cfg_int(c, "max_429_retries", 3, 0, 100, &p->max_429_retries) < 0 ||
        sim_cfg_enter(c, "backoff") < 0 ||
        sim_cfg_time(c, "base", "100ms", 1, HOUR, &p->backoff_base) < 0 ||
        sim_cfg_time(c, "cap", "10s", 1, HOUR, &p->backoff_cap) < 0)
        return -1;
    if (p->backoff_cap < p->backoff_base)
        return sim_cfg_fail(c, "cap", "is below base: the backoff grows from base up to cap");
    sim_cfg_leave(c);
    if (sim_cfg_enter(c, "cache") < 0 || sim_cfg_bool(c, "enabled", false, &p->caching) < 0 ||
        sim_cfg_int(c, "entries", 1000, 0, 1 << 30, &p->cache_entries) < 0 ||
        sim_cfg_int(c, "bytes", 0, 0, (int64_t)1 << 40, &p->cache_bytes) < 0 ||
        sim_cfg_enum(c, "eviction", "lru", evictions, &p->cache_policy) < 0)
        return -1;
    sim_cfg_leave(c);
    if (sim_cfg_enter(c, "abusive") < 0 ||
        sim_cfg_int(c, "count", 0, 0, WEB_MAX_USERS, &p->n_abusive) < 0 ||
        sim_cfg_num(c, "think_factor", 1, 0.001, 1000, &p->abusive_factor) < 0 ||
        sim_cfg_enum(c, "on_429", "ignore", on_429s, &p->abusive_on_429) < 0)
        return -1;
    if (p->n_abusive > p->n_users)
        return sim_cfg_fail(c, "count", "is more than the users (%lld > %lld)",
                            (long long)p->n_abusive, (long long)p->n_users);
    sim_cfg_leave(c);
    sim_cfg_leave(c);
    if (p->n_clients > p->n_users)
        return sim_cfg_fail(c, "users",
                            "clients (%lld) is more than count (%lld): each client "
                            "node hosts at least one user",
                            (long long)p->n_clients, (long long)p->n_users);
    double mean = sim_dist_mean(&p->think);
    if (p->loop == WEB_LOOP_OPEN && !(mean > 0))
        return sim_cfg_fail(c, "users",
                            "an open loop needs think_time with a mean above 0 (the "
                            "time between one user's requests)");
    /* Pooled arrivals are exact only where one user's requests are a
     * Poisson process: then the node's users together are one, at the sum
     * of their rates, each arrival a uniformly drawn user's. */
    if (p->arrivals == WEB_ARRIVALS_POOLED && p->loop != WEB_LOOP_OPEN)
        return sim_cfg_fail(c, "users.arrivals",
                            "\"pooled\" needs loop \"open\": a closed loop's next request "
                            "waits for the answer, so users are not one Poisson stream");
    if (p->arrivals == WEB_ARRIVALS_POOLED &&
        (p->think.kind != SIM_DIST_EXPONENTIAL || p->think.offset != 0))
        return sim_cfg_fail(c, "users.arrivals",
                            "\"pooled\" needs an exponential think_time with no offset: "
                            "only then are the users' requests together one Poisson stream");
    return 0;
}

static int read_class(sim_cfg *c, web_class_cfg *k, int i) {
    const char *name;
    char def[16];
    snprintf(def, sizeof def, "class%d", i);
    if (sim_cfg_str(c, "name", def, &name) < 0 ||
        sim_cfg_num(c, "weight", 1, 0, 1e12, &k->weight) < 0 ||
        sim_cfg_dist(c, "service", "{\"type\": \"exponential\", \"mean\": \"10ms\"}", SIM_UNIT_TIME,
                     &k->service) < 0 ||
        sim_cfg_int(c, "request_bytes", 500, 0, 1 << 30, &k->request_bytes) < 0 ||
        sim_cfg_int(c, "response_bytes", 20000, 0, 1 << 30, &k->response_bytes) < 0 ||
        sim_cfg_int(c, "items", 0, 0, (int64_t)1 << 31, &k->items) < 0 ||
        sim_cfg_num(c, "zipf", 1, 0.01, 10, &k->zipf) < 0 ||
        sim_cfg_bool(c, "writes_session", false, &k->writes_session) < 0 ||
        sim_cfg_num(c, "change_rate_per_s", 0, 0, 1e6, &k->change_rate_per_s) < 0 ||
        sim_cfg_enter(c, "cache") < 0 ||
        sim_cfg_time(c, "max_age", "0s", 0, 365 * 24 * HOUR, &k->max_age) < 0 ||
        sim_cfg_bool(c, "no_cache", false, &k->no_cache) < 0 ||
        sim_cfg_time(c, "stale_while_revalidate", "0s", 0, 365 * 24 * HOUR, &k->swr) < 0 ||
        sim_cfg_bool(c, "no_store", false, &k->no_store) < 0 ||
        sim_cfg_enum(c, "validators", "etag", validators, &k->validators) < 0 ||
        sim_cfg_time(c, "etag_cost_per_kib", "5us", 0, HOUR, &k->etag_cost_per_kib) < 0 ||
        sim_cfg_time(c, "last_modified_cost", "1us", 0, HOUR, &k->last_modified_cost) < 0 ||
        sim_cfg_int(c, "not_modified_bytes", 300, 0, 1 << 30, &k->not_modified_bytes) < 0)
        return -1;
    if (k->no_store && k->no_cache)
        return sim_cfg_fail(c, "no_store",
                            "cannot go with no_cache: no_store keeps no copy, so there is "
                            "nothing for no_cache to revalidate; give one of them");
    if (k->swr > 0 && (k->no_cache || k->no_store))
        return sim_cfg_fail(c, "stale_while_revalidate",
                            "cannot go with %s: %s, so no copy may answer while it is "
                            "revalidated; give one of them",
                            k->no_cache ? "no_cache" : "no_store",
                            k->no_cache ? "no_cache revalidates before every use"
                                        : "no_store keeps no copy");
    sim_cfg_leave(c);
    if ((k->change_rate_per_s > 0) && k->items == 0)
        return sim_cfg_fail(c, "change_rate_per_s",
                            "needs items: what changes is each item of the catalogue");
    /* It names the histogram web.latency.<name>, whose characters the
     * metrics registry checks: lower-case letters, digits and '_'. */
    size_t n = strlen(name);
    bool ok = n >= 1 && n < WEB_NAME_MAX && name[0] >= 'a' && name[0] <= 'z';
    for (size_t j = 0; ok && j < n; j++)
        ok = (name[j] >= 'a' && name[j] <= 'z') || (name[j] >= '0' && name[j] <= '9') ||
             name[j] == '_';
    if (!ok)
        return sim_cfg_fail(
            c, "name",
            "\"%s\" is not a valid class name (1 to %d lower-case letters, digits "
            "and '_', starting with a letter; it names the metric web.latency.<name>)",
            name, WEB_NAME_MAX - 1);
    memcpy(k->name, name, n + 1);
    if (k->items > 0)
        sim_zipf_init(&k->catalogue, (uint64_t)k->items, k->zipf);
    return 0;
}

static int read_classes(sim_cfg *c, web_shared *p) {
    uint32_t n;
    if (sim_cfg_list(c, "classes", WEB_MAX_CLASSES, &n) < 0)
        return -1;
    if (n == 0) {
        /* One class of requests with the defaults. */
        web_class_cfg *k = &p->classes[0];
        memcpy(k->name, "request", 8);
        k->weight = 1;
        k->service = (sim_dist){.kind = SIM_DIST_EXPONENTIAL, .a = 10e6};
        k->request_bytes = 500;
        k->response_bytes = 20000;
        p->n_classes = 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        p->n_classes = (int)i + 1;
        if (sim_cfg_enter_item(c, "classes", i) < 0 || read_class(c, &p->classes[i], (int)i) < 0)
            return -1;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(p->classes[j].name, p->classes[i].name) == 0)
                return sim_cfg_fail(c, "name", "\"%s\" names two classes", p->classes[i].name);
        sim_cfg_leave(c);
    }
    double sum = 0;
    for (int i = 0; i < p->n_classes; i++)
        sum += p->classes[i].weight;
    if (!(sum > 0))
        return sim_cfg_fail(c, "classes", "the weights add up to 0: give one class a weight");
    double cum = 0;
    for (int i = 0; i < p->n_classes; i++) {
        cum += p->classes[i].weight / sum;
        p->classes[i].cum = i == p->n_classes - 1 ? 1.0 : cum;
    }
    /* Caching needs a catalogue: what a client keeps is a copy of an item. */
    uint64_t total = 0;
    bool any = false;
    for (int i = 0; i < p->n_classes; i++) {
        web_class_cfg *k = &p->classes[i];
        k->cacheable = p->caching && k->items > 0 && !k->no_store;
        any |= k->cacheable;
        p->swr |= k->cacheable && k->swr > 0;
        p->catalogue |= k->items > 0;
        total += (uint64_t)k->items;
    }
    if (p->caching && !any)
        return sim_cfg_fail(c, "classes",
                            "users.cache is enabled but no class can be cached: give a "
                            "class items (its catalogue) and leave no_store out");
    if (p->caching && total > UINT32_MAX / 2)
        return sim_cfg_fail(c, "classes", "%llu items in all is too many to cache (at most %u)",
                            (unsigned long long)total, UINT32_MAX / 2);
    return 0;
}

static int read_servers(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "servers") < 0 ||
        sim_cfg_int(c, "count", 4, 1, WEB_MAX_SERVERS, &p->n_servers) < 0 ||
        sim_cfg_int(c, "max_workers", 64, 1, 1 << 20, &p->max_workers) < 0 ||
        sim_cfg_int(c, "workers", 1, 1, 1 << 20, &p->workers) < 0)
        return -1;
    if (p->workers > p->max_workers)
        return sim_cfg_fail(c, "workers",
                            "%lld workers is past the hardware ceiling max_workers "
                            "(%lld): vertical scaling stops there; add servers instead",
                            (long long)p->workers, (long long)p->max_workers);
    char cost[32];
    snprintf(cost, sizeof cost, "%.17g", 0.1 * (double)p->workers);
    double cost_def = strtod(cost, NULL);
    if (sim_cfg_int(c, "queue", 1000, 0, 1 << 22, &p->queue) < 0 ||
        sim_cfg_num(c, "speed", 1, 1e-6, 1e6, &p->speed) < 0 ||
        sim_cfg_num(c, "cost_per_hour", cost_def, 0, 1e9, &p->cost_per_hour) < 0 ||
        sim_cfg_int(c, "pool", 0, 0, WEB_MAX_SERVERS, &p->pool) < 0)
        return -1;
    sim_cfg_leave(c);
    return 0;
}

static int read_balancer(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "balancer") < 0 ||
        sim_cfg_int(c, "count", 1, 1, WEB_MAX_LBS, &p->n_lbs) < 0 ||
        sim_cfg_enum(c, "policy", "round_robin", policies, &p->policy) < 0 ||
        sim_cfg_int(c, "choices", 2, 1, 64, &p->choices) < 0 ||
        sim_cfg_int(c, "vnodes", 100, 1, WEB_MAX_VNODES, &p->vnodes) < 0 ||
        sim_cfg_num(c, "bounded_load", 0, 0, 100, &p->bound) < 0 ||
        sim_cfg_enum(c, "sticky", "none", stickies, &p->sticky) < 0 ||
        sim_cfg_time(c, "timeout", "2s", SIM_MS, HOUR, &p->lb_timeout) < 0 ||
        sim_cfg_int(c, "retries", 1, 0, 16, &p->retries) < 0 ||
        sim_cfg_bool(c, "retry_busy", true, &p->retry_busy) < 0 ||
        sim_cfg_time(c, "latency_decay", "1s", SIM_MS, HOUR, &p->ewma_tau) < 0 ||
        sim_cfg_int(c, "max_outstanding", 1 << 18, 1, WEB_MAX_SLOTS, &p->lb_max_outstanding) < 0)
        return -1;
    if (p->bound != 0 && p->bound < 1)
        return sim_cfg_fail(c, "bounded_load",
                            "is the factor c of consistent hashing with "
                            "bounded loads: 0 (off) or at least 1, e.g. 1.25");
    if (p->bound != 0 && p->policy != WEB_POL_CONSISTENT)
        return sim_cfg_fail(c, "bounded_load", "applies to policy \"consistent_hash\" only");
    int64_t *w = NULL;
    uint32_t nw = 0;
    if (sim_cfg_int_list(c, "weights", "[]", 1, 1000000, WEB_MAX_SERVERS, &w, &nw) < 0)
        return -1;
    for (uint32_t i = 0; i < nw; i++)
        p->weights[i] = (double)w[i];
    sim_free(w);
    if (nw > 0 && p->policy != WEB_POL_WEIGHTED) {
        return sim_cfg_fail(c, "weights", "apply to policy \"weighted_round_robin\" only");
    }
    p->n_weights = nw;
    if (sim_cfg_enter(c, "health") < 0 ||
        sim_cfg_time(c, "interval", "1s", 0, HOUR, &p->health_interval) < 0 ||
        sim_cfg_int(c, "unhealthy_threshold", 2, 1, 100, &p->unhealthy_threshold) < 0 ||
        sim_cfg_int(c, "healthy_threshold", 2, 1, 100, &p->healthy_threshold) < 0)
        return -1;
    if (p->health_interval > 0 && p->health_interval < SIM_MS)
        return sim_cfg_fail(c, "interval",
                            "a health check every %lld ns is too often: at least "
                            "1ms, or \"0s\" for no health checks",
                            (long long)p->health_interval);
    sim_cfg_leave(c);
    sim_cfg_leave(c);
    return 0;
}

static int read_session(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "session") < 0 ||
        sim_cfg_enum(c, "state", "none", states, &p->state) < 0 ||
        sim_cfg_dist(c, "miss_cost", "20ms", SIM_UNIT_TIME, &p->miss_cost) < 0 ||
        sim_cfg_bool(c, "migrate_on_drain", false, &p->migrate_default) < 0 ||
        sim_cfg_enter(c, "store") < 0 ||
        sim_cfg_int(c, "count", 1, 1, WEB_MAX_STORES, &p->n_stores) < 0 ||
        sim_cfg_int(c, "workers", 8, 1, 1 << 20, &p->store_workers) < 0 ||
        sim_cfg_int(c, "queue", 10000, 0, 1 << 22, &p->store_queue) < 0 ||
        sim_cfg_dist(c, "service", "{\"type\": \"exponential\", \"mean\": \"200us\"}",
                     SIM_UNIT_TIME, &p->store_service) < 0 ||
        sim_cfg_bool(c, "durable", true, &p->store_durable) < 0 ||
        sim_cfg_time(c, "timeout", "500ms", SIM_MS, HOUR, &p->store_timeout) < 0)
        return -1;
    sim_cfg_leave(c);
    sim_cfg_leave(c);
    if (p->state != WEB_STATE_STATELESS)
        p->n_stores = 0;
    if (p->migrate_default && (p->state != WEB_STATE_STATEFUL ||
                               (p->policy != WEB_POL_HASH_MOD && p->policy != WEB_POL_CONSISTENT)))
        return sim_cfg_fail(c, "session",
                            "migrate_on_drain moves each stateful session to the "
                            "server its user hashes to: it needs state \"stateful\" and policy "
                            "\"hash_mod\" or \"consistent_hash\"");
    return 0;
}

static int read_scale(sim_cfg *c, web_shared *p) {
    uint32_t n;
    if (sim_cfg_list(c, "scale", WEB_MAX_SCALE, &n) < 0)
        return -1;
    sim *s = sim_cfg_sim(c);
    sim_time prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        web_scale_cfg *e = &p->scale[i];
        p->n_scale = (int)i + 1;
        if (sim_cfg_enter_item(c, "scale", i) < 0 ||
            sim_cfg_time(c, "at", NULL, 0, sim_duration(s), &e->at) < 0 ||
            sim_cfg_enum(c, "action", NULL, actions, &e->action) < 0 ||
            sim_cfg_str(c, "server", "", &e->server_name) < 0 ||
            sim_cfg_int(c, "count", 1, 1, WEB_MAX_SERVERS, &e->count) < 0 ||
            sim_cfg_bool(c, "drain", true, &e->drain) < 0 ||
            sim_cfg_bool(c, "migrate", p->migrate_default, &e->migrate) < 0)
            return -1;
        if (e->server_name[0] == '\0')
            e->server_name = NULL;
        else if (e->count != 1)
            return sim_cfg_fail(c, "count",
                                "a scale event that names a server moves that one "
                                "server: leave count out");
        if (e->at < prev)
            return sim_cfg_fail(c, "at",
                                "scale events go in time order (this one is before the "
                                "one above it)");
        prev = e->at;
        if (e->migrate && p->state != WEB_STATE_STATEFUL)
            return sim_cfg_fail(c, "migrate",
                                "moves stateful sessions: set "
                                "session.state to \"stateful\" or leave migrate out");
        if (e->migrate && p->policy != WEB_POL_HASH_MOD && p->policy != WEB_POL_CONSISTENT)
            return sim_cfg_fail(c, "migrate",
                                "moves each session to the server its user hashes "
                                "to, so it needs policy \"hash_mod\" or \"consistent_hash\"");
        if (e->migrate && !e->drain)
            return sim_cfg_fail(c, "migrate",
                                "needs drain: an abrupt removal has no time to "
                                "move sessions");
        if (e->migrate && e->action == WEB_SCALE_ADD)
            return sim_cfg_fail(c, "migrate", "applies to \"remove\" only");
        sim_cfg_leave(c);
    }
    return 0;
}

/* web.origin and web.changes: Last-Modified's resolution, and changes of
 * single items at given times (bursts within one second included). */
static int read_origin(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "origin") < 0 ||
        sim_cfg_time(c, "last_modified_resolution", "1s", 1, HOUR, &p->lm_resolution) < 0)
        return -1;
    sim_cfg_leave(c);
    uint32_t n;
    if (sim_cfg_list(c, "changes", WEB_MAX_SCALE, &n) < 0)
        return -1;
    sim *s = sim_cfg_sim(c);
    for (uint32_t i = 0; i < n; i++) {
        web_change_cfg *e = &p->changes[i];
        p->n_changes = (int)i + 1;
        const char *cls;
        int64_t item;
        if (sim_cfg_enter_item(c, "changes", i) < 0 ||
            sim_cfg_time(c, "at", NULL, 0, sim_duration(s), &e->at) < 0 ||
            sim_cfg_str(c, "class", p->classes[0].name, &cls) < 0 ||
            sim_cfg_int(c, "item", 1, 1, (int64_t)1 << 31, &item) < 0 ||
            sim_cfg_int(c, "count", 1, 1, 100000, &e->count) < 0 ||
            sim_cfg_time(c, "every", "0s", 0, sim_duration(s), &e->every) < 0)
            return -1;
        e->cls = -1;
        for (int k = 0; k < p->n_classes; k++)
            if (strcmp(p->classes[k].name, cls) == 0)
                e->cls = k;
        if (e->cls < 0)
            return sim_cfg_fail(c, "class", "\"%s\" is not a class of web.classes", cls);
        if (item > p->classes[e->cls].items)
            return sim_cfg_fail(c, "item",
                                "%lld is past the class's catalogue (items 1 .. %lld, by "
                                "popularity)",
                                (long long)item, (long long)p->classes[e->cls].items);
        e->item = (uint32_t)item;
        if (e->count > 1 && e->every == 0)
            return sim_cfg_fail(c, "every",
                                "is 0 with count %lld: changes at the same instant are one "
                                "change; give the time between them",
                                (long long)e->count);
        sim_cfg_leave(c);
    }
    return 0;
}

/* The limiter's keys in the schema's order, and which of them each
 * algorithm reads (rl_uses, in rl_algos' order; the rules are
 * web_limit.h's).  none reads none of them; the others read the common
 * ones and their own: limit and window the window algorithms, rate_per_s
 * and burst the buckets (tick the token bucket only: the meter's must be
 * 0), rate_per_s and queue the shaper.  A key given that the algorithm
 * does not read is refused, so the resolved scenario holds only what the
 * run uses. */
enum {
    RL_KEY = 1 << 0,
    RL_LIMIT = 1 << 1,
    RL_WINDOW = 1 << 2,
    RL_RATE = 1 << 3,
    RL_BURST = 1 << 4,
    RL_TICK = 1 << 5,
    RL_QUEUE = 1 << 6,
    RL_PLACEMENT = 1 << 7,
    RL_STORE_LATENCY = 1 << 8,
    RL_RETRY_AFTER = 1 << 9,
    RL_SOFT = 1 << 10,
    RL_COMMON = RL_KEY | RL_PLACEMENT | RL_STORE_LATENCY | RL_RETRY_AFTER | RL_SOFT
};
static const char *const rl_keys[] = {"key",           "limit",       "window", "rate_per_s",
                                      "burst",         "tick",        "queue",  "placement",
                                      "store_latency", "retry_after", "soft"};
#define RL_N_KEYS (sizeof rl_keys / sizeof *rl_keys)
static const unsigned rl_uses[] = {
    0,
    RL_COMMON | RL_LIMIT | RL_WINDOW,
    RL_COMMON | RL_LIMIT | RL_WINDOW,
    RL_COMMON | RL_LIMIT | RL_WINDOW,
    RL_COMMON | RL_RATE | RL_BURST | RL_TICK,
    RL_COMMON | RL_RATE | RL_BURST,
    RL_COMMON | RL_RATE | RL_QUEUE,
};
_Static_assert(sizeof rl_uses / sizeof *rl_uses == sizeof rl_algos / sizeof *rl_algos - 1,
               "one rl_uses per algorithm");

/* Joins names[0..m) into buf as "a, b or c" (last: " or ") or "a, b, c"
 * (last: ", "). */
static void rl_join(char *buf, size_t n, const char *const *names, size_t m, const char *last) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m && len < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 < m ? ", " : last;
        len += (size_t)snprintf(buf + len, n - len, "%s%s", sep, names[i]);
    }
}

/* The algorithm-specific keys algorithm algo reads, "rate_per_s, burst". */
static void rl_keys_of(char *buf, size_t n, int algo) {
    const char *names[RL_N_KEYS];
    size_t m = 0;
    for (size_t k = 0; k < RL_N_KEYS; k++)
        if ((rl_uses[algo] & ~(unsigned)RL_COMMON) >> k & 1)
            names[m++] = rl_keys[k];
    rl_join(buf, n, names, m, ", ");
}

/* The algorithms that read key k, "token_bucket or leaky_bucket". */
static void rl_algos_of(char *buf, size_t n, size_t k) {
    const char *names[sizeof rl_uses / sizeof *rl_uses];
    size_t m = 0;
    for (size_t a = 1; a < sizeof rl_uses / sizeof *rl_uses; a++)
        if (rl_uses[a] >> k & 1)
            names[m++] = rl_algos[a];
    rl_join(buf, n, names, m, " or ");
}

/* Refuses the first key of the limiter that algorithm algo (an rl_algos
 * index) does not read. */
static int rl_refuse_unused(sim_cfg *c, int algo) {
    for (size_t k = 0; k < RL_N_KEYS; k++) {
        if ((rl_uses[algo] >> k & 1) || !sim_cfg_given(c, rl_keys[k]))
            continue;
        char users[160];
        rl_algos_of(users, sizeof users, k);
        if (algo == 0) {
            char choose[200] = "set an algorithm";
            if (!(RL_COMMON >> k & 1))
                snprintf(choose, sizeof choose, "set an algorithm that uses it (%s)", users);
            return sim_cfg_fail(c, rl_keys[k],
                                "the limiter is off (no algorithm given): %s, or remove this "
                                "key (\"algorithm\": \"none\" keeps the keys and turns the "
                                "limiter off)",
                                choose);
        }
        char uses[160];
        rl_keys_of(uses, sizeof uses, algo);
        return sim_cfg_fail(c, rl_keys[k],
                            "%s does not use \"%s\" (it uses %s): remove it, or choose %s",
                            rl_algos[algo], rl_keys[k], uses, users);
    }
    return 0;
}

/* The keys of the limiter in `use` (a mask of RL_ bits), then, for a
 * limiter that is on (algo, an rl_algos index, > 0), web_rl_check. */
static int read_limiting(sim_cfg *c, web_shared *p, int algo, unsigned use) {
    int placement = 0;
    double margin = 0;
    if (((use & RL_KEY) && sim_cfg_enum(c, "key", "user", rl_scopes, &p->rl_scope) < 0) ||
        ((use & RL_LIMIT) && sim_cfg_int(c, "limit", 100, 1, WEB_RL_MAX_LIMIT, &p->rl.limit) < 0) ||
        ((use & RL_WINDOW) &&
         sim_cfg_time(c, "window", "1s", 1, WEB_RL_MAX_WINDOW, &p->rl.window) < 0) ||
        ((use & RL_RATE) &&
         sim_cfg_num(c, "rate_per_s", 100, 0, WEB_RL_MAX_RATE, &p->rl.rate_per_s) < 0) ||
        ((use & RL_BURST) && sim_cfg_int(c, "burst", 100, 0, WEB_RL_MAX_BURST, &p->rl.burst) < 0) ||
        ((use & RL_TICK) && sim_cfg_time(c, "tick", "0s", 0, WEB_RL_MAX_WINDOW, &p->rl.tick) < 0) ||
        ((use & RL_QUEUE) && sim_cfg_int(c, "queue", 100, 0, WEB_RL_MAX_QUEUE, &p->rl.queue) < 0) ||
        ((use & RL_PLACEMENT) &&
         sim_cfg_enum(c, "placement", "local", rl_placements, &placement) < 0) ||
        ((use & RL_STORE_LATENCY) &&
         sim_cfg_dist(c, "store_latency", "500us", SIM_UNIT_TIME, &p->rl_store_latency) < 0) ||
        ((use & RL_RETRY_AFTER) && sim_cfg_bool(c, "retry_after", true, &p->retry_after) < 0))
        return -1;
    if (use & RL_SOFT) {
        if (sim_cfg_enter(c, "soft") < 0 ||
            sim_cfg_num(c, "margin", 0, 0, WEB_RL_MAX_MARGIN, &margin) < 0 ||
            sim_cfg_time(c, "grace", "0s", 0, HOUR, &p->rl.grace) < 0 ||
            sim_cfg_enum(c, "overage", "flag", overages, &p->overage) < 0 ||
            sim_cfg_time(c, "delay", "100ms", 0, HOUR, &p->overage_delay) < 0)
            return -1;
        sim_cfg_leave(c);
    }
    if (algo == 0)
        return 0;
    p->rl.soft_margin = margin;
    p->rl_shared = placement == 1;
    p->rl.algo = rl_algo_of[algo - 1];
    /* web_rl_check's message starts with the field's name: put it on the
     * JSON path (the soft limit's two live in limiter.soft). */
    const char *why = web_rl_check(&p->rl);
    if (why) {
        const char *colon = strstr(why, ": ");
        char key[32] = "";
        if (colon && (size_t)(colon - why) < sizeof key)
            memcpy(key, why, (size_t)(colon - why));
        const char *path = strcmp(key, "soft_margin") == 0 ? "soft.margin"
                           : strcmp(key, "grace") == 0     ? "soft.grace"
                                                           : key;
        return path[0] ? sim_cfg_fail(c, path, "%s", colon + 2) : sim_cfg_fail(c, NULL, "%s", why);
    }
    return 0;
}

/* web.limiter: the balancers' rate limiter (off by default).  The
 * algorithm first, then only the keys it reads. */
static int read_limiter(sim_cfg *c, web_shared *p) {
    int algo;
    memset(&p->rl, 0, sizeof p->rl);
    if (sim_cfg_enter(c, "limiter") < 0 ||
        sim_cfg_enum(c, "algorithm", "none", rl_algos, &algo) < 0)
        return -1;
    p->limiting = algo > 0;
    if (algo == 0 && sim_cfg_given(c, "algorithm")) {
        /* "none" said in so many words is the off switch (--set
         * web.limiter.algorithm=none on a scenario that limits): the other
         * keys given are checked as usual and do nothing, as a disabled
         * cache's.  Left out, "none" is the default, and a key given
         * without an algorithm is a mistake. */
        unsigned given = 0;
        for (size_t k = 0; k < RL_N_KEYS; k++)
            if (sim_cfg_given(c, rl_keys[k]))
                given |= 1u << k;
        if (read_limiting(c, p, 0, given) < 0)
            return -1;
        p->rl_scope = WEB_RLS_USER; /* unused while off */
    } else if (rl_refuse_unused(c, algo) < 0 ||
               (p->limiting && read_limiting(c, p, algo, rl_uses[algo]) < 0)) {
        return -1;
    }
    sim_cfg_leave(c);
    p->rl_keys = p->rl_scope == WEB_RLS_USER     ? (uint32_t)p->n_users
                 : p->rl_scope == WEB_RLS_CLIENT ? (uint32_t)p->n_clients
                                                 : 1;
    return 0;
}

static int read_load(sim_cfg *c, web_shared *p) {
    uint32_t n;
    if (sim_cfg_list(c, "load", WEB_MAX_SCALE, &n) < 0)
        return -1;
    sim *s = sim_cfg_sim(c);
    p->factor = 1;
    for (uint32_t i = 0; i < n; i++) {
        p->n_load = (int)i + 1;
        if (sim_cfg_enter_item(c, "load", i) < 0 ||
            sim_cfg_time(c, "at", NULL, 0, sim_duration(s), &p->load_at[i]) < 0 ||
            sim_cfg_num(c, "factor", 1, 0.001, 1000, &p->load_factor[i]) < 0)
            return -1;
        if (i > 0 && p->load_at[i] < p->load_at[i - 1])
            return sim_cfg_fail(c, "at",
                                "load changes go in time order (this one is before the "
                                "one above it)");
        sim_cfg_leave(c);
    }
    return 0;
}

static int read_autoscale(sim_cfg *c, web_shared *p) {
    if (sim_cfg_enter(c, "autoscale") < 0 || sim_cfg_bool(c, "enabled", false, &p->autoscale) < 0 ||
        sim_cfg_num(c, "target_utilisation", 0.6, 0.01, 1, &p->target_util) < 0 ||
        sim_cfg_time(c, "interval", "10s", 10 * SIM_MS, HOUR, &p->as_interval) < 0 ||
        sim_cfg_time(c, "boot_time", "30s", 0, HOUR, &p->boot_time) < 0 ||
        sim_cfg_time(c, "cooldown", "30s", 0, HOUR, &p->cooldown) < 0 ||
        sim_cfg_int(c, "min", 1, 1, WEB_MAX_SERVERS, &p->as_min) < 0 ||
        sim_cfg_int(c, "max",
                    p->n_servers * 4 < WEB_MAX_SERVERS ? p->n_servers * 4 : WEB_MAX_SERVERS, 1,
                    WEB_MAX_SERVERS, &p->as_max) < 0)
        return -1;
    if (p->as_min > p->as_max)
        return sim_cfg_fail(c, "min", "is more than max (%lld > %lld)", (long long)p->as_min,
                            (long long)p->as_max);
    sim_cfg_leave(c);
    return 0;
}

/* The pool: servers in service at the start plus room for every add of the
 * schedule (or the autoscaler's max), unless servers.pool says. */
static int size_pool(sim_cfg *c, web_shared *p) {
    int64_t in = p->n_servers, peak = in;
    for (int i = 0; i < p->n_scale; i++) {
        const web_scale_cfg *e = &p->scale[i];
        if (e->server_name)
            continue; /* checked in validate, once names exist */
        in += e->action == WEB_SCALE_ADD ? e->count : -e->count;
        if (in < 1) {
            if (sim_cfg_enter_item(c, "scale", (uint32_t)i) < 0)
                return -1;
            return sim_cfg_fail(c, "count",
                                "removes %lld servers when %lld are in service: "
                                "at least one must stay (a tier cannot scale in to zero)",
                                (long long)e->count, (long long)(in + e->count));
        }
        if (in > peak)
            peak = in;
    }
    if (p->autoscale && p->as_max > peak)
        peak = p->as_max;
    if (p->pool == 0)
        p->pool = peak;
    if (p->pool < peak)
        return sim_cfg_fail(c, "servers",
                            "pool (%lld) is smaller than the servers in service "
                            "at the peak (%lld): raise servers.pool or leave it out",
                            (long long)p->pool, (long long)peak);
    if (p->pool > WEB_MAX_SERVERS)
        return sim_cfg_fail(c, "servers", "the pool would hold %lld servers (at most %d)",
                            (long long)p->pool, WEB_MAX_SERVERS);
    if (p->autoscale && p->as_max > p->pool)
        return sim_cfg_fail(c, "autoscale", "max (%lld) is more than servers.pool (%lld)",
                            (long long)p->as_max, (long long)p->pool);
    return 0;
}

static void register_metrics(web_shared *p) {
    sim *s = p->s;
    static const char *const end_names[WEB_END_COUNT] = {
        "web.ok",       "web.timeouts", "web.rejected", "web.no_server", "web.server_errors",
        "web.overload", "web.limited"};
    p->c_requests = sim_counter(s, "web.requests");
    /* The limiter's columns only in runs that limit. */
    for (int e = 0; e < WEB_END_COUNT; e++)
        p->c_end[e] = e == WEB_END_LIMITED && !p->limiting ? -1 : sim_counter(s, end_names[e]);
    p->c_stale = p->catalogue ? sim_counter(s, "web.stale_shown") : -1;
    if (p->caching) {
        p->c_hits = sim_counter(s, "web.cache_hits");
        p->c_revalidations = sim_counter(s, "web.revalidations");
        p->c_not_modified = sim_counter(s, "web.not_modified");
        p->c_full = sim_counter(s, "web.full_responses");
        p->c_races = sim_counter(s, "web.eviction_races");
        p->h_latency_full = sim_histogram(s, "web.latency_full", "ns");
        p->h_latency_304 = sim_histogram(s, "web.latency_304", "ns");
    }
    if (p->limiting) {
        p->c_rl_allowed = sim_counter(s, "web.rl_allowed");
        p->c_rl_soft = sim_counter(s, "web.rl_soft");
        p->c_rl_delayed = sim_counter(s, "web.rl_delayed");
        p->c_rl_rejected = sim_counter(s, "web.rl_rejected");
        p->c_retries_429 = sim_counter(s, "web.retries_429");
    }
    p->c_retries = sim_counter(s, "web.retries");
    p->c_logins = sim_counter(s, "web.logins");
    p->c_misses = sim_counter(s, "web.session_misses");
    p->c_relogins = sim_counter(s, "web.relogins");
    p->c_lost = sim_counter(s, "web.sessions_lost");
    p->c_store_reads = sim_counter(s, "web.store_reads");
    p->c_store_writes = sim_counter(s, "web.store_writes");
    p->c_late = sim_counter(s, "web.late_responses");
    p->g_in_flight = sim_gauge(s, "web.in_flight");
    p->g_in_service = sim_gauge(s, "web.servers_in_service");
    p->g_util = sim_gauge(s, "web.utilisation");
    p->g_p99 = sim_gauge(s, "web.latency_p99_ms");
    p->g_mean = sim_gauge(s, "web.latency_mean_ms");
    p->g_sessions = sim_gauge(s, "web.sessions");
    p->h_latency = sim_histogram(s, "web.latency", "ns");
    p->h_server_time = sim_histogram(s, "web.server_time", "ns");
    p->h_queue_wait = sim_histogram(s, "web.queue_wait", "ns");
    for (int i = 0; i < p->n_classes; i++) {
        char name[64];
        snprintf(name, sizeof name, "web.latency.%s", p->classes[i].name);
        p->classes[i].h_latency = sim_histogram(s, name, "ns");
    }
}

int web_configure(sim_cfg *c, void *shared) {
    web_shared *p = shared;
    p->s = sim_cfg_sim(c);
    if (read_users(c, p) < 0 || read_classes(c, p) < 0 || read_servers(c, p) < 0 ||
        read_balancer(c, p) < 0 || read_session(c, p) < 0 || read_scale(c, p) < 0 ||
        read_load(c, p) < 0 || read_autoscale(c, p) < 0 || read_limiter(c, p) < 0 ||
        read_origin(c, p) < 0 || sim_cfg_time(c, "window", "1s", SIM_MS, HOUR, &p->window) < 0 ||
        size_pool(c, p) < 0)
        return -1;
    if (p->n_weights > 0 && p->n_weights != (uint32_t)p->pool)
        return sim_cfg_enter(c, "balancer") < 0
                   ? -1
                   : sim_cfg_fail(c, "weights",
                                  "lists %u servers and the pool has %lld: give "
                                  "one weight per server (server0 first)",
                                  p->n_weights, (long long)p->pool);
    if (p->n_weights == 0)
        for (int64_t i = 0; i < p->pool; i++)
            p->weights[i] = 1;
    if (p->policy == WEB_POL_CHOICES && p->choices > p->pool)
        return sim_cfg_enter(c, "balancer") < 0
                   ? -1
                   : sim_cfg_fail(c, "choices",
                                  "%lld is more than the servers in the pool "
                                  "(%lld): a balancer cannot sample more servers than there are",
                                  (long long)p->choices, (long long)p->pool);
    if (p->sticky == WEB_STICKY_TABLE &&
        (double)p->n_users * (double)p->n_lbs * 4 > 4.0 * 1024 * 1024 * 1024)
        return sim_cfg_enter(c, "balancer") < 0
                   ? -1
                   : sim_cfg_fail(c, "sticky",
                                  "a sticky table for %lld users on %lld balancers "
                                  "would take more than 4 GiB: use sticky \"cookie\"",
                                  (long long)p->n_users, (long long)p->n_lbs);
    if (sim_cfg_add_nodes(c, "client", (uint32_t)p->n_clients) < 0 ||
        sim_cfg_add_nodes(c, "lb", (uint32_t)p->n_lbs) < 0 ||
        sim_cfg_add_nodes(c, "server", (uint32_t)p->pool) < 0 ||
        (p->n_stores > 0 && sim_cfg_add_nodes(c, "store", (uint32_t)p->n_stores) < 0))
        return -1;
    register_metrics(p);
    return 0;
}

int web_validate(sim_cfg *c, void *shared) {
    web_shared *p = shared;
    sim *s = p->s;
    uint32_t known = (uint32_t)(p->n_clients + p->n_lbs + p->pool + p->n_stores);
    if (sim_node_count(s) != known)
        return sim_cfg_fail(c, NULL,
                            "the web model adds its own nodes (client, lb, server, "
                            "store groups): remove $.nodes from the scenario");
    p->client_first = sim_group_first(s, sim_group_find(s, "client"));
    p->lb_first = sim_group_first(s, sim_group_find(s, "lb"));
    p->server_first = sim_group_first(s, sim_group_find(s, "server"));
    p->store_first = p->n_stores > 0 ? sim_group_first(s, sim_group_find(s, "store")) : 0;
    /* The schedule played through, as web_scale.c applies it (an add takes
     * the lowest idle servers, a remove the highest in service), so that
     * a named server is checked against what is in service then. */
    bool in[WEB_MAX_SERVERS];
    int64_t n_in = p->n_servers;
    for (int64_t i = 0; i < p->pool; i++)
        in[i] = i < p->n_servers;
    for (int i = 0; i < p->n_scale; i++) {
        web_scale_cfg *e = &p->scale[i];
        if (!e->server_name) {
            if (e->action == WEB_SCALE_REMOVE && n_in - e->count < 1)
                return sim_cfg_enter_item(c, "scale", (uint32_t)i) < 0
                           ? -1
                           : sim_cfg_fail(c, "count",
                                          "removes %lld servers when %lld are in "
                                          "service: at least one must stay (a tier cannot scale "
                                          "in to zero)",
                                          (long long)e->count, (long long)n_in);
            for (int64_t k = 0; k < e->count; k++) {
                int64_t j = e->action == WEB_SCALE_ADD ? 0 : p->pool - 1;
                while (j >= 0 && j < p->pool && in[j] != (e->action != WEB_SCALE_ADD))
                    j += e->action == WEB_SCALE_ADD ? 1 : -1;
                if (j >= 0 && j < p->pool) {
                    in[j] = e->action == WEB_SCALE_ADD;
                    n_in += e->action == WEB_SCALE_ADD ? 1 : -1;
                }
            }
            continue;
        }
        if (sim_cfg_enter_item(c, "scale", (uint32_t)i) < 0)
            return -1;
        /* Every key of the item is read again: the checks of unknown keys
         * look at what this pass read. */
        uint32_t node;
        web_scale_cfg again;
        if (sim_cfg_time(c, "at", NULL, 0, sim_duration(s), &again.at) < 0 ||
            sim_cfg_enum(c, "action", NULL, actions, &again.action) < 0 ||
            sim_cfg_int(c, "count", 1, 1, WEB_MAX_SERVERS, &again.count) < 0 ||
            sim_cfg_bool(c, "drain", true, &again.drain) < 0 ||
            sim_cfg_bool(c, "migrate", p->migrate_default, &again.migrate) < 0 ||
            sim_cfg_node(c, "server", NULL, &node) < 0)
            return -1;
        if (node < p->server_first || node >= p->server_first + (uint32_t)p->pool)
            return sim_cfg_fail(c, "server", "\"%s\" is not a server (server0 .. server%lld)",
                                e->server_name, (long long)p->pool - 1);
        e->server = node - p->server_first;
        if (e->action == WEB_SCALE_ADD && in[e->server])
            return sim_cfg_fail(c, "server", "%s is already in service here", e->server_name);
        if (e->action == WEB_SCALE_REMOVE && !in[e->server])
            return sim_cfg_fail(c, "server", "%s is not in service here", e->server_name);
        if (e->action == WEB_SCALE_REMOVE && n_in == 1)
            return sim_cfg_fail(c, "server",
                                "removes %s, the last server in service: at least "
                                "one must stay (a tier cannot scale in to zero)",
                                e->server_name);
        in[e->server] = e->action == WEB_SCALE_ADD;
        n_in += e->action == WEB_SCALE_ADD ? 1 : -1;
        sim_cfg_leave(c);
    }
    return 0;
}

/* Every pool server's vnodes on a 64-bit ring, sorted by position (ties
 * by server, so the order never depends on the sort). */
typedef struct ring_pt {
    uint64_t pos;
    uint32_t srv;
} ring_pt;

static int cmp_pt(const void *a, const void *b) {
    const ring_pt *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->srv < y->srv ? -1 : x->srv > y->srv;
}

void web_ring_build(web_shared *p) {
    uint32_t n = (uint32_t)(p->pool * p->vnodes);
    ring_pt *pts = sim_malloc((size_t)n * sizeof *pts);
    uint32_t k = 0;
    for (uint32_t sv = 0; sv < (uint32_t)p->pool; sv++)
        for (uint32_t v = 0; v < (uint32_t)p->vnodes; v++) {
            uint64_t key = (uint64_t)sv << 32 | v;
            pts[k++] = (ring_pt){sim_hash64(&key, sizeof key, 0x7765622d72696e67ULL), sv};
        }
    qsort(pts, n, sizeof *pts, cmp_pt);
    p->ring_pos = sim_malloc((size_t)n * sizeof *p->ring_pos);
    p->ring_srv = sim_malloc((size_t)n * sizeof *p->ring_srv);
    for (uint32_t i = 0; i < n; i++) {
        p->ring_pos[i] = pts[i].pos;
        p->ring_srv[i] = pts[i].srv;
    }
    p->ring_n = n;
    sim_free(pts);
}

void web_estimate(const sim *s, const void *shared, sim_model_estimate *e) {
    const web_shared *p = shared;
    double dur = (double)sim_duration(s);
    double think = sim_dist_mean(&p->think);
    if (!(think > 0) || !isfinite(think))
        think = 1e6; /* closed loop with no think time: bounded by latency, ~1 ms */
    double fmax = 1; /* the busiest load phase, for a bound */
    for (int i = 0; i < p->n_load; i++)
        if (p->load_factor[i] > fmax)
            fmax = p->load_factor[i];
    double reqs = (double)p->n_users * dur / think * fmax;
    double per = 6 + (p->state == WEB_STATE_STATELESS ? 3 : 0);
    e->events = reqs * per;
    if (p->health_interval > 0)
        e->events += (double)p->n_lbs * (double)p->pool * 2 * dur / (double)p->health_interval;
    e->events_key = "web.users.think_time";
    char m[48];
    sim_human_count(reqs, m, sizeof m);
    snprintf(e->events_why, sizeof e->events_why,
             "about %s requests (users x duration / think time), some %.0f events each", m, per);
    /* A user: its record at the client, its session's place in the oracle,
     * and its pending timer in the event queue: 112 bytes measured
     * (docs/performance.md), 120 allowed. */
    double bytes = (double)p->n_users * 120;
    if (p->sticky == WEB_STICKY_TABLE)
        bytes += (double)p->n_users * (double)p->n_lbs * 4;
    bytes += (double)p->pool * (double)p->vnodes * 12;
    /* Part 2: 32 bytes per item at the origin; a browser cache's struct per
     * user and its copies (below), a user
     * holding no more copies than the catalogue has or it asks for; a limiter state per
     * key (and its log ring) per balancer, or once when shared. */
    double items = 0;
    for (int i = 0; i < p->n_classes; i++)
        items += (double)p->classes[i].items;
    bytes += items * 32;
    if (p->caching) {
        /* Nor more than it makes requests. */
        double copies = items, asks = dur / think * fmax;
        if (p->cache_entries > 0 && (double)p->cache_entries < copies)
            copies = (double)p->cache_entries;
        if (asks < copies)
            copies = asks;
        /* 50 bytes a copy in a full cache; up to about twice that while
         * caches grow (the doubling's slack, and the blocks they outgrew,
         * kept in the arena). */
        bytes += (double)p->n_users * ((double)sizeof(web_cache) + copies * 100);
    }
    /* The oracle's: a row per window, each user's counts (up to
     * WEB_PER_CLIENT_MAX users), the watched key's ring. */
    double rows = dur / (double)p->window;
    bytes += fmin(rows, WEB_MAX_WIN_ROWS) * (double)sizeof(web_win_row);
    if (p->n_users <= WEB_PER_CLIENT_MAX)
        bytes += (double)p->n_users * (double)sizeof(web_ustat);
    if (p->limiting)
        bytes += 8.0 * fmin(2.0 * (double)(p->rl.limit + p->rl.burst) + 64, WEB_WATCH_MAX);
    if (p->limiting) {
        double st = (double)sizeof(web_rl);
        if (p->rl.algo == WEB_RL_SLIDING_LOG)
            st += 2.0 * 8 * (double)p->rl.limit;
        bytes += (double)p->rl_keys * st * (p->rl_shared ? 1 : (double)p->n_lbs);
    }
    e->bytes = bytes;
    e->bytes_key = "web.users.count";
    sim_human_count((double)p->n_users, m, sizeof m);
    snprintf(e->bytes_why, sizeof e->bytes_why,
             "%s users (a record each at its client, its session's place, its next request)", m);
}

const uint32_t *web_serving(web_shared *p, uint32_t *n) {
    if (p->serving_version != p->version || p->version == 0) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < (uint32_t)p->pool; i++)
            if (p->member[i] == WEB_SERVING)
                p->serving[k++] = i;
        p->n_serving = k;
        p->serving_version = p->version;
    }
    *n = p->n_serving;
    return p->serving;
}

uint32_t web_ring_find(const web_shared *p, uint64_t h) {
    uint32_t lo = 0, hi = p->ring_n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->ring_pos[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t web_map_user(web_shared *p, uint32_t u) {
    uint32_t n;
    const uint32_t *in = web_serving(p, &n);
    if (n == 0)
        return WEB_NOWHERE;
    uint64_t h = web_user_hash(u);
    if (p->policy != WEB_POL_CONSISTENT)
        return in[h % n];
    /* The first vnode at or after the user's point, of a server in service. */
    uint32_t lo = web_ring_find(p, h);
    for (uint32_t k = 0; k < p->ring_n; k++) {
        uint32_t sv = p->ring_srv[(lo + k) % p->ring_n];
        if (p->member[sv] == WEB_SERVING)
            return sv;
    }
    return WEB_NOWHERE;
}
