/*
 * mq_direct.c - the no-queue baseline: a load balancer in front of the
 * same services (mq.mode = "direct").
 *
 * Producers send each message as a request to the balancer (lb0).  For
 * every consumer group subscribed to the message's topic (every service
 * that would have received it from the queue) the balancer picks the
 * server with the fewest calls in progress, ties broken round robin, and
 * forwards a call if that server has a free slot (the group's
 * concurrency); when every server of the service is busy the request is
 * refused for that service: nothing is buffered, the copy is lost (cause
 * "busy").  The balancer answers the producer at once, so a producer's
 * retries only cover a balancer that is down or cut off.
 *
 * A server answers "done" when it finishes.  A call unanswered after
 * direct.timeout counts as lost (cause "server lost") and its server is
 * ejected for direct.eject: a passive health check, without which a
 * crashed server would keep getting calls.  Timeouts are found by a tick
 * every timeout / 4.  Publish-on-completion becomes a new request from
 * the server to the balancer, sent when the server finishes.
 */
#include "mq_int.h"

void mq_lb_init(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_lb *lb = sim_calloc(1, sizeof *lb);
    for (int g = 0; g < p->n_groups; g++) {
        const mq_group_cfg *gc = &p->groups[g];
        lb->srv[g] = sim_calloc((size_t)gc->count, sizeof *lb->srv[g]);
        for (int64_t i = 0; i < gc->count; i++) {
            mq_lbsrv *sv = &lb->srv[g][i];
            uint32_t c = (uint32_t)gc->concurrency;
            sv->calls = sim_calloc(c, sizeof *sv->calls);
            sv->free = sim_calloc(c, sizeof *sv->free);
            for (uint32_t k = 0; k < c; k++)
                sv->free[k] = c - 1 - k;
            sv->n_free = c;
        }
    }
    n->lb = lb;
    if (p->mode == MQ_MODE_DIRECT)
        mq_lb_tick(ctx, p, n);
}

void mq_lb_fini(const mq_shared *p, mq_node *n) {
    mq_lb *lb = n->lb;
    if (!lb)
        return;
    for (int g = 0; g < p->n_groups; g++) {
        for (int64_t i = 0; i < p->groups[g].count; i++) {
            sim_free(lb->srv[g][i].calls);
            sim_free(lb->srv[g][i].free);
        }
        sim_free(lb->srv[g]);
    }
    sim_free(lb);
    n->lb = NULL;
}

/* The least busy server of group g with a free slot, or -1. */
static int pick(const mq_shared *p, mq_lb *lb, int g, sim_time now) {
    const mq_group_cfg *gc = &p->groups[g];
    uint32_t count = (uint32_t)gc->count, best_active = UINT32_MAX;
    int best = -1;
    uint32_t start = lb->rr[g]++ % count;
    for (uint32_t j = 0; j < count; j++) {
        uint32_t i = (start + j) % count;
        const mq_lbsrv *sv = &lb->srv[g][i];
        if (now < sv->ejected_until || sv->n_free == 0)
            continue;
        if (sv->active < best_active) {
            best_active = sv->active;
            best = (int)i;
        }
    }
    return best;
}

static void on_request(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    mq_lb *lb = n->lb;
    sim_time now = sim_now(ctx);
    if (w->part >= p->n_parts || w->msg >= p->oracle.n_msgs)
        return;
    const mq_topic_cfg *t = &p->topics[p->parts[w->part].topic];
    for (int k = 0; k < t->n_subs; k++) {
        int g = t->subs[k];
        int i = pick(p, lb, g, now);
        if (i < 0) {
            p->busy_rejects++;
            sim_count(p->s, p->c_busy, 1);
            mq_oracle_note(p, w->msg, k, MQ_CAUSE_BUSY);
            continue;
        }
        mq_lbsrv *sv = &lb->srv[g][i];
        uint32_t slot = sv->free[--sv->n_free];
        sv->active++;
        mq_call *cl = &sv->calls[slot];
        *cl = (mq_call){
            .msg = w->msg, .tag = ++lb->tagseq, .sent_at = now, .used = 1, .sub = (uint8_t)k};
        mq_oracle_hold(p, now, w->msg, k, MQ_HOLD_BROKER);
        mq_wire c = {.msg = w->msg,
                     .tag = cl->tag,
                     .part = w->part,
                     .slot = (uint16_t)slot,
                     .hops = w->hops,
                     .group = (uint8_t)k};
        mq_send(ctx, p, p->groups[g].first_node + (uint32_t)i, MQ_MSG_CALL, &c, sizeof c,
                t->message_bytes);
    }
    mq_wire r = *w;
    mq_send(ctx, p, src, MQ_MSG_RESPONSE, &r, sizeof r, 0);
}

static void end_call(sim_ctx *ctx, mq_shared *p, mq_lbsrv *sv, uint32_t slot, int cause) {
    mq_call *cl = &sv->calls[slot];
    mq_oracle_release(p, sim_now(ctx), cl->msg, cl->sub, MQ_HOLD_BROKER, cause);
    cl->used = 0;
    sv->free[sv->n_free++] = slot;
    sv->active--;
}

static void on_done(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    int gi = sim_node_group(p->s, src);
    if (gi < 0 || p->group_role[gi] != MQ_ROLE_CONSUMER)
        return;
    int g = p->group_entity[gi];
    mq_lbsrv *sv = &n->lb->srv[g][src - p->groups[g].first_node];
    if (w->slot >= p->groups[g].concurrency)
        return;
    mq_call *cl = &sv->calls[w->slot];
    if (!cl->used || cl->tag != w->tag)
        return; /* timed out already */
    end_call(ctx, p, sv, w->slot, (w->flags & MQ_F_BUSY) ? MQ_CAUSE_BUSY : MQ_CAUSE_NONE);
}

void mq_lb_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg) {
    mq_wire w;
    SIM_ASSERT(msg->len == sizeof w);
    memcpy(&w, msg->data, sizeof w);
    if (msg->type == MQ_MSG_REQUEST)
        on_request(ctx, p, n, msg->src, &w);
    else if (msg->type == MQ_MSG_DONE)
        on_done(ctx, p, n, msg->src, &w);
    else
        SIM_ASSERT(0);
}

void mq_lb_tick(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_lb *lb = n->lb;
    sim_time now = sim_now(ctx);
    for (int g = 0; g < p->n_groups; g++)
        for (int64_t i = 0; i < p->groups[g].count; i++) {
            mq_lbsrv *sv = &lb->srv[g][i];
            for (uint32_t k = 0; k < (uint32_t)p->groups[g].concurrency; k++)
                if (sv->calls[k].used && now - sv->calls[k].sent_at >= p->direct_timeout) {
                    end_call(ctx, p, sv, k, MQ_CAUSE_SERVER_LOST);
                    sv->ejected_until = now + p->direct_eject;
                }
        }
    sim_timer_set(ctx, p->direct_timeout / 4, MQ_T_LB_TICK, 0);
}

void mq_lb_crash(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_lb *lb = n->lb;
    for (int g = 0; g < p->n_groups; g++)
        for (int64_t i = 0; i < p->groups[g].count; i++) {
            mq_lbsrv *sv = &lb->srv[g][i];
            for (uint32_t k = 0; k < (uint32_t)p->groups[g].concurrency; k++)
                if (sv->calls[k].used)
                    end_call(ctx, p, sv, k, MQ_CAUSE_SERVER_LOST);
            sv->ejected_until = 0;
        }
}
