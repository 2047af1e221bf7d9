/* bench-blk: block-device benchmark on /dev/vda (virtio-blk), for
 * Benchmarks/run.py's blk case. DESTROYS the disk's contents.
 *
 *   bench-blk [SEQ_MIB [RAND_OPS [DEVICE]]]     defaults: 32 2000 /dev/vda
 *
 * Opens the device with O_DIRECT (without it if the kernel says EINVAL; the
 * page cache is then dropped with BLKFLSBUF before each read phase) and runs,
 * in this order:
 *   seq-write   SEQ_MIB requests of 1 MiB from offset 0, then fdatasync
 *   seq-read    the same range back, 1 MiB requests
 *   rand-write  RAND_OPS 4 KiB writes at offsets from a fixed-seed LCG over
 *               the whole device, then fdatasync
 *   rand-read   RAND_OPS 4 KiB reads at the same offsets
 *   fsync+compute  SEQ_MIB 1 MiB writes (not timed), then fdatasync while a
 *               child process computes (a fixed integer loop, also timed alone
 *               just before): kept=% is 100 * the loop's time alone / its time
 *               during the sync, so an emulator that stops the guest while the
 *               host syncs the image (device I/O on the vCPU's thread) keeps
 *               less than one that lets the guest run meanwhile. The data is
 *               read back and checked afterwards (not timed).
 * Only the I/O system calls (and the fdatasync of the write phases) are timed
 * with clock_gettime(CLOCK_MONOTONIC); filling and checking buffers is not.
 * Every block written carries a pattern derived from its byte offset and the
 * phase, and every block read is compared with it, so a wrong answer is an
 * error (exit 1, "bench-blk: ERROR ..."), not a benchmark.
 *
 * Output, one line per measure (MiBps = 2^20 bytes per second):
 *   bench-blk: device=/dev/vda size=67108864 direct=1 seq_mib=32 rand_ops=2000
 *   bench-blk: seq-write MiBps=123.4 s=0.259
 *   bench-blk: seq-read MiBps=123.4 s=0.259
 *   bench-blk: rand-write IOPS=1234 s=1.620
 *   bench-blk: rand-read IOPS=1234 s=1.620
 *   bench-blk: fsync+compute kept=95.0 compute_s=0.263 compute_alone_s=0.250 sync_s=0.080
 *   bench-blk: ok verified_bytes=75497472
 * The values are timings, so there is no line for this program in expected.txt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define SEQ_REQ (1u << 20)
#define RAND_REQ 4096u

static int fd = -1;
static int direct = 1;
static uint64_t verified;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, uint64_t off) {
    printf("bench-blk: ERROR %s at offset %" PRIu64 ": %s\n", what, off,
           errno ? strerror(errno) : "short transfer");
    exit(1);
}

/* The 64-bit word at byte offset off, written in phase phase. */
static inline uint64_t pattern(uint64_t off, uint64_t phase) {
    uint64_t x = off ^ (phase * 0x9e3779b97f4a7c15ull);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 32);
}

static void fill(uint64_t *buf, size_t len, uint64_t off, uint64_t phase) {
    for (size_t i = 0; i < len / 8; i++) buf[i] = pattern(off + 8 * i, phase);
}

static void check(const uint64_t *buf, size_t len, uint64_t off, uint64_t phase) {
    for (size_t i = 0; i < len / 8; i++) {
        if (buf[i] != pattern(off + 8 * i, phase)) {
            printf("bench-blk: ERROR data mismatch at offset %" PRIu64
                   " (phase %" PRIu64 "): got %016" PRIx64 " expected %016" PRIx64 "\n",
                   off + 8 * i, phase, buf[i], pattern(off + 8 * i, phase));
            exit(1);
        }
    }
    verified += len;
}

/* Times one pread/pwrite of exactly len bytes; returns seconds. */
static double xfer(int write, void *buf, size_t len, uint64_t off) {
    double t = now();
    ssize_t n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
    t = now() - t;
    if (n != (ssize_t)len) {
        if (n >= 0) errno = 0;
        die(write ? "pwrite" : "pread", off);
    }
    return t;
}

static double sync_dev(void) {
    double t = now();
    if (fdatasync(fd) != 0) die("fdatasync", 0);
    return now() - t;
}

static void drop_cache(void) {
    /* With O_DIRECT the guest page cache is bypassed already. */
    if (!direct && ioctl(fd, BLKFLSBUF, 0) != 0) die("BLKFLSBUF", 0);
}

static uint64_t lcg_state;
static uint64_t lcg_offset(uint64_t blocks) {
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return ((lcg_state >> 33) % blocks) * RAND_REQ;
}

/* The child's work in fsync+compute: an LCG the compiler cannot fold away. */
#define COMPUTE_STEPS 40000000u
static double compute(void) {
    double t = now();
    volatile uint64_t sink;
    uint64_t x = 1;
    for (unsigned i = 0; i < COMPUTE_STEPS; i++) x = x * 6364136223846793005ull + i;
    sink = x;
    (void)sink;
    return now() - t;
}

/* fdatasync while a child computes; returns the sync's time and sets *compute_s to
 * the child's own time. */
static double sync_while_computing(double *compute_s) {
    int pipefd[2];
    if (pipe(pipefd) != 0) die("pipe", 0);
    pid_t child = fork();
    if (child < 0) die("fork", 0);
    if (child == 0) {
        double c = compute();
        if (write(pipefd[1], &c, sizeof c) != sizeof c) _exit(1);
        _exit(0);
    }
    double t = sync_dev();
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        read(pipefd[0], compute_s, sizeof *compute_s) != sizeof *compute_s) {
        die("compute child", 0);
    }
    close(pipefd[0]);
    close(pipefd[1]);
    return t;
}

int main(int argc, char **argv) {
    unsigned seq_mib = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 32;
    unsigned rand_ops = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 2000;
    const char *dev = argc > 3 ? argv[3] : "/dev/vda";
    setvbuf(stdout, NULL, _IOLBF, 0);

    fd = open(dev, O_RDWR | O_DIRECT);
    if (fd < 0 && errno == EINVAL) {
        direct = 0;
        fd = open(dev, O_RDWR);
    }
    if (fd < 0) die("open", 0);
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
        struct stat st;
        if (fstat(fd, &st) != 0) die("size", 0);
        size = (uint64_t)st.st_size;
    }
    if (seq_mib == 0 || rand_ops == 0 || size < (uint64_t)seq_mib * SEQ_REQ || size < RAND_REQ) {
        printf("bench-blk: ERROR %s has %" PRIu64 " bytes, need %u MiB\n", dev, size, seq_mib);
        return 1;
    }
    printf("bench-blk: device=%s size=%" PRIu64 " direct=%d seq_mib=%u rand_ops=%u\n",
           dev, size, direct, seq_mib, rand_ops);

    void *mem;
    if (posix_memalign(&mem, 4096, SEQ_REQ) != 0) die("posix_memalign", 0);
    uint64_t *buf = mem;
    double t;

    /* Sequential write, then read back and check (phase 1). */
    t = 0;
    for (unsigned i = 0; i < seq_mib; i++) {
        uint64_t off = (uint64_t)i * SEQ_REQ;
        fill(buf, SEQ_REQ, off, 1);
        t += xfer(1, buf, SEQ_REQ, off);
    }
    t += sync_dev();
    printf("bench-blk: seq-write MiBps=%.1f s=%.3f\n", seq_mib / t, t);

    drop_cache();
    t = 0;
    for (unsigned i = 0; i < seq_mib; i++) {
        uint64_t off = (uint64_t)i * SEQ_REQ;
        memset(buf, 0, SEQ_REQ);
        t += xfer(0, buf, SEQ_REQ, off);
        check(buf, SEQ_REQ, off, 1);
    }
    printf("bench-blk: seq-read MiBps=%.1f s=%.3f\n", seq_mib / t, t);

    /* Random 4 KiB writes, then reads of the same offsets (phase 2). The pattern
     * depends only on offset and phase, so offsets drawn twice hold the same data. */
    uint64_t blocks = size / RAND_REQ;
    lcg_state = 0x5eed;
    t = 0;
    for (unsigned i = 0; i < rand_ops; i++) {
        uint64_t off = lcg_offset(blocks);
        fill(buf, RAND_REQ, off, 2);
        t += xfer(1, buf, RAND_REQ, off);
    }
    t += sync_dev();
    printf("bench-blk: rand-write IOPS=%.0f s=%.3f\n", rand_ops / t, t);

    drop_cache();
    lcg_state = 0x5eed;
    t = 0;
    for (unsigned i = 0; i < rand_ops; i++) {
        uint64_t off = lcg_offset(blocks);
        memset(buf, 0, RAND_REQ);
        t += xfer(0, buf, RAND_REQ, off);
        check(buf, RAND_REQ, off, 2);
    }
    printf("bench-blk: rand-read IOPS=%.0f s=%.3f\n", rand_ops / t, t);

    /* Sequential write, then a sync while computing; read back and check (phase 3). */
    for (unsigned i = 0; i < seq_mib; i++) {
        uint64_t off = (uint64_t)i * SEQ_REQ;
        fill(buf, SEQ_REQ, off, 3);
        xfer(1, buf, SEQ_REQ, off);
    }
    double alone = compute(), alongside;
    t = sync_while_computing(&alongside);
    printf("bench-blk: fsync+compute kept=%.1f compute_s=%.3f compute_alone_s=%.3f sync_s=%.3f\n",
           100 * alone / alongside, alongside, alone, t);
    drop_cache();
    for (unsigned i = 0; i < seq_mib; i++) {
        uint64_t off = (uint64_t)i * SEQ_REQ;
        memset(buf, 0, SEQ_REQ);
        xfer(0, buf, SEQ_REQ, off);
        check(buf, SEQ_REQ, off, 3);
    }

    if (close(fd) != 0) die("close", 0);
    printf("bench-blk: ok verified_bytes=%" PRIu64 "\n", verified);
    free(mem);
    return 0;
}
