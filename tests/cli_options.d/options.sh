# The option contract every command shares (src/config/options.h): one definition per shared option,
# so the same help line everywhere; one message for a missing value; help as an outcome (exit 0),
# usage errors exit 2; global options before the command — sourced by cli_test.sh.

# The help lines of one option (its line and continuation lines) in a command's --help.
help_of() { # option, command...
  local opt=$1; shift
  "$isb" "$@" --help | awk -v o="  --$opt " 'index($0, o) == 1 { on = 1; print; next } on && /^   / { print; next } { on = 0 }'
}
same_help() { # option, command, command...
  local opt=$1 first=$2 ref; shift 2
  ref=$(help_of "$opt" $first)
  if [ -z "$ref" ]; then echo "FAIL help of --$opt: none in '$first --help'"; fail=$((fail+1)); return; fi
  for cmd in "$@"; do
    if [ "$(help_of "$opt" $cmd)" != "$ref" ]; then
      echo "FAIL help of --$opt: '$cmd --help' differs from '$first --help'"; diff <(echo "$ref") <(help_of "$opt" $cmd)
      fail=$((fail+1)); return
    fi
  done
  echo "ok   help of --$opt is the same in $first $*"; pass=$((pass+1))
}
same_help device devices train suite sample step tune
same_help data train suite data
same_help out train suite
same_help name train suite
same_help preset train suite
same_help checkpoint-every train suite
same_help restart train suite
same_help seed train sample step
bench="$(dirname "$isb")/bench/isbench-bench"
if [ -x "$bench" ]; then
  if [ "$("$bench" --help 2>/dev/null | awk 'index($0, "  --device ") == 1 { on = 1; print; next } on && /^   / { print; next } { on = 0 }')" = "$(help_of device devices)" ]; then
    echo "ok   help of --device is the same in isbench-bench"; pass=$((pass+1))
  else
    echo "FAIL help of --device: isbench-bench --help differs"; fail=$((fail+1))
  fi
fi

for cmd in devices data sample train suite step configs compare tune; do
  check "$cmd --help exits 0"     0 "^usage: isbench $cmd"                         "$isb" $cmd --help
  check "$cmd -h exits 0"         0 "^usage: isbench $cmd"                         "$isb" $cmd -h
  check "$cmd unknown option"     2 "^isbench $cmd: unknown option '--bogus'"      "$isb" $cmd --bogus
done

# A missing value: one message naming the option and its value, nothing else.
out=$("$isb" train --config 2>&1); rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c . <<<"$out")" -eq 2 ] && grep -q "^isbench train: option --config needs a value (NAME)$" <<<"$out" &&
   ! grep -q "unknown option" <<<"$out"; then
  echo "ok   missing value: one message"; pass=$((pass+1))
else
  echo "FAIL missing value: exit $rc, output:"; echo "$out"; fail=$((fail+1))
fi
check "missing value of a key"    2 "option --max-epochs needs a value \(E\)"      "$isb" suite --preset smoke --max-epochs
check "--name=VALUE form"         2 "option --seeds must be in \[1, 1000\], got 0" "$isb" suite --preset smoke --seeds=0
check "switch takes no value"     2 "option --restart takes no value"              "$isb" train --config uniform-aug --restart=yes
check "ambiguous prefix"          2 "option '--dev' is ambiguous"                  "$isb" suite --preset smoke --dev 0:0
check "one seed range"            2 "option --seed needs a non-negative integer"   "$isb" sample --z 1 --seed -1
check "seed range as train's"     2 "option --seed needs a non-negative integer"   "$isb" step --seed 1.5 --out /dev/null

# Global options come before the command, as if given first after it.
check "global --device"           0 "^\* 0:0 .*<- selected"                        "$isb" --device 0:0 devices
check "global --device=SEL"       0 "^\* 0:0 .*<- selected"                        "$isb" --device=0:0 devices
check "global --device checked"   1 "no OpenCL device matches '99:0'"              "$isb" --device 99:0 devices
check "command's --device wins"   1 "no OpenCL device matches '99:0'"              "$isb" --device 0:0 devices --device 99:0
check "global unknown option"     2 "^isbench: unknown option '--bogus'"           "$isb" --bogus devices
check "global option, no command" 2 "no command given"                             "$isb" --device 0:0
check "global missing value"      2 "^isbench: option --device needs a value \(SEL\)" "$isb" --device
check "global --device, no use"   2 "^isbench configs: unknown option '--device'"  "$isb" --device 0:0 configs
