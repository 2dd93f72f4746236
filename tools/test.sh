#!/usr/bin/env bash
# The README's test command: install dependencies, build, run the whole CTest suite (unit + integration).
# Extra arguments go to ctest, e.g. `tools/test.sh -L unit` or `tools/test.sh -R reference`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
cd build
ctest --output-on-failure --parallel "$(nproc)" "$@"
