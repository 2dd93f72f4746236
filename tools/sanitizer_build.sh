# Sourced by tools/fuzz.sh and tools/sanitize.sh: configures build-fuzz/ — clang, AddressSanitizer and
# UndefinedBehaviorSanitizer on every tumorforge library (LibTorch, HDF5, libnifti and blosc are Debian's,
# uninstrumented), with libFuzzer's coverage instrumentation (fuzzer-no-link) so the same objects serve the fuzzers
# and the sanitized unit tests — and exports the sanitizer options both use.
command -v clang++ >/dev/null || { echo "$0: clang++ not found (tools/setup.sh installs clang)" >&2; exit 2; }
san="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DTUMORFORGE_FUZZ=ON -DTUMORFORGE_NATIVE=OFF -DCMAKE_C_FLAGS="$san -fsanitize=fuzzer-no-link" \
    -DCMAKE_CXX_FLAGS="$san -fsanitize=fuzzer-no-link -Wno-unused-command-line-argument" >/dev/null
fi
# allocator_may_return_null=1: an impossible request inside a library (libhdf5 reading a size from a damaged file)
# fails as glibc fails it, with NULL, which the library reports as an error; our own code must never get there
# (the fuzz harness aborts on any refusal that is not the reader's own one-line error, an allocator's included).
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
