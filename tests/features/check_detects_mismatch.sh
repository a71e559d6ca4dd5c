#!/bin/sh
# `uotft run --check` must fail (exit status 3, a MISMATCH line) when one of the
# paper's numbers in the manifest differs from what the data give: the features
# test would otherwise pass whatever the engine computed.
# usage: check_detects_mismatch.sh UOTFT SOURCE_DIR REFERENCE_DIR WORK_DIR
set -u
uotft=$1 src=$2 ref=$3 w=$4
rm -rf "$w" && mkdir -p "$w/experiments" && cp -r "$src/experiments/common" "$w/experiments/"
sed -e 's|^supervised-resnet18/uot-cos = 98.31|supervised-resnet18/uot-cos = 98.30|' \
    -e "s|^means = .*|means = $ref/released-class-means|" \
    "$src/experiments/table4.ini" > "$w/experiments/table4.ini"
grep -q '^supervised-resnet18/uot-cos = 98.30' "$w/experiments/table4.ini" || { echo "could not alter the manifest"; exit 1; }
"$uotft" run "$w/experiments/table4.ini" --tier features --check --no-plot > "$w/out.txt" 2> "$w/err.txt"
rc=$?
cat "$w/out.txt"
[ $rc -eq 3 ] || { echo "expected exit status 3, got $rc"; cat "$w/err.txt"; exit 1; }
grep -q '^MISMATCH supervised-resnet18/uot-cos recall: ours 98.31, paper 98.30' "$w/out.txt" || { echo "no MISMATCH line"; exit 1; }
grep -q '^table4: 7 of 8 values match' "$w/out.txt" || { echo "wrong summary"; exit 1; }
echo "the altered number was caught"
