#!/usr/bin/env bash
# The benchmark tier of the hostile-guest tests: the randomized virtio guest
# (Tests/VirtioTests/HostileGuestTests.swift: malformed rings, chains, queue
# configurations and register accesses against virtio-blk, -rng and -net behind
# their transports) and the randomized MMIO accesses to CLINT, PLIC, UART and
# syscon (Tests/DevicesTests/HostileMMIOTests.swift), each at ITERATIONS steps
# (default 1,000,000; the unit-test tier runs 200,000 and 300,000), in a
# release build with testable imports.
#
#   Benchmarks/fuzz.sh [ITERATIONS] [swift test options...]
#   Benchmarks/fuzz.sh 1000000 --scratch-path .build-fuzz
#
# TRAPEZE_FUZZ_SEED picks another seed for the virtio guest. Exits 0 only when
# both tests ran and passed; anything that escapes (a crash, a write outside
# what the device may write, a device that stops answering) fails the run with
# the seed and step in the XCTest message.
set -uo pipefail

ITERATIONS=${1:-1000000}
[[ $# -gt 0 ]] && shift
[[ $ITERATIONS =~ ^[0-9]+$ ]] || { echo "fuzz.sh: ITERATIONS must be a number, not '$ITERATIONS'" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TESTS=(HostileGuestTests.testRandomizedHostileGuest HostileMMIOTests.testRandomAccessesStayInsideTheDevices)
LOG=$(mktemp -t trapeze-fuzz.XXXXXX)
trap 'rm -f "$LOG"' EXIT

echo "fuzz.sh: ${TESTS[*]} at $ITERATIONS iterations each (swift test -c release builds first)"
start=$SECONDS
filter=$(IFS='|'; echo "${TESTS[*]}")
TRAPEZE_FUZZ_ITERATIONS=$ITERATIONS swift test -c release "$@" --filter "$filter" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
elapsed=$((SECONDS - start))

# A filter that matches nothing passes too: require each test's own "passed" line.
missing=()
for t in "${TESTS[@]}"; do
    grep -q "Test Case '${t}' passed" "$LOG" || missing+=("$t")
done
if ((status != 0 || ${#missing[@]} > 0)); then
    echo "fuzz.sh: FAILED after ${elapsed} s (swift test exit ${status}; not passed: ${missing[*]:-none})" >&2
    exit 1
fi
for t in "${TESTS[@]}"; do
    echo "fuzz.sh: $(grep -o "Test Case '${t}' passed ([0-9.]* seconds)" "$LOG")"
done
echo "fuzz.sh: passed: ${#TESTS[@]} tests x $ITERATIONS iterations; ${elapsed} s with the build"
