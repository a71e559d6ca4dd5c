#!/bin/sh
# ctest -L replication-full: one manifest's full tier at the paper's own setting, from the real downloads,
# compared with the paper's numbers (--check, within the manifest's tolerance). Without the data and
# weights it reports itself skipped (exit 77, CTest's SKIP_RETURN_CODE) with the fetch command to run,
# never as passed. The downloads are looked for where datasets/fetch puts them (data/<name>/ in the
# project) or in $UOTFT_FULL_DATA.
# usage: replication.sh UOTFT PROJECT_ROOT MANIFEST
set -u
uotft=$1 root=$2 ini=$3
data=${UOTFT_FULL_DATA:-$root/data}
missing=""
for name in imagenet cub dogs cars pets sun397 aircraft dtd caltech101 resnet18 mocov2; do
  grep -v '^#' "$root/datasets/recipes/$name.tsv" | cut -f1 | grep -v '^$' | while read -r file; do
    [ "$name/$file" = resnet18/resnet18-5c106cde.pth ] || [ -f "$data/$name/$file" ] || { echo "$name"; break; }
  done
done > "${TMPDIR:-/tmp}/uotft-missing.$$"
missing=$(sort -u "${TMPDIR:-/tmp}/uotft-missing.$$" | tr '\n' ' ')
rm -f "${TMPDIR:-/tmp}/uotft-missing.$$"
if [ -n "$missing" ]; then
  echo "skipped: the full tier needs the paper's data and weights, missing in $data: $missing"
  echo "  fetch them with: datasets/fetch $missing(or set UOTFT_FULL_DATA to where they are)"
  exit 77
fi
check=""
grep -q '^\[paper\]' "$ini" && check=--check
exec "$uotft" run "$ini" --tier full --set downloads="$data" $check
