/* bench-int: integer CPU-bound work (sieve, table CRC-32, multiplicative hash).
 * Usage: bench-int [rounds]. Prints one line; the checksum for the default
 * rounds is in expected.txt. Deterministic, no floating point, no syscalls
 * in the hot loops. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N 1000000
#define BUF_LEN 65536

static uint8_t composite[SIEVE_N + 1];
static uint8_t buf[BUF_LEN];
static uint32_t crc_table[256];

static uint32_t sieve(void) {
    memset(composite, 0, sizeof composite);
    uint32_t count = 0, sum = 0;
    for (uint32_t i = 2; i <= SIEVE_N; i++) {
        if (composite[i]) continue;
        count++;
        sum += i;
        for (uint64_t j = (uint64_t)i * i; j <= SIEVE_N; j += i) composite[j] = 1;
    }
    return count * 2654435761u ^ sum;
}

static uint32_t crc32(const uint8_t *p, size_t n, uint32_t crc) {
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint64_t hash_loop(uint64_t seed, uint32_t iters) {
    uint64_t h = seed;
    for (uint32_t i = 0; i < iters; i++) {
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        h += i;
        h ^= h >> 32;
    }
    return h;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 8;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < BUF_LEN; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (uint8_t)x;
    }

    uint64_t check = 0;
    for (int r = 0; r < rounds; r++) {
        check = check * 31 + sieve();
        uint32_t crc = (uint32_t)r;
        for (int k = 0; k < 16; k++) crc = crc32(buf, BUF_LEN, crc);
        check = check * 31 + crc;
        check = check * 31 + hash_loop(check, 4000000);
    }
    printf("bench-int: rounds=%d checksum=%016" PRIx64 "\n", rounds, check);
    return 0;
}
