#!/bin/bash
# isbench compare on synthetic results: two suites (a configuration shifted by 10 points must be
# flagged significant, an unchanged one must not; a protocol difference is refused naming the field
# unless --force; --restart's seed-<k>.old-<time> folders are ignored) and two benchmark folders
# (a 2x slower benchmark over 5 repetitions is significant, interleaved times are not, single runs
# get "too few repetitions").
# Usage: compare_test.sh PATH/TO/isbench SOURCE_DIR
set -u
isb=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | head -20; fail=$((fail+1)); }
expect() { # name, regex, file
  if grep -q -E -- "$2" "$3"; then ok "$1"; else bad "$1: $3 lacks /$2/" "$(cat "$3")"; fi
}

bash "$src/tests/make-synthetic-results.sh" "$tmp/A" >/dev/null
cp -r "$tmp/A" "$tmp/B"
for seed in 1 2; do # B's uniform-aug: 10 points more test accuracy at every evaluation
  f=smoke/uniform-aug/seed-$seed/metrics.csv
  awk -F, -v OFS=, 'NR > 1 { $8 = $8 + 0.10 } 1' "$tmp/A/$f" >"$tmp/B/$f"
done
# A folder that --restart moved aside, with garbage in it, must be ignored.
mkdir -p "$tmp/A/smoke/uniform-noaug/seed-1.old-20261201T000000"
echo garbage >"$tmp/A/smoke/uniform-noaug/seed-1.old-20261201T000000/metrics.csv"

out=$("$isb" compare "$tmp/A/smoke" "$tmp/B/smoke" -o "$tmp/suites" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "suites compared" || bad "suites: exit $rc" "$out"
csv=$tmp/suites/compare.csv
expect "shifted configuration is significant"    '^uniform-aug,last_test_acc,2,.*,significant$' "$csv"
expect "shifted best accuracy is significant"    '^uniform-aug,best_test_acc,2,.*,significant$' "$csv"
expect "unchanged configuration is not"          '^uniform-noaug,last_test_acc,2,.*,not significant$' "$csv"
expect "difference of the shifted one is +10"    '^uniform-aug,last_test_acc,.*,10,' "$csv"
expect "markdown names last and best"            'last test accuracy.*best test accuracy|best test accuracy' "$tmp/suites/compare.md"
expect "markdown has intervals"                  '± [0-9.]+ \[[0-9.]+, [0-9.]+\] \(n=2\)' "$tmp/suites/compare.md"
[ -s "$tmp/suites/compare.png" ] && ok "suite figure drawn" || bad "no $tmp/suites/compare.png"
grep -q . "$tmp/suites/compare.gnuplot.log" && bad "gnuplot printed warnings" "$(cat "$tmp/suites/compare.gnuplot.log")" || ok "gnuplot quiet"

# A different protocol (width) is refused, naming the field; --force compares and lists it.
sed -i 's/"width": 16/"width": 8/' "$tmp/B/smoke/last-loss-aug/seed-1/manifest.json"
out=$("$isb" compare "$tmp/A/smoke" "$tmp/B/smoke" -o "$tmp/refused" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "last-loss-aug: width is 16 in A .*, 8 in B" <<<"$out" && grep -q -- "--force" <<<"$out"; then
  ok "protocol difference refused naming the field"
else bad "protocol difference: exit $rc" "$out"; fi
[ ! -e "$tmp/refused/compare.md" ] && ok "nothing written when refused" || bad "refused compare wrote files"
out=$("$isb" compare "$tmp/A/smoke" "$tmp/B/smoke" -o "$tmp/forced" --force 2>&1); rc=$?
[ $rc -eq 0 ] && ok "--force compares" || bad "--force: exit $rc" "$out"
expect "--force lists the difference" 'Different protocols.*width is 16 in A' "$tmp/forced/compare.md"

# Benchmarks: Google Benchmark JSON with 5 repetitions per side.
bench_json() { # file, then "name=t1,t2,..." per benchmark (ms)
  local f=$1; shift
  { echo '{"context": {}, "benchmarks": ['
    local first=1 spec name times i t
    for spec in "$@"; do
      name=${spec%%=*}; times=${spec#*=}; i=0
      for t in ${times//,/ }; do
        [ $first -eq 1 ] || echo ','; first=0
        printf '{"name": "%s", "run_name": "%s", "run_type": "iteration", "repetition_index": %d, "iterations": 10, "real_time": %s, "cpu_time": %s, "time_unit": "ms"}' \
          "$name" "$name" $i "$t" "$t"
        i=$((i+1))
      done
    done
    echo ']}'; } >"$f"
}
mkdir -p "$tmp/bA" "$tmp/bB"
echo '{"device": "A"}' >"$tmp/bA/context.json"; echo '{"device": "B"}' >"$tmp/bB/context.json"
bench_json "$tmp/bA/sampling.json" "sampling.cdf.device/N:50000/Z:8192/manual_time=10.1,10.3,9.9,10.0,10.2" \
  "sampling.alias.device/N:50000/Z:8192/manual_time=5.0,5.2,4.9,5.1,5.3"
bench_json "$tmp/bB/sampling.json" "sampling.cdf.device/N:50000/Z:8192/manual_time=20.1,20.3,19.9,20.0,20.2" \
  "sampling.alias.device/N:50000/Z:8192/manual_time=5.05,5.15,4.95,5.25,4.85"
out=$("$isb" compare "$tmp/bA" "$tmp/bB" -o "$tmp/bench" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "benchmark folders compared" || bad "bench: exit $rc" "$out"
expect "2x slower benchmark is significant" '^sampling.cdf.device/N:50000/Z:8192/manual_time,5,0.0101,.*,5,0.0201,.*,1.99[0-9]*,0.0079[0-9]*,significant$' "$tmp/bench/compare.csv"
expect "same times are not significant"     '^sampling.alias.device/N:50000/Z:8192/manual_time,5,.*,not significant$' "$tmp/bench/compare.csv"
[ -s "$tmp/bench/compare.png" ] && ok "bench figure drawn" || bad "no bench figure"
# Single runs (the synthetic Google Benchmark CSV): no verdict, said so.
out=$("$isb" compare "$tmp/A/bench/pocl-cpu" "$tmp/A/bench/nvidia-h200" -o "$tmp/single" 2>&1); rc=$?
[ $rc -eq 0 ] && ok "single-run folders compared" || bad "single: exit $rc" "$out"
expect "too few repetitions said" 'too few repetitions \(1, 1\)' "$tmp/single/compare.md"
expect "no p-value guessed" '^[^,]*,1,.*,1,[^,]*,[^,]*,[^,]*,[^,]*,,too few repetitions$' "$tmp/single/compare.csv"

# A suite holding only seed-2 folders (a --task run) is still a suite.
mkdir -p "$tmp/C/smoke"
for c in "$tmp"/A/smoke/*/; do mkdir -p "$tmp/C/smoke/$(basename "$c")"; cp -r "$c/seed-2" "$tmp/C/smoke/$(basename "$c")/"; done
out=$("$isb" compare "$tmp/C/smoke" "$tmp/A/smoke" -o "$tmp/seed2" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q '^uniform-aug,last_test_acc,1,' "$tmp/seed2/compare.csv" && ok "suite of seed-2 only compared (n=1: untested)" ||
  bad "seed-2-only suite: exit $rc" "$out"

# Wrong inputs
out=$("$isb" compare "$tmp/A/smoke" "$tmp/bA" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "training suite but .* is a benchmark folder" <<<"$out" && ok "suite vs bench refused" || bad "suite vs bench: exit $rc" "$out"
out=$("$isb" compare "$tmp/A/smoke" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "needs two folders" <<<"$out" && ok "one folder refused" || bad "one folder: exit $rc" "$out"
out=$("$isb" compare "$tmp/nope" "$tmp/bA" 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "nope: no such folder" <<<"$out" && ok "missing folder named" || bad "missing folder: exit $rc" "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
