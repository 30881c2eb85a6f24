/*
 * web_report.c - the end of a web run: the summary's metrics (each defined
 * in docs/metrics.md), per_server.csv (one row per server of the pool),
 * scale.csv (one row per scale event, with the users it remapped against
 * the ideal), caching.csv and limiter.csv (one row per window: requests
 * by outcome, server work by answer, the limiter's decisions) and
 * per_client.csv (one row per user).
 */
#include "web_int.h"

#include <stdarg.h>
#include <stdio.h>

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        SIM_ASSERT(k >= 0);
        if (b->s && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->s = sim_realloc(b->s, b->cap);
    }
}

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The share of users an ideal hash moves from n to m servers: consistent
 * hashing |m - n| / max(n, m); mod-N by counting, over one period
 * lcm(n, m), the hashes x with x mod n != x mod m. */
static double ideal_moved(int policy, int64_t n, int64_t m) {
    if (n == 0 || m == 0)
        return n == m ? 0 : 1;
    if (policy == WEB_POL_CONSISTENT)
        return (double)(n > m ? n - m : m - n) / (double)(n > m ? n : m);
    int64_t l = n / gcd64(n, m) * m;
    if (l > 100000000)
        return -1;
    int64_t stay = 0;
    for (int64_t x = 0; x < l; x++)
        stay += x % n == x % m;
    return 1 - (double)stay / (double)l;
}

/* caching.csv and limiter.csv: per window (web.window), rates per second
 * from the differences of the running counts at the windows' ends. */
static void windows_csv(sim_report *r, web_shared *p) {
    const web_oracle *o = p->oracle;
    if (o->n_rows == 0)
        return;
    buf c = {0}, l = {0};
    put(&c, "time_s,requests,cache_hits,not_modified,full,limited_429,stale_shown,busy_full,"
            "busy_304,swr_served,swr_revalidations\n");
    put(&l, "time_s,allowed,soft,delayed,rejected,watch_max_in_span,watch_nominal\n");
    double nominal = o->watch.nominal;
    web_win_row prev = {0};
    for (uint32_t i = 0; i < o->n_rows; i++) {
        const web_win_row *w = &o->rows[i];
        double dt = (double)(w->at - prev.at) / 1e9;
        if (dt <= 0)
            continue;
        int64_t not_modified = w->not_modified - prev.not_modified;
        put(&c, "%.6f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", (double)w->at / 1e9,
            (double)(w->requests - prev.requests) / dt, (double)(w->hits - prev.hits) / dt,
            (double)not_modified / dt, (double)(w->ok - prev.ok - not_modified) / dt,
            (double)(w->limited_429 - prev.limited_429) / dt, (double)(w->stale - prev.stale) / dt,
            (w->work_full_ns - prev.work_full_ns) / 1e9 / dt,
            (w->work_304_ns - prev.work_304_ns) / 1e9 / dt,
            (double)(w->swr_served - prev.swr_served) / dt,
            (double)(w->swr_sent - prev.swr_sent) / dt);
        if (p->limiting)
            put(&l, "%.6f,%.6g,%.6g,%.6g,%.6g,%u,%.6g\n", (double)w->at / 1e9,
                (double)(w->allowed - prev.allowed) / dt, (double)(w->soft - prev.soft) / dt,
                (double)(w->delayed - prev.delayed) / dt,
                (double)(w->rejected - prev.rejected) / dt, w->watch_max, nominal);
        prev = *w;
    }
    sim_report_file(r, "caching.csv", c.s);
    if (p->limiting) {
        sim_report_file(r, "limiter.csv", l.s);
        sim_report_int(r, "rl_watch_max_in_span", o->watch.max_all);
        sim_report_num(r, "rl_watch_nominal", nominal);
        sim_report_num(r, "rl_watch_max_over_nominal",
                       nominal > 0 ? (double)o->watch.max_all / nominal : 0);
        if (o->watch.saturated)
            sim_report_line(r,
                            "limiter: the watched key admitted over %u in one span; its "
                            "count stops there",
                            WEB_WATCH_MAX);
    }
    if (o->n_rows == WEB_MAX_WIN_ROWS)
        sim_report_line(r, "caching.csv stops after %u windows: lengthen web.window",
                        WEB_MAX_WIN_ROWS);
    sim_free(c.s);
    sim_free(l.s);
}

/* per_client.csv: a row per user (up to WEB_PER_CLIENT_MAX users), and the
 * split of the figures between well-behaved and abusive users. */
static void per_client(sim_report *r, web_shared *p) {
    const web_oracle *o = p->oracle;
    double secs = (double)sim_duration(p->s) / 1e9;
    if (o->ustat) {
        buf b = {0};
        put(&b, "user,kind,requests,cache_hits,revalidations,not_modified,ok,limited_429,"
                "ended_limited,failed,stale_shown,admitted,soft,admitted_per_s\n");
        for (int64_t u = 0; u < p->n_users; u++) {
            const web_ustat *t = &o->ustat[u];
            put(&b, "%lld,%s,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%.6g\n", (long long)u,
                u < p->n_abusive ? "abusive" : "normal", t->requests, t->hits, t->revalidations,
                t->not_modified, t->ok, t->limited_429, t->ended_limited, t->failed, t->stale,
                t->admitted, t->soft, secs > 0 ? t->admitted / secs : 0);
        }
        sim_report_file(r, "per_client.csv", b.s);
        sim_free(b.s);
    }
    if (p->n_abusive == 0)
        return;
    static const char *const names[2] = {"normal", "abusive"};
    int64_t users[2] = {p->n_users - p->n_abusive, p->n_abusive};
    for (int k = 0; k < 2; k++) {
        const web_ustat *t = &o->kind[k];
        char name[64];
#define KIND_INT(field)                                                                            \
    snprintf(name, sizeof name, "%s_" #field, names[k]);                                           \
    sim_report_int(r, name, t->field)
        snprintf(name, sizeof name, "%s_users", names[k]);
        sim_report_int(r, name, users[k]);
        KIND_INT(requests);
        KIND_INT(ok);
        KIND_INT(limited_429);
        KIND_INT(ended_limited);
        KIND_INT(admitted);
#undef KIND_INT
        snprintf(name, sizeof name, "%s_ok_fraction", names[k]);
        sim_report_num(r, name, t->requests ? (double)t->ok / (double)t->requests : 0);
        snprintf(name, sizeof name, "%s_admitted_per_user_per_s", names[k]);
        sim_report_num(
            r, name, users[k] > 0 && secs > 0 ? (double)t->admitted / (double)users[k] / secs : 0);
    }
    const web_ustat *n = &o->kind[0], *a = &o->kind[1];
    char na[64] = "", aa[64] = "";
    if (p->limiting) {
        snprintf(na, sizeof na, ", %.3g admitted/s each",
                 users[0] > 0 && secs > 0 ? n->admitted / (double)users[0] / secs : 0.0);
        snprintf(aa, sizeof aa, ", %.3g admitted/s each",
                 users[1] > 0 && secs > 0 ? a->admitted / (double)users[1] / secs : 0.0);
    }
    sim_report_line(r,
                    "users: %lld well-behaved, %.1f%% of their requests ok%s; %lld abusive, "
                    "%.1f%% ok%s",
                    (long long)users[0], n->requests ? 100.0 * n->ok / n->requests : 0.0, na,
                    (long long)users[1], a->requests ? 100.0 * a->ok / a->requests : 0.0, aa);
}

static void scale_csv(sim_report *r, web_shared *p) {
    web_oracle *o = p->oracle;
    buf b = {0};
    put(&b, "time_s,action,by,servers_before,servers_after,users,users_remapped,"
            "remapped_fraction,ideal_fraction,remapped_onto_added,sessions_dropped,"
            "sessions_migrated\n");
    for (uint32_t i = 0; i < o->n_recs; i++) {
        const web_scale_rec *e = &o->recs[i];
        put(&b, "%.9f,%s,%s,%u,%u,", sim_time_to_s(e->at),
            e->action == WEB_SCALE_ADD ? "add" : "remove",
            e->autoscaler ? "autoscaler" : "schedule", e->before, e->after);
        if (e->users >= 0) {
            double ideal = ideal_moved(p->policy, e->before, e->after);
            put(&b, "%lld,%lld,%.6f,", (long long)e->users, (long long)e->remapped,
                e->users ? (double)e->remapped / (double)e->users : 0.0);
            if (ideal >= 0)
                put(&b, "%.6f,", ideal);
            else
                put(&b, ",");
            put(&b, "%lld,", (long long)e->onto_new);
        } else {
            put(&b, ",,,,,");
        }
        put(&b, "%lld,%lld\n", (long long)e->sessions_dropped, (long long)e->migrated);
    }
    sim_report_file(r, "scale.csv", b.s);
    sim_free(b.s);
}

void web_report(sim_report *r, void *shared) {
    web_shared *p = shared;
    sim *s = p->s;
    web_oracle *o = p->oracle;
    sim_time end = sim_duration(s);
    int64_t ended = 0;
    for (int e = 0; e < WEB_END_COUNT; e++)
        ended += o->ends[e];
    sim_report_int(r, "requests", o->requests);
    sim_report_int(r, "ok", o->ends[WEB_END_OK]);
    sim_report_int(r, "timeouts", o->ends[WEB_END_TIMEOUT]);
    sim_report_int(r, "rejected", o->ends[WEB_END_REJECTED]);
    sim_report_int(r, "no_server", o->ends[WEB_END_NO_SERVER]);
    sim_report_int(r, "server_errors", o->ends[WEB_END_SERVER]);
    sim_report_int(r, "overload", o->ends[WEB_END_OVERLOAD]);
    sim_report_int(r, "in_flight_at_end", o->requests - ended - o->hits - o->abandoned);
    /* A fresh hit is a request answered (by the browser). */
    int64_t served = o->ends[WEB_END_OK] + o->hits;
    sim_report_num(r, "availability",
                   ended + o->hits ? (double)served / (double)(ended + o->hits) : 1);
    sim_report_int(r, "retries", o->retries);
    sim_report_int(r, "late_responses", o->late);
    if (p->arrivals == WEB_ARRIVALS_POOLED)
        sim_report_int(r, "pooled_arrivals_dropped", o->thinned);
    sim_report_num(r, "throughput_per_s", (double)o->ends[WEB_END_OK] / sim_time_to_s(end));
    int64_t n = sim_histogram_count(s, p->h_latency);
    double p50 = (double)sim_histogram_percentile(s, p->h_latency, 50) / 1e6;
    double p99 = (double)sim_histogram_percentile(s, p->h_latency, 99) / 1e6;
    sim_report_num(r, "latency_p50_ms", p50);
    sim_report_num(r, "latency_p95_ms",
                   (double)sim_histogram_percentile(s, p->h_latency, 95) / 1e6);
    sim_report_num(r, "latency_p99_ms", p99);
    sim_report_num(r, "latency_p999_ms",
                   (double)sim_histogram_percentile(s, p->h_latency, 99.9) / 1e6);
    sim_report_num(r, "server_time_mean_ms", o->srv_n ? o->srv_sum / (double)o->srv_n / 1e6 : 0);
    sim_report_num(r, "queue_wait_mean_ms", o->wait_n ? o->wait_sum / (double)o->wait_n / 1e6 : 0);
    sim_report_num(r, "queue_wait_p99_ms",
                   (double)sim_histogram_percentile(s, p->h_queue_wait, 99) / 1e6);
    for (int i = 0; i < p->n_classes && p->n_classes > 1; i++) {
        char name[64];
        snprintf(name, sizeof name, "latency_p99_ms.%s", p->classes[i].name);
        sim_report_num(r, name,
                       (double)sim_histogram_percentile(s, p->classes[i].h_latency, 99) / 1e6);
    }

    /* Servers. */
    buf b = {0};
    put(&b, "server,hours_in_service,served,rejected,utilisation,max_queue,max_in_flight,"
            "sessions_peak,cost\n");
    double busy = 0, cap = 0, hours = 0, cost = 0, max_served = 0, sum_served = 0;
    double max_held = 0, sum_held = 0;
    int used = 0;
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++) {
        web_node *nd = sim_node_state(s, web_server_node(p, i));
        web_server *sv = nd->srv;
        web_srv_account(sv, end);
        web_srv_pay(p, sv, end, sv->paid_since >= 0);
        double h = sv->paid_ns / 3.6e12;
        double u = sv->paid_ns > 0 ? sv->busy_total / ((double)sv->workers * sv->paid_ns) : 0;
        busy += sv->busy_total;
        cap += (double)sv->workers * sv->paid_ns;
        hours += h;
        cost += h * p->cost_per_hour;
        if (sv->paid_ns > 0) {
            used++;
            sum_served += (double)sv->served;
            if ((double)sv->served > max_served)
                max_served = (double)sv->served;
            sum_held += (double)sv->max_in_flight;
            if ((double)sv->max_in_flight > max_held)
                max_held = (double)sv->max_in_flight;
        }
        put(&b, "%s,%.6f,%lld,%lld,%.6f,%lld,%lld,%lld,%.6f\n",
            sim_node_name(s, web_server_node(p, i)), h, (long long)sv->served,
            (long long)sv->rejected, u, (long long)sv->max_queue, (long long)sv->max_in_flight,
            (long long)o->live_max[i], h * p->cost_per_hour);
    }
    sim_report_file(r, "per_server.csv", b.s);
    sim_free(b.s);
    double util = cap > 0 ? busy / cap : 0;
    double imbalance = used && sum_served > 0 ? max_served / (sum_served / used) : 0;
    sim_report_num(r, "utilisation", util);
    sim_report_num(r, "served_max_over_mean", imbalance);
    sim_report_num(r, "in_flight_max_over_mean",
                   used && sum_held > 0 ? max_held / (sum_held / used) : 0);
    sim_report_num(r, "server_hours", hours);
    sim_report_num(r, "cost", cost);
    sim_report_num(r, "cost_per_million_requests",
                   o->ends[WEB_END_OK] ? cost / (double)o->ends[WEB_END_OK] * 1e6 : 0);
    sim_report_int(r, "servers_in_service_at_end", p->n_in_service);

    /* Sessions. */
    if (p->state != WEB_STATE_NONE) {
        sim_report_str(r, "session_state",
                       p->state == WEB_STATE_STATEFUL ? "stateful" : "stateless");
        sim_report_int(r, "logins", o->logins);
        sim_report_int(r, "logouts", o->logouts);
        sim_report_int(r, "session_misses", o->misses);
        sim_report_int(r, "session_misses_remapped", o->misses_remapped);
        sim_report_int(r, "session_misses_lost", o->misses_lost);
        sim_report_int(r, "relogins", o->relogins);
        sim_report_int(r, "sessions_lost", o->lost_crash + o->lost_removed);
        sim_report_int(r, "sessions_lost_crash", o->lost_crash);
        sim_report_int(r, "sessions_lost_removed", o->lost_removed);
        sim_report_int(r, "sessions_migrated", o->migrated);
        sim_report_int(r, "migrated_bytes", o->migrated_bytes);
        sim_report_int(r, "sessions_live_at_end", o->live);
        sim_report_int(r, "sessions_peak", o->live_peak);
        sim_report_num(r, "session_miss_fraction",
                       o->ends[WEB_END_OK] ? (double)o->misses / (double)o->ends[WEB_END_OK] : 0);
    }
    if (p->state == WEB_STATE_STATELESS) {
        sim_report_int(r, "store_reads", sim_counter_value(s, p->c_store_reads));
        sim_report_int(r, "store_writes", sim_counter_value(s, p->c_store_writes));
        double sb = 0, sc = 0;
        for (uint32_t i = 0; i < (uint32_t)p->n_stores; i++) {
            web_server *st = ((web_node *)sim_node_state(s, p->store_first + i))->srv;
            web_srv_account(st, end);
            sb += st->busy_total;
            sc += (double)st->workers * (double)end;
        }
        sim_report_num(r, "store_utilisation", sc > 0 ? sb / sc : 0);
    }
    if (o->n_recs > 0 || p->n_scale > 0) {
        int64_t remapped = 0, users = 0;
        for (uint32_t i = 0; i < o->n_recs; i++)
            if (o->recs[i].users >= 0) {
                remapped += o->recs[i].remapped;
                users += o->recs[i].users;
            }
        sim_report_int(r, "scale_events", o->n_recs);
        if (users > 0)
            sim_report_int(r, "users_remapped", remapped);
        scale_csv(r, p);
    }
    if (p->autoscale)
        sim_report_int(r, "autoscale_actions", p->as_actions);
    if (p->catalogue) {
        /* Copies shown, judged against the origin (web_oracle_shown). */
        sim_report_int(r, "shown", o->shown);
        sim_report_int(r, "stale_shown", o->stale);
        sim_report_num(r, "stale_shown_fraction",
                       o->shown ? (double)o->stale / (double)o->shown : 0);
        sim_report_int(r, "stale_max_age", o->stale_by[WEB_STALE_MAX_AGE]);
        sim_report_int(r, "stale_last_modified", o->stale_by[WEB_STALE_LAST_MODIFIED]);
        sim_report_int(r, "stale_in_flight", o->stale_by[WEB_STALE_IN_FLIGHT]);
        if (p->swr)
            sim_report_int(r, "stale_while_revalidate", o->stale_by[WEB_STALE_SWR]);
        sim_report_num(r, "server_work_full_s", o->work_full_ns / 1e9);
        sim_report_num(r, "server_work_304_s", o->work_304_ns / 1e9);
    }
    if (p->caching) {
        sim_report_int(r, "cache_hits", o->hits);
        sim_report_num(r, "cache_hit_fraction",
                       o->requests ? (double)o->hits / (double)o->requests : 0);
        if (p->swr) {
            sim_report_int(r, "swr_served", o->swr_served);
            sim_report_int(r, "swr_revalidations", o->swr_sent);
            sim_report_int(r, "swr_not_modified", o->swr_not_modified);
            sim_report_int(r, "swr_full", o->swr_full);
            sim_report_int(r, "swr_failed", o->swr_failed);
            sim_report_int(r, "swr_in_flight_at_end", o->swr_in_flight);
        }
        sim_report_int(r, "revalidations", o->revalidations);
        sim_report_int(r, "not_modified", o->not_modified);
        sim_report_int(r, "full_responses", o->full);
        sim_report_int(r, "eviction_races", o->races);
        sim_report_num(r, "bytes_saved", o->bytes_saved);
        sim_report_num(r, "latency_304_p50_ms",
                       (double)sim_histogram_percentile(s, p->h_latency_304, 50) / 1e6);
        sim_report_num(r, "latency_full_p50_ms",
                       (double)sim_histogram_percentile(s, p->h_latency_full, 50) / 1e6);
        /* Copies held at the end, and what holds them: the tables the
         * caches use (their blocks, and the entries handed out of a
         * node's shared pool) and the arenas' chunks, free blocks
         * included, the shared pools' usable part, and the cache structs
         * themselves. */
        int64_t evictions = 0, copies = 0;
        double tables = 0, held = 0;
        for (uint32_t c = 0; c < (uint32_t)p->n_clients; c++) {
            web_client *cl = ((web_node *)sim_node_state(s, p->client_first + c))->cl;
            if (!cl)
                continue;
            for (uint32_t u = 0; u < cl->n_users; u++) {
                evictions += (int64_t)web_cache_evictions(&cl->caches[u]);
                copies += web_cache_entries(&cl->caches[u]);
                tables += (double)web_cache_memory_bytes(&cl->caches[u]);
            }
            tables += (double)web_cache_slab_entries(&cl->slab) * sizeof(web_cache_entry);
            held += (double)sim_arena_bytes(cl->arena) + (double)web_cache_slab_bytes(&cl->slab) +
                    (double)cl->n_users * sizeof(web_cache);
        }
        sim_report_int(r, "cache_evictions", evictions);
        sim_report_int(r, "cache_copies", copies);
        sim_report_num(r, "cache_table_bytes_per_copy", copies ? tables / (double)copies : 0);
        sim_report_num(r, "cache_memory_bytes", held);
        sim_report_num(r, "cache_memory_bytes_per_copy", copies ? held / (double)copies : 0);
    }
    if (p->limiting) {
        sim_report_int(r, "limited", o->ends[WEB_END_LIMITED]);
        sim_report_int(r, "rl_allowed", sim_counter_value(s, p->c_rl_allowed));
        sim_report_int(r, "rl_soft", sim_counter_value(s, p->c_rl_soft));
        sim_report_int(r, "rl_delayed", sim_counter_value(s, p->c_rl_delayed));
        sim_report_int(r, "rl_rejected", sim_counter_value(s, p->c_rl_rejected));
        sim_report_int(r, "retries_429", sim_counter_value(s, p->c_retries_429));
    }

    sim_report_line(
        r, "requests: %lld, %.2f%% ok; latency p50 %.1f ms, p99 %.1f ms (%lld answered)",
        (long long)o->requests, ended ? 100.0 * (double)o->ends[WEB_END_OK] / (double)ended : 100.0,
        p50, p99, (long long)n);
    sim_report_line(r,
                    "servers: utilisation %.0f%%, served max/mean %.2f, %.2f server-hours, "
                    "cost %.4g",
                    100 * util, imbalance, hours, cost);
    if (p->caching)
        sim_report_line(r,
                        "cache: %lld hits (%.1f%% of requests), %lld revalidations: %lld 304, "
                        "%lld full; %lld full responses in all",
                        (long long)o->hits,
                        o->requests ? 100.0 * (double)o->hits / (double)o->requests : 0.0,
                        (long long)o->revalidations, (long long)o->not_modified,
                        (long long)(o->revalidations - o->not_modified), (long long)o->full);
    if (p->catalogue)
        sim_report_line(r,
                        "stale shown: %lld of %lld (max-age %lld, last-modified %lld, in flight "
                        "%lld); server work %.1f s full, %.1f s 304",
                        (long long)o->stale, (long long)o->shown,
                        (long long)o->stale_by[WEB_STALE_MAX_AGE],
                        (long long)o->stale_by[WEB_STALE_LAST_MODIFIED],
                        (long long)o->stale_by[WEB_STALE_IN_FLIGHT], o->work_full_ns / 1e9,
                        o->work_304_ns / 1e9);
    if (p->swr)
        sim_report_line(r,
                        "stale-while-revalidate: %lld requests answered by an expired copy (%lld "
                        "of them stale), %lld background revalidations: %lld 304, %lld full, "
                        "%lld failed",
                        (long long)o->swr_served, (long long)o->stale_by[WEB_STALE_SWR],
                        (long long)o->swr_sent, (long long)o->swr_not_modified,
                        (long long)o->swr_full, (long long)o->swr_failed);
    if (p->limiting)
        sim_report_line(r,
                        "limiter: %lld allowed, %lld soft, %lld delayed, %lld rejected (429); "
                        "%lld retried after a 429, %lld ended limited",
                        (long long)sim_counter_value(s, p->c_rl_allowed),
                        (long long)sim_counter_value(s, p->c_rl_soft),
                        (long long)sim_counter_value(s, p->c_rl_delayed),
                        (long long)sim_counter_value(s, p->c_rl_rejected),
                        (long long)sim_counter_value(s, p->c_retries_429),
                        (long long)o->ends[WEB_END_LIMITED]);
    if (p->state != WEB_STATE_NONE)
        sim_report_line(r,
                        "sessions: %lld logins, %lld misses (%lld remapped, %lld lost), "
                        "%lld sessions lost",
                        (long long)o->logins, (long long)o->misses, (long long)o->misses_remapped,
                        (long long)o->misses_lost, (long long)(o->lost_crash + o->lost_removed));
    windows_csv(r, p);
    per_client(r, p);
}
