/* Writes every HTIF command as two 32-bit stores, low word first, as some ISA
 * tests do. The bytes of "[ok]" are all odd, so a host that acts on the low
 * word alone sees device 0, command 0, payload bit 0 set: an exit, with code
 * byte >> 1, instead of a console byte. Exits with 3, also split. */
#include "htif.h"

static void split_write(uint64_t value)
{
    volatile uint32_t *words = (volatile uint32_t *)&tohost;
    while (tohost != 0) {}
    words[0] = (uint32_t)value;
    words[1] = (uint32_t)(value >> 32);
    while (tohost != 0) {}
}

int main(void)
{
    for (const char *s = "[ok]"; *s; s++) split_write((1ULL << 56) | (1ULL << 48) | (uint8_t)*s);
    split_write((3 << 1) | 1);
    return 99;  /* not reached unless the exit was ignored */
}
