/* Run as an S-mode kernel: code that rewrites its own instructions and runs the
 * new ones, as a JIT or a module loader does. Whatever executes it (the
 * interpreter's decoded pages, the JIT's translated and chained blocks, under
 * any VMM) must run the new instructions:
 *  1. a function in a data buffer is rewritten 1000 times with a different
 *     immediate, fence.i, called;
 *  2. a hot loop (translated, its back edge chained) has its body rewritten
 *     between calls;
 *  3. code stores a new instruction two instructions ahead of itself, in the
 *     same basic block, and runs straight into it. Without a fence.i the ISA
 *     lets a hart run the old one; Trapeze documents that it runs the new one
 *     (docs/jit.md), and this checks that both engines do.
 * Exits 0 (SBI shutdown) on success. */
#include "sbi.h"

static uint32_t buffer[1024] __attribute__((aligned(4096)));   /* satp Bare: RWX */

enum { A0 = 10, A1 = 11, A2 = 12, ZERO = 0 };
#define RET 0x00008067u

static uint32_t addi(int rd, int rs1, int imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | (uint32_t)rs1 << 15 | (uint32_t)rd << 7 | 0x13;
}

static uint32_t sw(int rs2, int rs1, int imm)
{
    uint32_t u = (uint32_t)imm & 0xfff;
    return (u >> 5) << 25 | (uint32_t)rs2 << 20 | (uint32_t)rs1 << 15 | 2 << 12 | (u & 31) << 7 | 0x23;
}

static uint32_t bne(int rs1, int rs2, int imm)
{
    uint32_t u = (uint32_t)imm & 0x1fff;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | (uint32_t)rs2 << 20 | (uint32_t)rs1 << 15
         | 1 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

static inline void fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }

typedef long (*function)(long, long, long);

static int check(const char *what, long got, long want)
{
    if (got == want) return 0;
    sbi_puts(what);
    sbi_puts(": got ");
    sbi_puthex((uint64_t)got);
    sbi_puts(", want ");
    sbi_puthex((uint64_t)want);
    sbi_puts("\n");
    return 1;
}

int main(void)
{
    function f = (function)(uintptr_t)buffer;
    int failures = 0;

    for (int k = 1; k <= 1000 && !failures; k++) {
        buffer[0] = addi(A0, A0, k);
        buffer[1] = RET;
        fence_i();
        failures += check("rewritten function", f(5, 0, 0), 5 + k);
    }

    for (int k = 1; k <= 50 && !failures; k++) {
        buffer[0] = addi(A0, A0, k);      /* loop: a0 += k */
        buffer[1] = addi(A1, A1, -1);     /*       a1 -= 1 */
        buffer[2] = bne(A1, ZERO, -8);    /*       while a1 != 0 */
        buffer[3] = RET;
        fence_i();
        failures += check("rewritten loop", f(0, 1000, 0), 1000L * k);
    }

    /* a2 = the buffer, a1 = the instruction to put at buffer[3]. */
    buffer[0] = sw(A1, A2, 12);
    buffer[1] = addi(A0, ZERO, 1);
    buffer[2] = addi(A0, A0, 1);
    buffer[3] = addi(A0, A0, 100);
    buffer[4] = RET;
    fence_i();
    for (int k = 0; k < 100 && !failures; k++) {
        int imm = k % 2 ? 200 : 100;
        failures += check("store into its own block", f(0, addi(A0, A0, imm), (long)(uintptr_t)buffer), 2 + imm);
    }

    sbi_puts(failures ? "self-modifying: FAILED\n" : "self-modifying: ok\n");
    return failures != 0;
}
