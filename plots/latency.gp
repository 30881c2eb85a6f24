# latency.gp - cumulative distributions of a run's latency histograms.
#
# gnuplot -e "plotdir='plots'; data='../latency_cdf.dat'; n=2; out='latency'" plots/latency.gp
#
# data holds n blocks (two blank lines between): a header line whose first
# field, in double quotes, is the histogram's name (the curve's title, read
# as data), then the upper bound of each bucket in ms and the fraction of
# samples at or below it.  Writes out.png and out.svg.
load plotdir.'/style.gp'
set datafile separator whitespace
set title 'Latency: fraction of operations finished within a time (CDF)'
set xlabel 'latency (ms, log scale)'
set ylabel 'fraction of operations at or below'
set logscale x
set format x '%g'
set yrange [0:1.02]
set ytics 0.1
set key bottom right box opaque
# Reference lines at the median and the tail percentiles.
do for [p in '0.5 0.9 0.99'] {
    set arrow from graph 0, first p+0 to graph 1, first p+0 nohead lc rgb '#999999' dt 3
    set label sprintf('p%g', 100*p) at graph 0.01, first p+0 offset 0,0.5 tc rgb '#555555' font ',9'
}
w = 900; h = 500
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    plot for [i=1:n] data index (i-1) using 1:2 with steps ls ((i-1)%10+1) title columnhead(1)
    unset output
}
