# timeseries.gp - lines of chosen columns of a run's timeseries.csv over time.
#
# gnuplot -e "csv='out/x/timeseries.csv'; cols='gossip.informed gossip.infective'; \
#             out='out/x/timeseries.png'; title='...'; ylabel='nodes'" plots/timeseries.gp
#
# cols are column names from the CSV header, separated by spaces.  Writes a
# PNG (pngcairo) to out, and an SVG next to it.
if (!exists("title")) title = 'time series'
if (!exists("ylabel")) ylabel = 'value'

set datafile separator ','
set key inside top left noautotitle
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

do for [fmt in 'png svg'] {
    if (fmt eq 'png') {
        set terminal pngcairo size 900,500 font 'sans,11'
        set output out
    } else {
        set terminal svg size 900,500 font 'sans,11' dynamic
        set output out[1:strlen(out)-4].'.svg'
    }
    plot for [i=1:words(cols)] csv using 'time_s':word(cols, i) with steps ls i title word(cols, i) noenhanced
    unset output
}
