#define _GNU_SOURCE
#include "jit.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

// Linux 6.3 added MFD_EXEC/MFD_NOEXEC_SEAL; with vm.memfd_noexec=1 a memfd created without
// MFD_EXEC is sealed non-executable and the RX view would fail. Older kernels reject the
// unknown flag with EINVAL, so try with it first and retry without.
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int trapeze_jit_map_dual(size_t length, void **writable, void **executable) {
    int fd = memfd_create("trapeze-jit", MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create("trapeze-jit", MFD_CLOEXEC);
    if (fd < 0) return errno;
    if (ftruncate(fd, (off_t)length) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    // MAP_SHARED on both views: a store through the RW view lands in the page cache
    // page that the RX view maps, so no copy and no protection change is ever needed.
    void *rw = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED) {
        int e = errno;
        close(fd);
        return e;
    }
    void *rx = mmap(NULL, length, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); // The mappings keep the file alive.
    if (rx == MAP_FAILED) {
        munmap(rw, length);
        return e;
    }
    *writable = rw;
    *executable = rx;
    return 0;
}

int trapeze_jit_map_single(size_t length, void **mapping) {
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return errno;
    *mapping = p;
    return 0;
}

int trapeze_jit_protect(void *address, size_t length, int executable) {
    int prot = executable ? (PROT_READ | PROT_EXEC) : (PROT_READ | PROT_WRITE);
    return mprotect(address, length, prot) == 0 ? 0 : errno;
}

void trapeze_jit_flush_icache(void *begin, size_t length) {
    __builtin___clear_cache((char *)begin, (char *)begin + length);
}

size_t trapeze_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }
