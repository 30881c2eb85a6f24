# limiter.gp - a web run's rate limiter per window (limiter.csv, written
# by the web model): its decisions per second, and what the watched key
# (key 0: user 0, the first abusive user when there are any) got through
# in its busiest trailing window, against the nominal limit.
#
# gnuplot -e "plotdir='plots'; data='../limiter.csv'; out='limiter'" plots/web/limiter.gp
#
# Columns: time_s, allowed, soft, delayed, rejected (per second),
# watch_max_in_span (the most admitted in one trailing span that ended in
# this window), watch_nominal (the limit per span).  Writes out.png and
# out.svg.
load plotdir.'/style.gp'
set key outside right top vertical Left reverse noopaque nobox
set lmargin 10
set rmargin at screen 0.74
set xlabel 'simulated time (s)'
stats data using 'watch_nominal' name 'N' nooutput
stats data using 'watch_max_in_span' name 'M' nooutput
w = 1000; h = 650
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout 2,1 title (exists('title') ? title : 'The rate limiter, window by window')
    set title 'the limiter''s decisions per second' font ',10'
    set ylabel 'requests / s'
    set yrange [0:*]
    plot data using 'time_s':'allowed' with steps lw 2 lc rgb '#2ca02c' title 'allowed', \
         '' using 'time_s':'soft' with steps lw 2 lc rgb '#ff7f0e' title 'soft (over, let through)', \
         '' using 'time_s':'delayed' with steps lw 2 lc rgb '#1f77b4' title 'delayed (shaped)', \
         '' using 'time_s':'rejected' with steps lw 2 lc rgb '#d62728' title 'rejected (429)'
    set title sprintf('key 0: the most admitted in one trailing window, against the limit (run''s most: %.0f = %.2f x the limit)', M_max, N_max > 0 ? M_max / N_max : 0) font ',10'
    set ylabel 'admitted in one window'
    set yrange [0:(M_max > N_max ? M_max : N_max) * 1.25 + 1]
    plot data using 'time_s':'watch_max_in_span' with steps lw 2 lc rgb '#1f77b4' title 'most admitted in a trailing window', \
         '' using 'time_s':'watch_nominal' with lines dt 2 lw 2 lc rgb '#333333' title 'the limit per window'
    unset multiplot
    unset output
}
