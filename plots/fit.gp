# fit.gp — one performance-model fit: measured points and the fitted curve of each
# series (top), relative residuals (bottom). Written by `deepedge fit`; run as
#   gnuplot -e "data='D'; curve='C'; out='OUT'; title='T'; xl='X'; yl='Y'; n=N" plots/fit.gp
# where D holds one block per series (a quoted label line, then x y fitted resid_pct),
# C the model curve of each series (label line, then x fitted), N the number of
# series; OUT is the output path without extension: OUT.png and OUT.svg are written.
if (!exists("data") || !exists("curve") || !exists("out") || !exists("n")) {
    print "fit.gp: set data, curve, out and n with -e"
    exit status 2
}
if (!exists("title")) title = "fit"
if (!exists("xl")) xl = "x"
if (!exists("yl")) yl = "y"

set datafile commentschars "#"
do for [term = 1:2] {
    if (term == 1) {
        if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
            set terminal pngcairo size 900,760 enhanced font ",10"
        } else {
            set terminal png size 900,760
        }
        set output out.".png"
    } else {
        set terminal svg size 900,760 enhanced font ",10"
        set output out.".svg"
    }
    set multiplot title title noenhanced
    set origin 0, 0.3
    set size 1, 0.68
    set key top left noenhanced
    set grid
    set xlabel xl
    set ylabel yl
    set autoscale
    set yrange [0:*]
    plot for [i=0:n-1] curve index i using 1:2 with lines lc i+1 notitle, \
         for [i=0:n-1] data index i using 1:2 with points pt 7 ps 1.2 lc i+1 title columnheader(1)
    set origin 0, 0
    set size 1, 0.3
    unset key
    set xlabel xl
    set ylabel "residual (%)"
    set autoscale y
    plot for [i=0:n-1] data index i using 1:4 with impulses lw 2 lc i+1, 0 lc "black" notitle
    unset multiplot
    unset output
}
