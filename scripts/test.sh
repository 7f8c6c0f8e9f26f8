#!/bin/bash
# README command 2: configure, build and run the whole test suite (PoCL or whichever device
# ISBENCH_DEVICE selects; kernel tests also run under Oclgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DISBENCH_WERROR="${ISBENCH_WERROR:-OFF}" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "${ISBENCH_TEST_JOBS:-2}"
