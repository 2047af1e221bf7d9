/* Run as an S-mode kernel: a legacy SBI send_ipi (extension 0x04) to itself,
 * whose argument is a pointer to the hart mask in the caller's (here, with
 * satp Bare, physical) memory, as SBI v0.1 defines it. The supervisor software
 * interrupt must arrive; the handler clears it with the legacy clear_ipi (0x03).
 * Under --virt trap the SBI must read that mask through the guest's own
 * translation, not the shadow's. Exits 0 (SBI shutdown) on success. */
#include "sbi.h"

static volatile int interrupts;

__attribute__((interrupt("supervisor"), aligned(4))) static void on_trap(void)
{
    uint64_t cause = read_csr(scause);
    if (cause == ((1UL << 63) | 1)) {
        interrupts++;
        register uint64_t a7 __asm__("a7") = 0x03;   /* legacy clear_ipi */
        __asm__ volatile("ecall" : : "r"(a7) : "a0", "memory");
    } else {
        sbi_puts("unexpected trap\n");
        sbi_shutdown(1);
    }
}

static uint64_t mask = 1;   /* hart 0 */

int main(void)
{
    write_csr(stvec, (uint64_t)on_trap);
    __asm__ volatile("csrs sie, %0" :: "r"(1UL << 1));      /* SSIE */
    register uint64_t a0 __asm__("a0") = (uint64_t)&mask;
    register uint64_t a7 __asm__("a7") = 0x04;             /* legacy send_ipi */
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    __asm__ volatile("csrs sstatus, %0" :: "r"(1UL << 1)); /* SIE */
    for (int spin = 0; spin < 1000000 && interrupts == 0; spin++) __asm__ volatile("nop");
    __asm__ volatile("csrc sstatus, %0" :: "r"(1UL << 1));
    sbi_puts(interrupts == 1 ? "legacy-ipi: ok\n" : "legacy-ipi: no interrupt\n");
    return interrupts != 1;
}
