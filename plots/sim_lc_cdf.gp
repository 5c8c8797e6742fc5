# sim_lc_cdf.gp — latency tail of every LC task over the whole run: the fraction of its
# served requests slower than x (log-log, so that the 95th and 99th percentiles are apart),
# and its deadline as a triangle at (deadline, 1 - percentile): the task meets it when its
# curve passes below its triangle.
# Drawn by record/de_plot.c from data it prepares from lc_cdf.csv:
#   tmp/lc_tail.dat  latency (ms), fraction slower; one block per task
#   tmp/lc_req.dat   deadline (ms), 1 - percentile, task number (line type)
# Variables (-e): dir, tmp, term, ext, label, names, pcts (percent), dls (ms), sel.
set terminal @term
set output sprintf('%s/lc_cdf.%s', dir, ext)
if (!exists('label')) label = ''
# twelve distinct colours (gnuplot's default repeats after eight)
array pal[12] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#000000', '#aec7e8']
do for [i=1:12] { set linetype i lc rgb pal[i] }
n = words(names)
if (n == 0) {
    set title sprintf('LC latency tail — %s', label) noenhanced
    set label 1 'no LC request was served in this run' at graph 0.5, graph 0.5 center
    unset key
    plot [0:1] [0:1] NaN notitle
    exit
}
t = sprintf('LC latency tail against each deadline at its percentile — %s', label)
if (strlen(sel) > 0) t = t . "\n(" . sel . ")"
set title t noenhanced
set xlabel 'latency (ms)'
set ylabel 'fraction of served requests slower'
set logscale xy
set format y '10^{%L}'
set yrange [*:1.5]
set key outside right top noenhanced
set grid
plot for [i=1:n] sprintf('%s/lc_tail.dat', tmp) index i-1 using 1:2 with steps lw 2 lc i \
         title sprintf('%s (p%s ≤ %s ms)', word(names, i), word(pcts, i), word(dls, i)), \
     sprintf('%s/lc_req.dat', tmp) using 1:2:3 with points pt 9 ps 2 lc variable \
         title 'deadline at its percentile (met: curve below)'
