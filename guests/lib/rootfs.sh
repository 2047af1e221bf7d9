# shellcheck shell=bash
# Builder: ext4 disk image with the same tree as the initramfs, init at
# /sbin/init (boot with root=/dev/vda rw). No device nodes: the kernel
# mounts devtmpfs on /dev for a disk root.

ROOTFS_SIZE=64M

rootfs_deps() { ensure_artifact busybox; ensure_artifact bench; }

rootfs_recipe() {
    guest_tree_recipe
    recipe_files "$GUESTS_DIR/lib/rootfs.sh"
    echo "pkg e2fsprogs $(pkg_version e2fsprogs)"
    echo "size $ROOTFS_SIZE"
}

# materialize LIST DIR: create the gen_init_cpio list's tree as real files,
# since mkfs.ext4 -d copies a directory. Ownership is the builder's (root
# here); nod lines are skipped.
materialize() {
    local list=$1 root=$2 kind name a b mode
    while read -r kind name a b _; do
        case $kind in
        dir)   mkdir -p "$root$name"; chmod "$a" "$root$name" ;;
        file)  mode=$b; install -D -m "$mode" "$a" "$root$name" ;;
        slink) mkdir -p "$(dirname "$root$name")"; ln -sfn "$a" "$root$name" ;;
        nod)   ;;
        *)     die "rootfs: unknown list entry '$kind $name'" ;;
        esac
    done <"$list"
}

rootfs_build() {
    local work=$1 out=$2 logfile=$3
    guest_tree_list /sbin/init >"$work/rootfs.list"
    materialize "$work/rootfs.list" "$work/tree"
    log "rootfs: mkfs.ext4 ($ROOTFS_SIZE)"
    run_logged "$logfile" "rootfs: mkfs.ext4" \
        mkfs.ext4 -q -F -L trapeze-root -E root_owner=0:0 -d "$work/tree" \
        "$out/rootfs.ext4" "$ROOTFS_SIZE"
    cp "$work/rootfs.list" "$out/rootfs.list"
    log "rootfs: $(du -h --apparent-size "$out/rootfs.ext4" | cut -f1) image, $(du -sh "$work/tree" | cut -f1) used"
}
