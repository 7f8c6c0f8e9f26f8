# Figs. 1-3: one training curve per configuration (mean over seeds, min-max band over seeds) against
# data epochs or training wall time. Set: fmt, out, plotdir, datadir, ycol (first of the mean/min/max
# columns of curves-<config>.dat), ylab, xaxis ("epoch" or "time"), title_text, logy (0/1).
load datadir . "/suite-params.gp"
if (!exists("h_in")) h_in = 2.9
load plotdir . "/style.gp"
set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
set tmargin header_lines(title_text) + 1.6
set ylabel ylab
file(c) = datadir . "/curves-" . c . ".dat"
# A tick step of 1, 2, 2.5 or 5 x 10^k giving at most about six labels over a range.
nice_step(r) = (r <= 0 ? 1 : (e = 10 ** floor(log10(r / 6.0)), f = r / 6.0 / e, (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e))
# The data's range on an axis over every configuration (columns lo, hi of each file).
lo = 1e300; hi = -1e300
if (xaxis eq "time") {
    set xlabel "training wall time (" . time_unit . ")"
    xcol = 3; xs = time_scale
    do for [c in configs] { stats file(c) using (column(xcol) / xs) nooutput; lo = STATS_min < lo ? STATS_min : lo; hi = STATS_max > hi ? STATS_max : hi }
    set xtics nice_step(hi - lo)
} else {
    set xlabel "data epoch"
    xcol = 1; xs = 1
    # Whole data epochs, about six labels.
    stats file(word(configs, 1)) using 1 nooutput
    set xtics ceil(STATS_max / 6.0)
}
# y: the band's range over every configuration. A log axis (losses) only where the data span a
# decade or more, else a linear one fitted to the data: a loss of 1.7-2.3 on a 1-10 log axis is a
# flat line.
ylo = 1e300; yhi = -1e300
do for [c in configs] {
    stats file(c) using (column(ycol + 1)) nooutput; ylo = STATS_min < ylo ? STATS_min : ylo
    stats file(c) using (column(ycol + 2)) nooutput; yhi = STATS_max > yhi ? STATS_max : yhi
}
if (logy && ylo > 0 && yhi / ylo >= 10) {
    set logscale y; set format y "10^{%L}"
} else {
    pad = (yhi - ylo) * 0.05 + (yhi == ylo ? 0.5 : 0)
    set yrange [ylo - pad:yhi + pad]
    set ytics nice_step(yhi - ylo + 2 * pad)
}
set key below horizontal maxrows 2 reverse Left samplen 2.5 spacing 1.0 width key_width height 0.6
set style fill transparent solid 0.2 noborder
# Legend: colour = sampler, line style = augmentation.
plot for [c in configs] file(c) using (column(xcol) / xs):(column(ycol + 1)):(column(ycol + 2)) \
         with filledcurves lc rgb sampler_color(c), \
     for [c in configs] file(c) using (column(xcol) / xs):(column(ycol)) \
         with lines lw 1.2 dt dash(c) lc rgb sampler_color(c), \
     for [s in samplers] keyentry with lines lw 1.2 lc rgb sampler_color(s) title sampler_label(s), \
     for [a in augs] keyentry with lines lw 1.2 dt dash(a) lc rgb "#444444" title aug_label(a)
