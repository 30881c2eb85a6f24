/*
 * web_server.c - web servers and session stores: workers, a bounded queue,
 * and the service of each job; and the pool's membership (which servers are
 * in service), as service discovery publishes it.
 *
 * Messages: a server takes `forward` from balancers and answers each with
 * one `response`; with stateless sessions it sends `store_get` before
 * serving (holding its worker while it waits, as a thread blocked on a
 * socket does) and `store_put` after a login or a request of a class that
 * writes the session.  A store takes `store_get` (answered by
 * `store_reply`) and `store_put` (not answered).  Both answer `ping`.
 *
 * Invariants
 *  (1) busy <= workers and q_len + lq_len <= queue_cap at every moment; a job that
 *      finds both full is refused at once (status rejected), never held.
 *  (2) Every forward is answered by exactly one response (ok, rejected,
 *      gone, or a store failure), unless the server crashes first: a crash
 *      loses every job silently, and the balancer learns of it by its
 *      timeout.
 *  (3) Service time = the class's draw / speed x the node's slow factor,
 *      plus miss_cost when a stateful server rebuilds a session it did not
 *      hold; nothing else delays a job but the queue and the store.
 *  (4) Busy time is integrated exactly (busy workers x ns) at each change.
 */
#include "web_int.h"

void web_srv_account(web_server *sv, sim_time now) {
    double d = (double)sv->busy * (double)(now - sv->busy_since);
    sv->busy_area += d;
    sv->busy_area_as += d;
    sv->busy_total += d;
    sv->busy_since = now;
}

void web_srv_pay(web_shared *p, web_server *sv, sim_time now, bool paid) {
    (void)p;
    if (sv->paid_since >= 0)
        sv->paid_ns += (double)(now - sv->paid_since);
    sv->paid_since = paid ? now : -1;
}

static web_server *server_of(sim *s, const web_shared *p, uint32_t i) {
    return ((web_node *)sim_node_state(s, web_server_node(p, i)))->srv;
}

void web_member_set(sim *s, web_shared *p, uint32_t i, int state) {
    int old = p->member[i];
    if (old == state)
        return;
    web_server *sv = server_of(s, p, i);
    p->n_in_service += (state == WEB_SERVING) - (old == WEB_SERVING);
    p->member[i] = (uint8_t)state;
    p->version++;
    web_srv_pay(p, sv, sim_time_now(s), state != WEB_IDLE);
    sim_gauge_set(s, p->g_in_service, p->n_in_service);
}

void web_srv_init(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    bool store = nd->role == WEB_ROLE_STORE;
    web_server *sv = sim_calloc(1, sizeof *sv);
    nd->srv = sv;
    sv->pool_index = nd->index;
    sv->workers = store ? p->store_workers : p->workers;
    sv->queue_cap = store ? p->store_queue : p->queue;
    uint32_t cap = (uint32_t)(sv->workers + sv->queue_cap);
    web_pool_init(&sv->jobs, sizeof(web_job), cap < WEB_MAX_SLOTS ? cap : WEB_MAX_SLOTS);
    sv->queue = sim_malloc(((size_t)sv->queue_cap + 1) * sizeof *sv->queue);
    if (!store && p->limiting && p->overage == WEB_OVER_DEPRIORITISE)
        sv->lqueue = sim_malloc(((size_t)sv->queue_cap + 1) * sizeof *sv->lqueue);
    sv->busy_since = sim_now(ctx);
    sv->paid_since = -1;
    if (!store && sim_node_incarnation(sim_of(ctx), sim_self(ctx)) == 0 &&
        nd->index < (uint32_t)p->n_servers)
        web_member_set(sim_of(ctx), p, nd->index, WEB_SERVING);
}

void web_srv_fini(web_node *nd) {
    web_server *sv = nd->srv;
    if (!sv)
        return;
    web_pool_fini(&sv->jobs);
    sim_free(sv->queue);
    sim_free(sv->lqueue);
    sim_free(sv);
    nd->srv = NULL;
}

static uint32_t holder_of(const web_node *nd) {
    return nd->role == WEB_ROLE_STORE ? WEB_MAX_SERVERS + nd->index : nd->index;
}

static void respond(sim_ctx *ctx, web_job *j, int status, uint8_t flags) {
    web_shared *p = web_shared_of(ctx);
    const web_class_cfg *k = &p->classes[j->cls];
    /* An item of a catalogue is answered with the version served. */
    web_wire w = {.user = j->user,
                  .tag = j->tag,
                  .item = k->items > 0 ? j->version : j->item,
                  .cls = j->cls,
                  .status = (uint8_t)status,
                  .flags = flags};
    w.aux = ((web_node *)sim_node_state(sim_of(ctx), sim_self(ctx)))->index + 1;
    int64_t bytes = status != WEB_END_OK ? 200
                    : flags & WEB_F_304  ? k->not_modified_bytes
                                         : k->response_bytes;
    web_send(ctx, j->from, WEB_MSG_RESPONSE, &w, bytes);
}

/* The work of request j at speed 1, then / speed: the class's service, or
 * for a conditional request the validator check, plus the service only if
 * the copy is not current (a 304 generates no body).  ETag re-hashes the
 * current data (a cost per KiB of the response), Last-Modified compares a
 * date (a fixed cost); with both, both must match (RFC 9110 13.2.2). */
static double serve_work(sim_ctx *ctx, web_shared *p, web_job *j) {
    const web_class_cfg *k = &p->classes[j->cls];
    if (k->items == 0)
        return sim_dist_sample(&k->service, sim_node_rng(ctx)) / p->speed;
    const web_res *e = web_origin_at(&p->origin, web_res_of(p, j->cls, j->item), sim_now(ctx));
    j->version = e->version;
    int cond = j->flags & (WEB_F_INM | WEB_F_IMS);
    double check = 0;
    if (cond & WEB_F_INM)
        check += (double)k->etag_cost_per_kib * (double)k->response_bytes / 1024.0;
    if (cond & WEB_F_IMS)
        check += (double)k->last_modified_cost;
    bool current = cond != 0 && (!(cond & WEB_F_INM) || j->vheld == e->version) &&
                   (!(cond & WEB_F_IMS) || j->vheld >= e->tick_first);
    double work = check;
    if (current) {
        j->flags |= WEB_F_304;
        if (j->vheld != e->version)
            j->flags |= WEB_F_HIDDEN; /* the date hid a change */
    } else {
        work += sim_dist_sample(&k->service, sim_node_rng(ctx));
    }
    work /= p->speed;
    if (current)
        p->oracle->work_304_ns += work;
    else
        p->oracle->work_full_ns += work;
    return work;
}

/* Starts the service proper: the session check of a stateful server, then
 * the work. */
static void serve(sim_ctx *ctx, web_node *nd, web_job *j, uint32_t h) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    web_server *sv = nd->srv;
    j->state = WEB_JOB_SERVING;
    double work;
    if (nd->role == WEB_ROLE_STORE) {
        work = sim_dist_sample(&p->store_service, sim_node_rng(ctx));
    } else {
        if (p->state == WEB_STATE_STATEFUL) {
            web_oracle *o = p->oracle;
            uint32_t me = holder_of(nd);
            if (j->flags & WEB_F_LOGIN) {
                o->logins++;
                sim_count(s, p->c_logins, 1);
                web_oracle_put(p, j->user, me);
            } else if (!web_oracle_holds(p, j->user, me)) {
                /* The session is elsewhere, or was lost: the user logs in
                 * again here, at a cost. */
                j->flags |= WEB_F_MISS;
                o->misses++;
                if (web_oracle_has(p, j->user))
                    o->misses_remapped++;
                else
                    o->misses_lost++;
                o->relogins++;
                sim_count(s, p->c_misses, 1);
                sim_count(s, p->c_relogins, 1);
                j->extra += sim_dist_sample_time(&p->miss_cost, sim_node_rng(ctx));
                web_oracle_put(p, j->user, me);
            }
        }
        work = serve_work(ctx, p, j);
    }
    double t = work * sim_node_slow(s, sim_self(ctx)) + (double)j->extra;
    sim_time d = t >= 9e18 ? (sim_time)9e18 : (sim_time)(t + 0.5);
    (void)sv;
    sim_timer_set(ctx, d, WEB_T_DONE, h);
}

/* A worker takes job j. */
static void start(sim_ctx *ctx, web_node *nd, web_job *j, uint32_t h) {
    web_shared *p = web_shared_of(ctx);
    web_server *sv = nd->srv;
    sim_time now = sim_now(ctx);
    web_srv_account(sv, now);
    sv->busy++;
    j->started = now;
    if (nd->role == WEB_ROLE_SERVER) {
        sim_record(p->s, p->h_queue_wait, now - j->arrived);
        p->oracle->wait_sum += (double)(now - j->arrived);
        p->oracle->wait_n++;
    }
    if (nd->role == WEB_ROLE_SERVER && p->state == WEB_STATE_STATELESS &&
        !(j->flags & WEB_F_LOGIN)) {
        j->state = WEB_JOB_STORE_WAIT;
        web_wire w = {.user = j->user, .tag = h};
        uint32_t store = p->store_first + j->user % (uint32_t)p->n_stores;
        web_send(ctx, store, WEB_MSG_STORE_GET, &w, 100);
        sim_count(p->s, p->c_store_reads, 1);
        j->store_timer = sim_timer_set(ctx, p->store_timeout, WEB_T_STORE_TIMEOUT, h);
        return;
    }
    serve(ctx, nd, j, h);
}

/* A worker is free: the queue's head, if any, takes it. */
static void finish(sim_ctx *ctx, web_node *nd, web_job *j) {
    web_shared *p = web_shared_of(ctx);
    web_server *sv = nd->srv;
    web_srv_account(sv, sim_now(ctx));
    sv->busy--;
    web_pool_release(&sv->jobs, j);
    while (sv->q_len + sv->lq_len > 0 && sv->busy < sv->workers) {
        uint32_t h;
        if (sv->q_len > 0) {
            h = sv->queue[sv->q_head];
            sv->q_head = (sv->q_head + 1) % (uint32_t)(sv->queue_cap + 1);
            sv->q_len--;
        } else { /* only deprioritised requests wait */
            h = sv->lqueue[sv->lq_head];
            sv->lq_head = (sv->lq_head + 1) % (uint32_t)(sv->queue_cap + 1);
            sv->lq_len--;
        }
        web_job *next = web_pool_find(&sv->jobs, h);
        if (next)
            start(ctx, nd, next, h);
    }
    if (nd->role == WEB_ROLE_SERVER && p->member[nd->index] == WEB_DRAINING)
        web_srv_drain_check(sim_of(ctx), p, nd);
}

static void on_job(sim_ctx *ctx, web_node *nd, const sim_msg *m, int kind) {
    web_shared *p = web_shared_of(ctx);
    web_server *sv = nd->srv;
    const web_wire *w = m->data;
    web_job tmp = {.from = m->src,
                   .tag = w->tag,
                   .user = w->user,
                   .item = w->item,
                   .vheld = w->attempt,
                   .cls = w->cls,
                   .flags = w->flags};
    if (kind == WEB_KIND_REQUEST && p->member[nd->index] != WEB_SERVING &&
        p->member[nd->index] != WEB_DRAINING) {
        respond(ctx, &tmp, WEB_ST_GONE, 0); /* not in service: try elsewhere */
        return;
    }
    uint32_t h;
    web_job *j = NULL;
    if (sv->busy < sv->workers || sv->q_len + sv->lq_len < sv->queue_cap)
        j = web_pool_new(&sv->jobs, &h);
    if (!j) {
        sv->rejected++;
        if (kind == WEB_KIND_REQUEST)
            respond(ctx, &tmp, WEB_END_REJECTED, 0);
        else if (kind == WEB_KIND_GET) {
            /* A store that cannot take a read says nothing: the server's
             * timeout fails the request (invariant 2 of the caller). */
        }
        return;
    }
    *j = (web_job){.hd = j->hd,
                   .from = tmp.from,
                   .tag = tmp.tag,
                   .user = tmp.user,
                   .item = tmp.item,
                   .vheld = tmp.vheld,
                   .cls = tmp.cls,
                   .flags = tmp.flags,
                   .kind = (uint8_t)kind,
                   .arrived = sim_now(ctx)};
    int64_t held = (int64_t)sv->jobs.live;
    if (held > sv->max_in_flight)
        sv->max_in_flight = held;
    if (sv->busy < sv->workers) {
        start(ctx, nd, j, h);
        return;
    }
    j->state = WEB_JOB_QUEUED;
    uint32_t cap = (uint32_t)(sv->queue_cap + 1);
    if ((j->flags & WEB_F_LOW) && sv->lqueue) {
        sv->lqueue[(sv->lq_head + sv->lq_len) % cap] = h;
        sv->lq_len++;
    } else {
        sv->queue[(sv->q_head + sv->q_len) % cap] = h;
        sv->q_len++;
    }
    if ((int64_t)(sv->q_len + sv->lq_len) > sv->max_queue)
        sv->max_queue = sv->q_len + sv->lq_len;
}

static void on_store_reply(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    web_shared *p = web_shared_of(ctx);
    const web_wire *w = m->data;
    web_job *j = web_pool_find(&nd->srv->jobs, w->tag);
    if (!j || j->state != WEB_JOB_STORE_WAIT)
        return; /* timed out already */
    sim_timer_cancel(ctx, j->store_timer);
    if (w->status == WEB_ST_MISS) {
        /* The store has no session for this user (lost in a volatile
         * store's crash): the user logs in again. */
        web_oracle *o = p->oracle;
        j->flags |= WEB_F_MISS | WEB_F_LOGIN;
        o->misses++;
        o->misses_lost++;
        o->relogins++;
        sim_count(p->s, p->c_misses, 1);
        sim_count(p->s, p->c_relogins, 1);
        j->extra += sim_dist_sample_time(&p->miss_cost, sim_node_rng(ctx));
    }
    serve(ctx, nd, j, w->tag);
}

void web_srv_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    web_shared *p = web_shared_of(ctx);
    const web_wire *w = m->data;
    switch (m->type) {
    case WEB_MSG_FORWARD:
        on_job(ctx, nd, m, WEB_KIND_REQUEST);
        break;
    case WEB_MSG_STORE_GET:
        on_job(ctx, nd, m, WEB_KIND_GET);
        break;
    case WEB_MSG_STORE_PUT:
        on_job(ctx, nd, m, WEB_KIND_PUT);
        break;
    case WEB_MSG_STORE_REPLY:
        on_store_reply(ctx, nd, m);
        break;
    case WEB_MSG_PING: {
        web_wire r = {.tag = w->tag, .aux = nd->index + 1};
        web_send(ctx, m->src, WEB_MSG_PONG, &r, 100);
        break;
    }
    default:
        (void)p;
        break;
    }
}

void web_srv_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    uint32_t h = (uint32_t)arg;
    web_job *j = web_pool_find(&nd->srv->jobs, h);
    if (!j)
        return; /* released by an abrupt removal */
    if (kind == WEB_T_STORE_TIMEOUT) {
        if (j->state != WEB_JOB_STORE_WAIT)
            return;
        respond(ctx, j, WEB_END_SERVER, 0);
        finish(ctx, nd, j);
        return;
    }
    if (j->state != WEB_JOB_SERVING)
        return;
    if (j->kind == WEB_KIND_REQUEST) {
        nd->srv->served++;
        sim_record(s, p->h_server_time, sim_now(ctx) - j->arrived);
        p->oracle->srv_sum += (double)(sim_now(ctx) - j->arrived);
        p->oracle->srv_n++;
        if (p->state == WEB_STATE_STATELESS &&
            ((j->flags & WEB_F_LOGIN) || p->classes[j->cls].writes_session)) {
            if (j->flags & WEB_F_LOGIN) {
                p->oracle->logins += !(j->flags & WEB_F_MISS);
                sim_count(s, p->c_logins, !(j->flags & WEB_F_MISS));
            }
            web_wire w = {.user = j->user};
            uint32_t store = p->store_first + j->user % (uint32_t)p->n_stores;
            web_send(ctx, store, WEB_MSG_STORE_PUT, &w, p->session_bytes);
            sim_count(s, p->c_store_writes, 1);
        }
        respond(ctx, j, WEB_END_OK, j->flags & (WEB_F_MISS | WEB_F_304 | WEB_F_HIDDEN));
    } else if (j->kind == WEB_KIND_GET) {
        bool hit = web_oracle_holds(p, j->user, holder_of(nd));
        web_wire w = {
            .user = j->user, .tag = j->tag, .status = (uint8_t)(hit ? WEB_ST_HIT : WEB_ST_MISS)};
        web_send(ctx, j->from, WEB_MSG_STORE_REPLY, &w, hit ? p->session_bytes : 100);
    } else {
        web_oracle_put(p, j->user, holder_of(nd));
    }
    finish(ctx, nd, j);
}

void web_srv_reset(sim *s, web_shared *p, web_node *nd) {
    (void)p;
    web_server *sv = nd->srv;
    web_srv_account(sv, sim_time_now(s));
    web_pool_clear(&sv->jobs);
    sv->q_len = sv->q_head = 0;
    sv->lq_len = sv->lq_head = 0;
    sv->busy = 0;
}

void web_srv_crash(sim *s, web_shared *p, web_node *nd) {
    web_srv_reset(s, p, nd);
    bool volatile_holder =
        nd->role == WEB_ROLE_SERVER ? p->state == WEB_STATE_STATEFUL : !p->store_durable;
    if (volatile_holder && p->oracle->home) {
        int64_t n = web_oracle_wipe(p, holder_of(nd));
        p->oracle->lost_crash += n;
        sim_count(s, p->c_lost, n);
    }
    if (nd->role == WEB_ROLE_SERVER && p->member[nd->index] == WEB_DRAINING)
        web_srv_drain_check(s, p, nd);
}

/* The drain of server i is over: its sessions move (migrate) or are lost,
 * and it leaves service. */
bool web_srv_drain_check(sim *s, web_shared *p, web_node *nd) {
    web_server *sv = nd->srv;
    if (sv->jobs.live > 0)
        return false;
    uint32_t i = nd->index;
    web_oracle *o = p->oracle;
    web_scale_rec *rec = sv->scale_rec < o->n_recs ? &o->recs[sv->scale_rec] : NULL;
    web_member_set(s, p, i, WEB_IDLE);
    if (p->state == WEB_STATE_STATEFUL) {
        if (sv->migrate) {
            int64_t moved = 0;
            for (int64_t u = 0; u < p->n_users; u++) {
                if (!web_oracle_holds(p, (uint32_t)u, i))
                    continue;
                uint32_t to = web_map_user(p, (uint32_t)u);
                if (to == WEB_NOWHERE) {
                    continue;
                }
                web_oracle_put(p, (uint32_t)u, to);
                moved++;
            }
            o->migrated += moved;
            o->migrated_bytes += moved * p->session_bytes;
            if (rec)
                rec->migrated += moved;
        }
        int64_t n = web_oracle_wipe(p, i);
        o->lost_removed += n;
        sim_count(s, p->c_lost, n);
        if (rec)
            rec->sessions_dropped += n;
    }
    return true;
}

/* The prefetch hook's part for a server (sim.h): a request reads its
 * resource's record at the origin. */
void web_srv_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev) {
    (void)nd;
    if (stage != 0 || !ev->msg || ev->type != WEB_MSG_FORWARD || ev->len != sizeof(web_wire))
        return;
    const web_wire *w = ev->data;
    if (w->cls < p->n_classes && p->classes[w->cls].items > 0 && w->item > 0)
        web_origin_prefetch(&p->origin, web_res_of(p, w->cls, w->item));
}
