# report.gp - the plots of `make report` (pipelines/report.sh), one PNG each.
#
# report.sh loads a small generated file first that defines:
#   outdir     folder to write the PNGs into
#   nruns      number of runs drawn on each plot
#   T[i]       legend title of run i
#   C[i]       children table of run i: order round reward best_so_far ok(1/0) rung
#   R[i]       rounds table of run i:   round mean min max count
#   roundtics  1 to put a tic on every round (few rounds), 0 for automatic tics
#   childtics  the same for the children axis
#
# children.png  every child's reward over evaluation order (failed children as
#               crosses at their reward 0), with each run's best-so-far as a step line;
#               a child promoted by successive halving gets one open ring per rung
# best.png      best reward so far over evaluation order
# rounds.png    mean reward per round, bars from the round's min to its max

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
set yrange [0:*]
# x exactly spans the data, half a step of margin each side
set autoscale xfix
set offsets 0.5, 0.5, 0.02, 0

set output outdir."/children.png"
set title "Reward of every child"
set xlabel "child (evaluation order)"
set ylabel "reward"
if (childtics) { set xtics 1 }
plot for [i=1:nruns] C[i] using 1:($5 == 1 ? $3 : NaN) with points pt 7 ps 0.8 lc i title T[i], \
     for [i=1:nruns] C[i] using 1:($5 == 0 ? $3 : NaN) with points pt 2 ps 1.0 lc i notitle, \
     for [i=1:nruns] for [k=1:4] C[i] using 1:($6 >= k ? $3 : NaN) with points pt 6 ps (0.8 + 0.7 * k) lc i notitle, \
     for [i=1:nruns] C[i] using 1:4 with steps lw 1.5 dt 2 lc i notitle

set output outdir."/best.png"
set title "Best reward so far"
plot for [i=1:nruns] C[i] using 1:4 with steps lw 2.5 lc i title T[i]

set output outdir."/rounds.png"
set title "Mean reward per round (bars: min to max)"
set xlabel "round"
if (roundtics) { set xtics 1 } else { set xtics autofreq }
# runs side by side around each round so their bars do not hide each other
dx(i) = nruns > 1 ? (i - 1 - (nruns - 1) / 2.0) * 0.12 : 0
plot for [i=1:nruns] R[i] using ($1 + dx(i)):2:3:4 with yerrorlines lw 2 pt 7 ps 0.9 lc i title T[i]

unset output
