// libFuzzer entry point for the nifti reader (tests/fuzz/readers.h; tools/fuzz.sh builds and runs it). Besides
// crashes and sanitizer reports, a refusal that is not the reader's own "<file>: <problem>" line is a finding.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/readers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string error = tumorforge::fuzz::read_nifti_bytes(data, size);
  if (!error.empty() && error.rfind(tumorforge::fuzz::scratch_dir(), 0) != 0) {
    std::fprintf(stderr, "refusal without the file's name: %s\n", error.c_str());
    std::abort();
  }
  return 0;
}
