# isbench sample: usage errors, bad score files (the message names the line), each method on a tiny
# score list (Z lines of "index weight", indices in range, no repeats without replacement) — sourced
# by cli_test.sh.
check "sample --help"               0 "usage: isbench sample"                        "$isb" sample --help
check "sample needs --z"            2 "--z is required"                              "$isb" sample --scores /dev/null
check "sample bad method"           2 "unknown method .best.: use one of alias, cdf" "$isb" sample --z 1 --method best
check "sample bad weights"          2 "unknown weights .heavy.: use one of none, inverse-p, ht" "$isb" sample --z 1 --weights heavy
check "sample temperature 0"        2 "--temperature must be in"                     "$isb" sample --z 1 --temperature 0
check "sample bad option"           2 "Try 'isbench sample --help'"                  "$isb" sample --bogus
sample_dir=$(mktemp -d)
for i in $(seq 0 99); do echo "$((i % 7)).25"; done > "$sample_dir/scores"
printf '1\n2\nabc\n' > "$sample_dir/bad"
printf '1\nnan\n' > "$sample_dir/nan"
check "sample missing file"         1 "cannot open score file .*/nope"               "$isb" sample --z 1 --scores "$sample_dir/nope"
check "sample not a number"         1 "bad line 3: 'abc' is not a number"            "$isb" sample --z 1 --scores "$sample_dir/bad"
check "sample non-finite score"     1 "the score of sample 1 is not finite"          "$isb" sample --z 1 --scores "$sample_dir/nan"
check "sample z > n without replacement" 2 "cannot draw \|Z\|=101 of N=100 without replacement" \
      "$isb" sample --z 101 --scores "$sample_dir/scores"
check "sample ht with replacement"  2 "Horvitz-Thompson weights need a draw without replacement" \
      "$isb" sample --z 5 --method cdf --weights ht --scores "$sample_dir/scores"
for m in alias cdf gumbel-topk gumbel-sort uniform; do
  w=inverse-p; [ $m = uniform ] && w=none
  # 40 lines of "index weight", every index in [0, 100); without replacement no index twice
  unique=cat; case $m in gumbel-*|uniform) unique="sort -u" ;; esac
  check "sample $m" 0 "^40$" bash -c "'$isb' sample --z 40 --method $m --weights $w --seed 3 --scores '$sample_dir/scores' \
        | awk '\$1 >= 0 && \$1 < 100 && \$2 > 0 {print \$1}' | $unique | wc -l"
done
check "sample from stdin, ht weights" 0 "^[0-9]+ [0-9.e+-]+$" \
      bash -c "'$isb' sample --z 3 --weights ht < '$sample_dir/scores'"
# issue 10's examples: u = 1.0f gave sample 0 (score -30) an infinite key at this epoch
(echo -30; for i in $(seq 15); do echo 0; done) > "$sample_dir/minus30"
check "sample Gumbel key finite at u near 1" 0 "^([1-9]|1[0-5]) 1$" \
      "$isb" sample --z 1 --seed 1 --epoch 3214781 --scores "$sample_dir/minus30"
printf '1e9\n0\n0\n0\n' > "$sample_dir/huge"
check "sample S/T overflow is an error" 1 "sample 0 divided by the temperature.*raise the temperature" \
      "$isb" sample --z 2 --method cdf --temperature 1e-30 --scores "$sample_dir/huge"
(echo -200; for i in $(seq 9); do echo 0; done) > "$sample_dir/tiny"
check "sample unrepresentable weight is an error" 1 "weight of sample 0 is not representable.*raise the temperature" \
      "$isb" sample --z 10 --weights inverse-p --scores "$sample_dir/tiny"
check "sample ht |Z| = N: every weight 1" 0 "^10$" \
      bash -c "'$isb' sample --z 10 --weights ht --scores '$sample_dir/tiny' | awk '\$2 == 1' | wc -l"
check "sample N = 1" 0 "^0 1$" bash -c "echo 3.5 | '$isb' sample --z 1 --weights ht"
check "sample ht weights finite at a wide score range" 0 "^4$" \
      bash -c "'$isb' sample --z 4 --weights ht --scores '$sample_dir/tiny' | awk '\$2 > 0 && \$2 < 1e30' | wc -l"
# lines of any length: a 300-digit number is one score, not two
(printf '1.'; printf '0%.0s' $(seq 300); echo; echo 2) > "$sample_dir/long"
check "sample long score line" 0 "^2$" bash -c "'$isb' sample --z 2 --scores '$sample_dir/long' | wc -l"
check "sample --draws: epoch index weight" 0 "^3 12$" \
      bash -c "'$isb' sample --z 4 --draws 3 --epoch 5 --weights ht --scores '$sample_dir/scores' | awk '\$1 >= 5 && \$1 <= 7 && NF == 3' | sort -u -k1,2 | awk '{e[\$1]} END {print length(e), NR}'"
check "sample --draws bad" 2 "--draws must be in" "$isb" sample --z 1 --draws 0
rm -rf "$sample_dir"
# --checkpoint reads a training checkpoint's train/scores (CIFAR-10 real or synthetic, cli_test.sh)
shared_cifar=$cifar_dir
if [ -f "$shared_cifar/test_batch.bin" ]; then # always: cli_test.sh makes a synthetic one if needed
  ck_out=$(mktemp -d)
  "$isb" train --config gradient-norm-noaug --preset smoke --data "$shared_cifar" --out "$ck_out" --stop-after-step 3 >/dev/null 2>&1
  ck=$(ls "$ck_out"/smoke/gradient-norm-noaug/*/checkpoint.isbc 2>/dev/null | head -1)
  check "sample --checkpoint of a gradient-norm run" 0 "^5$" \
        bash -c "'$isb' sample --z 5 --weights ht --checkpoint '$ck' | awk '\$1 >= 0 && \$1 < 256 && \$2 > 0' | wc -l"
  rm -rf "$ck_out"
fi
