#!/bin/bash
# One-shot validation of isbench on a lent GPU machine (docs/performance.md, "GPU check"): in one
# call of under 10 minutes it runs the op / sampling / data tests on the GPU, the training-step
# benchmark at widths 8, 16 and 64 (with the per-kernel profile) and PyTorch's anchor
# (torch_anchor.py train gemm sampling) in the same call, the sampling benchmarks, `isbench tune`
# with a 2-minute budget on the widest step's GEMMs and that step again with the entry it wrote
# (before/after in the table; the entry lands in $OUT/tuning to be committed), and a few hundred
# steps of real training
# on a CIFAR-10 subset. Everything goes to $OUT (default results/gpu-check); a short table is
# printed last. Every part is time-boxed and reported as passed / FAILED / skipped (never a
# skipped part as passed); the exit status is 1 if any part failed.
#
# usage, on the build machine (fills .device/ and builds; the device machine has no packages):
#   scripts/gpu-check.sh --prepare
# then on the device machine, with .device and build carried along:
#   source .device/nvidia-opencl-env.sh; scripts/gpu-check.sh
# Environment:
#   GPU_CHECK_CPU=1   CPU-sized settings (widths 8/16, a short tuning, a few training steps) to
#                     test the script end to end on PoCL; also ISBENCH_DEVICE (device selector)
#   OUT               output folder (the device tool's $OUT when set)
#   ISBENCH_BUILD_DIR build folder (default build)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${ISBENCH_BUILD_DIR:-build}
out=${OUT:-results/gpu-check}
cpu=${GPU_CHECK_CPU:-0}
cifar=${ISBENCH_DATA:-../shared/datasets/cifar-10-batches-bin}

# The runtime packages the device machine lacks, beyond the shared prepare.sh's loader, CLBlast,
# clinfo and Google Benchmark: the libraries our binaries link, gnuplot for the figures.
DEBS="ocl-icd-libopencl1 libclblast1 clinfo libbenchmark1debian gnuplot-nox libjansson4 libcmocka0
      libopenblas0-pthread libgfortran5 libquadmath0"

prepare() {
    set -e
    mkdir -p .device/debs
    cp ../shared/device/nvidia-opencl-env.sh .device/
    cp ../shared/reference/torch_anchor.py .device/
    (cd .device/debs && apt-get download $DEBS)
    # one real CIFAR-10 batch (10,000 images, 28 MB compressed) for the training part: the whole
    # set does not fit what a device call carries
    gzip -1 -c "$cifar/data_batch_1.bin" > .device/data_batch_1.bin.gz
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j 2
    du -sh .device "$build"
    echo "gpu-check: prepared; on the device run: source .device/nvidia-opencl-env.sh; scripts/gpu-check.sh"
}
if [ "${1:-}" = "--prepare" ]; then prepare; exit; fi
if [ $# -gt 0 ]; then sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi

mkdir -p "$out"
# libopenblas0-pthread installs its library under openblas-pthread/ (Debian's alternatives link is
# not made by dpkg -x)
[ -d /tmp/devroot/usr/lib/x86_64-linux-gnu/openblas-pthread ] &&
    export LD_LIBRARY_PATH=/tmp/devroot/usr/lib/x86_64-linux-gnu/openblas-pthread:${LD_LIBRARY_PATH:-}
if [ "$cpu" = 1 ]; then
    widths="8 16"; tune_s=300; train_args=(--width 8 --train-subset 1024 --test-subset 500 --max-epochs 1)
    sampling_filter='^(sampling|score_update)\.[a-z_]+\.device/N:50000/'
else
    widths="8 16 64"; tune_s=120; train_args=(--width 64 --train-subset 10000 --test-subset 2000 --max-epochs 4)
    sampling_filter='^(sampling|score_update)\.[a-z_]+\.device/'
fi
rows=()
failed=0
# part NAME SECONDS FUNCTION: runs the function below with a time limit (timeout signals its whole
# process group, tuners included), its output in $out/NAME.log
part() {
    local name=$1 limit=$2 t0 rc status
    t0=$(date +%s)
    timeout "$limit" bash -c "$3" > "$out/$name.log" 2>&1
    rc=$?
    case $rc in
        0) status=passed ;;
        77) status=skipped ;;
        124) status="FAILED (time box)"; failed=1 ;;
        *) status="FAILED (exit $rc)"; failed=1 ;;
    esac
    rows+=("$(printf '%-14s %-22s %5d s' "$name" "$status" $(( $(date +%s) - t0 )))")
    echo "gpu-check: $name: $status"
}

run_tests() {
    local rc=0
    for t in test_nn_layers test_nn_model test_nn_model_step test_ocl_kernels test_sampling test_sampling_stats \
             test_data_augment test_data_loaders; do
        echo "== $t"
        # the environment ctest gives them (tests/CMakeLists.txt); ctest itself is not on the GPU machine
        ISBENCH_DATA_ANY_SIZE=1 ISBENCH_SOURCE_DIR=$PWD "$build/tests/$t" || rc=1
    done
    return $rc
}

bench_steps() {
    local filter
    filter="^train_step\\.w($(echo "$widths" | tr ' ' '|'))\\.device"
    ISBENCH_STEP_PROFILE=$out/step_profile.txt "$build/bench/isbench-bench" --benchmark_filter="$filter" \
        --benchmark_min_time=0.5 --benchmark_out="$out/train_step.csv" --benchmark_out_format=csv
}

torch_anchor() {
    local py=${PYTHON:-python3} anchor=.device/torch_anchor.py args=()
    [ -f "$anchor" ] || anchor=../shared/reference/torch_anchor.py
    if ! "$py" -c 'import torch' 2>/dev/null || [ ! -f "$anchor" ]; then
        echo "PyTorch or torch_anchor.py not available: skipped"; return 77
    fi
    if [ "$cpu" = 1 ]; then args=(--cpu --threads 2); fi
    for w in $widths; do "$py" "$anchor" train "${args[@]}" --width "$w" || return 1; done
    "$py" "$anchor" gemm sampling "${args[@]}"
}

bench_sampling() {
    "$build/bench/isbench-bench" --benchmark_filter="$sampling_filter" --benchmark_min_time=0.05 \
        --benchmark_out="$out/sampling.csv" --benchmark_out_format=csv || return 1
    # Google Benchmark exits 0 when the filter matches nothing: no rows is a failure here
    grep -q '^"sampling' "$out/sampling.csv"
}

# isbench tune on the widest step's GEMMs (issue 22), from an empty user tuning folder, then that
# step again with the entry it wrote; the entry is copied to $out/tuning (commit it from there).
tune_isbench() {
    local w=${widths##* } xdg=$out/tune-cache
    export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$HOME/.cache/pocl} # XDG_CACHE_HOME would move PoCL's too
    rm -rf "$xdg"
    XDG_CACHE_HOME=$xdg "$build/isbench" tune --width "$w" --budget "$tune_s" || return 1
    mkdir -p "$out/tuning" && cp "$xdg"/isbench/tuning/*.json "$out/tuning/" 2>/dev/null
    XDG_CACHE_HOME=$xdg "$build/isbench" devices | grep -A8 "<- selected" | grep "CLBlast tuning:"
    XDG_CACHE_HOME=$xdg "$build/bench/isbench-bench" --benchmark_filter="^train_step\\.w$w\\.device" \
        --benchmark_min_time=0.5 --benchmark_out="$out/train_step_tuned.csv" --benchmark_out_format=csv
}

train_real() {
    local data=/tmp/gpu-check-cifar
    mkdir -p "$data"
    if [ -f .device/data_batch_1.bin.gz ]; then gunzip -c .device/data_batch_1.bin.gz > "$data/data_batch_1.bin"
    elif [ -f "$cifar/data_batch_1.bin" ]; then cp "$cifar/data_batch_1.bin" "$data/"
    else echo "no CIFAR-10 batch carried (run --prepare): skipped"; return 77; fi
    # the loader wants all six files: every one is the same real batch here, so the test accuracy
    # below is measured on training images (a convergence and throughput check, not a result)
    for f in data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do ln -sf data_batch_1.bin "$data/$f.bin"; done
    rm -rf "$out/train" # a finished run would be skipped
    # shellcheck disable=SC2086 # the word list of CPU/GPU training options
    "$build/isbench" train --config uniform-aug --preset quick --data "$data" --out "$out/train" $train_args_str
}

# The figures of the table, straight from the files the parts wrote.
step_figures() { # CSV (default: the step benchmark's)
    local csv=${1:-$out/train_step.csv}
    [ -f "$csv" ] || return 0
    awk -F, '/^"train_step/ { split($1, n, "."); printf "%s %.1f ms  ", n[2], $3 }' "$csv"
}
torch_figures() {
    grep -o 'width=[0-9]* *B=[0-9]*: *[0-9.]* ms/step' "$out/torch.log" 2>/dev/null | sed 's/ *B=[0-9]*: */ /' | tr '\n' ' '
}

devices() { "$build/isbench" devices; }

# Time limits (s) sum to 535 s on the GPU, so that with the environment set-up the call stays under
# the device tool's 600 s per command (a 2-minute tune budget, not 3, for that reason); PoCL needs
# far longer for the same parts.
scale=1
[ "$cpu" = 1 ] && scale=6
export ISBENCH_DEVICE=${ISBENCH_DEVICE:-}
export build out cpu cifar widths tune_s sampling_filter
export -f devices run_tests bench_steps torch_anchor bench_sampling tune_isbench train_real
export train_args_str="${train_args[*]}"
part devices $((15 * scale)) devices
part tests $((90 * scale)) run_tests
part step-bench $((75 * scale)) bench_steps
part torch $((70 * scale)) torch_anchor
part sampling $((45 * scale)) bench_sampling
part tune $((tune_s + 60 * scale)) tune_isbench
part train $((60 * scale)) train_real

{
    echo
    echo "gpu-check on $("$build/isbench" devices 2>/dev/null | grep -m1 '^\*' | cut -c1-90)"
    echo "$(uptime)"
    printf '%-14s %-22s %7s\n' part status time
    printf '%s\n' "${rows[@]}"
    echo "isbench step:  $(step_figures)"
    echo "PyTorch step:  $(torch_figures)"
    echo "after tune:    $(step_figures "$out/train_step_tuned.csv")($(grep -h '^isbench tune: step GEMMs' "$out/tune.log" 2>/dev/null | sed 's/^isbench tune: //'))"
    echo "tuning entry:  $(ls "$out"/tuning/*.json 2>/dev/null || echo none)"
    echo "training:      $(grep -h 'test loss' "$out/train.log" 2>/dev/null | tail -1 | sed 's/^\[[^]]*\] //')"
    echo "logs, CSVs and the per-kernel profile (step_profile.txt) in $out"
} | tee "$out/summary.txt"
exit $failed
