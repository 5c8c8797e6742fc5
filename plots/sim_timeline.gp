# sim_timeline.gp — per-device timeline of a simulation run: training, waiting for
# the others and the all-reduce (sync), recovery (checkpoint, re-plan, restart), down.
# Called by `deepedge sim` as: gnuplot -e "dir='OUT'; term='...'; ext='png|svg'" sim_timeline.gp
set datafile separator ','
set terminal @term
set output sprintf('%s/timeline.%s', dir, ext)
set title 'Device timeline' noenhanced
if (!exists('clock')) clock = 'simulated'
set xlabel sprintf('%s time (s)', clock)
set ylabel 'device index'
set key outside right top
set grid xtics
set yrange [-1:*]
f = sprintf('%s/timeline.csv', dir)
seg(s) = strcol(5) eq s ? $2 : NaN
plot f using 3:(seg('sync')):($4-$3):(0) skip 1 with vectors nohead lw 6 lc rgb '#c7c7c7' title 'sync / all-reduce', \
     f using 3:(seg('train')):($4-$3):(0) skip 1 with vectors nohead lw 6 lc rgb '#1f77b4' title 'train', \
     f using 3:(seg('recover')):($4-$3):(0) skip 1 with vectors nohead lw 6 lc rgb '#ff7f0e' title 'recovery', \
     f using 3:(seg('down')):($4-$3):(0) skip 1 with vectors nohead lw 6 lc rgb '#d62728' title 'down'
