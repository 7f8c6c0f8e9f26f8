#!/bin/bash
# The README test must fail when the program changes and the README does not: run readme_test.sh
# against an isbench whose help gained an option, a command and a preset (a wrapper around the
# real one), and against a README that lost a selector form; each must fail naming what is missing.
# Usage: readme_drift_test.sh PATH/TO/isbench SOURCE_DIR
set -u
isb=$1; src=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
expect_fail() { # name, regex, readme_test args...
  local name=$1 re=$2 out rc; shift 2
  out=$(bash "$src/tests/readme_test.sh" "$@" 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -q -E -- "$re" <<<"$out"; then echo "ok   $name"; pass=$((pass+1))
  else echo "FAIL $name: exit $rc, output lacks /$re/"; echo "$out" | grep -v '^ok' | head; fail=$((fail+1)); fi
}
cat >"$tmp/isbench" <<WRAP
#!/bin/bash
if [ "\$*" = "train --help" ]; then "$isb" train --help; echo "  --new-knob X     an option the README does not list"; exit 0; fi
if [ "\$*" = "--help" ]; then "$isb" --help | sed 's/^commands:/commands:\n  frobnicate a command the README does not list/'; exit 0; fi
if [ "\$*" = "frobnicate --help" ]; then echo "usage: isbench frobnicate [--widget W]"; exit 0; fi
if [ "\$*" = "configs --presets" ]; then "$isb" configs --presets; echo "huge"; exit 0; fi
exec "$isb" "\$@"
WRAP
chmod +x "$tmp/isbench"
expect_fail "an option added to a command's help" "isbench train: its --help defines --new-knob, README.md's 'Options of each command' line for train does not list it" "$tmp/isbench" "$src/README.md"
expect_fail "a command added to isbench --help" "commands: isbench --help has 'frobnicate', README.md's command table \\(## Commands\\) does not" "$tmp/isbench" "$src/README.md"
expect_fail "a preset added" "presets: isbench configs --presets has 'huge', README.md's 'Presets:' paragraph does not" "$tmp/isbench" "$src/README.md"
sed 's/^| `PLATFORM:DEVICE` |/| PLATFORM-DEVICE |/' "$src/README.md" >"$tmp/README.md"
expect_fail "a selector form dropped from the README" "device selector forms: isbench --help's 'Device choice:' line has 'PLATFORM:DEVICE', README.md's selector table does not" "$isb" "$tmp/README.md"
out=$(bash "$src/tests/readme_test.sh" "$isb" "$src/README.md" 2>&1) && { echo "ok   the real README passes"; pass=$((pass+1)); } ||
  { echo "FAIL the real README does not pass"; echo "$out" | grep -v '^ok'; fail=$((fail+1)); }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
