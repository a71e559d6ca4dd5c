#!/bin/sh
# uotft run --set: a setting that can change results is named in the CSV (an `overrides` column) and
# the report, and does not replace the manifest's own results: without --out-root they go beside
# them as NAME.set-<hash>; moving a tier's folders (world, features, ...) is not such a setting.
# usage: run_overrides.sh UOTFT PROJECT_ROOT RELEASED_MEANS WORK_DIR
set -u
uotft=$1 root=$2 means=$3 w=$4
rm -rf "$w"
mkdir -p "$w/experiments"
fail() { echo "FAIL: $*"; exit 1; }
cp "$root/experiments/table4.ini" "$w/experiments/"
cp -r "$root/experiments/common" "$w/experiments/"
"$uotft" run "$w/experiments/table4.ini" --tier features --set means="$means" --set eps_c=0.1 2> "$w/log" ||
  fail "run: $(cat "$w/log")"
[ -e "$w/results/features/table4.csv" ] && fail "an override replaced results/features/table4.csv"
set -- "$w"/results/features/table4.set-*.csv
[ -f "$1" ] || fail "no results/features/table4.set-*.csv"
[ "$(head -1 "$1" | awk -F, '{print $NF}')" = overrides ] || fail "$1: no overrides column"
[ "$(awk -F, 'NR == 2 {print $NF}' "$1")" = "means=$means; eps_c=0.1" ] || fail "$1: overrides $(awk -F, 'NR == 2 {print $NF}' "$1")"
grep -q "Not the manifest's own settings.*eps_c=0.1" "${1%.csv}.md" || fail "${1%.csv}.md does not say so"
# with --out-root the file keeps its name and still says what was overridden
"$uotft" run "$w/experiments/table4.ini" --tier features --out-root "$w/o" --set means="$means" --set eps_c=0.1 \
  2> "$w/log" || fail "run --out-root: $(cat "$w/log")"
grep -q "eps_c=0.1$" "$w/o/results/features/table4.csv" || fail "--out-root: the CSV lacks the overrides"
# a key for the job's cell in [settings] beats the tier's plain key: eps_c.uot-cos = 1.0 (MoCo's
# recall falls from 0.1 up, Figure 4(a)) wins over [tier.features] eps_c = 0.01
sed -e 's/^\[settings\]$/[settings]\neps_c.uot-cos = 1.0/' -e 's/^\[tier.features\]$/[tier.features]\neps_c = 0.01/' \
  "$root/experiments/table4.ini" > "$w/experiments/table4.ini"
"$uotft" run "$w/experiments/table4.ini" --tier features --out-root "$w/p" --set means="$means" 2> "$w/log" ||
  fail "run (precedence): $(cat "$w/log")"
moco=$(awk -F, '$2 == "moco-v2-resnet50" && $3 == "uot-cos" {print $(NF-3)}' "$w/p/results/features/table4.csv")
[ -n "$moco" ] && [ "$moco" != 93.22 ] || fail "eps_c.uot-cos in [settings] did not win: MoCo UOT-cos recall '$moco'"
echo "overrides: named in the CSV and the report, written beside the manifest's own results; cell keys win"
