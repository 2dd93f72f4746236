// The libFuzzer entry point, built once per reader (tests/fuzz/CMakeLists.txt defines TUMORFORGE_FUZZ_READER as
// read_nifti_bytes, read_zarr_bytes or read_bundle_bytes; tools/fuzz.sh runs them). Besides crashes and
// sanitizer reports, a refusal that is not the reader's own "<file>: <problem>" line is a finding.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string error = tumorforge::fuzz::TUMORFORGE_FUZZ_READER(data, size);
  if (!error.empty() && error.rfind(tumorforge::fuzz::scratch_dir(), 0) != 0) {
    std::fprintf(stderr, "refusal without the file's name: %s\n", error.c_str());
    std::abort();
  }
  return 0;
}
