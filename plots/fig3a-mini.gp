# Figure 3(a) in the mini world: top-1 accuracy on digits and hand against how many of the pool's 565
# glyph classes are selected (10 to 160), UOT against Random, supervised backbone; label-based
# selection (the concept's own classes, the same at every size) as a dashed reference.
# Called by `uotft run experiments/fig3a.ini --tier mini` with
#   summary = results/mini/fig3a.summary.tsv (one line per cell: mean and sd over the seeds)
#   out     = output path without extension (.png and .svg are written)

# 1. One datablock (top, mean, sd) per (dataset, approach). Each starts with an undefined point and
#    cells without data (n = 0: a --sample run, an unfinished grid) are left out, so a series with no
#    data yet still plots, as nothing, instead of failing the run.
set datafile separator "\t"
set datafile columnheaders
is(d, a) = strcol('dataset') eq d && strcol('approach') eq a && column('n') > 0
do for [b in '$DR $DU $DL $HR $HU $HL'] { eval 'set print '.b; print 'NaN NaN NaN'; unset print }
set table $DR append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('digits', 'random'))
set table $DU append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('digits', 'uot'))
set table $DL append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('digits', 'label'))
set table $HR append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('hand', 'random'))
set table $HU append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('hand', 'uot'))
set table $HL append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is('hand', 'label'))
unset table
set datafile separator whitespace
unset datafile columnheaders

# 2. Two panels; an all-empty panel cannot autoscale, so it gets a fixed range.
set logscale x
set xrange [8:200]
set xtics ("10" 10, "20" 20, "40" 40, "80" 80, "160" 160)
set grid ytics lc rgb '#dddddd'
# one key for both panels, under them, where no curve can run into it
set key at screen 0.5, 0.01 center bottom vertical Left reverse samplen 3
set bmargin 6.5
set xlabel 'pool classes selected (of 565)'
set ylabel 'top-1 accuracy (%), mean ± sd of 3 seeds'
yr(k) = k == 3 ? '[0:100]' : '[*:*]'
label = "label-based (the concept's classes)"

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 1200,500 font 'Sans,11' } else { set terminal svg size 1200,500 font 'Sans,11' }
  set output out.'.'.fmt
  set multiplot layout 1,2 title 'Figure 3(a), mini: accuracy vs the number of selected pool classes (supervised backbone)'
  set title 'digits (handwritten digits)'
  eval 'set yrange '.yr(|$DR| + |$DU| + |$DL|)
  plot $DL using 1:($2-$3):($2+$3) with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
       $DU with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'UOT', \
       $DR with yerrorlines lw 2 pt 5 lc rgb '#7f7f7f' title 'Random', \
       $DL using 1:2 with lines dt 2 lw 2 lc rgb '#2ca02c' title label
  unset key
  set title 'hand (handwritten Latin capitals)'
  eval 'set yrange '.yr(|$HR| + |$HU| + |$HL|)
  plot $HL using 1:($2-$3):($2+$3) with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
       $HU with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'UOT', \
       $HR with yerrorlines lw 2 pt 5 lc rgb '#7f7f7f' title 'Random', \
       $HL using 1:2 with lines dt 2 lw 2 lc rgb '#2ca02c' title label
  unset multiplot
  set key
  set output
}
