# Microbenchmark cost against problem size (log-log): one colour per method, solid on the device,
# dashed on the host. Set: fmt, out, plotdir, datadir, prefix (benchmark family), series (words
# "method.where", one file <prefix>-<series>.dat each: x seconds arg min max), xlab, title_text.
# Points are the median over the repetitions, bars their range (min–max).
if (!exists("h_in")) h_in = 3.3
load plotdir . "/style.gp"
where_dash(w) = w eq "host" ? 2 : 1
where_label(w) = w eq "host" ? "host CPU" : "device"
method_of(s) = s[1:strstrt(s, ".") - 1]
where_of(s) = s[strstrt(s, ".") + 1:]
# Fixed colours so a method looks the same in every figure and on every device.
method_color(m) = m eq "softmax" ? "#0072B2" : m eq "alias" ? "#E69F00" : m eq "cdf" ? "#009E73" : \
    m eq "gumbel_topk" ? "#CC79A7" : m eq "gumbel_sort" ? "#56B4E9" : m eq "successive" ? "#D55E00" : \
    m eq "full_path" ? "#000000" : m eq "last" ? "#D55E00" : m eq "running" ? "#009E73" : \
    m eq "fused_loss" ? "#0072B2" : m eq "loss_only" ? "#CC79A7" : "#777777"
method_label(m) = m eq "gumbel_topk" ? "Gumbel top-k" : m eq "gumbel_sort" ? "Gumbel sort" : \
    m eq "full_path" ? "full path" : m eq "fused_loss" ? "fused loss" : m eq "loss_only" ? "loss only" : m
methods = ""
do for [s in series] { if (!strstrt(" " . methods . " ", " " . method_of(s) . " ")) { methods = methods . " " . method_of(s) } }
wheres = ""
do for [s in series] { if (!strstrt(" " . wheres . " ", " " . where_of(s) . " ")) { wheres = wheres . " " . where_of(s) } }
set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
set tmargin header_lines(title_text) + 1.6
set logscale xy
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
set format x "10^{%L}"
# One N: x is |Z| or B within less than a decade, where a log axis would show no tick at all.
if (exists("xlinear") && xlinear) { unset logscale x; set format x "%g"; set xtics autofreq }
set format y "10^{%L}"
set xlabel xlab
set ylabel "time per call (s)"
set key below horizontal maxcols 3 reverse Left samplen 2 width key_width + 1 height 0.6
file(s) = datadir . "/" . prefix . "-" . s . ".dat"
plot for [s in series] file(s) using 1:2 smooth unique with linespoints lw 1.1 pt 7 ps 0.35 \
         dt where_dash(where_of(s)) lc rgb method_color(method_of(s)), \
     for [s in series] file(s) using 1:2:4:5 with yerrorbars lw 0.8 pt 7 ps 0 lc rgb method_color(method_of(s)) notitle, \
     for [m in methods] keyentry with lines lw 1.1 lc rgb method_color(m) title method_label(m), \
     for [w in wheres] keyentry with lines lw 1.1 dt where_dash(w) lc rgb "#444444" title where_label(w)
