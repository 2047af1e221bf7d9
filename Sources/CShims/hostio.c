#define _GNU_SOURCE
#include "hostio.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/random.h>

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
