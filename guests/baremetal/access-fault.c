/* Loads from, stores to and jumps to 0x4000_0000, where the virt board has no
 * RAM or device in Trapeze: each must raise an access fault (mcause 5, 7, 1)
 * with mtval = the address. Prints what it saw; exits 0 if all three were
 * right, else 10 + the index of the first wrong one. */
#include "htif.h"

#define HOLE 0x40000000UL

static volatile uint64_t cause, tval;
volatile uint64_t recover_pc;

__attribute__((interrupt("machine"), aligned(4))) static void on_trap(void)
{
    cause = read_csr(mcause);
    tval = read_csr(mtval);
    write_csr(mepc, recover_pc);
}

static void probe_load(uint64_t a)
{
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; ld t0, 0(%0); 1:"
                     :: "r"(a) : "t0", "t1", "t2", "memory");
}

static void probe_store(uint64_t a)
{
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; sd zero, 0(%0); 1:"
                     :: "r"(a) : "t1", "t2", "memory");
}

static void probe_fetch(uint64_t a)
{
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; jr %0; 1:"
                     :: "r"(a) : "t1", "t2", "memory");
}

static int check(const char *what, void (*probe)(uint64_t), uint64_t expected)
{
    cause = ~0ULL;
    tval = 0;
    probe(HOLE);
    htif_puts(what);
    htif_puts(": mcause=");
    htif_puthex(cause);
    htif_puts(" mtval=");
    htif_puthex(tval);
    htif_putc('\n');
    return cause == expected && tval == HOLE;
}

int main(void)
{
    write_csr(mtvec, (uint64_t)on_trap);
    if (!check("load", probe_load, 5)) return 10;
    if (!check("store", probe_store, 7)) return 11;
    if (!check("fetch", probe_fetch, 1)) return 12;
    return 0;
}
