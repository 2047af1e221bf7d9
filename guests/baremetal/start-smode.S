/* Entry for the S-mode test programs: hart 0 runs main() on a small stack and
 * powers off through SBI SRST with main's verdict (0: shutdown, else a
 * "system failure" shutdown, which trapeze reports as exit status 1). */
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    bnez    a0, park            /* a0 = hart ID */
    la      sp, __stack_top
    call    main
    call    sbi_shutdown
park:
    wfi
    j       park
