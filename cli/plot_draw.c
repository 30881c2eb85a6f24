/*
 * plot_draw.c - running gnuplot for `dsim plot`.
 *
 * Each chart is one run of `gnuplot -e VARS plots/<script>`, in a folder
 * made fresh for this `dsim plot` (mkdtemp inside chart-data/), so that
 * gnuplot opens no name someone else chose: its images are written there
 * and renamed to DIR/<chart>.png and .svg (a rename replaces a link planted
 * at that name instead of following it), and its data are "../<file>",
 * files of chart-data/ that dsim has just written.  The command lines go
 * to chart-data/commands.txt, gnuplot's messages to chart-data/gnuplot.log.
 *
 * Invariants: VARS holds only what plot_gp_var and plot_gp_num made; no
 * path of the folder is ever part of it; a chart that fails leaves no
 * half-written image at DIR/<chart>.*.
 */
/* realpath and mkdtemp are X/Open. */
#define _XOPEN_SOURCE 700

#include "plot_int.h"

#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DSIM_PLOTS_DIR
#define DSIM_PLOTS_DIR "plots"
#endif

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = sim_malloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* Finds an executable named name on the PATH. */
static bool find_on_path(const char *name, char *out, size_t n) {
    const char *path = getenv("PATH");
    if (!path)
        return false;
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)len, len ? path : ".", name);
        if (access(out, X_OK) == 0)
            return true;
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

int plot_bad(plotter *pl, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char dir[512];
    plot_label(dir, sizeof dir, pl->dir);
    fprintf(stderr, "dsim: %s/%s\n", dir, msg);
    pl->bad++;
    return -1;
}

int plot_open(plotter *pl, const char *dir, bool quiet, bool *missing) {
    memset(pl, 0, sizeof *pl);
    pl->dir = dir;
    pl->quiet = quiet;
    *missing = false;
    /* DSIM_GNUPLOT names the program (another gnuplot; the fuzz target's
     * stand-in); the default is gnuplot on the PATH. */
    const char *prog = getenv("DSIM_GNUPLOT");
    if (prog && *prog) {
        if (access(prog, X_OK) != 0) {
            *missing = true;
            return -1;
        }
        snprintf(pl->gnuplot, sizeof pl->gnuplot, "%s", prog);
    } else if (!find_on_path("gnuplot", pl->gnuplot, sizeof pl->gnuplot)) {
        *missing = true;
        return -1;
    }
    const char *scripts = getenv("DSIM_PLOTS_DIR");
    if (!scripts || !*scripts)
        scripts = DSIM_PLOTS_DIR;
    /* gnuplot runs elsewhere: the scripts' folder must be absolute. */
    char real[PATH_MAX];
    if (!realpath(scripts, real)) {
        fprintf(stderr, "dsim: the chart scripts' folder %s: %s\n", scripts, strerror(errno));
        return -1;
    }
    cli_buf probe = {0};
    if (plot_gp_var(&probe, "plotdir", real) < 0) {
        fprintf(stderr, "dsim: the chart scripts' folder's name holds a control character\n");
        return -1;
    }
    sim_free(probe.s);
    pl->scripts = sim_strdup(real);
    if (cli_own_dir(dir, "chart-data") < 0)
        return -1;
    pl->data = join(dir, "chart-data");
    char *tmpl = join(pl->data, ".draw-XXXXXX");
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "dsim: cannot make a folder in %s: %s\n", pl->data, strerror(errno));
        sim_free(tmpl);
        return -1;
    }
    pl->work = tmpl;
    pl->work_name = sim_strdup(strrchr(tmpl, '/') + 1);
    pl->log = cli_open_stream(pl->data, "gnuplot.log", false);
    if (!pl->log)
        return -1;
    cli_buf_printf(&pl->cmds,
                   "# The gnuplot command of each chart dsim plot drew.  dsim ran each in a\n"
                   "# fresh folder inside chart-data/ (the data are ../<file>) and moved\n"
                   "# <chart>.png and <chart>.svg from there to the run's folder.\n");
    return 0;
}

/* Removes the work folder and what gnuplot may have left in it. */
static void remove_work(plotter *pl) {
    DIR *d = opendir(pl->work);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = join(pl->work, e->d_name);
            unlink(p);
            sim_free(p);
        }
        closedir(d);
    }
    rmdir(pl->work);
}

void plot_close(plotter *pl) {
    if (pl->data && pl->cmds.s)
        cli_write_file(pl->data, "commands.txt", pl->cmds.s);
    if (pl->work)
        remove_work(pl);
    if (pl->log)
        fclose(pl->log);
    sim_free(pl->data);
    sim_free(pl->work);
    sim_free(pl->work_name);
    sim_free(pl->scripts);
    sim_free(pl->cmds.s);
    sim_free(pl->done.s);
    memset(pl, 0, sizeof *pl);
}

cli_out *plot_data_open(plotter *pl, const char *name) {
    cli_out *o = cli_out_open(pl->data, name);
    if (!o)
        pl->failed++;
    return o;
}

int plot_data_close(plotter *pl, cli_out *o) {
    if (cli_out_close(o) == 0)
        return 0;
    pl->failed++;
    return -1;
}

/* Appends s to b in shell single quotes. */
static void sh_quote(cli_buf *b, const char *s) {
    cli_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            cli_buf_printf(b, "'\\''");
        else
            cli_buf_putc(b, *s);
    }
    cli_buf_putc(b, '\'');
}

void plot_draw(plotter *pl, const char *chart, const char *script, cli_buf *vars) {
    char *gp = join(pl->scripts, script);
    plot_gp_var(vars, "plotdir", pl->scripts);
    plot_gp_var(vars, "out", chart);
    cli_buf_printf(&pl->cmds, "gnuplot -e ");
    sh_quote(&pl->cmds, vars->s);
    cli_buf_putc(&pl->cmds, ' ');
    sh_quote(&pl->cmds, gp);
    cli_buf_putc(&pl->cmds, '\n');
    fflush(stdout);
    fflush(stderr);
    fflush(pl->log);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(fileno(pl->log), 2);
        if (chdir(pl->work) != 0)
            _exit(126);
        execl(pl->gnuplot, "gnuplot", "-e", vars->s, gp, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    bool ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    /* Both images or neither. */
    static const char *const ext[] = {"png", "svg"};
    char *made[2], *dest[2];
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(chart) + 5;
        char *name = sim_malloc(n);
        snprintf(name, n, "%s.%s", chart, ext[i]);
        made[i] = join(pl->work, name);
        dest[i] = join(pl->dir, name);
        sim_free(name);
        struct stat s;
        ok = ok && lstat(made[i], &s) == 0 && S_ISREG(s.st_mode);
    }
    for (int i = 0; i < 2 && ok; i++)
        if (rename(made[i], dest[i]) != 0) {
            fprintf(stderr, "dsim: cannot write %s: %s\n", dest[i], strerror(errno));
            ok = false;
        }
    if (!ok) {
        char shown[256];
        plot_label(shown, sizeof shown, pl->data);
        fprintf(stderr, "dsim: gnuplot failed on %s (see %s/gnuplot.log)\n", gp, shown);
        pl->failed++;
    } else {
        pl->drawn++;
        cli_buf_printf(&pl->done, "%s%s", pl->done.len ? ", " : "", chart);
    }
    for (int i = 0; i < 2; i++) {
        unlink(made[i]);
        sim_free(made[i]);
        sim_free(dest[i]);
    }
    sim_free(gp);
    sim_free(vars->s);
    memset(vars, 0, sizeof *vars);
}
