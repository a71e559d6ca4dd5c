#!/bin/sh
# The mini tier's results as CI tracks them: manifest NAME is run for the mini tier from the
# committed backbones (results/mini/pretrain) on a freshly built world, in a work folder (--set
# moves the tier's prepared folders there, --out-root its results), and results/mini/NAME.csv
# must come out byte-identical to the committed one: a change in any stage (world, features,
# k-means, selection, probe) that moves a number shows here as the rows that moved. The
# committed files were made with 2 threads on the project's 2-core AMD EPYC (Zen 4); float sums
# depend on both.
# usage: results.sh UOTFT PROJECT_ROOT WORLD WORK_DIR NAME
set -u
uotft=$1 root=$2 world=$3 w=$4 name=$5
out=$w/out-$name
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $name: $*"; exit 1; }
"$uotft" run "$root/experiments/$name.ini" --tier mini --threads 2 --out-root "$out" --set world="$world" \
  --set pretrain="$w/pretrain" --set features="$w/features" 2> "$out/run.log" || {
  tail -20 "$out/run.log"
  fail "uotft run --tier mini"
}
grep -q "the committed checkpoint" "$out/run.log" || fail "the committed backbones were not used"
[ -e "$w/pretrain" ] && fail "pre-training ran although the committed backbones exist"
ours=$out/results/mini/$name.csv ref=$root/results/mini/$name.csv
[ -f "$ref" ] || fail "not committed under results/mini"
cmp -s "$ours" "$ref" || {
  diff "$ref" "$ours" | head -12
  fail "differs from the committed results/mini/$name.csv (< committed, > now)"
}
plot=$(sed -n '/^\[tier.mini\]/,/^\[/s/^plot *= *//p' "$root/experiments/$name.ini")
if [ -n "$plot" ]; then
  [ -s "$out/plots/mini/$name.png" ] && [ -s "$out/plots/mini/$name.svg" ] || fail "plots/mini/$name not drawn"
fi
echo "$name: $(($(wc -l < "$ours") - 1)) rows as committed"
