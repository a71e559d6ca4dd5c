#!/bin/sh
# uotft convert through the command line, on the files tests/oracle/io_pickles.py and io_torch_files.py
# wrote: listings equal torch's, extraction and conversion give the reference bytes, bad input (truncated,
# missing member, forbidden globals, wrong published checksum, garbage) exits non-zero naming the file and
# leaves no output; and `datasets/fetch released-means` from a local mirror of the re-made upstream
# pickles reproduces shared/reference/released-class-means byte for byte, while a wrong pickle is refused.
# usage: io_convert.sh UOTFT IO_OUT SOURCE_DIR REF
set -u
uotft=$1 io=$2 src=$3 ref=$4
pk=$io/pickles tf=$io/torch means=$ref/released-class-means
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
tab=$(printf '\t')

# expect_fail NEEDLE FILE OUT ARGS...: non-zero exit, stderr names FILE and holds NEEDLE, OUT absent, no temporary file
expect_fail() {
  needle=$1 file=$2 out=$3
  shift 3
  if "$uotft" convert "$@" >"$tmp/stdout" 2>"$tmp/stderr"; then
    fail "convert $*: exit 0"
    return
  fi
  grep -qF -- "$needle" "$tmp/stderr" || fail "convert $*: no '$needle' in: $(cat "$tmp/stderr")"
  grep -qF -- "$file" "$tmp/stderr" || fail "convert $*: $file not named in: $(cat "$tmp/stderr")"
  [ -z "$out" ] || [ ! -e "$out" ] || fail "convert $*: left $out behind"
  ! ls -a "$tmp" | grep -q '\.tmp\.' || fail "convert $*: left a temporary file"
}

# 1. --list prints what torch.load reads, for every case
tail -n +2 "$tf/cases.tsv" | while IFS=$tab read -r file key prefix refname; do
  [ "$key" = - ] && key=""
  [ "$prefix" = - ] && prefix=""
  "$uotft" convert --torch "$tf/$file" --key "$key" --prefix "$prefix" --list >"$tmp/list" 2>"$tmp/err" ||
    echo "FAIL: --list $file [$key|$prefix]: $(cat "$tmp/err")" >&2
  tail -n +2 "$tf/$refname" | cut -f1-3 | cmp -s - "$tmp/list" ||
    echo "FAIL: --list $file [$key|$prefix] differs from torch.load" >&2
done 2>"$tmp/list-fails"
[ -s "$tmp/list-fails" ] && fail "$(cat "$tmp/list-fails")"

# 2. one tensor to .npy; --dtype on the way (MoCo's int64 queue_ptr [256] as int32)
"$uotft" convert --torch "$tf/moco-legacy.pth.tar" --key state_dict --prefix module. --tensor queue_ptr \
  --dtype i4 --out "$tmp/ptr.npy" || fail "--tensor queue_ptr"
[ "$(tail -c 4 "$tmp/ptr.npy" | od -An -tx1 | tr -d ' \n')" = 00010000 ] &&
  head -c 128 "$tmp/ptr.npy" | grep -q "'descr': '<i4', 'fortran_order': False, 'shape': (1,)" ||
  fail "--tensor queue_ptr --dtype i4: not an int32 array [256]"
expect_fail "no tensor 'nope'" "$tf/extras-zip.pth" "$tmp/out.npy" --torch "$tf/extras-zip.pth" --key extras \
  --tensor nope --out "$tmp/out.npy"

# 3. pickles to .npy and the class table: the reference bytes
"$uotft" convert --pickle "$pk/p2/Supervised_PT/class_mean/CUB/class_count_unnorm.pkl" --dtype i8 \
  --out "$tmp/cub.counts.npy" && cmp -s "$tmp/cub.counts.npy" "$means/supervised-resnet18/cub.counts.npy" ||
  fail "--pickle counts --dtype i8 differs from the reference"
"$uotft" convert --pickle "$pk/p4/Self_Supervised_PT/class_mean/ImageNet/IN_class_mean_unnorm.pkl" \
  --out "$tmp/in.means.npy" && cmp -s "$tmp/in.means.npy" "$means/moco-v2-resnet50/imagenet.means.npy" ||
  fail "--pickle means differs from the reference"
for p in 2 4; do
  "$uotft" convert --classes --wnids "$pk/p$p/UOT_selection/class_path.pkl" \
    --concepts "$pk/p$p/UOT_selection/class_concept.pkl" --names "$pk/p$p/UOT_selection/class_names.pkl" \
    --out "$tmp/classes.tsv" && cmp -s "$tmp/classes.tsv" "$means/imagenet-classes.tsv" ||
    fail "--classes (protocol $p) differs from imagenet-classes.tsv"
done
m=$pk/p3/Supervised_PT/class_mean/CUB/class_mean_unnorm.pkl
expect_fail "cannot be converted exactly" "$m" "$tmp/out.npy" --pickle "$m" --dtype i8 --out "$tmp/out.npy"
expect_fail "$pk/edge/f4.pkl: holds a numpy.ndarray, not a list of strings" "$pk/edge/f4.pkl" "$tmp/out.tsv" --classes \
  --wnids "$pk/p3/UOT_selection/class_path.pkl" --concepts "$pk/p3/UOT_selection/class_concept.pkl" \
  --names "$pk/edge/f4.pkl" --out "$tmp/out.tsv"

# 4. bad input: a clear error naming the file, exit 1, no output
head -c 1000000 "$tf/resnet18-zip.pth" >"$tmp/trunc-zip.pth"
head -c 1000000 "$tf/resnet18-legacy.pth" >"$tmp/trunc-legacy.pth"
head -c 1000000 "$tf/resnet18-tar.pth" >"$tmp/trunc-tar.pth"
expect_fail "truncated" "$tmp/trunc-zip.pth" "$tmp/out.npy" --torch "$tmp/trunc-zip.pth" --tensor fc.bias --out "$tmp/out.npy"
expect_fail "truncated" "$tmp/trunc-legacy.pth" "" --torch "$tmp/trunc-legacy.pth" --list
expect_fail "Truncated tar archive" "$tmp/trunc-tar.pth" "" --torch "$tmp/trunc-tar.pth" --list
expect_fail "is missing from the file" "$tf/bad/missing-member.pth" "$tmp/out.npy" \
  --torch "$tf/bad/missing-member.pth" --tensor conv1.weight --out "$tmp/out.npy"
expect_fail "refusing global 'os.system'" "$tf/bad/os-system.pth" "" --torch "$tf/bad/os-system.pth" --list
expect_fail "refusing global 'builtins.eval'" "$tf/bad/builtins-eval.pth" "" --torch "$tf/bad/builtins-eval.pth" --list
for b in os_system:os.system posix_system:posix.system builtins_eval:builtins.eval; do
  expect_fail "refusing global '${b#*:}'" "$pk/bad/${b%%:*}.pkl" "$tmp/out.npy" --pickle "$pk/bad/${b%%:*}.pkl" --out "$tmp/out.npy"
done
[ ! -e "$pk/bad/PWNED" ] && [ ! -e "$tf/bad/PWNED" ] || fail "a forbidden global ran"
ln -s "$tf/resnet18-zip.pth" "$tmp/resnet18-f37072fd.pth"
expect_fail "sha256 mismatch for this published file: expected f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec, actual" \
  "$tmp/resnet18-f37072fd.pth" "$tmp/out.npy" --torch "$tmp/resnet18-f37072fd.pth" --tensor fc.bias --out "$tmp/out.npy"
awk 'BEGIN { srand(5); for (i = 0; i < 3000; i++) printf "%c", 32 + int(rand() * 90) }' >"$tmp/garbage.bin"
expect_fail "not a PyTorch file" "$tmp/garbage.bin" "" --torch "$tmp/garbage.bin" --list
expect_fail "is not accepted" "$tmp/garbage.bin" "$tmp/out.npy" --pickle "$tmp/garbage.bin" --out "$tmp/out.npy"
"$uotft" convert --pickle "$m" >/dev/null 2>&1
[ $? = 2 ] || fail "--pickle without --out: not a usage error"
"$uotft" convert --pickle "$m" --dtype u8 --out "$tmp/out.npy" >/dev/null 2>&1
[ $? = 2 ] || fail "--dtype u8: not a usage error"
"$uotft" convert --help | grep -q -- '--torch F.pth' || fail "--help"

# 5. the released-means recipe, end to end from a local mirror (the protocol 3 pickles equal upstream's)
if command -v curl >/dev/null; then
  UOTFT_BIN=$uotft UOTFT_MIRROR=file://$pk/p3 "$src/datasets/fetch" --dest "$tmp/data/released-means" released-means \
    >"$tmp/fetch.log" 2>&1 || fail "datasets/fetch released-means: $(tail -5 "$tmp/fetch.log")"
  n=0
  for f in $(cd "$means" && find . -name '*.npy' -o -name '*.tsv' | grep -v MANIFEST); do
    cmp -s "$means/$f" "$tmp/data/released-class-means/$f" || fail "released-means: $f differs from the reference"
    n=$((n + 1))
  done
  [ "$n" = 37 ] || fail "released-means: $n reference files"
  # a valid pickle of the wrong array: the post step refuses and installs nothing
  cp -r "$tmp/data/released-means" "$tmp/wrong"
  cp "$pk/p3/Supervised_PT/class_mean/dogs/class_mean_unnorm.pkl" "$tmp/wrong/Supervised_PT/class_mean/CUB/class_mean_unnorm.pkl"
  if UOTFT_BIN=$uotft UOTFT_MEANS_OUT=$tmp/wrong-out "$src/datasets/recipes/released-means.post" "$tmp/wrong" 2>"$tmp/stderr"; then
    fail "released-means.post accepted a wrong pickle"
  fi
  grep -q "supervised-resnet18/cub.means.npy: converted file differs from the reference" "$tmp/stderr" ||
    fail "released-means.post: $(cat "$tmp/stderr")"
  [ -z "$(find "$tmp/wrong-out" -type f 2>/dev/null)" ] || fail "released-means.post left files after a failure"
else
  fail "curl is needed for datasets/fetch"
fi

echo "io_convert: $fails failure(s)"
[ $fails = 0 ]
