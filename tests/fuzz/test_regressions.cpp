// Every input in regressions/<reader>/ (each one crashed a reader under fuzzing before its fix) is read again:
// the reader must refuse it with its own one-line "<file>: <problem>" error. Without the sanitizers a fixed bug
// can come back as a library's exception (an allocator's "can't allocate memory") instead of a crash: the check
// on the message catches that too.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/readers.h"

namespace fs = std::filesystem;

namespace {

int replay(const std::string& reader, std::string (*read)(const uint8_t*, size_t)) {
  const fs::path dir = fs::path(TUMORFORGE_FUZZ_REGRESSIONS) / reader;
  int n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::vector<uint8_t> b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string error = read(b.data(), b.size());
    INFO(e.path().string() << " -> " << error);
    CHECK(error.rfind(tumorforge::fuzz::scratch_dir(), 0) == 0);  // refused, by the reader, naming the file
    ++n;
  }
  MESSAGE(reader << ": " << n << " saved inputs replayed");
  return n;
}

}  // namespace

TEST_CASE("saved NIfTI fuzz inputs are refused cleanly") { replay("nifti", tumorforge::fuzz::read_nifti_bytes); }
TEST_CASE("saved Zarr fuzz inputs are refused cleanly") { replay("zarr", tumorforge::fuzz::read_zarr_bytes); }
TEST_CASE("saved bundle fuzz inputs are refused cleanly") { replay("bundle", tumorforge::fuzz::read_bundle_bytes); }
