/* primes.h — counting primes, so the sample has more than one unit. */
#ifndef PRIMES_H
#define PRIMES_H
unsigned count_primes(unsigned below);
#endif
