/* smc: code a Linux process writes and then runs, as a JIT or a program loader
 * does. The emulator under it (decoded pages, translated blocks) must run the
 * new instructions every time:
 *   1. an anonymous read-write-execute mapping holds a function that is
 *      rewritten and called 1000 times, with __builtin___clear_cache (the
 *      riscv_flush_icache system call) after each rewrite;
 *   2. a loader: code written to a file with write(), mapped PROT_EXEC from the
 *      file and called, 100 times with different code each time (the kernel
 *      copies it into the page cache pages that get mapped executable).
 * Usage: smc. Prints "smc: ok" or what went wrong; exit status 0 on success. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RET 0x00008067u

/* addi a0, a0, imm */
static uint32_t add_to_a0(int imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | 10u << 15 | 10u << 7 | 0x13;
}

typedef long (*function)(long);

static int rewritten_in_memory(void)
{
    uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("smc: mmap rwx");
        return 1;
    }
    for (int k = 1; k <= 1000; k++) {
        code[0] = add_to_a0(k);
        code[1] = RET;
        __builtin___clear_cache((char *)code, (char *)(code + 2));
        long got = ((function)(uintptr_t)code)(1000);
        if (got != 1000 + k) {
            printf("smc: rewritten function %d returned %ld, want %d\n", k, got, 1000 + k);
            return 1;
        }
    }
    munmap(code, 4096);
    return 0;
}

static int loaded_from_a_file(void)
{
    char path[] = "/tmp/smc-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        strcpy(path, "/smc-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd < 0) {
        perror("smc: mkstemp");
        return 1;
    }
    unlink(path);
    for (int k = 1; k <= 100; k++) {
        uint32_t code[2] = { add_to_a0(k * 7), RET };
        if (pwrite(fd, code, sizeof code, 0) != sizeof code) {
            perror("smc: pwrite");
            return 1;
        }
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            perror("smc: mmap exec");
            return 1;
        }
        long got = ((function)(uintptr_t)p)(5);
        munmap(p, 4096);
        if (got != 5 + k * 7) {
            printf("smc: loaded function %d returned %ld, want %d\n", k, got, 5 + k * 7);
            return 1;
        }
    }
    close(fd);
    return 0;
}

int main(void)
{
    int failed = rewritten_in_memory() || loaded_from_a_file();
    puts(failed ? "smc: FAILED" : "smc: ok");
    return failed;
}
