/*
 * arena.c - size classes over huge-page chunks (arena.h describes the
 * allocator and why it exists).
 *
 * A chunk is 2 MiB aligned to 2 MiB, so that a transparent huge page can
 * back it whole.  Blocks are cut from the current chunk by bumping an
 * offset; when the next block does not fit, the chunk's tail is cut into
 * free blocks of the largest classes that fit (nothing is wasted but a
 * tail under 32 bytes) and a new chunk starts.  Free lists are threaded
 * through the blocks' first 8 bytes.
 */
/* madvise's MADV_HUGEPAGE is a Linux extension, outside _POSIX_C_SOURCE. */
#define _DEFAULT_SOURCE 1

#include "arena.h"

#include "sim.h"

#include <string.h>
#include <sys/mman.h>

#define CHUNK     ((size_t)2 << 20)
#define MIN_CLASS ((size_t)32)
#define N_CLASSES 31 /* 32 B ... 1 MiB */
#define MAX_CLASS ((size_t)32 << 15)

#ifdef SIM_ASAN
#define ARENA_PASSTHROUGH 1
#endif

typedef struct free_block {
    struct free_block *next;
} free_block;

struct sim_arena {
    free_block *free[N_CLASSES];
    char **chunks;
    size_t n_chunks, cap_chunks;
    char *cur;       /* the chunk blocks are cut from (NULL: none yet) */
    size_t used;     /* bytes of cur already cut */
    size_t large;    /* bytes of the blocks over MAX_CLASS */
    size_t n_passed; /* blocks handed straight to sim_malloc (sanitizers) */
};

static size_t class_size(int i) { return (i % 2 ? (size_t)48 : (size_t)32) << (i / 2); }

/* The smallest class holding n bytes (n <= MAX_CLASS). */
static int class_of(size_t n) {
    if (n <= MIN_CLASS)
        return 0;
    size_t m = n - 1;
    int b = 63 - __builtin_clzll((unsigned long long)m); /* 2^b <= m < 2^(b+1) */
    if (n <= (size_t)3 << (b - 1))
        return 2 * (b - 5) + 1; /* 1.5 x 2^b */
    return 2 * (b - 4);         /* 2^(b+1) */
}

size_t sim_arena_block_size(size_t size) {
    return size > MAX_CLASS ? size : class_size(class_of(size));
}

sim_arena *sim_arena_create(void) { return sim_calloc(1, sizeof(sim_arena)); }

void sim_arena_destroy(sim_arena *a) {
    if (!a)
        return;
    for (size_t i = 0; i < a->n_chunks; i++)
        sim_free(a->chunks[i]);
    sim_free(a->chunks);
    sim_free(a);
}

#ifndef ARENA_PASSTHROUGH /* the pool; sanitizer builds hand every block to sim_malloc */
static void push_free(sim_arena *a, int c, void *p) {
    free_block *b = p;
    b->next = a->free[c];
    a->free[c] = b;
}

/* Cuts the rest of the current chunk into free blocks, largest first. */
static void retire_tail(sim_arena *a) {
    while (a->cur && CHUNK - a->used >= MIN_CLASS) {
        size_t left = CHUNK - a->used;
        int c = N_CLASSES - 1;
        while (class_size(c) > left)
            c--;
        push_free(a, c, a->cur + a->used);
        a->used += class_size(c);
    }
}

static void new_chunk(sim_arena *a) {
    retire_tail(a);
    if (a->n_chunks == a->cap_chunks) {
        a->cap_chunks = a->cap_chunks ? a->cap_chunks * 2 : 8;
        a->chunks = sim_realloc(a->chunks, a->cap_chunks * sizeof *a->chunks);
    }
    char *c = sim_aligned_malloc(CHUNK, CHUNK);
#ifdef MADV_HUGEPAGE
    (void)madvise(c, CHUNK, MADV_HUGEPAGE); /* a hint: failure changes nothing */
#endif
    a->chunks[a->n_chunks++] = c;
    a->cur = c;
    a->used = 0;
}
#endif

void *sim_arena_alloc(sim_arena *a, size_t size) {
    SIM_ASSERT(size > 0);
#ifdef ARENA_PASSTHROUGH
    a->n_passed++;
    return sim_malloc(size);
#else
    if (size > MAX_CLASS) {
        a->large += size;
        return sim_malloc(size);
    }
    int c = class_of(size);
    free_block *b = a->free[c];
    if (b) {
        a->free[c] = b->next;
        return b;
    }
    size_t bytes = class_size(c);
    if (!a->cur || CHUNK - a->used < bytes)
        new_chunk(a);
    void *p = a->cur + a->used;
    a->used += bytes;
    return p;
#endif
}

void sim_arena_free(sim_arena *a, void *p, size_t size) {
    if (!p)
        return;
#ifdef ARENA_PASSTHROUGH
    (void)size;
    a->n_passed--;
    sim_free(p);
#else
    if (size > MAX_CLASS) {
        a->large -= size;
        sim_free(p);
        return;
    }
    push_free(a, class_of(size), p);
#endif
}

void *sim_arena_realloc(sim_arena *a, void *p, size_t old_size, size_t new_size) {
#ifndef ARENA_PASSTHROUGH
    if (p && new_size <= MAX_CLASS && old_size <= MAX_CLASS &&
        sim_arena_block_size(old_size) == sim_arena_block_size(new_size))
        return p; /* the block already holds it */
#endif
    void *q = sim_arena_alloc(a, new_size);
    if (p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        sim_arena_free(a, p, old_size);
    }
    return q;
}

size_t sim_arena_bytes(const sim_arena *a) { return a->n_chunks * CHUNK + a->large; }

bool sim_arena_pooled(void) {
#ifdef ARENA_PASSTHROUGH
    return false;
#else
    return true;
#endif
}
