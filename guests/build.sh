#!/usr/bin/env bash
# Build the riscv64 guest images Trapeze boots: kernel, busybox, bench
# programs, initramfs and an ext4 root disk. Everything comes from Debian
# packages; results go to a content-keyed cache outside the repo.
#
#   guests/build.sh [all|kernel|busybox|bench|initramfs|rootfs]...
#   guests/build.sh --print-paths      KEY=path lines for consumers (no build)
#   guests/build.sh gc                 drop cache entries no longer current
#
# TRAPEZE_CACHE overrides the cache dir (default ~/.cache/trapeze).
# See docs/guests.md for the cache layout and keying.
set -euo pipefail

GUESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
source "$GUESTS_DIR/lib/common.sh"
for b in kernel busybox bench initramfs rootfs; do
    # shellcheck source=/dev/null
    source "$GUESTS_DIR/lib/$b.sh"
done

# Host packages the builders need. qemu is not here: it is only a reference
# for guests/qemu/smoke.py, which installs it itself.
BUILD_PACKAGES=(
    gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1
    gcc make bc bison flex libssl-dev libelf-dev cpio e2fsprogs dpkg-dev xz-utils
    opensbi
)

usage() { sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

print_paths() {
    local cur=$CACHE/current
    cat <<EOT
TRAPEZE_CACHE=$CACHE
KERNEL=$cur/Image
VMLINUX=$cur/vmlinux
SYSTEM_MAP=$cur/System.map
KERNEL_CONFIG=$cur/kernel.config
INITRAMFS=$cur/initramfs.cpio.gz
INITRAMFS_RAW=$cur/initramfs.cpio
ROOTFS=$cur/rootfs.ext4
BUSYBOX=$cur/busybox
BENCH_DIR=$cur/bench
BENCH_EXPECTED=$GUESTS_DIR/bench/expected.txt
OPENSBI_FW_DYNAMIC=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
OPENSBI_FW_JUMP=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
KERNEL_CMDLINE=console=ttyS0 earlycon=sbi panic=-1
EOT
}

# Point current/ at what this run produced. Each link is swapped atomically,
# so a consumer never sees a missing or half-written file.
update_current() {
    local d
    if [[ -n ${ART[kernel]:-} ]]; then
        d=${ART[kernel]}
        link_current Image "$d/Image"
        link_current vmlinux "$d/vmlinux"
        link_current System.map "$d/System.map"
        link_current kernel.config "$d/config"
    fi
    [[ -n ${ART[busybox]:-} ]] && link_current busybox "${ART[busybox]}/busybox"
    [[ -n ${ART[bench]:-} ]] && link_current bench "${ART[bench]}/bin"
    if [[ -n ${ART[initramfs]:-} ]]; then
        link_current initramfs.cpio.gz "${ART[initramfs]}/initramfs.cpio.gz"
        link_current initramfs.cpio "${ART[initramfs]}/initramfs.cpio"
    fi
    [[ -n ${ART[rootfs]:-} ]] && link_current rootfs.ext4 "${ART[rootfs]}/rootfs.ext4"
    print_paths >"$CACHE/current/.paths.$$"
    mv -f "$CACHE/current/.paths.$$" "$CACHE/current/paths"
}

# gc: keep only the entries current/ points at; every current/ link targets a
# file or dir directly inside one artifact dir.
gc_cache() {
    local keep link entry t
    keep=$(for link in "$CACHE"/current/*; do
               [[ -L $link ]] && readlink -f "$link" | xargs dirname
           done | sort -u)
    for entry in "$CACHE"/{kernel,busybox,bench,initramfs,rootfs}/*; do
        [[ -d $entry ]] || continue
        grep -qFx "$entry" <<<"$keep" && continue
        log "gc: removing $entry"
        rm -rf "$entry"
    done
    # Logs of entries that are gone, including failed or interrupted builds.
    for entry in "$CACHE"/logs/*-*.log; do
        [[ -f $entry ]] || continue
        t=$(basename "$entry" .log)
        [[ -d $CACHE/${t%%-*}/${t#*-} ]] || rm -f "$entry"
    done
    rm -rf "$CACHE/tmp"
}

main() {
    local targets=() t
    for t in "$@"; do
        case $t in
            -h|--help|help) usage; exit 0 ;;
            --print-paths|paths) print_paths; exit 0 ;;
            all) targets+=(kernel busybox bench initramfs rootfs) ;;
            kernel|busybox|bench|initramfs|rootfs|gc) targets+=("$t") ;;
            *) usage >&2; die "unknown target: $t" ;;
        esac
    done
    ((${#targets[@]})) || targets=(kernel busybox bench initramfs rootfs)

    mkdir -p "$CACHE"
    # One build at a time per cache: a second invocation waits, then finds
    # the first one's results already cached.
    exec 9>"$CACHE/.lock"
    if ! flock -n 9; then
        log "waiting for another build holding $CACHE/.lock"
        flock 9
    fi
    # Work dirs of a build that was killed are garbage now that we hold the lock.
    rm -rf "$CACHE/tmp"

    ensure_packages "${BUILD_PACKAGES[@]}"
    for t in "${targets[@]}"; do
        if [[ $t == gc ]]; then gc_cache; else ensure_artifact "$t"; fi
    done
    update_current
    log "done; paths: $CACHE/current/paths (or guests/paths.sh)"
}

main "$@"
