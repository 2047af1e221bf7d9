# shellcheck shell=bash
# Builder: the static riscv64 bench/test programs in guests/bench/*.c.

# -ffp-contract=off: no fused multiply-add, so floating-point checksums match
# the values in bench/expected.txt on any IEEE-754 machine.
BENCH_CFLAGS=(-O2 -static -s -ffp-contract=off -Wall -Wextra -Werror)

bench_deps() { :; }

bench_recipe() {
    recipe_files "$GUESTS_DIR/lib/common.sh" "$GUESTS_DIR/lib/bench.sh" "$GUESTS_DIR"/bench/*.c
    echo "cflags ${BENCH_CFLAGS[*]}"
    cross_cc_id
}

bench_build() {
    local out=$2 logfile=$3 src name
    mkdir "$out/bin"
    for src in "$GUESTS_DIR"/bench/*.c; do
        name=$(basename "$src" .c)
        run_logged "$logfile" "bench: compile $name" \
            "${CROSS}gcc" "${BENCH_CFLAGS[@]}" -o "$out/bin/$name" "$src" -lm
    done
    log "bench: built $(cd "$out/bin" && echo *)"
}
