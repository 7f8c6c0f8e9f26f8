#!/bin/bash
# The README cannot drift from the program (issue 23). Checks, both ways:
#   - the command table ("## Commands") against `isbench --help`'s command list;
#   - "Options of each command" against each command's --help: an option the help defines (on a
#     usage line, or at the start of an indented line) must be listed; a listed option must appear
#     in that help;
#   - the commands said to take `--device SEL` against the helps that define --device;
#   - presets (the "Presets:" paragraph and the suite row) against `isbench configs --presets`;
#   - configurations in the train row against `isbench configs --all`;
#   - the device selector forms (the "Choosing a device" table) against `isbench --help`'s
#     "Device choice:" line.
# Every failure says what is missing where. Usage: readme_test.sh PATH/TO/isbench README.md
set -u
isb=$1; readme=$2
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
# same_sets WHAT LEFT-NAME LEFT RIGHT-NAME RIGHT: words of LEFT and RIGHT as sets, each missing one named
same_sets() {
  local what=$1 ln=$2 l=$3 rn=$4 r=$5 w missing=0
  for w in $l; do grep -qxF -- "$w" <<<"$(tr ' ' '\n' <<<"$r")" || { bad "$what: $ln has '$w', $rn does not"; missing=1; }; done
  for w in $r; do grep -qxF -- "$w" <<<"$(tr ' ' '\n' <<<"$l")" || { bad "$what: $rn has '$w', $ln does not"; missing=1; }; done
  [ $missing -eq 1 ] || ok "$what agree ($(wc -w <<<"$l") items)"
}
# Options a --help text defines: every --opt of its usage lines, and the option that starts an
# indented line ("  --opt ARG  text", "  -o, --opt ARG  text").
defined_options() {
  awk '/^ *usage:|^ +isbench [a-z]/ { while (match($0, /--[a-z][a-z0-9-]*/)) { print substr($0, RSTART, RLENGTH); $0 = substr($0, RSTART + RLENGTH) } next }
       match($0, /^ +(-[A-Za-z], *)?--[a-z][a-z0-9-]*/) { s = substr($0, RSTART, RLENGTH); sub(/^.*--/, "--", s); print s }' | sort -u
}
# The README section between "## TITLE" and the next "## ".
section() { awk -v t="## $1" '$0 == t { on = 1; next } /^## / { on = 0 } on' "$readme"; }
ticks() { grep -o '`[^`]*`' | tr -d '`'; }  # backticked tokens, one per line

[ -r "$readme" ] || { echo "FAIL cannot read $readme"; exit 1; }
help_cmds=$("$isb" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' | sort)
table_cmds=$(section Commands | sed -n 's/^| `isbench \([a-z][a-z-]*\).*/\1/p' | sort -u)
same_sets "commands" "README.md's command table (## Commands)" "$table_cmds" "isbench --help" "$help_cmds"

opt_lines=$(section Commands | awk '/^### Options of each command/ { on = 1; next } /^#/ { on = 0 } on')
listed_cmds=$(sed -n 's/^- `isbench \([a-z][a-z-]*\)`:.*/\1/p' <<<"$opt_lines" | sort -u)
same_sets "commands with an option list" "README.md's 'Options of each command'" "$listed_cmds" "isbench --help" "$help_cmds"
for c in $help_cmds; do
  help=$("$isb" "$c" --help 2>&1)
  defined=$(defined_options <<<"$help")
  listed=$(grep "^- \`isbench $c\`:" <<<"$opt_lines" | sed 's/^[^:]*://' | ticks | grep '^--' | sort -u)
  missing=0
  for o in $defined; do
    grep -qxF -- "$o" <<<"$listed" || { bad "isbench $c: its --help defines $o, README.md's 'Options of each command' line for $c does not list it"; missing=1; }
  done
  for o in $listed; do
    grep -qE -- "$o([^a-z0-9-]|\$)" <<<"$help" || { bad "isbench $c: README.md lists $o, 'isbench $c --help' does not mention it"; missing=1; }
  done
  [ $missing -eq 1 ] || ok "isbench $c: README options = --help options ($(wc -w <<<"$defined") defined)"
done

device_cmds=$(for c in $help_cmds; do "$isb" "$c" --help 2>&1 | defined_options | grep -qx -- --device && echo "$c"; done | sort)
said=$(awk 'BEGIN { RS = "" } /take `--device SEL`/ { gsub(/\n/, " "); print; exit }' "$readme" | sed 's/take `--device SEL`.*//' |
       ticks | grep -vE '^isbench-bench$' | sort -u)
same_sets "commands taking --device" "README.md's sentence '... take \`--device SEL\`'" "$said" "the helps defining --device" "$device_cmds"

presets=$("$isb" configs --presets | sort)
readme_presets=$(grep -m1 -A12 '^Presets:' "$readme" | grep -o '`[a-z]*` =' | tr -d '`= ' | sort -u)
same_sets "presets" "README.md's 'Presets:' paragraph" "$readme_presets" "isbench configs --presets" "$presets"
suite_presets=$(section Commands | grep '^| `isbench suite' | grep -o -- '--preset [a-z\\|]*' | sed 's/--preset //; s/\\|/ /g' | tr ' ' '\n' | sort -u)
same_sets "suite row presets" "README.md's suite row (--preset ...)" "$suite_presets" "isbench configs --presets" "$presets"

configs=$("$isb" configs --all | sort)
readme_configs=$(section Commands | grep '^| `isbench train' | ticks | grep -xE '[a-z]+(-[a-z]+)*-(no)?aug' | sort -u)
same_sets "configurations" "README.md's train row" "$readme_configs" "isbench configs --all" "$configs"

forms=$("$isb" --help | sed -n 's/^Device choice: --device \(.*\), or ISBENCH_DEVICE.*/\1/p' | sed 's/ | /\n/g' | sort -u)
readme_forms=$(section "Choosing a device" | awk -F'|' '/^\| `/ { print $2 }' | ticks | sort -u)
same_sets "device selector forms" "README.md's selector table" "$readme_forms" "isbench --help's 'Device choice:' line" "$forms"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
