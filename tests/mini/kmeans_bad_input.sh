#!/bin/sh
# uotft kmeans refuses bad input with a message naming the file or the option and a non-zero exit,
# and writes no output file. Usage: kmeans_bad_input.sh UOTFT WORK_DIR
set -u
uotft=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
py=/usr/bin/python3
$py -c "
import numpy as np
np.save('$work/ok.npy', np.eye(4, dtype=np.float32))
np.save('$work/zero.npy', np.array([[1, 0], [0, 0], [0, 1]], dtype=np.float32))
np.save('$work/vec.npy', np.ones(5))
np.save('$work/nan.npy', np.array([[1, np.nan], [0, 1]]))
"
printf 'garbage' > "$work/garbage.npy"
fails=0
expect() { # expect WHAT STATUS PATTERN -- ARGS...
  what=$1 want=$2 pat=$3; shift 4
  out=$("$uotft" kmeans "$@" --centroids "$work/C.npy" --assign "$work/A.npy" 2>&1); rc=$?
  if [ $rc -ne "$want" ] || ! printf '%s' "$out" | grep -q -- "$pat"; then
    echo "FAIL: $what: exit $rc (want $want), output: $out"; fails=$((fails + 1))
  fi
  if [ -e "$work/C.npy" ] || [ -e "$work/A.npy" ]; then echo "FAIL: $what wrote output"; fails=$((fails + 1)); fi
}
expect missing 1 "missing.npy" -- --features "$work/missing.npy" --k 2
expect garbage 1 "garbage.npy" -- --features "$work/garbage.npy" --k 2
expect vector 1 "vec.npy: expected a non-empty matrix" -- --features "$work/vec.npy" --k 2
expect zero-row 1 "row 1 is zero" -- --features "$work/zero.npy" --k 2
expect nan 1 "nan.npy" -- --features "$work/nan.npy" --k 1
expect k-too-large 2 "exceeds the 4 points" -- --features "$work/ok.npy" --k 5
expect k-zero 2 "--k expects" -- --features "$work/ok.npy" --k 0
expect bad-init 2 "--init expects" -- --features "$work/ok.npy" --k 2 --init best
out=$("$uotft" kmeans --features "$work/ok.npy" --k 4 --centroids "$work/C.npy" 2>&1) &&
  printf '%s' "$out" | grep -q "^objective	0$" || { echo "FAIL: identity rows, k 4: $out"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "kmeans bad input: all refused"
exit $fails
