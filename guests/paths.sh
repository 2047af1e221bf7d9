#!/usr/bin/env bash
# Print KEY=path lines for the guest images (see docs/guests.md); builds nothing.
# Usage: eval "$(guests/paths.sh)"  or  guests/paths.sh | grep ^KERNEL=
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/build.sh" --print-paths
