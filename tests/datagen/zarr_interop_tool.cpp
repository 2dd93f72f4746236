// Test helper for Zarr interoperability with zarr-python: `write DIR` writes one array per dtype x
// compressor x separator filled with a known pattern; `check DIR` reads every array under DIR (written by
// zarr-python with the same pattern, see interop.py) and exits 1 on the first mismatch.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "datagen/zarr_array.h"

using namespace tumorforge::datagen;
namespace fs = std::filesystem;

// The shared pattern: exactly representable in every dtype (float16 included).
double pattern(int64_t n, DType t) {
  switch (t) {
    case DType::kU1: case DType::kU2: case DType::kU4: return static_cast<double>(n % 250);
    case DType::kI1: case DType::kI2: case DType::kI4: case DType::kI8: return static_cast<double>(n % 200 - 100);
    default: return static_cast<double>(n % 1000) * 0.25 - 100.0;
  }
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: zarr_interop_tool write|check DIR\n");
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  if (mode == "write") {
    const Shape shape{7, 10, 13}, chunks{3, 4, 5};  // edge chunks on every axis
    for (DType t : {DType::kU1, DType::kI2, DType::kU2, DType::kI4, DType::kI8, DType::kF2, DType::kF4, DType::kF8})
      for (std::string comp : {"blosc-lz4", "blosc-zstd", "zlib", "none"})
        for (char sep : {'.', '/'}) {
          ArrayMeta m;
          m.shape = shape;
          m.chunks = chunks;
          m.dtype = t;
          m.dimension_separator = sep;
          if (comp == "zlib") m.compressor.id = "zlib";
          else if (comp == "none") m.compressor.id = "none";
          else m.compressor.cname = comp == "blosc-zstd" ? "zstd" : "lz4";
          if (comp == "blosc-zstd") m.compressor.shuffle = 2;  // bit shuffle too
          std::string code = dtype_code(t).substr(1);
          std::string name = code + "_" + comp + "_" + (sep == '.' ? "dot" : "slash");
          ZarrArray a = ZarrArray::create(dir + "/" + name, m);
          std::vector<double> v(7 * 10 * 13);
          for (size_t n = 0; n < v.size(); ++n) v[n] = pattern(static_cast<int64_t>(n), t);
          a.write<double>({0, 0, 0}, shape, v.data());
        }
    return 0;
  }
  int arrays = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!is_array(e.path().string())) continue;
    ZarrArray a = ZarrArray::open(e.path().string());
    Shape start(a.meta().shape.size(), 0);
    std::vector<double> v = a.read<double>(start, a.meta().shape);
    for (size_t n = 0; n < v.size(); ++n) {
      double want = pattern(static_cast<int64_t>(n), a.meta().dtype);
      bool missing_region = e.path().filename().string().find("partial") != std::string::npos && n >= v.size() / 2;
      if (missing_region) want = a.meta().fill_value;
      if (!(v[n] == want || (std::isnan(v[n]) && std::isnan(want)))) {
        std::fprintf(stderr, "%s: element %zu is %g, expected %g\n", e.path().c_str(), n, v[n], want);
        return 1;
      }
    }
    ++arrays;
  }
  std::printf("checked %d arrays\n", arrays);
  return arrays > 0 ? 0 : 1;
}
