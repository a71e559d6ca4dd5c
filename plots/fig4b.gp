# Figure 4(b): the source classes ranked by UOT's score to the target and cut into 10 consecutive
# blocks; top-1 accuracy fine-tuned with each block in turn, for the supervised and MoCo v2 backbones,
# against fine-tuning alone (dashed, same colour). Mini tier: digits and the pool's 565 glyph classes
# (blocks of 56 or 57); full tier: CUB and ImageNet's 1000 (blocks of 100).
# Called by `uotft run experiments/fig4b.ini --tier T` with
#   tier    = mini or full
#   summary = results/<tier>/fig4b.summary.tsv (one line per cell: mean and sd over the seeds; the
#             finetune lines repeat one run at every block)
#   out     = output path without extension (.png and .svg are written)

# what the tier's target and backbones are
if (exists("tier") && tier eq 'full') {
  target = 'cub'; sup = 'supervised-resnet18'; moco = 'moco-v2-resnet50'
  headline = "Figure 4(b): fine-tuning on CUB with one tenth of ImageNet's 1000 classes, ranked by UOT"
} else {
  target = 'digits'; sup = 'supervised'; moco = 'moco-v2'
  headline = 'Figure 4(b), mini: fine-tuning on digits with one tenth of the 565 pool classes, ranked by UOT'
}

# 1. One datablock (block, mean, sd) per (model, approach). Each starts with an undefined point and
#    cells without data (n = 0: a --sample run, an unfinished grid) are left out, so a series with no
#    data yet still plots, as nothing, instead of failing the run.
set datafile separator "\t"
set datafile columnheaders
is(m, a) = strcol('model') eq m && strcol('dataset') eq target && strcol('approach') eq a && column('n') > 0
do for [b in '$SB $SF $MB $MF'] { eval 'set print '.b; print 'NaN NaN NaN'; unset print }
set table $SB append
plot summary using (column('block')):(column('mean')):(column('sd')) with table if (is(sup, 'uot-block'))
set table $SF append
plot summary using (column('block')):(column('mean')):(column('sd')) with table if (is(sup, 'finetune'))
set table $MB append
plot summary using (column('block')):(column('mean')):(column('sd')) with table if (is(moco, 'uot-block'))
set table $MF append
plot summary using (column('block')):(column('mean')):(column('sd')) with table if (is(moco, 'finetune'))
unset table
set datafile separator whitespace
unset datafile columnheaders

# 2. One panel, so the two backbones and their baselines read against each other; the key goes under
#    it because the baselines run across the whole width. An empty plot cannot autoscale: fixed range.
set xrange [0.5:10.5]
set xtics 1, 1, 10
set grid ytics lc rgb '#dddddd'
set key below horizontal maxrows 2
if (|$SB| + |$SF| + |$MB| + |$MF| == 4) { set yrange [0:100] }
set xlabel 'block of the UOT ranking (1 = closest to '.target.')'
set ylabel 'top-1 accuracy on '.target.' (%), mean ± sd of 3 seeds'
set title headline

do for [fmt in "png svg"] {
  if (fmt eq 'png') { set terminal pngcairo size 800,560 font 'Sans,11' } else { set terminal svg size 800,560 font 'Sans,11' }
  set output out.'.'.fmt
  plot $SF using 1:($2-$3):($2+$3) with filledcurves fc rgb '#1f77b4' fs transparent solid 0.12 noborder notitle, \
       $MF using 1:($2-$3):($2+$3) with filledcurves fc rgb '#d62728' fs transparent solid 0.12 noborder notitle, \
       $SB with yerrorlines lw 2 pt 7 lc rgb '#1f77b4' title 'supervised: with the block', \
       $SF using 1:2 with lines dt 2 lw 2 lc rgb '#1f77b4' title 'supervised: fine-tuning alone', \
       $MB with yerrorlines lw 2 pt 5 lc rgb '#d62728' title 'MoCo v2: with the block', \
       $MF using 1:2 with lines dt 2 lw 2 lc rgb '#d62728' title 'MoCo v2: fine-tuning alone'
  set output
}
