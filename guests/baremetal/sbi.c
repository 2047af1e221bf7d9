#include "sbi.h"

static long sbi_call(uint64_t eid, uint64_t fid, uint64_t a0, uint64_t a1)
{
    register uint64_t r0 __asm__("a0") = a0, r1 __asm__("a1") = a1;
    register uint64_t r6 __asm__("a6") = fid, r7 __asm__("a7") = eid;
    __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r6), "r"(r7) : "memory");
    return (long)r0;
}

void sbi_putc(char c) { sbi_call(0x4442434E, 2, (uint8_t)c, 0); }

void sbi_puts(const char *s) { while (*s) sbi_putc(*s++); }

void sbi_puthex(uint64_t v)
{
    sbi_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4) sbi_putc("0123456789abcdef"[(v >> shift) & 15]);
}

void sbi_shutdown(int failed)
{
    sbi_call(0x53525354, 0, 0, failed ? 1 : 0);
    for (;;) __asm__ volatile("wfi");
}
