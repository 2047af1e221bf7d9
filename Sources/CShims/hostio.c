#define _GNU_SOURCE
#include "hostio.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

int trapeze_getrandom(void *buffer, size_t length) {
    char *p = buffer;
    while (length > 0) {
        ssize_t n = getrandom(p, length, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static int allocate(int fd, int mode, uint64_t offset, uint64_t length) {
    if (offset > INT64_MAX || length > INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    int r;
    do {
        r = fallocate(fd, mode, (off_t)offset, (off_t)length);
    } while (r < 0 && errno == EINTR);
    return r;
}

int trapeze_punch_hole(int fd, uint64_t offset, uint64_t length) {
    return allocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

int trapeze_zero_range(int fd, uint64_t offset, uint64_t length) {
    return allocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offset, length);
}

int trapeze_event_create(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void trapeze_event_signal(int fd) {
    uint64_t one = 1;
    // EAGAIN only when the counter is near 2^64: it is readable then anyway.
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {}
}

void trapeze_event_drain(int fd) {
    uint64_t count;
    while (read(fd, &count, sizeof count) < 0 && errno == EINTR) {}
}

long trapeze_preadv(int fd, const struct iovec *vectors, int count, uint64_t offset, int nowait) {
    if (offset > INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    ssize_t n;
    do {
        n = preadv2(fd, vectors, count, (off_t)offset, nowait ? RWF_NOWAIT : 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

long trapeze_pwritev(int fd, const struct iovec *vectors, int count, uint64_t offset) {
    if (offset > INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    ssize_t n;
    do {
        n = pwritev(fd, vectors, count, (off_t)offset);
    } while (n < 0 && errno == EINTR);
    return n;
}
