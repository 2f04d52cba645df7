/* revive/arena.h — the arena: a service-global persistent heap.
 *
 * A service declared with `state = arena` (docs/manifest.md) gets one arena:
 * shared memory that revived creates once and hands to every instance, so
 * what the service keeps there (a key-value store's table) outlives its
 * crashes. Every instance maps it at the same address, RV_ARENA_BASE, so
 * plain pointers stored in the arena stay valid across restarts.
 *
 * Every request boundary is a checkpoint. Before a handler overwrites arena
 * bytes it records their old contents with rv_arena_log(); the log lives in
 * the arena too. The runtime commits the request's arena writes together
 * with its journal (the same commit point as its SSR) and only then sends
 * the reply; a crash before that point is undone when the next instance
 * starts, before any session is served, and the request re-runs from the
 * journal. So a reply means the write is durable, and a crash at any
 * instruction leaves no write half-applied.
 *
 *     struct table *t = *(struct table **)rv_arena_root();
 *     rv_arena_log(&t->count, sizeof t->count);
 *     t->count++;
 *
 * Memory from rv_arena_alloc() needs no logging until it is reachable (a
 * rollback frees it again); rv_arena_alloc and rv_arena_free log their own
 * bookkeeping. Writes outside a request (the recover and bind hooks,
 * rv_svc_session_update) are committed by calling rv_arena_commit() yourself. The
 * arena is the service's from the first request or the recover hook on;
 * the init hook runs in a standby too, while another instance may still be
 * writing it.
 *
 * Threads: the first write of a request takes the arena's exclusive lock
 * (rv_arena_lock), held until the request commits, so an undo log never
 * depends on another thread's uncommitted writes. Readers that must not see
 * uncommitted data take rv_arena_lock_shared() around their reads. Each
 * writing thread has its own undo log (at most RV_ARENA_THREADS threads).
 */
#ifndef REVIVE_ARENA_H
#define REVIVE_ARENA_H

#include <stddef.h>
#include <stdint.h>

/* Where every instance maps its arena. High enough to be clear of the
 * heap, the stacks, the libraries and the sanitizers' shadow memory. */
#define RV_ARENA_BASE ((uintptr_t)0x4a0000000000ull)
/* The largest block rv_arena_alloc hands out. */
#define RV_ARENA_ALLOC_MAX 16376
/* Undo-log bytes one request may use (a record costs 24 bytes plus the
 * logged bytes rounded up to 8); a request that needs more fail-stops. */
#define RV_ARENA_LOG_BYTES (32 * 1024 - 64)
/* Threads that may write the arena at the same time. */
#define RV_ARENA_THREADS 16

/* The arena's mapping and its size; NULL when the service has none. */
void *rv_arena(size_t *size);

/* The service's root pointer, kept in the arena's header: where it finds its
 * data again after a restart. NULL at first. Log it before changing it. */
void **rv_arena_root(void);

/* A block of at least size bytes (8-aligned), or NULL when the arena is
 * full or size is 0 or above RV_ARENA_ALLOC_MAX. */
void *rv_arena_alloc(size_t size);
/* size bytes in whole pages (page-aligned), for a big buffer that lives as
 * long as the arena (a redo log, a table): never given back. Only the
 * allocation is logged (a rollback gives the pages back); what the service
 * writes into them is its own to log, or to keep by a protocol of its own.
 * NULL when the arena has no room. */
void *rv_arena_alloc_pages(size_t size);
/* Returns a block; the rollback of the request brings it back intact. */
void rv_arena_free(void *p);
/* The bytes a block can hold (at least what was asked for). */
size_t rv_arena_usable(const void *p);

/* Records the current contents of [addr, addr+len) before the caller
 * overwrites them. The range must lie in the arena's root or heap. */
void rv_arena_log(const void *addr, size_t len);

/* Makes the calling thread's logged writes final and releases the
 * exclusive lock. Inside a handler the runtime does this once the request
 * is committed; calling it there yourself makes a crash after it re-run the
 * request on the already changed arena. */
void rv_arena_commit(void);
/* Undoes the calling thread's logged writes since its last commit, now. */
void rv_arena_abort(void);

/* The exclusive lock, for a request that reads before it writes (taken
 * implicitly by the first log, alloc or free). Released by commit or abort. */
void rv_arena_lock(void);
/* The shared lock, for readers; not while writing. */
void rv_arena_lock_shared(void);
void rv_arena_unlock_shared(void);

/* Checks the allocator's invariants: every block in the heap well-formed,
 * the free lists made of free blocks of their class, no cycle. Returns 0,
 * or -1 with a sentence in why. */
int rv_arena_check(char *why, size_t whylen);

#endif
