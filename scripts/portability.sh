#!/bin/bash
# The portability pass: the same build tested on every OpenCL implementation in reach, each in its
# own environment from scripts/install-runtimes.sh (.runtimes/<name>.env: its own ICD folder and a
# platform-qualified ISBENCH_DEVICE, so no test can run on another implementation by accident).
#
# Per implementation (pocl, intel, rusticl): `isbench devices`; the ctest tests labelled
# `portability` (every op, sampling and data test, device selection, CLBlast GEMMs); one short
# training run (isbench train, last-loss with warm-up, on a small synthetic CIFAR-10 folder); and
# a short bench/run.sh (one training step at width 8, one full sampling path) for the table.
# Per Oclgrind profile: the `oclgrind` ctest variants under that profile's device limits:
#   default         Oclgrind's own: 1024 work-items, 32 KiB local memory (like Intel GPUs' 32 KiB)
#   amd-wg256       OCLGRIND_MAX_WGSIZE=256 (AMD's work-group limit)
#   intel-local64k  OCLGRIND_LOCAL_MEM_SIZE=65536 (Intel GPUs with 64 KiB of shared local memory)
#
# Results: <out>/<pass>/summary.tsv (key<TAB>value), ctest.log, train.log, bench/<slug>/*.csv;
# scripts/portability-table.sh turns them into the README's table. Exit status 1 if any pass failed
# (every pass still runs). Wall times are printed per pass (the machine may be shared: say so).
#
# usage: scripts/portability.sh [--build DIR] [--out DIR] [--impls "pocl intel rusticl"]
#                               [--oclgrind "default amd-wg256 intel-local64k"] [--no-bench]
#                               [--step-bench "pocl intel"]
#   --step-bench  the implementations whose benchmark includes the training step (rusticl 22.3 on
#                 llvmpipe runs CLBlast's GEMMs ~40x slower than PoCL: one W8 B128 step takes minutes)
#   ISBENCH_TEST_JOBS   parallel ctest jobs (default 2)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/${ISBENCH_BUILD_DIR:-build}
out=$here/results/portability
impls="pocl intel rusticl"
profiles="default amd-wg256 intel-local64k"
bench=1
step_bench="pocl intel"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --impls) impls=$2; shift 2 ;;
    --oclgrind) profiles=$2; shift 2 ;;
    --no-bench) bench=0; shift ;;
    --step-bench) step_bench=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "portability.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$build/isbench" ] || { echo "portability.sh: $build/isbench not built (run scripts/test.sh first)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
jobs=${ISBENCH_TEST_JOBS:-2}
failed=()

# The ctest summary "N% tests passed, F tests failed out of T" as "P<TAB>T"
ctest_counts() {
  sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1 \2/p' "$1" |
    awk 'END { if (NF == 2) printf "%d\t%d\n", $2 - $1, $2; else printf "0\t0\n" }'
}

# A small CIFAR-10 binary folder (5 x 100 training records, 100 test records), made once
synthetic_cifar() {
  local dir=$out/data/cifar-10-synthetic
  "$here/tests/make-synthetic-cifar.sh" "$dir" 100 100
  echo "$dir"
}

summary() { printf '%s\t%s\n' "$1" "$2" >> "$pdir/summary.tsv.tmp"; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

# One implementation: runs in a subshell with its environment; prints its summary
run_impl() (
  name=$1
  env_file=$here/.runtimes/$name.env
  if [ ! -f "$env_file" ]; then
    echo "portability.sh: $env_file missing: run scripts/install-runtimes.sh $name" >&2
    exit 1
  fi
  set -a; source "$env_file"; set +a
  pdir=$out/$name
  rm -rf "$pdir"; mkdir -p "$pdir"
  start=$(date +%s) status=0
  summary pass "$name"
  if ! "$build/isbench" devices > "$pdir/devices.txt" 2>&1; then
    cat "$pdir/devices.txt"; exit 1
  fi
  sel=$(grep -A2 '<- selected' "$pdir/devices.txt")
  echo "   device: $(head -1 <<<"$sel" | sed 's/^\* *//; s/ *<- selected//')"
  summary platform "$(grep -B1 -m1 '<- selected' "$pdir/devices.txt" | sed -n 's/^Platform [0-9]*: \(.*\) (.*/\1/p')"
  summary device "$(head -1 <<<"$sel" | sed 's/^\* [0-9]*:[0-9]*  //; s/ *<- selected//')"
  summary driver "$(sed -n 's/^ *driver \([^;]*\);.*/\1/p' <<<"$sel")"

  t=$(date +%s)
  ctest --test-dir "$build" -L portability -j "$jobs" --output-on-failure > "$pdir/ctest.log" 2>&1 || status=1
  summary tests "$(ctest_counts "$pdir/ctest.log")"
  summary tests_failed "$(sed -n 's/^[[:space:]]*[0-9]* - \([a-z_0-9]*\) .*/\1/p' "$pdir/ctest.log" | paste -sd' ')"
  summary tests_s "$(seconds_since "$t")"
  echo "   tests: $(ctest_counts "$pdir/ctest.log" | tr '\t' /) passed in $(seconds_since "$t") s"

  t=$(date +%s)
  data=$(synthetic_cifar)
  # the synthetic files hold 100 records, not CIFAR-10's 10000: allowed explicitly
  if ISBENCH_DATA_ANY_SIZE=1 "$build/isbench" train --config last-loss-aug --preset smoke --data "$data" --out "$pdir/train" \
       --train-subset 50 --test-subset 20 --width 4 --batch 25 --warmup 1 --max-epochs 2 > "$pdir/train.log" 2>&1 &&
     grep -q '"status": "finished"' "$pdir/train/smoke/last-loss-aug/seed-1/manifest.json"; then
    summary train finished
  else
    summary train failed; status=1; tail -5 "$pdir/train.log"
  fi
  summary train_s "$(seconds_since "$t")"
  echo "   short training run: $(grep -o '"status": "[a-z]*"' "$pdir/train/smoke/last-loss-aug/seed-1/manifest.json" 2>/dev/null) in $(seconds_since "$t") s"

  if [ "$bench" -eq 1 ]; then
    t=$(date +%s)
    filter='sampling\.full_path\.device/N:50000/Z:8192/'
    [[ " $step_bench " == *" $name "* ]] && filter="train_step\\.w8\\.device|$filter"
    # --skip-check: the portability tests above ran isbench check on this implementation (isbench_check)
    bash "$here/bench/run.sh" --bin "$build/bench/isbench-bench" --out "$pdir/bench" --max-n 100000 \
      --min-time 0.05 --filter "$filter" --skip-check \
      > "$pdir/bench.log" 2>&1 || { status=1; tail -5 "$pdir/bench.log"; }
    summary bench_s "$(seconds_since "$t")"
    echo "   benchmarks: $(seconds_since "$t") s"
  fi
  summary wall_s "$(seconds_since "$start")"
  summary status "$([ $status -eq 0 ] && echo passed || echo FAILED)"
  mv "$pdir/summary.tsv.tmp" "$pdir/summary.tsv"
  exit $status
)

# One Oclgrind profile: the oclgrind-labelled tests under its limits
run_oclgrind() (
  profile=$1
  case $profile in
    default) ;;
    amd-wg256) export OCLGRIND_MAX_WGSIZE=256 ;;
    intel-local64k) export OCLGRIND_LOCAL_MEM_SIZE=65536 ;;
    *) echo "portability.sh: unknown Oclgrind profile '$profile' (default, amd-wg256, intel-local64k)" >&2; exit 2 ;;
  esac
  pdir=$out/oclgrind-$profile
  rm -rf "$pdir"; mkdir -p "$pdir"
  start=$(date +%s) status=0
  summary pass "oclgrind-$profile"
  summary platform Oclgrind
  summary device "Oclgrind Simulator"
  summary driver "$(oclgrind --version 2>/dev/null | sed -n 's/^Oclgrind \([0-9.]*\).*/\1/p' | head -1)"
  summary limits "max work-group ${OCLGRIND_MAX_WGSIZE:-1024}, local memory $(( ${OCLGRIND_LOCAL_MEM_SIZE:-32768} / 1024 )) KiB"
  ctest --test-dir "$build" -L oclgrind -j "$jobs" --output-on-failure > "$pdir/ctest.log" 2>&1 || status=1
  summary tests "$(ctest_counts "$pdir/ctest.log")"
  summary tests_failed "$(sed -n 's/^[[:space:]]*[0-9]* - \([a-z_0-9]*\) .*/\1/p' "$pdir/ctest.log" | paste -sd' ')"
  summary tests_s "$(seconds_since "$start")"
  summary wall_s "$(seconds_since "$start")"
  summary status "$([ $status -eq 0 ] && echo passed || echo FAILED)"
  mv "$pdir/summary.tsv.tmp" "$pdir/summary.tsv"
  echo "   tests: $(ctest_counts "$pdir/ctest.log" | tr '\t' /) passed in $(seconds_since "$start") s"
  exit $status
)

# Device selection with every implementation visible at once: each environment's platform-qualified
# ISBENCH_DEVICE still picks its own platform, in isbench and in a test run by ctest, and a bare
# name that several implementations share (the CPU's name, in PoCL's and Intel's device names) is
# refused.
check_selection() (
  vendors=$(mktemp -d) status=0
  trap 'rm -rf "$vendors"' EXIT
  for name in $impls; do
    ln -s "$here/.runtimes/$name/vendors/$name.icd" "$vendors/$name.icd" 2>/dev/null || return 1
    [ "$name" != rusticl ] || { set -a; source "$here/.runtimes/rusticl.env"; set +a; }
  done
  export OCL_ICD_VENDORS=$vendors
  for name in $impls; do
    want=$(ISBENCH_DEVICE= bash -c "set -a; source '$here/.runtimes/$name.env'; echo \"\$ISBENCH_DEVICE\"")
    got=$("$build/isbench" devices --device "$want" 2>&1 | grep -B1000 '<- selected' | sed -n 's/^Platform [0-9]*: \(.*\) (.*/\1/p' | tail -1)
    echo "   --device '$want' -> platform '$got'"
    platform=${want%%:*}
    [[ -n "$got" && "${got,,}" == *"${platform,,}"* ]] || { echo "   FAIL: wrong platform"; status=1; }
    # ctest passes ISBENCH_DEVICE through at test time, and the test prints the device it used
    used=$(ISBENCH_DEVICE=$want ctest --test-dir "$build" -R '^test_ocl_kernels$' -V 2>&1 | sed -n 's/.*\[device\] //p' | head -1)
    echo "   ISBENCH_DEVICE='$want' ctest -> $used"
    [[ "${used,,}" == *"| ${platform,,}"* ]] || { echo "   FAIL: the test ran elsewhere"; status=1; }
  done
  cpu=$("$build/isbench" devices --device 'Intel(R) OpenCL:' 2>/dev/null | sed -n 's/^\* [0-9]*:[0-9]*  \(.*[^ ]\) *<- selected/\1/p')
  if [ -n "$cpu" ]; then
    out=$("$build/isbench" devices --device "$cpu" 2>&1)
    if grep -q "is ambiguous" <<<"$out"; then echo "   --device '$cpu' -> refused as ambiguous (matches PoCL and Intel)"
    else echo "   FAIL: --device '$cpu' was not refused: $(grep '<- selected' <<<"$out")"; status=1; fi
  fi
  exit $status
)

# timed PASS COMMAND...: one pass with its wall time; a failure is recorded, the others still run
timed() {
  local pass=$1 t=$(date +%s); shift
  echo "== portability: $pass"
  "$@" || failed+=("$pass")
  echo "== $pass: $(seconds_since "$t") s wall"
}
for name in $impls; do timed "$name" run_impl "$name"; done
[ -z "$impls" ] || timed selection check_selection
for profile in $profiles; do timed "oclgrind-$profile" run_oclgrind "$profile"; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "portability.sh: FAILED: ${failed[*]} (logs in $out/<pass>/)" >&2
  exit 1
fi
echo "portability.sh: all passes passed; table: scripts/portability-table.sh $out"
