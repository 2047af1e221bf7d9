#!/bin/sh
# Regenerates Tests/RISCVTests/fpref/fpref.txt: cross-compiles gen.c and runs it under QEMU
# (Debian: apt-get install gcc-riscv64-linux-gnu qemu-user). Extra arguments go to gen
# (scale, seed); pass an output path in OUT= to write somewhere else, e.g. for a stress run:
#   OUT=/tmp/big.txt guests/fpref/regen.sh 40 12345
#   TRAPEZE_FPREF=/tmp/big.txt swift test --filter FloatingPointTests
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../../Tests/RISCVTests/fpref/fpref.txt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
riscv64-linux-gnu-gcc -O1 -static -march=rv64gc -Wall -o "$tmp/gen" "$here/gen.c" -lm
mkdir -p "$(dirname "$out")"
qemu-riscv64 "$tmp/gen" "$@" > "$out"
wc -lc "$out"
