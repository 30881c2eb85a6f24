# stale_heatmap.gp - mean stale-read fraction of a sweep over R and W, one
# labelled cell per point.
#
# gnuplot -e "plotdir='plots'; data='../stale_heatmap.csv'; \
#             subtitle='N=3, 20 seeds per cell'; out='stale_heatmap'" plots/stale_heatmap.gp
#
# data: r,w,stale_read_fraction.  Writes out.png and out.svg.
load plotdir.'/style.gp'
if (!exists('subtitle')) subtitle = ''
stats data using 1 name 'R' nooutput
stats data using 2 name 'W' nooutput
stats data using 3 name 'V' nooutput
set title 'Stale-read probability over R and W'.(subtitle eq '' ? '' : ' ('.subtitle.')')
set xlabel 'R: replicas a read waits for'
set ylabel 'W: replicas a write waits for'
set xrange [R_min - 0.5:R_max + 0.5]
set yrange [W_min - 0.5:W_max + 0.5]
set xtics 1
set ytics 1
unset grid
set palette defined (0 '#ffffff', 0.3 '#fdd0a2', 0.6 '#f16913', 1 '#7f2704')
set cbrange [0:*]
set cblabel 'fraction of reads that were stale'
set style fill solid 1 border lc rgb '#bbbbbb'
w = 760; h = 620
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    plot data using 1:2:(0.5):(0.5):3 with boxxyerror fc palette notitle, \
         '' using 1:2:($3 > 0.6 * V_max ? '' : sprintf('%.3f', $3)) with labels font ',12' notitle, \
         '' using 1:2:($3 > 0.6 * V_max ? sprintf('%.3f', $3) : '') with labels font ',12' tc rgb '#ffffff' notitle
    unset output
}
