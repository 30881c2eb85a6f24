/*
 * test_sweep.c - the value lists of --vary, the --where language, and the
 * statistics of points.csv (cli/sweep_parse.c, cli/sweep.c).  The command
 * as a whole is tested by tests/test_sweep.py.
 */
#include "check_util.h"
#include "sim.h"
#include "sweep.h"
#include "sweep_parse.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[1024];

/* Parses arg and checks the value texts, given as one comma-joined string. */
static void expect_values(const char *arg, const char *joined) {
    sweep_param p;
    err[0] = '\0';
    ck_assert_msg(sweep_param_parse(arg, 1000, &p, err, sizeof err) == 0, "%s: %s", arg, err);
    char buf[2048] = "";
    for (size_t i = 0; i < p.n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, p.values[i].text);
    }
    ck_assert_str_eq(buf, joined);
    sweep_param_fini(&p);
}

static void expect_param_error(const char *arg, const char *words) {
    sweep_param p;
    err[0] = '\0';
    ck_assert_msg(sweep_param_parse(arg, 1000, &p, err, sizeof err) < 0, "%s parsed", arg);
    ck_assert_msg(strstr(err, words) != NULL, "%s: message \"%s\" lacks \"%s\"", arg, err, words);
    sweep_param_fini(&p);
}

START_TEST(test_vary_lists_and_ranges) {
    expect_values("kv.r=1,2,3", "1,2,3");
    expect_values("kv.r=1..3", "1,2,3");
    expect_values("kv.r=1..9:4", "1,5,9");
    expect_values("kv.r=1..10:4", "1,5,9");
    expect_values("kv.r=-2..0", "-2,-1,0");
    expect_values("kv.r=1,3..4,7", "1,3,4,7");
    expect_values("network.loss=0.1..0.3:0.1", "0.1,0.2,0.3");
    expect_values("network.loss=0..1:0.25", "0,0.25,0.5,0.75,1");
    expect_values("kv.request_timeout=10ms..50ms:20ms", "10ms,30ms,50ms");
    expect_values("kv.request_timeout=500us..2ms:500us", "500us,1ms,1.5ms,2ms");
    expect_values("kv.coordinator=random,first", "random,first");
    expect_values("network.latency=[\"1ms\", {\"type\":\"exponential\",\"mean\":\"2ms\"}]",
                  "1ms,{\"type\":\"exponential\",\"mean\":\"2ms\"}");
}
END_TEST

START_TEST(test_vary_numbers_for_where) {
    sweep_param p;
    ck_assert_int_eq(sweep_param_parse("x=2,0.5,10ms,true,rumor", 10, &p, err, sizeof err), 0);
    ck_assert(p.values[0].num == 2);
    ck_assert(p.values[1].num == 0.5);
    ck_assert(fabs(p.values[2].num - 0.01) < 1e-15);
    ck_assert(p.values[3].num == 1);
    ck_assert(isnan(p.values[4].num));
    sweep_param_fini(&p);
}
END_TEST

START_TEST(test_vary_bad_input_names_the_problem) {
    expect_param_error("kv.r", "expected PATH=VALUES");
    expect_param_error("=1,2", "not a scenario path");
    expect_param_error("kv.r=", "no values");
    expect_param_error("kv.r=1,,2", "empty value");
    expect_param_error("kv.r=3..1", "is empty");
    expect_param_error("kv.r=1..3:0", "step must be positive");
    expect_param_error("kv.r=1..3:-1", "step must be positive");
    expect_param_error("x=0.1..0.5", "needs a step");
    expect_param_error("x=0.1..0.5:0", "step must be positive");
    expect_param_error("x=1ms..5ms", "needs a step");
    expect_param_error("x=1ms..5ms:0ms", "step must be positive");
    expect_param_error("x=1ms..5ms:2", "not a duration");
    expect_param_error("x=a..b", "expected two integers");
    expect_param_error("x=1..", "needs a start and an end");
    expect_param_error("x=1..1000000", "more than 1000 values");
    expect_param_error("x=[]", "the list is empty");
    expect_param_error("x=[1,", "not a JSON list");
}
END_TEST

/* Evaluates text with r, w varied and kv.n set. */
static double eval_with(const char *text, const char *r, const char *w) {
    sweep_name names[] = {{"kv.r", r}, {"kv.w", w}, {"kv.n", "3"}, {"kv.request_timeout", "200ms"}};
    sweep_expr *e = sweep_expr_parse(text, names, 4, NULL, NULL, err, sizeof err);
    ck_assert_msg(e != NULL, "%s: %s", text, err);
    double v = NAN;
    ck_assert_msg(sweep_expr_eval(e, &v, err, sizeof err) == 0, "%s: %s", text, err);
    sweep_expr_free(e);
    return v;
}

START_TEST(test_where_arithmetic_and_logic) {
    ck_assert(eval_with("r + w <= n", "1", "2") == 1);
    ck_assert(eval_with("r + w <= n", "2", "2") == 0);
    ck_assert(eval_with("r + w > n", "2", "2") == 1);
    ck_assert(eval_with("kv.r + kv.w > kv.n", "2", "2") == 1);
    ck_assert(eval_with("1 + 2 * 3", "1", "1") == 7);
    ck_assert(eval_with("(1 + 2) * 3", "1", "1") == 9);
    ck_assert(eval_with("-r - -w", "1", "3") == 2);
    ck_assert(eval_with("7 % 4 / 2", "1", "1") == 1.5);
    ck_assert(eval_with("r == 1 and w == 2", "1", "2") == 1);
    ck_assert(eval_with("r == 1 && w == 3", "1", "2") == 0);
    ck_assert(eval_with("r == 2 or w == 2", "1", "2") == 1);
    ck_assert(eval_with("r == 2 || w != 2", "1", "2") == 0);
    ck_assert(eval_with("not r == 2", "1", "2") == 1);
    ck_assert(eval_with("!(r < w)", "1", "2") == 0);
    /* and binds tighter than or */
    ck_assert(eval_with("r == 1 or r == 2 and w == 9", "1", "2") == 1);
    ck_assert(eval_with("(r == 1 or r == 2) and w == 9", "1", "2") == 0);
    /* durations are seconds; numbers may carry exponents */
    ck_assert(eval_with("request_timeout == 0.2", "1", "1") == 1);
    ck_assert(eval_with("request_timeout < 250ms", "1", "1") == 1);
    ck_assert(eval_with("2e3 > 1999.5 and 1.5e-1 == 0.15", "1", "1") == 1);
    /* and/or short-circuit: no division by zero on the right */
    ck_assert(eval_with("w == 0 or n / w >= 1", "1", "0") == 1);
}
END_TEST

static void expect_where_error(const char *text, const char *words) {
    sweep_name names[] = {{"kv.r", "1"}, {"gossip.r", "2"}, {"kv.mode", "fast"}};
    err[0] = '\0';
    sweep_expr *e = sweep_expr_parse(text, names, 3, NULL, NULL, err, sizeof err);
    if (e) {
        double v;
        int rc = sweep_expr_eval(e, &v, err, sizeof err);
        sweep_expr_free(e);
        ck_assert_msg(rc < 0, "%s evaluated", text);
    }
    ck_assert_msg(strstr(err, words) != NULL, "%s: message \"%s\" lacks \"%s\"", text, err, words);
}

START_TEST(test_where_bad_input_names_the_problem) {
    expect_where_error("", "empty");
    expect_where_error("kv.r +", "unexpected end");
    expect_where_error("kv.r = 1", "write '=='");
    expect_where_error("(kv.r", "expected ')'");
    expect_where_error("kv.r 1", "after a complete expression");
    expect_where_error("x > 1", "unknown name \"x\"");
    expect_where_error("r > 1", "ambiguous");
    expect_where_error("kv.r > 1s1", "not a number or a duration");
    expect_where_error("kv.r # 2", "unexpected '#'");
    expect_where_error("kv.mode > 1", "not a number");
    expect_where_error("kv.r / 0", "division by zero");
}
END_TEST

/* Nesting and length are bounded: 40,000 parentheses overflowed the stack
 * (issue 15); 64 levels parse, 65 do not, and a long flat chain is refused
 * by its length before it makes a deep tree. */
START_TEST(test_where_depth_is_bounded) {
    char *text = sim_malloc(100000);
    const char *wrap[][2] = {{"(", ")"}, {"-", ""}, {"not ", ""}};
    for (size_t w = 0; w < 3; w++)
        for (int depth = 64; depth <= 65; depth++) {
            size_t k = 0;
            for (int i = 0; i < depth; i++)
                k += (size_t)sprintf(text + k, "%s", wrap[w][0]);
            k += (size_t)sprintf(text + k, "kv.r");
            for (int i = 0; i < depth; i++)
                k += (size_t)sprintf(text + k, "%s", wrap[w][1]);
            if (depth == 64) {
                sweep_name names[] = {{"kv.r", "2"}};
                sweep_expr *e = sweep_expr_parse(text, names, 1, NULL, NULL, err, sizeof err);
                ck_assert_msg(e != NULL, "%s", err);
                sweep_expr_free(e);
            } else {
                expect_where_error(text, "nested more than 64 levels deep");
            }
        }
    memset(text, '(', 40000);
    strcpy(text + 40000, "1");
    expect_where_error(text, "at most 4096");
    size_t k = 0;
    while (k < 60000)
        k += (size_t)sprintf(text + k, "1+");
    strcpy(text + k, "1");
    expect_where_error(text, "at most 4096");
    sim_free(text);
}
END_TEST

static const char *lookup(void *arg, const char *path, char *buf, size_t n) {
    (void)arg;
    if (strcmp(path, "kv.n") == 0)
        return strncpy(buf, "3", n);
    if (strcmp(path, "name") == 0)
        return strncpy(buf, "demo", n);
    return NULL;
}

START_TEST(test_where_reads_the_base_scenario) {
    sweep_name names[] = {{"kv.r", "2"}};
    sweep_expr *e = sweep_expr_parse("r < kv.n", names, 1, lookup, NULL, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    double v;
    ck_assert_int_eq(sweep_expr_eval(e, &v, err, sizeof err), 0);
    ck_assert(v == 1);
    sweep_expr_free(e);
    e = sweep_expr_parse("name > 1", names, 1, lookup, NULL, err, sizeof err);
    ck_assert(e == NULL);
    ck_assert_msg(strstr(err, "not a number") != NULL, "%s", err);
}
END_TEST

START_TEST(test_t_quantiles) {
    ck_assert(fabs(sweep_t975(1) - 12.706205) < 1e-6);
    ck_assert(fabs(sweep_t975(19) - 2.093024) < 1e-6);
    ck_assert(fabs(sweep_t975(30) - 2.042272) < 1e-6);
    /* beyond the table: the expansion (exact values from numerical integration) */
    ck_assert(fabs(sweep_t975(31) - 2.039513) < 2e-6);
    ck_assert(fabs(sweep_t975(40) - 2.021075) < 2e-6);
    ck_assert(fabs(sweep_t975(100) - 1.983972) < 2e-6);
    ck_assert(fabs(sweep_t975(1000) - 1.962339) < 2e-6);
    ck_assert(isnan(sweep_t975(0)));
}
END_TEST

START_TEST(test_numbers_round_trip) {
    char buf[64];
    sweep_fmt_num(0.1, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.1");
    sweep_fmt_num(6062, buf, sizeof buf);
    ck_assert_str_eq(buf, "6062");
    sweep_fmt_num(0.13281636693614915, buf, sizeof buf);
    ck_assert(strtod(buf, NULL) == 0.13281636693614915);
    sweep_fmt_num(NAN, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_vary_lists_and_ranges);
    tcase_add_test(tc, test_vary_numbers_for_where);
    tcase_add_test(tc, test_vary_bad_input_names_the_problem);
    tcase_add_test(tc, test_where_arithmetic_and_logic);
    tcase_add_test(tc, test_where_bad_input_names_the_problem);
    tcase_add_test(tc, test_where_depth_is_bounded);
    tcase_add_test(tc, test_where_reads_the_base_scenario);
    tcase_add_test(tc, test_t_quantiles);
    tcase_add_test(tc, test_numbers_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(suite()); }
