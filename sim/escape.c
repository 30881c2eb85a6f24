/*
 * escape.c - error text that stays one harmless line (sim_escape).
 *
 * A scenario's keys, a --set value, a path: anything a user or a file
 * supplies may hold a newline or a terminal escape sequence, and an error
 * message quotes it.  sim_escape is the one place that makes such text
 * printable: the loader applies it to every message it returns, and the
 * command to every message that quotes an argument.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p (2-4), or 0. */
static size_t utf8_seq(const unsigned char *p) {
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

size_t sim_escape(char *dst, size_t n, const char *src) {
    if (n == 0)
        return 0;
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p;) {
        char esc[8];
        size_t len = 1;
        const char *out = esc;
        size_t olen;
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            snprintf(esc, sizeof esc, "\\%c", *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
            olen = 2;
        } else if (*p < 0x20 || *p == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            olen = 6;
        } else if (*p < 0x80) {
            out = (const char *)p;
            olen = 1;
        } else if ((len = utf8_seq(p)) != 0) {
            out = (const char *)p;
            olen = len;
        } else {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            olen = 4;
            len = 1;
        }
        if (k + olen >= n)
            break;
        memcpy(dst + k, out, olen);
        k += olen;
        p += len;
    }
    dst[k] = '\0';
    return k;
}
