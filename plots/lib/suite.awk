# Validates and aggregates one training suite for the figures: reads every seed's metrics.csv,
# timing.csv and scores_hist.csv (paths .../<config>/seed-<k>/<file>) and writes into dir:
#   curves-<config>.dat  per data epoch over seeds: mean/min/max of wall time, losses, accuracies (%)
#   scores-<config>.dat  score density per data epoch (counts summed over seeds, fraction per epoch)
#   cost.dat             mean phase times per configuration (Fig. 6)
#   summary.csv, summary.md, suite-params.gp (time unit, target accuracy for the gnuplot scripts)
# Variables: dir, target_acc (percent, <0: default), target_frac (fraction of the best final accuracy),
# configs (the configuration names, space-separated, in plotting order: make-figures.sh takes them
# from the runs' manifests; a configuration is <sampler>-aug or <sampler>-noaug).
# Needs lib/common.awk.

BEGIN {
    n_order = split(configs, order, " ")
    for (i = 1; i <= n_order; i++) known[order[i]] = 1
    nmet = split("train_loss train_acc test_acc test_loss", met, " ")
    nphase = split("init training evaluation sampling score_update data", phase, " ")
}

FNR == 1 {
    # Config and seed come from the path: .../<config>/seed-<k>/<file>.
    np = split(FILENAME, parts, "/")
    kind = parts[np]; seed_dir = parts[np - 1]; cfg = parts[np - 2]
    if (seed_dir !~ /^seed-[0-9]+$/ || !(cfg in known))
        die(FILENAME ": not under <config>/seed-<k>/ with a known configuration (see docs/results-format.md)")
    run = cfg SUBSEP seed_dir
    if (kind == "metrics.csv") {
        need_columns("data_epoch,samples_seen,wall_s,lr,train_loss,train_acc,test_loss,test_acc", col)
        if (!(cfg in nseeds)) nseeds[cfg] = 0
        seed_of[cfg, ++nseeds[cfg]] = seed_dir; rows[run] = 0
    } else if (kind == "timing.csv") {
        need_columns("phase,seconds", col)
    } else if (kind == "scores_hist.csv") {
        need_columns("data_epoch,bin_lo,bin_hi,count", col); hist_rows[run] = 0; has_hist[cfg] = 1
    } else die(FILENAME ": unexpected input file")
    ncol = 0; for (k in col) ncol++
    next
}

/^[ \t\r]*$/ { next }

kind == "metrics.csv" {
    n = csv_split($0, f)
    if (n != ncol) die(where() ": " n " fields, header has " ncol)
    # Positions and times must be numbers; a loss or accuracy may be nan (a diverged run): left out.
    for (i = 1; i <= n; i++)
        if (!is_num(f[i]) && !(is_nan(f[i]) && i != col["data_epoch"] && i != col["wall_s"] && i != col["samples_seen"]))
            die(where() ": field " i " ('" f[i] "') is not a number")
    e = f[col["data_epoch"]] + 0; w = f[col["wall_s"]] + 0
    if (f[col["train_acc"]] + 0 < 0 || f[col["train_acc"]] + 0 > 1 || f[col["test_acc"]] + 0 < 0 || f[col["test_acc"]] + 0 > 1)
        die(where() ": accuracy outside [0,1] (accuracies are fractions)")
    r = ++rows[run]
    if (r > 1 && e <= ep[run, r - 1]) die(where() ": data_epoch " e " does not increase")
    if (r > 1 && w < wall[run, r - 1]) die(where() ": wall_s " w " decreases")
    ep[run, r] = e; wall[run, r] = w; acc[run, r] = is_nan(f[col["test_acc"]]) ? -1 : 100 * f[col["test_acc"]]
    # Per-epoch aggregate over seeds (accuracies as percent).
    key = cfg SUBSEP e
    if (!(key in cnt)) { cnt[key] = 0; epochs[cfg] = epochs[cfg] " " e }
    c = ++cnt[key]
    split("", v); v["wall_s"] = w
    for (m = 1; m <= nmet; m++) if (!is_nan(f[col[met[m]]])) v[met[m]] = f[col[met[m]]] * (met[m] ~ /acc/ ? 100 : 1)
    for (name in v) {
        x = v[name]; cv = ++nval[key, name]
        sum[key, name] += x
        if (cv == 1 || x < lo[key, name]) lo[key, name] = x
        if (cv == 1 || x > hi[key, name]) hi[key, name] = x
    }
    next
}

kind == "timing.csv" {
    n = csv_split($0, f)
    if (n != 2 || !(is_num(f[col["seconds"]]) || is_nan(f[col["seconds"]])))
        die(where() ": expected 'phase,seconds' with a number (or nan for a phase not timed)")
    # nan: the run could not time this phase apart (it is inside another one); shown as not timed.
    if (is_nan(f[col["seconds"]])) untimed[f[col["phase"]]] = 1
    else t[run, f[col["phase"]]] = f[col["seconds"]] + 0
    has_timing[run] = 1
    next
}

kind == "scores_hist.csv" {
    n = csv_split($0, f)
    if (n != ncol) die(where() ": " n " fields, header has " ncol)
    blo = f[col["bin_lo"]]; bhi = f[col["bin_hi"]]; e = f[col["data_epoch"]]; k = f[col["count"]]
    if (!is_num(e) || !is_num(blo) || !is_num(k) || (!is_num(bhi) && tolower(bhi) != "inf"))
        die(where() ": expected numbers data_epoch,bin_lo,bin_hi,count (bin_hi may be inf)")
    if (k < 0) die(where() ": negative count")
    # Open bins get a finite decade on the log axis: [0,1e-4) -> [1e-5,1e-4), [1e2,inf) -> [1e2,1e3).
    ylo = blo + 0; yhi = (tolower(bhi) == "inf") ? ylo * 10 : bhi + 0
    if (ylo <= 0) ylo = yhi / 10
    if (yhi <= ylo) die(where() ": bin_hi <= bin_lo")
    hk = cfg SUBSEP e
    if (!(hk in htot)) { htot[hk] = 0; hepochs[cfg] = hepochs[cfg] " " (e + 0) }
    bk = hk SUBSEP ylo SUBSEP yhi
    if (!(bk in hcount)) hbins[hk] = hbins[hk] " " ylo ":" yhi
    hcount[bk] += k; htot[hk] += k; hist_rows[run]++
    next
}

# Numeric sort of the words of a string into a[1..n]; returns n (insertion sort: tens of epochs).
function sort_words(str, a,    n, i, j, x) {
    n = split(str, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n
}
function fmt(x, d) { return sprintf("%." d "f", x) }

END {
    if (died) exit 1
    for (r in rows) if (rows[r] == 0) { split(r, rp, SUBSEP); die(rp[1] "/" rp[2] "/metrics.csv: no evaluation rows") }
    for (r in hist_rows) if (hist_rows[r] == 0) { split(r, rp, SUBSEP); die(rp[1] "/" rp[2] "/scores_hist.csv: no rows") }
    nc = 0
    for (i = 1; i <= n_order; i++) if (order[i] in nseeds) cfgs[++nc] = order[i]
    if (nc == 0) die("no metrics.csv found")

    # Curves per configuration.
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; out = dir "/curves-" cfg ".dat"
        print "# data_epoch seeds wall_mean wall_min wall_max train_loss(mean min max) train_acc%(mean min max) test_acc%(mean min max) test_loss(mean min max)" > out
        ne = sort_words(epochs[cfg], es)
        for (j = 1; j <= ne; j++) {
            key = cfg SUBSEP es[j]; c = cnt[key]
            line = es[j] " " c " " sum[key, "wall_s"] / c " " lo[key, "wall_s"] " " hi[key, "wall_s"]
            for (m = 1; m <= nmet; m++)
                line = line (nval[key, met[m]] ? " " sum[key, met[m]] / nval[key, met[m]] " " lo[key, met[m]] " " hi[key, met[m]] : " NaN NaN NaN")
            print line > out
        }
        close(out)
    }

    # Score densities: fraction of the samples (all seeds) in each bin, per data epoch; empty bins left out.
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; if (!(cfg in has_hist)) continue
        out = dir "/scores-" cfg ".dat"
        print "# data_epoch bin_lo bin_hi fraction_of_samples (open bins mapped to [1e-5,1e-4) and [1e2,1e3))" > out
        ne = sort_words(hepochs[cfg], es)
        for (j = 1; j <= ne; j++) {
            hk = cfg SUBSEP es[j]; nb = split(hbins[hk], bl, " ")
            if (htot[hk] <= 0) continue
            for (b = 1; b <= nb; b++) {
                split(bl[b], yy, ":"); x = hcount[hk, yy[1], yy[2]]
                if (x > 0) print es[j], yy[1], yy[2], x / htot[hk] > out
            }
        }
        close(out)
    }

    # Per-seed final/best accuracy, then the target accuracy, then time to target.
    best_final = 0
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; fsum = 0; bsum = 0; esum = 0
        for (s = 1; s <= nseeds[cfg]; s++) {
            run = cfg SUBSEP seed_of[cfg, s]; r = rows[run]; best = 0
            for (j = 1; j <= r; j++) if (acc[run, j] > best) best = acc[run, j]
            fin = acc[run, r]; fsum += fin; bsum += best; esum += ep[run, r]
            if (s == 1 || fin < fmin[cfg]) fmin[cfg] = fin
            if (s == 1 || fin > fmax[cfg]) fmax[cfg] = fin
            tot = (run, "total") in t ? t[run, "total"] : wall[run, r]
            tsum[cfg] += tot
            if (has_timing[run]) { ntiming[cfg]++; for (p = 1; p <= nphase; p++) psum[cfg, phase[p]] += t[run, phase[p]]; ptot[cfg] += tot }
        }
        fmean[cfg] = fsum / nseeds[cfg]; bmean[cfg] = bsum / nseeds[cfg]; emean[cfg] = esum / nseeds[cfg]
        if (fmean[cfg] > best_final) best_final = fmean[cfg]
    }
    target = (target_acc >= 0) ? target_acc : target_frac * best_final
    target_rule = (target_acc >= 0) ? "set with --target-acc" : (100 * target_frac) "% of the best mean last test accuracy (" fmt(best_final, 2) "%)"
    tmax = 0
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; reach[cfg] = 0; ttsum = 0
        for (s = 1; s <= nseeds[cfg]; s++) {
            run = cfg SUBSEP seed_of[cfg, s]
            for (j = 1; j <= rows[run]; j++) if (acc[run, j] >= target) { reach[cfg]++; ttsum += wall[run, j]; break }
        }
        ttt[cfg] = reach[cfg] ? ttsum / reach[cfg] : -1
        if (tsum[cfg] / nseeds[cfg] > tmax) tmax = tsum[cfg] / nseeds[cfg]
    }

    # Time unit for every time axis of this suite.
    if (tmax >= 3 * 3600) { unit = "h"; scale = 3600 } else if (tmax >= 180) { unit = "min"; scale = 60 } else { unit = "s"; scale = 1 }
    out = dir "/suite-params.gp"
    printf "time_unit = \"%s\"\ntime_scale = %s\ntarget_acc = %.4f\nconfigs = \"", unit, scale, target > out
    for (ci = 1; ci <= nc; ci++) printf "%s%s", (ci > 1 ? " " : ""), cfgs[ci] > out
    printf "\"\nscore_configs = \"" > out
    sep = ""
    for (ci = 1; ci <= nc; ci++) if (cfgs[ci] in has_hist) { printf "%s%s", sep, cfgs[ci] > out; sep = " " }
    print "\"" > out
    # Samplers (the configuration names less -aug/-noaug) and augmentation settings present, for the
    # legends; a sampler's position among them places its bars in Fig. 6.
    sl = ""; ns = 0
    for (ci = 1; ci <= nc; ci++) {
        s = cfgs[ci]; sub(/-(no)?aug$/, "", s)
        if (!(s in sampler_pos)) { sampler_pos[s] = ns++; sl = sl (sl == "" ? "" : " ") s }
        if (cfgs[ci] ~ /-noaug$/) hn = 1; else ha = 1
    }
    ul = ""; for (p in untimed) ul = ul (ul == "" ? "" : " ") p
    printf "untimed = \"%s\"\n", ul > out
    printf "samplers = \"%s\"\naugs = \"%s\"\n", sl, (ha ? "aug" : "") (ha && hn ? " " : "") (hn ? "noaug" : "") > out
    close(out)

    # Fig. 6 data: mean phase seconds per configuration (seeds with timing.csv), in the suite's unit.
    out = dir "/cost.dat"
    print "# config init training evaluation sampling score_update data other init+total sampling_share_pct(of total) x_position (times in " unit ")" > out
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; if (!ntiming[cfg]) continue
        k = ntiming[cfg]; line = cfg; acc_sum = 0
        # init (kernel builds and the warm-up step) precedes the run's clock: its own segment,
        # outside total and the shares; the bar's top is total + init.
        for (p = 1; p <= nphase; p++) { x = psum[cfg, phase[p]] / k; if (p > 1) acc_sum += x; line = line " " x / scale }
        tot = ptot[cfg] / k; other = tot - acc_sum; if (other < 0) other = 0
        share[cfg] = tot > 0 ? 100 * psum[cfg, "sampling"] / k / tot : 0
        ushare[cfg] = tot > 0 ? 100 * psum[cfg, "score_update"] / k / tot : 0
        s = cfg; sub(/-(no)?aug$/, "", s)
        print line " " other / scale " " (tot + psum[cfg, "init"] / k) / scale " " (("sampling" in untimed) ? "NaN" : share[cfg]) " " \
              2.7 * sampler_pos[s] + (cfg ~ /-noaug$/ ? 1.15 : 0) > out
    }
    close(out)

    # Summary table, CSV and Markdown.
    csv = dir "/../summary.csv"; md = dir "/../summary.md"
    print "config,seeds,last_test_acc_pct_mean,last_test_acc_pct_min,last_test_acc_pct_max,best_test_acc_pct_mean,target_acc_pct,time_to_target_s_mean,seeds_reaching_target,data_epochs_mean,total_time_s_mean,sampling_share_pct,score_update_share_pct" > csv
    print "| configuration | seeds | last test acc. % (min–max) | best test acc. % | time to " fmt(target, 1) "% | data epochs | total time | sampling share | score-update share |" > md
    print "|---|---|---|---|---|---|---|---|---|" > md
    for (ci = 1; ci <= nc; ci++) {
        cfg = cfgs[ci]; ns = nseeds[cfg]
        tt = ttt[cfg] >= 0 ? fmt(ttt[cfg], 1) : ""
        sh = (cfg in share && !("sampling" in untimed)) ? fmt(share[cfg], 3) : ""
        us = (cfg in ushare && !("score_update" in untimed)) ? fmt(ushare[cfg], 3) : ""
        print cfg "," ns "," fmt(fmean[cfg], 2) "," fmt(fmin[cfg], 2) "," fmt(fmax[cfg], 2) "," fmt(bmean[cfg], 2) "," fmt(target, 2) "," tt "," reach[cfg] "," fmt(emean[cfg], 1) "," fmt(tsum[cfg] / ns, 1) "," sh "," us > csv
        print "| " cfg " | " ns " | " fmt(fmean[cfg], 2) " (" fmt(fmin[cfg], 2) "–" fmt(fmax[cfg], 2) ") | " fmt(bmean[cfg], 2) " | " \
              (tt == "" ? "not reached" : fmt(ttt[cfg] / scale, 2) " " unit " (" reach[cfg] "/" ns " seeds)") " | " fmt(emean[cfg], 1) " | " \
              fmt(tsum[cfg] / ns / scale, 2) " " unit " | " (sh == "" ? "n/a" : sh "%") " | " (us == "" ? "n/a" : us "%") " |" > md
    }
    print "" > md
    print "Last test acc.: the test accuracy of the run's last evaluation; best test acc.: the highest of any of its evaluations (manifest.json final.last_test_acc and final.best_test_acc). Target accuracy " fmt(target, 2) "%: " target_rule ". Time to target: mean training wall time at the first evaluation reaching it, over the seeds that reach it. Means are over seeds; total time from timing.csv (else the last wall_s); shares are of the total time." > md
    close(csv); close(md)
}
