/* driver.c — a stand-alone driver for a libFuzzer-style fuzz target, used
 * when the target is not linked with clang's -fsanitize=fuzzer.
 *
 *     fuzz_TARGET [-n ITERATIONS] [-s SEED]   mutate the target's seeds
 *     fuzz_TARGET FILE|DIR...                  replay inputs: a crash, a corpus
 *     fuzz_TARGET -w DIR                       write the seeds into DIR, as
 *                                              the start of a corpus
 *
 * Without coverage feedback it cannot explore like libFuzzer, but it is
 * deterministic (the same seed gives the same inputs), needs no compiler
 * support, and runs as an ordinary test. Each iteration takes one of the
 * target's seeds, or random bytes, and stacks a few mutations on it. When
 * the target aborts or faults, the input is written to CRASH_FILE in the
 * current directory so it can be replayed.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "mutate.h"

#define CRASH_FILE "fuzz-crash.bin"
#define MAX_SEEDS 64

static uint8_t input[FUZZ_MAX_INPUT];
static size_t input_len;

static void on_fatal(int sig)
{
    int fd = open(CRASH_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, input, input_len);
        (void)w;
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    input_len = fread(input, 1, sizeof input, f);
    fclose(f);
    LLVMFuzzerTestOneInput(input, input_len);
    return 0;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Every file of a corpus directory, in name order (as libFuzzer names
 * them, by their hash: the order is stable). Returns how many, or -1. */
static long replay_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, not_hidden, alphasort);
    if (n < 0) {
        perror(dir);
        return -1;
    }
    long done = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (done >= 0 && replay_file(path) == 0)
            done++;
        else
            done = -1;
        free(names[i]);
    }
    free(names);
    return done;
}

static int replay(int n, char **paths)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            long k = replay_dir(paths[i]);
            if (k < 0)
                return 1;
            printf("%s: %ld inputs, ok\n", paths[i], k);
        } else if (replay_file(paths[i]) == 0)
            printf("%s: ok\n", paths[i]);
        else
            return 1;
    }
    return 0;
}

/* Writes each seed as DIR/seed-N: a corpus to start libFuzzer from. */
static int write_seeds(const char *dir)
{
    size_t i = 0;
    for (; (input_len = fuzz_seed(i, input, sizeof input)) != 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02zu", dir, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(input, 1, input_len, f) != input_len || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    printf("%s: %zu seeds written\n", dir, i);
    return 0;
}

/* The next input: a mutated seed most of the time, else random bytes. */
static void next_input(struct rng *r, uint8_t (*seeds)[FUZZ_MAX_INPUT], const size_t *lens, size_t nseeds)
{
    size_t k = rng_below(r, nseeds + 1);
    if (k < nseeds) {
        memcpy(input, seeds[k], lens[k]);
        input_len = mutate(r, input, lens[k], sizeof input);
        return;
    }
    input_len = rng_below(r, 256);
    for (size_t i = 0; i < input_len; i++)
        input[i] = (uint8_t)rng_next(r);
}

static int fuzz(unsigned long iterations, uint64_t seed)
{
    static uint8_t seeds[MAX_SEEDS][FUZZ_MAX_INPUT];
    static size_t lens[MAX_SEEDS];
    size_t nseeds = 0;
    while (nseeds < MAX_SEEDS && (lens[nseeds] = fuzz_seed(nseeds, seeds[nseeds], FUZZ_MAX_INPUT)))
        nseeds++;
    printf("fuzzing: seed %" PRIu64 ", %lu iterations, %zu seed inputs (replay a crash with: %s)\n",
           seed, iterations, nseeds, CRASH_FILE);
    fflush(stdout);
    struct rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < nseeds; i++) {
        memcpy(input, seeds[i], input_len = lens[i]);
        LLVMFuzzerTestOneInput(input, input_len);
    }
    for (unsigned long i = 0; i < iterations; i++) {
        next_input(&r, seeds, lens, nseeds);
        LLVMFuzzerTestOneInput(input, input_len);
    }
    printf("done: no invariant broke\n");
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long iterations = 20000;
    uint64_t seed = 1;
    const char *seed_dir = NULL;
    int c;
    while ((c = getopt(argc, argv, "n:s:w:")) != -1) {
        switch (c) {
        case 'n': iterations = strtoul(optarg, NULL, 0); break;
        case 's': seed = strtoull(optarg, NULL, 0); break;
        case 'w': seed_dir = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-n ITERATIONS] [-s SEED] [FILE|DIR...] | -w DIR\n", argv[0]);
            return 2;
        }
    }
    if (seed_dir)
        return write_seeds(seed_dir);
    signal(SIGABRT, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGBUS, on_fatal);
    return optind < argc ? replay(argc - optind, argv + optind) : fuzz(iterations, seed);
}
