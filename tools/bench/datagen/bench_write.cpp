// Datagen benchmark helper: copies the `concentration` array of a store into a new array with the same
// shape, chunks, dtype and compressor, timing only the encode + write of each sample's chunk (the data is
// read and decoded beforehand). run.py times zarr-python doing the same. Prints JSON.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "datagen/zarr_array.h"

using namespace tumorforge::datagen;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_datagen_write STORE OUT_ARRAY\n");
    return 2;
  }
  ZarrArray src = ZarrArray::open(std::string(argv[1]) + "/concentration");
  ArrayMeta m = src.meta();
  std::filesystem::remove_all(argv[2]);
  ZarrArray dst = ZarrArray::create(argv[2], m);
  const Shape grid = src.chunk_grid();
  std::vector<std::vector<uint8_t>> chunks;
  std::vector<Shape> keys;
  for (int64_t i = 0; i < grid[0]; ++i)
    for (int64_t a = 0; a < grid[1]; ++a)
      for (int64_t b = 0; b < grid[2]; ++b)
        for (int64_t c = 0; c < grid[3]; ++c) {
          keys.push_back({i, a, b, c});
          chunks.push_back(src.read_chunk(keys.back()));
        }
  auto t0 = std::chrono::steady_clock::now();
  for (size_t k = 0; k < keys.size(); ++k) dst.write_chunk(keys[k], chunks[k].data());
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double raw = static_cast<double>(keys.size()) * static_cast<double>(src.chunk_elements() * src.itemsize());
  std::printf("%s\n", nlohmann::json{{"seconds", s}, {"chunks", keys.size()}, {"raw_bytes", raw}, {"mb_per_s", raw / s / 1e6}}.dump().c_str());
  return 0;
}
