#!/bin/bash
# bench/run.sh's output is analysis-ready (issue 23): a short run on the test device, then
#   - <family>.csv has its header on the first line, N/Z/B/W columns, 5 repetitions by default, and
#     median and cv rows that agree with the repetitions (cv in percent, not in the time unit);
#   - context.json explains Google Benchmark's "debug" build;
#   - a filter that matches nothing makes isbench-bench and run.sh exit non-zero;
#   - pandas.read_csv reads the CSV as it is. Without pandas (python3-pandas) that last check cannot
#     run: the test then exits 77, which ctest reports as skipped (Not Run), never as passed.
# Usage: bench_run_test.sh SOURCE_DIR PATH/TO/isbench-bench
set -u
src=$1; bin=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | tail -20; fail=$((fail+1)); }

out=$(bash "$src/bench/run.sh" --bin "$bin" --out "$tmp/r" --min-time 0.01 \
      --filter 'sampling\.cdf\.device/N:50000/Z:8192/' 2>&1); rc=$?
[ $rc -eq 0 ] && ok "run.sh ran" || bad "run.sh: exit $rc" "$out"
csv=$(ls "$tmp"/r/*/sampling.csv 2>/dev/null | head -1)
if [ -z "$csv" ]; then bad "no sampling.csv" "$out"; echo "$pass passed, $fail failed"; exit 1; fi
dir=$(dirname "$csv")
head -1 "$csv" | grep -q '^name,family,method,where,N,Z,B,W,aggregate,repetition,' && ok "header on the first line" || bad "first line" "$(head -2 "$csv")"
reps=$(awk -F, '$1 ~ /^sampling.cdf.device\/N:50000\/Z:8192\// && $9 == "" { n++ } END { print n + 0 }' "$csv")
[ "$reps" -eq 5 ] && ok "5 repetitions by default" || bad "repetitions: $reps" "$(cat "$csv")"
# N and Z in their own columns
awk -F, 'NR > 1 && ($5 != 50000 || $6 != 8192) { bad = 1 } END { exit bad }' "$csv" && ok "N and Z columns" || bad "N/Z columns" "$(cat "$csv")"
# median and cv rows recomputed from the repetitions (real_time is column 12, unit 14)
check=$(awk -F, 'NR > 1 && $9 == "" { v[++n] = $12; s += $12; ss += $12 * $12 }
    NR > 1 && $9 == "median" { med = $12 } NR > 1 && $9 == "cv" { cv = $12; unit = $14 }
    END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
          m = s / n; sd = sqrt((ss - n * m * m) / (n - 1)); want_cv = 100 * sd / m
          d1 = med - v[3]; d2 = cv - want_cv
          printf "%s %s %s %s %s\n", (d1 * d1 < 1e-12 * med * med) ? "median-ok" : "median-bad", unit,
                 (d2 * d2 < 1e-4 * (want_cv * want_cv + 1e-6)) ? "cv-ok" : "cv-bad", cv, want_cv }' "$csv")
[[ $check == "median-ok % cv-ok "* ]] && ok "median and cv agree with the repetitions ($check)" || bad "aggregates: $check" "$(cat "$csv")"
[ -s "$dir/raw/sampling.json" ] && ok "raw Google Benchmark JSON kept" || bad "no raw/sampling.json"
grep -q '"library_build_type_note": ".*without -DNDEBUG' "$dir/context.json" && ok "context explains the DEBUG warning" || bad "context.json" "$(cat "$dir/context.json")"
grep -q '"repetitions": "5"' "$dir/context.json" && ok "context records the repetitions" || bad "repetitions in context"

# The figures read the analysis CSV: median with the min-max range of the repetitions.
out=$(bash "$src/plots/make-figures.sh" "$tmp/r" -o "$tmp/fig" --formats png 2>&1); rc=$?  # the results root
grep -q "/raw" <<<"$out" && bad "make-figures took raw/ for a device folder" "$out" || ok "raw/ is not a device folder"
if [ $rc -eq 0 ] && grep -q "bars = their range (min–max)" "$tmp/fig/captions.md" &&
   awk '{ if (!($4 <= $2 && $2 <= $5)) bad = 1 } END { exit bad }' "$tmp"/fig/data/sampling-cdf.device.dat; then
  ok "figure from the analysis CSV with min-max bars"
else bad "make-figures on run.sh output: exit $rc" "$out"; fi
grep -q "gnuplot" <<<"$out" && bad "gnuplot output reached the terminal" "$out" || ok "no gnuplot message on the terminal"

out=$("$bin" --benchmark_filter=nomatch 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "no benchmark matches" <<<"$out" && ok "isbench-bench: nothing ran is an error" || bad "nomatch exit $rc" "$out"
out=$(bash "$src/bench/run.sh" --bin "$bin" --out "$tmp/n" --filter nomatch 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q "nothing ran" <<<"$out" && ok "run.sh: nothing ran is an error" || bad "run.sh nomatch exit $rc" "$out"

py=""
for p in $(type -ap python3) /usr/bin/python3; do
  if "$p" -c 'import pandas' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
  echo "$pass passed, $fail failed; pandas not found (apt-get install python3-pandas): its check did not run"
  [ "$fail" -eq 0 ] && exit 77 || exit 1
fi
out=$("$py" - "$csv" <<'PY' 2>&1
import sys, pandas as pd
d = pd.read_csv(sys.argv[1])
reps = d[d["aggregate"].isna()]
assert len(reps) == 5, len(reps)
assert set(reps["N"]) == {50000} and set(reps["Z"]) == {8192}, reps[["N", "Z"]]
assert reps["real_time"].dtype.kind == "f" and (reps["real_time"] > 0).all()
med = d.loc[d["aggregate"] == "median", "real_time"].iloc[0]
assert abs(med - reps["real_time"].median()) <= 1e-6 * med, (med, reps["real_time"].median())
cv = d.loc[d["aggregate"] == "cv", "real_time"].iloc[0]
want = 100 * reps["real_time"].std() / reps["real_time"].mean()
assert abs(cv - want) <= 1e-3 * max(want, 1e-3), (cv, want)
print("pandas", pd.__version__, "read", len(d), "rows")
PY
); rc=$?
[ $rc -eq 0 ] && ok "pandas.read_csv reads it as it is ($out)" || bad "pandas" "$out"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
