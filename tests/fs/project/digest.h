/* digest.h — FNV-1a over a string. */
#ifndef DIGEST_H
#define DIGEST_H
#include <stdint.h>
uint64_t digest(const char *s);
#endif
