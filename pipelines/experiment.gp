# experiment.gp - the top-k plot of `make experiment` (pipelines/experiment.sh).
#
# experiment.sh loads a small generated file first that defines:
#   outfile   the PNG to write
#   ng        number of curve sets (strategy x schedule)
#   D[i]      table of set i: round images cpu_hours seeds top1 se1 top5 se5 top25 se25
#             (NaN while fewer than k children were evaluated)
#   T[i]      legend title of set i
#   rate      CPU hours per training image over the whole experiment (0: unknown)
#   budget    the budget in training images (a vertical line)
#
# Lines: mean over seeds of the top-1 (solid), top-5 (dashed), top-25 (dotted) rewards so far;
# bands: one standard error (zero width with one seed).

set terminal pngcairo size 1000,600 enhanced font "sans,11" linewidth 1.2
set output outfile
set datafile separator whitespace
set grid lc rgb "#d0d0d0"
set key outside right top vertical noenhanced
set border 3
set tics nomirror
set linetype 1 lc rgb "#1f77b4"
set linetype 2 lc rgb "#d62728"
set linetype 3 lc rgb "#2ca02c"
set linetype 4 lc rgb "#9467bd"
set linetype 5 lc rgb "#ff7f0e"
set linetype 6 lc rgb "#8c564b"
set linetype 7 lc rgb "#e377c2"
set linetype 8 lc rgb "#7f7f7f"
set linetype cycle 8
set xlabel "training images processed (all children and rungs)"
set ylabel "mean of the top-k rewards so far"
set format x "%.0s%c"
set xrange [0:*]
if (rate > 0) {
	set border 7
	set x2tics nomirror
	set x2label "CPU hours (at the experiment's mean CPU time per image)"
	set link x2 via x * rate inverse x / rate
	set format x2 "%.3g"
}
set arrow 1 from budget, graph 0 to budget, graph 1 nohead dt 4 lc rgb "#606060"
set style fill transparent solid 0.15 noborder
plot for [i=1:ng] D[i] using 2:($5 - $6):($5 + $6) with filledcurves lc i notitle, \
     for [i=1:ng] D[i] using 2:($7 - $8):($7 + $8) with filledcurves lc i notitle, \
     for [i=1:ng] D[i] using 2:($9 - $10):($9 + $10) with filledcurves lc i notitle, \
     for [i=1:ng] D[i] using 2:5 with linespoints lw 2 dt 1 pt 7 ps 0.6 lc i title T[i], \
     for [i=1:ng] D[i] using 2:7 with linespoints lw 2 dt 2 pt 6 ps 0.6 lc i notitle, \
     for [i=1:ng] D[i] using 2:9 with linespoints lw 2 dt 3 pt 4 ps 0.6 lc i notitle, \
     NaN with linespoints lw 2 dt 1 pt 7 ps 0.6 lc rgb "black" title "top-1", \
     NaN with linespoints lw 2 dt 2 pt 6 ps 0.6 lc rgb "black" title "top-5", \
     NaN with linespoints lw 2 dt 3 pt 4 ps 0.6 lc rgb "black" title "top-25"
unset output
