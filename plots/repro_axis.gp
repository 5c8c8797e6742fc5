# repro_axis.gp — one axis of `deepedge reproduce`: re-training time (left) and the share of
# LC requests over their deadline or dropped (right) against the axis's value, one colour per
# policy (the same in every figure), mean and 95% confidence interval over the seeds.
# Drawn through record/de_plot.c (de_plot_both) with:
#   data   x, re-training mean, low, high (s), violations mean, low, high (%), runs; a block
#          per policy, in the order of `names`
#   out    output path without extension; term, ext (png or svg)
#   title, xl (x label), logx (0/1), names (policies), lts (their line types), xlo, xhi
set terminal @term
set output out . '.' . ext
array pal[12] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000', '#aec7e8']
do for [i=1:12] { set linetype i lc rgb pal[i] pt (i % 2 ? 7 : 5) }
n = words(names)
set multiplot title title noenhanced
set grid
set xlabel xl noenhanced
if (logx) {
    set logscale x
    set xrange [xlo / 1.25:xhi * 1.25]
} else {
    m = (xhi - xlo) * 0.06
    set xrange [xlo - m:xhi + m]
}
# the two panels side by side, the legend right of them
set key at screen 0.83, screen 0.88 left top Left reverse noenhanced
set origin 0, 0
set size 0.41, 0.95
set ylabel 're-training time (s, simulated)'
set yrange [0:*]
plot for [i=1:n] data index i-1 using 1:2:3:4 with yerrorlines lw 1.5 ps 0.9 lt (word(lts, i) + 0) title word(names, i)
set ylabel 'LC requests over deadline or dropped (%)'
set yrange [0:*]
unset key
set origin 0.41, 0
set size 0.41, 0.95
plot for [i=1:n] data index i-1 using 1:5:6:7 with yerrorlines lw 1.5 ps 0.9 lt (word(lts, i) + 0) title word(names, i)
unset multiplot
