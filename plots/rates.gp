# rates.gp - per-second rates of cumulative counters from a run's
# timeseries.csv, with an optional shaded window (a fault).
#
# gnuplot -e "csv='out/x/timeseries.csv'; cols='kv.reads kv.stale_reads'; \
#             out='out/x/rates.png'; title='...'; ylabel='per second'; \
#             shade_from=10; shade_to=20; shade_label='partition'" plots/rates.gp
#
# cols are counter names from the CSV header, separated by spaces; each is
# drawn as (value - previous value) / (time - previous time) over the
# interval that ends at each sample.  Writes a PNG (pngcairo) to out and an
# SVG next to it.
if (!exists("title")) title = 'rates'
if (!exists("ylabel")) ylabel = 'per second'

set datafile separator ','
set key inside top right noautotitle box opaque
set grid lc rgb '#dddddd'
set border 3
set tics nomirror
set xlabel 'simulated time (s)'
set ylabel ylabel
set title title noenhanced
set yrange [0:*]
set style line 1 lw 2 lc rgb '#1f77b4'
set style line 2 lw 2 lc rgb '#d62728'
set style line 3 lw 2 lc rgb '#2ca02c'
set style line 4 lw 2 lc rgb '#9467bd'
if (exists("shade_from") && exists("shade_to")) {
    set object 1 rect from shade_from, graph 0 to shade_to, graph 1 behind \
        fc rgb '#f2e6c9' fs solid noborder
    if (exists("shade_label")) {
        set label 1 shade_label at (shade_from + shade_to) / 2.0, graph 0.95 center noenhanced
    }
}

# The first row of each curve only records its value (column(0) is the row
# number), so a curve never uses the previous curve's last row.
rate(name) = (v = column(name), t = column('time_s'), \
              r = column(0) == 0 || t <= tp ? NaN : (v - vp) / (t - tp), vp = v, tp = t, r)
vp = 0; tp = 0

do for [fmt in 'png svg'] {
    if (fmt eq 'png') {
        set terminal pngcairo size 900,500 font 'sans,11'
        set output out
    } else {
        set terminal svg size 900,500 font 'sans,11' dynamic
        set output out[1:strlen(out)-4].'.svg'
    }
    plot for [i=1:words(cols)] csv using 'time_s':(rate(word(cols, i))) with fsteps ls i \
         title word(cols, i).' per second' noenhanced
    unset output
}
