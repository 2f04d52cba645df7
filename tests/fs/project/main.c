/* main.c — prints what the sample computes; the test compares it with a
 * build of the same project on a local disk. */
#include <inttypes.h>
#include <stdio.h>
#include "digest.h"
#include "primes.h"

int main(void)
{
    printf("primes below 1000000: %u\n", count_primes(1000000));
    printf("digest: %016" PRIx64 "\n", digest("built on a file system that was killed meanwhile"));
    return 0;
}
