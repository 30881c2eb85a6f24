# t_visibility.gp - P(a read returns the latest acknowledged version)
# against the time since that version was acknowledged: one line per run or
# per sweep point.
#
# gnuplot -e "plotdir='plots'; data='../t_visibility.dat'; n=2; out='t_visibility'" plots/t_visibility.gp
#
# data: n blocks (two blank lines between), each a header line whose first
# field, in double quotes, is the line's title ("r=1 w=1"; read as data),
# then columns t (upper bound of the bucket, ms), P(consistent), reads in
# the bucket.  Writes out.png and out.svg.
load plotdir.'/style.gp'
set datafile separator whitespace
set title 't-visibility: P(consistent read) against time since the write was acknowledged'
set xlabel 't: time from the write''s acknowledgement to the read''s start (ms, log scale; bucket upper bounds)'
set ylabel 'P(read returns the latest acknowledged write)'
set logscale x
set format x '%g'
set yrange [0:1.05]
if (n > 6) { set key outside right top } else { set key bottom right box opaque width 2 }
w = n > 6 ? 1100 : 900; h = 520
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    plot for [i=1:n] data index (i-1) using 1:2 with linespoints ls ((i-1)%10+1) title columnhead(1)
    unset output
}
