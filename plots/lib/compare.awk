# Per device: sampling time of one sampler epoch per N (method m at |Z| ~ 0.16 N, else the fastest
# method there) and its share of the |Z|/B training steps it feeds (train_step row of the widest
# network at the largest batch). Writes <out>.dat (N seconds share_pct min max: min-max of the
# sampling time over the repetitions), appends rows to csv, and
# prints "method|fastest <train_step row or none>". Variables: m, dev, slug, out, csv, tuning (the
# device's CLBlast tuning, short, for the csv's last column).
# Input: lib/bench.awk's table. Needs lib/common.awk.
$1 == "train_step" {
    w = $2; sub(/^w/, "", w); b = $6 == "-" ? 0 : $6
    if (w + 0 > sw || (w + 0 == sw && b + 0 > sb)) { sw = w + 0; sb = b + 0; step = $7; sname = $2 }
}
$1 == "sampling" && $3 == "device" && $4 != "-" {
    # Per N: the chosen method at the |Z| closest to 0.16 N ...
    k = $4; d = z_ratio_distance($5, k)
    if ($2 == m && (!(k in mz) || d < z_ratio_distance(mz[k], k))) { mz[k] = $5; mt[k] = $7; mlo[k] = $9; mhi[k] = $10 }
    # ... and, as a fallback, the fastest method at that |Z|.
    if (!(k in ft) || d < fd[k] || (d == fd[k] && $7 < ft[k])) { ft[k] = $7; fz[k] = $5; fm[k] = $2; fd[k] = d; flo[k] = $9; fhi[k] = $10 }
}
END {
    nm = 0; for (k in mt) nm++
    for (k in ft) {
        if (nm) { tt = mt[k]; z = mz[k]; meth = m; lo = mlo[k]; hi = mhi[k] } else { tt = ft[k]; z = fz[k]; meth = fm[k]; lo = flo[k]; hi = fhi[k] }
        if (z == "-") z = 0
        steps = (step > 0 && sb > 0 && z > 0) ? z / sb : 0
        share = steps > 0 ? 100 * tt / (steps * step) : -1
        print k, tt, (share >= 0 ? share : "NaN"), lo, hi > (out ".dat")
        printf "\"%s\",%s,%s,%s,%s,%.6g,%s,%s,%s,%s,\"%s\"\n", dev, slug, meth, k, z, tt, (step ? step : ""), (sb ? sb : ""),
               (steps ? steps : ""), (share >= 0 ? sprintf("%.4g", share) : ""), tuning >> csv
    }
    print (nm ? "method" : "fastest"), (step > 0 ? sname " B=" sb : "none")
}
