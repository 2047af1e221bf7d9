/* Programs the CLINT (mtimecmp of hart 0) for 1 ms ahead, waits in WFI for the
 * machine timer interrupt, then powers off through the sifive test device with
 * FINISHER (0x5555 pass, or 0x3333 | code << 16 fail).
 * HTIF exit codes: 2 no interrupt within ~5 s of mtime, 3 wrong mcause,
 * 4 the finisher write did not stop the machine. */
#include "htif.h"

static volatile uint64_t interrupts;
static volatile uint64_t cause;

__attribute__((interrupt("machine"), aligned(4))) static void on_trap(void)
{
    cause = read_csr(mcause);
    *CLINT_MTIMECMP(0) = ~0ULL;     /* drops MTIP */
    interrupts++;
}

int main(void)
{
    write_csr(mtvec, (uint64_t)on_trap);
    uint64_t start = *CLINT_MTIME;
    *CLINT_MTIMECMP(0) = start + 10000;          /* 10 MHz timebase: 1 ms */
    set_csr(mie, 1 << 7);                        /* MTIE */
    set_csr(mstatus, 1 << 3);                    /* MIE */
    while (interrupts == 0) {
        if (*CLINT_MTIME - start > 50000000) return 2;
        __asm__ volatile("wfi");
    }
    clear_csr(mstatus, 1 << 3);
    if (cause != ((1ULL << 63) | 7)) return 3;
    htif_puts("timer interrupt taken\n");
    *SIFIVE_TEST = FINISHER;
    for (volatile int i = 0; i < 10000000; i++) {}
    return 4;
}
