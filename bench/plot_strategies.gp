# plot_strategies.gp - best-so-far test accuracy (of the best cell by
# validation) against cells evaluated, mean over seeds, one line per strategy.
# Usage: gnuplot -e "dir='build/bench'" bench/plot_strategies.gp
if (!exists("dir")) dir = 'build/bench'
set terminal pngcairo size 900,600 noenhanced
set output dir.'/strategies.png'
set title 'NAS-Bench-201 CIFAR-10 (12 epochs): best-by-validation cell, mean over seeds'
set xlabel 'cells evaluated'
set ylabel 'test accuracy (%)'
set key bottom right
set grid
set yrange [84:89.5]
plot for [s in 'ppo reinforce random evolution'] dir.'/strategies-'.s.'.tsv' \
	using 1:2 with lines lw 2 title s
