/* bench-branch: branch-heavy work with data-dependent, poorly predictable
 * branches: quicksort of pseudo-random keys, a switch-dispatched bytecode
 * interpreter, and Collatz chain lengths.
 * Usage: bench-branch [rounds]. Prints one line with a checksum. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 100000

static uint32_t keys[N];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t next_rand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void quicksort(uint32_t *v, long lo, long hi) {
    while (lo < hi) {
        uint32_t pivot = v[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) { uint32_t t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; }
        else { quicksort(v, i, hi); hi = j; }
    }
}

/* A tiny stack machine; the program's branches depend on its data. */
enum { PUSH, ADD, SUB, MUL, DUP, SWAP, JNZ, DEC, XOR, SHR, DROP, HALT };

static uint64_t interpret(uint32_t seed, int iters) {
    static const int32_t prog[] = {
        PUSH, 0,            /* acc */
        PUSH, 0,            /* counter, patched below */
        /* loop (pc = 4): stack = acc, counter */
        SWAP, PUSH, 2654435761, MUL, PUSH, 12345, ADD, DUP, PUSH, 7, SHR, XOR,
        SWAP, DEC, DUP, JNZ, 4,
        DROP, HALT,
    };
    int32_t code[sizeof prog / sizeof prog[0]];
    for (unsigned i = 0; i < sizeof prog / sizeof prog[0]; i++) code[i] = prog[i];
    code[1] = (int32_t)seed;
    code[3] = iters;
    uint64_t stack[16];
    int sp = 0, pc = 0;
    for (;;) {
        switch (code[pc++]) {
        case PUSH: stack[sp++] = (uint32_t)code[pc++]; break;
        case ADD:  sp--; stack[sp - 1] += stack[sp]; break;
        case SUB:  sp--; stack[sp - 1] -= stack[sp]; break;
        case MUL:  sp--; stack[sp - 1] *= stack[sp]; break;
        case DUP:  stack[sp] = stack[sp - 1]; sp++; break;
        case SWAP: { uint64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; } break;
        case JNZ:  sp--; if (stack[sp]) pc = code[pc]; else pc++; break;
        case DEC:  stack[sp - 1]--; break;
        case XOR:  sp--; stack[sp - 1] ^= stack[sp]; break;
        case SHR:  sp--; stack[sp - 1] >>= stack[sp]; break;
        case DROP: sp--; break;
        case HALT: return stack[sp - 1];
        default:   return 0;
        }
    }
}

static uint32_t collatz_total(uint32_t from, uint32_t count) {
    uint32_t total = 0;
    for (uint32_t n = from; n < from + count; n++) {
        uint64_t x = n;
        while (x != 1) { x = (x & 1) ? 3 * x + 1 : x / 2; total++; }
    }
    return total;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    uint64_t check = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < N; i++) keys[i] = next_rand();
        quicksort(keys, 0, N - 1);
        for (int i = 1; i < N; i++)
            if (keys[i - 1] > keys[i]) { puts("bench-branch: sort failed"); return 1; }
        check = check * 31 + keys[N / 3] + keys[N - 1];
        check = check * 31 + interpret((uint32_t)check, 300000);
        check = check * 31 + collatz_total(1 + (uint32_t)r * 20000, 20000);
    }
    printf("bench-branch: rounds=%d checksum=%016" PRIx64 "\n", rounds, check);
    return 0;
}
