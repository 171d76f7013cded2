# plot_strategies.gp - best-so-far test accuracy (of the best cell by
# validation) against cells evaluated, mean over seeds, one line per strategy.
# Usage: gnuplot -e "dir='build/bench'" -e "strategies='ppo random'" bench/plot_strategies.gp
# (benchmark.mk passes the strategies it ran: lib/search/strategy.c's table)
if (!exists("dir")) dir = 'build/bench'
if (!exists("strategies")) strategies = system("ls ".dir."/strategies-*.tsv | sed 's|.*/strategies-||; s|[.]tsv$||' | tr '\n' ' '")
set terminal pngcairo size 900,600 noenhanced
set output dir.'/strategies.png'
set title 'NAS-Bench-201 CIFAR-10 (12 epochs): best-by-validation cell, mean over seeds'
set xlabel 'cells evaluated'
set ylabel 'test accuracy (%)'
set key bottom right
set grid
set yrange [84:89.5]
plot for [s in strategies] dir.'/strategies-'.s.'.tsv' \
	using 1:2 with lines lw 2 title s
