/*
 * web_int.h - the web model's internal header: message formats, the
 * node-side structures, the slot pool, and the functions the model's files
 * share (prefixes web_pool_, web_oracle_, web_srv_, web_lb_, web_client_,
 * web_scale_).
 *
 * The files, bottom up; each calls only files above it in this list:
 *   web_common.c    the slot pool, sending, the window histogram
 *   web_oracle.c    the truth about sessions: who holds each user's session
 *   web_config.c    reading the scenario's "web" object, the hash ring
 *   web_server.c    web servers and session stores: workers, queues
 *   web_balancer.c  balancers: policies, stickiness, health checks, retries
 *   web_client.c    users: sessions, requests, client timeouts
 *   web_scale.c     scale events and the autoscaler (world timers)
 *   web_report.c    the end-of-run report and per_server.csv, scale.csv
 *   web_charts.c    the charts `dsim plot` draws for a web run
 *   web.c           the model: hook table, dispatch to the roles
 */
#ifndef DSIM_WEB_INT_H
#define DSIM_WEB_INT_H

#include "web.h"

#include "arena.h"
#include "set.h"

#include <string.h>

/* ---- Message types (names in web.c, same order). ---- */

enum {
    WEB_MSG_REQUEST,     /* client -> balancer: a user's request */
    WEB_MSG_FORWARD,     /* balancer -> server: the request, to serve */
    WEB_MSG_RESPONSE,    /* server -> balancer: served, or refused (status) */
    WEB_MSG_REPLY,       /* balancer -> client: the answer (or why there is none) */
    WEB_MSG_STORE_GET,   /* server -> session store: the user's session, please */
    WEB_MSG_STORE_REPLY, /* store -> server: here it is (status: hit or miss) */
    WEB_MSG_STORE_PUT,   /* server -> store: the user's session changed */
    WEB_MSG_PING,        /* balancer -> server: health check of a round */
    WEB_MSG_PONG,        /* server -> balancer: alive */
    WEB_MSG_COUNT
};

/* Status of a response or reply: a web_end, or for store replies HIT/MISS. */
enum { WEB_ST_HIT = 0, WEB_ST_MISS = 1, WEB_ST_GONE = 200 };

/* Flags: LOGIN, the first request of a session; COOKIE, aux names the
 * server the client's cookie pins it to (index + 1); MISS, the server did
 * not hold the session (stateful) or the store had none. */
enum {
    WEB_F_LOGIN = 1,
    WEB_F_COOKIE = 2,
    WEB_F_MISS = 4,
    WEB_F_LOW = 8,
    WEB_F_INM = 16,    /* request: If-None-Match, the copy's version in attempt */
    WEB_F_IMS = 32,    /* request: If-Modified-Since the copy's Last-Modified */
    WEB_F_304 = 64,    /* answer: 304 Not Modified (the client's copy is current) */
    WEB_F_HIDDEN = 128 /* answer: a 304 by If-Modified-Since alone over a newer version */
};
/* LOW: over the soft limit, deprioritised: the server serves it only when
 * no other request waits.  A cacheable answer carries the version served
 * in item (the client knows its item). */

/* Every payload: 24 bytes, which the kernel keeps inline in the event. */
typedef struct web_wire {
    uint32_t user;
    uint32_t tag;  /* the sender's handle of the request, echoed in the answer */
    uint32_t item; /* catalogue item (0 if the class has none) */
    uint32_t aux;  /* server (pool index + 1) for cookies and answers; round for pings */
    uint16_t cls;
    uint8_t status, flags;
    uint32_t attempt;
} web_wire;

_Static_assert(sizeof(web_wire) == 24, "web_wire fits an event inline");

/* ---- Timers. ---- */

enum {
    WEB_T_USER,          /* a user's next request (arg: local user) */
    WEB_T_CLIENT_SCAN,   /* a client's timeout scan */
    WEB_T_LB_SCAN,       /* a balancer's timeout scan */
    WEB_T_HEALTH,        /* a balancer's health-check round */
    WEB_T_DONE,          /* a server finished a job (arg: job handle) */
    WEB_T_STORE_TIMEOUT, /* a server's session read took too long (arg: job handle) */
    WEB_T_RL_DECIDE,     /* the shared counter store answered (arg: request handle) */
    WEB_T_RL_RELEASE,    /* a held request may go on (arg: request handle) */
    WEB_T_RETRY_429,     /* a client sends a limited request again (arg: request handle) */
    WEB_T_ARRIVAL,       /* the pooled users' next request (arg: local user drawn) */
};

/* World timers. */
enum { WEB_W_SCALE, WEB_W_WINDOW, WEB_W_AUTOSCALE, WEB_W_BOOTED, WEB_W_LOAD, WEB_W_CHANGE };

/* Timeouts are found by a scan of the outstanding requests every
 * timeout / WEB_SCAN_DIVISOR (one timer per node, not one per request):
 * a request times out at most that late. */
#define WEB_SCAN_DIVISOR 16

/* ---- Slot pool: handles are index | generation << 24. ---- */

#define WEB_SLOT_BITS 24
#define WEB_SLOT_MASK ((1u << WEB_SLOT_BITS) - 1)
#define WEB_MAX_SLOTS (1u << 22)

typedef struct web_slot {
    uint32_t gen;  /* generation (low 8 bits used in handles) */
    uint32_t next; /* next free slot */
    uint8_t used;
} web_slot;

typedef struct web_pool {
    void *items;
    size_t size; /* bytes per element (starts with a web_slot) */
    uint32_t n, cap_max, free, live;
} web_pool;

void web_pool_init(web_pool *p, size_t size, uint32_t cap_max);
void web_pool_fini(web_pool *p);
void *web_pool_at(const web_pool *p, uint32_t i);
/* A zeroed element and its handle, or NULL when cap_max are in use. */
void *web_pool_new(web_pool *p, uint32_t *h);
/* The element a handle names, or NULL if released since. */
void *web_pool_find(const web_pool *p, uint32_t h);
void web_pool_release(web_pool *p, void *item);
void web_pool_clear(web_pool *p);

void web_send(sim_ctx *ctx, uint32_t dst, uint32_t type, const web_wire *w, int64_t bytes);

/* A log-linear histogram (16 sub-buckets per power of two, 6 % error) for
 * a window's percentiles. */
#define WEB_HBUCKETS (64 * 16)
typedef struct web_hist {
    int64_t n;
    double sum;
    int64_t b[WEB_HBUCKETS];
} web_hist;
void web_hist_add(web_hist *h, int64_t v);
int64_t web_hist_percentile(const web_hist *h, double p);
uint64_t web_user_hash(uint32_t user);

/* ---- The oracle (web_oracle.c). ---- */

#define WEB_NOWHERE UINT32_MAX

typedef struct web_scale_rec {
    sim_time at;
    int action;
    uint32_t before, after;   /* servers in service */
    int64_t users, remapped;  /* users whose server the mapping changes */
    int64_t onto_new;         /* remapped users now on an added server */
    int64_t sessions_dropped; /* sessions on removed servers, not migrated */
    int64_t migrated;
    bool autoscaler; /* an autoscaler's action, not the schedule's */
} web_scale_rec;

/* One user's figures, for per_client.csv and the split between
 * well-behaved and abusive users.  32-bit: a user's counts stay far below
 * 4e9 in any run the budget allows (events per request >= 1). */
typedef struct web_ustat {
    uint32_t requests, hits, revalidations, not_modified, ok;
    uint32_t limited_429;    /* 429 answers received (each retry's too) */
    uint32_t ended_limited;  /* requests that ended limited (gave up) */
    uint32_t failed;         /* other ends that were not ok */
    uint32_t stale;          /* copies shown older than the origin's */
    uint32_t admitted, soft; /* limiter decisions that let a request on; of them soft */
} web_ustat;

/* Users per_client.csv has a row for (above it, only the split). */
#define WEB_PER_CLIENT_MAX 10000
/* Counts one for user u: its kind's and, when kept, its own. */
#define WEB_USTAT(p, u, field)                                                                     \
    do {                                                                                           \
        web_oracle *o_ = (p)->oracle;                                                              \
        uint32_t u_ = (u);                                                                         \
        o_->kind[(int64_t)u_ < (p)->n_abusive].field++;                                            \
        if (o_->ustat)                                                                             \
            o_->ustat[u_].field++;                                                                 \
    } while (0)

/* The running counts at the end of a window (web.window), from which the
 * report writes caching.csv and limiter.csv. */
typedef struct web_win_row {
    sim_time at;
    int64_t requests, hits, not_modified, ok, limited_429, stale;
    int64_t swr_served, swr_sent; /* stale-while-revalidate: served, checks sent */
    int64_t allowed, soft, delayed, rejected;
    double work_full_ns, work_304_ns;
    uint32_t watch_max; /* the watched key: most admitted in one trailing span, this window */
} web_win_row;
#define WEB_MAX_WIN_ROWS 200000

/* The limiter's watched key, key 0 (user 0, the first abusive user when
 * there are any; client node 0; or the global key): the times of its
 * admissions in the trailing span (the limiter's window, or 1 s for the
 * buckets), to measure the most it admitted in any span.  Bounded: past
 * WEB_WATCH_MAX in one span the count saturates (flagged). */
#define WEB_WATCH_MAX (1u << 20)
typedef struct web_watch {
    sim_time *t; /* ring */
    uint32_t head, n, cap;
    sim_time span, last;
    double nominal; /* admissions per span the limit allows */
    uint32_t max_win, max_all;
    bool saturated;
} web_watch;

typedef struct web_oracle {
    /* Where each user's session lives: a holder (a server's pool index, or
     * a store's index for stateless sessions) and the holder's life when
     * it got it; valid while the holder's life has not moved on. */
    uint32_t *home, *epoch;
    uint32_t life[WEB_MAX_SERVERS + WEB_MAX_STORES];
    int64_t live_on[WEB_MAX_SERVERS + WEB_MAX_STORES];
    int64_t live_max[WEB_MAX_SERVERS + WEB_MAX_STORES];
    int64_t live, live_peak;
    /* Counts. */
    int64_t logins, misses, misses_remapped, misses_lost, relogins, logouts;
    int64_t lost_crash, lost_removed, migrated, migrated_bytes;
    int64_t ends[WEB_END_COUNT], requests, retries, late;
    /* Caching: requests a fresh copy answered (they never left the
     * client), revalidations and their outcome, full answers of cacheable
     * classes, copies shown (hits, 304s, 200s) and those older than the
     * origin's, by cause; bytes on the wire saved against no cache; server
     * work by answer. */
    int64_t hits, revalidations, not_modified, full, races;
    /* Stale-while-revalidate: requests a stale copy answered (counted in
     * hits too), background revalidations sent, and how they ended. */
    int64_t swr_served, swr_sent, swr_not_modified, swr_full, swr_failed, swr_in_flight;
    int64_t shown, stale, stale_by[WEB_STALE_COUNT];
    double bytes_saved, work_full_ns, work_304_ns;
    int64_t limited_429, retries_429;
    int64_t abandoned; /* requests of a crashed client, never ended */
    int64_t thinned;   /* pooled arrivals dropped: their user was away */
    web_ustat *ustat;  /* per user, when there are at most WEB_PER_CLIENT_MAX */
    web_ustat kind[2]; /* well-behaved users (0) and abusive ones (1) */
    web_win_row *rows; /* per window */
    uint32_t n_rows, cap_rows;
    web_watch watch;
    /* Time at the server (queue + store + service) and in the queue, of
     * requests served, for the means (histograms give the percentiles). */
    double srv_sum, wait_sum;
    int64_t srv_n, wait_n;
    /* Scale events as they happened. */
    web_scale_rec *recs;
    uint32_t n_recs, cap_recs;
    /* The current window's latencies. */
    web_hist win;
    double cost; /* server-hours x price, settled at each membership change */
} web_oracle;

void web_oracle_init(web_shared *p);
void web_oracle_fini(web_shared *p);
/* Does holder h hold u's session now? */
bool web_oracle_holds(const web_shared *p, uint32_t u, uint32_t h);
bool web_oracle_has(const web_shared *p, uint32_t u);
void web_oracle_put(web_shared *p, uint32_t u, uint32_t h);
void web_oracle_drop(web_shared *p, uint32_t u);
/* A client shows version v of resource r now (a hit, or an answer): counts
 * it, and whether the origin already had a newer one (for `cause`);
 * returns whether it did (the copy is stale). */
bool web_oracle_shown(web_shared *p, uint32_t r, uint32_t v, sim_time now, int cause);
/* The limiter let a request of key k on at time t (ALLOW, SOFT, or a
 * shaper's release time). */
void web_oracle_admitted(web_shared *p, uint32_t k, sim_time t);
/* A window ended: its running counts go in a row. */
void web_oracle_window(web_shared *p, sim_time now);
/* Holder h lost everything (crash of a volatile holder, abrupt removal):
 * returns the sessions lost. */
int64_t web_oracle_wipe(web_shared *p, uint32_t h);

/* ---- Nodes. ---- */

typedef enum web_role { WEB_ROLE_CLIENT, WEB_ROLE_LB, WEB_ROLE_SERVER, WEB_ROLE_STORE } web_role;

/* A user, kept by its client node. */
typedef struct web_user {
    sim_time session_end; /* 0: the session never ends */
    uint32_t pending;     /* the outstanding request's handle, or UINT32_MAX */
    uint16_t lb;          /* the balancer it uses (fails over on timeouts) */
    uint16_t cookie;      /* server index + 1 its cookie names, 0 none */
    uint8_t in_session;
    uint8_t away; /* pooled arrivals: away after a logout, its arrivals dropped */
} web_user;

typedef struct web_creq {
    web_slot hd;
    sim_time start;
    uint32_t local; /* the user, local index */
    uint32_t item;
    uint16_t cls;
    uint8_t login;
    uint8_t limited;    /* 429s this request got so far */
    uint8_t waiting;    /* waiting to be sent again after a 429 */
    uint8_t cond;       /* validators sent (WEB_F_INM, WEB_F_IMS) */
    uint8_t background; /* a stale-while-revalidate revalidation: no user waits for it */
    uint32_t vheld;     /* the cached copy's version they name */
} web_creq;

typedef struct web_client {
    uint32_t n_users; /* local users: global user = local * n_clients + index */
    /* Locals from here on get their requests from the node's pooled
     * chain (n_users: none, arrivals per user). */
    uint32_t pool_first;
    web_user *users;
    web_pool reqs;
    web_cache *caches; /* one per local user (NULL unless caching) */
    sim_arena *arena;  /* their tables */
    /* Their entries, in one pool for the node's users (LRU and FIFO
     * caches of bounded entries; slab.base NULL: each cache its own). */
    web_cache_slab slab;
    /* The copies a background revalidation is on its way for, as
     * (local user, resource) keys: an answer from an expired copy sends
     * at most one revalidation per copy without scanning the requests in
     * flight. */
    sim_set revalidating;
} web_client;

typedef struct web_lreq {
    web_slot hd;
    sim_time start, sent; /* arrival at the balancer, forward to the server */
    uint32_t client, ctag, user, item, server;
    uint16_t cls;
    uint8_t login, attempt;
    uint16_t cookie; /* the server the client's cookie names (index + 1), 0 none */
    uint8_t cond;    /* validators (WEB_F_INM, WEB_F_IMS), passed on */
    uint32_t vheld;  /* the version they name */
    uint8_t held;    /* at the limiter: not forwarded yet (server is WEB_NOWHERE) */
    uint8_t low;     /* over the soft limit, deprioritised */
} web_lreq;

typedef struct web_lb {
    web_pool reqs;
    /* Per pool server. */
    int32_t *out;      /* requests forwarded and not answered */
    double *ewma;      /* response time (ns), exponentially weighted */
    sim_time *ewma_at; /* when it was last updated */
    double *wrr;       /* smooth weighted round robin's current weights */
    uint8_t *healthy;  /* the health checks' verdict */
    uint8_t *fails, *oks, *ping_due;
    uint8_t *seen;  /* in service at the last refresh */
    uint32_t *cand; /* servers it may pick: in service and healthy */
    uint32_t n_cand, cand_version, rr, round;
    bool cand_dirty;
    int64_t total_out;
    uint32_t *affinity; /* sticky table: user -> server + 1 (NULL unless sticky table) */
    web_rl *rl;         /* local limiter states, one per key (NULL unless local limiting) */
    uint32_t n_rl;
} web_lb;

typedef struct web_job {
    web_slot hd;
    sim_time arrived, started;
    sim_time extra; /* added service time (a session rebuilt) */
    uint32_t from, tag, user, item;
    uint32_t vheld, version; /* the client's copy; the version served */
    uint16_t cls;
    uint8_t flags, state, kind; /* kind: request or store get/put */
    sim_timer store_timer;
} web_job;

enum { WEB_JOB_QUEUED, WEB_JOB_STORE_WAIT, WEB_JOB_SERVING };
enum { WEB_KIND_REQUEST, WEB_KIND_GET, WEB_KIND_PUT };

typedef struct web_server {
    uint32_t pool_index; /* index among the pool (servers) or stores */
    int64_t busy, workers, queue_cap;
    web_pool jobs;
    uint32_t *queue; /* FIFO ring of job handles */
    uint32_t q_head, q_len;
    /* Deprioritised requests (over a soft limit): a second ring, served
     * only when the first is empty; q_len + lq_len <= queue_cap. */
    uint32_t *lqueue;
    uint32_t lq_head, lq_len;
    /* Accounting. */
    int64_t served, rejected, max_queue, max_in_flight;
    double busy_area, busy_area_as; /* busy workers x ns: window, autoscaler */
    sim_time busy_since;            /* last change of busy */
    double busy_total;              /* whole run */
    sim_time paid_since;            /* start of the current paid stretch, or -1 */
    double paid_ns;
    /* A drain in progress: whether it migrates sessions, and the scale
     * record it reports to (UINT32_MAX: the autoscaler's, no record). */
    bool migrate;
    uint32_t scale_rec;
} web_server;

typedef struct web_node {
    int role;
    uint32_t index; /* in its group */
    web_client *cl;
    web_lb *lb;
    web_server *srv;
} web_node;

static inline web_shared *web_shared_of(sim_ctx *ctx) { return sim_shared(ctx); }
/* The origin's resource for item (a popularity rank, 1 = the most
 * requested) of class cls. */
static inline uint32_t web_res_of(const web_shared *p, int cls, uint32_t item) {
    return web_origin_id(&p->origin, cls, item - 1);
}
static inline uint32_t web_server_node(const web_shared *p, uint32_t i) {
    return p->server_first + i;
}

/* web_config.c */
int web_configure(sim_cfg *c, void *shared);
int web_validate(sim_cfg *c, void *shared);
void web_ring_build(web_shared *p);
/* The first ring position at or after h (ring_n if none: wrap to 0). */
uint32_t web_ring_find(const web_shared *p, uint64_t h);
/* The server a hash policy maps user u to among the servers in service
 * (health aside), or WEB_NOWHERE if none is: what users_remapped compares,
 * and where a drain migrates a session to. */
uint32_t web_map_user(web_shared *p, uint32_t u);
/* The servers in service, by index (rebuilt when the membership changes). */
const uint32_t *web_serving(web_shared *p, uint32_t *n);
void web_estimate(const sim *s, const void *shared, sim_model_estimate *e);

/* web_server.c */
void web_srv_init(sim_ctx *ctx, web_node *nd);
void web_srv_fini(web_node *nd);
void web_srv_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m);
void web_srv_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg);
/* The parts of the model's prefetch hook (sim.h), one per role. */
void web_client_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev);
void web_lb_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev);
void web_srv_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev);
void web_srv_crash(sim *s, web_shared *p, web_node *nd);
/* Ends a server's drain if it holds nothing; true if it did. */
bool web_srv_drain_check(sim *s, web_shared *p, web_node *nd);
/* Drops everything a server holds (abrupt removal); sessions are the caller's. */
void web_srv_reset(sim *s, web_shared *p, web_node *nd);
void web_srv_account(web_server *sv, sim_time now);
void web_srv_pay(web_shared *p, web_server *sv, sim_time now, bool paid);
/* Moves pool server i to a membership state (web_member), keeping the
 * count in service, the version and the bill. */
void web_member_set(sim *s, web_shared *p, uint32_t i, int state);

/* web_balancer.c */
void web_lb_init(sim_ctx *ctx, web_node *nd);
void web_lb_fini(web_node *nd);
void web_lb_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m);
void web_lb_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg);

/* web_client.c */
void web_client_init(sim_ctx *ctx, web_node *nd);
void web_client_fini(web_node *nd);
void web_client_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m);
void web_client_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg);
void web_client_crash(sim_ctx *ctx, web_node *nd);
void web_client_recover(sim_ctx *ctx, web_node *nd);

/* web_scale.c */
void web_scale_start(sim *s, web_shared *p);
void web_scale_on_world_timer(sim *s, web_shared *p, uint32_t kind, uint64_t arg);

/* web_report.c */
void web_report(sim_report *r, void *shared);

extern const sim_chart web_charts[];

#endif
