#!/bin/bash
# README command 1: build isbench, show the OpenCL devices, run the `quick` suite (every
# configuration `isbench configs` lists, one seed, sized for a few CPU cores) and draw the figures.
# Environment: ISBENCH_BUILD_DIR (default build), ISBENCH_DATA (CIFAR-10 binary folder; default
# data/cifar-10-batches-bin, else ../shared/datasets/cifar-10-batches-bin when present),
# ISBENCH_DEVICE (device selector), ISBENCH_PRESET (default quick), ISBENCH_SEEDS (default 1).
# Re-running continues an interrupted suite and skips finished runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
preset=${ISBENCH_PRESET:-quick}
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
"$build/isbench" devices
start=$(date +%s)
"$build/isbench" suite --preset "$preset" --seeds "$seeds" --out results
echo "main-job: suite '$preset' took $(( $(date +%s) - start )) s; results in results/$preset"
if [ -x plots/make-figures.sh ]; then
    plots/make-figures.sh "results/$preset"
else
    echo "main-job: plots/make-figures.sh not found: figures skipped" >&2
fi
