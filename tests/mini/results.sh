#!/bin/sh
# The mini tier's results as CI tracks them: manifest NAME is run for the mini tier from the
# committed backbones (results/mini/pretrain) on a freshly built world, in a work folder (--set
# moves the tier's prepared folders there, --out-root its results), and results/mini/NAME.csv
# must come out byte-identical to the committed one: a change in any stage (world, features,
# k-means, selection, probe) that moves a number shows here as the rows that moved. The
# committed files were made with 2 threads on the machine results/mini/MACHINE names; float
# rounding depends on the CPU, so on any other machine the numbers are compared within
# tolerances instead (compare_results.py), and the test says so.
# With `sample` (CI's regression sample of the fine-tuning manifests), only the jobs the manifest's
# `sample` setting names are run, into a fresh runs folder, and each of their rows must equal its
# committed row (on another machine: compare_results.py's tolerances); on a mismatch the cells that
# moved are printed, committed -> now. Further arguments go to uotft run (a test that a changed
# setting is caught passes --set). UF_RUNS names a runs folder to use instead of a fresh one
# (ctest -L replication shares one between manifests).
# usage: results.sh UOTFT PROJECT_ROOT WORLD WORK_DIR NAME [full|sample [UOTFT RUN ARGS...]]
set -u
uotft=$1 root=$2 world=$3 w=$4 name=$5 mode=${6:-full}
shift 5
[ $# -gt 0 ] && shift
# a run with changed settings (mini.regression_catches_change) gets a folder of its own: ctest runs it
# beside the unchanged sample, and a shared folder would be emptied under that run's feet
out=$w/out-$name${UF_TEST_MACHINE:+-other}${mode#full}${1:+-changed}
rm -rf "$out"
. "$(dirname "$0")/machine.sh"
mkdir -p "$out"
fail() { echo "FAIL: $name: $*"; exit 1; }
sample=
[ "$mode" = sample ] && sample=--sample
"$uotft" run "$root/experiments/$name.ini" --tier mini --threads 2 --out-root "$out" --set world="$world" \
  --set pretrain="$w/pretrain" --set features="$w/features" --set runs="${UF_RUNS:-$out/runs}" $sample "$@" 2> "$out/run.log" || {
  tail -20 "$out/run.log"
  fail "uotft run --tier mini"
}
grep -q "the committed checkpoint" "$out/run.log" || fail "the committed backbones were not used"
[ -e "$w/pretrain" ] && fail "pre-training ran although the committed backbones exist"
ours=$out/results/mini/$name.csv ref=$root/results/mini/$name.csv
[ -f "$ref" ] || fail "not committed under results/mini"
if same_machine "$root/results/mini" && [ "$mode" = sample ]; then
  header=$(head -1 "$ref")
  moved=$(tail -n +2 "$ours" | cut -d, -f1-"$(echo "$header" | tr , '\n' | wc -l)" | while IFS= read -r row; do
    grep -qxF "$row" "$ref" || {
      coords=$(echo "$row" | cut -d, -f1-"$(echo "$header" | tr , '\n' | grep -n -m1 '^final_top1$' | cut -d: -f1)")
      echo "  committed: $(grep -F "${coords%,*}," "$ref" | head -1)"
      echo "  now:       $row"
    }
  done)
  [ -z "$moved" ] || fail "sample rows differ from the committed results/mini/$name.csv ($header):
$moved"
  how="sample rows as committed, byte for byte"
elif same_machine "$root/results/mini"; then
  cmp -s "$ours" "$ref" || {
    diff "$ref" "$ours" | head -12
    fail "differs from the committed results/mini/$name.csv (< committed, > now)"
  }
  how="rows as committed, byte for byte"
else
  echo "note: not the machine of results/mini/MACHINE ($(sed -n 's/^cpu\t//p' "$root/results/mini/MACHINE")):" \
    "comparing within tolerances, not byte for byte"
  /usr/bin/python3 "$(dirname "$0")/compare_results.py" "$name" "$ref" "$ours" || fail "outside the tolerances"
  how="rows within the other-machine tolerances"
fi
plot=$(sed -n '/^\[tier.mini\]/,/^\[/s/^plot *= *//p' "$root/experiments/$name.ini")
if [ -n "$plot" ]; then
  [ -s "$out/plots/mini/$name.png" ] && [ -s "$out/plots/mini/$name.svg" ] || fail "plots/mini/$name not drawn"
fi
echo "$name: $(($(wc -l < "$ours") - 1)) $how"
