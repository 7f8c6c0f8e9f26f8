#!/bin/bash
# The command-line contract: exit codes and messages for good and bad input.
# Usage: cli_test.sh PATH/TO/isbench
set -u
isb=$1
pass=0; fail=0
check() { # name, expected exit code, regex expected in stdout+stderr, command...
  local name=$1 want_rc=$2 want_re=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne "$want_rc" ]; then echo "FAIL $name: exit $rc, expected $want_rc"; echo "$out" | head -20; fail=$((fail+1)); return; fi
  if ! grep -q -E -- "$want_re" <<<"$out"; then echo "FAIL $name: output lacks /$want_re/"; echo "$out" | head -20; fail=$((fail+1)); return; fi
  echo "ok   $name"; pass=$((pass+1))
}
echo "device under test: $("$isb" devices 2>&1 | grep -E "<- selected|error" || true)"
check "version"                0 "^isbench [0-9]+\.[0-9]+\.[0-9]+ \(commit "  "$isb" --version
check "help"                   0 "devices"                                     "$isb" --help
check "no command"             2 "usage"                                       "$isb"
check "unknown command"        2 "unknown command 'frobnicate'"                "$isb" frobnicate
check "devices lists default"  0 "<- selected"                                 "$isb" devices
check "devices --help"         0 "usage: isbench devices"                      "$isb" devices --help
check "devices bad option"     2 "Try 'isbench devices --help'"                "$isb" devices --bogus
check "device out of range"    1 "no OpenCL device matches '99:0'.*|Available devices" "$isb" devices --device 99:0
check "device out of range lists devices" 1 "^  .* [0-9]+:[0-9]+  "            "$isb" devices --device 99:0
check "device name no match"   1 "no OpenCL device matches 'no-such-device'"   "$isb" devices --device no-such-device
check "bad env device still lists" 0 "warning: ISBENCH_DEVICE=no-such-env-device selects no device" env ISBENCH_DEVICE=no-such-env-device "$isb" devices
check "bad env device marks default" 0 "<- selected"                         env ISBENCH_DEVICE=no-such-env-device "$isb" devices
check "bad env device named"   1 "ISBENCH_DEVICE=no-such-env-device \(from the environment\): no OpenCL device matches" \
      env ISBENCH_DEVICE=no-such-env-device "$isb" step --width 2 --image-size 8 --out /dev/null
check "--device beats bad env" 0 "^\* 0:0"                                    env ISBENCH_DEVICE=no-such-env-device "$isb" devices --device 0:0
check "device platform part no match" 1 "no OpenCL device matches 'no-such-platform:'" "$isb" devices --device no-such-platform:
# PLATFORM:DEVICE naming the last listed device by its platform's and its own name
last_platform=$("$isb" devices | sed -n 's/^Platform [0-9]*: \(.*\) (.*/\1/p' | tail -1)
last_device=$("$isb" devices | sed -n 's/^[* ] [0-9]*:[0-9]*  //p' | sed 's/ *<- selected$//' | tail -1)
last_device_re=$(sed 's/[][().*+?^$|{}\\]/\\&/g' <<<"$last_device")  # "Intel(R) Xeon(R)" as a regex
check "device platform-qualified"  0 "^\\* [0-9]+:[0-9]+  $last_device_re +<- selected" "$isb" devices --device "$last_platform:$last_device"
# Two implementations with the same names (PoCL registered twice): a name matching both is refused
# with the list of matches; P:D and PLATFORM:DEVICE still choose.
if [ -r /etc/OpenCL/vendors/pocl.icd ]; then
  twice=$(mktemp -d)
  cp /etc/OpenCL/vendors/pocl.icd "$twice/a.icd"; cp /etc/OpenCL/vendors/pocl.icd "$twice/b.icd"
  check "ambiguous name refused"  1 "'pthread' is ambiguous"                     env OCL_ICD_VENDORS=$twice "$isb" devices --device pthread
  check "ambiguous lists matches" 1 "^    1:0  pthread"                          env OCL_ICD_VENDORS=$twice "$isb" devices --device pthread
  check "indices choose among twins" 0 "\\* 1:0 .*<- selected"                   env OCL_ICD_VENDORS=$twice "$isb" devices --device 1:0
  check "ambiguous platform part refused" 1 "is ambiguous"                    env OCL_ICD_VENDORS=$twice "$isb" devices --device portable:
  rm -r "$twice"
fi
# No OpenCL platform at all: point the ICD loader at an empty vendor directory.
empty=$(mktemp -d)
check "no platform"            1 "no OpenCL platform found.*pocl-opencl-icd"   env OCL_ICD_VENDORS=$empty "$isb" devices
rmdir "$empty"
# CIFAR-10 for the training cases: the real one beside the repository, else a synthetic folder (a
# clean CI machine), so the cases run either way.
cifar_dir="$(dirname "$0")/../../shared/datasets/cifar-10-batches-bin"
if [ ! -f "$cifar_dir/test_batch.bin" ]; then
  cifar_tmp=$(mktemp -d); trap 'rm -rf "$cifar_tmp"' EXIT
  cifar_dir=$cifar_tmp/cifar-10-synthetic; export ISBENCH_DATA_ANY_SIZE=1
  "$(dirname "$0")/make-synthetic-cifar.sh" "$cifar_dir" 120 120
  echo "note: real CIFAR-10 not found: training cases use synthetic CIFAR-10"
fi
for t in $(ls "$(dirname "$0")"/cli_*.d/*.sh 2>/dev/null); do source "$t"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
