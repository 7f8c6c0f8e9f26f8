#!/bin/bash
# README command 1: build isbench, show the OpenCL devices, run a suite sized for the device (every
# configuration `isbench configs` lists, one seed) and draw the figures. On a CPU device (PoCL, ...)
# the suite is `quick` (sized for a few CPU cores); on a GPU it is `gpu` (full CIFAR-10, width 64,
# 15 epochs: a real, shorter study, under 30 min on one current GPU) followed by the
# microbenchmarks (bench/run.sh).
# Environment: ISBENCH_BUILD_DIR (default build), ISBENCH_DATA (CIFAR-10 binary folder; default
# data/cifar-10-batches-bin, else ../shared/datasets/cifar-10-batches-bin when present),
# ISBENCH_DEVICE (device selector), ISBENCH_PRESET (default: by device type, as above),
# ISBENCH_SEEDS (default 1), ISBENCH_TUNE (default 1; 0 skips the tuning step below),
# ISBENCH_TUNE_BUDGET (seconds, default 240).
# Tuning: when no CLBlast tuning entry applies to the device at device level (`isbench devices`,
# line "CLBlast tuning:"), `isbench tune` runs first with a short budget on the preset's network
# width and writes one into the user's tuning folder (docs/clblast-tuning.md), so the suite does
# not time CLBlast's generic defaults; later runs find the entry and skip this step.
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
tuning=$(awk '/<- selected/ { sel = 1; next } sel && /CLBlast tuning:/ { sub(/^ *CLBlast tuning: /, ""); print; exit }' "$build/devices.txt")
if [ "${ISBENCH_TUNE:-1}" = 0 ]; then
    echo "main-job: tuning step skipped (ISBENCH_TUNE=0); CLBlast tuning: $tuning"
elif [[ "$tuning" == *" at device level ["* ]]; then
    echo "main-job: tuning step not needed: a device-level entry applies ($tuning)"
else
    # the preset's network width (src/train/train_config.c)
    case $preset in paper | gpu) width=64 ;; smoke) width=4 ;; *) width=8 ;; esac
    budget=${ISBENCH_TUNE_BUDGET:-240}
    echo "main-job: no device-level CLBlast tuning entry ($tuning): isbench tune --width $width --budget $budget (ISBENCH_TUNE=0 skips)"
    start=$(date +%s)
    if "$build/isbench" tune --width "$width" --budget "$budget" | tee "$build/tune.txt"; then
        echo "main-job: tuning took $(( $(date +%s) - start )) s: $(grep -E '^isbench tune: (step GEMMs|wrote|nothing|no candidate)' "$build/tune.txt" | tr '\n' ' ')"
    else
        echo "main-job: isbench tune failed (see above): the suite runs with the tuning that applies" >&2
    fi
fi
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
