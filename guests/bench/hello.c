/* hello: the smallest useful guest program, for smoke tests of the
 * trapeze.run= path and argument passing. Prints its arguments. */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("hello from trapeze guest:");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf(" (argc=%d)\n", argc);
    return 0;
}
