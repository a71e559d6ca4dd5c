#!/bin/sh
# Builds, then runs every test (the README's test command) but the full mini replication
# (`ctest -L replication`, half an hour: CI runs its regression sample, label `regression`; the full
# tier's `replication_full.*` report themselves skipped without the paper's downloads), then the
# sanitizer build's tests (ci/sanitize.sh). Extra arguments go to ctest instead, e.g. `ci/test.sh -L
# features`, `ci/test.sh -R table4` or `ci/test.sh -L replication`; with arguments the sanitizer run is
# skipped (they select a part, not the whole).
set -eu
cd "$(dirname "$0")/.."
ci/build.sh
whole=0
if [ $# -eq 0 ]; then
  whole=1
  set -- -E '^replication[.]'
fi
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
if [ $whole = 1 ]; then
  ci/sanitize.sh
fi
