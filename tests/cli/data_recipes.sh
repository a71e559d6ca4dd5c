#!/bin/sh
# Every shipped recipe is well formed and its sizes and sums are the ones DATASETS.md gives (copied from
# the publishers' manifests, not computed by us), and each of the issue's data sets and weights has one.
# usage: data_recipes.sh SOURCE_DIR DATASETS.md
set -u
src=$1 doc=$2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
err=$(mktemp)
trap 'rm -f "$err"' EXIT
for name in imagenet cub dogs cars pets sun397 aircraft dtd caltech101 resnet18 resnet50 mocov2; do
  r="$src/datasets/recipes/$name.tsv"
  [ -f "$r" ] || { fail "no recipe $name"; continue; }
  rows=$(grep -v '^[[:space:]]*#' "$r" | grep -c .)
  [ "$rows" -ge 1 ] || fail "$name: no rows"
  grep -v '^[[:space:]]*#' "$r" | grep . | while IFS="$(printf '\t')" read -r file bytes sum urls extra; do
    [ -z "$extra" ] || echo "FAIL: $name/$file: more than 4 fields" >&2
    [ -n "$urls" ] || echo "FAIL: $name/$file: no urls" >&2
    case $bytes in -) ;; *[!0-9]*|"") echo "FAIL: $name/$file: bad size '$bytes'" >&2 ;;
      *) grep -q "$(echo "$bytes" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')" "$doc" ||
           echo "FAIL: $name/$file: size $bytes not in DATASETS.md" >&2 ;;
    esac
    s=${sum#\?}
    case $s in -) ;; *)
      echo "$s" | grep -qx '[0-9a-f]\{64\}' || echo "FAIL: $name/$file: bad sha256 '$sum'" >&2
      grep -q "$s" "$doc" || echo "FAIL: $name/$file: sha256 not in DATASETS.md" >&2 ;;
    esac
  done 2>>"$err"
done
if [ -s "$err" ]; then cat "$err" >&2; fails=$((fails + 1)); fi
# the unconfirmed Aircraft sum is flagged
grep -q '?d5f68b1b' "$src/datasets/recipes/aircraft.tsv" || fail "aircraft sum not flagged as unconfirmed"
echo "data_recipes: $fails failure(s)"
[ $fails = 0 ]
