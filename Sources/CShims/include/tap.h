#ifndef TRAPEZE_TAP_H
#define TRAPEZE_TAP_H

// TAP interfaces for virtio-net (linux/if_tun.h and the TUNSETIFF ioctl, which Swift's Glibc
// module does not import).

// Which step of `trapeze_tap_open` failed, so that the caller can say what to fix.
enum trapeze_tap_step {
    TRAPEZE_TAP_STEP_OPEN = 1,    // open("/dev/net/tun"): the tun driver or its permissions
    TRAPEZE_TAP_STEP_ATTACH = 2,  // TUNSETIFF: the interface (name, kind, owner, in use)
};

// Opens /dev/net/tun and attaches the descriptor to TAP interface `name` (IFF_TAP | IFF_NO_PI:
// one whole Ethernet frame per read or write, no packet-information prefix, no virtio-net header),
// creating the interface when it does not exist (which needs CAP_NET_ADMIN; an interface created
// here goes away with the descriptor). The descriptor is non-blocking and close-on-exec.
// Returns it, or -1 with errno set and `*failed_step` saying which step failed.
int trapeze_tap_open(const char *name, int *failed_step);

#endif
