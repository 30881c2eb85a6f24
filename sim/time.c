/*
 * time.c - parsing and formatting simulated durations.
 *
 * Durations are int64 nanoseconds.  Text is a decimal number (digits with
 * an optional fraction, no exponent, no sign) followed by one unit: ns, us,
 * ms, s, m or h.  The number is converted exactly with integer arithmetic
 * (fraction digits beyond the nanosecond are refused rather than rounded),
 * so "0.1s" is exactly 100000000 ns and no float ever becomes a time.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    sim_time ns;
} units[] = {
    {"ns", SIM_NS}, {"us", SIM_US},    {"ms", SIM_MS},
    {"s", SIM_S},   {"m", 60 * SIM_S}, {"h", 3600 * SIM_S},
};

int sim_time_parse(const char *text, sim_time *out, const char **why) {
    const char *p = text;
    if (*p == '-') {
        *why = "must not be negative";
        return -1;
    }
    if (*p == '+')
        p++;
    if (!((*p >= '0' && *p <= '9') || *p == '.')) {
        *why = "must be a number with a unit";
        return -1;
    }
    /* Integer and fraction parts as digit strings. */
    const char *int_start = p;
    while (*p >= '0' && *p <= '9')
        p++;
    const char *int_end = p;
    const char *frac_start = p, *frac_end = p;
    if (*p == '.') {
        frac_start = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        frac_end = p;
    }
    if (int_end == int_start && frac_end == frac_start) {
        *why = "must be a number with a unit";
        return -1;
    }
    if (*p == '\0') {
        *why = "needs a unit";
        return -1;
    }
    if ((*p == 'e' || *p == 'E') && (p[1] == '-' || p[1] == '+' || (p[1] >= '0' && p[1] <= '9'))) {
        *why = "must not use an exponent";
        return -1;
    }
    if (*p == ' ' || *p == '\t') {
        const char *u = p;
        while (*u == ' ' || *u == '\t')
            u++;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strcmp(u, units[i].name) == 0) {
                *why = "must not have a space before the unit";
                return -1;
            }
        *why = "has an unknown unit";
        return -1;
    }
    sim_time unit = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].name) == 0)
            unit = units[i].ns;
    if (!unit) {
        *why = "has an unknown unit";
        return -1;
    }
    sim_time whole = 0;
    for (const char *d = int_start; d < int_end; d++) {
        int digit = *d - '0';
        if (whole > (SIM_TIME_MAX - digit) / 10) {
            *why = "is too large";
            return -1;
        }
        whole = whole * 10 + digit;
    }
    if (whole > SIM_TIME_MAX / unit) {
        *why = "is too large";
        return -1;
    }
    sim_time total = whole * unit;
    /* Fraction: each digit is worth unit / 10^k, which must stay integral
     * for non-zero digits. */
    sim_time place = unit;
    for (const char *d = frac_start; d < frac_end; d++) {
        int digit = *d - '0';
        if (place % 10 != 0) {
            if (digit != 0) {
                *why = "is finer than one nanosecond";
                return -1;
            }
            continue;
        }
        place /= 10;
        if (total > SIM_TIME_MAX - digit * place) {
            *why = "is too large";
            return -1;
        }
        total += digit * place;
    }
    *out = total;
    return 0;
}

char *sim_time_format(sim_time t, char *buf, size_t size) {
    static const struct {
        const char *name;
        sim_time ns;
    } order[] = {
        {"h", 3600 * SIM_S}, {"m", 60 * SIM_S}, {"s", SIM_S}, {"ms", SIM_MS}, {"us", SIM_US}};
    const char *sign = t < 0 ? "-" : "";
    uint64_t v = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
    if (v == 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    /* Largest unit that keeps at most three decimals exact, preferring whole
     * numbers: 1500000ns -> "1.5ms", 90s -> "90s", 250ns -> "250ns". */
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint64_t u = (uint64_t)order[i].ns;
        if (v < u)
            continue;
        if (i < 2 && v % u != 0)
            continue; /* hours and minutes only when whole */
        if (v % (u / 1000) != 0)
            continue;
        uint64_t whole = v / u, frac = (v % u) / (u / 1000);
        if (frac == 0)
            snprintf(buf, size, "%s%llu%s", sign, (unsigned long long)whole, order[i].name);
        else {
            char f[24];
            snprintf(f, sizeof f, "%03llu", (unsigned long long)frac);
            for (int k = 2; k > 0 && f[k] == '0'; k--)
                f[k] = '\0';
            snprintf(buf, size, "%s%llu.%s%s", sign, (unsigned long long)whole, f, order[i].name);
        }
        return buf;
    }
    snprintf(buf, size, "%s%lluns", sign, (unsigned long long)v);
    return buf;
}
