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

#if defined(__x86_64__)
uint32_t trapeze_host_fp_take_flags(void) {
    uint32_t mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    uint32_t x = mxcsr & 0x3d;  // IE ZE OE UE PE (DE, bit 1, is dropped)
    if (x == 0) return 0;
    uint32_t cleared = mxcsr & ~0x3fu;
    __asm__ volatile("ldmxcsr %0" : : "m"(cleared));
    // x86: IE=1 ZE=4 OE=8 UE=16 PE=32; RISC-V: NV=16 DZ=8 OF=4 UF=2 NX=1.
    return ((x & 1) ? 16 : 0) | ((x & 4) ? 8 : 0) | ((x & 8) ? 4 : 0) | ((x & 16) ? 2 : 0) | ((x & 32) ? 1 : 0);
}

void trapeze_host_fp_clear_flags(void) {
    uint32_t mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    if (mxcsr & 0x3f) {
        mxcsr &= ~0x3fu;
        __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    }
}
#else
uint32_t trapeze_host_fp_take_flags(void) { return 0; }
void trapeze_host_fp_clear_flags(void) {}
#endif
