#!/bin/sh
# The selection report covers all 8 targets x 2 models with 20 named classes each,
# and its CUB histogram agrees with Table 4 (58 bird classes, supervised; 55, MoCo).
# usage: selection_report.sh UOTFT SOURCE_DIR WORK_DIR
set -u
uotft=$1 src=$2 w=$3
rm -rf "$w"
"$uotft" run "$src/experiments/selection.ini" --tier features --out-root "$w" 2>"$w.log" || { cat "$w.log"; exit 1; }
md=$w/results/features/selection.md csv=$w/results/features/selection.csv
sections=$(grep -c '^## ' "$md")
[ "$sections" -eq 16 ] || { echo "expected 16 sections, got $sections"; exit 1; }
rows=$(grep -c '^| [0-9]' "$md")
[ "$rows" -eq 320 ] || { echo "expected 320 listed classes, got $rows"; exit 1; }
[ "$(($(wc -l < "$csv") - 1))" -eq 1600 ] || { echo "expected 1600 CSV rows"; exit 1; }
grep -A2 '^## cub · supervised-resnet18' "$md" | grep -q 'bird 58' || { echo "CUB supervised: not 58 birds"; exit 1; }
grep -A2 '^## cub · moco-v2-resnet50' "$md" | grep -q 'bird 55' || { echo "CUB MoCo: not 55 birds"; exit 1; }
echo "selection: 16 sections, 320 classes listed, CUB histograms match Table 4"
