# Figs. 1-3: one training curve per configuration (mean over seeds, min-max band over seeds) against
# data epochs or training wall time. Set: fmt, out, plotdir, datadir, ycol (first of the mean/min/max
# columns of curves-<config>.dat), ylab, xaxis ("epoch" or "time"), title_text, logy (0/1).
load datadir . "/suite-params.gp"
if (!exists("h_in")) h_in = 2.9
load plotdir . "/style.gp"
set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
set tmargin header_lines(title_text) + 1.6
set ylabel ylab
if (xaxis eq "time") {
    set xlabel "training wall time (" . time_unit . ")"
    xcol = 3; xs = time_scale
} else {
    set xlabel "data epoch"
    xcol = 1; xs = 1
    # Whole data epochs, about six labels.
    stats datadir . "/curves-" . word(configs, 1) . ".dat" using 1 nooutput
    set xtics ceil(STATS_max / 6.0)
}
if (logy) { set logscale y; set format y "10^{%L}" }
set key below horizontal maxrows 2 reverse Left samplen 2.5 spacing 1.0 width key_width height 0.6
set style fill transparent solid 0.2 noborder
file(c) = datadir . "/curves-" . c . ".dat"
# Legend: colour = sampler, line style = augmentation.
plot for [c in configs] file(c) using (column(xcol) / xs):(column(ycol + 1)):(column(ycol + 2)) \
         with filledcurves lc rgb sampler_color(c), \
     for [c in configs] file(c) using (column(xcol) / xs):(column(ycol)) \
         with lines lw 1.2 dt dash(c) lc rgb sampler_color(c), \
     for [s in samplers] keyentry with lines lw 1.2 lc rgb sampler_color(s) title sampler_label(s), \
     for [a in augs] keyentry with lines lw 1.2 dt dash(a) lc rgb "#444444" title aug_label(a)
