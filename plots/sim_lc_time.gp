# sim_lc_time.gp — each LC task's latency at its own percentile (the one its deadline
# uses) per metrics window, in ms, with its deadline (dashed, same colour, value and
# percentile in the legend). A window where nothing was served (its device down) has no
# point and the line stops there; a window with requests dropped is marked with a cross
# at the task's deadline.
# Drawn by record/de_plot.c from data it prepares from lc_windows.csv:
#   tmp/lc_time.dat   window middle (s), latency (ms); one block per task
#   tmp/lc_drop.dat   window middle, deadline (ms), task number (line type)
# Variables (-e): dir, tmp, term, ext, label, clock, names, pcts (percent), dls (ms),
# ndrop, xmax, window (s), sel (which tasks when not all).
set terminal @term
set output sprintf('%s/lc_latency.%s', dir, ext)
if (!exists('clock')) clock = 'simulated'
if (!exists('label')) label = ''
# twelve distinct colours (gnuplot's default repeats after eight)
array pal[12] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000', '#aec7e8']
do for [i=1:12] { set linetype i lc rgb pal[i] }
n = words(names)
if (n == 0) {
    set title sprintf('LC latency per window — %s', label) noenhanced
    set label 1 'no LC request was served in this run' at graph 0.5, graph 0.5 center
    unset key
    plot [0:1] [0:1] NaN notitle
    exit
}
t = sprintf('LC latency at each task''s deadline percentile, per %g s window — %s', window, label)
if (strlen(sel) > 0) t = t . "\n(" . sel . ")"
set title t noenhanced
set xlabel sprintf('%s time (s)', clock)
set xrange [0:(xmax > 0 ? xmax : 1)]
set ylabel 'latency at the task''s percentile (ms)'
set logscale y
set key outside right top noenhanced
set grid
f = sprintf('%s/lc_time.dat', tmp)
if (ndrop > 0) {
plot for [i=1:n] f index i-1 using 1:2 with linespoints pt 7 ps 0.6 lw 1.5 lc i \
         title sprintf('%s p%s', word(names, i), word(pcts, i)), \
     for [i=1:n] (word(dls, i) + 0) with lines dt 2 lw 1.5 lc i \
         title sprintf('%s deadline %s ms at p%s', word(names, i), word(dls, i), word(pcts, i)), \
     sprintf('%s/lc_drop.dat', tmp) using 1:2:3 with points pt 2 ps 1.2 lw 2 lc variable \
         title 'requests dropped (device down)'
} else {
plot for [i=1:n] f index i-1 using 1:2 with linespoints pt 7 ps 0.6 lw 1.5 lc i \
         title sprintf('%s p%s', word(names, i), word(pcts, i)), \
     for [i=1:n] (word(dls, i) + 0) with lines dt 2 lw 1.5 lc i \
         title sprintf('%s deadline %s ms at p%s', word(names, i), word(dls, i), word(pcts, i))
}
