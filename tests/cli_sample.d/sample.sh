# isbench sample: usage errors, bad score files (the message names the line), each method on a tiny
# score list (Z lines of "index weight", indices in range, no repeats without replacement) — sourced
# by cli_test.sh.
check "sample --help"               0 "usage: isbench sample"                        "$isb" sample --help
check "sample needs --z"            2 "--z is required"                              "$isb" sample --scores /dev/null
check "sample bad method"           2 "--method must be alias, cdf, gumbel-topk"     "$isb" sample --z 1 --method best
check "sample bad weights"          2 "--weights must be none, inverse-p or ht"      "$isb" sample --z 1 --weights heavy
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
rm -rf "$sample_dir"
