# sim_timeline.gp — per-device timeline of a run of `sim` or `run`: training, waiting for
# the others and the all-reduce (sync), checkpoints, planning, restarts (recover), down.
# The states are those of record/de_outputs.h. Called through record/de_plot.c as:
#   gnuplot -e "dir='OUT'; term='...'; ext='png|svg'; clock='simulated'; label='SCENARIO, POLICY'" sim_timeline.gp
set datafile separator ','
set terminal @term
set output sprintf('%s/timeline.%s', dir, ext)
if (!exists('clock')) clock = 'simulated'
if (!exists('label')) label = ''
set title sprintf('Device timeline — %s', label) noenhanced
set xlabel sprintf('%s time (s)', clock)
set ylabel 'device'
set key outside right top
set grid xtics
set offsets 0, 0, 0.6, 0.6
f = sprintf('%s/timeline.csv', dir)
seg(s) = strcol(5) eq s ? $2 : NaN
# the first clause names the devices on the y axis
plot f using 3:2:(0):(0):ytic(1) skip 1 with vectors nohead lc rgb '#ffffff' notitle, \
     f using 3:(seg('train')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#1f77b4' title 'train', \
     f using 3:(seg('sync')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#bdbdbd' title 'sync / all-reduce', \
     f using 3:(seg('checkpoint')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#2ca02c' title 'checkpoint', \
     f using 3:(seg('plan')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#9467bd' title 'planning', \
     f using 3:(seg('recover')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#ff7f0e' title 'restart', \
     f using 3:(seg('down')):($4-$3):(0) skip 1 with vectors nohead lw 8 lc rgb '#d62728' title 'down'
