# sim_lc_time.gp — each LC task's p95 latency per metrics window over time, with
# its deadline (dashed, same colour).
# Called by `deepedge sim` as: gnuplot -e "dir='OUT'; term='...'; ext='png|svg'; tasks='a b c'" sim_lc_time.gp
set datafile separator ','
# rows of other tasks select NaN: missing, so that each task's line joins its own windows
set datafile missing NaN
set terminal @term
set output sprintf('%s/lc_latency.%s', dir, ext)
set title 'LC p95 latency per window' noenhanced
if (!exists('clock')) clock = 'simulated'
set xlabel sprintf('%s time (s)', clock)
set ylabel 'p95 latency (s)'
set logscale y
set key outside right top noenhanced
set grid
f = sprintf('%s/lc_windows.csv', dir)
sel(name, col) = strcol(3) eq name ? column(col) : NaN
plot for [i=1:words(tasks)] f using 2:(sel(word(tasks,i), 8)) skip 1 with linespoints pt 7 ps 0.4 lw 1.5 lc i title word(tasks,i), \
     for [i=1:words(tasks)] f using 2:(sel(word(tasks,i), 10)) skip 1 with lines dt 2 lc i notitle
