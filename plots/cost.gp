# Fig. 6 (Appendix C): where the time goes, as one stacked bar per configuration (mean over seeds
# of timing.csv), grouped by sampler (augmented, not augmented), with the sampling share of the
# total printed above each bar. Set: fmt, out, plotdir, datadir, title_text.
load datadir . "/suite-params.gp"
if (!exists("h_in")) h_in = 3.0
load plotdir . "/style.gp"
set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
set tmargin header_lines(title_text) + 1.6
set ylabel "time per run (" . time_unit . ")"
set style fill solid 1.0 border lc rgb "#333333"
# Head-room above the tallest bar for the vertical share labels.
stats datadir . "/cost.dat" using 8 nooutput
set yrange [0:STATS_max * 1.6]
set grid noxtics ytics
set xtics scale 0
set xrange [-0.6:6.95]
# Room below for tick labels, the sampler names and a two-row legend (gnuplot counts none of them).
set bmargin 7.5
set key at screen 0.5, 0.01 center bottom horizontal maxrows 2 reverse Left samplen 1.2 width key_width
sampler_of(c) = strstrt(c, "noaug") ? c[1:strstrt(c, "-noaug") - 1] : c[1:strstrt(c, "-aug") - 1]
sampler_index(s) = s eq "uniform" ? 0 : (s eq "last-loss" ? 1 : 2)
# Bar position: three groups of two (aug., no aug.).
xpos(c) = 2.7 * sampler_index(sampler_of(c)) + (strstrt(c, "noaug") ? 1.15 : 0)
do for [s in samplers] {
    set label sampler_label(s) at first 2.7 * sampler_index(s) + 0.575, graph 0 center offset 0, -3.1
}
share(x) = x != x ? "" : (x < 0.01 ? "<0.01%" : sprintf("%.2f%%", x))
# Phases the runs could not time apart (nan in timing.csv) are zero and left out of the legend
# (captions.md names them).
phase_title(i) = strstrt(" " . untimed . " ", " " . word(phase_keys, i) . " ") ? "" : word(phase_names, i)
# Phase i occupies [sum of columns 2..i, sum of columns 2..i+1].
bottom(i) = i == 1 ? 0 : sum [j = 2:i] column(j)
top(i) = sum [j = 2:i + 1] column(j)
f = datadir . "/cost.dat"
phase_names = "training evaluation sampling score-update data other"
phase_keys = "training evaluation sampling score_update data other"
phase_colors = "#56779a #b8c7d6 #d62728 #ff9f40 #c9b08a #eeeeee"
plot for [i = 1:6] f using (xpos(strcol(1))):(top(i)):(xpos(strcol(1)) - 0.36):(xpos(strcol(1)) + 0.36):(bottom(i)):(top(i)) \
         with boxxyerror lc rgb word(phase_colors, i) title phase_title(i), \
     f using (xpos(strcol(1))):(NaN):xtic(strstrt(strcol(1), "noaug") ? "no\naug." : "aug.") with points notitle, \
     f using (xpos(strcol(1))):8:(share($9)) with labels rotate by 90 left offset 0, 0.4 notitle
