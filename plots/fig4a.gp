# Figure 4(a): recall of the concept classes among the top 100 classes UOT-cos selects,
# against eps_c. Called by `uotft run experiments/fig4a.ini` with
#   csv  = results/<tier>/fig4a.csv (long format, one row per measurement)
#   out  = output path without extension (.png and .svg are written)

# 1. One datablock per (model, target) series, filtered out of the long-format CSV.
set datafile separator ','
set datafile columnheaders
is(model, target) = strcol('model') eq model && strcol('target') eq target && strcol('metric') eq 'recall'
set table $SUP_CUB
plot csv using (column('eps_c')):(column('value')) with table if (is('supervised-resnet18', 'cub'))
set table $MOCO_CUB
plot csv using (column('eps_c')):(column('value')) with table if (is('moco-v2-resnet50', 'cub'))
set table $SUP_DOGS
plot csv using (column('eps_c')):(column('value')) with table if (is('supervised-resnet18', 'dogs'))
set table $MOCO_DOGS
plot csv using (column('eps_c')):(column('value')) with table if (is('moco-v2-resnet50', 'dogs'))
unset table
set datafile separator whitespace
unset datafile columnheaders

# 2. Two panels.
set logscale x
set xrange [0.0007:1.4]
set yrange [0:105]
set xtics ("0.001" 0.001, "0.003" 0.003, "0.01" 0.01, "0.03" 0.03, "0.1" 0.1, "0.3" 0.3, "1" 1.0)
set grid ytics lc rgb '#dddddd'
set key bottom left
set xlabel 'cost scale {/Symbol e}_c'
set ylabel 'recall in the top 100 (%)'
sup = 'supervised ResNet-18'
moco = 'self-supervised MoCo-v2 ResNet-50'
set arrow 1 from 0.01, graph 0 to 0.01, graph 1 nohead dt 3 lc rgb '#999999'
set label 1 "the paper's {/Symbol e}_c" at 0.0108, graph 0.45 left textcolor rgb '#777777'
dogs_ceiling = 100.0 * 100 / 118   # the top 100 can hold at most 100 of the 118 dog classes

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 1200,460 font 'Sans,11' } else { set terminal svg size 1200,460 font 'Sans,11' }
  set output out.'.'.fmt
  set multiplot layout 1,2 title 'UOT-cos selection recall vs {/Symbol e}_c (top K = 100 ImageNet classes)'
  set title 'CUB-200-2011: ImageNet bird classes (59)'
  plot $SUP_CUB with linespoints lw 2 pt 7 lc rgb '#1f77b4' title sup, \
       $MOCO_CUB with linespoints lw 2 pt 5 lc rgb '#d62728' title moco
  set title 'Stanford Dogs: ImageNet dog classes (118)'
  plot $SUP_DOGS with linespoints lw 2 pt 7 lc rgb '#1f77b4' title sup, \
       $MOCO_DOGS with linespoints lw 2 pt 5 lc rgb '#d62728' title moco, \
       dogs_ceiling with lines dt 2 lc rgb '#888888' title sprintf('largest possible (%.1f%%)', dogs_ceiling)
  unset multiplot
  set output
}
