# caching.gp - a web run's requests by outcome, server work by answer and
# stale copies shown, per window (caching.csv, written by the web model).
#
# gnuplot -e "plotdir='plots'; data='../caching.csv'; out='caching'" plots/web/caching.gp
#
# Columns: time_s (the window's end), requests, cache_hits, not_modified,
# full, limited_429, stale_shown (per second), busy_full, busy_304 (server
# work per second: mean busy workers).  Writes out.png and out.svg.
load plotdir.'/style.gp'
set key outside right top vertical Left reverse noopaque nobox
set lmargin 10
set rmargin at screen 0.74
set xlabel 'simulated time (s)'
set style fill transparent solid 0.55 noborder
w = 1000; h = 900
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout 3,1 title (exists('title') ? title : 'Where the requests went')
    set title 'requests per second by outcome (stacked): a fresh cached copy never leaves the browser' font ',10'
    set ylabel 'requests / s'
    set yrange [0:*]
    plot data using 'time_s':(column('full')+column('not_modified')+column('cache_hits')+column('limited_429')):(column('full')+column('not_modified')+column('cache_hits')) \
              with filledcurves lc rgb '#d62728' title '429 Too Many Requests', \
         '' using 'time_s':(column('full')+column('not_modified')+column('cache_hits')):(column('full')+column('not_modified')) \
              with filledcurves lc rgb '#2ca02c' title 'fresh cache hit', \
         '' using 'time_s':(column('full')+column('not_modified')):'full' \
              with filledcurves lc rgb '#1f77b4' title '304 Not Modified', \
         '' using 'time_s':'full':(0) with filledcurves lc rgb '#ff7f0e' title '200 (full body)'
    set title 'server work per second by answer (stacked): a 304 costs only the validator check' font ',10'
    set ylabel 'busy workers'
    plot data using 'time_s':(column('busy_full')+column('busy_304')):'busy_full' \
              with filledcurves lc rgb '#1f77b4' title 'serving 304s', \
         '' using 'time_s':'busy_full':(0) with filledcurves lc rgb '#ff7f0e' title 'serving 200s'
    set title 'copies shown older than the origin''s (stale), per second' font ',10'
    set ylabel 'stale shown / s'
    plot data using 'time_s':'stale_shown' with steps lw 2 lc rgb '#9467bd' title 'stale copies shown'
    unset multiplot
    unset output
}
