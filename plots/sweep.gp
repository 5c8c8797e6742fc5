# sweep.gp — a what-if sweep over one numeric scenario key: re-training time (left
# axis) and the fraction of LC requests over their deadline (right axis), one point
# per run (seed, policy).
# Called by `deepedge sweep` as: gnuplot -e "dir='OUT'; key='KEY'; term='...'; ext='png|svg'" sweep.gp
set datafile separator ','
set terminal @term
set output sprintf('%s/sweep.%s', dir, ext)
set title sprintf('what-if sweep over %s', key) noenhanced
set xlabel key noenhanced
set ylabel 're-training time (s)'
set y2label 'LC requests over deadline (%)'
set ytics nomirror
set y2tics
set key outside right top
set grid
f = sprintf('%s/sweep.csv', dir)
plot f using 1:5 skip 1 with points pt 7 ps 1.2 title 're-training time', \
     f using 1:($9*100) skip 1 axes x1y2 with points pt 6 ps 1.2 title 'LC requests over deadline'
