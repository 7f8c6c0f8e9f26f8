#!/bin/bash
# Shows that the Oclgrind test variants can fail: runs a probe with an out-of-bounds read through
# oclgrind_check.sh and expects a failure that names the invalid read.
set -u
check=$1; oclgrind=$2; probe=$3
out=$("$check" "$oclgrind" "$probe" 2>&1); rc=$?
echo "$out"
if [ $rc -ne 0 ] && grep -q "Invalid read" <<<"$out"; then
  echo "1 passed, 0 failed: oclgrind_check.sh rejected the out-of-bounds read"
  exit 0
fi
echo "0 passed, 1 failed: oclgrind_check.sh did not report the out-of-bounds read (exit $rc)"
exit 1
