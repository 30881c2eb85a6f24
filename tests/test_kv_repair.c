/*
 * test_kv_repair.c - the kv model under faults: the failure detector,
 * sloppy quorums with hinted handoff, read repair, and the oracle's
 * divergence and convergence figures.
 *
 * Scenarios use a constant network latency where a bound depends on it, so
 * bounds are exact consequences of the protocol's timers; where a count
 * depends on the workload's randomness only its sign or order is asserted
 * (e.g. R = 1 can never repair, R = N must).
 */
#include "check_util.h"
#include "kv_util.h"

/* Five servers, N = 3; n2 is down from 5 s to 10 s.  Clients write and
 * read 200 keys at 400 operations a second until `stop`. */
static run crash_run(const char *kv_extra, const char *stop) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"20s\",\"seed\":3,"
             "\"network\":{\"latency\":\"1ms\"},"
             "\"faults\":[{\"at\":\"5s\",\"crash\":\"n2\"},{\"at\":\"10s\",\"recover\":\"n2\"}],"
             "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"request_timeout\":\"100ms\"%s,"
             "\"workload\":{\"clients\":4,\"keys\":200,\"rate_per_s\":400,"
             "\"read_fraction\":0.5,\"stop\":\"%s\"}}}",
             kv_extra, stop);
    return run_sim(kv_load(text));
}

/* Hints reach the recovered node within one replay interval: it announces
 * itself with heartbeats at once (1 ms away), each holder replays at its
 * next tick (at most replay_interval later), the hint arrives 1 ms after. */
START_TEST(test_kv_hints_delivered_within_one_replay_interval) {
    run r = crash_run(",\"quorum\":\"sloppy\",\"hinted_handoff\":{\"replay_interval\":\"500ms\"}",
                      "15s");
    double stored = num(r.m, "hints_stored");
    ck_assert_double_gt(stored, 100);
    ck_assert_double_eq(num(r.m, "hints_delivered"), stored);
    ck_assert_double_eq(num(r.m, "hints_pending_at_end"), 0);
    ck_assert_double_eq(num(r.m, "hints_expired") + num(r.m, "hints_dropped"), 0);
    ck_assert_double_le(num(r.m, "hint_delivery_lag_max_s"), 0.5 + 0.002);
    /* Every key's replicas agree again after the recovery, and no
     * acknowledged write was lost. */
    ck_assert_double_eq(num(r.m, "divergent_keys"), 0);
    ck_assert_double_eq(num(r.m, "fault_ends_not_converged"), 0);
    ck_assert_double_le(num(r.m, "converge_time_last_fault_s"), 0.5 + 0.002);
    ck_assert_double_eq(num(r.m, "lost_acknowledged_writes"), 0);
    run_free(&r);
}
END_TEST

/* With two of five servers down, a strict quorum (W = 2 of N = 3) fails
 * every write whose preference list holds both; a sloppy quorum writes to
 * stand-ins once the failure detector suspects them. */
START_TEST(test_kv_sloppy_quorum_keeps_writes_available) {
    double avail[2];
    for (int sloppy = 0; sloppy < 2; sloppy++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"20s\",\"seed\":4,"
                 "\"network\":{\"latency\":\"1ms\"},"
                 "\"faults\":[{\"at\":\"2s\",\"crash\":[\"n1\",\"n3\"]}],"
                 "\"kv\":{\"n\":3,\"r\":1,\"w\":2,\"request_timeout\":\"100ms\","
                 "\"quorum\":\"%s\",\"failure_detector\":{\"enabled\":true},"
                 "\"workload\":{\"clients\":2,\"keys\":500,\"rate_per_s\":200,"
                 "\"read_fraction\":0,\"start\":\"5s\"}}}",
                 sloppy ? "sloppy" : "strict");
        sim *s = kv_load(text);
        sim_run(s);
        kv_oracle *o = &kv_of(s)->oracle;
        ck_assert_int_gt(o->writes_started, 2000);
        /* Of the writes that finished (a few are in flight at the end). */
        avail[sloppy] = (double)o->writes_ok / (double)(o->writes_ok + o->writes_failed);
        sim_destroy(s);
    }
    /* Strict: a key fails when its three replicas include both down nodes:
     * with 5 servers about 3/10 of the keys (C(3,1)/C(5,3)). */
    ck_assert_double_lt(avail[0], 0.8);
    ck_assert_double_gt(avail[0], 0.6);
    ck_assert_double_eq(avail[1], 1.0);
}
END_TEST

/* Every mechanism off: replicas that missed writes during a partition never
 * catch up after the heal (nothing is written after it). */
static const char partition_heal[] =
    "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"30s\",\"seed\":5,"
    "\"network\":{\"latency\":\"1ms\"},"
    "\"faults\":[{\"at\":\"5s\",\"partition\":[[\"n0\",\"n1\"],[\"n2\",\"n3\",\"n4\"]]},"
    "{\"at\":\"10s\",\"heal\":true}],"
    "\"kv\":{\"n\":3,\"r\":%d,\"w\":1,\"coordinator\":\"random\",\"request_timeout\":\"100ms\","
    "\"read_targets\":\"quorum\",\"read_repair\":{\"mode\":\"%s\"},"
    "\"workload\":{\"clients\":4,\"keys\":%d,\"rate_per_s\":400,\"read_fraction\":%s,"
    "\"stop\":\"%s\"}}}";

START_TEST(test_kv_healed_partition_never_converges_without_repair) {
    char text[2048];
    snprintf(text, sizeof text, partition_heal, 1, "off", 300, "0.5", "10s");
    run r = run_sim(kv_load(text));
    double div = num(r.m, "divergent_keys");
    ck_assert_double_gt(div, 50);
    ck_assert_double_eq(num(r.m, "fault_ends"), 1);
    ck_assert_double_eq(num(r.m, "fault_ends_not_converged"), 1);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r.m, "converge_time_last_fault_s"));
    /* Nothing happens after the heal: the count is the one at the heal. */
    ck_assert_int_eq(kv_of(r.s)->fault_ends[0].divergent_then, (int64_t)div);
    run_free(&r);
}
END_TEST

/* Read repair after the heal: with R = 1 a read sees one replica and can never notice a
 * disagreement; with R = N every read of a divergent key repairs it. */
START_TEST(test_kv_read_repair_with_r_n_repairs_more_than_r_1) {
    double applied[2], div[2];
    for (int i = 0; i < 2; i++) {
        char text[2048];
        /* The workload goes on after the heal; a write reaches all three
         * replicas then, which also settles its key, so the difference
         * between the two runs is read repair's. */
        snprintf(text, sizeof text, partition_heal, i ? 3 : 1, "async", 3000, "0.9", "30s");
        run r = run_sim(kv_load(text));
        applied[i] = num(r.m, "read_repair_applied");
        div[i] = num(r.m, "divergent_keys");
        if (i == 0)
            ck_assert_double_eq(num(r.m, "read_repair_messages"), 0);
        run_free(&r);
    }
    ck_assert_double_eq(applied[0], 0);
    ck_assert_double_gt(applied[1], 100);
    ck_assert_double_lt(div[1], div[0]);
}
END_TEST

/* Blocking read repair: the replicas that answered hold the returned
 * version before the client hears it, so a client's next read with R = 2
 * (N = 3) that meets either of them cannot go back: no monotonic-read
 * violation even across the partition. */
START_TEST(test_kv_blocking_read_repair_repairs_before_answering) {
    char text[2048];
    snprintf(text, sizeof text, partition_heal, 2, "blocking", 300, "0.5", "30s");
    run r = run_sim(kv_load(text));
    ck_assert_double_gt(num(r.m, "read_repair_reads"), 0);
    /* A repair finds the replica newer already when a write overtook it. */
    ck_assert_double_gt(num(r.m, "read_repair_applied"), 0);
    ck_assert_double_le(num(r.m, "read_repair_applied"), num(r.m, "read_repair_messages"));
    run_free(&r);
}
END_TEST

/* Digest reads: the same answers as full reads when replicas agree, and a
 * second round trip for the value when the data replica is behind. */
START_TEST(test_kv_digest_reads_fetch_the_value_on_mismatch) {
    char text[2048];
    snprintf(text, sizeof text, partition_heal, 3, "off", 300, "0.5", "30s");
    sim *s = kv_load(text);
    kv_of(s)->digest_reads = true;
    run r = run_sim(s);
    ck_assert_double_gt(num(r.m, "digest_mismatches"), 0);
    /* R = N = 3 reads see every replica: never stale with digests either. */
    ck_assert_double_eq(num(r.m, "stale_reads"), 0);
    run_free(&r);
}
END_TEST

/* A volatile stand-in that crashes loses the hints it held. */
START_TEST(test_kv_hints_die_with_a_volatile_holder) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":4,\"duration\":\"20s\",\"seed\":6,"
             "\"network\":{\"latency\":\"1ms\"},"
             "\"faults\":[{\"at\":\"2s\",\"crash\":\"n0\"},{\"at\":\"8s\",\"crash\":\"n1\"},"
             "{\"at\":\"8s\",\"recover\":\"n0\"}],"
             "\"kv\":{\"n\":2,\"r\":1,\"w\":1,\"quorum\":\"sloppy\",\"request_timeout\":\"100ms\","
             "\"storage\":{\"durable\":false},"
             "\"workload\":{\"clients\":2,\"keys\":200,\"rate_per_s\":200,\"read_fraction\":0,"
             "\"stop\":\"7s\"}}}");
    sim *s = kv_load(text);
    sim_run(s);
    kv_shared *k = kv_of(s);
    ck_assert_int_gt(k->hints_lost_with_holder, 0);
    ck_assert_int_eq(k->hints_stored, k->hints_delivered + k->hints_lost_with_holder +
                                          k->hints_expired + k->hints_pending);

    sim_destroy(s);
}
END_TEST

/* n2 is down from 3 s to 10 s and misses deletes; with a grace period
 * shorter than its absence the others purge the tombstones before it is
 * back, and read repair (R = N) spreads its old values again: the deletes
 * are undone.  With a grace period longer than the absence, the tombstones
 * win the repair instead. */
START_TEST(test_kv_tombstones_purged_too_early_resurrect_deleted_keys) {
    int64_t resurrections[2], undone[2], purged[2];
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"30s\",\"seed\":7,"
                 "\"network\":{\"latency\":\"1ms\"},"
                 "\"faults\":[{\"at\":\"3s\",\"crash\":\"n2\"},{\"at\":\"10s\","
                 "\"recover\":\"n2\"}],"
                 "\"kv\":{\"n\":3,\"r\":3,\"w\":2,\"request_timeout\":\"100ms\","
                 "\"read_repair\":{\"mode\":\"async\"},"
                 "\"tombstones\":{\"gc_grace\":\"%s\"},"
                 "\"workload\":{\"clients\":1,\"keys\":300,\"rate_per_s\":100,"
                 "\"read_fraction\":0.7,\"delete_fraction\":0.5}}}",
                 i ? "1h" : "2s");
        run r = run_sim(kv_load(text));
        ck_assert_double_gt(num(r.m, "deletes"), 100);
        resurrections[i] = (int64_t)num(r.m, "resurrections");
        undone[i] = (int64_t)num(r.m, "deletes_undone_at_end");
        purged[i] = (int64_t)num(r.m, "tombstones_purged");
        run_free(&r);
    }
    ck_assert_int_gt(purged[0], 0);
    ck_assert_int_gt(resurrections[0], 0);
    ck_assert_int_eq(purged[1], 0);
    ck_assert_int_eq(resurrections[1], 0);
    ck_assert_int_eq(undone[1], 0);
}
END_TEST

/* Anti-entropy: a healed partition converges (writes stop at the heal, so
 * only anti-entropy can repair), and merkle and full modes, which start
 * the same exchanges (ranges, peers, times), repair exactly the same keys; merkle ships fewer bytes
 * when few keys differ among many (one range per server: 8000 keys a range, depth 12). */
static const char ae_heal[] =
    "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"40s\",\"seed\":5,"
    "\"network\":{\"latency\":\"1ms\"},"
    "\"faults\":[{\"at\":\"5s\",\"partition\":[[\"n0\",\"n1\"],[\"n2\",\"n3\",\"n4\"]]},"
    "{\"at\":\"6s\",\"heal\":true}],"
    "\"kv\":{\"n\":3,\"r\":1,\"w\":1,\"coordinator\":\"random\",\"vnodes\":1,"
    "\"request_timeout\":\"100ms\",\"value_bytes\":1000,"
    "\"anti_entropy\":{\"mode\":\"%s\",\"interval\":\"500ms\",\"depth\":12},"
    "\"workload\":{\"clients\":4,\"keys\":40000,\"rate_per_s\":%s,\"read_fraction\":0,"
    "\"stop\":\"6s\"}}}";

START_TEST(test_kv_anti_entropy_converges_and_merkle_ships_less_than_full) {
    double repaired[2], bytes[2], conv[2];
    const char *modes[2] = {"merkle", "full"};
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text, ae_heal, modes[i], "20000");
        run r = run_sim(kv_load(text));
        repaired[i] = num(r.m, "ae_keys_repaired");
        bytes[i] = num(r.m, "ae_bytes");
        ck_assert_double_eq(num(r.m, "fault_ends_not_converged"), 0);
        ck_assert_double_eq(num(r.m, "divergent_keys"), 0);
        conv[i] = num(r.m, "converge_time_last_fault_s");
        run_free(&r);
    }
    ck_assert_double_gt(repaired[0], 100);
    ck_assert_double_eq(repaired[0], repaired[1]);
    /* Merkle descends in more round trips (1 ms each) than full mode's one:
     * the same exchange that settles the last key ends a little later. */
    ck_assert_double_ge(conv[0], conv[1]);
    ck_assert_double_le(conv[0] - conv[1], 0.05);
    ck_assert_double_lt(bytes[0], bytes[1] / 2);
}
END_TEST

/* The trees are maintained incrementally through puts, repairs, purges,
 * crash rollbacks and volatile crashes, with either versioning: at the end
 * each equals a tree rebuilt from the store. */
static void check_trees(int vclock) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"model\":\"kv\",\"nodes\":4,\"duration\":\"20s\",\"seed\":8,"
             "\"network\":{\"latency\":\"1ms\"},"
             "\"faults\":[{\"at\":\"3s\",\"crash\":\"n1\"},{\"at\":\"5s\","
             "\"recover\":\"n1\"},{\"at\":\"8s\",\"partition\":[[\"n0\"],"
             "[\"n1\",\"n2\",\"n3\"]]},{\"at\":\"12s\",\"heal\":true}],"
             "\"kv\":{\"n\":3,\"r\":2,\"w\":1,\"request_timeout\":\"100ms\","
             "\"storage\":{\"sync_interval\":\"700ms\"},"
             "\"tombstones\":{\"gc_grace\":\"2s\"},"
             "\"read_repair\":{\"mode\":\"async\"},"
             "\"anti_entropy\":{\"mode\":\"merkle\",\"interval\":\"300ms\","
             "\"depth\":6},"
             "\"versioning\":\"%s\","
             "\"workload\":{\"clients\":2,\"keys\":500,\"rate_per_s\":300,"
             "\"read_fraction\":0.5,\"delete_fraction\":0.3}}}",
             vclock ? "vclock" : "lww");
    sim *s = kv_load(text);
    sim_run(s);
    kv_shared *k = kv_of(s);
    ck_assert_int_gt(k->tombstones_purged, 0);
    ck_assert_int_gt(k->ae_keys_repaired, 0);
    for (uint32_t node = 0; node < k->n_servers; node++) {
        kv_node *nd = sim_node_state(s, node);
        ck_assert_uint_eq(nd->n_trees, kv_ring_range_count(&k->ring));
        kv_merkle *fresh = calloc(nd->n_trees, sizeof *fresh);
        for (uint32_t i = 0; i < nd->n_trees; i++)
            kv_merkle_init(&fresh[i], 6);
        for (uint32_t i = 0; i < nd->store.cap; i++) {
            kv_store_entry *e = &nd->store.slots[i];
            if (e->key == UINT32_MAX)
                continue;
            uint32_t range = kv_ring_range_of(&k->ring, e->key);
            uint64_t lo, hi;
            kv_ring_range_bounds(&k->ring, range, &lo, &hi);
            uint32_t leaf =
                kv_merkle_leaf_of(&fresh[range], lo, hi, kv_ring_key_pos(&k->ring, e->key));
            kv_merkle_update(&fresh[range], leaf, 0, kv_merkle_digest(e->key, e->ts, e->wid));
        }
        for (uint32_t i = 0; i < nd->n_trees; i++) {
            ck_assert_uint_eq(kv_merkle_count(&nd->trees[i]), kv_merkle_count(&fresh[i]));
            ck_assert_uint_eq(kv_merkle_root(&nd->trees[i]), kv_merkle_root(&fresh[i]));
            kv_merkle_fini(&fresh[i]);
        }
        free(fresh);
    }
    sim_destroy(s);
}

START_TEST(test_kv_merkle_trees_match_their_stores) {
    for (int vclock = 0; vclock < 2; vclock++)
        check_trees(vclock);
}
END_TEST

/* A server fails for good and an empty one replaces it at 10 s.  Anti-
 * entropy alone fills it in the end; streaming whole ranges from the other
 * replicas fills it within a few round trips (the newcomer presumes its
 * peers up, so its failure detector does not hold the streams back). */
START_TEST(test_kv_replacement_bootstraps_by_anti_entropy_or_streaming) {
    double after[2];
    const char *boot[2] = {"anti_entropy", "streaming"};
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"60s\",\"seed\":9,"
                 "\"network\":{\"latency\":\"1ms\"},"
                 "\"faults\":[{\"at\":\"5s\",\"fail\":\"n3\"},{\"at\":\"10s\","
                 "\"replace\":\"n3\"}],"
                 "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"request_timeout\":\"100ms\","
                 "\"bootstrap\":\"%s\",\"failure_detector\":{\"enabled\":true},"
                 "\"anti_entropy\":{\"mode\":\"merkle\",\"interval\":\"200ms\"},"
                 "\"workload\":{\"clients\":2,\"keys\":2000,\"rate_per_s\":400,"
                 "\"read_fraction\":0.2,\"stop\":\"10s\"}}}",
                 boot[i]);
        run r = run_sim(kv_load(text));
        ck_assert_double_gt(num(r.m, "replacement_keys_missing_at_start"), 500);
        ck_assert_double_eq(num(r.m, "replacement_keys_missing_at_end"), 0);
        after[i] = num(r.m, "replacement_complete_after_s");
        run_free(&r);
    }
    /* Streaming: a request and an answer per range, 1 ms each way. */
    ck_assert_double_le(after[1], 0.0025);
    ck_assert_double_gt(after[0], after[1] * 100);
}
END_TEST

/* Vector clocks.  Two clients write one key blind (closed loop, no read
 * needed first): writes that did not see each other become siblings, and a
 * client's next write, whose context holds what it read, merges them.  With
 * R = W = N every read sees every acknowledged write (no stale read); each
 * client has one operation at a time and its own writes descend from one
 * another, so a read holds at most one sibling per client: exactly 2 at
 * most, and 2 is reached. */
START_TEST(test_kv_vclock_concurrent_writes_become_siblings_and_merge) {
    run r = run_sim(kv_load("{\"model\":\"kv\",\"nodes\":3,\"duration\":\"20s\",\"seed\":10,"
                            "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}},"
                            "\"kv\":{\"n\":3,\"r\":3,\"w\":3,\"versioning\":\"vclock\","
                            "\"coordinator\":\"random\","
                            "\"workload\":{\"clients\":2,\"keys\":1,\"mode\":\"closed\","
                            "\"think_time\":\"1ms\",\"read_fraction\":0.5}}}"));
    ck_assert_double_gt(num(r.m, "reads_ok"), 1000);
    ck_assert_double_gt(num(r.m, "reads_with_siblings"), 10);
    ck_assert_double_gt(num(r.m, "writes_merging_siblings"), 10);
    ck_assert_double_eq(num(r.m, "siblings_max"), 2);
    ck_assert_double_eq(num(r.m, "stale_reads"), 0);
    ck_assert_double_eq(num(r.m, "lost_acknowledged_writes"), 0);
    ck_assert_double_eq(num(r.m, "read_your_writes_violations"), 0);
    ck_assert_double_eq(num(r.m, "monotonic_read_violations"), 0);
    ck_assert_double_eq(num(r.m, "vclock_truncations"), 0);
    run_free(&r);
}
END_TEST

/* Many writers of one key: 24 clients (more than the 16 entries a clock
 * kept before), each clock entry kept (at most 64),
 * so no truncation, and a read holds at most one sibling per client. */
START_TEST(test_kv_vclock_many_writers_keep_their_entries) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":3,\"duration\":\"1s\",\"seed\":13,"
                     "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"5ms\"}},"
                     "\"kv\":{\"n\":3,\"r\":1,\"w\":1,\"coordinator\":\"random\","
                     "\"versioning\":\"vclock\",\"workload\":{\"clients\":24,\"keys\":1,"
                     "\"rate_per_s\":2000,\"read_fraction\":0.5}}}");
    sim_run(s);
    kv_shared *k = kv_of(s);
    ck_assert_int_eq(k->vc.truncations, 0);
    ck_assert_int_gt(k->sibling_max, 5);
    ck_assert_int_le(k->sibling_max, 24);
    sim_destroy(s);
}
END_TEST

/* A clock 1 s behind makes last-write-wins drop acknowledged writes; vector
 * clocks, which order writes by what clients saw, lose none (concurrent
 * writes stay as siblings instead). */
START_TEST(test_kv_vclock_clock_skew_loses_nothing) {
    int64_t lost[2];
    for (int i = 0; i < 2; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"10s\",\"seed\":1,"
                 "\"network\":{\"latency\":\"1ms\"},"
                 "\"faults\":[{\"at\":\"0s\",\"clock\":\"n1\",\"offset\":\"-1s\"}],"
                 "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"coordinator\":\"random\","
                 "\"versioning\":\"%s\",\"workload\":{\"clients\":4,\"keys\":50,"
                 "\"rate_per_s\":400,\"read_fraction\":0.5}}}",
                 i ? "vclock" : "lww");
        run r = run_sim(kv_load(text));
        lost[i] = (int64_t)num(r.m, "lost_acknowledged_writes");
        run_free(&r);
    }
    ck_assert_int_gt(lost[0], 100);
    ck_assert_int_eq(lost[1], 0);
}
END_TEST

/* Without faults, a strict quorum (R + W > N) reads deleted keys as
 * deleted whether or not their tombstones are purged yet: "not found" after
 * a purge is the delete itself, neither stale nor a session violation. */
START_TEST(test_kv_purged_deletes_read_as_deleted) {
    for (int vclock = 0; vclock < 2; vclock++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"model\":\"kv\",\"nodes\":3,\"duration\":\"20s\",\"seed\":11,"
                 "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}},"
                 "\"kv\":{\"n\":3,\"r\":2,\"w\":2,\"versioning\":\"%s\","
                 "\"tombstones\":{\"gc_grace\":\"500ms\",\"compaction_interval\":\"100ms\"},"
                 "\"workload\":{\"clients\":1,\"keys\":100,\"rate_per_s\":200,"
                 "\"read_fraction\":0.7,\"delete_fraction\":0.5}}}",
                 vclock ? "vclock" : "lww");
        sim *s = kv_load(text);
        sim_run(s);
        kv_shared *k = kv_of(s);
        ck_assert_int_gt(k->tombstones_purged, 100);
        ck_assert_int_eq(k->oracle.stale, 0);
        ck_assert_int_eq(k->oracle.mr_violations, 0);
        ck_assert_int_eq(k->oracle.ryw_violations, 0);
        ck_assert_int_eq(k->resurrections, 0);
        sim_destroy(s);
    }
}
END_TEST

/* Lost writes by cause.  One replica per key (N = 1) on two volatile
 * servers: n0 is down from 2 s, so writes for its keys go to n1 as hints;
 * n1 crashes at 6 s and its store and hints die with it; n0 is back at 8 s.
 * n0's keys written while it was down are lost with the hints; n1's keys
 * are lost with n1's store. */
START_TEST(test_kv_lost_writes_by_cause) {
    sim *s = kv_load("{\"model\":\"kv\",\"nodes\":2,\"duration\":\"12s\",\"seed\":12,"
                     "\"network\":{\"latency\":\"1ms\"},"
                     "\"faults\":[{\"at\":\"2s\",\"crash\":\"n0\"},{\"at\":\"6s\","
                     "\"crash\":\"n1\"},{\"at\":\"8s\",\"recover\":\"n0\"}],"
                     "\"kv\":{\"n\":1,\"r\":1,\"w\":1,\"quorum\":\"sloppy\","
                     "\"request_timeout\":\"100ms\",\"storage\":{\"durable\":false},"
                     "\"workload\":{\"clients\":1,\"keys\":400,\"rate_per_s\":100,"
                     "\"read_fraction\":0,\"stop\":\"5s\"}}}");
    sim_run(s);
    cJSON *root;
    cJSON *m = report_model(s, &root);
    double by_hints = num(m, "lost_after_hint_loss"), all = num(m, "lost_at_end_no_replica");
    ck_assert_double_gt(num(m, "hints_lost_with_holder"), 20);
    ck_assert_double_gt(by_hints, 20);
    ck_assert_double_gt(all - by_hints, 20);
    ck_assert_double_eq(num(m, "lost_acknowledged_writes"), all);
    cJSON_Delete(root);
    sim_destroy(s);
}
END_TEST

/* Configuration errors name the path. */
START_TEST(test_kv_repair_configuration_errors) {
    ck_assert_str_eq(kv_error("{\"model\":\"kv\",\"nodes\":3,\"kv\":{\"quorum\":\"sloppy\","
                              "\"hinted_handoff\":{\"enabled\":false}}}"),
                     "$.kv.hinted_handoff.enabled: a sloppy quorum needs hinted handoff (a "
                     "stand-in that keeps no hint never hands the write back)");
    ck_assert_str_eq(kv_error("{\"model\":\"kv\",\"nodes\":3,\"kv\":{\"failure_detector\":"
                              "{\"interval\":\"2s\",\"suspicion_timeout\":\"1s\"}}}"),
                     "$.kv.failure_detector.suspicion_timeout: must be longer than interval (a "
                     "peer would be suspected between two heartbeats)");
}
END_TEST

static Suite *kv_repair_suite(void) {
    Suite *su = suite_create("kv_repair");
    TCase *tc = tcase_create("repair");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_kv_hints_delivered_within_one_replay_interval);
    tcase_add_test(tc, test_kv_sloppy_quorum_keeps_writes_available);
    tcase_add_test(tc, test_kv_healed_partition_never_converges_without_repair);
    tcase_add_test(tc, test_kv_read_repair_with_r_n_repairs_more_than_r_1);
    tcase_add_test(tc, test_kv_blocking_read_repair_repairs_before_answering);
    tcase_add_test(tc, test_kv_digest_reads_fetch_the_value_on_mismatch);
    tcase_add_test(tc, test_kv_hints_die_with_a_volatile_holder);
    tcase_add_test(tc, test_kv_tombstones_purged_too_early_resurrect_deleted_keys);
    tcase_add_test(tc, test_kv_anti_entropy_converges_and_merkle_ships_less_than_full);
    tcase_add_test(tc, test_kv_merkle_trees_match_their_stores);
    tcase_add_test(tc, test_kv_replacement_bootstraps_by_anti_entropy_or_streaming);
    tcase_add_test(tc, test_kv_vclock_concurrent_writes_become_siblings_and_merge);
    tcase_add_test(tc, test_kv_vclock_clock_skew_loses_nothing);
    tcase_add_test(tc, test_kv_vclock_many_writers_keep_their_entries);
    tcase_add_test(tc, test_kv_purged_deletes_read_as_deleted);
    tcase_add_test(tc, test_kv_lost_writes_by_cause);
    tcase_add_test(tc, test_kv_repair_configuration_errors);
    suite_add_tcase(su, tc);
    return su;
}

int main(void) { return check_run(kv_repair_suite()); }
