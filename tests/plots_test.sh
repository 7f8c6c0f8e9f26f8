#!/bin/bash
# The figure pipeline (plots/make-figures.sh) on synthetic results (tests/make-synthetic-results.sh):
# every expected figure comes out as a real PNG/PDF, the tables hold the right numbers, and missing
# or malformed inputs stop with an error that names the file.
# Usage: plots_test.sh PROJECT_SOURCE_DIR
set -u
src=${1:?usage: plots_test.sh PROJECT_SOURCE_DIR}
mk=$src/plots/make-figures.sh
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# check NAME WANT_RC REGEX CMD...: exit status and a line of stdout+stderr matching REGEX.
check() {
    local name=$1 want_rc=$2 want_re=$3 out rc; shift 3
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$want_rc" ]; then bad "$name: exit $rc, expected $want_rc"; echo "$out" | tail -15; return; fi
    if ! grep -q -E -- "$want_re" <<<"$out"; then bad "$name: output lacks /$want_re/"; echo "$out" | tail -15; return; fi
    ok "$name"
}
# A PNG with the PNG signature and a PDF with %PDF, both larger than a blank page would be.
check_figure() {
    local base=$1 size
    if [ ! -f "$base.png" ]; then bad "$base.png missing"; return; fi
    size=$(wc -c <"$base.png")
    if [ "$(head -c 8 "$base.png" | od -An -tx1 | tr -d ' \n')" != 89504e470d0a1a0a ]; then bad "$base.png: no PNG signature"
    elif [ "$size" -lt 15000 ]; then bad "$base.png: only $size bytes (empty plot?)"
    else ok "$(basename "$base").png ($size bytes)"; fi
    if [ ! -f "$base.pdf" ]; then bad "$base.pdf missing"; return; fi
    size=$(wc -c <"$base.pdf")
    if [ "$(head -c 4 "$base.pdf")" != "%PDF" ]; then bad "$base.pdf: no PDF header"
    elif [ "$size" -lt 5000 ]; then bad "$base.pdf: only $size bytes"
    else ok "$(basename "$base").pdf ($size bytes)"; fi
}
fresh() { rm -rf "$work/r"; bash "$src/tests/make-synthetic-results.sh" "$work/r" || { bad "synthetic results"; exit 1; }; }

command -v gnuplot >/dev/null || { echo "FAIL gnuplot not installed (apt-get install gnuplot-nox)"; echo "0 passed, 1 failed"; exit 1; }

# ---- a full suite + two benchmark devices ---------------------------------------------------------
fresh
check "suite and benchmarks run" 0 "2 devices ->" bash "$mk" "$work/r/smoke" "$work/r/bench"
fig=$work/r/smoke/figures
for f in fig1-training-loss fig2-training-accuracy fig3-test-accuracy; do
    check_figure "$fig/$f-time"; check_figure "$fig/$f-epoch"
done
check_figure "$fig/fig4-scores-last-loss"
check_figure "$fig/fig5-scores-running-loss"
check_figure "$fig/fig6-cost-breakdown"
for d in pocl-cpu nvidia-h200; do
    check_figure "$work/r/bench/$d/figures/bench-sampling"
    check_figure "$work/r/bench/$d/figures/bench-score-update"
done
check_figure "$work/r/bench/figures/compare-devices"

# Summary: six configurations, numbers recomputed here from metrics.csv independently.
if [ "$(grep -c -E '^(uniform|last-loss|running-loss)-(no)?aug,2,' "$fig/summary.csv")" -eq 6 ]; then ok "summary.csv has 6 configurations x 2 seeds"
else bad "summary.csv rows"; cat "$fig/summary.csv"; fi
want=$(awk -F, 'FNR > 1 { last[FILENAME] = $8 } END { for (f in last) s += last[f]; printf "%.2f", 100 * s / 2 }' \
       "$work/r/smoke/last-loss-noaug"/seed-*/metrics.csv)
got=$(awk -F, '$1 == "last-loss-noaug" { print $3 }' "$fig/summary.csv")
[ "$want" = "$got" ] && ok "last test accuracy = mean of the seeds' last rows ($got%)" || bad "last test accuracy: got '$got', expected '$want'"
# Default target: 90% of the best mean last accuracy; time to target = first wall_s reaching it.
best=$(awk -F, 'NR > 1 && $3 > b { b = $3 } END { print b }' "$fig/summary.csv")
tgt=$(awk -F, 'NR == 2 { print $7 }' "$fig/summary.csv")
awk -v b="$best" -v t="$tgt" 'BEGIN { exit !((0.9 * b - t) ^ 2 < 1e-4) }' && ok "default target = 0.9 x best mean last ($tgt%)" || bad "target $tgt vs best $best"
want=$(awk -F, -v t="$tgt" 'FNR > 1 && !(FILENAME in d) && 100 * $8 >= t { d[FILENAME] = 1; s += $3; n++ } END { printf "%.1f", s / n }' \
       "$work/r/smoke/uniform-aug"/seed-*/metrics.csv)
got=$(awk -F, '$1 == "uniform-aug" { print $8 }' "$fig/summary.csv")
[ "$want" = "$got" ] && ok "time to target ($got s)" || bad "time to target: got '$got', expected '$want'"
grep -q "not reached" < <(bash "$mk" "$work/r/smoke" -o "$work/t99" --target-acc 99.9 2>&1; cat "$work/t99/summary.md") \
    && ok "--target-acc 99.9: 'not reached' in summary.md" || bad "--target-acc 99.9"
grep -q "^| uniform-aug |" "$fig/summary.md" && ok "summary.md table" || bad "summary.md table"
grep -q "pthread-AMD EPYC 7B13" "$fig/captions.md" && ok "captions name the device" || bad "captions lack the device"
# Curves: mean and band over seeds at epoch 3 match the inputs.
want=$(awk -F, 'FNR == 4 { s += $8; if (lo == "" || $8 < lo) lo = $8; if ($8 > hi) hi = $8 } END { printf "%.4f %.4f %.4f", 100 * s / 2, 100 * lo, 100 * hi }' \
       "$work/r/smoke/running-loss-aug"/seed-*/metrics.csv)
got=$(awk '$1 == 3 { printf "%.4f %.4f %.4f", $12, $13, $14 }' "$fig/data/curves-running-loss-aug.dat")
[ "$want" = "$got" ] && ok "test-accuracy mean/min/max at epoch 3 ($got)" || bad "curve aggregate: got '$got', expected '$want'"
# Score density: fractions of one epoch sum to 1.
got=$(awk '$1 == 4 { s += $4 } END { printf "%.6f", s }' "$fig/data/scores-last-loss-aug.dat")
[ "$got" = 1.000000 ] && ok "score density sums to 1 per epoch" || bad "score density sums to $got"
# Comparison: the device without train_step is named in the note; the share of the other is right.
check "missing train_step is reported" 0 "no train_step benchmark row: .NVIDIA H200" bash "$mk" "$work/r/bench" -o "$work/cmp"
want=$(awk '$1 == "sampling" && $2 == "full_path" && $3 == "device" && $4 == 100000 { t = $7 }
            $1 == "train_step" && $2 == "w64" { s = $7; b = $6 } END { printf "%.4g", 100 * t / (16400 / b * s) }' "$work/cmp/pocl-cpu/data/bench.tsv")
got=$(awk -F, '$2 == "pocl-cpu" && $4 == 100000 { print $10 }' "$work/cmp/compare-devices/compare-devices.csv")
[ "$want" = "$got" ] && ok "sampling share of training steps ($got%)" || bad "share: got '$got', expected '$want'"
grep -q "| cpu-default.json (type level) |" "$work/cmp/compare-devices/compare-devices.md" &&
    grep -q "NVIDIA H200 \[untuned\]: untuned" "$work/cmp/compare-devices/captions.md" &&
    ok "tuning entry in the table, untuned device marked in the caption" || bad "tuning provenance in compare-devices"
grep -q "alias device 100000000" "$work/cmp/pocl-cpu/data/bench.tsv" && bad "error row was plotted" || ok "error rows left out"
# Google Benchmark JSON (nvidia-h200/score_update.json) goes through the same parser as CSV.
want=$(grep -c '"name": "score_update' "$work/r/bench/nvidia-h200/score_update.json")
got=$(grep -c '^score_update ' "$work/cmp/nvidia-h200/data/bench.tsv")
[ "$want" = "$got" ] && [ "$want" -gt 0 ] && ok "JSON benchmark rows read ($got)" || bad "JSON rows: got $got, expected $want"

# A results root: every suite and device below it.
check "results root" 0 "2 devices ->" bash "$mk" "$work/r" -o "$work/root"
[ -f "$work/root/smoke/fig3-test-accuracy-epoch.png" ] && [ -f "$work/root/compare-devices/compare-devices.pdf" ] \
    && ok "results root: suite and comparison figures" || bad "results root outputs"
# A suite with only some configurations (no running loss): Fig. 5 is skipped with a note.
rm -rf "$work/r/smoke/running-loss-aug" "$work/r/smoke/running-loss-noaug" "$work/r/smoke/figures"
check "suite without running loss" 0 "no scores_hist.csv for running-loss: Fig. 5 skipped" bash "$mk" "$work/r/smoke"
[ ! -e "$work/r/smoke/figures/fig5-scores-running-loss.png" ] && [ -s "$work/r/smoke/figures/fig6-cost-breakdown.png" ] \
    && ok "four configurations: Fig. 5 absent, Fig. 6 present" || bad "four configurations outputs"

# Configurations come from the manifests: a new one is plotted, a folder whose manifest names
# another configuration is left out with a note.
cp -r "$work/r/smoke/last-loss-aug" "$work/r/smoke/gradient-norm-aug"
sed -i 's/last-loss-aug/gradient-norm-aug/g; s/"sampler": "last-loss"/"sampler": "gradient-norm"/' "$work/r/smoke/gradient-norm-aug"/seed-*/manifest.json
cp -r "$work/r/smoke/uniform-aug" "$work/r/smoke/renamed-aug"
check "folder not named by its manifest is ignored" 0 "renamed-aug/seed-1: its manifest.json does not name" bash "$mk" "$work/r/smoke"
grep -q '^gradient-norm-aug,2,' "$work/r/smoke/figures/summary.csv" && ! grep -q '^renamed-aug' "$work/r/smoke/figures/summary.csv" \
    && ok "a configuration not in any list is plotted" || bad "configurations from the manifests"
rm -rf "$work/r/smoke/gradient-norm-aug" "$work/r/smoke/renamed-aug"

# ---- usage, missing and malformed inputs ----------------------------------------------------------
check "help" 0 "usage: plots/make-figures.sh" bash "$mk" --help
check "no arguments" 2 "no RESULTS_DIR" bash "$mk"
check "unknown option" 2 "unknown option '--bogus'" bash "$mk" --bogus "$work/r/smoke"
check "bad --target-acc" 2 "target-acc" bash "$mk" "$work/r/smoke" --target-acc 140
check "no such directory" 1 "$work/nope: no such directory" bash "$mk" "$work/nope"
mkdir -p "$work/empty"
check "directory without results" 1 "empty holds neither" bash "$mk" "$work/empty"

s=$work/r/smoke
rm "$s/uniform-aug/seed-2/metrics.csv"
check "missing metrics.csv" 1 "uniform-aug/seed-2/metrics.csv: missing" bash "$mk" "$s"
fresh
rm "$s/last-loss-noaug/seed-1/timing.csv"
check "missing timing.csv" 1 "last-loss-noaug/seed-1/timing.csv: missing" bash "$mk" "$s"
fresh
rm "$s/running-loss-aug/seed-1/scores_hist.csv"
check "missing scores_hist.csv" 1 "running-loss-aug/seed-1/scores_hist.csv: missing" bash "$mk" "$s"
fresh
rm "$s/uniform-noaug/seed-1/manifest.json"
check "missing manifest.json" 1 "uniform-noaug/seed-1/manifest.json: missing" bash "$mk" "$s"
fresh
sed -i '5s/,0\.[0-9]*$/,oops/' "$s/last-loss-aug/seed-2/metrics.csv"
check "non-number in metrics.csv" 1 "last-loss-aug/seed-2/metrics.csv:5: field 8 \('oops'\) is not a number" bash "$mk" "$s"
fresh
sed -i '1s/test_acc/test_accuracy/' "$s/uniform-aug/seed-1/metrics.csv"
check "wrong header in metrics.csv" 1 "uniform-aug/seed-1/metrics.csv: header lacks column 'test_acc'" bash "$mk" "$s"
fresh
sed -i '4s/^[^,]*,[^,]*,//' "$s/uniform-aug/seed-1/metrics.csv"
check "short row in metrics.csv" 1 "uniform-aug/seed-1/metrics.csv:4: 6 fields, header has 8" bash "$mk" "$s"
fresh
head -1 "$s/uniform-aug/seed-1/metrics.csv" >"$s/uniform-aug/seed-1/metrics.tmp" && mv "$s/uniform-aug/seed-1/metrics.tmp" "$s/uniform-aug/seed-1/metrics.csv"
check "header-only metrics.csv" 1 "uniform-aug/seed-1/metrics.csv: no evaluation rows" bash "$mk" "$s"
fresh
: >"$s/uniform-aug/seed-1/timing.csv"
check "empty timing.csv" 1 "uniform-aug/seed-1/timing.csv: empty file" bash "$mk" "$s"
fresh
sed -i 's/"status": "finished"/"status": "finished",,/' "$s/running-loss-noaug/seed-2/manifest.json"
check "malformed manifest.json" 1 "running-loss-noaug/seed-2/manifest.json: malformed JSON" bash "$mk" "$s"
fresh
sed -i '3s/,[0-9]*$/,-5/' "$s/last-loss-aug/seed-1/scores_hist.csv"
check "negative histogram count" 1 "last-loss-aug/seed-1/scores_hist.csv:3: negative count" bash "$mk" "$s"
fresh
# A run still in progress without results yet is left out with a note, not an error.
rm "$s/uniform-aug/seed-2/metrics.csv" "$s/uniform-aug/seed-2/timing.csv"
sed -i 's/"status": "finished"/"status": "running"/' "$s/uniform-aug/seed-2/manifest.json"
check "running run without metrics is left out" 0 "uniform-aug/seed-2: still running" bash "$mk" "$s"
grep -q '^uniform-aug,1,' "$s/figures/summary.csv" && ok "running run not counted as a seed" || bad "running run counted"
fresh
# ... and so is one that has written only the header so far.
head -1 "$s/last-loss-aug/seed-1/metrics.csv" >"$s/m.tmp" && mv "$s/m.tmp" "$s/last-loss-aug/seed-1/metrics.csv"
sed -i 's/"status": "finished"/"status": "running"/' "$s/last-loss-aug/seed-1/manifest.json"
check "running run with header-only metrics is left out" 0 "last-loss-aug/seed-1: status 'running', no evaluation yet" bash "$mk" "$s"
fresh
# nan phases (not timed apart, as the trainer writes them) are accepted and named in Fig. 6.
for f in "$s"/*/seed-*/timing.csv; do sed -i 's/^score_update,.*/score_update,nan/; s/^data,.*/data,nan/' "$f"; done
check "nan phases in timing.csv" 0 "smoke/figures" bash "$mk" "$s"
grep -q 'untimed = ".*score_update' "$s/figures/data/suite-params.gp" && ok "untimed phases passed to Fig. 6" || bad "untimed phases"

b=$work/r/bench
: >"$b/pocl-cpu/score_update.csv"
check "empty benchmark CSV" 1 "pocl-cpu/score_update.csv: empty file" bash "$mk" "$b/pocl-cpu"
fresh
sed -i '/^name,iterations/d' "$b/pocl-cpu/sampling.csv"
check "benchmark CSV without header" 1 "pocl-cpu/sampling.csv: no Google Benchmark CSV header" bash "$mk" "$b/pocl-cpu"
fresh
sed -i '7s/,us,/,fortnights,/' "$b/nvidia-h200/sampling.csv"
check "unknown time unit" 1 "nvidia-h200/sampling.csv:7: unknown time_unit 'fortnights'" bash "$mk" "$b/nvidia-h200"
fresh
sed -i 's/"real_time": 129.0000,/"real_time": 129.0000/' "$b/nvidia-h200/score_update.json"
check "malformed benchmark JSON" 1 "nvidia-h200/score_update.json: malformed JSON" bash "$mk" "$b/nvidia-h200"
fresh
echo '{"device": ' >"$b/nvidia-h200/context.json"
check "malformed context.json" 1 "nvidia-h200/context.json: malformed JSON" bash "$mk" "$b/nvidia-h200"
fresh
rm "$b/pocl-cpu/train_step.csv"
check "no train_step anywhere: share panel skipped" 0 "share-of-a-training-step panel is skipped" bash "$mk" "$b"
check_figure "$b/figures/compare-devices"

# Several machines gathered into one folder (issue 14): suites named per machine and benchmark
# folders tagged per machine (bench/run.sh --tag), the same device model on two machines. The script
# runs unchanged on the gathered folder and keeps every device apart.
g=$work/gathered
rm -rf "$g" "$work/mA" "$work/mB"
bash "$src/tests/make-synthetic-results.sh" "$work/mA" && bash "$src/tests/make-synthetic-results.sh" "$work/mB" ||
    { bad "synthetic results"; exit 1; }
mkdir -p "$g/bench"
mv "$work/mA/bench/pocl-cpu" "$g/bench/pocl-cpu-mA"; mv "$work/mA/bench/nvidia-h200" "$g/bench/nvidia-h200-mA"
mv "$work/mB/bench/nvidia-h200" "$g/bench/nvidia-h200-mB"
mv "$work/mA/smoke" "$g/smoke-mA"; mv "$work/mB/smoke" "$g/smoke-mB"
sed -i 's/pthread-AMD EPYC 7B13/NVIDIA H200/' "$g"/smoke-mB/*/seed-*/manifest.json # machine B ran on its GPU
check "gathered results of two machines" 0 "3 devices -> $work/gfig/compare-devices" bash "$mk" "$g" -o "$work/gfig" --formats png
for d in smoke-mA smoke-mB pocl-cpu-mA nvidia-h200-mA nvidia-h200-mB; do
    [ -s "$work/gfig/$d/captions.md" ] && ok "gathered: $d has its own figures" || bad "gathered: no figures for $d"
done
grep -q "^Device: pthread-AMD EPYC 7B13" "$work/gfig/smoke-mA/captions.md" && grep -q "^Device: NVIDIA H200" "$work/gfig/smoke-mB/captions.md" &&
    ok "gathered: each suite captioned with its own device" || bad "gathered: suite captions name the wrong device"
[ "$(cut -d, -f2 "$work/gfig/compare-devices/compare-devices.csv" | tail -n +2 | sort -u | paste -sd' ')" = \
  "nvidia-h200-mA nvidia-h200-mB pocl-cpu-mA" ] && ok "gathered: compare-devices.csv keeps 3 devices apart" ||
    bad "gathered: compare-devices.csv devices"
grep -q "^| NVIDIA H200 (nvidia-h200-mA) |" "$work/gfig/compare-devices/compare-devices.md" &&
  grep -q "^| NVIDIA H200 (nvidia-h200-mB) |" "$work/gfig/compare-devices/compare-devices.md" &&
  grep -q "^| pthread-AMD EPYC 7B13 | " "$work/gfig/compare-devices/compare-devices.md" &&
    ok "gathered: the same device model on two machines named apart in compare-devices.md" ||
    { bad "gathered: compare-devices.md names"; head -5 "$work/gfig/compare-devices/compare-devices.md"; }

# ---- issue 23: same-name inputs, --restart leftovers, quiet gnuplot -----------------------------------
fresh
mkdir -p "$work/s1" "$work/ref"; cp -r "$work/r/smoke" "$work/s1/smoke"; cp -r "$work/r/smoke" "$work/ref/smoke"
# a run moved aside by --restart, with a broken metrics.csv: must be ignored
mkdir -p "$work/s1/smoke/uniform-aug/seed-1.old-20261201T000000"
cp "$work/s1/smoke/uniform-aug/seed-1/manifest.json" "$work/s1/smoke/uniform-aug/seed-1.old-20261201T000000/"
echo "garbage" >"$work/s1/smoke/uniform-aug/seed-1.old-20261201T000000/metrics.csv"
out=$(bash "$mk" "$work/s1/smoke" "$work/ref/smoke" -o "$work/cmp" --formats png 2>&1); rc=$?
[ $rc -eq 0 ] && ok "two suites named smoke: exit 0" || { bad "two suites named smoke: exit $rc"; echo "$out" | tail -5; }
[ -s "$work/cmp/s1-smoke/summary.md" ] && [ -s "$work/cmp/ref-smoke/summary.md" ] && [ ! -e "$work/cmp/smoke" ] &&
    ok "two suites named smoke get separate folders (s1-smoke, ref-smoke)" || { bad "same-name outputs"; ls "$work/cmp"; }
grep -q "seed-1.old-20261201T000000: not a seed-<k> folder" <<<"$out" && grep -q "^uniform-aug,2," "$work/cmp/s1-smoke/summary.csv" &&
    ok "seed-1.old-<time> ignored" || { bad "old folder not ignored"; echo "$out" | tail -5; }
grep -qi "gnuplot" <<<"$out" && { bad "gnuplot output reached the terminal"; grep -i gnuplot <<<"$out" | head -3; } || ok "no gnuplot message on the terminal"
grep -q "^| configuration | seeds | last test acc. % (min–max) | best test acc. % |" "$work/cmp/s1-smoke/summary.md" &&
    ok "summary names last and best" || bad "summary header"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
