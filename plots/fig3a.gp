# Figure 3(a): top-1 accuracy against how many source classes are selected, UOT against Random,
# supervised backbone; label-based selection (the concept's own classes, the same at every size) as a
# dashed reference. Mini tier: digits and hand, 10 to 160 of the pool's 565 glyph classes; full tier:
# CUB and Caltech-101, 50 to 300 of ImageNet's 1000 (Caltech-101 has no concept: no label-based line).
# Called by `uotft run experiments/fig3a.ini --tier T` with
#   tier    = mini or full
#   summary = results/<tier>/fig3a.summary.tsv (one line per cell: mean and sd over the seeds)
#   out     = output path without extension (.png and .svg are written)

# what the tier's targets and sizes are
if (exists("tier") && tier eq 'full') {
  d1 = 'cub'; d2 = 'caltech101'; t1 = 'CUB-200-2011'; t2 = 'Caltech-101'
  xaxis = 'set xrange [40:320]; set xtics 50, 50, 300'; xname = 'ImageNet classes selected (of 1000)'
  headline = 'Figure 3(a): accuracy vs the number of selected ImageNet classes (supervised ResNet-18)'
} else {
  d1 = 'digits'; d2 = 'hand'; t1 = 'digits (handwritten digits)'; t2 = 'hand (handwritten Latin capitals)'
  xaxis = 'set xrange [8:200]; set xtics ("10" 10, "20" 20, "40" 40, "80" 80, "160" 160)'
  xname = 'pool classes selected (of 565)'
  headline = 'Figure 3(a), mini: accuracy vs the number of selected pool classes (supervised backbone)'
}

# 1. One datablock (top, mean, sd) per (dataset, approach). Each starts with an undefined point and
#    cells without data (n = 0: a --sample run, an unfinished grid) are left out, so a series with no
#    data yet still plots, as nothing, instead of failing the run.
set datafile separator "\t"
set datafile columnheaders
is(d, a) = strcol('dataset') eq d && strcol('approach') eq a && column('n') > 0
do for [b in '$DR $DU $DL $HR $HU $HL'] { eval 'set print '.b; print 'NaN NaN NaN'; unset print }
set table $DR append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d1, 'random'))
set table $DU append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d1, 'uot'))
set table $DL append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d1, 'label'))
set table $HR append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d2, 'random'))
set table $HU append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d2, 'uot'))
set table $HL append
plot summary using (column('top')):(column('mean')):(column('sd')) with table if (is(d2, 'label'))
unset table
set datafile separator whitespace
unset datafile columnheaders

# 2. Two panels; an all-empty panel cannot autoscale, so it gets a fixed range.
set logscale x
eval xaxis
set grid ytics lc rgb '#dddddd'
# one key for both panels, under them, where no curve can run into it
set key at screen 0.5, 0.01 center bottom vertical Left reverse samplen 3
set bmargin 6.5
set xlabel xname
set ylabel 'top-1 accuracy (%), mean ± sd of 3 seeds'
yr(k) = k == 3 ? '[0:100]' : '[*:*]'
label = "label-based (the concept's classes)"

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 1200,500 font 'Sans,11' } else { set terminal svg size 1200,500 font 'Sans,11' }
  set output out.'.'.fmt
  set multiplot layout 1,2 title headline
  set title t1
  eval 'set yrange '.yr(|$DR| + |$DU| + |$DL|)
  plot $DL using 1:($2-$3):($2+$3) with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
       $DU with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'UOT', \
       $DR with yerrorlines lw 2 pt 5 lc rgb '#7f7f7f' title 'Random', \
       $DL using 1:2 with lines dt 2 lw 2 lc rgb '#2ca02c' title label
  unset key
  set title t2
  eval 'set yrange '.yr(|$HR| + |$HU| + |$HL|)
  plot $HL using 1:($2-$3):($2+$3) with filledcurves fc rgb '#2ca02c' fs transparent solid 0.15 noborder notitle, \
       $HU with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'UOT', \
       $HR with yerrorlines lw 2 pt 5 lc rgb '#7f7f7f' title 'Random', \
       $HL using 1:2 with lines dt 2 lw 2 lc rgb '#2ca02c' title label
  unset multiplot
  set key
  set output
}
