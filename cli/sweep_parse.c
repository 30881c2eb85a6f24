/*
 * sweep_parse.c - value lists for --vary and the --where constraint (see
 * sweep_parse.h for both languages).
 *
 * Range arithmetic is exact: integer ranges count in int64, duration ranges
 * in integer nanoseconds, and real ranges compute A + i * STEP afresh for
 * each i (no accumulated error), printed with 12 significant digits so that
 * 0.1..0.3:0.1 gives 0.1, 0.2, 0.3 and not 0.30000000000000004.
 *
 * The expression parser is recursive descent over this grammar:
 *   or    := and (("or" | "||") and)*
 *   and   := not (("and" | "&&") not)*
 *   not   := ("not" | "!") not | cmp
 *   cmp   := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
 *   sum   := prod (("+" | "-") prod)*
 *   prod  := unary (("*" | "/" | "%") unary)*
 *   unary := "-" unary | primary
 *   primary := NUMBER | DURATION | NAME | "(" or ")"
 */
#include "sweep_parse.h"
#include "cli_util.h"

#include "sim.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Values. ---- */

static bool parse_json_number(const char *s, double *out) {
    /* JSON syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    if (*p == '0')
        p++;
    else
        while (isdigit((unsigned char)*p))
            p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p)
        return false;
    *out = strtod(s, NULL);
    return isfinite(*out);
}

static bool parse_int(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool is_duration(const char *s, sim_time *out) {
    const char *why;
    size_t n = strlen(s);
    return n > 0 && isalpha((unsigned char)s[n - 1]) && sim_time_parse(s, out, &why) == 0;
}

double sweep_value_number(const char *text) {
    double d;
    sim_time t;
    if (parse_json_number(text, &d))
        return d;
    if (is_duration(text, &t))
        return sim_time_to_s(t);
    if (strcmp(text, "true") == 0)
        return 1;
    if (strcmp(text, "false") == 0)
        return 0;
    return NAN;
}

static void add_value(sweep_param *p, const char *text) {
    p->values = sim_realloc(p->values, (p->n + 1) * sizeof *p->values);
    p->values[p->n].text = sim_strdup(text);
    p->values[p->n].num = sweep_value_number(text);
    p->n++;
}

static int too_many(const sweep_param *p, size_t max, char *err, size_t n) {
    return cli_fail(err, n, "--vary %s: more than %zu values", p->path, max);
}

/* Expands one A..B[:STEP] item. */
static int add_range(sweep_param *p, const char *item, const char *dots, size_t max, char *err,
                     size_t errlen) {
    char a[256], b[256], st[256] = "";
    size_t la = (size_t)(dots - item);
    const char *rest = dots + 2;
    const char *colon = strchr(rest, ':');
    size_t lb = colon ? (size_t)(colon - rest) : strlen(rest);
    if (la >= sizeof a || lb >= sizeof b || (colon && strlen(colon + 1) >= sizeof st))
        return cli_fail(err, errlen, "--vary %s: range \"%s\" is too long", p->path, item);
    memcpy(a, item, la);
    a[la] = '\0';
    memcpy(b, rest, lb);
    b[lb] = '\0';
    if (colon)
        strcpy(st, colon + 1);
    if (!*a || !*b || (colon && !*st))
        return cli_fail(err, errlen,
                        "--vary %s: range \"%s\" needs a start and an end (A..B or A..B:STEP)",
                        p->path, item);

    int64_t ia, ib, is = 1;
    sim_time ta, tb, ts;
    double da, db, ds;
    if (parse_int(a, &ia) && parse_int(b, &ib) && (!colon || parse_int(st, &is))) {
        if (is <= 0)
            return cli_fail(err, errlen, "--vary %s: range \"%s\": the step must be positive",
                            p->path, item);
        if (ib < ia)
            return cli_fail(err, errlen,
                            "--vary %s: range \"%s\" is empty (the end is below the start)",
                            p->path, item);
        for (int64_t v = ia; v <= ib; v += is) {
            if (p->n >= max)
                return too_many(p, max, err, errlen);
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)v);
            add_value(p, buf);
            if (v > INT64_MAX - is)
                break;
        }
        return 0;
    }
    if (is_duration(a, &ta) && is_duration(b, &tb)) {
        if (!colon)
            return cli_fail(err, errlen,
                            "--vary %s: duration range \"%s\" needs a step (A..B:STEP)", p->path,
                            item);
        if (!is_duration(st, &ts))
            return cli_fail(err, errlen, "--vary %s: range \"%s\": step \"%s\" is not a duration",
                            p->path, item, st);
        if (ts <= 0)
            return cli_fail(err, errlen, "--vary %s: range \"%s\": the step must be positive",
                            p->path, item);
        if (tb < ta)
            return cli_fail(err, errlen,
                            "--vary %s: range \"%s\" is empty (the end is below the start)",
                            p->path, item);
        for (sim_time v = ta; v <= tb; v += ts) {
            if (p->n >= max)
                return too_many(p, max, err, errlen);
            char buf[64];
            add_value(p, sim_time_format(v, buf, sizeof buf));
            if (v > INT64_MAX - ts)
                break;
        }
        return 0;
    }
    if (parse_json_number(a, &da) && parse_json_number(b, &db)) {
        if (!colon)
            return cli_fail(err, errlen, "--vary %s: real range \"%s\" needs a step (A..B:STEP)",
                            p->path, item);
        if (!parse_json_number(st, &ds))
            return cli_fail(err, errlen, "--vary %s: range \"%s\": step \"%s\" is not a number",
                            p->path, item, st);
        if (!(ds > 0))
            return cli_fail(err, errlen, "--vary %s: range \"%s\": the step must be positive",
                            p->path, item);
        if (db < da)
            return cli_fail(err, errlen,
                            "--vary %s: range \"%s\" is empty (the end is below the start)",
                            p->path, item);
        /* The tolerance admits an end that is a whole number of steps away
         * up to rounding (0.1..0.3:0.1). */
        double count = floor((db - da) / ds * (1 + 1e-12) + 1e-9) + 1;
        if (count > (double)max)
            return too_many(p, max, err, errlen);
        for (size_t i = 0; i < (size_t)count; i++) {
            if (p->n >= max)
                return too_many(p, max, err, errlen);
            char buf[64];
            double v = da + (double)i * ds;
            snprintf(buf, sizeof buf, "%.12g", v);
            if (strchr(buf, 'e') || strchr(buf, 'E') || strcmp(buf, "-0") == 0)
                snprintf(buf, sizeof buf, "%.12f", v);
            add_value(p, buf);
        }
        return 0;
    }
    return cli_fail(err, errlen,
                    "--vary %s: range \"%s\": expected two integers, two numbers or two durations "
                    "(1..5, 0.1..0.5:0.1, 10ms..50ms:10ms)",
                    p->path, item);
}

static int parse_json_list(sweep_param *p, const char *spec, size_t max, char *err, size_t errlen) {
    cJSON *j = cJSON_Parse(spec);
    if (!j || !cJSON_IsArray(j)) {
        cJSON_Delete(j);
        return cli_fail(err, errlen, "--vary %s: \"%s\" is not a JSON list", p->path, spec);
    }
    int rc = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, j) {
        if (p->n >= max) {
            rc = too_many(p, max, err, errlen);
            break;
        }
        if (cJSON_IsString(e)) {
            add_value(p, e->valuestring);
        } else {
            char *t = cJSON_PrintUnformatted(e);
            add_value(p, t);
            cJSON_free(t);
        }
    }
    cJSON_Delete(j);
    if (rc == 0 && p->n == 0)
        rc = cli_fail(err, errlen, "--vary %s: the list is empty", p->path);
    return rc;
}

static bool valid_path(const char *s) {
    if (!*s || *s == '.' || *s == '[')
        return false;
    for (; *s; s++)
        if (isspace((unsigned char)*s) || *s == '=')
            return false;
    return true;
}

int sweep_param_parse(const char *arg, size_t max_values, sweep_param *p, char *err,
                      size_t errlen) {
    memset(p, 0, sizeof *p);
    const char *eq = strchr(arg, '=');
    if (!eq)
        return cli_fail(err, errlen,
                        "--vary %s: expected PATH=VALUES (e.g. kv.r=1..3 or kv.w=1,2,3)", arg);
    p->path = sim_malloc((size_t)(eq - arg) + 1);
    memcpy(p->path, arg, (size_t)(eq - arg));
    p->path[eq - arg] = '\0';
    if (!valid_path(p->path))
        return cli_fail(err, errlen, "--vary %s: \"%s\" is not a scenario path (e.g. kv.r)", arg,
                        p->path);
    const char *spec = eq + 1;
    if (*spec == '[')
        return parse_json_list(p, spec, max_values, err, errlen);
    if (!*spec)
        return cli_fail(err, errlen, "--vary %s: no values after '='", p->path);
    const char *s = spec;
    while (1) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        char item[512];
        if (len >= sizeof item)
            return cli_fail(err, errlen, "--vary %s: value \"%.40s...\" is too long", p->path, s);
        memcpy(item, s, len);
        item[len] = '\0';
        if (!*item)
            return cli_fail(err, errlen, "--vary %s: empty value in \"%s\"", p->path, spec);
        const char *dots = strstr(item, "..");
        if (dots) {
            if (add_range(p, item, dots, max_values, err, errlen) < 0)
                return -1;
        } else {
            if (p->n >= max_values)
                return too_many(p, max_values, err, errlen);
            add_value(p, item);
        }
        if (!comma)
            break;
        s = comma + 1;
    }
    return 0;
}

void sweep_param_fini(sweep_param *p) {
    for (size_t i = 0; i < p->n; i++)
        sim_free(p->values[i].text);
    sim_free(p->values);
    sim_free(p->path);
    memset(p, 0, sizeof *p);
}

/* ---- Expressions. ---- */

typedef enum {
    OP_NUM,
    OP_NAME,
    OP_NEG,
    OP_NOT,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND,
    OP_OR
} expr_op;

struct sweep_expr {
    expr_op op;
    double num;             /* OP_NUM */
    const sweep_name *name; /* OP_NAME */
    sweep_expr *a, *b;
};

typedef struct parser {
    const char *text;
    const char *p;
    const sweep_name *names;
    size_t n_names;
    sweep_lookup_fn lookup;
    void *lookup_arg;
    char *err;
    size_t errlen;
    bool failed;
    int depth; /* nesting of '(', unary '-' and 'not' now open */
} parser;

/* The parser recurses once per level of nesting, and evaluating and freeing
 * recurse once per level of the tree, which the length bounds: both limits
 * keep the stack small whatever --where says. */
#define WHERE_MAX_DEPTH 64
#define WHERE_MAX_LEN   4096

static sweep_expr *node(expr_op op, sweep_expr *a, sweep_expr *b) {
    sweep_expr *e = sim_calloc(1, sizeof *e);
    e->op = op;
    e->a = a;
    e->b = b;
    return e;
}

void sweep_expr_free(sweep_expr *e) {
    if (!e)
        return;
    sweep_expr_free(e->a);
    sweep_expr_free(e->b);
    sim_free(e);
}

static sweep_expr *perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sweep_expr *perr(parser *ps, const char *fmt, ...) {
    if (ps->failed)
        return NULL;
    ps->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "--where '%s': %s (at column %d)", ps->text, msg,
             (int)(ps->p - ps->text) + 1);
    return NULL;
}

static void skip_ws(parser *ps) {
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_name_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '[' || c == ']';
}

/* Matches a keyword or symbol at the cursor; words must end at a non-name
 * character. */
static bool accept(parser *ps, const char *tok) {
    skip_ws(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0)
        return false;
    if (is_name_start(tok[0]) && is_name_char(ps->p[n]))
        return false;
    ps->p += n;
    return true;
}

static sweep_expr *parse_or(parser *ps);

static sweep_expr *parse_name(parser *ps) {
    const char *start = ps->p;
    while (is_name_char(*ps->p))
        ps->p++;
    char name[256];
    size_t len = (size_t)(ps->p - start);
    if (len >= sizeof name) {
        ps->p = start;
        return perr(ps, "name too long");
    }
    memcpy(name, start, len);
    name[len] = '\0';
    for (size_t i = 0; i < ps->n_names; i++) {
        if (strcmp(ps->names[i].path, name) == 0) {
            sweep_expr *e = node(OP_NAME, NULL, NULL);
            e->name = &ps->names[i];
            return e;
        }
    }
    /* A last segment, when only one known path ends with it. */
    const sweep_name *found = NULL;
    size_t hits = 0;
    for (size_t i = 0; i < ps->n_names; i++) {
        const char *dot = strrchr(ps->names[i].path, '.');
        const char *last = dot ? dot + 1 : ps->names[i].path;
        if (strcmp(last, name) == 0) {
            found = &ps->names[i];
            hits++;
        }
    }
    if (hits == 1) {
        sweep_expr *e = node(OP_NAME, NULL, NULL);
        e->name = found;
        return e;
    }
    if (hits > 1) {
        ps->p = start;
        return perr(ps, "\"%s\" is ambiguous: write the whole path", name);
    }
    char buf[512];
    const char *v = ps->lookup ? ps->lookup(ps->lookup_arg, name, buf, sizeof buf) : NULL;
    if (v) {
        double d = sweep_value_number(v);
        if (isnan(d)) {
            ps->p = start;
            return perr(ps, "%s is \"%s\" in the scenario, not a number", name, v);
        }
        sweep_expr *e = node(OP_NUM, NULL, NULL);
        e->num = d;
        return e;
    }
    char known[512] = "";
    size_t k = 0;
    for (size_t i = 0; i < ps->n_names && k + 2 < sizeof known; i++)
        k +=
            (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", ps->names[i].path);
    ps->p = start;
    if (ps->n_names)
        return perr(ps, "unknown name \"%s\" (varied and set: %s; or a full scenario path)", name,
                    known);
    return perr(ps, "unknown name \"%s\" (not varied, not set, not a scenario path)", name);
}

/* Enters one level of nesting; NULL after an error past the limit. */
static bool nest(parser *ps) {
    if (++ps->depth <= WHERE_MAX_DEPTH)
        return true;
    perr(ps, "nested more than %d levels deep", WHERE_MAX_DEPTH);
    return false;
}

static sweep_expr *parse_primary(parser *ps) {
    skip_ws(ps);
    const char *start = ps->p;
    if (*ps->p == '(') {
        ps->p++;
        if (!nest(ps))
            return NULL;
        sweep_expr *e = parse_or(ps);
        ps->depth--;
        if (!e)
            return NULL;
        if (!accept(ps, ")")) {
            sweep_expr_free(e);
            return perr(ps, "expected ')'");
        }
        return e;
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
        /* A number, possibly with an exponent or a duration unit. */
        const char *q = ps->p;
        while (isdigit((unsigned char)*q) || *q == '.')
            q++;
        if ((*q == 'e' || *q == 'E') &&
            (isdigit((unsigned char)q[1]) ||
             ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
            q += 2;
            while (isdigit((unsigned char)*q))
                q++;
        }
        while (isalnum((unsigned char)*q) || *q == '.')
            q++;
        ps->p = q;
        char tok[64];
        size_t len = (size_t)(ps->p - start);
        if (len >= sizeof tok) {
            ps->p = start;
            return perr(ps, "number too long");
        }
        memcpy(tok, start, len);
        tok[len] = '\0';
        double d = sweep_value_number(tok);
        if (isnan(d)) {
            ps->p = start;
            return perr(ps, "\"%s\" is not a number or a duration", tok);
        }
        sweep_expr *e = node(OP_NUM, NULL, NULL);
        e->num = d;
        return e;
    }
    if (is_name_start(*ps->p))
        return parse_name(ps);
    if (!*ps->p)
        return perr(ps, "unexpected end: expected a number, a name or '('");
    return perr(ps, "unexpected '%c': expected a number, a name or '('", *ps->p);
}

static sweep_expr *parse_unary(parser *ps) {
    if (accept(ps, "-")) {
        if (!nest(ps))
            return NULL;
        sweep_expr *a = parse_unary(ps);
        ps->depth--;
        return a ? node(OP_NEG, a, NULL) : NULL;
    }
    return parse_primary(ps);
}

static sweep_expr *parse_prod(parser *ps) {
    sweep_expr *a = parse_unary(ps);
    while (a) {
        expr_op op;
        if (accept(ps, "*"))
            op = OP_MUL;
        else if (accept(ps, "/"))
            op = OP_DIV;
        else if (accept(ps, "%"))
            op = OP_MOD;
        else
            break;
        sweep_expr *b = parse_unary(ps);
        if (!b) {
            sweep_expr_free(a);
            return NULL;
        }
        a = node(op, a, b);
    }
    return a;
}

static sweep_expr *parse_sum(parser *ps) {
    sweep_expr *a = parse_prod(ps);
    while (a) {
        expr_op op;
        if (accept(ps, "+"))
            op = OP_ADD;
        else if (accept(ps, "-"))
            op = OP_SUB;
        else
            break;
        sweep_expr *b = parse_prod(ps);
        if (!b) {
            sweep_expr_free(a);
            return NULL;
        }
        a = node(op, a, b);
    }
    return a;
}

static sweep_expr *parse_cmp(parser *ps) {
    sweep_expr *a = parse_sum(ps);
    if (!a)
        return NULL;
    expr_op op;
    if (accept(ps, "<="))
        op = OP_LE;
    else if (accept(ps, ">="))
        op = OP_GE;
    else if (accept(ps, "=="))
        op = OP_EQ;
    else if (accept(ps, "!="))
        op = OP_NE;
    else if (accept(ps, "<"))
        op = OP_LT;
    else if (accept(ps, ">"))
        op = OP_GT;
    else if (accept(ps, "=")) {
        sweep_expr_free(a);
        ps->p--;
        return perr(ps, "'=' is not a comparison: write '=='");
    } else
        return a;
    sweep_expr *b = parse_sum(ps);
    if (!b) {
        sweep_expr_free(a);
        return NULL;
    }
    return node(op, a, b);
}

/* not binds looser than comparisons, as in Python: not r == 2. */
static sweep_expr *parse_not(parser *ps) {
    skip_ws(ps);
    if (accept(ps, "not") || (ps->p[0] == '!' && ps->p[1] != '=' && accept(ps, "!"))) {
        if (!nest(ps))
            return NULL;
        sweep_expr *a = parse_not(ps);
        ps->depth--;
        return a ? node(OP_NOT, a, NULL) : NULL;
    }
    return parse_cmp(ps);
}

static sweep_expr *parse_and(parser *ps) {
    sweep_expr *a = parse_not(ps);
    while (a && (accept(ps, "and") || accept(ps, "&&"))) {
        sweep_expr *b = parse_not(ps);
        if (!b) {
            sweep_expr_free(a);
            return NULL;
        }
        a = node(OP_AND, a, b);
    }
    return a;
}

static sweep_expr *parse_or(parser *ps) {
    sweep_expr *a = parse_and(ps);
    while (a && (accept(ps, "or") || accept(ps, "||"))) {
        sweep_expr *b = parse_and(ps);
        if (!b) {
            sweep_expr_free(a);
            return NULL;
        }
        a = node(OP_OR, a, b);
    }
    return a;
}

sweep_expr *sweep_expr_parse(const char *text, const sweep_name *names, size_t n_names,
                             sweep_lookup_fn lookup, void *lookup_arg, char *err, size_t errlen) {
    parser ps = {.text = text,
                 .p = text,
                 .names = names,
                 .n_names = n_names,
                 .lookup = lookup,
                 .lookup_arg = lookup_arg,
                 .err = err,
                 .errlen = errlen};
    skip_ws(&ps);
    if (!*ps.p) {
        cli_fail(err, errlen, "--where: the expression is empty");
        return NULL;
    }
    if (strlen(text) > WHERE_MAX_LEN) {
        cli_fail(err, errlen, "--where: the expression is %zu characters long (at most %d)",
                 strlen(text), WHERE_MAX_LEN);
        return NULL;
    }
    sweep_expr *e = parse_or(&ps);
    if (e) {
        skip_ws(&ps);
        if (*ps.p) {
            sweep_expr_free(e);
            e = perr(&ps, "unexpected '%c' after a complete expression", *ps.p);
        }
    }
    return e;
}

static int eval(const sweep_expr *e, double *out, char *err, size_t errlen) {
    double a = 0, b = 0;
    switch (e->op) {
    case OP_NUM:
        *out = e->num;
        return 0;
    case OP_NAME:
        *out = sweep_value_number(e->name->value);
        if (isnan(*out))
            return cli_fail(err, errlen, "--where: %s is \"%s\", not a number", e->name->path,
                            e->name->value);
        return 0;
    default:
        break;
    }
    if (eval(e->a, &a, err, errlen) < 0)
        return -1;
    /* and/or short-circuit, so "w > 0 and n / w > 1" never divides by 0. */
    if (e->op == OP_AND && a == 0) {
        *out = 0;
        return 0;
    }
    if (e->op == OP_OR && a != 0) {
        *out = 1;
        return 0;
    }
    if (e->b && eval(e->b, &b, err, errlen) < 0)
        return -1;
    switch (e->op) {
    case OP_NEG:
        *out = -a;
        break;
    case OP_NOT:
        *out = a == 0;
        break;
    case OP_ADD:
        *out = a + b;
        break;
    case OP_SUB:
        *out = a - b;
        break;
    case OP_MUL:
        *out = a * b;
        break;
    case OP_DIV:
        if (b == 0)
            return cli_fail(err, errlen, "--where: division by zero");
        *out = a / b;
        break;
    case OP_MOD:
        if (b == 0)
            return cli_fail(err, errlen, "--where: division by zero (%%)");
        *out = fmod(a, b);
        break;
    case OP_LT:
        *out = a < b;
        break;
    case OP_LE:
        *out = a <= b;
        break;
    case OP_GT:
        *out = a > b;
        break;
    case OP_GE:
        *out = a >= b;
        break;
    case OP_EQ:
        *out = a == b;
        break;
    case OP_NE:
        *out = a != b;
        break;
    case OP_AND:
    case OP_OR:
        *out = b != 0;
        break;
    default:
        *out = NAN;
        break;
    }
    return 0;
}

int sweep_expr_eval(const sweep_expr *e, double *out, char *err, size_t errlen) {
    return eval(e, out, err, errlen);
}
