#define _GNU_SOURCE
#include "tap.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int trapeze_tap_open(const char *name, int *failed_step) {
    struct ifreq request;
    // The kernel takes the name as given; one that does not fit would be cut, naming another interface.
    if (strlen(name) >= sizeof request.ifr_name) {
        *failed_step = TRAPEZE_TAP_STEP_ATTACH;
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *failed_step = TRAPEZE_TAP_STEP_OPEN;
        return -1;
    }
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, sizeof request.ifr_name - 1);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        close(fd);
        *failed_step = TRAPEZE_TAP_STEP_ATTACH;
        errno = error;
        return -1;
    }
    // The header size, byte order and offloads belong to the interface, not the descriptor: an
    // existing TAP keeps whatever its last user set, so all three are set every time.
    int header_length = TRAPEZE_TAP_VNET_HEADER_LENGTH;
    int little_endian = 1;
    if (ioctl(fd, TUNSETVNETHDRSZ, &header_length) < 0 || ioctl(fd, TUNSETVNETLE, &little_endian) < 0
        || ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
        int error = errno;
        close(fd);
        *failed_step = TRAPEZE_TAP_STEP_VNET;
        errno = error;
        return -1;
    }
    return fd;
}

int trapeze_tap_set_offload(int fd, unsigned flags) {
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags);
}
