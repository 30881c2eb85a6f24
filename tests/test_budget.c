/*
 * test_budget.c - the resource budget (sim/budget.c): the estimates are
 * the closed forms documented there, a scenario over a limit is refused at
 * load naming its key and the flag, exactly at the limit it loads, and the
 * command-line values parse as documented.
 */
#include "check_util.h"
#include "registry.h"
#include "report_util.h"
#include "scenario.h"

#include <math.h>
#include <string.h>

/* Loads text with the real models and budget b; returns the sim or NULL
 * with the message in err. */
static sim *load_with(const char *text, const sim_budget *b, char *err, size_t n) {
    const char *path = temp_scenario(text);
    sim_load_opts o = {.file = path, .models = sim_models, .budget = b};
    cJSON *resolved = NULL;
    err[0] = '\0';
    sim *s = sim_load(&o, &resolved, err, n);
    cJSON_Delete(resolved);
    unlink(path);
    return s;
}

static const char *const phold_10s =
    "{\"model\":\"phold\",\"duration\":\"10s\",\"phold\":{\"lps\":4},"
    "\"network\":{\"latency\":\"1ms\"},\"metrics\":{\"interval\":\"1s\"}}";

START_TEST(test_budget_cells_are_rows_times_columns_exactly) {
    char err[2048];
    sim *s = load_with(phold_10s, NULL, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    sim_estimate e;
    sim_estimate_run(s, &e);
    /* 10 s at 1 s: samples at 0, 1, ..., 10. */
    ck_assert(e.rows == 11);
    ck_assert(e.cols >= 1);
    ck_assert(e.cells == e.rows * e.cols);
    /* phold: lps x events_per_lp x duration / (lookahead + mean). */
    ck_assert_double_eq_tol(e.events, 4 * 1 * 10.0 / 1.1, 1e-9);
    double cells = e.cells;
    sim_destroy(s);

    /* At the limit it loads; one cell under, it is refused. */
    sim_budget at = {.max_cells = cells};
    s = load_with(phold_10s, &at, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    sim_destroy(s);
    sim_budget under = {.max_cells = cells - 1};
    s = load_with(phold_10s, &under, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "$.metrics.interval: 1s over 10s gives 11 samples") != NULL, "%s",
                  err);
    ck_assert_msg(strstr(err, "--max-output") != NULL, "%s", err);
}
END_TEST

START_TEST(test_budget_refuses_work_and_memory_naming_the_key) {
    char err[2048];
    const char *fast = "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"1s\","
                       "\"kv\":{\"workload\":{\"rate_per_s\":1e8}}}";
    sim *s = load_with(fast, NULL, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "$.kv.workload.rate_per_s: ") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "about 1 billion events") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "--max-work") != NULL, "%s", err);
    /* Off: it loads (and is not run here). */
    sim_budget off = {.max_events = -1};
    s = load_with(fast, &off, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    sim_estimate e;
    sim_estimate_run(s, &e);
    /* 1e8 ops/s x 1 s x (2N + 4) with N = 3. */
    ck_assert_double_eq_tol(e.events, 1e9, 1);
    sim_destroy(s);

    const char *keys = "{\"model\":\"kv\",\"nodes\":5,\"duration\":\"1s\","
                       "\"kv\":{\"workload\":{\"keys\":100000000}}}";
    sim_largest_alloc(true);
    s = load_with(keys, NULL, err, sizeof err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err, "$.kv.workload.keys: 100000000 keys on 3 replicas") != NULL, "%s",
                  err);
    /* Refused before the per-key tables exist (sim_model.prepare runs only
     * after the budget): nothing near the 1e8-key oracle was allocated, even
     * lazily (an address-sanitized or no-overcommit process would fail). */
    ck_assert_uint_lt(sim_largest_alloc(true), 64u << 20);
    ck_assert_msg(strstr(err, "--max-memory") != NULL, "%s", err);
    sim_budget big = {.max_bytes = 16.0 * 1073741824.0};
    s = load_with(keys, &big, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    sim_destroy(s);
}
END_TEST

START_TEST(test_budget_flags_parse_as_documented) {
    double v;
    ck_assert_int_eq(sim_budget_parse("off", false, &v), 0);
    ck_assert(v < 0);
    ck_assert_int_eq(sim_budget_parse("5e7", false, &v), 0);
    ck_assert(v == 5e7);
    ck_assert_int_eq(sim_budget_parse("4GiB", true, &v), 0);
    ck_assert(v == 4294967296.0);
    ck_assert_int_eq(sim_budget_parse("500MB", true, &v), 0);
    ck_assert(v == 5e8);
    ck_assert_int_eq(sim_budget_parse("2e9", true, &v), 0);
    ck_assert(v == 2e9);
    const char *bad[] = {"", "0", "-5", "0.5", "nan", "inf", "1e19", "2XB", "4GiB", "12 ", "1e9x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool bytes = strcmp(bad[i], "4GiB") != 0; /* units only for bytes */
        ck_assert_msg(sim_budget_parse(bad[i], bytes ? (strcmp(bad[i], "2XB") == 0) : false, &v) <
                          0,
                      "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(test_budget_numbers_for_people) {
    char b[64];
    ck_assert_str_eq(sim_human_count(52000, b, sizeof b), "52,000");
    ck_assert_str_eq(sim_human_count(1005, b, sizeof b), "1005");
    ck_assert_str_eq(sim_human_count(3.4e6, b, sizeof b), "3.4 million");
    ck_assert_str_eq(sim_human_count(1.2e10, b, sizeof b), "12 billion");
    ck_assert_str_eq(sim_human_count(INFINITY, b, sizeof b), "an unbounded number");
    ck_assert_str_eq(sim_human_bytes(1536, b, sizeof b), "1.5 KiB");
    ck_assert_str_eq(sim_human_bytes(1073741824.0, b, sizeof b), "1 GiB");
    ck_assert_str_eq(sim_human_bytes(100, b, sizeof b), "100 bytes");
}
END_TEST

static Suite *budget_suite(void) {
    Suite *s = suite_create("budget");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_budget_cells_are_rows_times_columns_exactly);
    tcase_add_test(tc, test_budget_refuses_work_and_memory_naming_the_key);
    tcase_add_test(tc, test_budget_flags_parse_as_documented);
    tcase_add_test(tc, test_budget_numbers_for_people);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(budget_suite()); }
