#!/bin/bash
# README command 2: configure, build and run the whole test suite (PoCL or whichever device
# ISBENCH_DEVICE selects at test time; kernel tests also run under Oclgrind). ISBENCH_CTEST_ARGS adds
# ctest arguments (e.g. "-LE oclgrind", "-L portability").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DISBENCH_WERROR="${ISBENCH_WERROR:-OFF}" >/dev/null
cmake --build "$build" -j "$(nproc)"
cd "$build"
# shellcheck disable=SC2086 # ISBENCH_CTEST_ARGS is a list of arguments
# (the output is kept in ctest.log: .ci/run counts the skipped tests in it)
ctest --output-on-failure -j "${ISBENCH_TEST_JOBS:-2}" ${ISBENCH_CTEST_ARGS:-} 2>&1 | tee ctest.log
