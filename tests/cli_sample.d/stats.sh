# Statistics of `isbench sample` through the CLI (issue 10), with fixed seeds so results are
# reproducible; sourced by cli_test.sh. Each check can fail and each has a negative control that
# must be rejected, so a test without power shows up:
#  - inclusion frequencies of gumbel-topk and gumbel-sort vs the exactly enumerated inclusion
#    probabilities of successive sampling (every |z-score| < 4.5; the naive |Z| p_i is rejected);
#  - draw frequencies of alias and cdf vs p (chi-square, 9 df, p = 0.001; uniform p rejected);
#  - the mean over draws of sum_{i in Z} w_i f_i equals sum_i f_i within 3 standard errors for ht
#    (skewed and flat p) and inverse-p with replacement (alias); inverse-p without replacement
#    (gumbel-topk) is reported as biased (more than 3 standard errors off).
stats_dir=$(mktemp -d)
printf '%s\n' 0 0.5 1 1.5 2.5 -1 > "$stats_dir/skewed6"
printf '%s\n' 0 0.3 0.6 0.9 1.2 1.5 1.8 2.1 2.4 3.5 > "$stats_dir/skewed10"
printf '%s\n' 1 1 1 1 1 1 1 1 1 1 > "$stats_dir/flat10"
stats_draws=10000

# Inclusion frequencies vs exact successive-sampling probabilities. Args: scores file, z, method.
inclusion_check() {
  "$isb" sample --scores "$1" --z "$2" --method "$3" --draws $stats_draws --seed 11 | awk -v z="$2" -v K=$stats_draws -v f="$1" '
    function enumerate(steps, prob, left,   i, q) {
      if (steps == 0) return
      for (i = 0; i < n; i++) if (!taken[i]) {
        q = prob * p[i] / left; pi[i] += q; taken[i] = 1
        enumerate(steps - 1, q, left - p[i]); taken[i] = 0
      }
    }
    BEGIN {
      n = 0; while ((getline s < f) > 0) x[n++] = s + 0
      m = x[0]; for (i = 1; i < n; i++) if (x[i] > m) m = x[i]
      tot = 0; for (i = 0; i < n; i++) { p[i] = exp(x[i] - m); tot += p[i] }
      for (i = 0; i < n; i++) p[i] /= tot
      enumerate(z, 1.0, 1.0)
    }
    { count[$2]++ }
    END {
      worst = 0; worst_naive = 0
      for (i = 0; i < n; i++) {
        se = sqrt(pi[i] * (1 - pi[i]) / K); zs = (count[i] / K - pi[i]) / se; if (zs < 0) zs = -zs
        if (zs > worst) worst = zs
        naive = z * p[i]; if (naive > 1) naive = 1
        zs = (count[i] / K - naive) / sqrt(pi[i] * (1 - pi[i]) / K); if (zs < 0) zs = -zs
        if (zs > worst_naive) worst_naive = zs
      }
      ok = worst < 4.5 && worst_naive > 4.5
      printf "%s max |z| %.2f vs exact inclusion; %.1f vs naive z*p (must exceed 4.5)\n", ok ? "PASS" : "FAIL", worst, worst_naive
    }'
}
for m in gumbel-topk gumbel-sort; do
  check "sample stats: $m inclusion = exact enumeration (N=6, |Z|=3)" 0 "^PASS" inclusion_check "$stats_dir/skewed6" 3 $m
done

# Draw frequencies with replacement vs p: chi-square with 9 degrees of freedom.
chi_square_check() {
  "$isb" sample --scores "$stats_dir/skewed10" --z 50 --method "$1" --draws 2000 --seed 12 | awk -v f="$stats_dir/skewed10" '
    BEGIN { n = 0; while ((getline s < f) > 0) x[n++] = s + 0
            tot = 0; for (i = 0; i < n; i++) { p[i] = exp(x[i]); tot += p[i] } }
    { count[$2]++; draws++ }
    END {
      chi = 0; chi_flat = 0
      for (i = 0; i < n; i++) {
        e = draws * p[i] / tot; chi += (count[i] - e) ^ 2 / e
        e = draws / n; chi_flat += (count[i] - e) ^ 2 / e
      }
      ok = chi < 27.88 && chi_flat > 27.88
      printf "%s chi-square %.2f (9 df, critical 27.88 at 0.001); uniform p gives %.0f\n", ok ? "PASS" : "FAIL", chi, chi_flat
    }'
}
for m in alias cdf; do
  check "sample stats: $m frequencies = p (chi-square)" 0 "^PASS" chi_square_check $m
done

# Weights are normalised to mean 1 (w = |Z| / (N q_i) or 1 / (N p_i)), so an unbiased method has
# E[sum_{i in Z} w_i f_i] = |Z|/N sum_i f_i: r = (N/|Z|) sum_Z w f / sum f has mean 1. Prints the
# relative bias of r and its standard error over the draws, f_i = 1 + i^2 / 10.
# Args: scores file, method, weights, z, expect (unbiased | biased).
mean_check() {
  "$isb" sample --scores "$1" --method "$2" --weights "$3" --z "$4" --draws $stats_draws --seed 13 | awk -v K=$stats_draws -v expect="$5" -v n=10 -v z="$4" '
    BEGIN { total = 0; for (i = 0; i < n; i++) total += 1 + i * i / 10 }
    { est[$1] += $3 * (1 + $2 * $2 / 10) }
    END {
      s = 0; s2 = 0; for (e in est) { r = est[e] / total * n / z; s += r; s2 += r * r }
      mean = s / K; se = sqrt((s2 / K - mean * mean) / K); bias = mean - 1; dev = bias / se; if (dev < 0) dev = -dev
      ok = expect == "unbiased" ? dev < 3 : dev > 3
      printf "%s relative bias %+.4f, standard error %.4f (%.1f se; expected %s)\n", ok ? "PASS" : "FAIL", bias, se, dev, expect
    }'
}
check "sample stats: ht unbiased (skewed p)"    0 "^PASS" mean_check "$stats_dir/skewed10" gumbel-topk ht 4 unbiased
check "sample stats: ht unbiased (flat p)"      0 "^PASS" mean_check "$stats_dir/flat10" gumbel-sort ht 4 unbiased
check "sample stats: inverse-p unbiased with replacement" 0 "^PASS" mean_check "$stats_dir/skewed10" alias inverse-p 4 unbiased
check "sample stats: inverse-p biased without replacement" 0 "^PASS" mean_check "$stats_dir/skewed10" gumbel-topk inverse-p 4 biased
rm -rf "$stats_dir"
