#!/bin/sh
# Builds uotft with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and runs the tests
# labelled sanitize (unit, cli, data, features, the fast oracles and the replays of the fuzzing
# corpora; a few minutes). Any finding aborts its test, so a clean run is a passing one. Extra
# arguments go to ctest.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUOTFT_SANITIZE=ON
cmake --build build-asan -j"$(nproc)"
# allocator_may_return_null: the engine checks every allocation (core/alloc.h) and its tests ask for
# impossible sizes on purpose; ASan would otherwise abort on them instead of returning NULL.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1
# Stack traces for UBSan findings too (it stops at the first one: -fno-sanitize-recover=all).
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1
export ASAN_OPTIONS UBSAN_OPTIONS
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -L sanitize "$@"
