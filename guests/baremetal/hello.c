/* Prints through the HTIF console (device 1, command 1), one doubleword store per byte. */
#include "htif.h"

int main(void)
{
    htif_puts("hello from htif\n");
    return 0;
}
