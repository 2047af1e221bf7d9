#ifndef TRAPEZE_JIT_H
#define TRAPEZE_JIT_H
#include <stddef.h>

// Executable memory for the JIT. Write and execute are never both enabled on one mapping:
// either two views of one memfd (RW for emitting, RX for running), or one private mapping
// whose protection is flipped in batches. All functions return 0 or an errno value.

// Two shared views of the same fresh memfd pages: *writable is RW, *executable is RX.
int trapeze_jit_map_dual(size_t length, void **writable, void **executable);
// One private anonymous mapping, initially RW (the mprotect fallback).
int trapeze_jit_map_single(size_t length, void **mapping);
// Flips [address, address + length) to RX (executable != 0) or RW (executable == 0).
int trapeze_jit_protect(void *address, size_t length, int executable);
// Makes freshly written code visible to instruction fetch. A no-op on x86-64, whose
// instruction caches snoop stores (Intel SDM vol. 3, 11.6); needed on arm64 hosts.
void trapeze_jit_flush_icache(void *begin, size_t length);
// The host page size, the granule of every mapping and protection change.
size_t trapeze_page_size(void);

#endif
