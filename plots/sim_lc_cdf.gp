# sim_lc_cdf.gp — latency CDF of every LC task over the whole run, with its
# deadline (vertical) and percentile (horizontal) as dashed lines of the same colour.
# Called through record/de_plot.c as:
#   gnuplot -e "dir='OUT'; term='...'; ext='png|svg'; tasks='a b c'; label='...'" sim_lc_cdf.gp
set datafile separator ','
set terminal @term
set output sprintf('%s/lc_cdf.%s', dir, ext)
if (!exists('label')) label = ''
set title sprintf('LC request latency CDF against deadlines — %s', label) noenhanced
set xlabel 'latency (ms)'
set ylabel 'fraction of requests'
set logscale x
set yrange [0:1.02]
set key outside right top noenhanced
set grid
f = sprintf('%s/lc_cdf.csv', dir)
sel(name, col) = strcol(1) eq name ? column(col) : NaN
plot for [i=1:words(tasks)] f using (1000 * sel(word(tasks,i), 2)):3 skip 1 with steps lw 2 lc i title word(tasks,i), \
     for [i=1:words(tasks)] f using (1000 * sel(word(tasks,i), 4)):(0):(0):(1) skip 1 with vectors nohead dt 2 lc i \
         title sprintf('%s deadline', word(tasks,i))
