# term.gp - loaded by the chart scripts inside their format loop: sets the
# terminal for fmt ('png' or 'svg') at w x h pixels and the output out.fmt.
if (fmt eq 'png') {
    set terminal pngcairo size w,h font 'sans,11' noenhanced
} else {
    set terminal svg size w,h font 'sans,11' dynamic background rgb 'white' noenhanced
}
set output out.'.'.fmt
