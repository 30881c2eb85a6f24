# per_server.gp - load per server of a web run: requests served and
# utilisation, with the mean as a dashed line (balance across servers).
#
# gnuplot -e "plotdir='plots'; data='../per_server.csv'; out='per_server'" plots/web/per_server.gp
#
# Writes out.png and out.svg.
load plotdir.'/style.gp'
# The means are over the servers that were in service at some time (idle
# servers of the pool are drawn, but not counted).
stats data using (column('hours_in_service') > 0 ? column('served') : 1/0) name 'S' nooutput
stats data using (column('hours_in_service') > 0 ? column('utilisation') : 1/0) name 'U' nooutput
stats data using (column('hours_in_service')) name 'ALL' nooutput
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -45 nomirror
set key top right opaque box
w = 900 > 160 + 40 * ALL_records ? 900 : 160 + 40 * ALL_records; h = 650
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout 2,1 title 'Load per server: how evenly the balancer spreads requests'
    set ylabel 'requests served'
    set xlabel ''
    set yrange [0:(S_max > 0 ? S_max : 1) * 1.4]
    plot data using 0:'served':xtic(1) with boxes lc rgb '#1f77b4' title 'requests served', \
         S_mean with lines dt 2 lc rgb '#333333' title sprintf('mean %.0f (max/mean %.2f)', S_mean, S_mean > 0 ? S_max / S_mean : 0)
    set ylabel 'utilisation (%)'
    set xlabel 'server'
    set yrange [0:140]
    plot data using 0:(100 * column('utilisation')):xtic(1) with boxes lc rgb '#ff7f0e' title 'busy workers over time in service', \
         100 * U_mean with lines dt 2 lc rgb '#333333' title sprintf('mean %.0f%%', 100 * U_mean)
    unset multiplot
    unset output
}
