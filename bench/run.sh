#!/bin/bash
# Runs the standard microbenchmark set on one device and writes Google Benchmark CSV per family
# into results/bench/<device-slug>/ (<family>.csv) plus context.json (the provenance a manifest
# carries: device, host, CLBlast, command, load average at start and end; and the date). Files are
# written atomically (temporary name, then rename).
#
# usage: bench/run.sh [--device SEL] [--max-n N] [--families "sampling score_update ..."]
#                     [--filter REGEX] [--min-time SECONDS] [--repetitions K] [--bin PATH] [--out DIR]
#                     [--tag TAG]
#   --max-n N       cap problem sizes (CPUs: e.g. 1000000 or 10000000; default: all that fit)
#   --families      benchmark families to run (default: every family the program registers)
#   --filter REGEX  only the benchmarks whose names match REGEX (e.g. 'train_step.w8|full_path.device'),
#                   still one CSV per family: a short run for slow devices (scripts/portability.sh)
#   --bin           the isbench-bench program (default: build/bench/isbench-bench)
#   --out           results root (default: results/bench)
#   --tag TAG       results/bench/<device-slug>-<TAG>: keeps the same device model on several
#                   machines apart when their results are gathered into one folder (e.g. the host)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build/bench/isbench-bench
out_root=$here/results/bench
device=${ISBENCH_DEVICE:-}
max_n=100000000
families=""
filter=""
min_time=0.5
repetitions=1
tag=""

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
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
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin not found: build it (cmake --build build --target isbench-bench) or pass --bin" >&2
  exit 2
fi

[[ -z $tag || $tag =~ ^[A-Za-z0-9._-]+$ ]] || { echo "run.sh: --tag takes letters, digits, '.', '_' and '-', got '$tag'" >&2; exit 2; }

dev_args=()
[ -n "$device" ] && dev_args=(--device "$device")
slug=$("$bin" "${dev_args[@]}" --device-slug)
dir=$out_root/$slug${tag:+-$tag}
mkdir -p "$dir"
command="bench/run.sh --device '${device}' --max-n $max_n --families '$families' --filter '$filter' --min-time $min_time --repetitions $repetitions${tag:+ --tag $tag}"
common=("${dev_args[@]}" --max-n "$max_n" --context "command=$command" --context "date=$(date -u +%FT%TZ)")

"$bin" "${common[@]}" --write-context "$dir/context.json"
# every registered <family>.<method>.<where>/... (that --filter selects)
names=$("$bin" "${common[@]}" --benchmark_filter="${filter:-.}" --benchmark_list_tests=true)
if [ -z "$families" ]; then
  families=$(sed -n 's/^\([a-z_0-9]*\)\..*/\1/p' <<<"$names" | sort -u)
fi

# Google Benchmark's filter for one family: the family prefix, or with --filter the exact names
family_filter() {
  if [ -z "$filter" ]; then echo "^$1\\."; return; fi
  echo "^($(grep "^$1\." <<<"$names" | sed 's/[].[*^$()+?{|\\]/\\&/g' | paste -sd'|'))\$"
}

status=0
for family in $families; do
  if ! grep -q "^$family\." <<<"$names"; then
    echo "run.sh: no '$family' benchmarks in this build (or none fit --max-n $max_n / --filter): skipped"
    continue
  fi
  echo "== $family -> $dir/$family.csv"
  # isbench-bench exits 1 when a benchmark failed its output check: keep the CSV (it records the
  # error) and report the failure at the end.
  if ! "$bin" "${common[@]}" --benchmark_filter="$(family_filter "$family")" --benchmark_min_time="$min_time" \
       --benchmark_repetitions="$repetitions" --benchmark_out="$dir/.$family.csv.tmp" \
       --benchmark_out_format=csv; then
    status=1
  fi
  mv "$dir/.$family.csv.tmp" "$dir/$family.csv"
done
"$bin" --end-context "$dir/context.json" || status=1
[ $status -eq 0 ] || echo "run.sh: some benchmarks failed their checks (error_occurred in the CSV)" >&2
exit $status
