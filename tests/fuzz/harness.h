/* harness.h — what the fuzz harnesses of revive's parsers share: reading
 * an input as a sequence of messages, writing seeds in the same shape, and
 * the checks every harness makes (a descriptor count, a failure that says
 * which invariant broke before it aborts).
 *
 * A message in an input is a record: one selector byte, which the harness
 * reads as it likes (which connection, which descriptors ride along), then
 * a wire header (wire.h) and as much of its payload as the header's length
 * asks for and the input still holds. The length field is set to the
 * payload's true size, so the fuzzer spends its time on what the payload
 * says, not on matching the framing that rv__wire_recv checks (fuzz_wire
 * covers that).
 */
#ifndef RV_FUZZ_HARNESS_H
#define RV_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wire.h"

struct fuzz_input {
    const uint8_t *p;
    size_t left;
};

/* The next record into *sel and m (no descriptors yet); false at the end
 * of the input. m->hdr.len is the payload's true length. */
bool fuzz_next_msg(struct fuzz_input *in, uint8_t *sel, struct rv_msg *m);
/* Whether m is framed as rv__wire_recv accepts (magic, version, bound). */
bool fuzz_msg_framed(const struct rv_msg *m, size_t max_body);

/* Appends a record to buf (holding *len of cap bytes): sel, a header of
 * type, seq, op and status, and the payload. False when it does not fit. */
bool fuzz_put_msg(uint8_t *buf, size_t *len, size_t cap, uint8_t sel, uint8_t type, uint64_t seq, uint32_t op,
                  int32_t status, const void *payload, size_t plen);

/* Descriptors open in this process (entries of /proc/self/fd). */
size_t fuzz_count_fds(void);
/* Fails, listing what is open, unless exactly `expected` descriptors are. */
void fuzz_expect_fds(const char *harness, size_t expected, const char *what);

/* For a harness whose code under test logs (the runtime's warnings): its
 * standard error goes to /dev/null, while the harness's own verdicts and
 * the sanitizers' reports still reach the real one. Under libFuzzer it
 * does nothing: libFuzzer's -close_fd_mask=2 (scripts/fuzz.sh) does the
 * same, and libFuzzer's own output must stay. */
void fuzz_quiet(void);

/* Prints "HARNESS: what" and aborts: the fuzzer keeps the input. */
void fuzz_fail(const char *harness, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

#endif
