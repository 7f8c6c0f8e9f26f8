# Fig. 6 (Appendix C): where the time goes, as one stacked bar per configuration (mean over seeds
# of timing.csv), grouped by sampler (augmented, not augmented), with the sampling share of the
# total printed above each bar. init (compilation and warm-up, before the clock) is the bottom
# segment and not part of the total. Set: fmt, out, plotdir, datadir, title_text.
load datadir . "/suite-params.gp"
if (!exists("h_in")) h_in = 3.0
load plotdir . "/style.gp"
set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
set tmargin header_lines(title_text) + 1.6
set ylabel "time per run (" . time_unit . ")"
set style fill solid 1.0 border lc rgb "#333333"
# Head-room above the tallest bar for the vertical share labels: at this figure size a label of at
# most 6 characters ("<0.01%", "12.3%") takes about 45% of the frame's height, so the tallest bar
# may fill half of it.
stats datadir . "/cost.dat" using 9 nooutput
set yrange [0:STATS_max * 2.1]
set grid noxtics ytics
set xtics scale 0
# One group of two bars (aug., no aug.) per sampler; suite.awk writes each bar's x (column 11).
set xrange [-0.6:2.7 * words(samplers) - 1.15]
# Room below for tick labels, the sampler names and a three-row legend (gnuplot counts none of them).
set bmargin 8.6
set key at screen 0.5, 0.01 center bottom horizontal maxrows 3 reverse Left samplen 1.2 width key_width
do for [i = 1:words(samplers)] {
    set label i + 10 sampler_label(word(samplers, i)) at first 2.7 * (i - 1) + 0.575, graph 0 center offset 0, -3.1
}
share(x) = x != x ? "" : (x < 0.01 ? "<0.01%" : x < 10 ? sprintf("%.2f%%", x) : sprintf("%.1f%%", x))
# Phases the runs could not time apart (nan in timing.csv) are zero and left out of the legend
# (captions.md names them).
phase_title(i) = strstrt(" " . untimed . " ", " " . word(phase_keys, i) . " ") ? "" : word(phase_names, i)
# Phase i occupies [sum of columns 2..i, sum of columns 2..i+1].
bottom(i) = i == 1 ? 0 : sum [j = 2:i] column(j)
top(i) = sum [j = 2:i + 1] column(j)
f = datadir . "/cost.dat"
# init: kernel builds and the warm-up step before the run's clock (outside the share).
phase_names = "init training evaluation sampling score-update data other"
phase_keys = "init training evaluation sampling score_update data other"
phase_colors = "#7f7f7f #56779a #b8c7d6 #d62728 #ff9f40 #c9b08a #eeeeee"
plot for [i = 1:7] f using 11:(top(i)):($11 - 0.36):($11 + 0.36):(bottom(i)):(top(i)) \
         with boxxyerror lc rgb word(phase_colors, i) title phase_title(i), \
     f using 11:(NaN):xtic(strstrt(strcol(1), "noaug") ? "no\naug." : "aug.") with points notitle, \
     f using 11:9:(share($10)) with labels rotate by 90 left offset 0, 0.4 notitle
