# timeline.gp - a kv run over simulated time, one panel per series, with the
# fault windows shaded and labelled.
#
# gnuplot -e "plotdir='plots'; data='DIR/chart-data/timeline.csv'; \
#             cols='availability stale_read_fraction divergent_keys hints_pending'; \
#             faults='DIR/chart-data/faults.gp'; out='DIR/timeline'" plots/timeline.gp
#
# cols are the columns of data to draw (whichever exist: dsim plot lists
# them); faults (optional) is a file of gnuplot objects, one per fault
# window.  Writes out.png and out.svg.
load plotdir.'/style.gp'
n = words(cols)
ylab(c) = c eq 'availability' ? 'availability (% of ops)' : \
          c eq 'stale_read_fraction' ? 'stale reads (% of reads)' : \
          c eq 'divergent_keys' ? 'divergent keys' : \
          c eq 'hints_pending' ? 'hints pending' : \
          c[1:8] eq 'backlog:' ? 'messages waiting' : \
          c[1:4] eq 'lag:' ? 'messages behind' : c
scale(c) = (c eq 'availability' || c eq 'stale_read_fraction') ? 100 : 1
what(c) = c eq 'availability' ? 'operations that succeeded, per interval' : \
          c eq 'stale_read_fraction' ? 'reads that returned an old version, per interval' : \
          c eq 'divergent_keys' ? 'keys whose replicas disagree' : \
          c eq 'hints_pending' ? 'writes held for an absent replica (hinted handoff)' : \
          c[1:8] eq 'backlog:' ? 'topic '.c[9:].': messages queued, all partitions' : \
          c[1:4] eq 'lag:' ? 'group '.c[5:].': lag (messages published and not yet consumed)' : c
rate(c) = (c eq 'availability' || c eq 'stale_read_fraction')
w = 1000; h = 90 + 200 * n
set xrange [0:*]
unset key
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout n,1 title (exists('title') ? title : 'A kv run over time (shaded: fault windows)') \
        margins 0.1,0.97,60.0/h,1-80.0/h spacing 0,70.0/h
    do for [i=1:n] {
        c = word(cols, i)
        unset label
        unset object
        unset arrow
        fault_labels = (i == 1)
        if (exists('faults')) { load faults }
        set title what(c) font ',10'
        set ylabel ylab(c)
        set xlabel (i == n ? 'simulated time (s)' : '')
        set yrange [*:*]
        S_min = 100; S_max = 0
        stats data using (column(c) * scale(c)) name 'S' nooutput
        # A column with no value at all leaves the S_ variables undefined.
        if (!exists('S_max')) { S_min = 100; S_max = 0 }
        # Availability near 100 % is drawn on a range that shows a dip.
        if (c eq 'availability') {
            set yrange [(S_min > 90 ? 90 : floor(S_min / 10) * 10):101]
        } else {
            set yrange [0:(S_max > 0 ? S_max * 1.15 : 1)]
        }
        # Rates hold for the interval that ends at their sample: fsteps
        # draws each over that interval; gauges hold until the next sample.
        if (rate(c)) {
            plot data using 'time_s':(column(c) * scale(c)) with fsteps ls i
        } else {
            plot data using 'time_s':(column(c) * scale(c)) with steps ls i
        }
    }
    unset multiplot
    unset output
}
