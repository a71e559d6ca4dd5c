#!/bin/sh
# uotft export through the command line: a committed mini checkpoint exports (and the export re-exports
# with --arch to the same bytes); bad input (a truncated checkpoint, a file that is no checkpoint nor
# torch file, a missing file, a torch file without --arch, a checkpoint under another --arch, an output
# whose folder cannot be written) exits 1 naming the file, and leaves no output and no temporary file;
# usage errors exit 2.
# usage: nn_export.sh UOTFT MINI_PRETRAIN_DIR
set -u
uotft=$1 mini=$2
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

"$uotft" export --help | grep -q "usage: uotft export" || fail "--help"
"$uotft" export --ckpt "$mini/supervised.ckpt" --out "$tmp/ok/sup.pth" || fail "export of supervised.ckpt"
"$uotft" export --ckpt "$tmp/ok/sup.pth" --arch "small:16,32,64,128:1,1,1,1" --out "$tmp/ok/again.pth" ||
  fail "export of the exported file"
cmp -s "$tmp/ok/sup.pth" "$tmp/ok/again.pth" || fail "re-export of the export differs"

head -c 5000 "$mini/supervised.ckpt" >"$tmp/truncated.ckpt"
echo "not a model" >"$tmp/notes.txt"
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"

# expect_fail STATUS NEEDLE OUT ARGS...: that exit status, NEEDLE on stderr, nothing at OUT, no temporary file
expect_fail() {
  status=$1 needle=$2 out=$3
  shift 3
  "$uotft" export "$@" --out "$out" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  [ $rc -eq "$status" ] || fail "export $*: exit $rc, expected $status"
  grep -qF -- "$needle" "$tmp/stderr" || fail "export $*: no '$needle' in: $(cat "$tmp/stderr")"
  [ ! -e "$out" ] || fail "export $*: left $out"
  ! find "$tmp" -name '*.tmp.*' | grep -q . || fail "export $*: left a temporary file"
}

expect_fail 1 "$tmp/truncated.ckpt: " "$tmp/out.pth" --ckpt "$tmp/truncated.ckpt"
expect_fail 1 "$tmp/notes.txt: neither a uotft checkpoint nor a readable torch.save file" "$tmp/out.pth" \
  --ckpt "$tmp/notes.txt"
expect_fail 1 "$tmp/missing.ckpt: no such file" "$tmp/out.pth" --ckpt "$tmp/missing.ckpt"
expect_fail 1 "$tmp/ok/sup.pth: a torch.save file: --arch is needed" "$tmp/out.pth" --ckpt "$tmp/ok/sup.pth"
expect_fail 1 "$mini/supervised.ckpt: a checkpoint of small:16,32,64,128:1,1,1,1, not resnet18" "$tmp/out.pth" \
  --ckpt "$mini/supervised.ckpt" --arch resnet18
# a folder that is a file (root ignores permissions, so this case holds for every user)
expect_fail 1 "$tmp/notes.txt/out.pth: cannot write" "$tmp/notes.txt/out.pth" --ckpt "$mini/supervised.ckpt"
if [ "$(id -u)" -ne 0 ]; then
  expect_fail 1 "$tmp/ro/out.pth: cannot write" "$tmp/ro/out.pth" --ckpt "$mini/supervised.ckpt"
fi
expect_fail 2 "are required" "$tmp/out.pth"
expect_fail 2 "unexpected argument" "$tmp/out.pth" --ckpt "$mini/supervised.ckpt" extra

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
