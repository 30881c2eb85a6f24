/*
 * test_web_origin.c - the origin's resources (models/web/web_origin.c):
 * Poisson changes with the right mean and variance, histories independent
 * of who asked when, scheduled changes, and Last-Modified at its
 * resolution (two changes within one second look alike).
 */
#include "web/web_origin.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#define S SIM_S

/* Changes per resource over T at rate r are Poisson(rT): over n resources
 * the sample mean is within 4 standard errors (sqrt(rT / n)) of rT, and
 * the sample variance within 4 of its standard errors (for a Poisson mean
 * m, Var(s^2) is about (m + 2 m^2) / n) of m.  Fixed seed: this is exact
 * run to run; the bounds say why the figure is right, not a flake margin. */
START_TEST(test_poisson_mean_and_variance) {
    enum { N = 20000 };
    int64_t items[2] = {N, 5};
    double rates[2] = {0.5, 0};
    web_origin o;
    web_origin_init(&o, 42, S, 2, items, rates);
    ck_assert_uint_eq(web_origin_count(&o), N + 5);
    double sum = 0, sq = 0;
    sim_time t = 100 * S;
    for (uint32_t r = 0; r < N; r++) {
        const web_res *e = web_origin_at(&o, r, t);
        ck_assert(e->changed_at <= t);
        ck_assert(e->next_at > t);
        sum += e->version;
        sq += (double)e->version * e->version;
    }
    double m = 50, mean = sum / N, var = sq / N - mean * mean;
    ck_assert_msg(fabs(mean - m) < 4 * sqrt(m / N), "mean %f", mean);
    ck_assert_msg(fabs(var - m) < 4 * sqrt((m + 2 * m * m) / N), "variance %f", var);
    /* Class 1 never changes. */
    for (uint32_t i = 0; i < 5; i++) {
        const web_res *e = web_origin_at(&o, web_origin_id(&o, 1, i), t);
        ck_assert_uint_eq(e->version, 0);
        ck_assert_int_eq(e->changed_at, 0);
    }
    web_origin_fini(&o);
}
END_TEST

/* Invariant 1: asking often or once gives the same history. */
START_TEST(test_history_independent_of_queries) {
    int64_t items[1] = {500};
    double rates[1] = {3};
    web_origin a, b;
    web_origin_init(&a, 7, S, 1, items, rates);
    web_origin_init(&b, 7, S, 1, items, rates);
    for (sim_time t = 0; t <= 20 * S; t += 37 * SIM_MS)
        for (uint32_t r = 0; r < 500; r += 3) {
            uint32_t before = a.res[r].version;
            const web_res *e = web_origin_at(&a, r, t);
            ck_assert_uint_ge(e->version, before); /* never goes back */
        }
    for (uint32_t r = 0; r < 500; r++) {
        const web_res *x = web_origin_at(&a, r, 20 * S);
        const web_res *y = web_origin_at(&b, r, 20 * S);
        ck_assert_uint_eq(x->version, y->version);
        ck_assert_int_eq(x->changed_at, y->changed_at);
        ck_assert_int_eq(x->next_at, y->next_at);
    }
    /* Another seed, another history. */
    web_origin c;
    web_origin_init(&c, 8, S, 1, items, rates);
    int differ = 0;
    for (uint32_t r = 0; r < 500; r++)
        differ += web_origin_at(&c, r, 20 * S)->changed_at != b.res[r].changed_at;
    ck_assert_int_gt(differ, 490);
    web_origin_fini(&a);
    web_origin_fini(&b);
    web_origin_fini(&c);
}
END_TEST

/* The gaps are exponential: the mean gap over many changes of one resource
 * is 1/rate within 4 standard errors (the SD of an exponential is its
 * mean), and the fraction of gaps under the median ln 2 / rate is 1/2
 * within 4 standard errors. */
START_TEST(test_gaps_are_exponential) {
    enum { N = 100000 };
    int64_t items[1] = {1};
    double rates[1] = {10};
    web_origin o;
    web_origin_init(&o, 3, S, 1, items, rates);
    const sim_time median = (sim_time)(log(2) / 10 * 1e9);
    const web_res *e = web_origin_at(&o, 0, 0);
    sim_time prev = 0;
    double sum = 0;
    int below = 0;
    for (int i = 0; i < N; i++) {
        /* Asking at exactly the next change applies that one change. */
        e = web_origin_at(&o, 0, e->next_at);
        ck_assert_uint_eq(e->k, (uint32_t)i + 1);
        sim_time g = e->changed_at - prev;
        ck_assert_int_ge(g, 1);
        sum += (double)g;
        below += g < median;
        prev = e->changed_at;
    }
    double mean_s = sum / N / 1e9;
    ck_assert_msg(fabs(mean_s - 0.1) < 4 * 0.1 / sqrt(N), "mean gap %f s", mean_s);
    ck_assert_msg(fabs((double)below / N - 0.5) < 4 * 0.5 / sqrt(N), "below median %d", below);
    web_origin_fini(&o);
}
END_TEST

/* Scheduled changes: two within one second get versions 1 and 2 and the
 * same Last-Modified, which is exactly what If-Modified-Since cannot see. */
START_TEST(test_scheduled_changes_and_last_modified) {
    int64_t items[1] = {3};
    double rates[1] = {0};
    web_origin o;
    web_origin_init(&o, 1, S, 1, items, rates);
    web_origin_change(&o, 2, 1200 * SIM_MS);
    const web_res *e = web_origin_at(&o, 2, 1300 * SIM_MS);
    ck_assert_uint_eq(e->version, 1);
    ck_assert_int_eq(e->changed_at, 1200 * SIM_MS);
    sim_time lm1 = web_origin_last_modified(&o, e->changed_at);
    web_origin_change(&o, 2, 1700 * SIM_MS);
    e = web_origin_at(&o, 2, 2 * S);
    ck_assert_uint_eq(e->version, 2);
    ck_assert_int_eq(e->changed_at, 1700 * SIM_MS);
    sim_time lm2 = web_origin_last_modified(&o, e->changed_at);
    ck_assert_int_eq(lm1, 1 * S);
    ck_assert_int_eq(lm2, 1 * S);
    /* Versions 1 and 2 share it: a copy of version 1 passes
     * If-Modified-Since against version 2. */
    ck_assert_uint_eq(e->tick_first, 1);
    /* A change in the next second moves Last-Modified. */
    web_origin_change(&o, 2, 2 * S);
    e = web_origin_at(&o, 2, 2 * S);
    ck_assert_int_eq(web_origin_last_modified(&o, e->changed_at), 2 * S);
    ck_assert_uint_eq(e->tick_first, 3);
    /* A change within the first second keeps version 0's date (0 s). */
    web_origin_change(&o, 1, 500 * SIM_MS);
    ck_assert_uint_eq(web_origin_at(&o, 1, S)->tick_first, 0);
    /* The others never changed. */
    ck_assert_uint_eq(web_origin_at(&o, 0, 10 * S)->version, 0);
    web_origin_fini(&o);
    /* A finer resolution tells the two apart. */
    web_origin_init(&o, 1, SIM_MS, 1, items, rates);
    ck_assert_int_ne(web_origin_last_modified(&o, 1200 * SIM_MS),
                     web_origin_last_modified(&o, 1700 * SIM_MS));
    ck_assert_int_eq(web_origin_last_modified(&o, 1200 * SIM_MS + 999), 1200 * SIM_MS);
    web_origin_fini(&o);
}
END_TEST

/* A scheduled change among Poisson ones: the Poisson changes before it are
 * applied first, and the history after it goes on as if it had not been
 * there (its k-th gap is the same), one version higher. */
START_TEST(test_scheduled_among_poisson) {
    int64_t items[1] = {1};
    double rates[1] = {1};
    web_origin a, b;
    web_origin_init(&a, 9, S, 1, items, rates);
    web_origin_init(&b, 9, S, 1, items, rates);
    web_origin_change(&a, 0, 5 * S);
    const web_res *x = web_origin_at(&a, 0, 50 * S);
    const web_res *y = web_origin_at(&b, 0, 50 * S);
    ck_assert_uint_eq(x->version, y->version + 1);
    ck_assert_uint_eq(x->k, y->k);
    ck_assert_int_eq(x->next_at, y->next_at);
    web_origin_fini(&a);
    web_origin_fini(&b);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("web_origin");
    TCase *tc = tcase_create("origin");
    tcase_add_test(tc, test_poisson_mean_and_variance);
    tcase_add_test(tc, test_history_independent_of_queries);
    tcase_add_test(tc, test_gaps_are_exponential);
    tcase_add_test(tc, test_scheduled_changes_and_last_modified);
    tcase_add_test(tc, test_scheduled_among_poisson);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
