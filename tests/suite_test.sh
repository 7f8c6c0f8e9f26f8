#!/bin/bash
# The suite as a matrix of runs (issue 14): --list, --shard I/N, --task K and --devices, checked
# against one sequential `isbench suite`; bad shard/task/device input fails without touching results.
# usage: suite_test.sh PATH/TO/isbench
# Uses CIFAR-10 ($ISBENCH_DATA, else ../shared/datasets/cifar-10-batches-bin next to the repository),
# else a synthetic CIFAR-10 folder (tests/make-synthetic-cifar.sh):
# Device: $ISBENCH_DEVICE (default cpu, i.e. PoCL).
set -u
isb=$1
here=$(cd "$(dirname "$0")" && pwd)
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
check() { # name, expected exit code, regex expected in stdout+stderr, command...
  local name=$1 want_rc=$2 want_re=$3 out rc; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want_rc" ]; then bad "$name: exit $rc, expected $want_rc"; echo "$out" | tail -20; return; fi
  grep -q -E -- "$want_re" <<<"$out" || { bad "$name: output lacks /$want_re/"; echo "$out" | tail -20; return; }
  ok "$name"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dev=${ISBENCH_DEVICE:-cpu}
data=${ISBENCH_DATA:-$here/../../shared/datasets/cifar-10-batches-bin}
if [ ! -f "$data/test_batch.bin" ]; then # a clean machine: the comparisons run on synthetic CIFAR-10
  data=$tmp/cifar-10-synthetic; export ISBENCH_DATA_ANY_SIZE=1 # its files are smaller than CIFAR-10's
  "$here/make-synthetic-cifar.sh" "$data" 120 120
  echo "note: real CIFAR-10 not found: the runs use synthetic CIFAR-10 in $data"
fi
# Two configurations that differ (augmentation, running-loss scores) x 2 seeds, one data epoch each.
matrix=(--preset smoke --configs uniform-aug,running-loss-noaug --seeds 2 --max-epochs 1 --data "$data")

# ---- the matrix: --list and shards ---------------------------------------------------------------
"$isb" suite "${matrix[@]}" --out "$tmp/r" --list >"$tmp/list" 2>&1
if [ "$(head -1 "$tmp/list")" = "$(printf 'index\tconfig\tseed\tfolder\tstatus')" ] && [ "$(wc -l <"$tmp/list")" -eq 5 ] &&
   grep -qP "^3\trunning-loss-noaug\t2\t$tmp/r/smoke/running-loss-noaug/seed-2\tnew$" "$tmp/list" && [ ! -e "$tmp/r" ]; then
  ok "list: 4 runs, index/config/seed/folder/status, nothing created"
else bad "list"; cat "$tmp/list"; fi
for n in 1 3 4 5; do # the shards of N partition the matrix: each run exactly once
  for ((i = 0; i < n; i++)); do "$isb" suite "${matrix[@]}" --out "$tmp/r" --list --shard "$i/$n" | tail -n +2; done |
    sort -n >"$tmp/shard-lists"
  if diff <(tail -n +2 "$tmp/list") "$tmp/shard-lists" >/dev/null; then ok "shards of $n cover the matrix exactly once"
  else bad "shards of $n"; diff <(tail -n +2 "$tmp/list") "$tmp/shard-lists"; fi
done
check "task lists one run"        0 "^2	uniform-aug	2	"             "$isb" suite "${matrix[@]}" --list --task 2

# ---- bad input: clear error, exit 2 (1 for a device that is not there), results untouched ---------
mkdir -p "$tmp/keep/smoke/uniform-aug/seed-1" && echo precious >"$tmp/keep/smoke/uniform-aug/seed-1/metrics.csv"
before=$(cd "$tmp/keep" && find . -type f -exec md5sum {} + | sort)
kept=("${matrix[@]}" --out "$tmp/keep")
check "shard index out of range"  2 "shard index 2 is out of range: shards of 2 are 0/2 .. 1/2" "$isb" suite "${kept[@]}" --shard 2/2
check "shard does not parse"      2 "--shard takes I/N .*got 'two'"             "$isb" suite "${kept[@]}" --shard two
check "shard count zero"          2 "number of shards N must be at least 1"     "$isb" suite "${kept[@]}" --shard 0/0
check "shard trailing garbage"    2 "--shard takes I/N"                          "$isb" suite "${kept[@]}" --shard 1/2x
check "task out of range"         2 "--task 4 is out of range: this suite has 4 runs, 0..3" "$isb" suite "${kept[@]}" --task 4
check "task and shard"            2 "--task and --shard exclude each other"     "$isb" suite "${kept[@]}" --task 1 --shard 0/2
check "jobs without devices"      2 "--jobs needs --devices"                    "$isb" suite "${kept[@]}" --jobs 2
check "devices with device"       2 "drop --device"                              "$isb" suite "${kept[@]}" --devices "$dev" --device "$dev"
check "devices unknown device"    1 "--devices $dev,no-such-device: no OpenCL device matches 'no-such-device'.*Available devices" \
                                                                                 "$isb" suite "${kept[@]}" --devices "$dev,no-such-device"
after=$(cd "$tmp/keep" && find . -type f -exec md5sum {} + | sort)
[ "$before" = "$after" ] && ok "bad input left the results folder untouched" || bad "bad input changed $tmp/keep"

# ---- same results: one suite, two shards at once, one process per run on two devices -------------
run() { local name=$1; shift; "$isb" suite "${matrix[@]}" --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1; }
if run single --device "$dev"; then ok "single suite ran"; else bad "single suite failed"; tail "$tmp/single.log"; fi
run shards --device "$dev" --shard 0/2 & p0=$!
run shards --device "$dev" --shard 1/2 & p1=$!
wait $p0 && wait $p1 && ok "two shards at once ran" || { bad "a shard failed"; tail "$tmp/shards.log"; }
"$here/compare-results.sh" "$tmp/single/smoke" "$tmp/shards/smoke" && ok "two shards = one suite" || bad "two shards != one suite"
check "a finished shard is skipped" 0 "already holds this finished run: skipped" \
  "$isb" suite "${matrix[@]}" --out "$tmp/shards" --device "$dev" --shard 1/2
# --restart moves the selected run's folder aside (never deletes it) and runs it again: the same
# metrics as before, and the other runs untouched.
t1="$tmp/shards/smoke/uniform-aug/seed-2"
cp "$t1/metrics.csv" "$tmp/restart-before.csv"
check "suite --restart --task 2 reruns one run" 0 "uniform-aug +2 finished" \
  "$isb" suite "${matrix[@]}" --out "$tmp/shards" --device "$dev" --task 2 --restart --checkpoint-every 0
ls -d "$t1".old-* >/dev/null 2>&1 && cmp -s <(cut -d, -f1,2,4- "$tmp/restart-before.csv") <(cut -d, -f1,2,4- "$t1/metrics.csv") &&
  ok "--restart kept the old folder aside and reproduced its metrics" || bad "--restart: old folder or metrics"
rm -rf "$t1".old-*
# Two processes on one run folder (the run lock, src/results/run_lock.c): the second stops with a
# clear error naming the first, and the first finishes its run. (3 data epochs: the first must still
# be running when the second has loaded its data.)
locked=("${matrix[@]}" --max-epochs 3 --out "$tmp/locked" --device "$dev" --task 1)
"$isb" suite "${locked[@]}" >"$tmp/locked-first.log" 2>&1 & first=$!
for _ in $(seq 600); do grep -qs '"status": "running"' "$tmp/locked/smoke/running-loss-noaug/seed-1/manifest.json" && break; sleep 0.1; done
[ "$("$isb" suite "${locked[@]}" --list | tail -1 | cut -f5)" = running ] && ok "--list: a live run is running" ||
  bad "--list of a live run: $("$isb" suite "${locked[@]}" --list | tail -1)"
check "a second process on a run folder in use" 2 "is being written by another isbench process \(PID and host: $first " \
  "$isb" suite "${locked[@]}"
wait $first && grep -q '"status": "finished"' "$tmp/locked/smoke/running-loss-noaug/seed-1/manifest.json" &&
  grep -q "^3," "$tmp/locked/smoke/running-loss-noaug/seed-1/metrics.csv" &&
  ok "the first process finished its run" || { bad "the locked run"; tail "$tmp/locked-first.log"; }
# A run killed without a chance to checkpoint (SIGKILL) keeps "running" in its manifest, but no
# one holds its lock: --list and the parallel status line show it as interrupted.
killed=("${matrix[@]}" --max-epochs 3 --out "$tmp/killed" --device "$dev" --task 0)
"$isb" suite "${killed[@]}" >"$tmp/killed.log" 2>&1 & victim=$!
for _ in $(seq 600); do grep -qs '"status": "running"' "$tmp/killed/smoke/uniform-aug/seed-1/manifest.json" && break; sleep 0.1; done
kill -KILL $victim; wait $victim 2>/dev/null
[ "$("$isb" suite "${killed[@]}" --list | tail -1 | cut -f5)" = interrupted ] && ok "--list: a killed run is interrupted" ||
  bad "--list of a killed run: $("$isb" suite "${killed[@]}" --list | tail -1)"
# --devices, stopped once its first runs are under way (SIGINT to the parent only: it must ask its
# running children to checkpoint and exit 130), then run again to the end: it resumes them. Which
# runs are still running at the SIGINT depends on the machine's load (a loaded CI machine finished
# run 0 before run 1 had started), so the expected statuses come from the parent's own log.
"$isb" suite "${matrix[@]}" --out "$tmp/parallel" --devices "$dev,$dev" --jobs 2 >"$tmp/parallel.log" 2>&1 & parent=$!
for _ in $(seq 600); do grep -qs '"status": "running"' "$tmp/parallel/smoke/running-loss-noaug/seed-1/manifest.json" && break; sleep 0.1; done
kill -INT $parent; wait $parent; rc=$?
asked=$(grep -oE "stop requested: asking the [0-9]+ running runs? to save a checkpoint" "$tmp/parallel.log" | grep -oE "[0-9]+")
stopped=$(grep -cE '^\[suite\] run [0-3] \(.*\) on .*: interrupted \(exit 130\)' "$tmp/parallel.log")
saved=$(grep -cE '^\[.*\] interrupted \(SIGTERM\) at step [0-9]+.*; checkpoint ' "$tmp/parallel.log")
[ $rc -eq 130 ] && [ "${asked:-0}" -ge 1 ] && [ "$saved" -ge 1 ] && [ "$saved" -le "$stopped" ] && [ "$stopped" -le "$asked" ] &&
  ok "--devices: SIGINT stops the running runs with checkpoints, exit 130 ($saved saved, $stopped of $asked asked)" ||
  { bad "--devices SIGINT: exit $rc, asked ${asked:-none}, interrupted $stopped, checkpoints $saved"; tail -20 "$tmp/parallel.log"; }
mv "$tmp/parallel.log" "$tmp/parallel-stopped.log"
# A run the parent started just before the SIGINT may die of the SIGTERM before its handlers are
# installed: the parent books it as interrupted, but nothing was written, so --list says new.
expected=status
for i in 0 1 2 3; do
  line=$(grep -E "^\[suite\] run $i \(" "$tmp/parallel-stopped.log")
  case $line in
    *": finished (exit 0)"*) expected+=" finished" ;;
    *": interrupted (exit 130)"*) grep -qE "^\[.* \($((i + 1))/4\)\] interrupted \(SIGTERM\)" "$tmp/parallel-stopped.log" &&
                                 expected+=" interrupted" || expected+=" (interrupted|new)" ;;
    "") expected+=" new" ;;
    *) expected+=" failed" ;;
  esac
done
[[ "$("$isb" suite "${matrix[@]}" --out "$tmp/parallel" --list | cut -f5 | paste -sd' ')" =~ ^$expected$ ]] &&
  ok "--list shows each run's status ($expected)" || { bad "--list status, expected $expected"; "$isb" suite "${matrix[@]}" --out "$tmp/parallel" --list; }
if run parallel --devices "$dev,$dev" --jobs 2; then ok "--devices $dev,$dev --jobs 2 ran"
else bad "--devices run failed"; tail -20 "$tmp/parallel.log"; fi
grep -q "resuming from .*checkpoint.isbc" "$tmp/parallel.log" && ok "--devices resumed the stopped runs" ||
  { bad "--devices did not resume"; cat "$tmp/parallel.log"; }
"$here/compare-results.sh" "$tmp/single/smoke" "$tmp/parallel/smoke" && ok "--devices = one suite" || bad "--devices != one suite"
grep -qE '^\[suite\] run [0-3] \(.*\) on .*: finished \(exit 0\)' "$tmp/parallel.log" &&
  grep -qE '^\[suite\] .* 4 of 4 runs done \(0 failed, 0 interrupted\), 0 running, 0 waiting' "$tmp/parallel.log" &&
  grep -qE '^\[running-loss-noaug seed 2 \(4/4\)\] finished' "$tmp/parallel.log" &&
  ok "--devices: one merged progress view (child lines whole, a line per finished run, status)" ||
  { bad "--devices progress view"; cat "$tmp/parallel.log"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
