# isbench check, the device self-check — sourced by cli_test.sh. It passes on the device under
# test, and it fails naming the case when one result is wrong: ISBENCH_CHECK_BREAK=TEXT (a test
# hook) corrupts one element of the device result of the cases whose name contains TEXT.
check "check --help"               0 "usage: isbench check"                         "$isb" check --help
check "check bad width"            2 "--width must be in"                           "$isb" check --width 0
check "check passes (small)"       0 "^check passed \([0-9]+ cases\)"               "$isb" check --small
check "check table has every case" 0 "conv 1x1 8->16 s2 2x2 b2 \(GEMMs\) .* ok"   "$isb" check --small
check "check fails naming a broken kernel" 1 "failed 1 of [0-9]+ self-check cases; first: batch norm forward/backward: error" \
  env ISBENCH_CHECK_BREAK="batch norm" "$isb" check --small
check "check fails naming a broken GEMM" 1 "first: conv 3x3 .*\(GEMMs\): error .* in forward" \
  env ISBENCH_CHECK_BREAK="conv 3x3 4->8" "$isb" check --small
check "check fails naming a broken draw" 1 "first: sampling draw \(Gumbel top-k\): error 1 " \
  env ISBENCH_CHECK_BREAK="draw" "$isb" check --small
if [ -f "$cifar_dir/test_batch.bin" ]; then
  cout=$(mktemp -d)
  check "train refuses a failing device" 1 "not measured" \
    env ISBENCH_CHECK_BREAK="linear" "$isb" train --config uniform-aug --preset smoke --data "$cifar_dir" --out "$cout"
  [ ! -e "$cout/smoke" ] && { echo "ok   a refused device writes no results"; pass=$((pass+1)); } ||
    { echo "FAIL a refused device wrote results"; fail=$((fail+1)); }
  check "train --skip-check"         0 "finished"  env ISBENCH_CHECK_BREAK="linear" "$isb" train --config uniform-aug \
    --preset smoke --max-epochs 1 --data "$cifar_dir" --out "$cout" --skip-check
  grep -q '"check": "skipped (--skip-check)"' "$cout/smoke/uniform-aug/seed-1/manifest.json" &&
    { echo "ok   the manifest records a skipped check"; pass=$((pass+1)); } ||
    { echo "FAIL the manifest lacks the check verdict"; fail=$((fail+1)); }
  rm -rf "$cout"
fi
