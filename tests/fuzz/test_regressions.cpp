// Every input in regressions/<reader>/ (each one crashed a reader under fuzzing before its fix) is read again:
// the reader must refuse it with its own one-line "<file>: <problem>" error. Without the sanitizers a fixed bug
// can come back as a library's exception (an allocator's "can't allocate memory") instead of a crash: the check
// on the message catches that too.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "models/bundle_seal.h"
#include "tests/fuzz/readers.h"

namespace fs = std::filesystem;

namespace {

// `transform` turns a saved input into what is read (identity, or sealed for the bundle reader).
int replay(const std::string& reader, std::string (*read)(const uint8_t*, size_t),
           std::vector<uint8_t> (*transform)(std::vector<uint8_t>) = [](std::vector<uint8_t> b) { return b; }) {
  const fs::path dir = fs::path(TUMORFORGE_FUZZ_REGRESSIONS) / reader;
  int n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::vector<uint8_t> b = transform({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
    const std::string error = read(b.data(), b.size());
    INFO(e.path().string() << " -> " << error);
    CHECK(error.rfind(tumorforge::fuzz::scratch_dir(), 0) == 0);  // refused, by the reader, naming the file
    ++n;
  }
  MESSAGE(reader << ": " << n << " saved inputs replayed");
  return n;
}

// The saved bundle inputs predate the seal, so the seal alone now refuses them. Sealed as they are (as if someone
// sealed a damaged file), they reach libhdf5 and the reader's own checks again, which must still refuse them.
std::vector<uint8_t> sealed(std::vector<uint8_t> hdf5) {
  const std::string path = tumorforge::fuzz::scratch_dir() + "/to_seal.h5";
  std::vector<uint8_t> b(tumorforge::models::kSealBytes, 0);
  b.insert(b.end(), hdf5.begin(), hdf5.end());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  tumorforge::models::seal_bundle(path);
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("saved NIfTI fuzz inputs are refused cleanly") { replay("nifti", tumorforge::fuzz::read_nifti_bytes); }
TEST_CASE("saved Zarr fuzz inputs are refused cleanly") { replay("zarr", tumorforge::fuzz::read_zarr_bytes); }
TEST_CASE("saved bundle fuzz inputs are refused cleanly, unsealed (by the seal) and sealed (by the reader)") {
  CHECK(replay("bundle", tumorforge::fuzz::read_bundle_bytes) > 0);
  CHECK(replay("bundle", tumorforge::fuzz::read_bundle_bytes, sealed) > 0);
}
