#!/bin/sh
# uotft-mkmini refuses bad inputs with a message naming the file and a non-zero exit, and
# leaves no set behind. Usage: builder_bad_input.sh UOTFT_MKMINI SOURCE_DIR WORK_DIR
set -u
bin=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work/fashion"
fails=0
printf 'pool\tfonts-dejavu-core\t0\t/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf\n' > "$work/fonts.list"
expect() { # expect WHAT PATTERN -- ARGS...
  what=$1 pat=$2; shift 3
  out=$("$bin" "$@" 2>&1); rc=$?
  if [ $rc -eq 0 ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: $what: exit $rc, output: $out"; fails=$((fails + 1))
  fi
  if ls "$work"/out/*.mset > /dev/null 2>&1; then echo "FAIL: $what left a set behind"; fails=$((fails + 1)); fi
}
args="--classes $src/datasets/mini/classes.txt --digits /usr/share/doc/opencv-doc/examples/data/digits.png"
# too few faces for the pool's classes: the build stops before writing any set
expect "one font" "no class is drawn by enough faces" -- --fonts "$work/fonts.list" $args \
  --fashion /usr/share/datasets/fashion-mnist --out "$work/out"
printf 'pool\tx\t0\n' > "$work/bad.list"
expect "malformed font list" "bad.list:1" -- --fonts "$work/bad.list" $args --fashion "$work/fashion" --out "$work/out"
printf 'pond  latin  0041\n' > "$work/classes.txt"
expect "unknown set" "classes.txt:1" -- --fonts "$work/fonts.list" --classes "$work/classes.txt" \
  --digits /usr/share/doc/opencv-doc/examples/data/digits.png --fashion "$work/fashion" --out "$work/out"
printf 'pool  latin  0041-zz\n' > "$work/classes.txt"
expect "bad range" "bad code point" -- --fonts "$work/fonts.list" --classes "$work/classes.txt" \
  --digits /usr/share/doc/opencv-doc/examples/data/digits.png --fashion "$work/fashion" --out "$work/out"
expect "missing option" "usage" -- --fonts "$work/fonts.list" --out "$work/out"
[ $fails -eq 0 ] && echo "bad input: all refused"
exit $fails
