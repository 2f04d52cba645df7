#!/bin/sh
# plot.sh — the campaign figure, like CuriOS Figure 5: for each service and
# fault type (M, R) with a CSV in DIR, one bar of the manifested faults split
# into recovered / recovered with loss / not recovered, in percent; beside
# it the baseline campaign's bar (state preservation off), where there is one.
#   src/tools/campaign/plot.sh [DIR]    (default docs/fault-injection)
# Reads DIR/<service>-<M|R>[-baseline].csv as rv-campaign writes them; writes
# DIR/recovery.dat (the numbers) and DIR/recovery.png.
set -eu
dir=${1:-docs/fault-injection}
dat=$dir/recovery.dat
echo "# bar manifested recovered% with_loss% not_recovered%" > "$dat"
for svc in random timer kv; do
    for run in M M-baseline R R-baseline; do
        t=$(echo "$run" | sed 's/-baseline/-base/')
        csv=$dir/$svc-$run.csv
        [ -f "$csv" ] || continue
        # Quoted fields (function, instruction, detail) may hold commas:
        # blank them, then the recovery class is column 8.
        sed 's/"[^"]*"/x/g' "$csv" | awk -F, -v bar="$svc-$t" '
            NR > 1 { if ($8 == "RECOVERED") r++; else if ($8 == "RECOVERED_WITH_LOSS") l++;
                     else if ($8 == "NOT_RECOVERED") n++ }
            END { m = r + l + n; if (m == 0) m = 1;
                  printf "%s %d %.1f %.1f %.1f\n", bar, r + l + n, 100*r/m, 100*l/m, 100*n/m }' >> "$dat"
    done
done
gnuplot <<GP
set terminal pngcairo size 1100,500
set output '$dir/recovery.png'
set title 'revive: recovery of manifested faults (CuriOS Fig. 5 style)'
set ylabel '% of manifested faults'
set yrange [0:105]
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set bmargin 5
set xtics rotate by -35 font ",10"
set key outside right
plot '$dat' using 3:xtic(sprintf("%s\n(n=%d)", strcol(1), column(2))) title 'recovered' lc rgb '#2e7d32', \
     '' using 4 title 'recovered with loss' lc rgb '#f9a825', \
     '' using 5 title 'not recovered' lc rgb '#c62828'
GP
echo "wrote $dir/recovery.png"
