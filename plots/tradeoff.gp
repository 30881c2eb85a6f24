# tradeoff.gp - latency against staleness, one point per sweep point with
# 95 % confidence intervals on both axes; the Pareto frontier joins the
# points that no other point beats on both.
#
# gnuplot -e "plotdir='plots'; data='../tradeoff.csv'; \
#             frontier='../pareto.csv'; out='tradeoff'" plots/tradeoff.gp
#
# data: stale_read_fraction,ci95,p99_ms,ci95_ms,label,pareto,label_y; p99_ms is
# the slower of the read and the write p99 (mean of the seeds)
# (label_y stacks the labels of points that nearly coincide).
# Writes out.png and out.svg.
load plotdir.'/style.gp'
set title 'Latency against staleness: p99 latency and stale reads per configuration'
set xlabel 'stale reads (fraction of reads; bars: 95 % confidence interval)'
set ylabel 'p99 latency, the slower of reads and writes (ms; bars: 95 % CI)'
set key top right opaque box
set autoscale fix
set offsets graph 0.03, graph 0.15, graph 0.25, graph 0.1
w = 900; h = 560
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    plot frontier using 1:2 with lines lw 2 dt 2 lc rgb '#2ca02c' title 'Pareto frontier (best trade-offs)', \
         data using 1:3:2:4 with xyerrorbars ls 1 title 'configuration (mean of the seeds)', \
         data using 1:(column(6) == 1 ? column(3) : NaN) with points pt 6 ps 2.2 lw 2 lc rgb '#2ca02c' title 'on the frontier', \
         data using 1:7:5 with labels offset char 1.2,0.6 left font ',9' notitle
    unset output
}
