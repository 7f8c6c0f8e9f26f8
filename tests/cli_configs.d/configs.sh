# isbench configs: the configuration names scripts and plots use come from the C table, and every
# name it prints is one train/suite accept — sourced by cli_test.sh.
check "configs --help"            0 "usage: isbench configs"                       "$isb" configs --help
check "configs lists uniform-aug" 0 "^uniform-aug$"                                "$isb" configs
check "configs --presets"         0 "^smoke$"                                      "$isb" configs --presets
check "configs bad option"        2 "Try 'isbench configs --help'"                 "$isb" configs --bogus
configs_listed=$("$isb" configs)
[ "$(wc -l <<<"$configs_listed")" -ge 6 ] && { echo "ok   configs lists at least the study's six"; pass=$((pass+1)); } \
    || { echo "FAIL configs lists fewer than six names"; fail=$((fail+1)); }
for c in $configs_listed; do
  # the name is accepted (the error is about the batch, which is checked after the name)
  check "train knows $c"          2 "--batch must be in"                           "$isb" train --config "$c" --preset smoke --batch 0
done
unknown_msg=$("$isb" train --config no-such-config 2>&1)
for c in $configs_listed; do
  grep -q -- "$c" <<<"$unknown_msg" || { echo "FAIL unknown-config message lacks $c"; fail=$((fail+1)); continue; }
  pass=$((pass+1))
done
check "suite help lists the table's names" 0 "$(tail -n 1 <<<"$configs_listed")" "$isb" suite --help
check "configs --all adds gradient-norm" 0 "^gradient-norm-noaug$"                   "$isb" configs --all
[ "$("$isb" configs --all | head -n 6)" = "$configs_listed" ] && { echo "ok   configs --all starts with the study's six"; pass=$((pass+1)); } \
    || { echo "FAIL configs --all does not start with the study's six"; fail=$((fail+1)); }
for c in $("$isb" configs --all); do
  check "train knows $c (--all)"  2 "--batch must be in"                           "$isb" train --config "$c" --preset smoke --batch 0
done
