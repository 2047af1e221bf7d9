# shellcheck shell=bash
# Builder: static riscv64 busybox from Debian's busybox source package.

BUSYBOX_FRAGMENT=$GUESTS_DIR/busybox/trapeze.config

busybox_deps() { ensure_deb_src; }

busybox_recipe() {
    recipe_files "$GUESTS_DIR/lib/common.sh" "$GUESTS_DIR/lib/busybox.sh" "$BUSYBOX_FRAGMENT"
    echo "srcpkg busybox $(src_version busybox)"
    cross_cc_id
}

# busybox_apply_fragment CONFIG: replace each symbol the fragment mentions,
# then let `make oldconfig` settle dependents.
busybox_apply_fragment() {
    local config=$1 sym
    for sym in $(grep -oE 'CONFIG_[A-Za-z0-9_]+' "$BUSYBOX_FRAGMENT"); do
        sed -i -E "/^(# )?${sym}[= ]/d" "$config"
    done
    grep -E '^(CONFIG_|# CONFIG_)' "$BUSYBOX_FRAGMENT" >>"$config"
}

busybox_check_config() {
    local config=$1 line bad=()
    while IFS= read -r line; do
        [[ $line =~ ^CONFIG_|^"# CONFIG_" ]] || continue
        grep -qxF "$line" "$config" || bad+=("$line")
    done <"$BUSYBOX_FRAGMENT"
    ((${#bad[@]} == 0)) || die "busybox: fragment lines not in final .config: ${bad[*]}"
}

busybox_build() {
    local work=$1 out=$2 logfile=$3 version src
    version=$(src_version busybox)
    log "busybox: apt-get source busybox=$version"
    # apt-get source unpacks into the current directory.
    run_logged "$logfile" "busybox: apt-get source" \
        env -C "$work" apt-get source -qq "busybox=$version"
    src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
    [[ -n $src ]] || die "busybox: no busybox-* dir after apt-get source (log: $logfile)"

    log "busybox: configuring (defconfig + busybox/trapeze.config)"
    run_logged "$logfile" "busybox: make defconfig" make -C "$src" defconfig
    busybox_apply_fragment "$src/.config"
    run_logged "$logfile" "busybox: make oldconfig" \
        bash -c 'yes "" | make -C "$1" oldconfig' _ "$src"
    busybox_check_config "$src/.config"

    log "busybox: compiling with $JOBS jobs"
    run_logged "$logfile" "busybox: make" make -C "$src" CROSS_COMPILE="$CROSS" -j"$JOBS"
    # busybox.links lists every applet's install path; we cannot run the
    # riscv64 binary here to ask it (`busybox --list`).
    run_logged "$logfile" "busybox: make busybox.links" make -C "$src" CROSS_COMPILE="$CROSS" busybox.links

    "${CROSS}readelf" -h "$src/busybox" | grep -q 'RISC-V' || die "busybox: binary is not RISC-V"
    if "${CROSS}readelf" -l "$src/busybox" | grep -q INTERP; then
        die "busybox: binary is dynamically linked (CONFIG_STATIC lost?)"
    fi
    cp "$src/busybox" "$src/busybox.links" "$out/"
    cp "$src/.config" "$out/config"
    log "busybox: $(stat -c %s "$out/busybox") bytes, $(wc -l <"$out/busybox.links") applets"
}
