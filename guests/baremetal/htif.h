/* Shared helpers for the bare-metal test programs (start.S, link.ld).
 * HTIF: tohost = device << 56 | command << 48 | payload; device 0 command 0
 * with payload (code << 1) | 1 exits, device 1 command 1 prints a byte. */
#ifndef HTIF_H
#define HTIF_H

#include <stdint.h>

extern volatile uint64_t tohost;
extern volatile uint64_t fromhost;

#define CLINT_MSIP(h)       ((volatile uint32_t *)(0x02000000UL + 4 * (h)))
#define CLINT_MTIMECMP(h)   ((volatile uint64_t *)(0x02004000UL + 8 * (h)))
#define CLINT_MTIME         ((volatile uint64_t *)0x0200BFF8UL)
#define SIFIVE_TEST         ((volatile uint32_t *)0x00100000UL)

#define read_csr(name) ({ uint64_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define write_csr(name, v) __asm__ volatile("csrw " #name ", %0" :: "r"((uint64_t)(v)))
#define set_csr(name, v) __asm__ volatile("csrs " #name ", %0" :: "r"((uint64_t)(v)))
#define clear_csr(name, v) __asm__ volatile("csrc " #name ", %0" :: "r"((uint64_t)(v)))

static inline void htif_putc(char c)
{
    while (tohost != 0) {}          /* the host clears it once it took the byte */
    tohost = (1ULL << 56) | (1ULL << 48) | (uint8_t)c;
    while (tohost != 0) {}
    fromhost = 0;
}

static inline void htif_puts(const char *s)
{
    while (*s) htif_putc(*s++);
}

static inline void htif_puthex(uint64_t v)
{
    htif_puts("0x");
    for (int i = 60; i >= 0; i -= 4) htif_putc("0123456789abcdef"[(v >> i) & 15]);
}

__attribute__((noreturn)) void htif_exit(uint64_t code);

#endif
