/*
 * report.c - report.html: one self-contained page per run folder, for a
 * class on a projector (docs/report.md describes what it shows).
 *
 * The page is built from the folder alone, so `dsim report DIR` rebuilds
 * it and `dsim run` writes it last (after the charts): summary.json (the
 * scenario, its description and faults, the metrics), the charts' SVGs,
 * and a replay of the run (report_replay.c) for the events the trace does
 * not hold: messages with their send times, kv's oracle verdicts, the
 * narration of every stale read, who learned a rumour when.
 *
 * A results folder is untrusted data (docs/security.md), and a page is
 * code a browser runs, so the page keeps four rules:
 *   (1) Every text of the folder that reaches HTML goes through html_text
 *       (& < > " ' escaped, control characters dropped, invalid UTF-8
 *       replaced): a description, a name, a key, a file name.
 *   (2) Data for the script is JSON inside <script type="application/json">
 *       with < > & U+2028 U+2029 written as \u escapes (json_script), so no
 *       value can close the element; the script reads it with JSON.parse and
 *       puts text on the page with textContent only.
 *   (3) Charts are <img> elements with base64 data: URIs: an SVG shown as
 *       an image runs no script and loads nothing.
 *   (4) Nothing is loaded from the network: no src or href leaves the page,
 *       and a Content-Security-Policy of default-src 'none' says so to the
 *       browser as well.
 * The page is written through cli_out (a temporary renamed into place), so
 * a link planted at DIR/report.html is replaced, never followed.
 *
 * Its size is bounded whatever the run: at most REPORT_MAX_MSGS messages
 * (a window of consecutive deliveries, said on the page), REPORT_MAX_LOGS
 * narration lines, REPORT_MAX_STALE stale reads told, and the charts up to
 * REPORT_MAX_SVG_BYTES in all.
 */
#include "report.h"
#include "report_int.h"

#include "cli_util.h"
#include "predict.h"
#include "registry.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 1 };

#define REPORT_MAX_SUMMARY   (64u << 20)
#define REPORT_MAX_EVENTS    1000000u
#define REPORT_MAX_MSGS      3000u
#define REPORT_MAX_LOGS      3000u
#define REPORT_MAX_STALE     100u
#define REPORT_MAX_FAULTS    500u
#define REPORT_MAX_LEARN     2000u
#define REPORT_MAX_SVG_BYTES (8u << 20)
#define REPORT_MAX_SVGS      24u

const char report_help[] =
    "usage: dsim report DIR [--quiet]\n"
    "\n"
    "Writes DIR/report.html, one self-contained page about the run in DIR (a\n"
    "folder written by dsim run): the scenario and its fault schedule, the\n"
    "headline metrics in plain words, every chart, the stale reads with why\n"
    "(kv), the message life cycle (mq), who knew the rumour when (gossip), and\n"
    "a space-time diagram with a time slider.  It needs no network: open it in\n"
    "any browser.  dsim run writes it by itself (DSIM_NO_REPORT=1 turns that\n"
    "off); dsim report rebuilds it, after dsim plot say.  The folder is read as\n"
    "data only (docs/security.md); docs/report.md describes the page.\n";

/* ---- Text for HTML and for the script. ---- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s) {
    if (s[0] < 0x80)
        return 1;
    size_t n = (s[0] & 0xe0) == 0xc0   ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

/* Appends s as HTML text (also safe inside a quoted attribute), at most
 * max bytes of it (0: all), marking a cut with an ellipsis. */
static void html_text_n(cli_buf *b, const char *s, size_t max) {
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    while (*p) {
        if (max && used >= max) {
            cli_buf_printf(b, "\xe2\x80\xa6");
            return;
        }
        unsigned char c = *p;
        size_t n = utf8_len(p);
        if (n == 0) {
            cli_buf_printf(b, "\xef\xbf\xbd"); /* U+FFFD */
            p++;
            used++;
            continue;
        }
        if (n > 1) {
            for (size_t i = 0; i < n; i++)
                cli_buf_putc(b, (char)p[i]);
        } else if (c == '&') {
            cli_buf_printf(b, "&amp;");
        } else if (c == '<') {
            cli_buf_printf(b, "&lt;");
        } else if (c == '>') {
            cli_buf_printf(b, "&gt;");
        } else if (c == '"') {
            cli_buf_printf(b, "&quot;");
        } else if (c == '\'') {
            cli_buf_printf(b, "&#39;");
        } else if (c == '\n' || c == '\t') {
            cli_buf_putc(b, ' ');
        } else if (c >= 0x20 && c != 0x7f) {
            cli_buf_putc(b, (char)c);
        }
        p += n;
        used += n;
    }
}

static void html_text(cli_buf *b, const char *s) { html_text_n(b, s, 0); }

/* Appends the JSON text of v for a <script type="application/json">: the
 * characters that could end the element or confuse a parser are \u
 * escapes (they occur only inside strings, where that is the same text). */
static void json_script(cli_buf *b, const cJSON *v) {
    char *t = cJSON_PrintUnformatted(v);
    if (!t) {
        cli_buf_printf(b, "null");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '&')
            cli_buf_printf(b, "\\u%04x", *p);
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            cli_buf_printf(b, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
            p += 2;
        } else
            cli_buf_putc(b, (char)*p);
    }
    cJSON_free(t);
}

static void base64(cli_buf *b, const unsigned char *d, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        cli_buf_putc(b, tab[(v >> 18) & 63]);
        cli_buf_putc(b, tab[(v >> 12) & 63]);
        cli_buf_putc(b, i + 1 < n ? tab[(v >> 6) & 63] : '=');
        cli_buf_putc(b, i + 2 < n ? tab[v & 63] : '=');
    }
}

/* ---- Reading the summary. ---- */

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}
static const char *get_str(const cJSON *o, const char *k) {
    return cJSON_GetStringValue(get(o, k));
}
static bool get_num(const cJSON *o, const char *k, double *v) {
    const cJSON *j = get(o, k);
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return false;
    *v = j->valuedouble;
    return true;
}

static double parse_s(const char *text) {
    sim_time t;
    const char *why;
    if (text && sim_time_parse(text, &t, &why) == 0)
        return sim_time_to_s(t);
    return NAN;
}

/* ---- Headline metrics: what they mean, in words. ---- */

typedef struct metric_doc {
    const char *model, *key, *unit, *meaning;
} metric_doc;

static const metric_doc metric_docs[] = {
    {"kv", "availability", "fraction",
     "Share of the clients' operations that succeeded within the request timeout."},
    {"kv", "stale_read_fraction", "fraction",
     "Share of successful reads that returned a version older than the newest one acknowledged "
     "before the read started: the reader missed a write it could have seen."},
    {"kv", "stale_reads", "reads", "Reads that returned an out-of-date value (see above)."},
    {"kv", "reads", "operations", "Reads the clients issued."},
    {"kv", "writes", "operations", "Writes the clients issued."},
    {"kv", "monotonic_read_violations", "reads",
     "Reads by a client that returned an older version than that client had read before."},
    {"kv", "read_your_writes_violations", "reads",
     "Reads by a client that did not see that client's own acknowledged write."},
    {"kv", "lost_acknowledged_writes", "writes",
     "Writes the system acknowledged that no replica holds any more: they can never be read."},
    {"kv", "divergent_keys", "keys", "Keys whose replicas disagreed at the end of the run."},
    {"kv", "fault_ends_not_converged", "faults",
     "Faults after whose end the replicas never agreed again within the run."},
    {"kv", "keys_per_node_max_over_mean", "ratio",
     "Keys on the fullest server divided by the mean: 1 is perfectly even, 2 means one server "
     "holds twice its share."},
    {"mq", "published", "messages", "Messages the producers published."},
    {"mq", "processed_once", "messages", "Copies a consumer group processed exactly once."},
    {"mq", "processed_more_than_once", "messages", "Copies processed more than once."},
    {"mq", "duplicates", "messages", "Extra processings of a copy already processed."},
    {"mq", "redeliveries", "messages",
     "Deliveries repeated because an acknowledgement did not arrive in time."},
    {"mq", "dead_lettered", "messages",
     "Copies set aside after too many failed attempts (the dead-letter queue)."},
    {"mq", "lost", "messages", "Copies that were never processed and never will be."},
    {"mq", "still_queued", "messages", "Copies still waiting at the end of the run."},
    {"mq", "latency_p50_s", "s", "Median time from publishing to processing."},
    {"mq", "latency_p99_s", "s", "99th percentile of the time from publishing to processing."},
    {"mq", "throughput_per_s", "per s", "Messages processed per second of simulated time."},
    {"gossip", "updates_reached_all", "updates", "Updates that reached every node that was up."},
    {"gossip", "time_to_all_s", "s",
     "Time from an update's injection until every node that was up held it."},
    {"gossip", "residue", "nodes", "Nodes that never learned the update (the residue)."},
    {"gossip", "infection_delay_mean_s", "s", "Mean time a node waited to learn the update."},
    {"gossip", "messages_sent", "messages", "Gossip messages sent in all."},
    {"gossip", "messages_per_node", "messages", "Gossip messages per node."},
    {NULL, NULL, NULL, NULL}};

static void fmt_value(cli_buf *b, double v, const char *unit) {
    if (unit && strcmp(unit, "fraction") == 0)
        cli_buf_printf(b, "%.4g (%.2f %%)", v, 100 * v);
    else if (unit && strcmp(unit, "s") == 0)
        cli_buf_printf(b, "%.4g s", v);
    else if (v == floor(v) && fabs(v) < 1e15)
        cli_buf_printf(b, "%.0f", v);
    else
        cli_buf_printf(b, "%.4g", v);
}

/* ---- The page. ---- */

typedef struct page {
    cli_buf h;         /* the HTML */
    const char *dir;   /* the folder */
    const cJSON *sum;  /* summary.json */
    const cJSON *sc;   /* its scenario */
    const char *model; /* its model's name */
    double duration_s; /* the scenario's duration */
    report_replay rp;  /* the replay, when it ran */
    bool have_rp;      /* it did */
    char rp_why[2600]; /* why not */
    cJSON *data;       /* the script's data */
    size_t win0, win1; /* the messages shown: rp.msgs[win0 .. win1) */
} page;

static void section(page *p, const char *id, const char *title) {
    cli_buf_printf(&p->h, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

void report_html_text(cli_buf *b, const char *s, size_t max) { html_text_n(b, s, max); }

void report_page_head(cli_buf *h, const char *prefix, const char *name) {
    cli_buf_printf(h,
                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                   "'none'; img-src data:; style-src 'unsafe-inline'; script-src "
                   "'unsafe-inline'\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>%s",
                   prefix);
    html_text_n(h, name, 200);
    cli_buf_printf(h, " \xe2\x80\x94 dsim report</title>\n<style>%s</style>\n</head><body>\n",
                   report_css);
    cli_buf_printf(h, "<header><h1>%s", prefix);
    html_text_n(h, name, 200);
    cli_buf_printf(h, "</h1>");
}

static void write_head(page *p) {
    const char *name = get_str(p->sc, "name");
    cli_buf *h = &p->h;
    report_page_head(h, "", name ? name : "A dsim run");
    cli_buf_printf(h, "<p class=\"sub\">model <b>");
    html_text_n(h, p->model, 64);
    double seed = 0;
    get_num(p->sum, "seed", &seed);
    cli_buf_printf(h, "</b> \xc2\xb7 seed %.0f \xc2\xb7 ", seed);
    html_text_n(h, get_str(p->sc, "duration"), 40);
    cli_buf_printf(h, " simulated \xc2\xb7 dsim ");
    html_text_n(h, get_str(p->sum, "dsim_version"), 40);
    cli_buf_printf(h, " \xc2\xb7 trace hash <code>");
    html_text_n(h, get_str(p->sum, "trace_hash"), 40);
    cli_buf_printf(h, "</code></p>");
    if (get_str(p->sum, "incomplete"))
        cli_buf_printf(h, "<p class=\"warn\">This run was interrupted: its figures cover the "
                          "run until it stopped.</p>");
    cli_buf_printf(h, "<nav><a href=\"#what\">The scenario</a> <a href=\"#faults\">Faults</a> "
                      "<a href=\"#metrics\">Results</a> <a href=\"#diagram\">Space-time "
                      "diagram</a> ");
    if (strcmp(p->model, "kv") == 0)
        cli_buf_printf(h, "<a href=\"#stale\">Stale reads</a> ");
    if (strcmp(p->model, "mq") == 0)
        cli_buf_printf(h, "<a href=\"#lifecycle\">Message life cycle</a> ");
    if (strcmp(p->model, "gossip") == 0)
        cli_buf_printf(h, "<a href=\"#rumour\">Who knew when</a> ");
    cli_buf_printf(h, "<a href=\"#charts\">Charts</a></nav></header>\n<main>\n");
}

/* Scalar leaves of o as "path = value" rows, at most *left of them. */
static void settings_rows(cli_buf *h, const cJSON *o, const char *prefix, int *left) {
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        if (*left <= 0)
            return;
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                 e->string ? e->string : "");
        if (cJSON_IsObject(e)) {
            settings_rows(h, e, path, left);
            continue;
        }
        char *v = cJSON_PrintUnformatted(e);
        cli_buf_printf(h, "<tr><td><code>");
        html_text_n(h, path, 120);
        cli_buf_printf(h, "</code></td><td>");
        html_text_n(h, v, 160);
        cli_buf_printf(h, "</td></tr>\n");
        cJSON_free(v);
        (*left)--;
    }
}

static void write_scenario(page *p) {
    cli_buf *h = &p->h;
    section(p, "what", "What this run is");
    const char *desc = get_str(p->sc, "description");
    cli_buf_printf(h, "<p class=\"desc\">");
    html_text_n(h, desc && *desc ? desc : "(The scenario has no description.)", 8000);
    cli_buf_printf(h, "</p>\n");
    const cJSON *m = get(p->sc, p->model);
    double n, r, w;
    if (strcmp(p->model, "kv") == 0 && get_num(m, "n", &n) && get_num(m, "r", &r) &&
        get_num(m, "w", &w)) {
        cli_buf_printf(h,
                       "<p class=\"key\">Each key is kept on <b>N = %.0f</b> servers; a read "
                       "waits for <b>R = %.0f</b> of them, a write for <b>W = %.0f</b>. ",
                       n, r, w);
        if (r + w > n)
            cli_buf_printf(h,
                           "R + W = %.0f &gt; N: every read asks at least one server that "
                           "acknowledged the latest write, so reads are fresh while the "
                           "quorums can be reached.</p>\n",
                           r + w);
        else
            cli_buf_printf(h,
                           "R + W = %.0f \xe2\x89\xa4 N: a read may ask only servers that "
                           "missed the latest write, so it can return an old value (a "
                           "<em>stale read</em>).</p>\n",
                           r + w);
    }
    cli_buf_printf(h, "<details><summary>Key settings</summary><table class=\"kv\">\n");
    int left = 80;
    static const char *const top[] = {"duration", "seed", "max_events"};
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        const cJSON *e = get(p->sc, top[i]);
        if (!e)
            continue;
        char *v = cJSON_PrintUnformatted(e);
        cli_buf_printf(h, "<tr><td><code>%s</code></td><td>", top[i]);
        html_text_n(h, v, 160);
        cli_buf_printf(h, "</td></tr>\n");
        cJSON_free(v);
    }
    const cJSON *nodes = get(p->sc, "nodes"), *g;
    cJSON_ArrayForEach(g, (cJSON_IsArray(nodes) ? nodes : NULL)) {
        char *v = cJSON_PrintUnformatted(g);
        cli_buf_printf(h, "<tr><td><code>nodes</code></td><td>");
        html_text_n(h, v, 160);
        cli_buf_printf(h, "</td></tr>\n");
        cJSON_free(v);
    }
    if (cJSON_IsObject(get(p->sc, "network")))
        settings_rows(h, get(p->sc, "network"), "network", &left);
    if (cJSON_IsObject(m))
        settings_rows(h, m, p->model, &left);
    cli_buf_printf(h,
                   "</table>%s<p class=\"note\">Every key with its default is in "
                   "<code>summary.json</code> (<code>scenario</code>).</p></details>\n",
                   left <= 0 ? "<p class=\"note\">(more settings are not shown)</p>" : "");
    cli_buf_printf(h, "</section>\n");
}

/* The action of a fault entry: its first key other than "at". */
static const cJSON *fault_action(const cJSON *f) {
    const cJSON *e;
    cJSON_ArrayForEach(e, f) {
        if (e->string && strcmp(e->string, "at") != 0)
            return e;
    }
    return NULL;
}

/* Where the window opened by fault i ends: its closing fault, or NAN. */
static double fault_end(const cJSON *faults, int i, const char *kind) {
    const char *closer = strcmp(kind, "partition") == 0   ? "heal"
                         : strcmp(kind, "crash") == 0     ? "recover"
                         : strcmp(kind, "fail") == 0      ? "replace"
                         : strcmp(kind, "slow_link") == 0 ? "heal"
                                                          : NULL;
    if (!closer)
        return NAN;
    for (int j = i + 1; j < cJSON_GetArraySize(faults); j++) {
        const cJSON *f = cJSON_GetArrayItem(faults, j);
        const cJSON *a = fault_action(f);
        if (a && strcmp(a->string, closer) == 0)
            return parse_s(get_str(f, "at"));
    }
    return NAN;
}

static void write_faults(page *p) {
    cli_buf *h = &p->h;
    section(p, "faults", "The fault schedule");
    const cJSON *faults = get(p->sc, "faults");
    int n = cJSON_IsArray(faults) ? cJSON_GetArraySize(faults) : 0;
    if (n > (int)REPORT_MAX_FAULTS)
        n = REPORT_MAX_FAULTS;
    const cJSON *rnd = get(p->sc, "random_faults");
    if (n == 0)
        cli_buf_printf(h, "<p>No fault is scheduled: the network and the nodes work "
                          "throughout.</p>\n");
    double dur = p->duration_s > 0 ? p->duration_s : 1;
    if (n > 0) {
        int rows = n;
        int height = 28 + 22 * rows;
        cli_buf_printf(h,
                       "<svg class=\"faultline\" viewBox=\"0 0 1000 %d\" role=\"img\" "
                       "aria-label=\"fault timeline\">\n<line x1=\"160\" y1=\"%d\" x2=\"980\" "
                       "y2=\"%d\" class=\"axis\"/>\n",
                       height, height - 18, height - 18);
        for (int t = 0; t <= 10; t++) {
            double x = 160 + 820.0 * t / 10;
            cli_buf_printf(h,
                           "<text x=\"%.1f\" y=\"%d\" class=\"tick\">%.3g s</text><line "
                           "x1=\"%.1f\" y1=\"4\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>\n",
                           x, height - 4, dur * t / 10, x, x, height - 18);
        }
        for (int i = 0; i < n; i++) {
            const cJSON *f = cJSON_GetArrayItem(faults, i);
            const cJSON *a = fault_action(f);
            const char *kind = a ? a->string : "?";
            double at = parse_s(get_str(f, "at"));
            if (isnan(at))
                at = 0;
            double end = fault_end(faults, i, kind);
            double x0 = 160 + 820 * fmin(at, dur) / dur;
            int y = 8 + 22 * i;
            cli_buf_printf(h, "<text x=\"150\" y=\"%d\" class=\"flabel\">", y + 13);
            html_text_n(h, kind, 24);
            cli_buf_printf(h, " @ ");
            html_text_n(h, get_str(f, "at"), 24);
            cli_buf_printf(h, "</text>");
            if (!isnan(end) && end > at) {
                double x1 = 160 + 820 * fmin(end, dur) / dur;
                cli_buf_printf(h,
                               "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" "
                               "class=\"fw f-%s\"/>",
                               x0, y, fmax(x1 - x0, 2),
                               strcmp(kind, "crash") == 0  ? "crash"
                               : strcmp(kind, "fail") == 0 ? "crash"
                                                           : "part");
            } else {
                cli_buf_printf(h, "<circle cx=\"%.1f\" cy=\"%d\" r=\"6\" class=\"fi\"/>", x0,
                               y + 8);
            }
            cli_buf_printf(h, "\n");
        }
        cli_buf_printf(h, "</svg>\n<ol class=\"faults\">\n");
        for (int i = 0; i < n; i++) {
            const cJSON *f = cJSON_GetArrayItem(faults, i);
            char *v = cJSON_PrintUnformatted(f);
            cli_buf_printf(h, "<li><code>");
            html_text_n(h, v, 300);
            cli_buf_printf(h, "</code></li>\n");
            cJSON_free(v);
        }
        cli_buf_printf(h, "</ol>\n<p class=\"note\">Bars are windows (a partition until its "
                          "heal, a crash until the recover, a failure until the replacement); "
                          "dots are instants.</p>\n");
    }
    if (rnd && !cJSON_IsNull(rnd) && !(cJSON_IsArray(rnd) && cJSON_GetArraySize(rnd) == 0))
        cli_buf_printf(h, "<p>Faults are also injected at random (<code>random_faults</code>): "
                          "they are not in this schedule; the diagram below shows those "
                          "that fall in its window.</p>\n");
    cli_buf_printf(h, "</section>\n");
}

static void write_metrics(page *p) {
    cli_buf *h = &p->h;
    section(p, "metrics", "What happened: the headline figures");
    const cJSON *mets = get(p->sum, "metrics");
    const cJSON *mm = get(mets, "model");
    cli_buf_printf(h, "<table class=\"metrics\"><tr><th>Figure</th><th>Value</th><th>What it "
                      "means</th></tr>\n");
    int shown = 0;
    for (const metric_doc *d = metric_docs; d->key; d++) {
        double v;
        if (strcmp(d->model, p->model) != 0 || !get_num(mm, d->key, &v))
            continue;
        cli_buf_printf(h, "<tr><td><code>%s.%s</code></td><td class=\"num\">", d->model, d->key);
        fmt_value(h, v, d->unit);
        if (strcmp(d->unit, "fraction") != 0 && strcmp(d->unit, "s") != 0)
            cli_buf_printf(h, " %s", d->unit);
        cli_buf_printf(h, "</td><td>%s</td></tr>\n", d->meaning);
        shown++;
    }
    /* Latency histograms in ns: the percentiles a class asks about. */
    const cJSON *hist;
    cJSON_ArrayForEach(hist,
                       (cJSON_IsObject(get(mets, "histograms")) ? get(mets, "histograms") : NULL)) {
        const char *unit = get_str(hist, "unit");
        double p50, p99, count;
        if (!unit || strcmp(unit, "ns") != 0 || !get_num(hist, "p50", &p50) ||
            !get_num(hist, "p99", &p99) || !get_num(hist, "count", &count) || count <= 0)
            continue;
        cli_buf_printf(h, "<tr><td><code>");
        html_text_n(h, hist->string, 80);
        cli_buf_printf(h,
                       "</code></td><td class=\"num\">p50 %.3f ms, p99 %.3f ms</td><td>Half "
                       "of the %.0f operations took at most the first figure; 99 in 100 at "
                       "most the second.</td></tr>\n",
                       p50 / 1e6, p99 / 1e6, count);
        shown++;
    }
    cli_buf_printf(h, "</table>\n");
    if (!shown)
        cli_buf_printf(h, "<p>This model reports no headline figure dsim knows how to explain; "
                          "all its figures are below.</p>\n");
    cli_buf_printf(h, "<details><summary>Every figure of the run</summary><table "
                      "class=\"kv\">\n");
    static const char *const parts[] = {"model", "counters", "gauges"};
    int rows = 0;
    for (size_t i = 0; i < 3; i++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, (cJSON_IsObject(get(mets, parts[i])) ? get(mets, parts[i]) : NULL)) {
            if (rows++ >= 400)
                break;
            char *v = cJSON_PrintUnformatted(e);
            cli_buf_printf(h, "<tr><td><code>%s.", parts[i]);
            html_text_n(h, e->string, 120);
            cli_buf_printf(h, "</code></td><td>");
            html_text_n(h, v, 120);
            cli_buf_printf(h, "</td></tr>\n");
            cJSON_free(v);
        }
    }
    cli_buf_printf(h, "</table></details>\n</section>\n");
}

/* ---- Predict, then run. ---- */

/* The questions of the scenario, each with its answer folded away: the
 * measured value, the explanation and, after `dsim run --predict`, the
 * prediction made (DIR/predictions.json, read as data). */
static void write_predict(page *p) {
    const cJSON *qs = get(p->sc, "predict");
    int n = cJSON_IsArray(qs) ? cJSON_GetArraySize(qs) : 0;
    if (n == 0)
        return;
    if (n > 100)
        n = 100;
    cli_buf *h = &p->h;
    section(p, "predict", "Predict, then run");
    char *path = sim_malloc(strlen(p->dir) + 20);
    sprintf(path, "%s/predictions.json", p->dir);
    char why[512];
    size_t len;
    struct stat st;
    char *text = lstat(path, &st) == 0 && S_ISREG(st.st_mode)
                     ? cli_read_file(path, 1u << 20, &len, why, sizeof why)
                     : NULL;
    sim_free(path);
    cJSON *pred = text ? cJSON_ParseWithLength(text, len) : NULL;
    sim_free(text);
    cli_buf_printf(h, "<p>Answer each question before you look further down this page (or "
                      "run <code>dsim run FILE --predict</code>, which asks them on the terminal "
                      "and grades the answers). Open an answer to see what the run "
                      "measured.</p>\n<ol class=\"predict\">\n");
    for (int i = 0; i < n; i++) {
        const cJSON *q = cJSON_GetArrayItem(qs, i);
        cli_buf_printf(h, "<li><p class=\"ask\">");
        html_text_n(h, get_str(q, "ask"), 2000);
        cli_buf_printf(h, "</p><details><summary>The answer</summary><p>Measured as <code>");
        html_text_n(h, get_str(q, "metric"), 200);
        cli_buf_printf(h, "</code>");
        const cJSON *w = get(q, "window");
        if (cJSON_GetArraySize(w) == 2) {
            cli_buf_printf(h, " from ");
            html_text_n(h, cJSON_GetStringValue(cJSON_GetArrayItem(w, 0)), 40);
            cli_buf_printf(h, " to ");
            html_text_n(h, cJSON_GetStringValue(cJSON_GetArrayItem(w, 1)), 40);
        }
        double m, tol = 0;
        get_num(q, "tolerance", &tol);
        char err[600];
        bool measured = predict_measure(p->dir, p->sum, q, &m, err, sizeof err) == 0;
        if (measured)
            cli_buf_printf(h,
                           ": <b class=\"num\">%.4g</b> (a prediction within %g of it is "
                           "right).",
                           m, tol);
        else {
            cli_buf_printf(h, ": not measured (");
            html_text(h, err);
            cli_buf_printf(h, ").");
        }
        const cJSON *qa = get(cJSON_GetArrayItem(get(pred, "questions"), i), "answer");
        if (cJSON_IsNumber(qa) && isfinite(qa->valuedouble)) {
            bool ok = measured && predict_correct(q, qa->valuedouble, m);
            cli_buf_printf(h, " The prediction made with <code>--predict</code> was <b>%.4g</b>%s",
                           qa->valuedouble,
                           !measured ? "."
                           : ok      ? ": right."
                                     : ": not right.");
        }
        cli_buf_printf(h, "</p>");
        const char *explain = get_str(q, "explain");
        if (explain && *explain) {
            cli_buf_printf(h, "<p class=\"explain\"><b>Why:</b> ");
            html_text_n(h, explain, 4000);
            cli_buf_printf(h, "</p>");
        }
        cli_buf_printf(h, "</details></li>\n");
    }
    cJSON_Delete(pred);
    cli_buf_printf(h, "</ol>\n</section>\n");
}

/* ---- kv: the stale reads, told. ---- */

/* The key of a narration line "... of key K..." after prefix, or -1. */
static long line_key(const char *text, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(text, prefix, n) != 0)
        return -1;
    char *end;
    long k = strtol(text + n, &end, 10);
    return end != text + n && (*end == ':' || *end == ' ') ? k : -1;
}

static void write_stale(page *p) {
    cli_buf *h = &p->h;
    section(p, "stale", "The stale reads, and why each was stale");
    double stale = 0, reads = 0;
    const cJSON *mm = get(get(p->sum, "metrics"), "model");
    get_num(mm, "stale_reads", &stale);
    get_num(mm, "reads_ok", &reads);
    if (!p->have_rp) {
        cli_buf_printf(h, "<p>The run could not be replayed for its narration (");
        html_text(h, p->rp_why);
        cli_buf_printf(h, ").</p></section>\n");
        return;
    }
    if (stale == 0) {
        cli_buf_printf(h, "<p><b>No read was stale.</b> Every read returned the newest "
                          "version acknowledged before it started.</p></section>\n");
        return;
    }
    cli_buf_printf(h,
                   "<p>%.0f of %.0f successful reads were stale. A read is <em>stale</em> "
                   "when it returns a version older than the newest one the system had "
                   "acknowledged to a writer before the read began: dsim's oracle sees every "
                   "replica, which no real client can. For each stale read below: what the "
                   "client got, which replicas its coordinator heard from and with what, "
                   "and who had acknowledged the write it missed.</p>\n",
                   stale, reads);
    const report_replay *r = &p->rp;
    size_t told = 0;
    cli_buf_printf(h, "<ol class=\"stale\">\n");
    for (size_t i = 0; i < r->n_lines && told < REPORT_MAX_STALE; i++) {
        const report_line *l = &r->lines[i];
        long key = l->fault ? -1 : line_key(l->text, "STALE read of key ");
        if (key < 0)
            continue;
        char pre[64];
        snprintf(pre, sizeof pre, "read of key %ld:", key);
        const report_line *coord = NULL, *commit = NULL;
        for (size_t j = i; j-- > 0 && i - j < 50000;) {
            if (!r->lines[j].fault && strncmp(r->lines[j].text, pre, strlen(pre)) == 0) {
                coord = &r->lines[j];
                break;
            }
        }
        /* "but w<id> was the newest acknowledged": the write missed. */
        const char *but = strstr(l->text, "but w");
        if (but) {
            unsigned long wid = strtoul(but + 5, NULL, 10);
            char wpre[80];
            snprintf(wpre, sizeof wpre, "write w%lu of key %ld committed", wid, key);
            for (size_t j = i; j-- > 0 && i - j < 200000;) {
                if (!r->lines[j].fault && strncmp(r->lines[j].text, wpre, strlen(wpre)) == 0) {
                    commit = &r->lines[j];
                    break;
                }
            }
        }
        cli_buf_printf(h, "<li data-t=\"%lld\" data-key=\"%ld\"><div class=\"when\">%.6f s, ",
                       (long long)l->t, key, sim_time_to_s(l->t));
        html_text_n(h, l->node >= 0 ? r->nodes[l->node] : "?", 64);
        cli_buf_printf(h, " <button class=\"show\" type=\"button\">show in the "
                          "diagram</button></div><div class=\"got\">");
        html_text_n(h, l->text, 400);
        cli_buf_printf(h, "</div>");
        if (coord) {
            cli_buf_printf(h, "<div class=\"why\"><b>Who answered</b> (coordinator ");
            html_text_n(h, coord->node >= 0 ? r->nodes[coord->node] : "?", 64);
            cli_buf_printf(h, ", %.6f s): ", sim_time_to_s(coord->t));
            html_text_n(h, coord->text, 400);
            cli_buf_printf(h, "</div>");
        }
        if (commit) {
            cli_buf_printf(h, "<div class=\"why\"><b>The write it missed</b> (coordinator ");
            html_text_n(h, commit->node >= 0 ? r->nodes[commit->node] : "?", 64);
            cli_buf_printf(h, ", %.6f s): ", sim_time_to_s(commit->t));
            html_text_n(h, commit->text, 400);
            cli_buf_printf(h, "</div>");
        }
        cli_buf_printf(h, "</li>\n");
        if (++told == 8)
            cli_buf_printf(h, "</ol><details><summary>More stale reads</summary><ol "
                              "class=\"stale\" start=\"9\">\n");
    }
    cli_buf_printf(h, "</ol>%s\n", told > 8 ? "</details>" : "");
    if (told < stale)
        cli_buf_printf(h,
                       "<p class=\"note\">The first %zu stale reads are told here (of %.0f%s); "
                       "all are in <code>trace.jsonl</code> of <code>dsim run --trace</code> "
                       "(lines with \"STALE\").</p>\n",
                       told, stale, r->whole ? "" : ", in the part of the run replayed");
    cli_buf_printf(h, "</section>\n");
}

/* ---- mq: the message life cycle. ---- */

static void write_lifecycle(page *p) {
    cli_buf *h = &p->h;
    section(p, "lifecycle", "The life cycle of a message");
    const cJSON *mets = get(p->sum, "metrics");
    const cJSON *mm = get(mets, "model"), *ct = get(mets, "counters");
    static const struct {
        const char *part, *key, *stage, *meaning;
    } stages[] = {
        {"model", "published", "published", "a producer handed the message to the broker"},
        {"model", "copies", "queued", "one copy per consumer group that subscribes to its topic"},
        {"counters", "mq.delivered", "delivered", "a broker gave a copy to a consumer"},
        {"counters", "mq.processed", "acknowledged",
         "the consumer processed the copy and acknowledged it"},
        {"model", "redeliveries", "redelivered",
         "no acknowledgement came in time (a crash, a timeout): the copy was delivered again"},
        {"model", "dead_lettered", "dead-lettered",
         "failed too often: set aside in the dead-letter queue"},
        {"model", "lost", "lost", "never processed and never will be"},
        {"model", "still_queued", "still queued", "waiting at the end of the run"},
    };
    cli_buf_printf(h, "<p>Each message goes from stage to stage; the count is how many copies "
                      "reached the stage in this run.</p><ol class=\"flow\">\n");
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
        double v;
        if (!get_num(strcmp(stages[i].part, "model") == 0 ? mm : ct, stages[i].key, &v))
            continue;
        cli_buf_printf(h, "<li><b>%s</b> <span class=\"num\">%.0f</span> <span>%s</span></li>\n",
                       stages[i].stage, v, stages[i].meaning);
    }
    cli_buf_printf(h, "</ol>\n<table class=\"kv\"><tr><th>consumer group</th><th>copies</th>"
                      "<th>processed</th><th>duplicated</th><th>dead-lettered</th><th>lost</th>"
                      "<th>p99 latency</th></tr>\n");
    const cJSON *e;
    int groups = 0;
    cJSON_ArrayForEach(e, (cJSON_IsObject(mm) ? mm : NULL)) {
        const char *k = e->string;
        size_t n = k ? strlen(k) : 0;
        if (n < 13 || strncmp(k, "group.", 6) != 0 || strcmp(k + n - 7, ".copies") != 0 ||
            groups >= 64)
            continue;
        char g[128];
        snprintf(g, sizeof g, "%.*s", (int)(n - 13 < 100 ? n - 13 : 100), k + 6);
        cli_buf_printf(h, "<tr><td>");
        html_text(h, g);
        cli_buf_printf(h, "</td>");
        static const char *const cols[] = {"copies",        "processed", "duplicated",
                                           "dead_lettered", "lost",      "latency_p99_s"};
        for (size_t c = 0; c < 6; c++) {
            char key[200];
            snprintf(key, sizeof key, "group.%s.%s", g, cols[c]);
            double v;
            if (get_num(mm, key, &v))
                cli_buf_printf(h, c == 5 ? "<td>%.4g s</td>" : "<td>%.0f</td>", v);
            else
                cli_buf_printf(h, "<td></td>");
        }
        cli_buf_printf(h, "</tr>\n");
        groups++;
    }
    cli_buf_printf(h, "</table>\n<p class=\"note\">In the diagram below each message type "
                      "(publish, deliver, ack, ...) has its own colour: scrub to a crash and "
                      "watch deliveries stop and redeliveries follow the recovery.</p>\n"
                      "</section>\n");
}

/* ---- gossip: who knew the rumour when. ---- */

static int learn_cmp(const void *a, const void *b) {
    const report_learn *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

static void write_rumour(page *p) {
    cli_buf *h = &p->h;
    section(p, "rumour", "Who knew the rumour when");
    if (!p->have_rp) {
        cli_buf_printf(h, "<p>The run could not be replayed (");
        html_text(h, p->rp_why);
        cli_buf_printf(h, ").</p></section>\n");
        return;
    }
    report_replay *r = &p->rp;
    qsort(r->learn, r->n_learn, sizeof *r->learn, learn_cmp);
    size_t knew0 = 0;
    for (size_t i = 0; i < r->n_learn; i++)
        knew0 += r->learn[i].update == 0;
    cli_buf_printf(h,
                   "<p>%zu of %u nodes learned the first update during the run. The list "
                   "shows each node in the order it learned it; in the diagram, a node's "
                   "lane turns colour once it knows.</p>\n<ol class=\"learn\">\n",
                   knew0, r->n_nodes);
    size_t shown = 0;
    for (size_t i = 0; i < r->n_learn && shown < 400; i++) {
        if (r->learn[i].update != 0)
            continue;
        cli_buf_printf(h, "<li><span class=\"num\">%.3f s</span> ", sim_time_to_s(r->learn[i].t));
        html_text_n(h, r->nodes[r->learn[i].node], 64);
        cli_buf_printf(h, "</li>");
        shown++;
    }
    cli_buf_printf(h, "</ol>\n%s</section>\n",
                   shown < knew0 ? "<p class=\"note\">(the first 400 are listed)</p>" : "");
}

/* ---- The space-time diagram's data. ---- */

/* Chooses the window of messages shown: REPORT_MAX_MSGS consecutive
 * deliveries starting a little before the first stale read (kv) or the
 * first fault, else from the start. */
static void choose_window(page *p) {
    const report_replay *r = &p->rp;
    size_t anchor = 0;
    bool found = false;
    for (size_t i = 0; i < r->n_msgs && !found; i++)
        if (r->msgs[i].stale) {
            anchor = i;
            found = true;
        }
    if (!found) {
        sim_time first_fault = -1;
        for (size_t i = 0; i < r->n_lines; i++)
            if (r->lines[i].fault) {
                first_fault = r->lines[i].t;
                break;
            }
        for (size_t i = 0; first_fault >= 0 && i < r->n_msgs; i++)
            if (r->msgs[i].recv >= first_fault) {
                anchor = i;
                break;
            }
    }
    size_t before = REPORT_MAX_MSGS / 3;
    p->win0 = anchor > before ? anchor - before : 0;
    p->win1 = p->win0 + REPORT_MAX_MSGS < r->n_msgs ? p->win0 + REPORT_MAX_MSGS : r->n_msgs;
    if (p->win1 - p->win0 < REPORT_MAX_MSGS && r->n_msgs > REPORT_MAX_MSGS)
        p->win0 = r->n_msgs - REPORT_MAX_MSGS;
}

static cJSON *num_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static void build_data(page *p) {
    cJSON *d = p->data = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "model", p->model);
    cJSON_AddNumberToObject(d, "duration_s", p->duration_s);
    if (!p->have_rp) {
        cJSON_AddStringToObject(d, "unavailable", p->rp_why);
        return;
    }
    const report_replay *r = &p->rp;
    choose_window(p);
    cJSON *nodes = cJSON_AddArrayToObject(d, "nodes");
    for (uint32_t i = 0; i < r->n_nodes; i++)
        cJSON_AddItemToArray(nodes, cJSON_CreateString(r->nodes[i]));
    cJSON *types = cJSON_AddArrayToObject(d, "types");
    for (uint32_t i = 0; i < r->n_types; i++)
        cJSON_AddItemToArray(types, cJSON_CreateString(r->types[i]));
    cJSON *msgs = cJSON_AddArrayToObject(d, "msgs");
    for (size_t i = p->win0; i < p->win1; i++) {
        const report_msg *m = &r->msgs[i];
        double row[9] = {(double)m->sent, (double)m->recv, m->src,
                         m->dst,          m->type,         m->is_kv ? (double)m->key : -1,
                         m->wid,          (double)m->vts,  (m->ok ? 1 : 0) | (m->stale ? 2 : 0)};
        cJSON_AddItemToArray(msgs, num_array(row, 9));
    }
    cJSON *win = cJSON_AddObjectToObject(d, "window");
    cJSON_AddNumberToObject(win, "shown", (double)(p->win1 - p->win0));
    cJSON_AddNumberToObject(win, "recorded", (double)r->n_msgs);
    cJSON_AddBoolToObject(win, "recording_capped", r->msgs_capped);
    cJSON_AddBoolToObject(win, "whole_run", r->whole);
    cJSON_AddBoolToObject(win, "same_run", r->same);
    cJSON_AddNumberToObject(win, "events", (double)r->events);
    cJSON_AddNumberToObject(win, "end", (double)r->end);
    sim_time t0 = p->win1 > p->win0 ? r->msgs[p->win0].recv : 0;
    sim_time t1 = p->win1 > p->win0 ? r->msgs[p->win1 - 1].recv : r->end;
    if (p->win0 == 0)
        t0 = 0;
    if (p->win1 == r->n_msgs && r->whole)
        t1 = r->end;
    cJSON_AddNumberToObject(win, "t0", (double)t0);
    cJSON_AddNumberToObject(win, "t1", (double)t1);
    /* Faults of the whole run (they frame the window); narration in it. */
    cJSON *faults = cJSON_AddArrayToObject(d, "faults");
    cJSON *logs = cJSON_AddArrayToObject(d, "logs");
    size_t n_faults = 0, n_logs = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        const report_line *l = &r->lines[i];
        if (l->fault && n_faults < REPORT_MAX_FAULTS) {
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)l->t));
            cJSON_AddItemToArray(a, cJSON_CreateNumber(l->node));
            cJSON_AddItemToArray(a, cJSON_CreateString(l->text));
            cJSON_AddItemToArray(faults, a);
            n_faults++;
        } else if (!l->fault && l->t >= t0 && l->t <= t1 && n_logs < REPORT_MAX_LOGS) {
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)l->t));
            cJSON_AddItemToArray(a, cJSON_CreateNumber(l->node));
            cJSON_AddItemToArray(a, cJSON_CreateString(l->text));
            cJSON_AddItemToArray(logs, a);
            n_logs++;
        }
    }
    cJSON_AddBoolToObject(win, "logs_capped", n_logs >= REPORT_MAX_LOGS || r->lines_capped);
    cJSON *learn = cJSON_AddArrayToObject(d, "learn");
    for (size_t i = 0; i < r->n_learn && i < REPORT_MAX_LEARN; i++) {
        double row[3] = {(double)r->learn[i].t, r->learn[i].node, r->learn[i].update};
        cJSON_AddItemToArray(learn, num_array(row, 3));
    }
}

static void write_diagram(page *p) {
    cli_buf *h = &p->h;
    section(p, "diagram", "The run, message by message");
    if (!p->have_rp) {
        cli_buf_printf(h, "<p>No diagram: the run could not be replayed (");
        html_text(h, p->rp_why);
        cli_buf_printf(h, ").</p></section>\n");
        return;
    }
    cli_buf_printf(
        h,
        "<p>One lane per node, time running left to right, one line per message from its "
        "sending to its arrival. Drag the slider (or press play) to move through the run: "
        "messages in flight are drawn bold, a crashed node's lane is grey, a partition is "
        "shaded.%s</p>\n",
        strcmp(p->model, "kv") == 0
            ? " Choose a key to see each replica's version of it and the oracle's verdict on "
              "each read of it."
            : "");
    cli_buf_printf(
        h,
        "<div id=\"st\" class=\"st\"><div class=\"controls\">"
        "<button id=\"st-play\" type=\"button\">play</button> "
        "<input id=\"st-slider\" type=\"range\" min=\"0\" max=\"1000\" value=\"0\" "
        "aria-label=\"time\"> <span id=\"st-time\" class=\"num\"></span>"
        "<label> view <select id=\"st-zoom\"><option value=\"0\">the whole window</option>"
        "<option value=\"1000\">1 s</option><option value=\"200\">200 ms</option>"
        "<option value=\"50\"%s>50 ms</option><option value=\"10\">10 ms</option>"
        "</select></label>"
        "<label id=\"st-keylabel\" hidden> key <select id=\"st-key\"></select></label>"
        "</div><p id=\"st-window\" class=\"note\"></p>"
        "<div class=\"stwrap\"><svg id=\"st-svg\" role=\"img\" aria-label=\"space-time "
        "diagram\"></svg></div><div class=\"stside\"><div id=\"st-status\"></div>"
        "<table id=\"st-versions\" class=\"kv\" hidden></table>"
        "<ol id=\"st-reads\" class=\"reads\" hidden></ol>"
        "<div id=\"st-log\" class=\"log\"></div></div></div>\n</section>\n",
        strcmp(p->model, "kv") == 0 ? " selected" : "");
}

/* ---- Charts. ---- */

typedef struct chart_doc {
    const char *name, *title, *sentence;
} chart_doc;

static const chart_doc chart_docs[] = {
    {"timeline", "What happened when, around the faults",
     "One panel per series over simulated time, each fault a shaded window: a crashed replica "
     "costs availability, a partition costs freshness."},
    {"latency", "How long operations take",
     "Read a curve as \"this fraction of operations finished within this many milliseconds\"."},
    {"per_node", "Is the load spread evenly",
     "Equal bars mean the data and the work are spread evenly; one tall bar is a hot spot."},
    {"messages", "What the network carried",
     "Messages and bytes per type, and how many a fault threw away."},
    {"t_visibility", "How soon a write becomes visible",
     "The chance that a read sees the latest acknowledged write, against how long after its "
     "commit the read started."},
    {"stale_heatmap", "Stale reads over R \xc3\x97 W",
     "Each cell is the mean stale-read fraction of one (R, W) point; the cells with R + W > N "
     "are zero."},
    {"tradeoff", "Latency against staleness, with the Pareto frontier",
     "Everything off the dashed frontier is beaten by another configuration on both axes: along "
     "it, freshness is bought with latency."},
    {"spacetime", "One read, message by message (gnuplot)",
     "The stale read with the shortest story: the write it missed, the read, and the replica "
     "traffic between."},
    {NULL, NULL, NULL}};

typedef struct svg_file {
    char *name;
    int rank;
} svg_file;

static int svg_cmp(const void *a, const void *b) {
    const svg_file *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return strcmp(x->name, y->name);
}

void report_charts(cli_buf *h, const char *dir) {
    cli_buf_printf(h, "<section id=\"charts\"><h2>Every chart</h2>\n");
    DIR *dp = opendir(dir);
    svg_file files[REPORT_MAX_SVGS];
    size_t n = 0, skipped = 0;
    struct dirent *de;
    while (dp && (de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".svg") != 0 || de->d_name[0] == '.')
            continue;
        if (n == REPORT_MAX_SVGS) {
            skipped++;
            continue;
        }
        int rank = 100;
        for (int i = 0; chart_docs[i].name; i++)
            if (strlen(chart_docs[i].name) == len - 4 &&
                strncmp(chart_docs[i].name, de->d_name, len - 4) == 0)
                rank = i;
        files[n].name = sim_malloc(len + 1);
        memcpy(files[n].name, de->d_name, len + 1);
        files[n++].rank = rank;
    }
    if (dp)
        closedir(dp);
    qsort(files, n, sizeof *files, svg_cmp);
    size_t total = 0, drawn = 0;
    for (size_t i = 0; i < n; i++) {
        char *path = sim_malloc(strlen(dir) + strlen(files[i].name) + 2);
        sprintf(path, "%s/%s", dir, files[i].name);
        struct stat st;
        char err[256];
        size_t len = 0;
        char *data = NULL;
        /* A link is not one of the run's charts: never followed. */
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            total + (size_t)st.st_size <= REPORT_MAX_SVG_BYTES)
            data = cli_read_file(path, REPORT_MAX_SVG_BYTES - total, &len, err, sizeof err);
        sim_free(path);
        if (!data) {
            skipped++;
            sim_free(files[i].name);
            continue;
        }
        total += len;
        const chart_doc *doc = files[i].rank < 100 ? &chart_docs[files[i].rank] : NULL;
        cli_buf_printf(h, "<figure class=\"chart\"><figcaption><b>");
        html_text_n(h, doc ? doc->title : files[i].name, 200);
        cli_buf_printf(h, "</b> <code>");
        html_text_n(h, files[i].name, 200);
        cli_buf_printf(h, "</code>%s%s</figcaption><img alt=\"", doc ? "<br>" : "",
                       doc ? doc->sentence : "");
        html_text_n(h, files[i].name, 200);
        cli_buf_printf(h, "\" src=\"data:image/svg+xml;base64,");
        base64(h, (const unsigned char *)data, len);
        cli_buf_printf(h, "\"></figure>\n");
        sim_free(data);
        sim_free(files[i].name);
        drawn++;
    }
    if (drawn == 0)
        cli_buf_printf(h, "<p>This folder has no chart. Charts are drawn by gnuplot "
                          "(<code>dsim plot DIR</code>, then <code>dsim report DIR</code> to "
                          "put them here).</p>\n");
    if (skipped)
        cli_buf_printf(h,
                       "<p class=\"note\">%zu SVG file(s) left out (a link, too "
                       "large, or past the page's limit of %u charts and %u MiB).</p>\n",
                       skipped, REPORT_MAX_SVGS, REPORT_MAX_SVG_BYTES >> 20);
    cli_buf_printf(h, "<p class=\"note\">docs/charts.md explains every chart.</p></section>\n");
}

static void write_tail(page *p) {
    cli_buf *h = &p->h;
    cli_buf_printf(h, "</main>\n<footer>Written by <code>dsim report</code> from this folder's "
                      "files alone; rebuild it with <code>dsim report DIR</code>. It needs no "
                      "network. docs/report.md describes this page.</footer>\n"
                      "<script type=\"application/json\" id=\"dsim-data\">");
    json_script(h, p->data);
    cli_buf_printf(h, "</script>\n<script>%s</script>\n</body></html>\n", report_js);
}

/* Builds and writes DIR/report.html.  0; -1 with a message in err and
 * *bad set when the folder is not a run's. */
static int report_write(const char *dir, char *err, size_t errlen, bool *bad) {
    *bad = false;
    char *swp = sim_malloc(strlen(dir) + 16);
    sprintf(swp, "%s/sweep.json", dir);
    struct stat sst;
    bool is_sweep = lstat(swp, &sst) == 0;
    sim_free(swp);
    if (is_sweep) {
        cli_buf h = {0};
        int rc = report_sweep_page(dir, &h, err, errlen);
        if (rc < 0)
            *bad = true;
        else if (cli_write_file(dir, "report.html", h.s) != 0)
            rc = cli_fail(err, errlen, "cannot write %s/report.html", dir);
        sim_free(h.s);
        return rc;
    }
    char *path = sim_malloc(strlen(dir) + 16);
    sprintf(path, "%s/summary.json", dir);
    char rerr[512];
    size_t len;
    char *text = cli_read_file(path, REPORT_MAX_SUMMARY, &len, rerr, sizeof rerr);
    sim_free(path);
    if (!text) {
        *bad = true;
        return cli_fail(err, errlen, "%s/summary.json: %s", dir, rerr);
    }
    cJSON *sum = cJSON_ParseWithLength(text, len);
    sim_free(text);
    const cJSON *sc = get(sum, "scenario");
    const char *model = get_str(sc, "model");
    if (!cJSON_IsObject(sum) || !cJSON_IsObject(sc) || !model) {
        cJSON_Delete(sum);
        *bad = true;
        return cli_fail(err, errlen,
                        "%s/summary.json: not a run's summary (no scenario with a model)", dir);
    }
    page p = {.dir = dir, .sum = sum, .sc = sc, .model = model};
    p.duration_s = parse_s(get_str(sc, "duration"));
    const char *end = get_str(sum, "end_time");
    if (end && parse_s(end) > 0 && (isnan(p.duration_s) || parse_s(end) < p.duration_s))
        p.duration_s = parse_s(end);
    if (isnan(p.duration_s))
        p.duration_s = 0;
    int rc = 0;
    if (!sim_model_find(model)) {
        snprintf(p.rp_why, sizeof p.rp_why, "the folder's model is not one of dsim's");
    } else if (cli_own_dir(dir, "chart-data") == 0) {
        char *data_dir = sim_malloc(strlen(dir) + 16);
        sprintf(data_dir, "%s/chart-data", dir);
        char why[2600];
        if (report_replay_run(sum, data_dir, REPORT_MAX_EVENTS, &p.rp, why, sizeof why) == 0)
            p.have_rp = true;
        else
            snprintf(p.rp_why, sizeof p.rp_why, "%s", why);
        sim_free(data_dir);
    } else {
        snprintf(p.rp_why, sizeof p.rp_why, "cannot make chart-data/ for the replay");
    }
    write_head(&p);
    write_scenario(&p);
    write_predict(&p);
    write_faults(&p);
    write_metrics(&p);
    build_data(&p);
    write_diagram(&p);
    if (strcmp(model, "kv") == 0)
        write_stale(&p);
    else if (strcmp(model, "mq") == 0)
        write_lifecycle(&p);
    else if (strcmp(model, "gossip") == 0)
        write_rumour(&p);
    report_charts(&p.h, dir);
    write_tail(&p);
    if (cli_write_file(dir, "report.html", p.h.s) != 0)
        rc = cli_fail(err, errlen, "cannot write %s/report.html", dir);
    sim_free(p.h.s);
    cJSON_Delete(p.data);
    if (p.have_rp)
        report_replay_free(&p.rp);
    cJSON_Delete(sum);
    return rc;
}

int report_auto(const char *dir, bool quiet) {
    const char *off = getenv("DSIM_NO_REPORT");
    if (off && *off && strcmp(off, "0") != 0)
        return 0;
    char err[1024];
    bool bad;
    if (report_write(dir, err, sizeof err, &bad) != 0) {
        cli_print_error(err);
        return -1;
    }
    if (!quiet)
        printf("report: %s/report.html\n", dir);
    return 0;
}

int report_cmd(int argc, char **argv) {
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option %.200s (see dsim help report)", argv[i]);
            cli_print_error(msg);
            return EXIT_BAD_INPUT;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_print_error("unexpected argument (one folder at a time)");
            return EXIT_BAD_INPUT;
        }
    }
    if (!dir) {
        cli_print_error("a folder is required (see dsim help report)");
        return EXIT_BAD_INPUT;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char msg[600];
        snprintf(msg, sizeof msg, "%.500s is not a folder", dir);
        cli_print_error(msg);
        return EXIT_BAD_INPUT;
    }
    char err[1024];
    bool bad;
    if (report_write(dir, err, sizeof err, &bad) != 0) {
        cli_print_error(err);
        return bad ? EXIT_BAD_INPUT : EXIT_INTERNAL;
    }
    if (!quiet) {
        char msg[600];
        snprintf(msg, sizeof msg, "%.500s/report.html", dir);
        char shown[1300];
        sim_escape(shown, sizeof shown, msg);
        printf("report: %s\n", shown);
    }
    return 0;
}
