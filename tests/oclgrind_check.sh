#!/bin/bash
# Runs a test program under Oclgrind (an OpenCL device simulator) with data-race and
# uninitialised-value detection, and fails if the program fails or Oclgrind reports any error.
# Usage: oclgrind_check.sh OCLGRIND TEST_PROGRAM [ARGS...]
set -u
oclgrind=$1; shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
unset ISBENCH_DEVICE   # under Oclgrind its simulated device is the only one
"$oclgrind" --data-races --uninitialized --log "$log" "$@"
rc=$?
if [ -s "$log" ]; then
  echo "---- Oclgrind reported: ----"
  cat "$log"
  if grep -q -E 'Invalid|Data race|Uninitiali[sz]ed|error|Error' "$log"; then
    echo "FAIL: Oclgrind found errors in the kernels above"
    exit 1
  fi
fi
if [ $rc -ne 0 ]; then echo "FAIL: test exited with $rc under Oclgrind"; exit $rc; fi
echo "Oclgrind: no invalid accesses, data races or uninitialised reads reported"
exit 0
