#ifndef TRAPEZE_HOST_H
#define TRAPEZE_HOST_H
#include <stdint.h>
#include <stddef.h>

// Anonymous, zero-filled, private mapping for guest RAM. Returns NULL on failure.
void *trapeze_map_anonymous(size_t length);
int trapeze_unmap(void *address, size_t length);
// Monotonic clock in nanoseconds.
uint64_t trapeze_monotonic_ns(void);
// The CPU's time-stamp counter (constant rate on current x86-64): a cheap clock for timing
// short, frequent events such as VMM exits; converted to seconds against the monotonic clock.
uint64_t trapeze_cycle_counter(void);

// The host FPU's accrued exception flags, for floating point done inline by translated code:
// returns them as RISC-V fflags bits (NV DZ OF UF NX; x86's denormal-operand flag has no
// counterpart) and clears them, leaving rounding and masks as they are.
uint32_t trapeze_host_fp_take_flags(void);
// Clears the host FPU's accrued exception flags.
void trapeze_host_fp_clear_flags(void);

// A spin-wait hint (x86 PAUSE): lets the core's sibling run and saves power while a thread
// waits a few microseconds for another.
static inline void trapeze_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
