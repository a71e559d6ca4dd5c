#!/bin/sh
# uotft forward through the command line, on the files tests/oracle/nn_weights.py wrote: the outputs have
# the shapes of logits, pooled features and MoCo's 128-d head, the zip and the legacy file of the same
# weights give the same bytes, and --batch 1 runs; bad input
# (truncated file, a tensor of the wrong shape, weights of another architecture, a MoCo backbone asked for
# logits, an unknown architecture, images of the wrong shape) exits 1 naming the file and the reason and
# leaves no output; usage errors exit 2.
# With the files of tests/oracle/io_torch_files.py, the tar format of torch < 0.4 (resnet18-5c106cde.pth's)
# gives the same bytes as the zip file of the same weights.
# usage: nn_forward.sh UOTFT WEIGHTS_DIR IO_TORCH_DIR
set -u
uotft=$1 w=$2 io=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# shape_is FILE "(2, 1000)": the .npy header's shape
shape_is() {
  head -c 128 "$1" | grep -qF "'shape': $2" || fail "$1: shape is not $2: $(head -c 128 "$1" | tr -d '\0')"
}

"$uotft" forward --arch resnet18 --weights "$w/resnet18-zip.pth" --input "$w/x.npy" --out "$tmp/logits.npy" ||
  fail "resnet18 logits"
shape_is "$tmp/logits.npy" "(2, 1000)"
"$uotft" forward --arch resnet18 --weights "$w/resnet18-legacy.pth" --input "$w/x.npy" --out "$tmp/legacy.npy" ||
  fail "resnet18 legacy"
cmp -s "$tmp/logits.npy" "$tmp/legacy.npy" || fail "the zip and the legacy file give different logits"
"$uotft" forward --arch resnet18 --weights "$w/resnet18-zip.pth" --input "$w/x.npy" --out "$tmp/b1.npy" \
  --batch 1 || fail "resnet18 --batch 1"
shape_is "$tmp/b1.npy" "(2, 1000)"
"$uotft" forward --arch resnet18 --weights "$w/resnet18-zip.pth" --input "$w/x.npy" --out "$tmp/f.npy" \
  --features || fail "resnet18 --features"
shape_is "$tmp/f.npy" "(2, 512)"
"$uotft" forward --arch resnet50 --weights "$w/moco-legacy.pth.tar" --input "$w/x.npy" --out "$tmp/mlp.npy" \
  --mlp || fail "moco --mlp"
shape_is "$tmp/mlp.npy" "(2, 128)"

"$uotft" forward --arch resnet18 --weights "$io/resnet18-zip.pth" --input "$w/x.npy" --out "$tmp/io-zip.npy" &&
  "$uotft" forward --arch resnet18 --weights "$io/resnet18-tar.pth" --input "$w/x.npy" --out "$tmp/io-tar.npy" ||
  fail "resnet18 from the tar format"
cmp -s "$tmp/io-zip.npy" "$tmp/io-tar.npy" || fail "the tar and the zip file give different logits"

# expect_fail STATUS NEEDLE ARGS...: that exit status, NEEDLE on stderr, no output, no temporary file
expect_fail() {
  status=$1 needle=$2
  shift 2
  rm -f "$tmp/out.npy"
  "$uotft" forward "$@" --out "$tmp/out.npy" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  [ $rc -eq "$status" ] || fail "forward $*: exit $rc, expected $status"
  grep -qF -- "$needle" "$tmp/stderr" || fail "forward $*: no '$needle' in: $(cat "$tmp/stderr")"
  [ ! -e "$tmp/out.npy" ] || fail "forward $*: left an output"
  ! ls -a "$tmp" | grep -q '\.tmp\.' || fail "forward $*: left a temporary file"
}

expect_fail 1 "$w/bad/truncated.pth: damaged or truncated" --arch resnet18 --weights "$w/bad/truncated.pth" \
  --input "$w/x.npy"
expect_fail 1 "$w/bad/shape.pth: tensor 'layer1.0.conv1.weight' has shape (64, 64, 1, 1) in the file but (64, 64, 3, 3) in resnet18" \
  --arch resnet18 --weights "$w/bad/shape.pth" --input "$w/x.npy"
expect_fail 1 "$w/resnet18-zip.pth: no tensor 'layer1.2.conv1.weight', which resnet34 needs" --arch resnet34 \
  --weights "$w/resnet18-zip.pth" --input "$w/x.npy"
expect_fail 1 "$w/resnet18-zip.pth: tensor 'layer1.0.conv1.weight' has shape (64, 64, 3, 3) in the file but (64, 64, 1, 1) in resnet50" \
  --arch resnet50 --weights "$w/resnet18-zip.pth" --input "$w/x.npy"
expect_fail 1 "no 2-d tensor 'fc.weight'" --arch resnet50 --weights "$w/moco-legacy.pth.tar" --input "$w/x.npy"
expect_fail 1 "unknown architecture 'resnet19'" --arch resnet19 --weights "$w/resnet18-zip.pth" --input "$w/x.npy"
expect_fail 1 "$w/resnet18_logits.npy: expected float images (N, 3, H, W)" --arch resnet18 \
  --weights "$w/resnet18-zip.pth" --input "$w/resnet18_logits.npy"
expect_fail 1 "$w/nothing.pth" --arch resnet18 --weights "$w/nothing.pth" --input "$w/x.npy"
expect_fail 2 "exclude each other" --arch resnet18 --weights "$w/resnet18-zip.pth" --input "$w/x.npy" \
  --features --mlp
expect_fail 2 "are required" --arch resnet18 --input "$w/x.npy"

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
