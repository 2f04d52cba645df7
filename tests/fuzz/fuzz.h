/* fuzz.h — the interface between a fuzz target and what drives it.
 *
 * A target defines LLVMFuzzerTestOneInput, the libFuzzer entry point, so the
 * same file builds with clang's libFuzzer for coverage-guided fuzzing or
 * with driver.c, a stand-alone driver that runs as a meson test. A target
 * also offers seeds: well-formed inputs the driver mutates, since without
 * coverage feedback random bytes rarely get past the first check.
 */
#ifndef RV_FUZZ_H
#define RV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; aborts when an invariant breaks. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes seed number i into buf (capacity cap) and returns its length, or
 * returns 0 when there are no more seeds. */
size_t fuzz_seed(size_t i, uint8_t *buf, size_t cap);

/* The largest input a target looks at; longer ones are cut. Room for a
 * control datagram of the largest body (wire.h) and a harness's own bytes
 * around it. */
#define FUZZ_MAX_INPUT 20480

#endif
