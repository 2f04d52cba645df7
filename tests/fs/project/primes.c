/* primes.c — a sieve of Eratosthenes. */
#include <stdlib.h>
#include <string.h>
#include "primes.h"

unsigned count_primes(unsigned below)
{
    char *composite = calloc(below, 1);
    unsigned n = 0;
    for (unsigned i = 2; composite && i < below; i++) {
        if (composite[i])
            continue;
        n++;
        for (unsigned long j = (unsigned long)i * i; j < below; j += i)
            composite[j] = 1;
    }
    free(composite);
    return n;
}
