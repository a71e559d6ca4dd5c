#!/bin/sh
# datasets/fetch and datasets/verify on a temporary recipe served through file:// URLs (CI has no
# network): download, resume, mirror fallback, manual hint, and a one-byte change caught by verify.
# usage: data_fetch.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

mkdir -p "$tmp/srv" "$tmp/recipes"
head -c 200000 /dev/urandom >"$tmp/srv/a.bin"
printf 'small file\n' >"$tmp/srv/b.txt"
size_a=$(stat -c %s "$tmp/srv/a.bin")
sum_a=$(sha256sum "$tmp/srv/a.bin" | cut -d' ' -f1)
sum_b=$(sha256sum "$tmp/srv/b.txt" | cut -d' ' -f1)
T=$(printf '\t')
{
  echo "# test recipe"
  echo "a.bin${T}${size_a}${T}${sum_a}${T}file://$tmp/srv/missing.bin file://$tmp/srv/a.bin"
  echo "b.txt${T}-${T}${sum_b}${T}file://$tmp/srv/b.txt"
} >"$tmp/recipes/t.tsv"
export UOTFT_RECIPES="$tmp/recipes"
fetch="$src/datasets/fetch"
verify="$src/datasets/verify"

# 1. fetch: the first mirror is missing, the second works; both files verified
"$fetch" --dest "$tmp/d" t >"$tmp/out" 2>&1 || fail "fetch failed: $(cat "$tmp/out")"
cmp -s "$tmp/srv/a.bin" "$tmp/d/a.bin" || fail "a.bin not fetched intact"
cmp -s "$tmp/srv/b.txt" "$tmp/d/b.txt" || fail "b.txt not fetched intact"
"$verify" --dest "$tmp/d" t >"$tmp/out" 2>&1 || fail "verify of intact files failed: $(cat "$tmp/out")"

# 2. a one-byte change is caught, with the file, the expected and the actual sum
printf 'X' | dd of="$tmp/d/a.bin" bs=1 seek=1000 conv=notrunc status=none
bad=$(sha256sum "$tmp/d/a.bin" | cut -d' ' -f1)
if "$verify" --dest "$tmp/d" t >"$tmp/out" 2>&1; then fail "verify accepted a one-byte change"; fi
grep -q "a.bin: sha256 mismatch" "$tmp/out" || fail "verify did not name the file: $(cat "$tmp/out")"
grep -q "expected $sum_a" "$tmp/out" || fail "verify did not print the expected sum"
grep -q "actual   $bad" "$tmp/out" || fail "verify did not print the actual sum"

# 3. a truncated file is caught by its size; a missing file is an error
head -c 1000 "$tmp/srv/a.bin" >"$tmp/d/a.bin"
if "$verify" --dest "$tmp/d" t >"$tmp/out" 2>&1; then fail "verify accepted a truncated file"; fi
grep -q "size 1000 bytes, expected $size_a" "$tmp/out" || fail "no size message: $(cat "$tmp/out")"
rm "$tmp/d/a.bin"
if "$verify" --dest "$tmp/d" t >"$tmp/out" 2>&1; then fail "verify accepted a missing file"; fi
grep -q "a.bin: missing" "$tmp/out" || fail "no missing-file message"

# 4. resume: fetch starts from a partial download and ends with the intact file
head -c 50000 "$tmp/srv/a.bin" >"$tmp/d/a.bin.part"
"$fetch" --dest "$tmp/d" t >"$tmp/out" 2>&1 || fail "fetch with a partial file failed: $(cat "$tmp/out")"
cmp -s "$tmp/srv/a.bin" "$tmp/d/a.bin" || fail "resumed a.bin differs"

# 5. a download with the wrong sum is kept aside as .bad and fetch fails
sed "s/$sum_b/$(echo "$sum_b" | tr 0-9a-f 1-9a-f0)/" "$tmp/recipes/t.tsv" >"$tmp/recipes/w.tsv"
if "$fetch" --dest "$tmp/w" w >"$tmp/out" 2>&1; then fail "fetch accepted a wrong sum"; fi
[ -f "$tmp/w/b.txt.bad" ] || fail "wrong download not kept as .bad"
[ -f "$tmp/w/b.txt" ] && fail "wrong download left under its final name"

# 6. an unconfirmed (?) sum warns but passes
sed "s/${T}$sum_b/${T}?0000$(echo "$sum_b" | cut -c5-)/" "$tmp/recipes/t.tsv" >"$tmp/recipes/u.tsv"
"$verify" --dest "$tmp/d" u >"$tmp/out" 2>&1 || fail "unconfirmed mismatch failed verify"
grep -q "warning: .*b.txt.*unconfirmed" "$tmp/out" || fail "no unconfirmed warning: $(cat "$tmp/out")"

# 7. every mirror failing prints the manual instructions; manual-only rows say where to put the file
printf 'c.bin\t-\t-\tfile://%s/srv/none manual:ask the keeper\n' "$tmp" >"$tmp/recipes/m.tsv"
if "$fetch" --dest "$tmp/m" m >"$tmp/out" 2>&1; then fail "fetch succeeded without a source"; fi
grep -q "by hand: ask the keeper; put it at $tmp/m/c.bin" "$tmp/out" || fail "no manual hint after mirrors: $(cat "$tmp/out")"
printf 'c.bin\t-\t-\tmanual:register first\n' >"$tmp/recipes/n.tsv"
if "$fetch" --dest "$tmp/m" n >"$tmp/out" 2>&1; then fail "manual-only fetch succeeded"; fi
grep -q "by hand (register first); put it at $tmp/m/c.bin" "$tmp/out" || fail "no manual message: $(cat "$tmp/out")"

echo "data_fetch: $fails failure(s)"
[ $fails = 0 ]
