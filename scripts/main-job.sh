#!/bin/bash
# README command 1: build isbench, show the OpenCL devices, run a suite sized for the device (every
# configuration `isbench configs` lists, one seed) and draw the figures. On a CPU device (PoCL, ...)
# the suite is `quick` (sized for a few CPU cores); on a GPU it is `gpu` (full CIFAR-10, width 64,
# 15 epochs: a real, shorter study, under 30 min on one current GPU) followed by the
# microbenchmarks (bench/run.sh).
# Environment: ISBENCH_BUILD_DIR (default build), ISBENCH_DATA (CIFAR-10 binary folder; default
# data/cifar-10-batches-bin, else ../shared/datasets/cifar-10-batches-bin when present),
# ISBENCH_DEVICE (device selector), ISBENCH_PRESET (default: by device type, as above),
# ISBENCH_SEEDS (default 1).
# Re-running continues an interrupted suite and skips finished runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
seeds=${ISBENCH_SEEDS:-1}
if [ -z "${ISBENCH_DATA:-}" ] && [ ! -d data/cifar-10-batches-bin ] && [ -d ../shared/datasets/cifar-10-batches-bin ]; then
    export ISBENCH_DATA=../shared/datasets/cifar-10-batches-bin
fi
if [ -z "${ISBENCH_DATA:-}" ] && [ ! -d data/cifar-10-batches-bin ]; then
    echo "main-job: no CIFAR-10 found: downloading it with datasets/get-cifar10.sh (or set ISBENCH_DATA=DIR)"
    datasets/get-cifar10.sh
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target isbench
"$build/isbench" devices | tee "$build/devices.txt"
# the type line follows the selected device's line
on_gpu=$(awk '/<- selected/ { sel = 1; next } sel { print ($0 ~ /type [A-Z ]*GPU/) ? 1 : 0; exit }' "$build/devices.txt")
preset=${ISBENCH_PRESET:-$([ "$on_gpu" = 1 ] && echo gpu || echo quick)}
echo "main-job: preset '$preset' ($([ "$on_gpu" = 1 ] && echo "a GPU device" || echo "not a GPU device"))"
start=$(date +%s)
"$build/isbench" suite --preset "$preset" --seeds "$seeds" --out results
echo "main-job: suite '$preset' took $(( $(date +%s) - start )) s; results in results/$preset"
if [ "$on_gpu" = 1 ]; then
    cmake --build "$build" -j "$(nproc)" --target isbench-bench isbench-bench-csv && bench/run.sh --bin "$build/bench/isbench-bench" ||
        echo "main-job: bench/run.sh failed (see above); the suite's results stand" >&2
fi
if [ -x plots/make-figures.sh ]; then
    plots/make-figures.sh "results/$preset"
else
    echo "main-job: plots/make-figures.sh not found: figures skipped" >&2
fi
