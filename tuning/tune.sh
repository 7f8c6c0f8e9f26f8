#!/bin/sh
# Reproduces a tuning/<device>.json file with Debian's clblast-utils tuners (CLBlast's own tuners):
# runs each tuner on the conv-GEMM-like shape below with a random subset of configurations, keeps
# the best parameters of its first (fixed-set) phase, and writes the isbench tuning file
# (format: docs/clblast-tuning.md), which src/ocl/clblast_tuning.c applies at run time.
#
# usage: tuning/tune.sh [PLATFORM DEVICE [WORKDIR]]    (OpenCL indices as clinfo -l lists them)
# The file matches the device exactly (type > vendor > architecture > device, the key `isbench
# devices` prints); edit "match" to "default" at a level to share it more widely (see the docs).
# Needs: clblast-utils, clinfo, jq, a built isbench ($ISBENCH, default build/isbench). Takes ~10-20 min on a 2-core CPU. Tuner JSON files already in
# WORKDIR are reused (delete them to retune). Environment: FRACTION (default 4: a quarter of each
# fixed set), TUNE_M/N/K (default 2048 128 512: column-major m = B*H*W side, n = channels, k = Cin*9).
set -eu
P=${1:-0}
D=${2:-0}
WORK=${3:-${TMPDIR:-/tmp}/isbench-tune-$P-$D}
HERE=$(cd "$(dirname "$0")" && pwd)
FRACTION=${FRACTION:-4}
M=${TUNE_M:-2048} N=${TUNE_N:-128} K=${TUNE_K:-512}
for tool in clinfo jq clblast_tuner_xgemm; do
  command -v $tool >/dev/null || { echo "tune.sh: $tool not found: apt-get install clinfo jq clblast-utils" >&2; exit 1; }
done
mkdir -p "$WORK"
info() { clinfo --raw -d "$P:$D" | grep -m1 " $1 " | sed "s/^.*$1 *//"; }
NAME=$(info CL_DEVICE_NAME)
DRIVER=$(info CL_DRIVER_VERSION)
[ -n "$NAME" ] || { echo "tune.sh: no OpenCL device $P:$D (see clinfo -l)" >&2; exit 1; }
CLBLAST=$(dpkg-query -W -f '${Version}' libclblast1 2>/dev/null || echo unknown)
ISBENCH=${ISBENCH:-$HERE/../build/isbench}
# "CPU > AMD > haswell > pthread-haswell-AMD EPYC": the device's key as CLBlast's database forms it
KEY=$("$ISBENCH" devices --device "$P:$D" | sed -n '/<- selected/,/isbench:/s/.*CLBlast tuning key //p')
[ -n "$KEY" ] || { echo "tune.sh: cannot read the CLBlast key of $P:$D from $ISBENCH devices (build isbench or set ISBENCH)" >&2; exit 1; }

# run_phase1 TUNER JSON ARGS...: runs TUNER until its phase-1 JSON exists, then stops it (the later
# random-search phases explore tens of thousands of configurations: hours on a CPU).
run_phase1() {
  tuner=$1 json=$2
  shift 2
  if [ -s "$WORK/$json" ]; then echo "reusing $WORK/$json"; return; fi
  echo "running: $tuner -platform $P -device $D $*  (log: $WORK/$tuner.log)"
  (cd "$WORK" && exec nice -n 10 "$tuner" -platform "$P" -device "$D" "$@" >"$tuner.log" 2>&1) &
  pid=$!
  while kill -0 $pid 2>/dev/null && [ ! -s "$WORK/$json" ]; do sleep 2; done
  sleep 1 # the tuner writes the file in one go; let it close it
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  [ -s "$WORK/$json" ] || { echo "tune.sh: $tuner wrote no $json (see $WORK/$tuner.log)" >&2; exit 1; }
}

XGEMM_ARGS="-precision 32 -m $M -n $N -k $K -fraction $FRACTION -runs 1"
# XgemmDirect (CLBlast's kernel below XGEMM_MIN_INDIRECT_SIZE^3 = 704^3 multiply-adds, i.e. every
# width-16 conv GEMM) is deliberately NOT tuned: the tuner's winners (m 8192 n 32 k 288 and
# 256^3) ran the real conv GEMM mix slower than CLBlast's defaults (docs/clblast-tuning.md).
PAD_ARGS="-precision 32 -m 1024 -n 1024 -runs 1"
run_phase1 clblast_tuner_xgemm clblast_xgemm_1_32.json $XGEMM_ARGS
run_phase1 clblast_tuner_copy_pad clblast_pad_32.json $PAD_ARGS
run_phase1 clblast_tuner_transpose_pad clblast_padtranspose_32.json $PAD_ARGS

# entry KERNEL ARGS TUNER JSON...: one "kernels" element, the fastest result among the tuner's
# phase files; PRECISION is dropped (it is the entry's precision)
entry() {
  kernel=$1 args=$2 tuner=$3
  shift 3
  (cd "$WORK" && jq -s --arg kernel "$kernel" --arg tuner "$tuner $args" 'min_by(.best_time|tonumber) |
      {kernel: $kernel, precision: 32, tuner: $tuner,
       shape: {m: (.arg_m|tonumber? // null), n: (.arg_n|tonumber? // null), k: (.arg_k|tonumber? // null)},
       best_ms: (.best_time|tonumber),
       parameters: (.best_parameters | split(" ") | map(split("=") | {key: .[0], value: (.[1]|tonumber)})
                    | from_entries | del(.PRECISION))}' "$@")
}
SLUG=$(printf '%s-%s' "$NAME" "$DRIVER" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9.]\{1,\}/-/g; s/^-//; s/-$//')
OUT="$HERE/$SLUG.json"
{
  entry Xgemm "$XGEMM_ARGS" clblast_tuner_xgemm clblast_xgemm_1_32.json
  entry Pad "$PAD_ARGS" clblast_tuner_copy_pad clblast_pad_32.json
  entry Padtranspose "$PAD_ARGS" clblast_tuner_transpose_pad clblast_padtranspose_32.json
} | jq -s --arg name "$NAME" --arg driver "$DRIVER" --arg clblast "$CLBLAST" --arg key "$KEY" \
      --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg cmd "tuning/tune.sh $P $D (FRACTION=$FRACTION)" \
      '($key | split(" > ")) as $k |
       {format: "isbench-clblast-tuning/2",
        match: {type: $k[0], vendor: $k[1], architecture: $k[2], device: ($k[3:] | join(" > "))},
        tuned_on: {device: $name, driver_version: $driver}, clblast_version: $clblast, tuned_at: $date, command: $cmd,
        note: "best of a random 1/FRACTION subset of each tuner'"'"'s fixed-set phase (phase 1)",
        kernels: .}' > "$OUT.tmp"
# CLBlast before 1.6.3 pads wrongly for GEMMK=1 with MWG != NWG (isbench refuses such a file)
if jq -e '.kernels[] | select(.kernel == "Xgemm" and .parameters.GEMMK == 1 and .parameters.MWG != .parameters.NWG)' \
     "$OUT.tmp" >/dev/null && dpkg --compare-versions "${CLBLAST%%-*}" lt 1.6.3 2>/dev/null; then
  echo "tune.sh: the best Xgemm has GEMMK=1 with MWG != NWG, which CLBlast $CLBLAST computes wrongly;" \
       "rerun (another random subset) or set GEMMK=0 / MWG=NWG by hand in $OUT.tmp" >&2
  exit 1
fi
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
