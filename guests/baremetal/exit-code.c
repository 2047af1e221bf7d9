/* Exits through HTIF with EXIT_CODE (built as pass.elf with 0, fail7.elf with 7). */
#include "htif.h"

int main(void)
{
    return EXIT_CODE;
}
