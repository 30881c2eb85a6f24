# per_node.gp - load per server of a kv run: keys held and operations
# served, with the mean as a dashed line (sharding balance, hot spots).
#
# gnuplot -e "plotdir='plots'; data='../per_node.csv'; out='per_node'" plots/kv/per_node.gp
#
# Writes out.png and out.svg.
load plotdir.'/style.gp'
stats data using 'keys' name 'K' nooutput
stats data using 'ops_served' name 'O' nooutput
set style fill solid 0.8 border -1
set boxwidth 0.7
set yrange [0:*]
set xtics rotate by -45 nomirror
set key top right opaque box
w = 900 > 160 + 40 * K_records ? 900 : 160 + 40 * K_records; h = 650
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout 2,1 title 'Load per server: how evenly keys and requests are spread'
    set ylabel 'keys held (replicas)'
    set xlabel ''
    set yrange [0:K_max * 1.4]
    plot data using 0:'keys':xtic(1) with boxes lc rgb '#1f77b4' title 'keys held', \
         K_mean with lines dt 2 lc rgb '#333333' title sprintf('mean %.0f (max/mean %.2f)', K_mean, K_max / K_mean)
    set ylabel 'operations served'
    set xlabel 'server'
    set yrange [0:O_max * 1.4]
    plot data using 0:'ops_served':xtic(1) with boxes lc rgb '#ff7f0e' title 'reads and writes served as a replica', \
         O_mean with lines dt 2 lc rgb '#333333' title sprintf('mean %.0f (max/mean %.2f)', O_mean, O_max / O_mean)
    unset multiplot
    unset output
}
