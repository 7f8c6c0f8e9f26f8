#!/bin/bash
# README command 1: build isbench and run the main job on the default OpenCL device.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)"
"$build/isbench" devices
