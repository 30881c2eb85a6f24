# points.gp - a model's sweep chart: one panel per metric, one bar per
# point of the sweep (its mean over the seeds) with the 95 % confidence
# interval.  dsim plot writes the data from the model's chart table
# (sim_chart.sweep, docs/charts.md) and runs, in a folder inside chart-data/:
#
# gnuplot -e "data='../policies.csv'; panels='../policies-panels.tsv'; n=2; \
#             subtitle=''; plotdir='/path/to/plots'; out='policies'" plots/points.gp
#
#   data    point (its label), then per panel its mean and its ci95
#   panels  one line per panel, tab-separated: label, ylabel, what (the title)
#   title   (optional) the chart's title
#
# Every text comes from the data files as data; nothing here is built from
# them as code.  Writes out.png and out.svg.
load plotdir.'/style.gp'
stats data skip 1 using 2 name 'R' nooutput
w = 900 > 200 + 70 * R_records ? 900 : 200 + 70 * R_records; h = 90 + 320 * n
set style fill solid 0.8 border -1
set boxwidth 0.6
set style histogram errorbars
set xtics rotate by -30 nomirror
unset key
set xrange [-0.6:R_records - 0.4]
do for [fmt in 'png svg'] {
    load plotdir.'/term.gp'
    set multiplot layout n,1 title (exists('title') ? title : 'A sweep, point by point') \
        margins 0.12,0.97,130.0/h,1-80.0/h spacing 0,150.0/h
    do for [i=1:n] {
        set datafile separator tab
        stats panels skip i every ::0::0 using (P_ylab = strcol(2), P_what = strcol(3), 0) nooutput
        set datafile separator comma
        set title P_what font ',10'
        set ylabel P_ylab
        set yrange [*:*]
        stats data skip 1 using (column(2 * i) + column(2 * i + 1)) name 'S' nooutput
        set yrange [0:(S_max > 0 ? S_max * 1.2 : 1)]
        plot data skip 1 using 0:(column(2 * i)):(column(2 * i + 1)):xtic(1) \
             with boxerrorbars lc rgb '#1f77b4', \
             '' skip 1 using 0:(column(2 * i)):(sprintf('%.4g', column(2 * i))) \
             with labels offset 0,0.8 font ',9'
    }
    unset multiplot
    unset output
}
