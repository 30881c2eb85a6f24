/*
 * fuzz_plot.c - a fuzz target for `dsim plot` over generated folders
 * (issue: plotting a folder never runs what it says, never crashes).
 *
 * An input is a folder in one text: sections that start with a line
 * "--- NAME" (NAME one of the files dsim plot reads) and hold that file's
 * bytes.  The folder is written afresh, then `dsim plot DIR --quiet` runs
 * in-process with DSIM_GNUPLOT=/bin/true, so that everything dsim does
 * with the folder (checks, derived data, the kv replay) is exercised and
 * no real gnuplot is started.  Any exit status is fine; a crash, a
 * sanitizer report, a leak or a file written outside DIR is a finding.
 */
#include "plot.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"summary.json",   "sweep.json",     "timeseries.csv",
                                    "histograms.csv", "per_node.csv",   "t_visibility.csv",
                                    "points.csv",     "convergence.csv"};

/* Removes dir's files and its chart-data folder (one level each). */
static void clear(const char *dir) {
    char p[1024];
    for (int pass = 0; pass < 2; pass++) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s%s", dir, pass == 0 ? "/chart-data" : "");
        DIR *d = opendir(sub);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                continue;
            snprintf(p, sizeof p, "%s/%s", sub, e->d_name);
            if (unlink(p) != 0)
                rmdir(p); /* a leftover work folder: empty, or stays */
        }
        closedir(d);
        if (pass == 0)
            rmdir(sub);
    }
}

static char dir[64];

static void cleanup(void) {
    clear(dir);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dsim_fuzz_plot_%ld", (long)getpid());
        setenv("DSIM_GNUPLOT", "/bin/true", 1);
        atexit(cleanup);
    }
    mkdir(dir, 0777);
    clear(dir);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    /* Sections: "--- NAME\n" then the file, up to the next such line. */
    char *p = text;
    while ((p = strstr(p, "--- ")) != NULL) {
        if (p != text && p[-1] != '\n') {
            p += 4;
            continue;
        }
        char *eol = strchr(p, '\n');
        if (!eol)
            break;
        *eol = '\0';
        const char *name = p + 4;
        char *body = eol + 1, *next = strstr(body, "\n--- ");
        size_t len = next ? (size_t)(next - body) + 1 : strlen(body);
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(name, names[i]) == 0) {
                char path[128];
                snprintf(path, sizeof path, "%s/%s", dir, name);
                FILE *f = fopen(path, "wb");
                if (f) {
                    fwrite(body, 1, len, f);
                    fclose(f);
                }
            }
        p = body + len;
    }
    free(text);
    char *argv[] = {dir, "--quiet", NULL};
    fflush(stdout);
    plot_cmd(2, argv);
    return 0;
}
