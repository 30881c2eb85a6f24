/*
 * plot_data.c - the data side of `dsim plot`: a checking CSV reader, the
 * cleaning of text bound for data files, and the one quoting function for
 * gnuplot's -e variables.
 *
 * Invariants: csv_load returns a rectangle or an error (never a ragged
 * table for a caller to index past); plot_label's output holds no byte that
 * could end a field, a line or a quoted string in any of the data formats
 * the scripts read; plot_gp_var's output is one single-quoted gnuplot
 * string literal whatever its input, or nothing.
 */
#include "plot_int.h"

#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csv_free(csv *c) {
    if (!c->cell)
        return;
    for (size_t i = 0; i < (c->rows + 1) * c->cols; i++)
        sim_free(c->cell[i]);
    sim_free(c->cell);
    memset(c, 0, sizeof *c);
}

/* One field from *pp (RFC 4180: "" is a quote inside quotes); the field
 * ends at ',' or the end of the line.  -1 on a quote left open. */
static int csv_field(const char **pp, cli_buf *f) {
    const char *p = *pp;
    f->len = 0;
    cli_buf_putc(f, 'x');
    f->len = 0;
    f->s[0] = '\0';
    if (*p == '"') {
        p++;
        for (;;) {
            if (!*p)
                return -1;
            if (*p == '"' && p[1] == '"') {
                cli_buf_putc(f, '"');
                p += 2;
            } else if (*p == '"') {
                p++;
                break;
            } else {
                cli_buf_putc(f, *p++);
            }
        }
    }
    while (*p && *p != ',' && *p != '\n' && *p != '\r')
        cli_buf_putc(f, *p++);
    *pp = p;
    return 0;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* The header's names are distinct: sorted, in O(n log n) for wide files. */
static int check_distinct(char **names, size_t count, const char *name, char *err, size_t n) {
    char ***ix = sim_malloc((count ? count : 1) * sizeof *ix);
    for (size_t i = 0; i < count; i++)
        ix[i] = &names[i];
    qsort(ix, count, sizeof *ix, cmp_name);
    int rc = 0;
    for (size_t i = 1; i < count && rc == 0; i++)
        if (strcmp(*ix[i], *ix[i - 1]) == 0) {
            char shown[64];
            plot_label(shown, sizeof shown, *ix[i]);
            rc = cli_fail(err, n, "%s:1: the column name \"%s\" appears twice", name, shown);
        }
    sim_free(ix);
    return rc;
}

int csv_load(const char *dir, const char *name, csv *c, char *err, size_t n) {
    memset(c, 0, sizeof *c);
    size_t plen = strlen(dir) + strlen(name) + 2;
    char *path = sim_malloc(plen);
    snprintf(path, plen, "%s/%s", dir, name);
    char why[256];
    char *text = cli_read_file(path, PLOT_MAX_FILE, NULL, why, sizeof why);
    sim_free(path);
    if (!text) {
        if (errno == ENOENT)
            return 1;
        return cli_fail(err, n, "%s: %s", name, why);
    }
    const char *p = text;
    size_t line = 1, cap = 0, k = 0, want = 0;
    cli_buf f = {0};
    int rc = 0;
    if (!*p)
        rc = cli_fail(err, n, "%s: empty (a header line was expected)", name);
    while (rc == 0 && *p) {
        /* One line of fields. */
        size_t got = 0;
        for (;;) {
            if (csv_field(&p, &f) < 0) {
                rc = cli_fail(err, n, "%s:%zu: a quoted field is not closed", name, line);
                break;
            }
            if (k == cap) {
                cap = cap ? 2 * cap : 64;
                c->cell = sim_realloc(c->cell, cap * sizeof *c->cell);
            }
            c->cell[k++] = sim_strdup(f.s);
            got++;
            if (*p != ',')
                break;
            p++;
        }
        if (rc)
            break;
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
        else if (*p)
            rc = cli_fail(err, n, "%s:%zu: a stray carriage return", name, line);
        if (rc)
            break;
        if (line == 1) {
            want = got;
            c->cols = got;
            for (size_t i = 0; i < got && rc == 0; i++)
                if (!c->cell[i][0])
                    rc = cli_fail(err, n, "%s:1: column %zu has no name", name, i + 1);
            if (rc == 0)
                rc = check_distinct(c->cell, got, name, err, n);
        } else if (got != want) {
            rc = cli_fail(err, n, "%s:%zu: %zu fields, but the header has %zu", name, line, got,
                          want);
        } else {
            c->rows++;
        }
        line++;
    }
    sim_free(f.s);
    sim_free(text);
    if (rc) {
        for (size_t i = 0; i < k; i++)
            sim_free(c->cell[i]);
        sim_free(c->cell);
        memset(c, 0, sizeof *c);
    }
    return rc;
}

int csv_col(const csv *c, const char *name) {
    for (size_t i = 0; i < c->cols; i++)
        if (strcmp(c->cell[i], name) == 0)
            return (int)i;
    return -1;
}

const char *csv_at(const csv *c, size_t row, int col) {
    return col < 0 || (size_t)col >= c->cols || row >= c->rows
               ? ""
               : c->cell[(row + 1) * c->cols + (size_t)col];
}

/* A decimal number, all of s, or "inf" (an open-ended bucket's bound, as
 * dsim writes it); no "nan", no hex. */
static bool parse_number(const char *s, double *v) {
    const char *q = s;
    if (*q == '-' || *q == '+')
        q++;
    if (strcmp(q, "inf") == 0) {
        *v = *s == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (!((*q >= '0' && *q <= '9') || *q == '.') || strpbrk(q, "xX"))
        return false;
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && !isnan(*v);
}

double csv_num(const csv *c, size_t row, int col) {
    double v;
    return parse_number(csv_at(c, row, col), &v) ? v : NAN;
}

int csv_check_numbers(const csv *c, const char *name, int from, char *err, size_t n) {
    for (size_t r = 0; r < c->rows; r++)
        for (size_t i = (size_t)(from < 0 ? 0 : from); i < c->cols; i++) {
            const char *s = csv_at(c, r, (int)i);
            double v;
            if (*s && !parse_number(s, &v)) {
                char shown[48];
                plot_label(shown, sizeof shown, s);
                return cli_fail(err, n, "%s:%zu: column %zu: \"%s\" is not a number", name, r + 2,
                                i + 1, shown);
            }
        }
    return 0;
}

/* The length of the UTF-8 sequence at p (1-4), or 0 if it is not a valid
 * one (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p) {
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || p[0] > 0xF4)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
        return 0;
    if (len == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
        return 0;
    return len;
}

static void clean(char *dst, size_t n, const char *src, bool commas) {
    size_t k = 0;
    if (n == 0)
        return;
    for (const unsigned char *p = (const unsigned char *)src; *p;) {
        size_t len = utf8_len(p);
        char c = 0;
        if (len == 0) {
            c = '?';
            len = 1;
        } else if (len == 1 && (*p < 0x20 || *p == 0x7F)) {
            c = ' ';
        } else if (len == 1 && (*p == '"' || *p == '\\' || (*p == ',' && !commas))) {
            c = '_';
        }
        if (k + (c ? 1 : len) >= n)
            break;
        if (c)
            dst[k++] = c;
        else
            for (size_t i = 0; i < len; i++)
                dst[k++] = (char)p[i];
        p += len;
    }
    dst[k] = '\0';
}

void plot_label(char *dst, size_t n, const char *src) { clean(dst, n, src, false); }

void plot_text(char *dst, size_t n, const char *src) { clean(dst, n, src, true); }

int plot_gp_var(cli_buf *b, const char *name, const char *value) {
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return -1;
    /* Runs without a quote go in single quotes; each quote is the string
     * "'" (double quotes around nothing but it: no backslash or backtick
     * for gnuplot to expand), joined by gnuplot's '.' operator.  Doubling
     * a quote inside single quotes is not enough: gnuplot reads a value
     * that starts with a quote as an empty string and a stray token. */
    cli_buf_printf(b, "%s=", name);
    if (!*value)
        cli_buf_printf(b, "''");
    for (const char *p = value; *p;) {
        if (p != value)
            cli_buf_putc(b, '.');
        if (*p == '\'') {
            cli_buf_printf(b, "\"'\"");
            p++;
            continue;
        }
        size_t len = strcspn(p, "'");
        cli_buf_printf(b, "'%.*s'", (int)len, p);
        p += len;
    }
    cli_buf_printf(b, "; ");
    return 0;
}

void plot_gp_num(cli_buf *b, const char *name, double value) {
    if (isfinite(value))
        cli_buf_printf(b, "%s=%.9g; ", name, value);
    else
        cli_buf_printf(b, "%s=NaN; ", name);
}
