#!/bin/sh
# Builds, then runs every test (the README's test command), then the sanitizer build's tests
# (ci/sanitize.sh). Extra arguments go to ctest, e.g. `ci/test.sh -L features` or `ci/test.sh -R table4`;
# with arguments the sanitizer run is skipped (they select a part, not the whole).
set -eu
cd "$(dirname "$0")/.."
ci/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
if [ $# -eq 0 ]; then
  ci/sanitize.sh
fi
