# isbench step: usage errors, bad files (each message names the problem), and a tiny real step whose
# output is a valid --init and --input for the next — sourced by cli_test.sh.
check "step --help"               0 "usage: isbench step"                          "$isb" step --help
check "step needs --out"          2 "--out FILE is required"                       "$isb" step --width 2
check "step width out of range"   2 "--width must be in \[1, 1024\]"               "$isb" step --width 0 --out /dev/null
check "step batch not a number"   2 "--batch needs an integer"                     "$isb" step --batch many --out /dev/null
check "step bad option"           2 "Try 'isbench step --help'"                    "$isb" step --bogus
step_dir=$(mktemp -d)
printf 'not a checkpoint' > "$step_dir/junk"
check "step input not a checkpoint" 1 "junk is not an isbench checkpoint: wrong magic" \
      "$isb" step --width 2 --image-size 8 --input "$step_dir/junk" --out "$step_dir/o.isbc"
check "step tiny run"             0 "loss [0-9.]+; .*wrote [0-9]+ tensors"         \
      "$isb" step --width 2 --batch 2 --image-size 8 --out "$step_dir/a.isbc"
check "step init from a step file" 0 "loss"                                         \
      "$isb" step --width 2 --image-size 8 --init "$step_dir/a.isbc" --input "$step_dir/a.isbc" --out "$step_dir/b.isbc"
check "step init of another width" 1 "c1.weight has shape \[2x3x3x3\] but the model needs f32 \[4x3x3x3\]" \
      "$isb" step --width 4 --image-size 8 --init "$step_dir/a.isbc" --out "$step_dir/c.isbc"
check "step label out of range"   1 "labels\[[0-9]\] = [0-9] is not a class in 0..1 \(set --classes\?\)" \
      "$isb" step --width 2 --classes 2 --image-size 8 --input "$step_dir/a.isbc" --out "$step_dir/d.isbc"
rm -rf "$step_dir"
