#define _GNU_SOURCE
#include "host.h"
#include <sys/mman.h>
#include <time.h>

void *trapeze_map_anonymous(size_t length) {
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int trapeze_unmap(void *address, size_t length) { return munmap(address, length); }

uint64_t trapeze_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t trapeze_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return trapeze_monotonic_ns();
#endif
}
