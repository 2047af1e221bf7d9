/* bench-net: guest-to-host TCP throughput over eth0, for Benchmarks/run.py's
 * net case.
 *
 *   bench-net [MIB [SERVER [PORT [ADDRESS]]]]   defaults: 32 10.0.2.2 5201 10.0.2.15
 *
 * Gives eth0 ADDRESS/24 and brings it up (ioctls, as `ip addr add` and `ip link
 * set up` would), connects to SERVER:PORT (retrying for up to 10 s while the
 * host side comes up), sends MIB MiB and half-closes the connection, then waits
 * for the server to close its side: only then has every byte arrived, so a
 * poweroff right after cannot cut the transfer short.
 *
 * The stream is MIB chunks of 1 MiB: chunk i is the little-endian 64-bit i,
 * then the words pattern(1) .. pattern(131071) (see below), so the receiver can
 * rebuild it and compare a hash; a lost, repeated or reordered byte shows.
 *
 * Output (us = microseconds of CLOCK_MONOTONIC in the guest, from connect to
 * the server's close; the benchmark uses the host's own timing):
 *   bench-net: eth0 10.0.2.15/24 up, sending 32 MiB to 10.0.2.2:5201
 *   bench-net: sent 33554432 bytes in 1234567 us
 * and "bench-net: ERROR ..." with exit status 1 on any failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static void die(const char *what) {
    printf("bench-net: ERROR %s: %s\n", what, errno ? strerror(errno) : "unexpected end");
    exit(1);
}

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Word j (1 <= j < CHUNK / 8) of every chunk: a SplitMix64 finalizer of j. */
static uint64_t pattern(uint64_t j) {
    uint64_t z = j * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void set_address(const char *address) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket for ioctl");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, "eth0", IFNAMSIZ - 1);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) {
        errno = EINVAL;
        die("guest address");
    }
    if (ioctl(s, SIOCSIFADDR, &ifr) != 0) die("SIOCSIFADDR eth0");
    inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) die("SIOCSIFNETMASK eth0");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) die("SIOCGIFFLAGS eth0");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) die("SIOCSIFFLAGS eth0");
    close(s);
}

static int connect_to(const char *server, unsigned port) {
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, server, &to.sin_addr) != 1) {
        errno = EINVAL;
        die("server address");
    }
    for (int attempt = 0;; attempt++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) die("socket");
        if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) return s;
        int e = errno;
        close(s);
        errno = e;
        if (attempt >= 100 || (e != ECONNREFUSED && e != ENETUNREACH && e != EHOSTUNREACH && e != ETIMEDOUT))
            die("connect");
        usleep(100000);
    }
}

int main(int argc, char **argv) {
    unsigned mib = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 32;
    const char *server = argc > 2 ? argv[2] : "10.0.2.2";
    unsigned port = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 5201;
    const char *address = argc > 4 ? argv[4] : "10.0.2.15";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (mib == 0 || port == 0 || port > 65535) {
        errno = EINVAL;
        die("arguments (bench-net [MIB [SERVER [PORT [ADDRESS]]]])");
    }

    uint64_t *chunk = malloc(CHUNK);
    if (!chunk) die("malloc");
    for (uint64_t j = 1; j < CHUNK / 8; j++) chunk[j] = pattern(j);

    set_address(address);
    printf("bench-net: eth0 %s/24 up, sending %u MiB to %s:%u\n", address, mib, server, port);
    uint64_t t0 = now_us();
    int s = connect_to(server, port);
    for (unsigned i = 0; i < mib; i++) {
        chunk[0] = i;  /* little-endian, as RISC-V is */
        const char *p = (const char *)chunk;
        size_t left = CHUNK;
        while (left > 0) {
            ssize_t n = send(s, p, left, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) die("send");
            p += n;
            left -= (size_t)n;
        }
    }
    if (shutdown(s, SHUT_WR) != 0) die("shutdown");
    /* The server closes once it has read everything: wait for that. */
    char reply[64];
    ssize_t n;
    while ((n = recv(s, reply, sizeof reply, 0)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("recv");
    }
    uint64_t t = now_us() - t0;
    close(s);
    printf("bench-net: sent %" PRIu64 " bytes in %" PRIu64 " us\n", (uint64_t)mib * CHUNK, t);
    free(chunk);
    return 0;
}
