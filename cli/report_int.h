/*
 * report_int.h - the parts of report.html shared by the run's page
 * (cli/report.c) and the sweep's (cli/report_sweep.c).
 */
#ifndef DSIM_REPORT_INT_H
#define DSIM_REPORT_INT_H

#include "cli_util.h"

#include <stddef.h>

/* Appends s as HTML text, escaped (also safe in a quoted attribute), at most
 * max bytes of it (0: all); NULL appends nothing. */
void report_html_text(cli_buf *h, const char *s, size_t max);
/* The page's head (CSP, style) and the start of its header: <h1>prefix
 * name</h1>, name escaped, prefix compiled-in text.  The caller closes the
 * header. */
void report_page_head(cli_buf *h, const char *prefix, const char *name);
/* The section of every chart of dir: its SVGs (not links), as base64 data:
 * images, bounded in number and size. */
void report_charts(cli_buf *h, const char *dir);
/* The whole page of the sweep folder dir into h; 0, or -1 with a reason in
 * err when dir/sweep.json is not a sweep's. */
int report_sweep_page(const char *dir, cli_buf *h, char *err, size_t errlen);

#endif
