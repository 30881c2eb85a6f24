/*
 * arena.h - a size-class allocator for many small tables that grow by
 * doubling (a model's per-user caches, per-key indexes), kept apart from
 * malloc's heap.
 *
 * Why.  100,000 browser caches of a few dozen entries each are 200,000
 * small blocks that malloc scatters over its heap with a 16-byte header
 * each, and every request touches one of them at random: a TLB miss and a
 * cache miss or two.  The arena carves its blocks out of 2 MiB chunks that
 * it asks the kernel to back with transparent huge pages (madvise; a hint,
 * ignored where unsupported), so one TLB entry covers a chunk, and a block
 * carries no header: its owner passes the size back when it frees it.
 *
 * Size classes.  32 B, 48 B, 64 B, 96 B, 128 B, ... 1 MiB: powers of two
 * and one and a half times them, so that a table of 2^k elements of 4, 8,
 * 16, 24 or 48 bytes fills its block exactly, and any size wastes under a
 * third.  A freed block goes on its class's free list (last in, first
 * out) for the next request of that class.  Requests over 1 MiB go to
 * sim_malloc.  Nothing is returned to the system before sim_arena_destroy.
 *
 * Determinism.  Addresses decide nothing: a caller must not order or hash
 * by them (as with malloc).
 *
 * Under AddressSanitizer every block is its own sim_malloc, so that the
 * sanitizer still sees each block's bounds.
 */
#ifndef DSIM_ARENA_H
#define DSIM_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sim_arena sim_arena;

sim_arena *sim_arena_create(void);
/* Frees every chunk: the blocks still allocated become invalid. */
void sim_arena_destroy(sim_arena *a);
/* A block of at least size bytes (size > 0), aligned to 16; never NULL
 * (aborts on out of memory, as sim_malloc).  Not zeroed. */
void *sim_arena_alloc(sim_arena *a, size_t size);
/* Returns a block; size is what was asked for it.  NULL is ignored. */
void sim_arena_free(sim_arena *a, void *p, size_t size);
/* A block of new_size holding the first min(old, new) bytes of p (which
 * may be NULL with old_size 0); p is freed. */
void *sim_arena_realloc(sim_arena *a, void *p, size_t old_size, size_t new_size);
/* The bytes a block of that size takes (its class; size itself above the
 * largest class). */
size_t sim_arena_block_size(size_t size);
/* Bytes the arena holds from the system: its chunks and large blocks
 * (under a sanitizer, 0). */
size_t sim_arena_bytes(const sim_arena *a);
/* False when every block is its own sim_malloc (a sanitizer build). */
bool sim_arena_pooled(void);

#endif
