#!/bin/sh
# uotft bench train prints a row per conv path with its share of both measured ceilings (the sgemm
# rate and the cores' FMA peak), and the FMA peak is measured wherever the CPU has AVX2 + FMA.
# Rates are not compared: speed is a benchmark's business, not a test's.
# usage: bench_train.sh UOTFT
set -u
uotft=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$uotft" bench train --arch small:8,16:1,1 --size 16 --batch 4 --steps 1 --threads 1 --no-torch --conv both) ||
  fail "bench train exited non-zero"
echo "$out"
peak=$(echo "$out" | sed -n 's/.*FMA peak \([0-9.]*\) GFLOP\/s$/\1/p')
[ -n "$peak" ] || fail "no FMA peak in the header"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  awk -v p="$peak" 'BEGIN { exit !(p > 0) }' || fail "FMA peak $peak on a CPU with AVX2 + FMA"
fi
for path in im2col direct; do
  echo "$out" | awk -v path="$path" '$1 == "train" && $12 == path && $5 > 0 && $7 ~ /%$/ && $8 ~ /%$/ { found = 1 }
    END { exit !found }' || fail "no complete row for the $path path"
done
echo "ok"
