# style.gp - the look every chart script shares.
set datafile separator ','
set grid lc rgb '#dddddd' lt 1
set border 3
set tics nomirror
set style line 1 lw 2 lc rgb '#1f77b4' pt 7 ps 0.8
set style line 2 lw 2 lc rgb '#d62728' pt 5 ps 0.8
set style line 3 lw 2 lc rgb '#2ca02c' pt 9 ps 0.9
set style line 4 lw 2 lc rgb '#9467bd' pt 11 ps 0.9
set style line 5 lw 2 lc rgb '#ff7f0e' pt 13 ps 0.9
set style line 6 lw 2 lc rgb '#8c564b' pt 4 ps 0.8
set style line 7 lw 2 lc rgb '#e377c2' pt 6 ps 0.8
set style line 8 lw 2 lc rgb '#7f7f7f' pt 8 ps 0.8
set style line 9 lw 2 lc rgb '#bcbd22' pt 10 ps 0.8
set style line 10 lw 2 lc rgb '#17becf' pt 12 ps 0.8
set style increment user
