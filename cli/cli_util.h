/*
 * cli_util.h - small helpers shared by the dsim command's parts.
 *
 * Output files.  A results folder is untrusted data (docs/security.md): a
 * folder handed out by someone else may hold symbolic or hard links where
 * dsim writes, planted to make it overwrite a file elsewhere.  Every file
 * the command writes therefore goes through one of the two openers below,
 * and neither ever writes through a link at the final name.
 */
#ifndef DSIM_CLI_UTIL_H
#define DSIM_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* mkdir -p: creates path and its missing parents; 0, or -1 if path is not a
 * directory afterwards.  The path is the user's (a symbolic link to a
 * folder is fine). */
int cli_make_dirs(const char *path);

/* Makes dir/name a directory of dsim's own: created if missing; a symbolic
 * link or a file of that name is removed first (never followed).  0, or -1
 * with a message on stderr. */
int cli_own_dir(const char *dir, const char *name);

/* A file written whole or not at all: the text goes to a new temporary in
 * the same folder (created exclusively, so never through a link) and is
 * renamed over dir/name by cli_out_close, which replaces a link of that name
 * instead of following it. */
typedef struct cli_out {
    FILE *f; /* write here */
    char *tmp, *path;
} cli_out;

/* Opens a temporary for dir/name; on failure says which file and why on
 * stderr and returns NULL.  Caller owns the result: pass it to
 * cli_out_close or cli_out_discard exactly once. */
cli_out *cli_out_open(const char *dir, const char *name);
/* Flushes, closes and renames into place; frees o.  0, or -1 after a
 * message on stderr (the temporary is removed). */
int cli_out_close(cli_out *o);
/* Closes and removes the temporary; frees o. NULL is allowed. */
void cli_out_discard(cli_out *o);
/* Writes text to dir/name through cli_out_open/close.  0 or -1. */
int cli_write_file(const char *dir, const char *name, const char *text);

/* Opens dir/name for a stream written as it goes (a trace, a log), for
 * append or anew: an existing link of that name is removed first and the
 * file is created exclusively without following links.  For append, an
 * existing regular file is kept.  NULL after a message on stderr. */
FILE *cli_open_stream(const char *dir, const char *name, bool append);

/* A growing text buffer; zero-initialise, free s with sim_free. */
typedef struct cli_buf {
    char *s;
    size_t len, cap;
} cli_buf;

void cli_buf_printf(cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_buf_putc(cli_buf *b, char c);

/* Reads a whole regular file of at most max bytes (a FIFO, a device or a
 * folder is refused, without blocking), NUL-terminated; *len (may be NULL)
 * gets its length.  NULL with a reason in err when it cannot; errno is
 * ENOENT when the file does not exist.  Caller frees with sim_free. */
char *cli_read_file(const char *path, size_t max, size_t *len, char *err, size_t n);

/* Prints "dsim: MSG" on stderr as one escaped line (sim_escape): for
 * messages that quote an argument or a file. */
void cli_print_error(const char *msg);

/* --max-output CELLS, --max-memory BYTES, --max-work EVENTS (the resource
 * budget, sim/budget.c): whether a is one of them, and reading its value
 * into b (-1 after printing a usage error). */
struct sim_budget;
bool cli_is_budget_flag(const char *a);
int cli_budget_flag(const char *a, const char *v, struct sim_budget *b);

/* Formats an error message into err (n bytes) and returns -1: the parsers'
 * way to fail with a message for the caller to print. */
int cli_fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
