# sim_lc_time.gp — each LC task's latency at its own percentile (its deadline's) per
# metrics window over time, in ms, with its deadline (dashed, same colour). A window where
# its device was down and nothing was served has no point (the line joins its neighbours).
# Called through record/de_plot.c as:
#   gnuplot -e "dir='OUT'; term='...'; ext='png|svg'; tasks='a b c'; clock='...'; label='...'" sim_lc_time.gp
set datafile separator ','
# rows of other tasks select NaN: missing, so that each task's line joins its own windows
set datafile missing NaN
set terminal @term
set output sprintf('%s/lc_latency.%s', dir, ext)
if (!exists('clock')) clock = 'simulated'
if (!exists('label')) label = ''
set title sprintf('LC latency at each task''s percentile, per window — %s', label) noenhanced
set xlabel sprintf('%s time (s)', clock)
# from zero: a run shorter than one window has one point per task, and the axis still has a span
set xrange [0:*]
set ylabel 'latency at the percentile (ms)'
set logscale y
set key outside right top noenhanced
set grid
f = sprintf('%s/lc_windows.csv', dir)
sel(name, col) = strcol(3) eq name ? column(col) : NaN
# columns: 2 end_s, 10 pct_s, 11 percentile, 12 deadline_s (record/de_outputs.h)
# the deadline, dashed, along the windows; a run shorter than two windows per task has one
# row per task, so its deadline is drawn as a segment over that window instead
stats f using 2 skip 1 nooutput
if (STATS_records > words(tasks)) {
plot for [i=1:words(tasks)] f using 2:(1000 * sel(word(tasks,i), 10)) skip 1 with linespoints pt 7 ps 0.7 lw 1.5 lc i \
         title word(tasks,i), \
     for [i=1:words(tasks)] f using 2:(1000 * sel(word(tasks,i), 12)) skip 1 with lines dt 2 lc i \
         title sprintf('%s deadline', word(tasks,i))
} else {
plot for [i=1:words(tasks)] f using 2:(1000 * sel(word(tasks,i), 10)) skip 1 with points pt 7 ps 1 lc i \
         title word(tasks,i), \
     for [i=1:words(tasks)] f using 1:(1000 * sel(word(tasks,i), 12)):(column(2) - column(1)):(0) skip 1 \
         with vectors nohead dt 2 lc i title sprintf('%s deadline', word(tasks,i))
}
