# sim_timeline.gp — per-device timeline of a run of `sim` or `run`: training, waiting for
# the others and the all-reduce (sync), checkpoints, planning, restarts (recover), down
# (the states of record/de_outputs.h), one colour each.
# One panel per span where the cluster worked (the time axis zoomed to it; a long idle span
# between two jobs splits the figure instead of leaving it blank): a device's bar in a time
# bin is stacked from the share of that bin it spent in each state (a short bar: idle for
# the rest). A last panel draws a few iterations as they are, state by state.
# Drawn by record/de_plot.c from data it prepares from timeline.csv and iterations.csv:
#   tmp/tl_bins.dat    x y xlo xhi ylo yhi colour, one block per span
#   tmp/tl_detail.dat  the same for the detail panel
# Variables (-e): dir, tmp, term, ext, label (scenario and policy), clock, devs (row names),
# kh (one legend row, fraction of the height), nrows, ystep (label every ystep-th row), nspans, spans ('lo hi binwidth' per span),
# more (spans not drawn), detail (0/1), dlo, dhi, dtitle, idle (devices in no plan).
set terminal @term
set output sprintf('%s/timeline.%s', dir, ext)
if (!exists('clock')) clock = 'simulated'
if (!exists('label')) label = ''
if (nspans == 0) {
    set title sprintf('Device timeline — %s', label) noenhanced
    set label 1 'no device trained or was down in this run' at graph 0.5, graph 0.5 center
    unset key
    plot [0:1] [0:1] NaN notitle
    exit
}
panels = nspans + (detail ? 1 : 0)
head = sprintf('Device timeline — %s', label)
if (strlen(idle) > 0) head = head . "\n(" . idle . ")"
if (strlen(more) > 0) head = head . sprintf('  [%s]', more)
set multiplot layout panels, 1 title head noenhanced
set lmargin at screen 0.10
set rmargin at screen 0.84
set ytics () nomirror
do for [i=1:nrows:ystep] { set ytics add (word(devs, i) i - 1) }
set yrange [nrows - 0.5:-0.5]
set ylabel 'device'
set xlabel sprintf('%s time (s)', clock)
set grid xtics
set style fill solid 1.0 noborder
unset key
# the legend: one swatch per state at the right of the first panel (screen coordinates:
# kh is one legend row as a fraction of the figure's height)
array tlc[6] = ['#1f77b4', '#bdbdbd', '#2ca02c', '#9467bd', '#ff7f0e', '#d62728']
array tln[6] = ['train', 'sync / all-reduce', 'checkpoint', 'planning', 'restart (recover)', 'down']
do for [k=1:6] {
    y = 0.97 - 2.5 * kh - (k - 1) * 1.4 * kh
    set object k rect from screen 0.86, screen y - 0.4 * kh to screen 0.89, screen y + 0.4 * kh fc rgb tlc[k] fs solid noborder
    set label k tln[k] at screen 0.90, screen y left
}
do for [p=0:nspans-1] {
    lo = word(spans, 3 * p + 1) + 0.0
    hi = word(spans, 3 * p + 2) + 0.0
    bw = word(spans, 3 * p + 3) + 0.0
    set xrange [lo:hi]
    set title sprintf('%.1f s to %.1f s: share of each state per %.3g s bin', lo, hi, bw) noenhanced
    plot sprintf('%s/tl_bins.dat', tmp) index p using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable notitle
    if (p == 0) { unset object; unset label }
}
if (detail) {
    set xrange [dlo:dhi]
    set title dtitle noenhanced
    plot sprintf('%s/tl_detail.dat', tmp) using 1:2:3:4:5:6:7 with boxxyerror lc rgb variable notitle
}
unset multiplot
