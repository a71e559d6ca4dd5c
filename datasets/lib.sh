# Shared by datasets/fetch and datasets/verify (sourced, not run).
#
# A recipe is datasets/recipes/<name>.tsv, one file per row, tab-separated:
#   file  bytes  sha256  urls
# file:   name under the destination folder (data/<name>/ by default)
# bytes:  exact size, or - when no source states it
# sha256: the expected sum; a leading ? marks a sum only one unconfirmed source
#         gives (verify warns instead of failing on a mismatch), - for none
# urls:   space-separated mirrors tried in order, then optionally manual:<where to get it>
#         (the rest of the field; alone, the file can only be downloaded by hand)
# Lines starting with # are comments. An optional executable
# datasets/recipes/<name>.post runs after a successful fetch, with the
# destination folder as its argument (e.g. to convert formats).

UOTFT_ROOT=$(cd "$(dirname "$0")/.." && pwd)
RECIPES=${UOTFT_RECIPES:-$UOTFT_ROOT/datasets/recipes}

die() { echo "datasets: $*" >&2; exit 1; }

recipe_path() {
  [ -f "$RECIPES/$1.tsv" ] || die "unknown data set '$1' (recipes: $(ls "$RECIPES" | sed -n 's/\.tsv$//p' | tr '\n' ' '))"
  echo "$RECIPES/$1.tsv"
}

# Rows of a recipe without comments: file<TAB>bytes<TAB>sha256<TAB>urls
recipe_rows() { grep -v '^[[:space:]]*#' "$(recipe_path "$1")" | grep -v '^[[:space:]]*$'; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# check_file PATH BYTES SHA256 -> 0 ok, 1 mismatch (prints why), 2 unconfirmed mismatch (warns)
check_file() {
  path=$1 bytes=$2 sum=$3
  if [ "$bytes" != "-" ]; then
    size=$(stat -c %s "$path")
    if [ "$size" != "$bytes" ]; then
      echo "datasets: $path: size $size bytes, expected $bytes" >&2
      return 1
    fi
  fi
  case $sum in
    -) echo "datasets: $path: no published sha256; size checked only" >&2; return 0 ;;
    \?*) want=${sum#\?} ;;
    *) want=$sum ;;
  esac
  got=$(sha256_of "$path")
  [ "$got" = "$want" ] && return 0
  if [ "$want" != "$sum" ]; then
    echo "datasets: warning: $path: sha256 $got differs from the unconfirmed $want (single source; see DATASETS.md)" >&2
    return 2
  fi
  echo "datasets: $path: sha256 mismatch" >&2
  echo "  expected $want" >&2
  echo "  actual   $got" >&2
  return 1
}
