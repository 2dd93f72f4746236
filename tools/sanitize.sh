#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer: builds everything in build-fuzz/ (clang; the
# instrumented libraries are shared with tools/fuzz.sh, see tools/sanitizer_build.sh) and runs `ctest -L unit`
# there. Any sanitizer report fails its test (halt_on_error; ASan aborts on the first error). Extra arguments go to
# ctest, e.g. `tools/sanitize.sh -R solver`. CTest runs this as `sanitize.unit_tests` (label sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/sanitizer_build.sh
start=$(date +%s)
cmake --build build-fuzz --parallel "$(nproc)"
built=$(date +%s)
if [[ $# -eq 0 ]]; then set -- -L unit; fi
ctest --test-dir build-fuzz --output-on-failure --parallel "$(nproc)" "$@"
echo "sanitize: build $((built - start)) s, tests $(($(date +%s) - built)) s"
