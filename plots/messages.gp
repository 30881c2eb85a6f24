# messages.gp - messages and bytes sent by message type in a run.
#
# gnuplot -e "plotdir='plots'; data='../messages.csv'; out='messages'" plots/messages.gp
#
# data: type,sent,delivered,dropped,bytes.  Writes out.png and out.svg.
load plotdir.'/style.gp'
stats data using 'bytes' name 'B' nooutput
stats data using 'sent' name 'M' nooutput
unit = B_max >= 1048576 ? 1048576.0 : 1024.0
uname = B_max >= 1048576 ? 'MiB' : 'KiB'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set yrange [0:*]
set xtics rotate by -30 nomirror
set key top right opaque box
w = 1000; h = 650
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout 2,1 title 'Network traffic by message type'
    set ylabel 'messages sent'
    set xlabel ''
    set yrange [0:M_max * 1.35]
    plot data using 'delivered':xtic(1) lc rgb '#2ca02c' title 'delivered', \
         '' using (column('sent') - column('delivered') > 0 ? column('sent') - column('delivered') : 0) lc rgb '#d62728' title 'not delivered (lost, partitioned, down or in flight)'
    set ylabel 'bytes sent ('.uname.')'
    set xlabel 'message type'
    set yrange [0:B_max / unit * 1.3]
    plot data using (column('bytes') / unit):xtic(1) lc rgb '#1f77b4' title 'bytes on the wire'
    unset multiplot
    unset output
}
