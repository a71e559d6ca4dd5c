# Figure 3(b) in the mini world: each class of the target's training set sub-sampled to 20..100%;
# top-1 accuracy of fine-tuning alone and with UOT's selection from the pool of 565 glyph classes
# (top row), and UOT's paired gain over fine-tuning (bottom row), for hand and fashion.
# Called by `uotft run experiments/fig3b.ini --tier mini` with
#   summary = results/mini/fig3b.summary.tsv (one line per cell: mean and sd over the seeds, and
#             the gain over the baseline column, finetune, on the uot lines)
#   out     = output path without extension (.png and .svg are written)

# 1. One datablock per (dataset, series): (%, mean, sd) or (%, gain, gain_sd). Each starts with an
#    undefined point and cells without data (n = 0: a --sample run, an unfinished grid) are left
#    out, so a series with no data yet still plots, as nothing, instead of failing the run.
set datafile separator "\t"
set datafile columnheaders
is(d, a) = strcol('dataset') eq d && strcol('approach') eq a && column('n') > 0
gain(d) = is(d, 'uot') && strcol('gain') ne ''
do for [b in '$DF $DU $DG $FF $FU $FG'] { eval 'set print '.b; print 'NaN NaN NaN'; unset print }
set table $DF append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is('hand', 'finetune'))
set table $DU append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is('hand', 'uot'))
set table $DG append
plot summary using (100*column('fraction')):(column('gain')):(column('gain_sd')) with table if (gain('hand'))
set table $FF append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is('fashion', 'finetune'))
set table $FU append
plot summary using (100*column('fraction')):(column('mean')):(column('sd')) with table if (is('fashion', 'uot'))
set table $FG append
plot summary using (100*column('fraction')):(column('gain')):(column('gain_sd')) with table if (gain('fashion'))
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
uot = "with UOT's selection from the pool"
set style line 1 lw 2 pt 7 lc rgb '#1f77b4'   # UOT
set style line 2 lw 2 pt 5 lc rgb '#7f7f7f'   # fine-tuning alone

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 1200,800 font 'Sans,11' } else { set terminal svg size 1200,800 font 'Sans,11' }
  set output out.'.'.fmt
  set multiplot layout 2,2 title "Figure 3(b), mini: fewer target training images, fine-tuning alone and with UOT's selection (supervised backbone)"
  set xlabel
  set ylabel 'top-1 accuracy (%), mean ± sd of 3 seeds'
  set title 'hand (5 training images per class: 20% is one)'
  eval 'set yrange '.acc(|$DF| + |$DU|)
  plot $DU with yerrorlines ls 1 title uot, $DF with yerrorlines ls 2 title ft
  set title 'fashion (20 training images per class)'
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
