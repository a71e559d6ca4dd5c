#!/bin/sh
# The mini world's sets through the data layer (`uotft data`, the loader's reader): every set and
# split lists the documented counts, and class names come from <set>-classes.tsv.
# usage: data_reader.sh UOTFT WORLD_DIR
set -u
uotft=$1 w=$2
check() { # set split images classes
  out=$("$uotft" data list --dataset "mini-$1" --root "$w" --split "$2" 2>&1 >/dev/null | tail -n 1)
  [ "$out" = "$3 images, $4 classes" ] || { echo "mini-$1 $2: '$out', expected '$3 images, $4 classes'"; exit 1; }
  echo "ok   mini-$1 $2: $out"
}
check pool train 33900 565
check pool test 11300 565
check digits train 50 10
check digits test 1000 10
check fashion train 200 10
check hand train 130 26
check mix test 1000 20
"$uotft" data stats --dataset mini-hand --root "$w" --split train | grep -q "^25	Z	5$" || { echo "hand: class 25 is not Z with 5 images"; exit 1; }
"$uotft" data list --dataset mini-nope --root "$w" --split train >/dev/null 2>&1 && { echo "an unknown set was accepted"; exit 1; }
echo "mini sets read through the data layer"
