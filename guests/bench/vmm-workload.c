/* vmm-workload: the guest workloads that show what a VMM costs (docs/virtualization.md):
 *   fork N     fork and exec a child N times, wait for each (process creation, address spaces)
 *   fault N    map 4 MiB, write every page, unmap, N times (page faults, page-table writes)
 *   syscall N  N getppid system calls (user/kernel round trips)
 *   compute N  N rounds of integer work with no system calls (pure guest code)
 *   all        each of the above with its default N
 * Each workload prints one result line made of counts and checksums only, identical under
 * every --virt mode, and one "time:" line with its elapsed microseconds (guest clock) for the
 * benchmark. Exit status 0 when every check passed. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fork_exec(long n) {
    long status_sum = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            char code[16];
            snprintf(code, sizeof code, "%ld", i % 7);
            execl("/proc/self/exe", "vmm-workload", "exit", code, (char *)0);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) { puts("fork: child lost"); return 1; }
        status_sum += WEXITSTATUS(status);
    }
    printf("fork: n=%ld status-sum=%ld\n", n, status_sum);
    return 0;
}

static int fault(long n) {
    const size_t size = 4u << 20, page = 4096;
    uint64_t check = 0;
    for (long r = 0; r < n; r++) {
        uint8_t *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); return 1; }
        for (size_t off = 0; off < size; off += page) p[off] = (uint8_t)(off / page + r);
        for (size_t off = 0; off < size; off += page) check = check * 31 + p[off];
        munmap(p, size);
    }
    printf("fault: n=%ld pages=%ld checksum=%016" PRIx64 "\n", n, n * (long)(size / page), check);
    return 0;
}

static int syscalls(long n) {
    long parent = syscall(SYS_getppid), same = 0;
    for (long i = 0; i < n; i++) same += syscall(SYS_getppid) == parent;
    printf("syscall: n=%ld consistent=%ld\n", n, same);
    return same == n ? 0 : 1;
}

static int compute(long n) {
    uint64_t x = 0x9e3779b97f4a7c15ull, check = 0;
    for (long r = 0; r < n; r++) {
        for (int i = 0; i < 100000; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            check += x % 1009;
        }
    }
    printf("compute: n=%ld checksum=%016" PRIx64 "\n", n, check);
    return 0;
}

static int run(const char *name, long n) {
    uint64_t start = now_us();
    int rc;
    if (!strcmp(name, "fork")) rc = fork_exec(n ? n : 200);
    else if (!strcmp(name, "fault")) rc = fault(n ? n : 20);
    else if (!strcmp(name, "syscall")) rc = syscalls(n ? n : 200000);
    else if (!strcmp(name, "compute")) rc = compute(n ? n : 50);
    else { fprintf(stderr, "vmm-workload: unknown workload %s\n", name); return 2; }
    printf("time: %s %" PRIu64 " us\n", name, now_us() - start);
    fflush(stdout);
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 2 && !strcmp(argv[1], "exit")) return atoi(argv[2]);
    const char *name = argc > 1 ? argv[1] : "all";
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (strcmp(name, "all")) return run(name, n);
    int rc = 0;
    const char *all[] = {"fork", "fault", "syscall", "compute"};
    for (int i = 0; i < 4; i++) rc |= run(all[i], 0);
    return rc;
}
