/*
 * test_scenario.c - the scenario loader and the typed config reader:
 * defaults in the resolved scenario, --set overrides typed by the schema,
 * distributions, node names and groups, fault order, the first error, and
 * sim_cfg_given.
 * (Bad input has its golden cases in tests/scenarios/invalid/.)
 */
#include "check_util.h"
#include "engine_probe.h"

#include <math.h>
#include <string.h>

static cJSON *resolve(const char *text, const char **sets, int n_sets, sim **out) {
    const char *path = temp_scenario(text);
    sim_load_opts o = {.file = path, .sets = sets, .n_sets = n_sets, .models = probe_models};
    cJSON *resolved = NULL;
    char err[2048] = "";
    sim *s = sim_load(&o, &resolved, err, sizeof err);
    unlink(path);
    ck_assert_msg(s != NULL, "%s", err);
    if (out)
        *out = s;
    else
        sim_destroy(s);
    return resolved;
}

static const char *load_error(const char *text, const char **sets, int n_sets) {
    static char err[2048];
    err[0] = '\0';
    sim *s = load_text_opts(text, probe_models, sets, n_sets, err, sizeof err);
    ck_assert_ptr_null(s);
    /* Strip "error: <temp file>: " so tests compare the path and message. */
    char *p = strstr(err, ": $");
    return p ? p + 2 : err;
}

static const char *get_str(cJSON *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    ck_assert_msg(cur != NULL, "missing %s", path);
    if (cJSON_IsString(cur))
        return cur->valuestring;
    static char num[1024];
    char *text = cJSON_PrintUnformatted(cur);
    snprintf(num, sizeof num, "%s", text);
    cJSON_free(text);
    return num;
}

START_TEST(test_scenario_resolved_output_fills_defaults) {
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":3}", NULL, 0, NULL);
    ck_assert_str_eq(get_str(r, "model"), "probe");
    ck_assert_str_eq(get_str(r, "seed"), "1");
    ck_assert_str_eq(get_str(r, "duration"), "1m");
    ck_assert_str_eq(get_str(r, "metrics.interval"), "1s");
    ck_assert_str_eq(get_str(r, "network.latency.type"), "constant");
    ck_assert_str_eq(get_str(r, "network.latency.value"), "1ms");
    ck_assert_str_eq(get_str(r, "network.loss"), "0");
    ck_assert_str_eq(get_str(r, "probe.knob"), "0");
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_scenario_set_is_typed_by_the_schema) {
    const char *sets[] = {"probe.knob=42", "duration=2.5s", "network.loss=0.25",
                          "network.latency.mean=3ms", "seed=99"};
    sim *s;
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":3,"
                       "\"network\":{\"latency\":{\"type\":\"exponential\",\"mean\":\"1ms\"}}}",
                       sets, 5, &s);
    ck_assert_int_eq(probe_of(s)->knob, 42);
    ck_assert_int_eq(s->duration, 2500 * SIM_MS);
    ck_assert_double_eq(s->default_loss, 0.25);
    ck_assert_int_eq(s->default_latency.kind, SIM_DIST_EXPONENTIAL);
    ck_assert_double_eq(s->default_latency.a, 3e6);
    ck_assert_uint_eq(s->seed, 99);
    ck_assert_str_eq(get_str(r, "probe.knob"), "42");
    ck_assert_str_eq(get_str(r, "duration"), "2.5s");
    sim_destroy(s);
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_scenario_set_reaches_list_elements_and_whole_values) {
    const char *sets[] = {"faults[1].at=7s", "network.latency={\"type\":\"uniform\","
                                             "\"min\":\"1ms\",\"max\":\"2ms\"}"};
    sim *s;
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":3,\"duration\":\"10s\",\"faults\":["
                       "{\"at\":\"1s\",\"crash\":\"n1\"},{\"at\":\"2s\",\"recover\":\"n1\"}]}",
                       sets, 2, &s);
    ck_assert_int_eq(s->faults[1].at, 7 * SIM_S);
    ck_assert_int_eq(s->default_latency.kind, SIM_DIST_UNIFORM);
    sim_destroy(s);
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_scenario_set_errors_name_the_path) {
    const char *bad_num[] = {"probe.knob=many"};
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":3}", bad_num, 1),
                     "$.probe.knob: \"many\" is not a number (expected an integer from -1000 to "
                     "1000)");
    const char *bad_range[] = {"probe.knob=1001"};
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":3}", bad_range, 1),
                     "$.probe.knob: 1001 is out of range (allowed: an integer from -1000 to 1000)");
    const char *unknown[] = {"probe.knbo=1"};
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":3}", unknown, 1),
                     "$.probe.knbo: unknown key; did you mean \"knob\"?");
}
END_TEST

START_TEST(test_scenario_mixture_and_empirical_distributions) {
    sim *s;
    cJSON *r = resolve(
        "{\"model\":\"probe\",\"nodes\":2,\"network\":{\"latency\":{\"type\":\"mixture\","
        "\"components\":[{\"weight\":91.22,\"type\":\"pareto\",\"xm\":\"0.235ms\",\"alpha\":10},"
        "{\"weight\":8.78,\"type\":\"exponential\",\"mean\":\"0.602ms\"}]},"
        "\"links\":[{\"from\":\"n0\",\"to\":\"n1\",\"latency\":{\"type\":\"empirical\","
        "\"samples\":[\"3ms\",\"1ms\",\"2ms\"],\"offset\":\"1us\"}}]}}",
        NULL, 0, &s);
    const sim_dist *m = &s->default_latency;
    ck_assert_int_eq(m->kind, SIM_DIST_MIXTURE);
    ck_assert_uint_eq(m->n, 2);
    ck_assert_double_eq_tol(m->ps[0], 0.9122, 1e-12);
    ck_assert_double_eq(m->ps[1], 1.0);
    ck_assert_int_eq(m->parts[0].kind, SIM_DIST_PARETO);
    ck_assert_double_eq(m->parts[0].a, 235000);
    ck_assert_double_eq(m->parts[0].b, 10);
    /* Mean: 0.9122 * 235000 * 10/9 + 0.0878 * 602000. */
    ck_assert_double_eq_tol(sim_dist_mean(m), 0.9122 * 235000 * 10.0 / 9 + 0.0878 * 602000, 1e-6);
    const sim_dist *e = &s->rules[0].latency;
    ck_assert_int_eq(e->kind, SIM_DIST_EMPIRICAL);
    ck_assert_double_eq(e->xs[0], 1e6); /* sorted */
    ck_assert_double_eq(e->xs[2], 3e6);
    ck_assert_double_eq(e->offset, 1000);
    ck_assert_str_eq(get_str(r, "network.latency.components"),
                     "[{\"weight\":91.22,\"type\":\"pareto\",\"xm\":\"235us\",\"alpha\":10},"
                     "{\"weight\":8.78,\"type\":\"exponential\",\"mean\":\"602us\"}]");
    sim_destroy(s);
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_scenario_groups_name_nodes) {
    sim *s;
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":[{\"group\":\"server\",\"count\":3},"
                       "{\"group\":\"client\",\"count\":2}],"
                       "\"faults\":[{\"at\":\"2s\",\"crash\":[\"client\",\"server1\"]},"
                       "{\"at\":\"1s\",\"crash\":\"server0\"},{\"at\":\"1s\",\"heal\":true}]}",
                       NULL, 0, &s);
    ck_assert_uint_eq(sim_node_count(s), 5);
    ck_assert_str_eq(sim_node_name(s, 0), "server0");
    ck_assert_str_eq(sim_node_name(s, 4), "client1");
    ck_assert_int_eq(sim_group_find(s, "client"), 1);
    ck_assert_uint_eq(sim_group_first(s, 1), 3);
    /* Faults sorted by time, stable among equal times. */
    ck_assert_int_eq(s->faults[0].kind, SIM_FAULT_CRASH);
    ck_assert_uint_eq(s->faults[0].nodes[0], 0);
    ck_assert_int_eq(s->faults[1].kind, SIM_FAULT_HEAL);
    ck_assert_uint_eq(s->faults[2].n_nodes, 3);
    ck_assert_uint_eq(s->faults[2].nodes[0], 1);
    ck_assert_uint_eq(s->faults[2].nodes[2], 4);
    sim_destroy(s);
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_scenario_reports_the_first_error_only) {
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":3,\"duration\":\"-1s\","
                                "\"network\":{\"loss\":7}}",
                                NULL, 0),
                     "$.duration: \"-1s\" must not be negative (a duration is a number and a "
                     "unit: ns, us, ms, s, m, h)");
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":3,\"duraton\":\"1s\"}", NULL, 0),
                     "$.duraton: unknown key; did you mean \"duration\"?");
}
END_TEST

START_TEST(test_scenario_validated_output_loads_again) {
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":[{\"group\":\"a\",\"count\":2}],"
                       "\"network\":{\"latency\":{\"type\":\"normal\",\"mean\":\"5ms\","
                       "\"stddev\":\"1ms\"},\"links\":[{\"from\":\"a0\",\"loss\":0.5}]},"
                       "\"faults\":[{\"at\":\"1s\",\"clock\":\"a1\",\"offset\":\"-5ms\"}],"
                       "\"random_faults\":{\"partition\":{}}}",
                       NULL, 0, NULL);
    char *text = cJSON_PrintUnformatted(r);
    cJSON *again = resolve(text, NULL, 0, NULL);
    char *text2 = cJSON_PrintUnformatted(again);
    ck_assert_str_eq(text, text2);
    cJSON_free(text);
    cJSON_free(text2);
    cJSON_Delete(r);
    cJSON_Delete(again);
}
END_TEST

/* sim_cfg_given: whether the current object has a key, from the file or
 * a --set, whatever its value.  It reads nothing: a key only asked about
 * stays unknown, and a key given is still read (and resolved) as usual. */
START_TEST(test_scenario_given_asks_without_reading) {
    sim *s;
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":1}", NULL, 0, &s);
    ck_assert(!probe_of(s)->knob_given);
    ck_assert(!probe_of(s)->spare_given);
    ck_assert_str_eq(get_str(r, "probe.knob"), "0");
    sim_destroy(s);
    cJSON_Delete(r);

    r = resolve("{\"model\":\"probe\",\"nodes\":1,\"probe\":{\"knob\":0}}", NULL, 0, &s);
    ck_assert(probe_of(s)->knob_given); /* given, even at the default */
    ck_assert(!probe_of(s)->spare_given);
    sim_destroy(s);
    cJSON_Delete(r);

    const char *sets[] = {"probe.knob=7"};
    r = resolve("{\"model\":\"probe\",\"nodes\":1}", sets, 1, &s);
    ck_assert(probe_of(s)->knob_given);
    ck_assert_int_eq(probe_of(s)->knob, 7);
    ck_assert_str_eq(get_str(r, "probe.knob"), "7");
    sim_destroy(s);
    cJSON_Delete(r);

    /* Asked about, never read: still an unknown key, from the file or a
     * --set alike. */
    ck_assert_str_eq(
        load_error("{\"model\":\"probe\",\"nodes\":1,\"probe\":{\"spare\":1}}", NULL, 0),
        "$.probe.spare: unknown key (allowed here: knob)");
    const char *spare[] = {"probe.spare=1"};
    ck_assert_str_eq(load_error("{\"model\":\"probe\",\"nodes\":1}", spare, 1),
                     "$.probe.spare: unknown key (allowed here: knob)");
}
END_TEST

/* Objects and lists given to --set as JSON are taken whole; a count for
 * "nodes" is typed like any number. */
START_TEST(test_scenario_set_takes_lists_and_counts) {
    const char *sets[] = {"nodes=4", "faults=[{\"at\":\"1s\",\"crash\":[\"n1\",\"n3\"]}]",
                          "network={\"loss\":0.5}", "network.duplicate=0.25"};
    sim *s;
    cJSON *r = resolve("{\"model\":\"probe\",\"nodes\":2}", sets, 4, &s);
    ck_assert_uint_eq(sim_node_count(s), 4);
    ck_assert_uint_eq(s->n_faults, 1);
    ck_assert_uint_eq(s->faults[0].n_nodes, 2);
    ck_assert_uint_eq(s->faults[0].nodes[1], 3);
    ck_assert_double_eq(s->default_loss, 0.5);
    ck_assert_double_eq(s->default_duplicate, 0.25);
    sim_destroy(s);
    cJSON_Delete(r);
}
END_TEST

/* The default name comes from the file name, made into a valid name. */
START_TEST(test_scenario_default_name_from_any_file_name) {
    const char *path = "/tmp/dsim test .run #1.json";
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"model\":\"probe\",\"nodes\":1}", f);
    fclose(f);
    sim_load_opts o = {.file = path, .models = probe_models};
    cJSON *resolved = NULL;
    char err[2048] = "";
    sim *s = sim_load(&o, &resolved, err, sizeof err);
    unlink(path);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(s->name, "dsim-test-.run--1");
    sim_destroy(s);
    cJSON_Delete(resolved);
}
END_TEST

START_TEST(test_escape_keeps_messages_one_line) {
    char out[128];
    const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"a\nb\tc\rd", "a\\nb\\tc\\rd"},
        {"bad\nkey\x1b[31mRED", "bad\\nkey\\u001b[31mRED"},
        {"\x01\x1f\x7f", "\\u0001\\u001f\\u007f"},
        {"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"},
        {"x\xffy", "x\\xffy"},
        {"\xc0\xaf", "\\xc0\\xaf"},                   /* overlong '/' */
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"},          /* a surrogate */
        {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
        {"\xe2\x82", "\\xe2\\x82"},                   /* cut short */
        {"back\\slash \"q\"", "back\\slash \"q\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = sim_escape(out, sizeof out, cases[i].in);
        ck_assert_str_eq(out, cases[i].out);
        ck_assert_uint_eq(n, strlen(cases[i].out));
    }
    /* Cut to fit, never in the middle of an escape or a character. */
    char small[6];
    sim_escape(small, sizeof small, "ab\ncd");
    ck_assert_str_eq(small, "ab\\nc");
    sim_escape(small, sizeof small, "abc\x1b");
    ck_assert_str_eq(small, "abc");
    sim_escape(small, sizeof small, "abcd\xc3\xa9");
    ck_assert_str_eq(small, "abcd");
}
END_TEST

static Suite *scenario_suite(void) {
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scenario_resolved_output_fills_defaults);
    tcase_add_test(tc, test_escape_keeps_messages_one_line);
    tcase_add_test(tc, test_scenario_set_is_typed_by_the_schema);
    tcase_add_test(tc, test_scenario_set_reaches_list_elements_and_whole_values);
    tcase_add_test(tc, test_scenario_set_errors_name_the_path);
    tcase_add_test(tc, test_scenario_mixture_and_empirical_distributions);
    tcase_add_test(tc, test_scenario_groups_name_nodes);
    tcase_add_test(tc, test_scenario_reports_the_first_error_only);
    tcase_add_test(tc, test_scenario_validated_output_loads_again);
    tcase_add_test(tc, test_scenario_set_takes_lists_and_counts);
    tcase_add_test(tc, test_scenario_given_asks_without_reading);
    tcase_add_test(tc, test_scenario_default_name_from_any_file_name);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(scenario_suite()); }
