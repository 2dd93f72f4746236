#!/usr/bin/env bash
# The README's test command: install dependencies, build, run the whole CTest suite (unit + integration).
# Extra arguments go to ctest, e.g. `tools/test.sh -L unit` or `tools/test.sh -R reference`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
cd build
# Without arguments: everything but the `acceptance` label (quality bars the shipped models do not meet yet; none
# since session 11, see tests/invert/CMakeLists.txt). Give ctest arguments to choose yourself, e.g. `-L unit`.
if [[ $# -eq 0 ]]; then set -- -LE acceptance; fi
ctest --output-on-failure --parallel "$(nproc)" "$@"
