/*
 * report.c - the kv model's report at the end of a run: consistency
 * (stale reads by k and t, session violations, lost writes), latency,
 * placement, and the fault-handling mechanisms (failure detection, hinted
 * handoff, read repair, anti-entropy, bootstrap, convergence after faults).
 *
 * Invariants
 *  (1) The report reads the run's final state and writes text and metrics;
 *      it changes no node's state and draws no random numbers.
 *  (2) Lost writes are counted by looking at every server's store (and
 *      the live hints) against the oracle's acknowledged versions.
 *
 * Sends no messages.
 */
#include "kv_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Report.                                                                  */

/* Appends printf-style text to a growing buffer. */
typedef struct kv_text {
    char *buf;
    size_t len, cap;
} kv_text;

static void text_add(kv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(kv_text *t, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = sim_realloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, line, (size_t)n + 1);
    t->len += (size_t)n;
}

/* Keys whose newest acknowledged write no replica in the key's preference
 * list holds, nor anything committed after it, nor a hint that could still
 * hand it over. */
static int64_t count_lost(kv_shared *k) {
    int64_t lost = 0;
    const kv_oracle *o = &k->oracle;
    kv_store hinted; /* the newest version any live hint carries, per key */
    kv_store_init(&hinted);
    for (uint32_t s = 0; s < k->n_servers; s++) {
        const kv_node *nd = kv_node_at(k, s);
        for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
            const kv_hint *hn = (const kv_hint *)kv_pool_at(&nd->hints, sizeof *hn, i);
            if (hn->slot.used)
                kv_session_put(k, &hinted, hn->key, hn->v);
        }
    }
    for (uint64_t key = 0; key < o->n_keys; key++) {
        const kv_key_rec *kr = &o->keys[key];
        if (kr->newest.wid == 0)
            continue;
        uint32_t pref[KV_MAX_N];
        uint32_t n = kv_ring_preflist(&k->ring, key, pref);
        if (kv_is_tombstone(kr->newest)) {
            /* A delete is kept while no replica holds older data without
             * the tombstone: that data would be read back. */
            bool back = false;
            for (uint32_t i = 0; i < n; i++) {
                kv_version v = kv_store_get(&kv_node_at(k, pref[i])->store, (uint32_t)key);
                back |= v.wid != 0 && !kv_is_tombstone(v) && !kv_vcovers(k, v, kr->newest);
            }
            k->resurrected_at_end += back;
            lost += back;
            continue;
        }
        /* What the replicas and the hints hold together (LWW: the newest of
         * them; vclock: the merge, which covers a write if any one does). */
        kv_version all = kv_store_get(&hinted, (uint32_t)key);
        for (uint32_t i = 0; i < n; i++)
            all = kv_vmerge(k, all, kv_store_get(&kv_node_at(k, pref[i])->store, (uint32_t)key));
        int64_t here = 0;
        if (!k->vclock) {
            here = !kv_vcovers(k, all, kr->newest);
        } else {
            /* Each acknowledged write no other one descends from counts. */
            for (uint32_t i = 0; i < kv_vc_count(&k->vc, kr->newest); i++)
                here += !kv_vc_covers_write(&k->vc, all, kv_vc_member(&k->vc, kr->newest, i));
        }
        lost += here;
        /* The cause: a hint that would have delivered it died with a
         * volatile holder, or else no replica kept it (a crash of a
         * volatile or unsynced replica, or writes that never reached it). */
        if (here && k->hint_lost && k->hint_lost[key])
            k->lost_after_hint_loss += here;
    }
    kv_store_fini(&hinted);
    return lost;
}

/* Failure detection, hinted handoff, read repair, divergence. */
static void report_repair(sim_report *r, kv_shared *k) {
    sim *s = k->sim;
    sim_report_int(r, "divergent_keys", k->oracle.divergent);
    if (k->hints_on) {
        int64_t dropped = k->hints_dropped_full + k->hints_dropped_window;
        sim_report_int(r, "hints_stored", k->hints_stored);
        sim_report_int(r, "hints_delivered", k->hints_delivered);
        sim_report_int(r, "hints_expired", k->hints_expired);
        sim_report_int(r, "hints_dropped", dropped);
        sim_report_int(r, "hints_dropped_full", k->hints_dropped_full);
        sim_report_int(r, "hints_dropped_window", k->hints_dropped_window);
        sim_report_int(r, "hints_lost_with_holder", k->hints_lost_with_holder);
        sim_report_int(r, "hints_pending_at_end", k->hints_pending);
        if (sim_histogram_count(s, k->h_hint_lag)) {
            sim_report_num(r, "hint_delivery_lag_p50_s",
                           sim_time_to_s(sim_histogram_percentile(s, k->h_hint_lag, 50)));
            sim_report_num(r, "hint_delivery_lag_max_s", sim_time_to_s(k->hint_lag_max));
        }
        sim_report_line(r,
                        "hinted handoff: %lld hints stored, %lld delivered, %lld expired, %lld "
                        "dropped, %lld lost with their holder, %lld pending at the end",
                        (long long)k->hints_stored, (long long)k->hints_delivered,
                        (long long)k->hints_expired, (long long)dropped,
                        (long long)k->hints_lost_with_holder, (long long)k->hints_pending);
    }
    if (k->rr_mode != KV_RR_OFF || k->digest_reads) {
        sim_report_int(r, "read_repair_reads", k->rr_reads);
        sim_report_int(r, "read_repair_messages", k->rr_repairs);
        sim_report_int(r, "read_repair_applied", k->rr_applied);
        if (k->digest_reads)
            sim_report_int(r, "digest_mismatches", k->rr_digest_mismatch);
        sim_report_line(r,
                        "read repair: %lld reads found stale replicas, %lld repairs sent, %lld "
                        "applied",
                        (long long)k->rr_reads, (long long)k->rr_repairs, (long long)k->rr_applied);
    }
    if (k->ae_mode != KV_AE_OFF) {
        sim_report_int(r, "ae_exchanges", k->ae_exchanges);
        sim_report_int(r, "ae_in_sync", k->ae_in_sync);
        sim_report_int(r, "ae_hashes", k->ae_hashes);
        sim_report_int(r, "ae_messages", k->ae_messages);
        sim_report_int(r, "ae_bytes", k->ae_bytes);
        sim_report_int(r, "ae_keys_listed", k->ae_keys_listed);
        sim_report_int(r, "ae_keys_streamed", k->ae_keys_streamed);
        sim_report_int(r, "ae_keys_repaired", k->ae_keys_repaired);
        sim_report_line(r,
                        "anti-entropy (%s): %lld exchanges (%lld in sync at the root), %lld "
                        "hashes, %lld keys listed, %lld streamed, %lld repaired; %lld bytes",
                        k->ae_mode == KV_AE_MERKLE ? "merkle" : "full", (long long)k->ae_exchanges,
                        (long long)k->ae_in_sync, (long long)k->ae_hashes,
                        (long long)k->ae_keys_listed, (long long)k->ae_keys_streamed,
                        (long long)k->ae_keys_repaired, (long long)k->ae_bytes);
    }
    if (k->boot_missing) {
        sim_report_int(r, "replacement_keys_missing_at_start", k->boot_missing_start);
        sim_report_int(r, "replacement_keys_missing_at_end", k->boot_missing_now);
        if (k->bootstrap == KV_BOOT_STREAMING) {
            sim_report_int(r, "stream_keys", k->stream_keys);
            sim_report_int(r, "stream_keys_applied", k->stream_applied);
            sim_report_int(r, "stream_bytes", k->stream_bytes);
        }
        if (k->boot_done_at >= 0)
            sim_report_num(r, "replacement_complete_after_s",
                           sim_time_to_s(k->boot_done_at - k->boot_at));
        if (k->boot_done_at >= 0)
            sim_report_line(
                r, "replacement %s at %.3f s: %lld keys to fetch, all held %.3f s later",
                sim_node_name(s, k->boot_node), sim_time_to_s(k->boot_at),
                (long long)k->boot_missing_start, sim_time_to_s(k->boot_done_at - k->boot_at));
        else
            sim_report_line(r,
                            "replacement %s at %.3f s: %lld keys to fetch, %lld still missing at "
                            "the end",
                            sim_node_name(s, k->boot_node), sim_time_to_s(k->boot_at),
                            (long long)k->boot_missing_start, (long long)k->boot_missing_now);
    }
    /* Convergence after each fault ended. */
    sim_report_int(r, "fault_ends", k->n_fault_ends + k->fault_ends_dropped);
    if (k->n_fault_ends == 0) {
        sim_report_line(r, "divergent keys at the end: %lld", (long long)k->oracle.divergent);
        return;
    }
    kv_text cv = {0};
    text_add(&cv,
             "at_s,action,node,divergent_keys_then,converged_after_s,ae_exchanges_to_converge\n");
    int64_t never = 0;
    sim_time worst = 0;
    for (uint32_t i = 0; i < k->n_fault_ends; i++) {
        const struct kv_fault_end *f = &k->fault_ends[i];
        char after[32] = "", rounds[32] = "";
        if (f->converged_at >= 0) {
            snprintf(after, sizeof after, "%.9f", sim_time_to_s(f->converged_at - f->at));
            if (k->ae_mode != KV_AE_OFF)
                snprintf(rounds, sizeof rounds, "%lld", (long long)f->ae_rounds);
            worst = f->converged_at - f->at > worst ? f->converged_at - f->at : worst;
        } else {
            never++;
        }
        text_add(&cv, "%.9f,%s,%s,%lld,%s,%s\n", sim_time_to_s(f->at), f->what,
                 f->node == UINT32_MAX ? "" : sim_node_name(s, f->node),
                 (long long)f->divergent_then, after, rounds);
    }
    sim_report_file(r, "convergence.csv", cv.buf);
    sim_free(cv.buf);
    const struct kv_fault_end *last = &k->fault_ends[k->n_fault_ends - 1];
    sim_report_int(r, "fault_ends_not_converged", never);
    if (never < (int64_t)k->n_fault_ends)
        sim_report_num(r, "converge_time_max_s", sim_time_to_s(worst));
    if (last->converged_at >= 0)
        sim_report_num(r, "converge_time_last_fault_s",
                       sim_time_to_s(last->converged_at - last->at));
    if (last->converged_at >= 0 && k->ae_mode != KV_AE_OFF)
        sim_report_int(r, "ae_exchanges_to_converge_last_fault", last->ae_rounds);
    if (last->converged_at >= 0)
        sim_report_line(r,
                        "divergent keys at the end: %lld; after the last fault ended (%s at "
                        "%.3f s, %lld divergent) the replicas agreed again in %.3f s",
                        (long long)k->oracle.divergent, last->what, sim_time_to_s(last->at),
                        (long long)last->divergent_then,
                        sim_time_to_s(last->converged_at - last->at));
    else
        sim_report_line(r,
                        "divergent keys at the end: %lld; after the last fault ended (%s at "
                        "%.3f s, %lld divergent) the replicas never agreed again",
                        (long long)k->oracle.divergent, last->what, sim_time_to_s(last->at),
                        (long long)last->divergent_then);
}

void kv_report(sim_report *r, void *shared) {
    kv_shared *k = shared;
    kv_oracle *o = &k->oracle;
    sim *s = k->sim;
    int64_t writes = o->writes_started, reads = o->reads_started;
    int64_t in_flight = 0;
    for (uint32_t c = 0; c < (uint32_t)k->n_clients; c++) {
        const kv_node *nd = sim_node_state(s, k->first_client + c);
        in_flight += nd->in_flight;
    }
    int64_t finished = o->writes_ok + o->writes_failed + o->reads_ok + o->reads_failed;
    int64_t ok = o->writes_ok + o->reads_ok;
    double availability = finished ? (double)ok / (double)finished : 1.0;
    double stale_frac = o->reads_ok ? (double)o->stale / (double)o->reads_ok : 0.0;
    k->resurrected_at_end = 0;
    k->lost_after_hint_loss = 0;
    o->lost = count_lost(k) + o->lost_lww;

    sim_report_int(r, "reads", reads);
    sim_report_int(r, "writes", writes);
    sim_report_int(r, "reads_ok", o->reads_ok);
    sim_report_int(r, "writes_ok", o->writes_ok);
    sim_report_int(r, "failed_ops", o->reads_failed + o->writes_failed);
    if (k->overload_rejects)
        sim_report_int(r, "overload_rejects", k->overload_rejects);
    sim_report_int(r, "ops_in_flight_at_end", in_flight);
    sim_report_num(r, "availability", availability);
    sim_report_int(r, "stale_reads", o->stale);
    sim_report_num(r, "stale_read_fraction", stale_frac);
    sim_report_int(r, "monotonic_read_violations", o->mr_violations);
    sim_report_int(r, "read_your_writes_violations", o->ryw_violations);
    sim_report_int(r, "lost_acknowledged_writes", o->lost);
    sim_report_int(r, "lost_to_timestamp_order", o->lost_lww);
    sim_report_int(r, "lost_at_end_no_replica", o->lost - o->lost_lww - k->resurrected_at_end);
    if (k->hints_on)
        sim_report_int(r, "lost_after_hint_loss", k->lost_after_hint_loss);
    if (k->delete_fraction > 0) {
        sim_report_int(r, "deletes", k->deletes);
        sim_report_int(r, "tombstones_purged", k->tombstones_purged);
        sim_report_int(r, "resurrections", k->resurrections);
        sim_report_int(r, "deletes_undone_at_end", k->resurrected_at_end);
    }
    sim_report_int(r, "superseded_at_commit", o->superseded_at_commit);
    for (int i = 1; i <= 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "stale_k_%d", i);
        sim_report_int(r, name, o->k_hist[i]);
    }
    sim_report_int(r, "stale_k_over_10", o->k_hist[0]);
    report_repair(r, k);
    if (k->vclock) {
        /* Reads by siblings returned: 1..7, and 8 or more; two or more is a
         * read that returned siblings. */
        int64_t with_siblings = 0;
        for (int i = 1; i <= 8; i++) {
            char name[40];
            if (i < 8)
                snprintf(name, sizeof name, "reads_with_%d_siblings", i);
            else
                snprintf(name, sizeof name, "reads_with_8_or_more_siblings");
            sim_report_int(r, name, k->sibling_hist[i]);
            with_siblings += i > 1 ? k->sibling_hist[i] : 0;
        }
        sim_report_int(r, "reads_with_siblings", with_siblings);
        sim_report_int(r, "siblings_max", k->sibling_max);
        sim_report_int(r, "writes_merging_siblings", k->writes_merging_siblings);
        sim_report_int(r, "vclock_truncations", k->vc.truncations);
        sim_report_line(r,
                        "vector clocks: %lld reads returned siblings (at most %lld), %lld writes "
                        "merged them",
                        (long long)with_siblings, (long long)k->sibling_max,
                        (long long)k->writes_merging_siblings);
    }

    /* Load per server. */
    double sum_keys = 0, sum2_keys = 0, max_keys = 0, sum_ops = 0, sum2_ops = 0, max_ops = 0;
    uint32_t members = 0;
    kv_text per_node = {0};
    text_add(&per_node, "node,member,keys,ops_served,coordinated,store_bytes\n");
    for (uint32_t i = 0; i < k->n_servers; i++) {
        const kv_node *nd = sim_node_state(s, i);
        double keys = kv_store_count(&nd->store), ops = (double)nd->ops_served;
        text_add(&per_node, "%s,%d,%u,%lld,%lld,%zu\n", sim_node_name(s, i), k->ring.active[i],
                 kv_store_count(&nd->store), (long long)nd->ops_served, (long long)nd->coordinated,
                 kv_store_bytes(&nd->store));
        if (!k->ring.active[i])
            continue;
        members++;
        sum_keys += keys;
        sum2_keys += keys * keys;
        max_keys = keys > max_keys ? keys : max_keys;
        sum_ops += ops;
        sum2_ops += ops * ops;
        max_ops = ops > max_ops ? ops : max_ops;
    }
    double mean_keys = members ? sum_keys / members : 0, mean_ops = members ? sum_ops / members : 0;
    double cv_keys =
        mean_keys > 0 ? sqrt(fmax(0, sum2_keys / members - mean_keys * mean_keys)) / mean_keys : 0;
    double cv_ops =
        mean_ops > 0 ? sqrt(fmax(0, sum2_ops / members - mean_ops * mean_ops)) / mean_ops : 0;
    sim_report_num(r, "keys_per_node_max_over_mean", mean_keys > 0 ? max_keys / mean_keys : 0);
    sim_report_num(r, "keys_per_node_cv", cv_keys);
    sim_report_num(r, "ops_per_node_max_over_mean", mean_ops > 0 ? max_ops / mean_ops : 0);
    sim_report_num(r, "ops_per_node_cv", cv_ops);
    sim_report_int(r, "membership_changes", k->membership_changes);
    if (k->membership_changes)
        sim_report_num(r, "moved_fraction_last_change", k->moved_fraction_last);
    sim_report_file(r, "per_node.csv", per_node.buf);
    sim_free(per_node.buf);

    /* t-visibility. */
    kv_text tv = {0};
    text_add(&tv, "t_from_s,t_to_s,reads,consistent,p_consistent\n");
    for (uint32_t b = 0; b < o->n_t; b++) {
        char from[32], to[32];
        snprintf(from, sizeof from, "%.9f", sim_time_to_s(o->t_edges[b]));
        if (b + 1 < o->n_t)
            snprintf(to, sizeof to, "%.9f", sim_time_to_s(o->t_edges[b + 1]));
        else
            snprintf(to, sizeof to, "inf");
        if (o->t_reads[b])
            text_add(&tv, "%s,%s,%lld,%lld,%.6f\n", from, to, (long long)o->t_reads[b],
                     (long long)o->t_fresh[b], (double)o->t_fresh[b] / (double)o->t_reads[b]);
        else
            text_add(&tv, "%s,%s,0,0,\n", from, to);
    }
    sim_report_file(r, "t_visibility.csv", tv.buf);
    sim_free(tv.buf);

    /* Probes. */
    if (k->wl_mode == KV_WL_PROBE) {
        kv_text pr = {0};
        text_add(&pr, "t_s,probes,consistent,p_consistent\n");
        for (uint32_t i = 0; i < k->n_probe_t; i++) {
            int64_t n = o->probe_reads[i], f = o->probe_fresh[i];
            char p[32] = "";
            if (n)
                snprintf(p, sizeof p, "%.6f", (double)f / (double)n);
            text_add(&pr, "%.9f,%lld,%lld,%s\n", sim_time_to_s(k->probe_t[i]), (long long)n,
                     (long long)f, p);
            char name[48];
            snprintf(name, sizeof name, "probe_p_consistent_%u", i);
            if (n)
                sim_report_num(r, name, (double)f / (double)n);
        }
        sim_report_file(r, "probes.csv", pr.buf);
        sim_free(pr.buf);
    }

    /* Human lines. */
    static const char *const coord_names[] = {"first", "random", "client"};
    sim_report_line(r,
                    "kv: N=%lld R=%lld W=%lld, %u servers, %lld clients, %lld keys, "
                    "coordinator %s%s",
                    (long long)k->n, (long long)k->r, (long long)k->w, k->n_servers,
                    (long long)k->n_clients, (long long)k->n_keys, coord_names[k->coordinator],
                    k->propagation == KV_PROP_NONE ? ", propagation none (PBS teaching mode)" : "");
    sim_report_line(r, "operations: %lld reads, %lld writes; availability %.4f (%lld failed)",
                    (long long)reads, (long long)writes, availability,
                    (long long)(o->reads_failed + o->writes_failed));
    sim_report_line(r,
                    "stale reads: %lld of %lld (%.4f); monotonic-read violations %lld, "
                    "read-your-writes violations %lld",
                    (long long)o->stale, (long long)o->reads_ok, stale_frac,
                    (long long)o->mr_violations, (long long)o->ryw_violations);
    if (sim_histogram_count(s, k->h_read))
        sim_report_line(r,
                        "read latency p50 %.3f ms, p99 %.3f ms; write latency p50 %.3f ms, "
                        "p99 %.3f ms",
                        (double)sim_histogram_percentile(s, k->h_read, 50) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_read, 99) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_write, 50) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_write, 99) / 1e6);
    sim_report_line(r, "acknowledged writes lost: %lld; keys per node max/mean %.2f",
                    (long long)o->lost, mean_keys > 0 ? max_keys / mean_keys : 0);
    if (k->wl_mode == KV_WL_PROBE)
        for (uint32_t i = 0; i < k->n_probe_t; i++) {
            int64_t n = o->probe_reads[i];
            if (n)
                sim_report_line(r, "probe t=%.3f ms: P(consistent) = %.4f over %lld probes",
                                (double)k->probe_t[i] / 1e6, (double)o->probe_fresh[i] / (double)n,
                                (long long)n);
        }
}
