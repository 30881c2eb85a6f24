/*
 * num.c - checked conversions of JSON numbers (doubles) to integers.
 *
 * Casting a double that is NaN, infinite or outside the integer type's
 * range is undefined behaviour in C; a scenario's "nodes": 1e20 or
 * `--set nodes=nan` must be an error message instead.  Every place a JSON
 * number becomes an integer converts through sim_double_to_int64.
 */
#include "sim.h"

#include <math.h>

bool sim_double_to_int64(double d, int64_t *out) {
    /* -2^63 is exact in a double; 2^63 is the first value past the range. */
    if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return false;
    *out = (int64_t)d;
    return true;
}
