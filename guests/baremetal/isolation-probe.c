/* Run as an S-mode kernel with --memory 64M (RAM 0x8000_0000..0x8400_0000):
 * loads, stores and fetches at guest-physical addresses past the guest's RAM
 * must raise access faults (scause 5, 7, 1, stval = the address), never
 * return data. Under --virt trap the VMM keeps its shadow page tables in
 * machine memory right there, above the guest's RAM, so this is the
 * isolation check: the guest cannot name the VMM's memory. Exits 0 (SBI
 * shutdown) if every probe faulted correctly, else powers off with failure. */
#include "sbi.h"

#define RAM_END 0x84000000UL

static volatile uint64_t cause, tval;
volatile uint64_t recover_pc;

__attribute__((interrupt("supervisor"), aligned(4))) static void on_trap(void)
{
    cause = read_csr(scause);
    tval = read_csr(stval);
    write_csr(sepc, recover_pc);
}

static uint64_t probe_load(uint64_t a)
{
    uint64_t v = 0x5a5a5a5a5a5a5a5aUL;
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; ld %0, 0(%1); 1:"
                     : "+r"(v) : "r"(a) : "t1", "t2", "memory");
    return v;
}

static uint64_t probe_store(uint64_t a)
{
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; sd zero, 0(%0); 1:"
                     :: "r"(a) : "t1", "t2", "memory");
    return 0;
}

static uint64_t probe_fetch(uint64_t a)
{
    __asm__ volatile("la t1, 1f; sd t1, recover_pc, t2; jr %0; 1:"
                     :: "r"(a) : "t1", "t2", "memory");
    return 0;
}

static int check(const char *what, uint64_t (*probe)(uint64_t), uint64_t address, uint64_t expected)
{
    cause = ~0UL;
    tval = 0;
    uint64_t value = probe(address);
    sbi_puts(what);
    sbi_puts(" ");
    sbi_puthex(address);
    sbi_puts(": scause=");
    sbi_puthex(cause);
    sbi_puts(" stval=");
    sbi_puthex(tval);
    int ok = cause == expected && tval == address && (probe != probe_load || value == 0x5a5a5a5a5a5a5a5aUL);
    sbi_puts(ok ? " ok\n" : " WRONG\n");
    return ok;
}

int main(void)
{
    write_csr(stvec, (uint64_t)on_trap);
    static const uint64_t addresses[] = {
        RAM_END,                 /* first byte past RAM: the VMM's shadow pool under --virt trap */
        RAM_END + 0x800000,      /* inside that pool */
        RAM_END + 0xfffff8,      /* its last doubleword (16 MiB pool) */
        RAM_END + 0x1000000,     /* past it */
        0x40000000UL,            /* a hole in the board's map */
        0x1000000000UL,          /* far above everything */
    };
    int failures = 0;
    for (unsigned i = 0; i < sizeof addresses / sizeof addresses[0]; i++) {
        failures += !check("load", probe_load, addresses[i], 5);
        failures += !check("store", probe_store, addresses[i], 7);
        failures += !check("fetch", probe_fetch, addresses[i], 1);
    }
    /* Its own RAM still works. */
    volatile uint64_t *own = (volatile uint64_t *)(RAM_END - 8);
    *own = 0x1234;
    failures += *own != 0x1234;
    sbi_puts(failures ? "isolation: FAILED\n" : "isolation: ok\n");
    return failures;
}
