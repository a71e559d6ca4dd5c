# Figure 4(a) in the mini world: recall of the 10 digit classes among the top 20 pool classes
# UOT-cos selects for `digits`, against eps_c, for our supervised and MoCo v2 backbones.
# Called by `uotft run experiments/fig4a.ini --tier mini` with
#   csv  = results/mini/fig4a.csv (long format, one row per measurement)
#   out  = output path without extension (.png and .svg are written)
set datafile separator ','
set datafile columnheaders
is(model) = strcol('model') eq model && strcol('target') eq 'digits' && strcol('metric') eq 'recall'
set table $SUP
plot csv using (column('eps_c')):(column('value')) with table if (is('supervised'))
set table $MOCO
plot csv using (column('eps_c')):(column('value')) with table if (is('moco-v2'))
unset table
set datafile separator whitespace
unset datafile columnheaders

set logscale x
set xrange [0.0007:1.4]
set yrange [0:105]
set xtics ("0.001" 0.001, "0.003" 0.003, "0.01" 0.01, "0.03" 0.03, "0.1" 0.1, "0.3" 0.3, "1" 1.0)
set grid ytics lc rgb '#dddddd'
set key top right
set xlabel 'cost scale {/Symbol e}_c'
set ylabel 'recall in the top 20 (%)'
set arrow 1 from 0.01, graph 0 to 0.01, graph 1 nohead dt 3 lc rgb '#999999'
set label 1 "the paper's {/Symbol e}_c" at 0.0108, graph 0.62 left textcolor rgb '#777777'
set title 'mini world, digits: the pool'."'".'s 10 digit classes among the top 20 of 565 (UOT-cos)'

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 700,460 font 'Sans,11' } else { set terminal svg size 700,460 font 'Sans,11' }
  set output out.'.'.fmt
  plot $SUP with linespoints lw 2 pt 7 lc rgb '#1f77b4' title 'supervised (mini ResNet)', \
       $MOCO with linespoints lw 2 pt 5 lc rgb '#d62728' title 'MoCo v2 (mini ResNet)'
  set output
}
