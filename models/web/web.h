/*
 * web.h - the web tier: users with sessions, load balancers with their
 * policies and health checks, web servers with workers and bounded queues,
 * stateful or stateless sessions (a shared session store), scale events and
 * an autoscaler.
 *
 * The model is `web_model`.  The configuration and the shared state are
 * declared here only so that tests can check them against the model's
 * invariants; the kernel treats them as opaque bytes and other models must
 * not use them.  models/web/web.c opens with the design notes.
 */
#ifndef DSIM_WEB_H
#define DSIM_WEB_H

#include "sim.h"
#include "web_cache.h"
#include "web_limit.h"
#include "web_origin.h"

extern const sim_model web_model;

/* Bounds of a scenario, fixed so the configuration needs no allocation. */
#define WEB_MAX_CLASSES 8
#define WEB_MAX_SERVERS 4096 /* the server pool, in service or idle */
#define WEB_MAX_LBS     64
#define WEB_MAX_STORES  64
#define WEB_MAX_SCALE   256 /* scale events in the schedule */
#define WEB_MAX_USERS   50000000
#define WEB_MAX_VNODES  1000
#define WEB_NAME_MAX    25

typedef enum web_policy {
    WEB_POL_ROUND_ROBIN,
    WEB_POL_WEIGHTED,
    WEB_POL_RANDOM,
    WEB_POL_LEAST_CONN,
    WEB_POL_LEAST_LATENCY,
    WEB_POL_CHOICES,
    WEB_POL_HASH_MOD,
    WEB_POL_CONSISTENT,
    WEB_POL_COUNT
} web_policy;

typedef enum web_sticky { WEB_STICKY_NONE, WEB_STICKY_TABLE, WEB_STICKY_COOKIE } web_sticky;
typedef enum web_state { WEB_STATE_NONE, WEB_STATE_STATEFUL, WEB_STATE_STATELESS } web_state;
typedef enum web_loop { WEB_LOOP_CLOSED, WEB_LOOP_OPEN } web_loop;
/* Where an open loop's requests come from: each user's own think timer,
 * or one merged Poisson stream per client node (web_client.c). */
typedef enum web_arrivals { WEB_ARRIVALS_PER_USER, WEB_ARRIVALS_POOLED } web_arrivals;

/* How a request ended, as the client saw it (the index of each counter). */
typedef enum web_end {
    WEB_END_OK,
    WEB_END_TIMEOUT,   /* no answer within client.timeout */
    WEB_END_REJECTED,  /* every server tried was full (503) */
    WEB_END_NO_SERVER, /* the balancer had no healthy server */
    WEB_END_SERVER,    /* the server failed it: its session store did not answer */
    WEB_END_OVERLOAD,  /* the client or balancer tracks too many requests already */
    WEB_END_LIMITED,   /* the rate limiter said 429 and the client stopped retrying */
    WEB_END_COUNT
} web_end;

/* Rate limiting (part 2): whose requests one limiter state counts. */
typedef enum web_rl_scope { WEB_RLS_USER, WEB_RLS_CLIENT, WEB_RLS_GLOBAL } web_rl_scope;
/* What happens to a request over the soft limit but under the hard one. */
typedef enum web_overage { WEB_OVER_FLAG, WEB_OVER_DELAY, WEB_OVER_DEPRIORITISE } web_overage;
/* What a client does with a 429. */
typedef enum web_on429 {
    WEB_429_RETRY_AFTER, /* waits the Retry-After, then sends the request again */
    WEB_429_BACKOFF,     /* waits an exponential backoff with full jitter */
    WEB_429_GIVE_UP,     /* the request ends as limited */
    WEB_429_IGNORE,      /* sends it again at once (an abusive client) */
} web_on429;

/* Which validators a client sends when its copy is no longer fresh. */
typedef enum web_validators { WEB_VAL_NONE, WEB_VAL_ETAG, WEB_VAL_LM, WEB_VAL_BOTH } web_validators;

/* Why a client showed a copy older than the origin's (web.stale_shown). */
typedef enum web_stale_cause {
    WEB_STALE_MAX_AGE,       /* a fresh hit: max-age had not run out */
    WEB_STALE_LAST_MODIFIED, /* a 304 by If-Modified-Since hid a change within its resolution */
    WEB_STALE_IN_FLIGHT,     /* the origin changed while the answer travelled */
    WEB_STALE_SWR,           /* an expired copy served while it was revalidated (RFC 5861) */
    WEB_STALE_COUNT
} web_stale_cause;

typedef struct web_class_cfg {
    char name[WEB_NAME_MAX];
    double weight, cum; /* cum: cumulative normalised weight */
    sim_dist service;   /* work at the server, at speed 1 */
    int64_t request_bytes, response_bytes, items;
    double zipf;
    bool writes_session;
    sim_zipf catalogue;
    int h_latency; /* metric id */
    /* Caching (part 2): how often each item changes, the Cache-Control the
     * origin sends, the validators clients use, and what a check costs. */
    double change_rate_per_s;
    sim_time max_age;
    sim_time swr; /* stale-while-revalidate: how long past expiry a copy may answer (0: never) */
    bool no_cache, no_store, cacheable; /* cacheable: items, caching on, not no_store */
    int validators;
    sim_time etag_cost_per_kib, last_modified_cost;
    int64_t not_modified_bytes;
} web_class_cfg;

/* A scheduled change of one item: count changes from at, every apart. */
typedef struct web_change_cfg {
    sim_time at, every;
    int cls;
    uint32_t item;
    int64_t count;
} web_change_cfg;

typedef enum web_action { WEB_SCALE_ADD, WEB_SCALE_REMOVE } web_action;

typedef struct web_scale_cfg {
    sim_time at;
    int action;
    int64_t count;
    const char *server_name; /* NULL: pick by index */
    uint32_t server;         /* resolved in validate (a pool index) */
    bool drain, migrate;
} web_scale_cfg;

/* What a server is doing in the pool. */
typedef enum web_member {
    WEB_IDLE,     /* not in service: no balancer sends to it */
    WEB_BOOTING,  /* the autoscaler started it; in service after boot_time */
    WEB_SERVING,  /* in service */
    WEB_DRAINING, /* leaving: finishes what it holds, gets nothing new */
} web_member;

struct web_oracle;

typedef struct web_shared {
    sim *s;
    /* users */
    int64_t n_users, n_clients, session_bytes, client_max_outstanding;
    int loop, arrivals;
    sim_dist think, session_length, away;
    sim_time client_timeout;
    /* classes */
    int n_classes;
    web_class_cfg classes[WEB_MAX_CLASSES];
    /* servers */
    int64_t n_servers, pool, workers, max_workers, queue;
    double speed, cost_per_hour;
    /* balancers */
    int64_t n_lbs, choices, vnodes, retries, lb_max_outstanding;
    int policy, sticky;
    double bound; /* bounded loads factor c (0: off) */
    bool retry_busy;
    double weights[WEB_MAX_SERVERS];
    uint32_t n_weights;
    sim_time lb_timeout, health_interval;
    int64_t unhealthy_threshold, healthy_threshold;
    sim_time ewma_tau;
    /* sessions */
    int state;
    sim_dist miss_cost;
    bool migrate_default;
    int64_t n_stores, store_workers, store_queue;
    sim_dist store_service;
    bool store_durable;
    sim_time store_timeout;
    /* scaling */
    int n_scale;
    web_scale_cfg scale[WEB_MAX_SCALE];
    bool autoscale;
    double target_util;
    sim_time as_interval, boot_time, cooldown;
    int64_t as_min, as_max;
    sim_time as_ready; /* the autoscaler acts again from then (cooldown) */
    int64_t as_actions;
    sim_time window;
    /* Load changes: from at[i], users think factor[i] times faster. */
    int n_load;
    sim_time load_at[WEB_MAX_SCALE];
    double load_factor[WEB_MAX_SCALE];
    double factor; /* the current one */

    /* Rate limiting at the balancers: off unless limiter.algorithm is set. */
    bool limiting, rl_shared, retry_after;
    web_rl_cfg rl;
    int rl_scope, overage;
    sim_dist rl_store_latency; /* the shared counter store's round trip */
    sim_time overage_delay;
    uint32_t rl_keys;  /* limiter states per placement: users, clients or 1 */
    web_rl *rl_states; /* shared placement: the counter store's, one per key */
    /* Clients' answer to a 429; the first n_abusive users think
     * abusive_factor times faster and answer with abusive_on_429. */
    int on_429, abusive_on_429;
    int64_t max_429_retries, n_abusive;
    double abusive_factor;
    sim_time backoff_base, backoff_cap;

    /* Client caches: one per user when any class is cacheable. */
    bool caching;
    bool catalogue; /* a class has items: the origin exists, copies shown are judged */
    bool swr;       /* a cacheable class has stale_while_revalidate */
    int64_t cache_entries, cache_bytes;
    int cache_policy;
    sim_time lm_resolution;
    web_origin origin;
    int n_changes;
    web_change_cfg changes[WEB_MAX_SCALE];

    /* Node layout: first node of each group. */
    uint32_t client_first, lb_first, server_first, store_first;

    /* Membership, as service discovery tells every balancer (instantly). */
    uint8_t member[WEB_MAX_SERVERS];     /* web_member */
    uint32_t n_in_service;               /* SERVING */
    uint32_t version;                    /* bumped at every change */
    uint32_t serving[WEB_MAX_SERVERS];   /* the SERVING servers by index, */
    uint32_t n_serving, serving_version; /* as of that version */
    int64_t in_flight;                   /* client requests outstanding */
    /* The consistent-hash ring over the pool: every server's vnodes, sorted;
     * a balancer skips servers that are not in service or not healthy. */
    uint64_t *ring_pos;
    uint32_t *ring_srv;
    uint32_t ring_n;
    /* Smooth weighted round robin needs the weights' sum. */

    /* Metric ids. */
    int c_requests, c_end[WEB_END_COUNT], c_retries, c_misses, c_relogins, c_logins;
    int c_lost, c_store_reads, c_store_writes, c_late;
    int c_rl_allowed, c_rl_soft, c_rl_delayed, c_rl_rejected, c_retries_429;
    int c_hits, c_revalidations, c_not_modified, c_full, c_stale, c_races;
    int h_latency_full, h_latency_304;
    int g_in_flight, g_in_service, g_util, g_p99, g_mean, g_sessions;
    int h_latency, h_server_time, h_queue_wait;

    struct web_oracle *oracle;
} web_shared;

#endif
