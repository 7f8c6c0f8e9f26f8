# Shared look of every isbench figure: terminal (PNG or PDF at paper column width), fonts, and the
# colour/line style of each configuration. Callers set: fmt ("png" or "pdf"), out (file without
# extension), and optionally w_in, h_in (inches; default one 3.4in column).
if (!exists("w_in")) w_in = 3.4
if (!exists("h_in")) h_in = 2.6
# PNG at 200 dpi: fonts and lines scaled from points so both outputs look the same. gnuplot
# overestimates text width in PDF, so legends there get a narrower column width (key_width).
dpi = 200
key_width = fmt eq "pdf" ? -2 : 1
if (fmt eq "pdf") {
    # pdfcairo halves fonts by default (fontscale 0.5): 1.0 gives true 8 pt text.
    set terminal pdfcairo enhanced color size w_in, h_in font "Helvetica,8" fontscale 1.0 linewidth 2
} else {
    set terminal pngcairo enhanced color size w_in * dpi, h_in * dpi font "Helvetica,8" fontscale dpi / 72.0 linewidth dpi / 72.0
}
set output out . "." . fmt
set encoding utf8
set border lw 0.8
set tics nomirror out scale 0.6
set grid lc rgb "#dddddd" lw 0.5
set key noautotitle

# One colour per sampler (Okabe-Ito, colour-blind safe), solid with augmentation, dashed without.
# A sampler not named here gets the fourth colour.
sampler_color(c) = strstrt(c, "uniform") ? "#0072B2" : strstrt(c, "last-loss") ? "#D55E00" : \
                   strstrt(c, "running-loss") ? "#009E73" : "#CC79A7"
dash(c) = strstrt(c, "noaug") ? 2 : 1
set dashtype 2 (14, 7)
sampler_label(s) = s eq "last-loss" ? "last loss" : (s eq "running-loss" ? "running loss" : s)
config_label(c) = strstrt(c, "noaug") ? sampler_label(c[1:strstrt(c, "-noaug") - 1]) . ", no aug." \
                                      : sampler_label(c[1:strstrt(c, "-aug") - 1]) . ", aug."
aug_label(a) = a eq "noaug" ? "not augmented" : "augmented"

# Figure heading centred on the canvas (a title centres on the plot area, which the y label shifts
# right). Scripts with one plot use:
#   set label 99 title_text at screen 0.5, screen 1 center offset 0, -1 front
#   set tmargin header_lines(title_text) + 1.2
header_lines(t) = 1 + sum [i = 1:strlen(t)] (t[i:i] eq "\n" ? 1 : 0)
