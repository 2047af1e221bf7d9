# Host packages Trapeze's own build, tests and default VM need, beyond what guests/build.sh
# installs for the guest images. Sourced by scripts/setup and scripts/test.
#   device-tree-compiler: dtc/fdtget check the device trees Trapeze generates
#   opensbi, u-boot-qemu: the real firmware the end-to-end tests boot
#   gcc-riscv64-linux-gnu: bare-metal test programs (HTIF, CLINT) are compiled by the tests
#   iproute2, python3: the virtio-net tests make a network namespace with a TAP and run a TCP
#     server and an ICMP pinger in it
TRAPEZE_HOST_PACKAGES=(device-tree-compiler opensbi u-boot-qemu gcc-riscv64-linux-gnu iproute2 python3)

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../guests/lib/common.sh
source "$REPO_ROOT/guests/lib/common.sh"

build_release() {
    log "building trapeze (release)"
    (cd "$REPO_ROOT" && swift build -c release --product trapeze) >&2 || die "swift build -c release failed"
}
