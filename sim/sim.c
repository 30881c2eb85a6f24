/*
 * sim.c - the simulation object, the run loop and the context API.
 *
 * The run loop pops the earliest event, sets the clock to its time and
 * dispatches it: a message to the receiver's on_message (if the receiver is
 * up and has not crashed since the message was sent), a timer to on_timer
 * (if its node has not crashed since it was set), a fault to faults.c, a
 * sampling tick to the metrics.  Every dispatched event feeds the trace
 * hash.  The loop stops after `duration` of simulated time, after
 * `max_events` events, when a model calls sim_stop, or when nothing is left
 * to do.
 */
#include "sim_int.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

sim *sim__create(void) {
    sim *s = sim_calloc(1, sizeof *s);
    sim_queue_init(&s->queue);
    s->metrics = sim_metrics_create();
    s->acting = UINT32_MAX;
    s->hash = XXH3_createState();
    SIM_ASSERT(s->hash);
    XXH3_64bits_reset(s->hash);
    static const char *const names[KC_COUNT] = {"net.sent",
                                                "net.bytes",
                                                "net.delivered",
                                                "net.dropped_loss",
                                                "net.dropped_partition",
                                                "net.dropped_down",
                                                "net.duplicated",
                                                "engine.timers",
                                                "engine.faults"};
    for (int i = 0; i < KC_COUNT; i++)
        s->kid[i] = sim_metrics_counter(s->metrics, names[i]);
    s->gauge_nodes_up = sim_metrics_gauge(s->metrics, "nodes_up");
    return s;
}

void sim_destroy(sim *s) {
    if (!s)
        return;
    if (s->nodes) {
        for (uint32_t i = 0; i < s->n_nodes; i++) {
            if (s->ran && s->model && s->model->node_fini) {
                sim_ctx ctx = SIM__CTX(s, i);
                s->model->node_fini(&ctx, s->nodes[i].state);
            }
            sim_free(s->nodes[i].state);
            sim_free((char *)s->nodes[i].name);
        }
        sim_free(s->nodes);
        sim_free(s->gate);
        sim_free(s->epoch);
    }
    if (s->shared) {
        if (s->model && s->model->shared_fini)
            s->model->shared_fini(s->shared);
        sim_free(s->shared);
    }
    for (uint32_t g = 0; g < s->n_groups; g++)
        sim_free(s->groups[g].name);
    sim__net_fini(s);
    sim__faults_fini(s);
    sim_queue_fini(&s->queue);
    sim_metrics_destroy(s->metrics);
    XXH3_freeState(s->hash);
    if (s->trace)
        fclose(s->trace);
    cJSON_Delete(s->root);
    sim_free(s->file);
    sim_free(s->name);
    sim_free(s);
}

int sim__create_nodes(sim *s) {
    SIM_ASSERT(!s->nodes && s->n_nodes > 0);
    s->nodes = sim_calloc(s->n_nodes, sizeof *s->nodes);
    s->epoch = sim_calloc(s->n_nodes, sizeof *s->epoch);
    s->gate = sim_calloc(s->n_nodes, sizeof *s->gate); /* all up, epoch 0 */
    for (uint32_t g = 0; g < s->n_groups; g++) {
        const sim__group *gr = &s->groups[g];
        for (uint32_t k = 0; k < gr->count; k++) {
            uint32_t i = gr->first + k;
            sim__node *n = &s->nodes[i];
            char name[96];
            snprintf(name, sizeof name, "%s%u", gr->name, k);
            n->name = sim_strdup(name);
            n->group = (int)g;
            n->up = true;
            n->slow = 1.0;
            n->state = sim_calloc(1, s->model->node_size ? s->model->node_size : 1);
            sim_rng_stream(&n->rng, s->seed, s->run, SIM_DOMAIN_MODEL, i, 0);
            sim_rng_stream(&n->net_rng, s->seed, s->run, SIM_DOMAIN_NET_LATENCY, i, 0);
            sim_rng_stream(&n->loss_rng, s->seed, s->run, SIM_DOMAIN_NET_LOSS, i, 0);
            sim_rng_stream(&n->fault_rng, s->seed, s->run, SIM_DOMAIN_FAULTS, i, 0);
        }
    }
    sim_rng_stream(&s->partition_rng, s->seed, s->run, SIM_DOMAIN_FAULTS, UINT32_MAX, 1);
    s->nodes_up = s->n_nodes;
    return 0;
}

/* ---- Dispatch. ---- */

static void dispatch_msg(sim *s, sim_event *ev) {
    const void *data = sim_queue_data(ev);
    s->in_flight--;
    if (s->gate[ev->node] != ev->epoch) {
        s->msg_stats[ev->type].dropped++;
        s->kval[KC_DROPPED_DOWN] += 1;
        sim__trace_event(s, -SIM_EV_MSG, ev->node, ev->src, ev->type, data, ev->len);
        return;
    }
    s->msg_stats[ev->type].delivered++;
    s->kval[KC_DELIVERED] += 1;
    sim__trace_event(s, SIM_EV_MSG, ev->node, ev->src, ev->type, data, ev->len);
    if (s->model->on_message) {
        sim_msg m = {.src = ev->src,
                     .type = ev->type,
                     .len = ev->len,
                     .wire_bytes = ev->wire_bytes,
                     .sent_at = ev->sent_at,
                     .data = data};
        sim_ctx ctx = SIM__CTX(s, ev->node);
        s->acting = ev->node;
        s->model->on_message(&ctx, s->nodes[ev->node].state, &m);
        s->acting = UINT32_MAX;
    }
}

/* The model's prefetch hook: stage 0 with the event three places after
 * the one being dispatched, stage 1 with the next, so that each stage's
 * lines have two dispatches' time to arrive (the slot lines were asked for
 * SIM_QUEUE_AHEAD pops before). */
/* Where in the front each stage looks: the third event after the one
 * dispatched, and the next (measured: looking further ahead gained
 * nothing on the web benchmark). */
#define SIM_PEEK_FIRST  2u
#define SIM_PEEK_SECOND 0u
static void peek_ahead(sim *s) {
    for (int stage = 0; stage < 2; stage++) {
        const sim_event *ev =
            sim_queue_peek_event(&s->queue, stage == 0 ? SIM_PEEK_FIRST : SIM_PEEK_SECOND);
        if (!ev || ev->node >= s->n_nodes || (ev->kind != SIM_EV_MSG && ev->kind != SIM_EV_TIMER))
            continue;
        sim_peek pk = {.node = ev->node, .msg = ev->kind == SIM_EV_MSG, .type = ev->type};
        if (pk.msg) {
            pk.src = ev->src;
            pk.data = sim_queue_data(ev);
            pk.len = ev->len;
        } else {
            pk.arg = ev->data.arg;
        }
        s->model->prefetch(s->shared, s->nodes[ev->node].state, stage, &pk);
    }
}

/* Returns false for a timer its node's crash cancelled: not an event. */
static bool dispatch_timer(sim *s, sim_event *ev) {
    if (s->gate[ev->node] != ev->epoch)
        return false;
    s->kval[KC_TIMERS] += 1;
    uint64_t arg = ev->data.arg;
    sim__trace_event(s, SIM_EV_TIMER, ev->node, UINT32_MAX, ev->type, &arg, sizeof arg);
    if (s->model->on_timer) {
        sim_ctx ctx = SIM__CTX(s, ev->node);
        s->acting = ev->node;
        s->model->on_timer(&ctx, s->nodes[ev->node].state, ev->type, arg);
        s->acting = UINT32_MAX;
    }
    return true;
}

static void schedule_sample(sim *s, sim_time at) {
    uint32_t slot = sim_queue_alloc(&s->queue);
    sim_event *ev = sim_queue_slot(&s->queue, slot);
    ev->kind = SIM_EV_SAMPLE;
    ev->node = UINT32_MAX;
    sim_queue_push(&s->queue, at, slot);
}

void sim__kstats_sync(sim *s) {
    for (int i = 0; i < KC_COUNT; i++) {
        sim_metrics_count(s->metrics, s->kid[i], s->kval[i] - s->ksynced[i]);
        s->ksynced[i] = s->kval[i];
    }
}

static void take_sample(sim *s) {
    sim__kstats_sync(s);
    sim_metrics_gauge_set(s->metrics, s->gauge_nodes_up, (double)s->nodes_up);
    sim_metrics_sample(s->metrics, s->now);
}

int sim_run(sim *s) {
    SIM_ASSERT(!s->ran);
    s->ran = true;
    s->now = 0;
    for (uint32_t i = 0; i < s->n_nodes; i++)
        if (s->model->node_init) {
            sim_ctx ctx = SIM__CTX(s, i);
            s->acting = i;
            s->model->node_init(&ctx, s->nodes[i].state);
            s->acting = UINT32_MAX;
        }
    sim__net_refresh(s);
    sim__faults_schedule(s);
    schedule_sample(s, 0);

    s->checkpoint = s->max_events ? s->max_events : UINT64_MAX;
    if (s->check && s->check_every < s->checkpoint)
        s->checkpoint = s->check_every;

    sim_time t;
    uint32_t slot;
    bool cut_short = false;
    while ((slot = sim_queue_pop(&s->queue, &t)) != UINT32_MAX) {
        if (t > s->duration) {
            sim_queue_free(&s->queue, slot);
            break;
        }
        SIM_ASSERT(t >= s->now);
        s->now = t;
        sim_event *ev = sim_queue_slot(&s->queue, slot);
        /* Ask for the next event's node while this one runs: handlers touch
         * its state and random streams, scattered over the node array. */
        uint32_t next = sim_queue_peek_node(&s->queue);
        if (next < s->n_nodes) {
            __builtin_prefetch(&s->nodes[next].rng);
            __builtin_prefetch(&s->nodes[next].state);
        }
        if (s->model->prefetch)
            peek_ahead(s);
        switch (ev->kind) {
        case SIM_EV_MSG:
            s->events++;
            dispatch_msg(s, ev);
            break;
        case SIM_EV_TIMER:
            s->events += dispatch_timer(s, ev);
            break;
        case SIM_EV_FAULT:
            s->events++;
            sim__fault_apply(s, &s->faults[ev->data.arg]);
            break;
        case SIM_EV_WORLD:
            s->events++;
            sim__trace_event(s, SIM_EV_WORLD, UINT32_MAX, UINT32_MAX, ev->type, &ev->data.arg,
                             sizeof ev->data.arg);
            if (s->model->on_world_timer)
                s->model->on_world_timer(s, s->shared, ev->type, ev->data.arg);
            break;
        case SIM_EV_SAMPLE:
            take_sample(s);
            if (s->sample_interval > 0 && s->now <= s->duration - s->sample_interval)
                schedule_sample(s, s->now + s->sample_interval);
            break;
        default:
            s->events++;
            sim__fault_random_event(s, ev->kind, ev->node);
            break;
        }
        sim_queue_free(&s->queue, slot);
        /* One compare per event covers both max_events and the check. */
        if (s->stopping || s->events >= s->checkpoint) {
            if (!s->stopping && s->check && s->events >= s->checkpoint) {
                while (s->checkpoint <= s->events)
                    s->checkpoint += s->check_every;
                if (s->max_events && s->checkpoint > s->max_events)
                    s->checkpoint = s->max_events;
                if (s->check(s, s->check_arg))
                    s->stopping = s->interrupted = true;
            }
            if (s->stopping || (s->max_events && s->events >= s->max_events)) {
                cut_short = true;
                break;
            }
        }
    }
    /* Unless cut short, simulated time runs to the end even when nothing is
     * left to do. */
    if (!cut_short)
        s->now = s->duration;
    /* A last sample at the end time unless the last tick was there. */
    size_t rows = sim_metrics_n_samples(s->metrics);
    if (rows == 0 || sim_metrics_sample_time(s->metrics, rows - 1) != s->now)
        take_sample(s);
    return 0;
}

void sim__set_check(sim *s, uint64_t every, bool (*check)(sim *s, void *arg), void *arg) {
    SIM_ASSERT(!s->ran && every > 0);
    s->check = check;
    s->check_arg = arg;
    s->check_every = every;
}

uint64_t sim_trace_hash(sim *s) {
    sim__trace_flush(s);
    return XXH3_64bits_digest(s->hash);
}

/* ---- Context API. ---- */

sim_time sim_now(const sim_ctx *ctx) { return ctx->s->now; }
uint32_t sim_self(const sim_ctx *ctx) { return ctx->self; }
sim *sim_of(const sim_ctx *ctx) { return ctx->s; }
void *sim_shared(const sim_ctx *ctx) { return ctx->s->shared; }
sim_rng *sim_node_rng(sim_ctx *ctx) { return &ctx->s->nodes[ctx->self].rng; }
void sim_stop(sim_ctx *ctx) { ctx->s->stopping = true; }

sim_time sim_local_time(const sim_ctx *ctx) {
    const sim__node *n = &ctx->s->nodes[ctx->self];
    sim_time now = ctx->s->now;
    /* Drift accumulates from when the clock was last set; integer parts
     * first so that long runs do not lose precision. */
    sim_time since = now - n->clock_set_at;
    double drift = n->clock_drift_ppm * 1e-6 * (double)since;
    sim_time local = now + n->clock_offset + (sim_time)drift;
    return local < 0 ? 0 : local;
}

void sim_send(sim_ctx *ctx, uint32_t dst, uint32_t type, const void *data, uint32_t len,
              uint32_t wire_bytes) {
    sim__net_send(ctx->s, ctx->self, dst, type, data, len, wire_bytes, 0);
}

void sim_send_after(sim_ctx *ctx, sim_time delay, uint32_t dst, uint32_t type, const void *data,
                    uint32_t len, uint32_t wire_bytes) {
    if (delay < 0 || delay > SIM_TIME_MAX - ctx->s->now)
        sim_panic(__FILE__, __LINE__, "node %s at t=%lld ns: send delay %lld ns out of range",
                  ctx->s->nodes[ctx->self].name, (long long)ctx->s->now, (long long)delay);
    sim__net_send(ctx->s, ctx->self, dst, type, data, len, wire_bytes, delay);
}

sim_timer sim_timer_set(sim_ctx *ctx, sim_time delay, uint32_t kind, uint64_t arg) {
    sim *s = ctx->s;
    if (delay < 0 || delay > SIM_TIME_MAX - s->now)
        sim_panic(__FILE__, __LINE__, "node %s at t=%lld ns: timer delay %lld ns out of range",
                  s->nodes[ctx->self].name, (long long)s->now, (long long)delay);
    uint32_t slot = sim_queue_alloc(&s->queue);
    sim_event *ev = sim_queue_slot(&s->queue, slot);
    ev->kind = SIM_EV_TIMER;
    ev->node = ctx->self;
    ev->src = UINT32_MAX;
    ev->type = kind;
    ev->data.arg = arg;
    ev->epoch = s->epoch[ctx->self];
    sim_timer h = {slot, ev->gen};
    sim_queue_push(&s->queue, s->now + delay, slot);
    return h;
}

void sim_world_timer_set(sim *s, sim_time at, uint32_t kind, uint64_t arg) {
    if (at < s->now)
        sim_panic(__FILE__, __LINE__, "world timer at t=%lld ns is before now (%lld ns)",
                  (long long)at, (long long)s->now);
    uint32_t slot = sim_queue_alloc(&s->queue);
    sim_event *ev = sim_queue_slot(&s->queue, slot);
    ev->kind = SIM_EV_WORLD;
    ev->node = UINT32_MAX;
    ev->src = UINT32_MAX;
    ev->type = kind;
    ev->data.arg = arg;
    sim_queue_push(&s->queue, at, slot);
}

bool sim_timer_cancel(sim_ctx *ctx, sim_timer t) {
    if (t.gen == 0)
        return false;
    return sim_queue_cancel(&ctx->s->queue, t.slot, t.gen);
}

bool sim_tracing(const sim_ctx *ctx) { return ctx->s->trace != NULL; }

void sim_log(sim_ctx *ctx, const char *fmt, ...) {
    if (!ctx->s->trace)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sim__trace_line(ctx->s, "log", ctx->self, buf);
}

/* ---- Nodes and groups. ---- */

uint32_t sim_node_count(const sim *s) { return s->n_nodes; }
sim_time sim_duration(const sim *s) { return s->duration; }
sim_time sim_time_now(const sim *s) { return s->now; }
int64_t sim_messages_in_flight(const sim *s) { return s->in_flight; }
const char *sim_node_name(const sim *s, uint32_t node) { return s->nodes[node].name; }
bool sim_node_up(const sim *s, uint32_t node) { return s->nodes[node].up; }
uint32_t sim_node_incarnation(const sim *s, uint32_t node) { return s->nodes[node].incarnation; }
double sim_node_slow(const sim *s, uint32_t node) { return s->nodes[node].slow; }
int sim_node_group(const sim *s, uint32_t node) { return s->nodes[node].group; }
uint32_t sim_group_first(const sim *s, int group) { return s->groups[group].first; }
uint32_t sim_group_count(const sim *s, int group) { return s->groups[group].count; }

int sim_group_find(const sim *s, const char *name) {
    for (uint32_t g = 0; g < s->n_groups; g++)
        if (strcmp(s->groups[g].name, name) == 0)
            return (int)g;
    return -1;
}

void sim_model_stream(const sim *s, sim_rng *out, uint32_t sub, uint32_t entity, uint32_t index) {
    SIM_ASSERT(sub >= 1);
    sim_rng_stream(out, s->seed, s->run, SIM_DOMAIN_MODEL + sub, entity, index);
}

/* ---- Metrics. ---- */

int sim_counter(sim *s, const char *name) { return sim_metrics_counter(s->metrics, name); }
void sim_count(sim *s, int counter, int64_t delta) {
    sim_metrics_count(s->metrics, counter, delta);
}
int64_t sim_counter_value(const sim *s, int counter) {
    return sim_metrics_counter_value(s->metrics, counter);
}
int sim_gauge(sim *s, const char *name) { return sim_metrics_gauge(s->metrics, name); }
void sim_gauge_set(sim *s, int gauge, double value) {
    sim_metrics_gauge_set(s->metrics, gauge, value);
}
int sim_histogram(sim *s, const char *name, const char *unit) {
    return sim_metrics_histogram(s->metrics, name, unit);
}
void sim_record(sim *s, int histogram, int64_t value) {
    sim_metrics_record(s->metrics, histogram, value);
}

int64_t sim_histogram_count(sim *s, int histogram) {
    return sim_hist_count(sim_metrics_hist(s->metrics, histogram));
}

int64_t sim_histogram_percentile(sim *s, int histogram, double p) {
    const sim_hist *h = sim_metrics_hist(s->metrics, histogram);
    return sim_hist_count(h) ? sim_hist_percentile(h, p) : 0;
}

void *sim_node_state(sim *s, uint32_t node) {
    SIM_ASSERT(node < s->n_nodes);
    return s->nodes[node].state;
}

/* ---- Report. ---- */

struct sim_report {
    cJSON *obj;
    char *human;
    size_t len, cap;
    sim__report_file *files;
    size_t n_files;
};

void sim_report_file(sim_report *r, const char *name, const char *text) {
    for (const char *p = name; *p; p++)
        SIM_ASSERT((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.');
    SIM_ASSERT(name[0] && name[0] != '.');
    r->files = sim_realloc(r->files, (r->n_files + 1) * sizeof *r->files);
    r->files[r->n_files].name = sim_strdup(name);
    r->files[r->n_files].text = sim_strdup(text);
    r->n_files++;
}

void sim__report_files_free(sim__report_file *files, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sim_free(files[i].name);
        sim_free(files[i].text);
    }
    sim_free(files);
}

void sim_report_num(sim_report *r, const char *name, double value) {
    cJSON_AddItemToObject(r->obj, name, cJSON_CreateNumber(value));
}
void sim_report_int(sim_report *r, const char *name, int64_t value) {
    cJSON_AddItemToObject(r->obj, name, cJSON_CreateNumber((double)value));
}
void sim_report_str(sim_report *r, const char *name, const char *value) {
    cJSON_AddItemToObject(r->obj, name, cJSON_CreateString(value));
}

void sim_report_line(sim_report *r, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    if (r->len + (size_t)n + 2 > r->cap) {
        r->cap = (r->cap + (size_t)n + 2) * 2;
        r->human = sim_realloc(r->human, r->cap);
    }
    memcpy(r->human + r->len, buf, (size_t)n);
    r->len += (size_t)n;
    r->human[r->len++] = '\n';
    r->human[r->len] = '\0';
}

cJSON *sim__report_json(sim *s, char **human, sim__report_file **files, size_t *n_files) {
    sim__kstats_sync(s);
    cJSON *metrics = sim_metrics_to_json(s->metrics);
    cJSON *msgs = cJSON_CreateObject();
    for (uint32_t t = 0; t < s->n_types; t++) {
        const sim__msg_stats *ms = &s->msg_stats[t];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "sent", (double)ms->sent);
        cJSON_AddNumberToObject(o, "bytes", (double)ms->bytes);
        cJSON_AddNumberToObject(o, "delivered", (double)ms->delivered);
        cJSON_AddNumberToObject(o, "dropped", (double)ms->dropped);
        cJSON_AddItemToObject(msgs, s->type_names[t], o);
    }
    cJSON_AddItemToObject(metrics, "messages", msgs);
    sim_report r = {.obj = cJSON_CreateObject()};
    if (s->model->report)
        s->model->report(&r, s->shared);
    cJSON_AddItemToObject(metrics, "model", r.obj);
    *human = r.human;
    *files = r.files;
    *n_files = r.n_files;
    return metrics;
}
