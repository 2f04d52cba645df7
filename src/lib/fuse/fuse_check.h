/* fuse_check.h — whether a request read from /dev/fuse is whole, as
 * libfuse will read it. Not a public header.
 *
 * libfuse 3 trusts the kernel: it decodes a request (fuse_lowlevel.c's
 * do_* functions) without comparing what it reads with the bytes that
 * came, so a name without its NUL, or a WRITE announcing more bytes than
 * follow, has it read past the request into whatever its buffer held
 * before, or past the buffer. The kernel sends no such request; this is
 * the check that makes it so for whatever reaches fuse.c, which answers a
 * request that fails it with EIO instead of handing it to libfuse. A pure
 * function: the fuzz harness (tests/fuzz/fuzz_fuse.c) feeds it anything,
 * and libfuse everything it accepts. */
#ifndef RV_FUSE_CHECK_H
#define RV_FUSE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* buf holds the n bytes one read of the device returned: a header whose
 * length is n, then what its opcode carries (the protocol of 7.12 and
 * later: the fixed argument, the names, the bytes it announces). A
 * NOTIFY_REPLY is never accepted: it answers a retrieve, which revive's
 * services never ask for. */
bool rv__fuse_request_ok(const void *buf, size_t n);

#endif
