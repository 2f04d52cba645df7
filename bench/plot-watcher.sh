#!/bin/sh
# plot-watcher.sh — the watcher figure, like L4ReAnimator's Figure 8 (paper
# 000 §4): overhead of the capability watcher on a CPU-bound job against the
# number of watched capabilities (log scale), one line per watch period and
# one for event mode.
#   bench/plot-watcher.sh [DIR]    (default docs/bench)
# Reads DIR/watcher.dat as `rv-bench --out DIR` writes it (columns:
# capabilities, then overhead % at 1, 10, 100 ms and in event mode, job and
# watcher on one core); writes DIR/watcher.png.
set -eu
dir=${1:-docs/bench}
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
set title 'revive: capability watcher overhead on a matrix multiplication (L4ReAnimator Fig. 8 style)'
set xlabel 'watched capabilities'
set ylabel 'overhead (%)'
set logscale x
set xtics ('10' 10, '100' 100, '1000' 1000)
set xrange [7:1400]
set grid ytics
set key top left
set zeroaxis
plot '$dat' using 1:2 with linespoints lw 2 pt 7 title 'period 1 ms', \
     '' using 1:3 with linespoints lw 2 pt 5 title 'period 10 ms', \
     '' using 1:4 with linespoints lw 2 pt 9 title 'period 100 ms', \
     '' using 1:5 with linespoints lw 2 pt 13 dt 2 title 'event mode'
GP
echo "wrote $dir/watcher.png"
