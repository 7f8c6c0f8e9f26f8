#!/bin/bash
# isbench tune with a tiny budget (issue 22): a candidate whose results are wrong (the test hook
# --test-bad-candidate corrupts one output value of a candidate, as a miscompiled parameter set
# would) is rejected before it is timed and counted; an entry it writes (with a larger budget) is
# tied to this driver and matches this device at device level; bad options are refused.
# Usage: tune_test.sh PATH/TO/isbench
set -u
isb=$1
work=$(mktemp -d /tmp/isbench-tune-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
echo "device under test: $("$isb" devices 2>&1 | grep -E "<- selected|error" || true)"

# Width 4, batch 8: the step's 30-odd GEMM shapes in milliseconds. The corrupted candidate reuses the
# kernels in force (no build); the budget of 0 s then ends the search before the first real
# candidate (its kernel builds take a minute on a loaded 2-core machine), unless
# ISBENCH_TUNE_TEST_BUDGET is raised to exercise the entry it writes too.
out=$("$isb" tune --width 4 --batch 8 --budget "${ISBENCH_TUNE_TEST_BUDGET:-0}" --test-bad-candidate --out "$work/entry.json" 2>&1); rc=$?
echo "$out" | cut -c1-240
[ $rc -eq 0 ] && ok "tune exits 0" || bad "tune exit $rc"
rejected=$(grep -E "REJECTED, wrong results \(.* C\[0\]\[0\] = .*, reference " <<<"$out" | head -1)
[ -n "$rejected" ] && ok "the corrupted candidate is rejected, naming the wrong value" || bad "no rejected candidate in the output"
grep -qE "[0-9]+ candidates, [1-9][0-9]* rejected for wrong results" <<<"$out" && ok "rejections are counted" ||
    bad "the summary does not count the rejection"
grep -qE "^tune: .*#1 +as found .*REJECTED.*\| best nan ms" <<<"$out" &&
    ok "the rejected candidate was not timed (no best after it)" || bad "the rejected candidate looks timed"
if [ -f "$work/entry.json" ]; then
    grep -q '"exact"' "$work/entry.json" && grep -q '"driver_version"' "$work/entry.json" &&
        ok "the entry is tied to this driver and CLBlast version" || bad "entry lacks \"exact\""
    dev=$(ISBENCH_TUNING_DIR="$work" "$isb" devices 2>&1 | grep -A8 "<- selected" | grep "CLBlast tuning:")
    grep -q "entry.json at device level" <<<"$dev" && ok "isbench devices names the entry and its level" ||
        bad "isbench devices: $dev"
else
    echo "note: the budget ended before a candidate was timed (a loaded machine): no entry to check"
fi
grep -q "untuned (CLBlast defaults): ISBENCH_TUNING_DIR=none" <<<"$(ISBENCH_TUNING_DIR=none "$isb" devices 2>&1)" &&
    ok "ISBENCH_TUNING_DIR=none: devices says untuned" || bad "ISBENCH_TUNING_DIR=none not shown as untuned"

out=$("$isb" tune --budget -1 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "option --budget must be in" <<<"$out" && ok "--budget -1 refused" || bad "--budget -1: $rc $out"
out=$("$isb" tune --width 0 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "option --width must be in" <<<"$out" && ok "--width 0 refused" || bad "--width 0: $rc $out"
out=$("$isb" tune --help 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "isbench/tuning/" <<<"$out" && ok "--help names the user folder" || bad "--help"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
