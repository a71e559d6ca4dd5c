#!/bin/sh
# The mini world's builder is deterministic: two builds of a reduced world (4 training and 2
# held-out images per pool class) on 1 and on 2 threads give the same bytes, and another seed
# gives other images. Usage: build_twice.sh UOTFT_MKMINI SOURCE_DIR WORK_DIR
set -eu
bin=$1 src=$2 work=$3
rm -rf "$work"
build() { sh "$src/datasets/mini/build" --bin "$bin" --pool-train 4 --pool-test 2 "$@" > /dev/null; }
build --out "$work/a" --threads 1
build --out "$work/b" --threads 2
build --out "$work/c" --threads 2 --seed 1
n=$(wc -l < "$work/a/SHA256SUMS")
[ "$n" -ge 30 ] || { echo "FAIL: only $n outputs in SHA256SUMS"; exit 1; }
if ! cmp -s "$work/a/SHA256SUMS" "$work/b/SHA256SUMS"; then
  echo "FAIL: 1 and 2 threads give different bytes:"; diff "$work/a/SHA256SUMS" "$work/b/SHA256SUMS"; exit 1
fi
(cd "$work/a" && sha256sum -c --quiet SHA256SUMS) || { echo "FAIL: SHA256SUMS does not match the files"; exit 1; }
for f in pool-train.mset hand-test.mset mix-train.mset digits-train.mset fashion-test.mset; do
  if cmp -s "$work/a/$f" "$work/c/$f"; then echo "FAIL: seed 1 gives the same $f as seed 0"; exit 1; fi
done
echo "deterministic: $n files identical on 1 and 2 threads; seed 1 differs"
