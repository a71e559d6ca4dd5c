#!/bin/sh
# Configures, builds and runs every test (the README's test command).
# Extra arguments go to ctest, e.g. `ci/test.sh -L features`.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
