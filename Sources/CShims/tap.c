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
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        close(fd);
        *failed_step = TRAPEZE_TAP_STEP_ATTACH;
        errno = error;
        return -1;
    }
    return fd;
}
