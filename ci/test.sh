#!/bin/sh
# Builds, then runs every test (the README's test command). Extra arguments go to
# ctest, e.g. `ci/test.sh -L features` or `ci/test.sh -R table4`.
set -eu
cd "$(dirname "$0")/.."
ci/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
