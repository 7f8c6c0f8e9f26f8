# One benchmark family of lib/bench.awk's table as log-log series: one file <pre>-<method>.<where>.dat
# each (x seconds arg), x = N, or the second argument when N does not vary. Per x: the |Z| closest to
# 0.16 N (common.awk), else the largest B. Prints the series list, in a fixed order.
# Variables: fam, pre. Needs lib/common.awk.
$1 != fam { next }
{
    s = $2 "." $3; x = $4; a = ($5 != "-") ? $5 : $6; xs[x] = 1; k = s SUBSEP x
    better = !(k in best) || ($5 != "-" ? z_ratio_distance($5, x) < z_ratio_distance(arg[k], x) : a + 0 > arg[k] + 0)
    if (better) { best[k] = $7; arg[k] = a }
    series[s] = 1
}
END {
    nx = 0; for (x in xs) nx++
    for (k in best) {
        split(k, p, SUBSEP); s = p[1]
        # N constant: plot against the other argument instead.
        xv = (nx > 1 || p[2] == "-") ? p[2] : arg[k]
        if (xv == "-") xv = 1
        print xv, best[k], arg[k] > (pre "-" s ".dat")
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
