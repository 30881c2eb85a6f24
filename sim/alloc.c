/*
 * alloc.c - the one place where running out of memory is handled (by
 * aborting), and where broken invariants end the process.
 *
 * The wrappers count live blocks so tests can assert that a simulation
 * frees everything it allocated, and keep the largest single request so
 * they can assert that a refused scenario allocated nothing big.  These
 * two are the process's only mutable globals: diagnostic, never read by a
 * simulation, and simulations never run on threads.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long live_blocks;
static size_t largest;

_Noreturn void sim_panic(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "dsim: internal error at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static void *check(void *p, size_t size) {
    if (size > largest)
        largest = size;
    if (!p && size)
        sim_panic(__FILE__, __LINE__, "out of memory allocating %zu bytes", size);
    return p;
}

void *sim_malloc(size_t size) {
    void *p = check(malloc(size ? size : 1), size ? size : 1);
    live_blocks++;
    return p;
}

void *sim_calloc(size_t n, size_t size) {
    if (size && n > (size_t)-1 / size)
        sim_panic(__FILE__, __LINE__, "allocation of %zu x %zu bytes overflows", n, size);
    void *p = check(calloc(n ? n : 1, size ? size : 1), n && size ? n * size : 1);
    live_blocks++;
    return p;
}

void *sim_aligned_calloc(size_t align, size_t n, size_t size) {
    if (size && n > (size_t)-1 / size)
        sim_panic(__FILE__, __LINE__, "allocation of %zu x %zu bytes overflows", n, size);
    size_t bytes = n * size;
    bytes = (bytes + align - 1) / align * align; /* aligned_alloc wants a multiple */
    void *p = check(aligned_alloc(align, bytes ? bytes : align), bytes);
    memset(p, 0, bytes);
    live_blocks++;
    return p;
}

void *sim_aligned_malloc(size_t align, size_t size) {
    size_t bytes = (size + align - 1) / align * align;
    void *p = check(aligned_alloc(align, bytes ? bytes : align), bytes);
    live_blocks++;
    return p;
}

void *sim_realloc(void *p, size_t size) {
    if (!p)
        return sim_malloc(size);
    return check(realloc(p, size ? size : 1), size ? size : 1);
}

void sim_free(void *p) {
    if (!p)
        return;
    live_blocks--;
    free(p);
}

char *sim_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = sim_malloc(n);
    memcpy(d, s, n);
    return d;
}

long sim_live_blocks(void) { return live_blocks; }

size_t sim_largest_alloc(bool reset) {
    size_t l = largest;
    if (reset)
        largest = 0;
    return l;
}
