#ifndef TRAPEZE_TAP_H
#define TRAPEZE_TAP_H

// TAP interfaces for virtio-net (linux/if_tun.h and the TUNSETIFF, TUNSETVNETHDRSZ and
// TUNSETOFFLOAD ioctls, which Swift's Glibc module does not import).

// Which step of `trapeze_tap_open` failed, so that the caller can say what to fix.
enum trapeze_tap_step {
    TRAPEZE_TAP_STEP_OPEN = 1,    // open("/dev/net/tun"): the tun driver or its permissions
    TRAPEZE_TAP_STEP_ATTACH = 2,  // TUNSETIFF: the interface (name, kind, owner, in use)
    TRAPEZE_TAP_STEP_VNET = 3,    // TUNSETVNETHDRSZ, TUNSETVNETLE, TUNSETOFFLOAD: a kernel without them
};

// The length of the virtio-net header on every frame read from or written to the descriptor:
// struct virtio_net_hdr_v1 (virtio 1.2 section 5.1.6), num_buffers included.
#define TRAPEZE_TAP_VNET_HEADER_LENGTH 12

// Opens /dev/net/tun and attaches the descriptor to TAP interface `name` (IFF_TAP | IFF_NO_PI |
// IFF_VNET_HDR: one whole Ethernet frame per read or write, after a 12-byte little-endian
// virtio-net header and no packet-information prefix), creating the interface when it does not
// exist (which needs CAP_NET_ADMIN; an interface created here goes away with the descriptor).
// No offloads are enabled: frames read are checksummed and segmented. The descriptor is
// non-blocking and close-on-exec. Returns it, or -1 with errno set and `*failed_step` saying
// which step failed.
int trapeze_tap_open(const char *name, int *failed_step);

// TUNSETOFFLOAD: which offloads (TUN_F_CSUM 0x01, TUN_F_TSO4 0x02, TUN_F_TSO6 0x04,
// TUN_F_TSO_ECN 0x08) frames the kernel hands this descriptor may use. Writes take any
// offload the header asks for regardless. Returns 0, or -1 with errno set.
int trapeze_tap_set_offload(int fd, unsigned flags);

#endif
