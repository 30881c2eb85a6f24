/*
 * test_time.c - parsing and formatting durations.
 */
#include "check_util.h"
#include "sim.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static sim_time parse_ok(const char *text) {
    sim_time t = -1;
    const char *why = NULL;
    ck_assert_msg(sim_time_parse(text, &t, &why) == 0, "%s: %s", text, why ? why : "");
    return t;
}

static const char *parse_err(const char *text) {
    sim_time t = 12345;
    const char *why = NULL;
    ck_assert_int_eq(sim_time_parse(text, &t, &why), -1);
    ck_assert_int_eq(t, 12345); /* untouched on failure */
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(test_parse_every_unit) {
    ck_assert_int_eq(parse_ok("250ns"), 250);
    ck_assert_int_eq(parse_ok("250us"), 250000);
    ck_assert_int_eq(parse_ok("10ms"), 10000000);
    ck_assert_int_eq(parse_ok("2s"), 2000000000);
    ck_assert_int_eq(parse_ok("2m"), 120000000000);
    ck_assert_int_eq(parse_ok("1h"), 3600000000000);
    ck_assert_int_eq(parse_ok("0s"), 0);
}
END_TEST

START_TEST(test_parse_fractions_exactly) {
    ck_assert_int_eq(parse_ok("1.5s"), 1500000000);
    ck_assert_int_eq(parse_ok("0.1s"), 100000000);
    ck_assert_int_eq(parse_ok("1.5m"), 90000000000);
    ck_assert_int_eq(parse_ok("0.235ms"), 235000);
    ck_assert_int_eq(parse_ok(".5us"), 500);
    ck_assert_int_eq(parse_ok("3.ms"), 3000000);
    ck_assert_int_eq(parse_ok("1.000000001s"), 1000000001);
    ck_assert_int_eq(parse_ok("2.00ns"), 2); /* zeros below 1 ns are fine */
    ck_assert_str_eq(parse_err("2.50ns"), "is finer than one nanosecond");
}
END_TEST

START_TEST(test_parse_rejects_bad_text) {
    ck_assert_str_eq(parse_err("-5ms"), "must not be negative");
    ck_assert_str_eq(parse_err("10"), "needs a unit");
    ck_assert_str_eq(parse_err("10 ms"), "must not have a space before the unit");
    ck_assert_str_eq(parse_err("10xs"), "has an unknown unit");
    ck_assert_str_eq(parse_err("1e3ms"), "must not use an exponent");
    ck_assert_str_eq(parse_err("10 parsecs"), "has an unknown unit");
    ck_assert_str_eq(parse_err("5e"), "has an unknown unit");
    ck_assert_str_eq(parse_err("ms"), "must be a number with a unit");
    ck_assert_str_eq(parse_err("nan"), "must be a number with a unit");
    ck_assert_str_eq(parse_err("inf"), "must be a number with a unit");
    ck_assert_str_eq(parse_err(""), "must be a number with a unit");
    ck_assert_str_eq(parse_err(".s"), "must be a number with a unit");
    ck_assert_str_eq(parse_err("0.5ns"), "is finer than one nanosecond");
    ck_assert_str_eq(parse_err("1.0000000001s"), "is finer than one nanosecond");
}
END_TEST

START_TEST(test_parse_rejects_overflow) {
    /* INT64_MAX ns is about 9223372036.85 s = 2562047.8 h. */
    ck_assert_int_eq(parse_ok("9223372036854775807ns"), INT64_MAX);
    ck_assert_str_eq(parse_err("9223372036854775808ns"), "is too large");
    ck_assert_str_eq(parse_err("2562048h"), "is too large");
    ck_assert_str_eq(parse_err("99999999999999999999999s"), "is too large");
    ck_assert_str_eq(parse_err("9223372036.854775808s"), "is too large");
}
END_TEST

static const char *fmt(sim_time t) {
    static char buf[64];
    return sim_time_format(t, buf, sizeof buf);
}

START_TEST(test_format_uses_largest_exact_unit) {
    ck_assert_str_eq(fmt(0), "0s");
    ck_assert_str_eq(fmt(250), "250ns");
    ck_assert_str_eq(fmt(1500), "1.5us");
    ck_assert_str_eq(fmt(1500000), "1.5ms");
    ck_assert_str_eq(fmt(235000), "235us");
    ck_assert_str_eq(fmt(1234567), "1234.567us");
    ck_assert_str_eq(fmt(2 * SIM_S), "2s");
    ck_assert_str_eq(fmt(90 * SIM_S), "90s");
    ck_assert_str_eq(fmt(120 * SIM_S), "2m");
    ck_assert_str_eq(fmt(3600 * SIM_S), "1h");
    ck_assert_str_eq(fmt(-5 * SIM_MS), "-5ms");
}
END_TEST

/* Formatting then parsing gives the same value, for values of every scale. */
START_TEST(test_format_round_trips) {
    sim_rng r;
    sim_rng_seed(&r, 1, 1);
    for (int i = 0; i < 100000; i++) {
        sim_time t = (sim_time)(sim_rng_u64(&r) >> (sim_rng_below(&r, 63) + 1));
        char buf[64];
        sim_time back = -1;
        const char *why;
        sim_time_format(t, buf, sizeof buf);
        ck_assert_msg(sim_time_parse(buf, &back, &why) == 0, "%s", buf);
        ck_assert_int_eq(back, t);
    }
}
END_TEST

static Suite *time_suite(void) {
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_every_unit);
    tcase_add_test(tc, test_parse_fractions_exactly);
    tcase_add_test(tc, test_parse_rejects_bad_text);
    tcase_add_test(tc, test_parse_rejects_overflow);
    tcase_add_test(tc, test_format_uses_largest_exact_unit);
    tcase_add_test(tc, test_format_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(time_suite()); }
