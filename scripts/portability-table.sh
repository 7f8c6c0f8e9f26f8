#!/bin/bash
# The README's portability table (markdown), generated from the results of scripts/portability.sh:
# one row per pass (OpenCL implementation or Oclgrind profile) with its device and limits, the
# tests that passed, the short training run, and the microbenchmark times of bench/run.sh (one
# ResNet18 training step at width 8, batch 128; one full sampling path, N 50000, |Z| 8192),
# normalised by plots/lib/bench.awk as the figures are. With --readme FILE the table replaces the
# lines between "<!-- portability-table -->" and "<!-- /portability-table -->" in FILE (atomically).
#
# usage: scripts/portability-table.sh [RESULTS_DIR (default results/portability)] [--readme FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/results/portability
readme=""
while [ $# -gt 0 ]; do
  case $1 in
    --readme) readme=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "portability-table.sh: unknown option '$1'" >&2; exit 2 ;;
    *) dir=$1; shift ;;
  esac
done
lib=$here/plots/lib

get() { awk -F'\t' -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print "-" }' "$1"; }
# "max work-group W, local memory L, fp64 yes|no" of the selected device in a pass's devices.txt
# (`isbench devices`), else the summary's own "limits" (Oclgrind profiles)
limits_cell() {
  if [ -f "$1/devices.txt" ]; then
    sed -n '/<- selected/,/isbench:/p' "$1/devices.txt" | sed -n \
      -e 's/.*local memory \([^;]*\); max work-group \([0-9]*\).*/max work-group \2, local memory \1/p' \
      -e 's/^ *fp64 \([a-z]*\) .*/fp64 \1/p' | paste -sd';' | sed 's/;/, /g'
  else
    get "$1/summary.tsv" limits
  fi
}
train_cell() { [ "$(get "$1" train)" = - ] && echo "-" || echo "$(get "$1" train) in $(get "$1" train_s) s"; }
tests_cell() { awk -F'\t' '$1 == "tests" { printf "%d/%d", $2, $3 }' "$1"; }

# "<seconds of the family.method row>" of a pass's benchmark CSVs, in ms, or "-"
bench_ms() {
  local csvs=("$1"/bench/*/*.csv)
  [ -e "${csvs[0]}" ] || { echo "-"; return; }
  awk -f "$lib/common.awk" -f "$lib/bench.awk" "${csvs[@]}" 2>/dev/null |
    awk -v fam="$2" -v meth="$3" '$1 == fam && $2 == meth && $3 == "device" { printf "%.1f", $7 * 1000; found = 1 }
                                  END { if (!found) printf "-" }'
}

table() {
  echo "| pass | device (platform, driver) | limits | tests passed | short training run | training step W8 B128 (ms) | sampling N 50000 Z 8192 (ms) | pass wall (s) |"
  echo "|---|---|---|---|---|---|---|---|"
  local order=(pocl intel rusticl oclgrind-default oclgrind-amd-wg256 oclgrind-intel-local64k) pass f rows=0
  for pass in "${order[@]}" $(cd "$dir" && ls -d */ 2>/dev/null | tr -d / ); do
    f=$dir/$pass/summary.tsv
    [ -f "$f" ] || continue
    [ -z "${seen[$pass]:-}" ] || continue
    seen[$pass]=1
    local failed
    failed=$(get "$f" tests_failed)
    printf '| %s | %s (%s, %s) | %s | %s%s | %s | %s | %s | %s |\n' "$pass" "$(get "$f" device)" "$(get "$f" platform)" \
      "$(get "$f" driver)" "$(limits_cell "$dir/$pass")" "$(tests_cell "$f")" "$([ -n "$failed" ] && [ "$failed" != - ] && echo " (failed: $failed)")" \
      "$(train_cell "$f")" "$(bench_ms "$dir/$pass" train_step w8)" "$(bench_ms "$dir/$pass" sampling full_path)" \
      "$(get "$f" wall_s)"
    rows=$((rows + 1))
  done
  [ $rows -gt 0 ] || { echo "portability-table.sh: no */summary.tsv in $dir (run scripts/portability.sh)" >&2; return 1; }
}

declare -A seen
text=$(table)
if [ -z "$readme" ]; then
  echo "$text"
  exit 0
fi
grep -q '^<!-- portability-table -->$' "$readme" && grep -q '^<!-- /portability-table -->$' "$readme" ||
  { echo "portability-table.sh: $readme lacks the <!-- portability-table --> ... <!-- /portability-table --> lines" >&2; exit 1; }
awk -v table="$text" '
  /^<!-- portability-table -->$/ { print; print table; skip = 1; next }
  /^<!-- \/portability-table -->$/ { skip = 0 }
  !skip' "$readme" > "$readme.tmp"
mv "$readme.tmp" "$readme"
echo "portability-table.sh: table written into $readme"
