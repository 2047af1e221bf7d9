/* mip.SEIP is the OR of a software-writable bit and the PLIC's S-mode line
 * (privileged spec 3.1.9): a CSRRS/CSRRC on mip must read-modify-write only
 * the software bit. OpenSBI sets mip.STIP with csrs while the PLIC line may be
 * high; if that latches the line's value into the software bit, SEIP never
 * drops and S-mode sees an endless external interrupt with nothing to claim.
 *
 * Raises the UART's THRE interrupt (PLIC source 10) and routes it to hart 0's
 * contexts (0: M-mode, 1: S-mode), does csrs/csrc mip.STIP, then masks the
 * source in the enable bits, which drops the lines on QEMU's PLIC and
 * Trapeze's alike, and checks SEIP follows. mie is 0, so nothing traps.
 * Passes on QEMU 7.2 (with the HTIF exit swapped for the sifive test device).
 * Exit codes: 20 SEIP did not rise, 21 SEIP did not drop (plain case),
 * 22 SEIP stuck after csrs/csrc mip, 0 pass. */
#include "htif.h"

#define PLIC_PRIORITY(s)    ((volatile uint32_t *)(0x0C000000UL + 4 * (s)))
#define PLIC_ENABLE(ctx)    ((volatile uint32_t *)(0x0C002000UL + 0x80 * (ctx)))
#define PLIC_THRESHOLD(ctx) ((volatile uint32_t *)(0x0C200000UL + 0x1000 * (ctx)))
#define UART_IER            ((volatile uint8_t *)0x10000001UL)
#define UART_IRQ 10
#define MIP_STIP (1 << 5)
#define MIP_SEIP (1 << 9)

static void route(int on)
{
    *PLIC_ENABLE(0) = on ? 1 << UART_IRQ : 0;
    *PLIC_ENABLE(1) = on ? 1 << UART_IRQ : 0;
    /* QEMU 7.2 re-evaluates its lines on threshold writes, not enable writes. */
    *PLIC_THRESHOLD(0) = 0;
    *PLIC_THRESHOLD(1) = 0;
}

static int seip(void) { return (read_csr(mip) & MIP_SEIP) != 0; }

int main(void)
{
    *PLIC_PRIORITY(UART_IRQ) = 1;
    *UART_IER = 0x02;                   /* THRE interrupt: the UART's line goes high */

    route(1);
    if (!seip()) return 20;
    route(0);
    if (seip()) return 21;

    route(1);
    if (!seip()) return 20;
    set_csr(mip, MIP_STIP);             /* what OpenSBI does on a timer tick */
    clear_csr(mip, MIP_STIP);
    route(0);
    if (seip()) {
        htif_puts("mip.SEIP stuck after csrs/csrc mip\n");
        return 22;
    }
    return 0;
}
