# One benchmark family of lib/bench.awk's table as log-log series: one file <pre>-<method>.<where>.dat
# each (x seconds arg min max: median and range over the repetitions). x = N, and per N the |Z|
# closest to 0.16 N (common.awk), else the largest B. When N does not vary, x = the second argument
# (|Z| or B) and every measured value of it is a point. Prints the series list, in a fixed order.
# Variables: fam, pre. Needs lib/common.awk.
$1 != fam { next }
{
    s = $2 "." $3; x = $4; a = ($5 != "-") ? $5 : $6; xs[x] = 1; k = s SUBSEP x
    better = !(k in best) || ($5 != "-" ? z_ratio_distance($5, x) < z_ratio_distance(arg[k], x) : a + 0 > arg[k] + 0)
    if (better) { best[k] = $7; arg[k] = a; lo[k] = $9; hi[k] = $10 }
    every[s SUBSEP a] = $7 " " a " " $9 " " $10  # for a single N: every |Z| or B
    series[s] = 1
}
END {
    nx = 0; for (x in xs) nx++
    if (nx > 1) {
        for (k in best) { split(k, p, SUBSEP); print p[2], best[k], arg[k], lo[k], hi[k] > (pre "-" p[1] ".dat") }
    } else {
        for (k in every) { split(k, p, SUBSEP); print (p[2] == "-" ? 1 : p[2]), every[k] > (pre "-" p[1] ".dat") }
    }
    # Fixed order (methods as in docs/results-format.md, device before host) for a stable legend.
    nr = split("softmax alias cdf gumbel_topk gumbel_sort successive full_path last running fused_loss loss_only", r, " ")
    for (i = 1; i <= nr; i++) rank[r[i]] = i
    n = 0
    for (s in series) {
        close(pre "-" s ".dat"); split(s, mw, ".")
        key = sprintf("%03d %d %s", (mw[1] in rank) ? rank[mw[1]] : 99, mw[2] != "device", s)
        for (j = ++n; j > 1 && sk[j - 1] > key; j--) sk[j] = sk[j - 1]
        sk[j] = key
    }
    for (j = 1; j <= n; j++) { split(sk[j], kk, " "); list = list (list ? " " : "") kk[3] }
    print list
}
