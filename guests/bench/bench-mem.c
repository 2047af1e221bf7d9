/* bench-mem: memory-bound work over two 4 MiB arrays: a random pointer
 * chase (one dependent load per step, defeats caches and TLBs), then
 * sequential streaming copies and sums.
 * Usage: bench-mem [rounds]. Prints one line with a checksum. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (512u * 1024) /* 512K x 8 bytes = 4 MiB per array */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 2;
    uint64_t *next = malloc(WORDS * sizeof *next);
    uint64_t *copy = malloc(WORDS * sizeof *copy);
    if (!next || !copy) { puts("bench-mem: out of memory"); return 1; }

    /* Sattolo's algorithm: a single cycle through every slot. */
    for (uint64_t i = 0; i < WORDS; i++) next[i] = i;
    for (uint64_t i = WORDS - 1; i > 0; i--) {
        uint64_t j = next_rand() % i;   /* modulo bias is irrelevant here */
        uint64_t t = next[i]; next[i] = next[j]; next[j] = t;
    }

    uint64_t check = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t p = (uint64_t)r;
        for (uint32_t s = 0; s < WORDS / 2; s++) { p = next[p]; check += p; }
        memcpy(copy, next, WORDS * sizeof *copy);
        uint64_t sum = 0;
        for (uint32_t i = 0; i < WORDS; i += 1) sum += copy[i] ^ i;
        for (uint32_t i = 0; i < WORDS; i += 8) copy[i] += sum;   /* one store per cache line */
        for (uint32_t i = 0; i < WORDS; i += 8) sum = sum * 3 + copy[i];
        check = check * 1000003 + sum;
    }
    printf("bench-mem: rounds=%d checksum=%016" PRIx64 "\n", rounds, check);
    free(next);
    free(copy);
    return 0;
}
