#!/usr/bin/env bash
# Configures and builds spasmwatch into build/ (Release, warnings as errors). Extra arguments go
# to CMake's configure step, e.g. tools/build.sh -DSW_SANITIZE=address,undefined
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SW_JOBS:-2}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSW_WERROR=ON "$@" >/dev/null
cmake --build build -j "$jobs"
