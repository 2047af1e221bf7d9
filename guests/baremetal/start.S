/* Entry for the bare-metal test programs. Hart 0 runs main() on a small stack
 * and reports its return value as the HTIF exit code; other harts park.
 * A trap the program did not expect exits with 100 + mcause (interrupts:
 * 200 + cause), so a test sees which one it was. */
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    la      sp, __stack_top
    la      t0, unexpected_trap
    csrw    mtvec, t0
    call    main
    call    htif_exit
park:
    wfi
    j       park

    .align  2
unexpected_trap:
    csrr    a0, mcause
    li      t0, 100
    bgez    a0, 1f
    slli    a0, a0, 1           /* drop the interrupt bit */
    srli    a0, a0, 1
    li      t0, 200
1:  add     a0, a0, t0
    call    htif_exit

    .section .tohost, "aw", @progbits
    .align  6
    .globl  tohost
tohost:
    .dword  0
    .align  6
    .globl  fromhost
fromhost:
    .dword  0
