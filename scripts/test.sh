#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite with ctest.
# Usage: bash scripts/test.sh [default|asan|tsan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
preset="${1:-default}"
fanout_install_deps
fanout_build "$preset"
cd "$FANOUT_ROOT"
ctest --preset "$preset" -j "$(nproc)"
