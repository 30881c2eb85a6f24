/*
 * cli_util.c - small helpers shared by the dsim command's parts: folders,
 * output files that never write through a link, error formatting.
 */
#include "cli_util.h"

#include "scenario.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = sim_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int cli_own_dir(const char *dir, const char *name) {
    char *path = join(dir, name);
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(path) != 0)
        rc = -1;
    if (rc == 0 && mkdir(path, 0777) != 0 && errno != EEXIST)
        rc = -1;
    /* lstat again: what stands there now must be a directory itself. */
    if (rc == 0 && (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = -1;
    if (rc)
        fprintf(stderr, "dsim: cannot make the folder %s: %s\n", path, strerror(errno));
    sim_free(path);
    return rc;
}

cli_out *cli_out_open(const char *dir, const char *name) {
    cli_out *o = sim_calloc(1, sizeof *o);
    o->path = join(dir, name);
    size_t n = strlen(o->path) + 32;
    o->tmp = sim_malloc(n);
    /* O_EXCL refuses any existing name, links included; a name left by a
     * crashed run is skipped by counting on. */
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(o->tmp, n, "%s/.%s.%ld-%u.tmp", dir, name, (long)getpid(), i);
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0666);
        if (fd >= 0) {
            o->f = fdopen(fd, "w");
            if (!o->f) {
                close(fd);
                unlink(o->tmp);
            }
            break;
        }
        if (errno != EEXIST)
            break;
    }
    if (!o->f) {
        fprintf(stderr, "dsim: cannot write %s: %s\n", o->path, strerror(errno));
        sim_free(o->tmp);
        sim_free(o->path);
        sim_free(o);
        return NULL;
    }
    return o;
}

int cli_out_close(cli_out *o) {
    int rc = 0;
    bool failed = ferror(o->f) != 0;
    if (fclose(o->f) != 0 || failed) {
        fprintf(stderr, "dsim: cannot write %s: %s\n", o->path,
                failed ? "write error" : strerror(errno));
        rc = -1;
    } else if (rename(o->tmp, o->path) != 0) {
        fprintf(stderr, "dsim: cannot write %s: %s\n", o->path, strerror(errno));
        rc = -1;
    }
    if (rc)
        unlink(o->tmp);
    sim_free(o->tmp);
    sim_free(o->path);
    sim_free(o);
    return rc;
}

void cli_out_discard(cli_out *o) {
    if (!o)
        return;
    fclose(o->f);
    unlink(o->tmp);
    sim_free(o->tmp);
    sim_free(o->path);
    sim_free(o);
}

int cli_write_file(const char *dir, const char *name, const char *text) {
    cli_out *o = cli_out_open(dir, name);
    if (!o)
        return -1;
    fputs(text, o->f);
    return cli_out_close(o);
}

FILE *cli_open_stream(const char *dir, const char *name, bool append) {
    char *path = join(dir, name);
    struct stat st;
    /* Keep only a plain file with one name, and only for append: anything
     * else (a link, a hard link's second name, a stale file) goes first. */
    if (lstat(path, &st) == 0 && (!append || !S_ISREG(st.st_mode) || st.st_nlink != 1))
        unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | (append ? O_APPEND : O_EXCL), 0666);
    FILE *f = fd >= 0 ? fdopen(fd, append ? "a" : "w") : NULL;
    if (!f) {
        fprintf(stderr, "dsim: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    sim_free(path);
    return f;
}

int cli_fail(char *err, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

void cli_buf_printf(cli_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = sim_realloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void cli_buf_putc(cli_buf *b, char c) {
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->s = sim_realloc(b->s, b->cap);
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
}

char *cli_read_file(const char *path, size_t max, size_t *len, char *err, size_t n) {
    /* O_NONBLOCK: opening a FIFO someone planted must not hang dsim. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        cli_fail(err, n, "cannot read it: %s", strerror(e));
        errno = e;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        cli_fail(err, n, "not a regular file");
        errno = EINVAL;
        return NULL;
    }
    if ((unsigned long long)st.st_size > max) {
        close(fd);
        cli_fail(err, n, "%lld bytes is larger than the %zu allowed", (long long)st.st_size, max);
        errno = EFBIG;
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, got = 0;
    char *buf = sim_malloc(cap);
    /* The file may grow while it is read: never past max. */
    for (;;) {
        if (got + 1 == cap) {
            if (cap > max) {
                close(fd);
                sim_free(buf);
                cli_fail(err, n, "larger than the %zu bytes allowed", max);
                errno = EFBIG;
                return NULL;
            }
            cap *= 2;
            buf = sim_realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + got, cap - got - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            sim_free(buf);
            cli_fail(err, n, "cannot read it: %s", strerror(e));
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

void cli_print_error(const char *msg) {
    char shown[2048];
    sim_escape(shown, sizeof shown, msg);
    fprintf(stderr, "dsim: %s\n", shown);
}

bool cli_is_budget_flag(const char *a) {
    return strcmp(a, "--max-output") == 0 || strcmp(a, "--max-memory") == 0 ||
           strcmp(a, "--max-work") == 0;
}

int cli_budget_flag(const char *a, const char *v, sim_budget *b) {
    bool bytes = strcmp(a, "--max-memory") == 0;
    double *lim = bytes                            ? &b->max_bytes
                  : strcmp(a, "--max-output") == 0 ? &b->max_cells
                                                   : &b->max_events;
    if (sim_budget_parse(v, bytes, lim) == 0)
        return 0;
    char shown[200];
    sim_escape(shown, sizeof shown, v);
    if (bytes)
        fprintf(stderr, "dsim: --max-memory %s: expected bytes (e.g. 4GiB, 500MB, 2e9) or off\n",
                shown);
    else
        fprintf(stderr, "dsim: %s %s: expected a number of at least 1 (e.g. 1e9) or off\n", a,
                shown);
    fprintf(stderr, "(see dsim help)\n");
    return -1;
}
