#!/bin/sh
# Configures and builds uotft into build/ (Release, tuned for this CPU).
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
