/*
 * check_util.h - what every Check executable would otherwise write again:
 * the runner behind main() and assertions that call into Check only on
 * failure.
 */
#ifndef DSIM_CHECK_UTIL_H
#define DSIM_CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>

/* Checks that call into Check only on failure.  Check's ck_assert_* record
 * a mark point on every success, which in fork mode costs a system call,
 * and loops that check millions of things would spend their time there. */
#define EXPECT(expr)                                                                               \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg("assertion failed: %s", #expr);                                           \
    } while (0)
#define EXPECT_MSG(expr, ...)                                                                      \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)
#define EXPECT_U(a, op, b)                                                                         \
    do {                                                                                           \
        unsigned long long a_ = (a), b_ = (b);                                                     \
        if (!(a_ op b_))                                                                           \
            ck_abort_msg("%s %s %s: %llu vs %llu", #a, #op, #b, a_, b_);                           \
    } while (0)
#define EXPECT_I(a, op, b)                                                                         \
    do {                                                                                           \
        long long a_ = (a), b_ = (b);                                                              \
        if (!(a_ op b_))                                                                           \
            ck_abort_msg("%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);                           \
    } while (0)

/* Runs every case of the suite (CK_FORK and CK_RUN_CASE apply) and returns
 * main's exit status: failure if any test failed.  Takes ownership of s. */
static inline int check_run(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
