/* digest.c — FNV-1a, 64 bits. */
#include "digest.h"

uint64_t digest(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}
