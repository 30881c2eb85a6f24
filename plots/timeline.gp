# timeline.gp - a model's series over simulated time, one panel each, with
# the run's fault windows shaded and labelled.  dsim plot writes the data
# from the model's chart table (docs/charts.md) and runs, in a folder inside
# chart-data/:
#
# gnuplot -e "data='../timeline.csv'; panels='../timeline-panels.tsv'; n=4; \
#             faults='../faults.csv'; nf=2; marks='../marks.csv'; nm=1; \
#             plotdir='/path/to/plots'; out='timeline'" plots/timeline.gp
#
#   data    time_s and one column per panel (its header is the panel's label)
#   panels  one line per panel, tab-separated: label, ylabel, what (the panel's title),
#           rate (1: a per-interval figure, drawn over the interval ending at
#           its sample; 0: a gauge held until the next), zoom (1: a share
#           near 100 % drawn on a range that shows a dip)
#   faults  nf windows: from_s, to_s, colour (an RGB integer), label, label_y
#   marks   nm instants (replace, clock): at_s, label
#   title   (optional) the chart's title
#
# Every text comes from the data files as data; nothing here is built from
# them as code.  Writes out.png and out.svg.
load plotdir.'/style.gp'
w = 1000; h = 90 + 200 * n
set xrange [0:*]
set y2range [0:1]
unset y2tics
unset key
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout n,1 title (exists('title') ? title : 'A run over time (shaded: fault windows)') \
        margins 0.1,0.97,60.0/h,1-80.0/h spacing 0,70.0/h
    do for [i=1:n] {
        # This panel's texts and flags, read from its line of panels.
        set datafile separator tab
        stats panels skip i every ::0::0 using (P_ylab = strcol(2), P_what = strcol(3), \
              P_rate = column(4), P_zoom = column(5), 0) nooutput
        set datafile separator comma
        set title P_what font ',10'
        set ylabel P_ylab
        set xlabel (i == n ? 'simulated time (s)' : '')
        set yrange [*:*]
        S_min = 100; S_max = 0
        stats data skip 1 using (column(i + 1)) name 'S' nooutput
        # A column with no value at all leaves the S_ variables undefined.
        if (!exists('S_max')) { S_min = 100; S_max = 0 }
        if (P_zoom) {
            set yrange [(S_min > 90 ? 90 : floor(S_min / 10) * 10):101]
        } else {
            set yrange [0:(S_max > 0 ? S_max * 1.15 : 1)]
        }
        # Labels on the first panel only; windows and marks on all.
        lab = (i == 1)
        plot for [j=1:(nf > 0)] faults skip 1 using (($1 + $2) / 2):(0.5):(($2 - $1) / 2):(0.5):3 \
                 axes x1y2 with boxxyerror lc rgb variable fs transparent solid 0.22 noborder, \
             for [j=1:(nm > 0)] marks skip 1 using 1:(0):(0):(1) axes x1y2 \
                 with vectors nohead lc rgb '#555555' dt 2 lw 1.5, \
             for [j=1:(nf > 0 && lab)] faults skip 1 using (($1 + $2) / 2):5:4 axes x1y2 \
                 with labels center font ',9' tc rgb '#333333', \
             for [j=1:(nm > 0 && lab)] marks skip 1 using 1:(0.86):2 axes x1y2 \
                 with labels left offset 0.5,0 font ',9' tc rgb '#333333', \
             for [j=1:(P_rate != 0)] data skip 1 using 1:(column(i + 1)) with fsteps ls i, \
             for [j=1:(P_rate == 0)] data skip 1 using 1:(column(i + 1)) with steps ls i
    }
    unset multiplot
    unset output
}
