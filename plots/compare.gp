# Sampling overhead across devices: (a) time of one sampler epoch's sampling on each device against
# N; (b) that time as a share of the training steps it feeds on the same device (skipped when no
# device has a train_step row). Set: fmt, out, plotdir, datadir, series (words devK, files devK.dat:
# N seconds share_pct min max), names ("|"-separated device names), share_panel, method_text, steps_note.
if (!exists("h_in")) h_in = (share_panel ? 4.4 : 2.7) + 0.17 * words(series)
load plotdir . "/style.gp"
device_color(i) = word("#000000 #E69F00 #56B4E9 #009E73 #CC79A7 #D55E00 #0072B2 #999999", (i - 1) % 8 + 1)
# i-th "|"-separated name.
name_of(i) = (rest = names, j = 1, sum [k = 1:i - 1] (p = strstrt(rest, "|"), rest = rest[p + 1:], 0), \
              strstrt(rest, "|") ? rest[1:strstrt(rest, "|") - 1] : rest)
n = words(series)
file(i) = datadir . "/" . word(series, i) . ".dat"
set logscale xy
set format x "10^{%L}"
set format y "10^{%L}"
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
set xlabel "N (scores)"
# One legend at the bottom of the figure (below the last panel), one device per row.
set key below vertical reverse Left samplen 2 width 1 height 0.8
if (share_panel) { unset key }
if (share_panel) { set multiplot layout 2, 1 title "Sampling overhead across devices (" . method_text . ")" }
if (!share_panel) {
    title_text = "Sampling overhead across devices (" . method_text . ")\nno train\\_step rows: share panel skipped"
    set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
    set tmargin header_lines(title_text) + 1.6
}
set ylabel "sampling time (s)"
if (share_panel) { set title "(a) time for |Z| draws from N scores" }
# Points: the median over the repetitions; bars: their range (min-max).
plot for [i = 1:n] file(i) using 1:2 with linespoints lw 1.1 pt 7 ps 0.35 lc rgb device_color(i) title name_of(i), \
     for [i = 1:n] file(i) using 1:2:4:5 with yerrorbars lw 0.8 pt 7 ps 0 lc rgb device_color(i) notitle
if (share_panel) {
    set title "(b) share of the |Z|/B training steps it feeds" . (steps_note ne "" ? "\n(" . steps_note . ")" : "")
    set ylabel "share of training time (%)"
    set key below vertical reverse Left samplen 2 width 1 height 0.8
    set format y "%g"
    plot for [i = 1:n] file(i) using 1:3 with linespoints lw 1.1 pt 7 ps 0.35 lc rgb device_color(i) title name_of(i)
    unset multiplot
}
