#ifndef TRAPEZE_HOSTIO_H
#define TRAPEZE_HOSTIO_H
#include <stddef.h>
#include <stdint.h>

// Host calls the virtio devices need that Swift's Glibc module does not import
// (sys/random.h, the fallocate(2) flags from linux/falloc.h).

// Fills `length` bytes from the kernel's random pool (getrandom(2), blocking only until the
// pool is initialised). Returns 0, or -1 with errno set.
int trapeze_getrandom(void *buffer, size_t length);
// fallocate(2) with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE: deallocates the range, which
// then reads as zeros; the file size does not change. Returns 0, or -1 with errno set.
int trapeze_punch_hole(int fd, uint64_t offset, uint64_t length);
// fallocate(2) with FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE: the range reads as zeros
// afterwards and stays allocated. Returns 0, or -1 with errno set.
int trapeze_zero_range(int fd, uint64_t offset, uint64_t length);


struct iovec;
// preadv(2), or with `nowait` preadv2(2) with RWF_NOWAIT, which reads only what the page cache
// holds, never waiting for the disk. Returns the bytes read (maybe fewer than asked), or -1 with
// errno set: with `nowait`, EAGAIN when the first byte is not cached, EOPNOTSUPP when the file
// cannot tell.
long trapeze_preadv(int fd, const struct iovec *vectors, int count, uint64_t offset, int nowait);
// pwritev(2): returns the bytes written (maybe fewer), or -1 with errno set.
long trapeze_pwritev(int fd, const struct iovec *vectors, int count, uint64_t offset);

// An eventfd (non-blocking, close-on-exec) one thread signals and another polls: the I/O thread
// and the harts' thread wake each other with these. Returns the descriptor, or -1 with errno set.
int trapeze_event_create(void);
// Makes the eventfd readable (adds 1 to its counter).
void trapeze_event_signal(int fd);
// Empties the eventfd's counter: it polls readable again only after the next signal.
void trapeze_event_drain(int fd);

#endif
