#!/usr/bin/env bash
# Fuzzes the readers of untrusted files (tests/fuzz/readers.h) with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer: the NIfTI reader, the Zarr metadata + chunk reader and the HDF5 model-bundle reader.
#   tools/fuzz.sh [SECONDS_PER_READER=600] [READERS="nifti zarr bundle"]
# Builds with clang into build-fuzz/ (sanitizers on every tumorforge library; LibTorch, HDF5, libnifti and blosc
# are Debian's, uninstrumented), writes seed inputs with tumorforge's own writers, then runs each fuzzer for the
# given time on one core. Corpora grow in build-fuzz/corpus/<reader>/. Prints executions, coverage (edges) and
# corpus size per reader, writes build-fuzz/fuzz.json, and exits 1 if any reader crashed: the crashing input is
# in build-fuzz/crashes/<reader>/ — fix the reader, then copy the input to tests/fuzz/regressions/<reader>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
readers=${2:-nifti zarr bundle}
source tools/sanitizer_build.sh
cmake --build build-fuzz --parallel "$(nproc)" --target make_seeds $(for r in $readers; do echo "fuzz_$r"; done)
mkdir -p build-fuzz/seeds && build-fuzz/tests/fuzz/make_seeds build-fuzz/seeds >/dev/null
status=0
json="{"
for r in $readers; do
  corpus=build-fuzz/corpus/$r crashes=build-fuzz/crashes/$r
  mkdir -p "$corpus" "$crashes"
  cp -n build-fuzz/seeds/$r/* "$corpus"/ 2>/dev/null || true
  log=build-fuzz/fuzz_$r.log
  # Memory: a reader may use 2 GB (RSS) and no single request over 1 GB. The bundle reader meets the same limits
  # because it checks the bundle's seal (models/bundle_seal.h) before libhdf5 reads a byte: libhdf5 1.10 is not
  # safe on damaged files (it allocated 4 GB, looped and over-read a heap buffer on inputs kept in
  # tests/fuzz/libhdf5_findings/ and tests/fuzz/regressions/bundle/, which the unit tests replay sealed).
  limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024)
  # First the inputs that once crashed a reader, under the sanitizers (the unit test replays them without).
  if compgen -G "tests/fuzz/regressions/$r/*" >/dev/null; then
    if ! build-fuzz/tests/fuzz/fuzz_$r "${limits[@]}" tests/fuzz/regressions/$r/* > "build-fuzz/regressions_$r.log" 2>&1; then
      echo "fuzz $r: a saved regression input fails again: build-fuzz/regressions_$r.log"; status=1; continue
    fi
  fi
  # -rss_limit_mb: a reader must not need GBs for a file of a few KB; -timeout: nor seconds.
  if build-fuzz/tests/fuzz/fuzz_$r "$corpus" -max_total_time="$seconds" "${limits[@]}" -timeout=10 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" > "$log" 2>&1; then rc=0; else rc=$?; fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  units=$(ls "$corpus" | wc -l)
  if [[ $rc -ne 0 ]]; then
    status=1
    echo "fuzz $r: CRASH after ${execs:-?} executions: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log")"
    echo "  input: $(ls -t "$crashes" | head -1 | sed "s|^|$crashes/|")  log: $log"
  else
    echo "fuzz $r: $execs executions in $seconds s, coverage $cov edges, corpus $units inputs, no crash"
  fi
  json+="\"$r\": {\"seconds\": $seconds, \"executions\": ${execs:-0}, \"edges\": ${cov:-0}, \"corpus\": $units, \"crashed\": $([[ $rc -ne 0 ]] && echo true || echo false)},"
done
echo "${json%,}}" > build-fuzz/fuzz.json
exit $status
