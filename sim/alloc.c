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
/* MAP_ANONYMOUS and madvise's MADV_HUGEPAGE are outside _POSIX_C_SOURCE. */
#define _DEFAULT_SOURCE 1

#include "sim.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

#define TABLE_MIN  ((size_t)1 << 20)
#define HUGE_BYTES ((size_t)2 << 20)

/* The bytes a mapped table takes, or 0 for one from sim_calloc. */
static size_t table_len(size_t n, size_t size) {
#ifdef SIM_ASAN
    (void)n;
    (void)size;
    return 0;
#else
    if (size && n > (size_t)-1 / size - HUGE_BYTES)
        sim_panic(__FILE__, __LINE__, "allocation of %zu x %zu bytes overflows", n, size);
    size_t bytes = n * size;
    return bytes < TABLE_MIN ? 0 : (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
#endif
}

/* Maps len bytes (a multiple of 2 MiB) at a 2 MiB boundary: one huge page
 * more than needed, trimmed.  NULL when the kernel refuses. */
static char *map_aligned(size_t len, int prot, int flags) {
    char *p = mmap(NULL, len + HUGE_BYTES, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (p + len + HUGE_BYTES > a + len)
        munmap(a + len, (size_t)(p + len + HUGE_BYTES - (a + len)));
    return a;
}

static void advise_huge(void *a, size_t len) {
#ifdef MADV_HUGEPAGE
    (void)madvise(a, len, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#else
    (void)a;
    (void)len;
#endif
}

void *sim_table_calloc(size_t n, size_t size) {
    size_t len = table_len(n, size);
    if (len == 0)
        return sim_aligned_calloc(64, n, size);
    char *a = map_aligned(len, PROT_READ | PROT_WRITE, 0);
    check(a, n * size);
    advise_huge(a, len);
    live_blocks++;
    return a;
}

void sim_table_free(void *p, size_t n, size_t size) {
    if (!p)
        return;
    size_t len = table_len(n, size);
    if (len == 0) {
        sim_free(p);
        return;
    }
    live_blocks--;
    munmap(p, len);
}

/* The reservation's length: bytes rounded up to 2 MiB. */
static size_t reserve_len(size_t bytes) {
    return bytes > (size_t)-1 / 2 ? 0 : (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
}

void *sim_reserve(size_t bytes, bool huge) {
    size_t len = reserve_len(bytes);
    if (len == 0)
        return NULL;
    char *a = map_aligned(len, PROT_NONE, MAP_NORESERVE);
    if (!a)
        return NULL;
    if (huge)
        advise_huge(a, len);
    live_blocks++;
    return a;
}

void sim_reserve_grow(void *base, size_t bytes, size_t old_usable, size_t usable) {
    size_t len = reserve_len(bytes);
    if (usable > len)
        sim_panic(__FILE__, __LINE__, "a reservation of %zu bytes grown to %zu", len, usable);
    /* mprotect works on whole pages: round both ends to 4 KiB (the first
     * page may already be usable; making it so again is harmless). */
    const size_t page = 4096;
    size_t from = old_usable / page * page, to = (usable + page - 1) / page * page;
    if (to > from && mprotect((char *)base + from, to - from, PROT_READ | PROT_WRITE) != 0)
        sim_panic(__FILE__, __LINE__, "out of memory growing a table to %zu bytes", usable);
    if (usable > largest)
        largest = usable;
}

void sim_reserve_free(void *base, size_t bytes) {
    if (!base)
        return;
    live_blocks--;
    munmap(base, reserve_len(bytes));
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
