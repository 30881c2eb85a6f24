# spacetime.gp - a space-time (Lamport) diagram: one lane per node, one
# arrow per message, of one key around a stale read.
#
# gnuplot -e "plotdir='plots'; d='../'; lanes=4; key=17; stale=1; qn=3; qr=1; qw=1; \
#             t0=10.25; span=8.5; faint=1; out='spacetime'" plots/spacetime.gp
#
# d is the folder of the spacetime-*.dat files dsim plot writes (the lanes'
# node names are data, in spacetime-lanes.dat, read with ytic()); the rest
# are numbers: the lanes, the key, whether the read drawn was stale, N, R
# and W, the simulated time of x = 0 (s) and the window's width (ms), and
# whether other keys' messages are drawn.  Writes out.png and out.svg.
load plotdir.'/style.gp'
st_lanes = lanes
set title sprintf('Key %d around a %s read (N=%d, R=%d, W=%d): one lane per node, one arrow per message', \
                  key, stale ? 'stale' : 'fresh', qn, qr, qw)
set xlabel sprintf('simulated time (ms after %.6f s)', t0)
set xrange [0:span]
set yrange [lanes - 0.4:-0.6]
set datafile separator whitespace
set grid noxtics ytics lc rgb '#bbbbbb' lt 1 lw 1
set key horizontal maxrows 3 width 2 center top
set border 1
set ylabel ''
set ytics nomirror scale 0 font ',11'
set ytics ()
w = 1300; h = 250 + 48 * st_lanes
# The legend below the time axis and its label, in a margin kept for it.
set bmargin at screen 150.0 / h
set key at screen 0.5, screen 95.0 / h
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    plot d.'spacetime-lanes.dat' using (NaN):1:ytic(2) notitle, \
         for [j=1:(faint != 0)] d.'spacetime-other.dat' using 1:2:3:4 with vectors nohead lc rgb '#dddddd' lw 1 title 'other keys'' messages', \
         d.'spacetime-request.dat' using 1:2:3:4 with vectors head filled size screen 0.008,20 lc rgb '#1f77b4' lw 2 title 'client request', \
         d.'spacetime-replica.dat' using 1:2:3:4 with vectors head filled size screen 0.008,20 lc rgb '#9467bd' lw 1.5 title 'coordinator to replica (put, get)', \
         d.'spacetime-reply.dat' using 1:2:3:4 with vectors head filled size screen 0.008,20 lc rgb '#8c8c8c' lw 1.5 title 'replica reply (ack, value)', \
         d.'spacetime-answer.dat' using 1:2:3:4 with vectors head filled size screen 0.008,20 lc rgb '#ff7f0e' lw 2 title 'answer to the client', \
         d.'spacetime-points.dat' using 1:($3 == 1 ? $2 : NaN) with points pt 9 ps 2 lc rgb '#1f77b4' title 'write starts', \
         d.'spacetime-points.dat' using 1:($3 == 2 ? $2 : NaN) with points pt 7 ps 1.6 lc rgb '#2ca02c' title 'write committed (W replicas hold it)', \
         d.'spacetime-points.dat' using 1:($3 == 3 ? $2 : NaN) with points pt 8 ps 1.6 lc rgb '#1f77b4' title 'read starts', \
         d.'spacetime-points.dat' using 1:($3 == 4 ? $2 : NaN) with points pt 7 ps 1.6 lc rgb '#2ca02c' title 'read returns the latest', \
         d.'spacetime-points.dat' using 1:($3 == 5 ? $2 : NaN) with points pt 3 ps 3 lw 3 lc rgb '#d62728' title 'STALE read', \
         d.'spacetime-points.dat' using 1:2:4 with labels offset char 0,-1.1 font ',10' tc rgb '#222222' notitle
    unset output
}
