#!/bin/sh
# plot-watcher.sh — the watcher figure, like L4ReAnimator's Figure 8 (paper
# 000 §4): overhead of the capability watcher on a CPU-bound job against the
# number of watched capabilities (log scale), one line per watch period and
# one for event mode.
#   bench/plot-watcher.sh [DIR]    (default docs/benchmarks)
# Reads DIR/watcher.dat as `rv-bench --out DIR` writes it (job and watcher
# on one core; columns: capabilities, then the overhead by CPU time at 1,
# 10, 100 ms and in event mode, then the same by wall-clock time, then the
# watcher's own CPU time) and plots the last: on this VM the job's own
# speed varies by several % from run to run, the watcher's CPU time does
# not, and on one core it is the overhead less its indirect part (caches).
# Log y: event mode is ~0.001%. Writes DIR/watcher.png.
set -eu
dir=${1:-docs/benchmarks}
dat=$dir/watcher.dat
if [ ! -f "$dat" ]; then
    echo "plot-watcher.sh: $dat not found; run rv-bench --only caps --out $dir first" >&2
    exit 1
fi
# pngcairo draws smoother lines; plain png (libgd) is the fallback.
term=png
gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && term=pngcairo
gnuplot <<GP
set terminal $term size 800,480
set output '$dir/watcher.png'
set xlabel 'watched capabilities'
set ylabel 'watcher CPU time, % of the job (log)'
set logscale x
set logscale y
set format y '%g'
set xtics ('10' 10, '100' 100, '1000' 1000)
set xrange [7:1400]
set yrange [0.0002:100]
set grid ytics
set key top left
set title 'revive: watcher CPU time on a matrix multiplication, one core (cf. L4ReAnimator Fig. 8)'
plot '$dat' using 1:10 with linespoints lw 2 pt 7 title 'period 1 ms', \
     '' using 1:11 with linespoints lw 2 pt 5 title 'period 10 ms', \
     '' using 1:12 with linespoints lw 2 pt 9 title 'period 100 ms', \
     '' using 1:13 with linespoints lw 2 pt 13 dt 2 title 'event mode'
GP
echo "wrote $dir/watcher.png"
