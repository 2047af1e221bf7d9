# shellcheck shell=bash
# Builder: Linux Image from Debian's linux-source-6.1. Sourced by build.sh.

KERNEL_SRC_PKG=linux-source-6.1
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
KERNEL_FRAGMENT=$GUESTS_DIR/linux/trapeze.config

kernel_deps() { :; }

kernel_recipe() {
    recipe_files "$GUESTS_DIR/lib/common.sh" "$GUESTS_DIR/lib/kernel.sh" "$KERNEL_FRAGMENT" "$GUESTS_DIR"/linux/smc-module/*
    echo "pkg $KERNEL_SRC_PKG $(pkg_version "$KERNEL_SRC_PKG")"
    cross_cc_id
}

# kernel_check_config CONFIG LOG: Kconfig drops options whose dependencies are
# not met without a word; list every fragment line that did not survive.
kernel_check_config() {
    local config=$1 logfile=$2 line sym bad=()
    while IFS= read -r line; do
        if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
            grep -qxF "$line" "$config" || bad+=("$line (got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$config" || echo absent))")
        elif [[ $line =~ ^"# "(CONFIG_[A-Za-z0-9_]+)" is not set"$ ]]; then
            sym=${BASH_REMATCH[1]}
            grep -qE "^$sym=[ym]$" "$config" && bad+=("$line (got: $(grep -E "^$sym=" "$config"))")
        fi
    done <"$KERNEL_FRAGMENT"
    if ((${#bad[@]})); then
        printf '  not in final .config: %s\n' "${bad[@]}" >&2
        { echo "### final .config"; cat "$config"; } >>"$logfile"
        die "kernel: ${#bad[@]} fragment option(s) did not stick (check their dependencies in Kconfig); final .config is at the end of $logfile"
    fi
}

kernel_build() {
    local out=$2 logfile=$3 src=$1/linux
    [[ -f $KERNEL_TARBALL ]] || die "kernel: $KERNEL_TARBALL missing (package $KERNEL_SRC_PKG)"
    # Both must be in the environment, or kbuild silently targets the host.
    export ARCH=riscv CROSS_COMPILE=$CROSS

    log "kernel: unpacking $KERNEL_TARBALL"
    mkdir "$src"
    run_logged "$logfile" "kernel: unpack" tar -xJf "$KERNEL_TARBALL" -C "$src" --strip-components=1

    log "kernel: configuring (tinyconfig + linux/trapeze.config)"
    run_logged "$logfile" "kernel: make tinyconfig" make -C "$src" tinyconfig
    run_logged "$logfile" "kernel: merge fragment" \
        "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$KERNEL_FRAGMENT"
    run_logged "$logfile" "kernel: make olddefconfig" make -C "$src" olddefconfig
    kernel_check_config "$src/.config" "$logfile"

    log "kernel: compiling Image with $JOBS jobs (several minutes)"
    run_logged "$logfile" "kernel: make Image" make -C "$src" -j"$JOBS" Image
    # gen_init_cpio is a host tool built along with the kernel's own built-in
    # initramfs; initramfs.sh uses it to make device nodes without root.
    [[ -x $src/usr/gen_init_cpio ]] ||
        run_logged "$logfile" "kernel: build gen_init_cpio" make -C "$src" usr/gen_init_cpio

    # The test modules (guests/linux/smc-module), built out of tree in a copy so that the
    # repository stays clean; `make modules` first writes the Module.symvers they link against.
    log "kernel: compiling the test modules"
    run_logged "$logfile" "kernel: make modules" make -C "$src" -j"$JOBS" modules
    cp -r "$GUESTS_DIR/linux/smc-module" "$1/smc-module"
    run_logged "$logfile" "kernel: make M=smc-module" make -C "$src" M="$1/smc-module" modules
    mkdir "$out/modules"
    cp "$1"/smc-module/*.ko "$out/modules/"

    cp "$src/arch/riscv/boot/Image" "$src/vmlinux" "$src/System.map" "$out/"
    cp "$src/.config" "$out/config"
    cp "$src/usr/gen_init_cpio" "$out/gen_init_cpio"
    log "kernel: Image is $(stat -c %s "$out/Image") bytes"
}
