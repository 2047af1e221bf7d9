# shellcheck shell=bash
# Builder: gzip'd cpio (newc) initramfs with busybox, the bench programs and
# rootfs/init as /init. Also defines the tree layout that rootfs.sh reuses.

initramfs_deps() { ensure_artifact kernel; ensure_artifact busybox; ensure_artifact bench; }

# Inputs shared by both root images: the layout below, the init script and
# the artifacts it packs.
guest_tree_recipe() {
    recipe_files "$GUESTS_DIR/lib/common.sh" "$GUESTS_DIR/lib/initramfs.sh" \
        "$GUESTS_DIR"/rootfs/{init,passwd,group}
    echo "dep busybox $(basename "${ART[busybox]}")"
    echo "dep bench $(basename "${ART[bench]}")"
}

initramfs_recipe() {
    guest_tree_recipe
    # gen_init_cpio comes out of the kernel build; key on the tool, not the
    # kernel, so a kernel config change does not repack the initramfs.
    echo "tool gen_init_cpio $(sha256sum <"${ART[kernel]}/gen_init_cpio" | cut -c1-64)"
}

# guest_tree_list INIT_PATH: the root tree in gen_init_cpio's list format
# (`dir NAME MODE UID GID`, `file NAME SRC MODE UID GID`, `slink NAME TARGET
# MODE UID GID`, `nod NAME MODE UID GID c MAJ MIN`). Everything is owned by
# root without the build needing to be root.
guest_tree_list() {
    local init_path=$1 d link prog
    for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /root /etc /mnt /run /var; do
        echo "dir $d 0755 0 0"
    done
    echo "dir /tmp 1777 0 0"
    echo "file /bin/busybox ${ART[busybox]}/busybox 0755 0 0"
    # busybox.links: one absolute applet path per line (/bin/sh, /sbin/init...).
    while read -r link; do
        [[ $link == /bin/busybox || $link == "$init_path" || $link == /linuxrc ]] && continue
        echo "slink $link /bin/busybox 0777 0 0"
    done <"${ART[busybox]}/busybox.links"
    for prog in "${ART[bench]}"/bin/*; do
        echo "file /bin/$(basename "$prog") $prog 0755 0 0"
    done
    # Test kernel modules (lib/kernel.sh): insmod /lib/modules/NAME.ko.
    echo "dir /lib 0755 0 0"
    echo "dir /lib/modules 0755 0 0"
    for module in "${ART[kernel]}"/modules/*.ko; do
        echo "file /lib/modules/$(basename "$module") $module 0644 0 0"
    done
    echo "file $init_path $GUESTS_DIR/rootfs/init 0755 0 0"
    echo "file /etc/passwd $GUESTS_DIR/rootfs/passwd 0644 0 0"
    echo "file /etc/group $GUESTS_DIR/rootfs/group 0644 0 0"
}

initramfs_build() {
    local work=$1 out=$2 logfile=$3
    {
        guest_tree_list /init
        # The kernel opens /dev/console for init before anything mounts
        # devtmpfs, so an initramfs must carry these two nodes itself.
        echo "nod /dev/console 0600 0 0 c 5 1"
        echo "nod /dev/null 0666 0 0 c 1 3"
    } >"$work/initramfs.list"
    cp "$work/initramfs.list" "$out/initramfs.list"
    log "initramfs: packing $(wc -l <"$work/initramfs.list") entries"
    # -t 0: fixed mtimes and gzip -n: no name/time, so the archive is reproducible.
    run_logged "$logfile" "initramfs: gen_init_cpio" \
        bash -c '"$1" -t 0 "$2" >"$3"' _ \
        "${ART[kernel]}/gen_init_cpio" "$work/initramfs.list" "$out/initramfs.cpio"
    # Both forms are kept: the uncompressed one spares the guest the inflate
    # (about 0.1 s of guest time under QEMU, several times that when emulated
    # more slowly), the gzip'd one is 40% smaller.
    run_logged "$logfile" "initramfs: gzip" gzip -9 -n -k "$out/initramfs.cpio"
    log "initramfs: $(stat -c %s "$out/initramfs.cpio.gz") bytes gzip'd, $(stat -c %s "$out/initramfs.cpio") raw"
}
