#!/bin/sh
# Figure 4(a) from the released means: the CSV has every grid point, the curves
# behave as the paper describes (supervised flat; self-supervised stable for small
# eps_c and worse from 0.1 up), and gnuplot wrote a PNG and an SVG.
# usage: fig4a_outputs.sh UOTFT SOURCE_DIR WORK_DIR
set -u
uotft=$1 src=$2 w=$3
rm -rf "$w"
"$uotft" run "$src/experiments/fig4a.ini" --tier features --out-root "$w" 2>"$w.log" || { cat "$w.log"; exit 1; }
csv=$w/results/features/fig4a.csv
rows=$(grep -c ',recall,' "$csv")
[ "$rows" -eq 28 ] || { echo "expected 28 recall rows (2 models x 2 targets x 7 eps_c), got $rows"; exit 1; }
# recall of one series at one eps_c
r() { awk -F, -v m="$1" -v t="$2" -v e="$3" '$2==m && $3==t && $6==e && $7=="recall" {print $8}' "$csv"; }
sup_lo=$(r supervised-resnet18 cub 0.001) sup_hi=$(r supervised-resnet18 cub 1.0)
moco_lo=$(r moco-v2-resnet50 cub 0.003) moco_mid=$(r moco-v2-resnet50 cub 0.01) moco_hi=$(r moco-v2-resnet50 cub 1.0)
echo "CUB supervised: $sup_lo at 0.001, $sup_hi at 1; MoCo: $moco_lo at 0.003, $moco_mid at 0.01, $moco_hi at 1"
awk -v a="$sup_lo" -v b="$sup_hi" 'BEGIN { exit !(a - b < 5 && b - a < 5) }' || { echo "supervised curve is not flat"; exit 1; }
[ "$moco_lo" = "$moco_mid" ] || { echo "self-supervised curve is not stable for small eps_c"; exit 1; }
awk -v a="$moco_mid" -v b="$moco_hi" 'BEGIN { exit !(a - b > 20) }' || { echo "self-supervised recall does not fall for large eps_c"; exit 1; }
[ "$(r supervised-resnet18 cub 0.01)" = "98.31" ] && [ "$moco_mid" = "93.22" ] || { echo "eps_c = 0.01 is not Table 4's value"; exit 1; }
png=$w/plots/fig4a.png svg=$w/plots/fig4a.svg
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "$png is not a PNG"; exit 1; }
grep -q '<svg' "$svg" || { echo "$svg is not an SVG"; exit 1; }
ls "$w/plots" | grep -q tmp && { echo "temporary plot files left behind"; exit 1; }
echo "fig4a: 28 points, expected shape, PNG and SVG written"
