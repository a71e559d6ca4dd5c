# Figure 3(b): each class of the target's training set sub-sampled to 20..100%; top-1 accuracy of
# fine-tuning alone and with UOT's selection (top row), and UOT's paired gain over fine-tuning (bottom
# row). Mini tier: hand and fashion, the pool's 565 glyph classes; full tier: CUB and Caltech-101.
# Called by `uotft run experiments/fig3b.ini --tier T` with
#   tier    = mini or full
#   summary = results/<tier>/fig3b.summary.tsv (one line per cell: mean and sd over the seeds, and
#             the gain over the baseline column, finetune, on the uot lines)
#   out     = output path without extension (.png and .svg are written)

# what the tier's targets are
if (exists("tier") && tier eq 'full') {
  d1 = 'cub'; d2 = 'caltech101'; t1 = 'CUB-200-2011 (about 30 training images per class)'
  t2 = 'Caltech-101 (30 training images per class)'; source = 'ImageNet'
  headline = "Figure 3(b): fewer target training images, fine-tuning alone and with UOT's selection (supervised ResNet-18)"
} else {
  d1 = 'hand'; d2 = 'fashion'; t1 = 'hand (5 training images per class: 20% is one)'
  t2 = 'fashion (20 training images per class)'; source = 'pool'
  headline = "Figure 3(b), mini: fewer target training images, fine-tuning alone and with UOT's selection (supervised backbone)"
}

# 1. One datablock per (dataset, series): (%, mean, sd) or (%, gain, gain_sd). Each starts with an
#    undefined point and cells without data (n = 0: a --sample run, an unfinished grid) are left
#    out, so a series with no data yet still plots, as nothing, instead of failing the run.
set datafile separator "\t"
set datafile columnheaders
is(d, a) = strcol('dataset') eq d && strcol('approach') eq a && column('n') > 0
gain(d) = is(d, 'uot') && strcol('gain') ne ''
do for [b in '$DF $DU $DG $FF $FU $FG'] { eval 'set print '.b; print 'NaN NaN NaN'; unset print }
set table $DF append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is(d1, 'finetune'))
set table $DU append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is(d1, 'uot'))
set table $DG append
plot summary using (100*column('fraction')):(column('gain')):(column('gain_sd')) with table if (gain(d1))
set table $FF append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is(d2, 'finetune'))
set table $FU append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is(d2, 'uot'))
set table $FG append
plot summary using (100*column('fraction')):(column('gain')):(column('gain_sd')) with table if (gain(d2))
unset table
set datafile separator whitespace
unset datafile columnheaders

# 2. 2 x 2 panels: a column per target. An all-empty panel cannot autoscale, so it gets a fixed range;
#    the gain's range always takes in 0, so the zero line is always there to read it against.
set xrange [12:108]
set xtics 20, 20, 100
set grid ytics lc rgb '#dddddd'
set key top left
set offsets 0, 0, graph 0.2, graph 0.05   # headroom for the key above the curves
acc(k) = k == 2 ? '[0:100]' : '[*:*]'
gn(k) = k == 1 ? '[-5:5]' : '[*<0:0<*]'
ft = 'fine-tuning alone'
uot = "with UOT's selection from the ".source
set style line 1 lw 2 pt 7 lc rgb '#1f77b4'   # UOT
set style line 2 lw 2 pt 5 lc rgb '#7f7f7f'   # fine-tuning alone

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 1200,800 font 'Sans,11' } else { set terminal svg size 1200,800 font 'Sans,11' }
  set output out.'.'.fmt
  set multiplot layout 2,2 title headline
  set xlabel
  set ylabel 'top-1 accuracy (%), mean ± sd of 3 seeds'
  set title t1
  eval 'set yrange '.acc(|$DF| + |$DU|)
  plot $DU with yerrorlines ls 1 title uot, $DF with yerrorlines ls 2 title ft
  set title t2
  eval 'set yrange '.acc(|$FF| + |$FU|)
  plot $FU with yerrorlines ls 1 title uot, $FF with yerrorlines ls 2 title ft
  unset title
  set xlabel "share of each class's training images used (%)"
  set ylabel 'gain of UOT (points), mean ± sd of paired seeds'
  eval 'set yrange '.gn(|$DG|)
  plot 0 with lines lc rgb '#333333' notitle, $DG with yerrorlines ls 1 notitle
  eval 'set yrange '.gn(|$FG|)
  plot 0 with lines lc rgb '#333333' notitle, $FG with yerrorlines ls 1 notitle
  unset multiplot
  set output
}
