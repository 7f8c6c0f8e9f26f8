#!/bin/bash
# The suite on a real Slurm cluster (issue 14): a one-node cluster (scripts/slurm/local-cluster.sh:
# Debian's Slurm 22.05 + munge, no systemd) runs a small smoke matrix as a job array through
# scripts/slurm/submit.sh; one task is requeued mid-run (as on preemption) and must resume from its
# checkpoint; the figures job runs after the array; the results must equal a local `isbench suite`.
# The daemons started here are stopped (by PID) on exit.
# usage: slurm_test.sh PATH/TO/isbench SOURCE_DIR
# Needs root and the packages slurmctld slurmd slurm-client munge (scripts/install-deps.sh): without
# them the test FAILS. Uses CIFAR-10 ($ISBENCH_DATA or ../shared/datasets/cifar-10-batches-bin), else
# a synthetic CIFAR-10 folder (tests/make-synthetic-cifar.sh).
set -u
isb=$(readlink -f "$1"); src=$(cd "$2" && pwd)
pass=0; fail=0
ok() { echo "ok   $1 (${SECONDS} s)"; pass=$((pass+1)); }
bad() { echo "FAIL $1 (${SECONDS} s)"; fail=$((fail+1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
data=${ISBENCH_DATA:-$src/../shared/datasets/cifar-10-batches-bin}
[ "$(id -u)" -eq 0 ] || { bad "must run as root (slurmd, munged): not tested"; finish; }
for p in slurmctld slurmd sbatch scontrol munged gnuplot; do
  command -v $p >/dev/null || bad "$p not found: install slurmctld slurmd slurm-client munge gnuplot-nox (scripts/install-deps.sh)"
done
[ "$fail" -eq 0 ] || finish

tmp=$(mktemp -d)
chmod 755 "$tmp" # munged runs as the munge user
if [ ! -f "$data/test_batch.bin" ]; then # a clean machine: the array runs on synthetic CIFAR-10
  data=$tmp/cifar-10-synthetic; export ISBENCH_DATA_ANY_SIZE=1 # its files are smaller than CIFAR-10's
  "$src/tests/make-synthetic-cifar.sh" "$data" 100 100
  echo "note: real CIFAR-10 not found: the runs use synthetic CIFAR-10 in $data"
fi
cluster=$tmp/cluster
cleanup() { "$src/scripts/slurm/local-cluster.sh" stop "$cluster" >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
export ISB_SLURM_PORT=$((20000 + $$ % 20000 * 2))
t0=$SECONDS
if "$src/scripts/slurm/local-cluster.sh" start "$cluster" >"$tmp/cluster.log" 2>&1; then
  export SLURM_CONF=$cluster/slurm.conf; ok "one-node cluster up in $((SECONDS - t0)) s"
else bad "cluster did not start"; cat "$tmp/cluster.log"; finish; fi

# 2 configurations x 2 seeds, 12 data epochs of 128 images in batches of 32 (long enough on a quiet
# machine for the signals below to reach running tasks; several steps to stop
# between, little to compute); the local reference runs while the array does.
matrix=(--preset smoke --configs running-loss-noaug,uniform-aug --seeds 2 --max-epochs 12 --patience 100 --train-subset 128
        --test-subset 50 --batch 32 --data "$data")
"$isb" suite "${matrix[@]}" --out "$tmp/local" >"$tmp/local.log" 2>&1 & local_pid=$!
cd "$tmp" || finish
if "$src/scripts/slurm/submit.sh" --isbench "$isb" --max-parallel 2 --logs "$tmp/logs" \
     -- "${matrix[@]}" --out "$tmp/slurm" >"$tmp/submit.log" 2>&1; then
  read -r array_job fig_job < <(tail -1 "$tmp/submit.log")
  ok "submit.sh: array job $array_job, figures job $fig_job"
else bad "submit.sh failed"; cat "$tmp/submit.log"; finish; fi
grep -q "4 runs of $tmp/slurm/smoke, at most 2 at once" "$tmp/submit.log" && ok "array sized from --list" ||
  { bad "array size"; cat "$tmp/submit.log"; }

wait_running() { # run folder: until its run is under way
  for _ in $(seq 600); do grep -qs '"status": "running"' "$1/manifest.json" && return; sleep 0.1; done
}
# "4 JobState=COMPLETED" or "3 JobState=COMPLETED 1 JobState=RUNNING": the states of a job's tasks
state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2 }'; }
release() { # task: Slurm holds a requeued job for a while (BeginTime): let it start again now
  for _ in $(seq 600); do
    case $(state "$1") in
      *PENDING*) scontrol update jobid="$1" StartTime=now 2>/dev/null && return ;;
      *COMPLETED*|*FAILED*|*CANCELLED*) return ;; # already ran again (or did not requeue: checked below)
    esac
    sleep 0.2
  done
  bad "the requeued task $1 did not come back: $(state "$1")"
}
# Once tasks 0 and 1 (2 at once) are under way: task 0 is requeued (preemption), task 1 gets Slurm's
# time-limit warning (--signal=B:USR1) in its batch script. Both must save a checkpoint and resume,
# task 1 by requeueing itself.
wait_running "$tmp/slurm/smoke/running-loss-noaug/seed-1"
wait_running "$tmp/slurm/smoke/uniform-aug/seed-1"
retry() { # command: slurmctld may answer "Job can not be altered now, try again later" for a moment
  for _ in $(seq 10); do "$@" 2>"$tmp/retry.err" && return 0; sleep 0.5; done
  cat "$tmp/retry.err"; return 1
}
# The warning goes to the batch shell's PID (from its log) as Slurm's --signal=B:USR1 sends it:
# Slurm 22.05's `scancel --batch --signal=USR1` on an array task delivers it but then reports a
# failure and sends it again for ~20 s.
batch_pid=$(sed -n 's/.*attempt 1, .*, pid \([0-9]*\), .*/\1/p' "$tmp/logs/isbench-suite-${array_job}_1.out")
[ -n "$batch_pid" ] && kill -USR1 "$batch_pid" && ok "task 1 warned of its time limit" || bad "no batch PID for task 1"
retry timeout 20 scontrol requeue "${array_job}_0" && ok "task 0 requeued while running" || bad "scontrol requeue ${array_job}_0"
release "${array_job}_0"
release "${array_job}_1"
echo "released the requeued tasks (${SECONDS} s): $(state "$array_job")"

for _ in $(seq 1500); do # up to 5 minutes on a loaded machine
  case $(state "$fig_job") in *COMPLETED*|*FAILED*|*CANCELLED*|*TIMEOUT*) break ;; esac; sleep 0.2
done
wait $local_pid && ok "local suite ran" || { bad "local suite failed"; tail "$tmp/local.log"; }
echo "array: $(state "$array_job"); figures: $(state "$fig_job"); $((SECONDS - t0)) s"
[ "$(state "$array_job")" = "4 JobState=COMPLETED" ] && ok "all 4 array tasks completed" ||
  { bad "array tasks: $(state "$array_job")"; tail -n 20 "$tmp"/logs/*; }
[ "$(state "$fig_job")" = "1 JobState=COMPLETED" ] && ok "figures job ran after the array" ||
  { bad "figures job: $(state "$fig_job")"; tail -n 20 "$tmp"/logs/isbench-figures-*; }
log0=$tmp/logs/isbench-suite-${array_job}_0.out
grep -q "attempt 2" "$log0" && grep -q "resuming from .*checkpoint.isbc" "$log0" &&
  ok "the requeued task resumed from its checkpoint" || { bad "requeued task did not resume"; cat "$log0"; }
log1=$tmp/logs/isbench-suite-${array_job}_1.out
grep -q "time limit near: checkpoint saved, requeueing" "$log1" && grep -q "attempt 2" "$log1" &&
  grep -q "resuming from .*checkpoint.isbc" "$log1" && ok "the task warned of its time limit requeued itself and resumed" ||
  { bad "time-limit requeue"; cat "$log1"; }
ls "$tmp"/logs/isbench-suite-"${array_job}"_{0,1,2,3}.out >/dev/null && ok "logs named %A_%a" || bad "task logs missing"
[ -s "$tmp/slurm/smoke/figures/fig3-test-accuracy-epoch.png" ] && [ -s "$tmp/slurm/smoke/figures/summary.csv" ] &&
  ok "figures drawn" || { bad "no figures in $tmp/slurm/smoke/figures"; ls "$tmp/slurm/smoke/figures"; }
"$src/tests/compare-results.sh" "$tmp/local/smoke" "$tmp/slurm/smoke" && ok "Slurm array results = local suite" ||
  bad "Slurm array results differ from the local suite"

# A failing array (no dataset where the tasks look): the figures job never runs, and nothing waits.
if "$src/scripts/slurm/submit.sh" --isbench "$isb" --logs "$tmp/logs-bad" -- --preset smoke --configs uniform-noaug \
     --seeds 2 --data "$tmp/no-data" --out "$tmp/bad" >"$tmp/submit-bad.log" 2>&1; then
  read -r bad_array bad_fig < <(tail -1 "$tmp/submit-bad.log")
  for _ in $(seq 300); do case $(state "$bad_fig") in *PENDING*|*RUNNING*|"") sleep 0.2 ;; *) break ;; esac; done
  [ "$(state "$bad_array")" = "2 JobState=FAILED" ] && [ "$(state "$bad_fig")" = "1 JobState=CANCELLED" ] &&
    [ ! -e "$tmp/bad/smoke/figures" ] && grep -qs "no-data" "$tmp/logs-bad/isbench-suite-${bad_array}_0.out" &&
    ok "failed tasks: the figures job is cancelled, not left waiting" ||
    bad "failed array: tasks $(state "$bad_array"), figures $(state "$bad_fig")"
else bad "submit.sh (failing array)"; cat "$tmp/submit-bad.log"; fi

"$src/scripts/slurm/local-cluster.sh" stop "$cluster" && ok "daemons stopped"
for f in "$cluster/run/slurmd.pid" "$cluster/run/slurmctld.pid" "$cluster/munge/munged.pid"; do
  [ -s "$f" ] && sed 's/.*) //' "/proc/$(cat "$f")/stat" 2>/dev/null | grep -qv '^Z' && bad "$(basename "$f" .pid) still running"
done
echo "slurm test: $((SECONDS - t0)) s"
finish
