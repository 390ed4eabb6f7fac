#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test (unit and system).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
bash tools/build.sh
cd build
ctest --output-on-failure -j "${SW_JOBS:-2}" --timeout 600
