# pareto.gp - accuracy against cost with the Pareto fronts (pipelines/report.sh).
#
# report.sh loads a small generated file first that defines:
#   outdir   folder to write the PNGs into
#   nruns    number of runs drawn on each plot
#   T[i]     legend title of run i
#   A[i]     every ok child of run i: params mult_adds accuracy
#   FP[i]    its front against params:    accuracy params mult_adds
#   FM[i]    its front against mult-adds: accuracy params mult_adds
#
# cost-params.png  accuracy against parameters, the front joined and ringed
# cost-macs.png    accuracy against mult-adds per image, the same

set terminal pngcairo size 900,540 enhanced font "sans,11" linewidth 1.2
set datafile separator whitespace
set grid lc rgb "#d0d0d0"
set key outside top center horizontal noenhanced
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
set ylabel "validation accuracy"
set format x "%.0s%c"

set output outdir."/cost-params.png"
set title "Accuracy against parameters (rings and line: the Pareto front)"
set xlabel "parameters"
plot for [i=1:nruns] A[i] using 1:3 with points pt 7 ps 0.7 lc i title T[i], \
     for [i=1:nruns] FP[i] using 2:1 with steps lw 1.5 lc i notitle, \
     for [i=1:nruns] FP[i] using 2:1 with points pt 6 ps 1.8 lw 1.5 lc i notitle

set output outdir."/cost-macs.png"
set title "Accuracy against mult-adds per image (rings and line: the Pareto front)"
set xlabel "mult-adds per image"
plot for [i=1:nruns] A[i] using 2:3 with points pt 7 ps 0.7 lc i title T[i], \
     for [i=1:nruns] FM[i] using 3:1 with steps lw 1.5 lc i notitle, \
     for [i=1:nruns] FM[i] using 3:1 with points pt 6 ps 1.8 lw 1.5 lc i notitle

unset output
