#!/bin/bash
# Runs the standard microbenchmark set on one device, repeated (5 times by default), and writes per
# family into results/bench/<device-slug>/: <family>.csv, analysis-ready (header on the first line,
# one row per repetition plus the mean/median/stddev/cv rows, N, Z, B, W in columns; pandas.read_csv
# reads it as it is; docs/results-format.md), raw/<family>.json (Google Benchmark's own output, with
# its context), and context.json (the provenance a manifest carries: device, host, CLBlast, command,
# load average at start and end; the date, the repetitions). Files are written atomically (temporary
# name, then rename). Exits 1 when a benchmark failed its check or when nothing ran (no benchmark
# matches --filter/--families).
#
# usage: bench/run.sh [--device SEL] [--max-n N] [--families "sampling score_update ..."]
#                     [--filter REGEX] [--min-time SECONDS] [--repetitions K] [--bin PATH] [--out DIR]
#                     [--tag TAG] [--skip-check]
#   --max-n N       cap problem sizes (CPUs: e.g. 1000000 or 10000000; default: all that fit)
#   --families      benchmark families to run (default: every family the program registers)
#   --filter REGEX  only the benchmarks whose names match REGEX (e.g. 'train_step.w8|full_path.device'),
#                   still one CSV per family: a short run for slow devices (scripts/portability.sh)
#   --min-time S    seconds per repetition (default 0.1)
#   --repetitions K runs of each benchmark (default 5; isbench compare needs 4+ per side for its test)
#   --bin           the isbench-bench program (default: build/bench/isbench-bench; isbench-bench-csv
#                   is taken from the same folder)
#   --out           results root (default: results/bench)
#   --tag TAG       results/bench/<device-slug>-<TAG>: keeps the same device model on several
#                   machines apart when their results are gathered into one folder (e.g. the host)
#   --skip-check    do not run the device self-check (isbench check, next to --bin) first; a
#                   device that fails it is not measured. The verdict goes into context.json.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bench/isbench-bench
out_root=$here/results/bench
device=${ISBENCH_DEVICE:-}
max_n=100000000
families=""
filter=""
min_time=0.1
repetitions=5
tag=""
skip_check=0

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --max-n) max_n=$2; shift 2 ;;
    --families) families=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --out) out_root=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --skip-check) skip_check=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
to_csv=$(dirname "$bin")/isbench-bench-csv
for b in "$bin" "$to_csv"; do
  if [ ! -x "$b" ]; then
    echo "run.sh: $b not found: build it (cmake --build build --target isbench-bench isbench-bench-csv) or pass --bin" >&2
    exit 2
  fi
done
[[ $repetitions =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repetitions takes a positive integer, got '$repetitions'" >&2; exit 2; }

[[ -z $tag || $tag =~ ^[A-Za-z0-9._-]+$ ]] || { echo "run.sh: --tag takes letters, digits, '.', '_' and '-', got '$tag'" >&2; exit 2; }

dev_args=()
[ -n "$device" ] && dev_args=(--device "$device")
slug=$("$bin" "${dev_args[@]}" --device-slug)
dir=$out_root/$slug${tag:+-$tag}
mkdir -p "$dir/raw"
command="bench/run.sh --device '${device}' --max-n $max_n --families '$families' --filter '$filter' --min-time $min_time --repetitions $repetitions${tag:+ --tag $tag}$([ $skip_check -eq 0 ] || echo " --skip-check")"
# Debian's libbenchmark is compiled without -DNDEBUG: it calls itself a debug build (and prints
# "Library was built as DEBUG") though it is optimised like every Debian package; only its internal
# checks are on. Device benchmarks are timed by isbench's own host clock around clFinish.
gbench_note="Debian's libbenchmark is built without -DNDEBUG, so Google Benchmark reports library_build_type debug and warns 'Library was built as DEBUG'; it is an optimised build with the library's internal checks on, and device times are isbench's own host clock around clFinish (manual time): see docs/results-format.md"
# The device self-check first: a device that computes wrong results is not measured.
check_verdict="skipped (--skip-check)"
if [ $skip_check -eq 0 ]; then
  isb=$(dirname "$bin")/../isbench
  [ -x "$isb" ] || { echo "run.sh: $isb (for isbench check) not found: build it, or pass --skip-check" >&2; exit 2; }
  if ! check_out=$("$isb" check "${dev_args[@]}" 2>&1); then
    echo "$check_out" >&2
    echo "run.sh: the device failed isbench check (above): it is not measured" >&2
    exit 1
  fi
  check_verdict=$(sed -n 's/^check //p' <<<"$check_out" | tail -1)
fi
common=("${dev_args[@]}" --max-n "$max_n" --context "command=$command" --context "date=$(date -u +%FT%TZ)"
        --context "repetitions=$repetitions" --context "library_build_type_note=$gbench_note"
        --context "check=$check_verdict")

"$bin" "${common[@]}" --write-context "$dir/context.json"
# every registered <family>.<method>.<where>/... (that --filter selects)
if ! names=$("$bin" "${common[@]}" --benchmark_filter="${filter:-.}" --benchmark_list_tests=true 2>/dev/null); then
  echo "run.sh: no benchmark matches --filter '${filter}' (with --max-n $max_n): nothing ran" >&2
  exit 1
fi
if [ -z "$families" ]; then
  families=$(sed -n 's/^\([a-z_0-9]*\)\..*/\1/p' <<<"$names" | sort -u)
fi

# Google Benchmark's filter for one family: the family prefix, or with --filter the exact names
family_filter() {
  if [ -z "$filter" ]; then echo "^$1\\."; return; fi
  echo "^($(grep "^$1\." <<<"$names" | sed 's/[].[*^$()+?{|\\]/\\&/g' | paste -sd'|'))\$"
}

status=0; ran=0
for family in $families; do
  if ! grep -q "^$family\." <<<"$names"; then
    echo "run.sh: no '$family' benchmarks in this build (or none fit --max-n $max_n / --filter): skipped"
    continue
  fi
  echo "== $family -> $dir/$family.csv (raw: $dir/raw/$family.json)"
  # isbench-bench exits 1 when a benchmark failed its output check: keep the files (they record the
  # error) and report the failure at the end.
  if ! "$bin" "${common[@]}" --benchmark_filter="$(family_filter "$family")" --benchmark_min_time="$min_time" \
       --benchmark_repetitions="$repetitions" --benchmark_out="$dir/raw/.$family.json.tmp" \
       --benchmark_out_format=json; then
    status=1
  fi
  if [ -s "$dir/raw/.$family.json.tmp" ]; then
    mv "$dir/raw/.$family.json.tmp" "$dir/raw/$family.json"
    "$to_csv" "$dir/raw/$family.json" "$dir/$family.csv" || status=1
    ran=$((ran + 1))
  fi
done
"$bin" --end-context "$dir/context.json" || status=1
echo "run.sh: 'Library was built as DEBUG' above is Debian's libbenchmark, built without -DNDEBUG; see library_build_type_note in $dir/context.json"
[ $ran -gt 0 ] || { echo "run.sh: no benchmark ran (families: '$families')" >&2; exit 1; }
[ $status -eq 0 ] || echo "run.sh: some benchmarks failed their checks (error_occurred in the CSV)" >&2
exit $status
