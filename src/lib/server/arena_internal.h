/* arena_internal.h — what the server runtime (and the unit test) call in
 * arena.c and arena_file.c: the mapping at instance start, the request a
 * thread serves, the recovery before any session is served, the durable
 * copy. Not a public header; the service's API is revive/arena.h. The arena
 * knows nothing of sessions or journals: the runtime tells it which request
 * a thread serves and, at recovery, which requests committed. */
#ifndef RV_ARENA_INTERNAL_H
#define RV_ARENA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Maps the arena memfd of size bytes at RV_ARENA_BASE. Returns 0, or -1
 * with a sentence in why (the address is taken, the size is wrong). */
int rv__arena_attach(int fd, uint64_t size, char *why, size_t whylen);

/* The request (session, seq) the calling thread serves from now on; its
 * arena writes are tagged with it. (0, 0): none. */
void rv__arena_request(uint64_t session, uint64_t seq);

/* Once no other instance can write the arena any more (the hand-over is
 * over): formats a fresh arena (or loads it from its file), or checks its
 * header and undoes every undo log whose request did not commit. A log
 * written for a request that `committed` says completed is kept (it
 * crashed before emptying its log). Fail-stops on a corrupt header or log:
 * no request may run on an arena in an unknown state. */
void rv__arena_recover(bool (*committed)(uint64_t session, uint64_t seq));

/* Unmaps the arena (tests). */
void rv__arena_detach(void);

/* ---- arena_file.c: the durable copy (arena_file = PATH) ---- */

/* A word of the arena's header page that says its memory holds the file's
 * contents; the file's image never has it set. */
#define RV_ARENA_LOADED_OFF (4096 - 8)
#define RV_ARENA_LOADED 0x44454441454c5652ull   /* "RVLEADED" */

/* Takes the arena file revived opened (formats a new one); it is closed by
 * rv__arena_file_detach. Returns 0, or -1 with a sentence in why. */
int rv__arena_file_open(int fd, uint64_t arena_size, char *why, size_t whylen);
void rv__arena_file_detach(void);
bool rv__arena_file_on(void);
/* Before the arena's own recovery, once no other instance writes it:
 * loads a fresh memory from the file (image, then redo log), or finds
 * where the redo log ends. Fail-stops on an I/O error. */
void rv__arena_file_recover(uint8_t *mem);
/* Adds mem[off, off+len), as it is now, to the transaction being built. */
void rv__arena_file_add(const uint8_t *mem, uint64_t off, uint64_t len);
/* Makes the transaction durable (appended and fdatasync'ed, or
 * checkpointed); a no-op without a file or an empty transaction. */
void rv__arena_file_commit(const uint8_t *mem);

#endif
