#!/bin/bash
# A throw-away one-node Slurm cluster for tests and trying the scripts: Debian's slurmctld + slurmd
# (Slurm 22.05) and munged, no systemd, everything (key, sockets, state, logs, slurm.conf) in DIR.
# Must run as root (slurmd starts jobs as their users; munged runs as the munge user).
#
#   scripts/slurm/local-cluster.sh start DIR   # prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm/local-cluster.sh stop DIR    # cancels its jobs, stops the daemons it started (by PID)
#
# Packages: slurmctld slurmd slurm-client munge (scripts/install-deps.sh installs them).
# Ports: ISB_SLURM_PORT (default 16817) for slurmctld and the next one for slurmd.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "local-cluster: $*" >&2; exit 1; }

# Whether a process runs (an exited daemon may stay a zombie where no init reaps it).
alive() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ $st != Z* ]]; }
stop_pidfile() { # name pidfile: TERM, wait up to 10 s, then KILL
    local pid
    [ -s "$2" ] || return 0
    pid=$(cat "$2")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do alive "$pid" || return 0; sleep 0.1; done
    echo "local-cluster: $1 (pid $pid) did not stop on SIGTERM: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

if [ "$cmd" = stop ]; then
    [ -f "$dir/slurm.conf" ] || die "$dir holds no cluster started by this script"
    if [ -s "$dir/run/slurmctld.pid" ] && alive "$(cat "$dir/run/slurmctld.pid")"; then
        SLURM_CONF=$dir/slurm.conf timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    stop_pidfile slurmd "$dir/run/slurmd.pid"
    stop_pidfile slurmctld "$dir/run/slurmctld.pid"
    stop_pidfile munged "$dir/munge/munged.pid"
    exit 0
fi
[ "$cmd" = start ] || die "unknown command '$cmd' (start or stop)"
[ "$(id -u)" -eq 0 ] || die "must run as root (slurmd and munged need it)"
for p in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$p" >/dev/null || die "$p not found: install slurmctld slurmd slurm-client munge (scripts/install-deps.sh)"
done
id munge >/dev/null 2>&1 || die "no 'munge' user: install the munge package"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/munge/private" "$dir/state" "$dir/spool" "$dir/run" "$dir/log"
# munged (user munge) wants its socket folder open to all for execute, its key private.
chmod 755 "$dir" "$dir/munge"
runuser -u munge -- test -x "$dir/munge" ||
    die "the munge user cannot reach $dir: every folder above it must be open for execute (chmod o+x)"
chown -R munge:munge "$dir/munge" && chmod 700 "$dir/munge/private"
# A fresh key for this cluster only (munged refuses keys readable by others).
runuser -u munge -- dd if=/dev/urandom of="$dir/munge/private/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/private/munge.key"
runuser -u munge -- munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/private/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/private/munged.seed" ||
    die "munged did not start: $(tail -3 "$dir/munge/munged.log" 2>/dev/null)"

host=$(hostname -s)
port=${ISB_SLURM_PORT:-16817}
cat >"$dir/slurm.conf" <<CONF
# one-node test cluster written by scripts/slurm/local-cluster.sh
ClusterName=isbtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" || die "slurmd did not start: $(tail -5 "$dir/log/slurmd.log" 2>/dev/null)"
for _ in $(seq 150); do # up to 30 s for the node to register
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 0.2
done
die "the node did not come up (state '${state:-none}'); logs: $dir/log/slurmctld.log, $dir/log/slurmd.log"
