# isbench train / suite: usage errors (exit 2, message naming the problem) — sourced by cli_test.sh.
check "train --help"              0 "usage: isbench train"                        "$isb" train --help
check "suite --help"              0 "usage: isbench suite"                        "$isb" suite --help
check "train needs --config"      2 "--config NAME is required"                   "$isb" train
check "train unknown config"      2 "unknown configuration 'uniform-fast'"        "$isb" train --config uniform-fast
check "train unknown preset"      2 "unknown preset 'huge'.*paper, quick, smoke"  "$isb" train --config uniform-aug --preset huge
check "train beta out of range"   2 "--beta must be in \[0, 1\]"                  "$isb" train --config running-loss-aug --beta 1.5
check "train temperature <= 0"    2 "--temperature"                               "$isb" train --config last-loss-aug --temperature 0
check "train lr not a number"     2 "--lr needs a number"                         "$isb" train --config last-loss-aug --lr fast
check "train bad draw method"     2 "unknown draw 'magic'"                        "$isb" train --config last-loss-aug --draw magic
check "train |Z| > N"             2 "exceeds the 256 training samples"            "$isb" train --config last-loss-aug --preset smoke --z 400
check "train bad option"          2 "Try 'isbench train --help'"                  "$isb" train --config uniform-aug --bogus
check "suite needs --preset"      2 "--preset P is required"                      "$isb" suite --seeds 1
check "suite bad seeds"           2 "--seeds must be in"                          "$isb" suite --preset smoke --seeds 0
check "suite bad configs"         2 "unknown configuration 'nope'"                "$isb" suite --preset smoke --configs uniform-aug,nope
check "suite no --seed"           2 "--seed is not a suite option"                "$isb" suite --preset smoke --seed 3
# On CIFAR-10 (real or synthetic, cli_test.sh): Ctrl-C saves and exits 130, the same command resumes, a finished
# run is skipped, and its directory refuses another configuration.
shared_cifar=$cifar_dir
if [ -f "$shared_cifar/test_batch.bin" ]; then # always: cli_test.sh makes a synthetic one if needed
  tout=$(mktemp -d)
  run=(train --config uniform-aug --preset smoke --data "$shared_cifar" --out "$tout")
  "$isb" "${run[@]}" >"$tout/log" 2>&1 &
  pid=$!
  # SIGINT once the loop runs (the manifest is written after the handlers are installed)
  for _ in $(seq 600); do
    grep -qs '"status": "running"' "$tout/smoke/uniform-aug/seed-1/manifest.json" && break; sleep 0.1
  done
  kill -INT "$pid"; wait "$pid"; rc=$?
  if [ "$rc" -eq 130 ] && [ -f "$tout/smoke/uniform-aug/seed-1/checkpoint.isbc" ] && grep -q "run the same command again" "$tout/log"; then
    echo "ok   train SIGINT saves and exits 130"; pass=$((pass+1))
  else
    echo "FAIL train SIGINT saves and exits 130: exit $rc"; head -20 "$tout/log"; fail=$((fail+1))
  fi
  check "train resumes"              0 "resuming from .*checkpoint.isbc"           "$isb" "${run[@]}"
  check "train finished is skipped"  0 "already holds this finished run: skipped"  "$isb" "${run[@]}"
  check "train other config refused" 2 "already holds a run of another configuration" "$isb" "${run[@]}" --lr 0.5
  check "train stop-after-step"      130 "interrupted .* at step 1"                "$isb" "${run[@]}" --name stop --stop-after-step 1
  # A stop in the middle of an evaluation (after 2 of its 4 test batches) acts there: exit 130 with
  # the evaluation pending, and the resumed run equals an uninterrupted one.
  ev=(train --config running-loss-aug --preset smoke --data "$shared_cifar" --batch 32)
  "$isb" "${ev[@]}" --out "$tout/whole" >/dev/null 2>&1
  check "train stop-in-evaluation"   130 "at step [0-9]+, before the evaluation of the data epoch it completed" \
    "$isb" "${ev[@]}" --out "$tout/cut" --stop-in-evaluation 2
  check "train resumes the evaluation" 0 "resuming from .*checkpoint.isbc"       "$isb" "${ev[@]}" --out "$tout/cut"
  if "$(dirname "$0")/compare-results.sh" "$tout/whole/smoke" "$tout/cut/smoke" >/dev/null 2>"$tout/cmp"; then
    echo "ok   train stopped in an evaluation and resumed = uninterrupted"; pass=$((pass+1))
  else
    echo "FAIL train stopped in an evaluation and resumed != uninterrupted"; cat "$tout/cmp"; fail=$((fail+1))
  fi
  rm -rf "$tout"
fi
