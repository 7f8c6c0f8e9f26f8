# Figs. 4-5 (Appendix B): how the scores of one score function are distributed over training, as a
# density: per data epoch, the fraction of samples (all seeds together) in each log-spaced score bin;
# one panel per configuration of that sampler (augmented above, not augmented below).
# Set: fmt, out, plotdir, datadir, sampler ("last-loss" or "running-loss"), title_text.
load datadir . "/suite-params.gp"
panels = ""
do for [c in score_configs] { if (strstrt(c, sampler . "-")) { panels = panels . " " . c } }
npanels = words(panels)
if (npanels == 0) { print "scores.gp: no scores_hist.csv for " . sampler; exit status 1 }
h_in = 0.5 + 1.75 * npanels
load plotdir . "/style.gp"

set multiplot layout npanels, 1 title title_text
set logscale y
set yrange [1e-5:1e3]
# The open bins [0,1e-4) and [1e2,inf) are drawn one decade wide below and above the log bins.
set ytics ("<10^{-4}" 10**-4.5, "10^{-3}" 1e-3, "10^{-1}" 0.1, "10" 10, ">10^{2}" 10**2.5)
set mytics 1
set logscale cb
set cbrange [1e-4:1]
set cbtics ("10^{-4}" 1e-4, "10^{-2}" 1e-2, "1" 1)
set format cb "10^{%L}"
set cbtics scale 0.5
set cblabel "share of samples" offset 0.5, 0
set autoscale xfix
# Whole data epochs on the x axis, about six labels.
stats datadir . "/scores-" . word(panels, 1) . ".dat" using 1 nooutput
set xtics ceil(STATS_max / 6.0)
set rmargin 10
set palette defined (0 "#ffffff", 0.55 sampler_color(sampler), 1 "#202020")
set grid noxtics noytics
set ylabel "score"
set xlabel "data epoch"
set arrow 1 from graph 0, first 1e-4 to graph 1, first 1e-4 nohead lc rgb "#999999" lw 0.5 dt 3 front
set arrow 2 from graph 0, first 1e2 to graph 1, first 1e2 nohead lc rgb "#999999" lw 0.5 dt 3 front
file(c) = datadir . "/scores-" . c . ".dat"
do for [i = 1:npanels] {
    c = word(panels, i)
    set title config_label(c) offset 0, -0.6
    # Boxes overlap by 3% of a bin so that anti-aliasing leaves no white seams between them.
    plot file(c) using 1:(sqrt($2 * $3)):($1 - 0.51):($1 + 0.51):2:($3 * 1.03):($4 < 1e-4 ? 1e-4 : $4) \
         with boxxyerror fs solid noborder fc palette
}
unset multiplot
