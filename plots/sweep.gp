# sweep.gp — a what-if sweep over one numeric axis, from sweep_summary.csv (one row per
# grid point and policy: mean, min and max over the seeds): re-training time (top; the
# mean iteration time when no run finished its jobs) and the fraction of LC requests over
# their deadline (bottom) against the varied key, one series per policy (its own colour
# and point type), the mean with min-max bars over the seeds.
# Called by `deepedge sweep` as: gnuplot -e "dir='OUT'; xlabel='KEY (UNIT)'; title='...';
#   policies='deep-edge exact ...'; pcol=N; ycol=N; vcol=N; ylabel='...'; term='...';
#   ext='png|svg'" sweep.gp
# (pcol: the policy column; ycol, vcol: the mean columns of the top and bottom panels,
# followed by their min and max.)
set datafile separator ','
set terminal @term
set output sprintf('%s/sweep.%s', dir, ext)
f = sprintf('%s/sweep_summary.csv', dir)
n = words(policies)
pts = '7 5 9 11 13 15 4 6 8 10'
sel(c, i) = strcol(pcol) eq word(policies, i) ? column(c) : NaN
set multiplot layout 2,1 title title noenhanced font ',13'
set grid
set offsets graph 0.03, graph 0.03, graph 0.05, 0
set key outside right top noenhanced
set ylabel ylabel noenhanced
set xlabel xlabel noenhanced
set yrange [0:*]
plot for [i=1:n] f skip 1 using 1:(sel(ycol, i)):(sel(ycol + 1, i)):(sel(ycol + 2, i)) \
     with yerrorlines lc i pt (word(pts, i) + 0) ps 1.3 lw 2 title word(policies, i)
set ylabel 'LC requests over deadline (%)'
plot for [i=1:n] f skip 1 using 1:(100 * sel(vcol, i)):(100 * sel(vcol + 1, i)):(100 * sel(vcol + 2, i)) \
     with yerrorlines lc i pt (word(pts, i) + 0) ps 1.3 lw 2 title word(policies, i)
unset multiplot
