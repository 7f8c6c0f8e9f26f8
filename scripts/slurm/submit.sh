#!/bin/bash
# Submits an isbench suite to Slurm: one array task per run of the matrix, at most P at once, and a
# figures job that starts when every task succeeded.
#
# usage: scripts/slurm/submit.sh [options] -- SUITE_OPTIONS...
#   SUITE_OPTIONS     what `isbench suite` takes: --preset P --seeds K [--configs ...] [--out DIR] ...
#   --max-parallel P  at most P tasks at once (--array=0-M%P; default 4)
#   --sbatch "ARGS"   more sbatch options for the runs, e.g. "--gpus=1 -p gpu -t 12:00:00"
#   --figures-sbatch "ARGS"  more sbatch options for the figures job, e.g. "-p cpu"
#   --logs DIR        folder of the Slurm output files (default slurm-logs; %A_%a per task)
#   --isbench PATH    the isbench program (default: build/isbench of this checkout, else isbench)
#   --dry-run         print the sbatch commands without submitting
# Prints the two job ids; the last line is "ARRAY_JOB FIGURES_JOB".
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
max_parallel=4; extra=""; fig_extra=""; logs=slurm-logs; dry=0
isbench=$here/build/isbench
[ -x "$isbench" ] || isbench=$(command -v isbench || echo isbench)
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "submit.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --max-parallel) [ $# -ge 2 ] || die "$1 needs a number"; max_parallel=$2; shift 2 ;;
        --sbatch) [ $# -ge 2 ] || die "$1 needs options"; extra=$2; shift 2 ;;
        --figures-sbatch) [ $# -ge 2 ] || die "$1 needs options"; fig_extra=$2; shift 2 ;;
        --logs) [ $# -ge 2 ] || die "$1 needs a folder"; logs=$2; shift 2 ;;
        --isbench) [ $# -ge 2 ] || die "$1 needs a path"; isbench=$2; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        *) die "unknown option '$1' (suite options go after --; see --help)" ;;
    esac
done
[ $# -gt 0 ] || die "no suite options: give them after --, e.g. -- --preset paper --seeds 3"
[[ $max_parallel =~ ^[1-9][0-9]*$ ]] || die "--max-parallel takes a number >= 1, got '$max_parallel'"
command -v sbatch >/dev/null || [ $dry -eq 1 ] || die "sbatch not found: run this on a Slurm login node"
isbench=$(command -v "$isbench" || true)
[ -n "$isbench" ] && [ -x "$isbench" ] || die "isbench not found: build it (cmake --build build) or pass --isbench PATH"
isbench=$(readlink -f "$isbench") # the jobs may start elsewhere

# The matrix: one line per run (header first); isbench checks the options and opens no device.
list=$("$isbench" suite "$@" --list) || exit $?
runs=$(($(printf '%s\n' "$list" | wc -l) - 1))
[ "$runs" -ge 1 ] || die "the suite has no runs"
first=$(printf '%s\n' "$list" | sed -n '2p' | cut -f4)
suite_dir=$(dirname "$(dirname "$first")")          # <out>/<suite>

# Each job gets the program and the checkout's folder; --parsable prints the job id.
env_export="--export=ALL,ISBENCH_BIN=$isbench,ISBENCH_ROOT=$here"
# shellcheck disable=SC2086 # $extra / $fig_extra are lists of sbatch options
array_cmd=(sbatch --parsable $env_export --array="0-$((runs - 1))%$max_parallel" --requeue
           --output="$logs/isbench-suite-%A_%a.out" $extra "$here/scripts/slurm/isbench-suite.sbatch" "$@")
fig_cmd=(sbatch --parsable $env_export --kill-on-invalid-dep=yes --output="$logs/isbench-figures-%j.out" $fig_extra)
if [ $dry -eq 1 ]; then
    echo "${array_cmd[*]}"
    echo "${fig_cmd[*]} --dependency=afterok:ARRAY_JOB $here/scripts/slurm/isbench-figures.sbatch $suite_dir"
    exit 0
fi
mkdir -p "$logs"
array_job=$("${array_cmd[@]}") || die "sbatch refused the array job (message above)"
array_job=${array_job%%;*}
fig_job=$("${fig_cmd[@]}" --dependency="afterok:$array_job" "$here/scripts/slurm/isbench-figures.sbatch" "$suite_dir") ||
    die "sbatch refused the figures job (message above); the array job $array_job is submitted"
fig_job=${fig_job%%;*}
echo "submitted: array job $array_job ($runs runs of $suite_dir, at most $max_parallel at once), logs $logs/isbench-suite-${array_job}_<task>.out"
echo "           figures job $fig_job after all of them succeed -> $suite_dir/figures"
echo "follow with: squeue -j $array_job,$fig_job    the matrix: $isbench suite $* --list"
echo "$array_job $fig_job"
