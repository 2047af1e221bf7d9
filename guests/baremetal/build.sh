#!/usr/bin/env bash
# Build the bare-metal M-mode test programs (ELF, linked at 0x8000_0000, with
# HTIF tohost/fromhost symbols) into OUTDIR. Run as `trapeze run --firmware
# OUTDIR/NAME.elf`. Tests/EndToEndTests builds them this way in its setUp.
#
#   guests/baremetal/build.sh OUTDIR
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: build.sh OUTDIR}
CC=${CC:-riscv64-linux-gnu-gcc}
mkdir -p "$OUT"
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found; apt-get install gcc-riscv64-linux-gnu" >&2; exit 1; }

CFLAGS=(-march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -Wall -Werror -ffreestanding
        -fno-pie -no-pie -static -nostdlib -nostartfiles -Wl,--build-id=none -Wl,--no-relax -Wl,--no-warn-rwx-segments
        -T "$SRC/link.ld")

build() { # NAME SOURCE [-DMACRO=VALUE...]
    local name=$1 source=$2
    shift 2
    "$CC" "${CFLAGS[@]}" "$@" -o "$OUT/$name.elf" "$SRC/start.S" "$SRC/htif.c" "$SRC/$source"
}

build pass exit-code.c -DEXIT_CODE=0
build fail7 exit-code.c -DEXIT_CODE=7
build hello hello.c
build split-store split-store.c
build timer-pass timer.c -DFINISHER=0x5555
build timer-fail5 timer.c '-DFINISHER=(0x3333 | (5 << 16))'
build access-fault access-fault.c
build seip-latch seip-latch.c

# S-mode programs: run as `trapeze run --kernel OUTDIR/NAME.elf` (under the built-in SBI or a VMM).
build_smode() { # NAME SOURCE
    local name=$1 source=$2
    "$CC" "${CFLAGS[@]/$SRC\/link.ld/$SRC/smode.ld}" -o "$OUT/$name.elf" "$SRC/start-smode.S" "$SRC/sbi.c" "$SRC/$source"
}

build_smode isolation-probe isolation-probe.c
build_smode legacy-ipi legacy-ipi.c
build_smode self-modifying self-modifying.c
