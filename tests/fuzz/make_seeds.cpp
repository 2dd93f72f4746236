// Writes the seed corpus of the fuzzers (tools/fuzz.sh): small valid inputs of each reader, made by tumorforge's
// own writers, so that fuzzing starts past the magic numbers. Usage: make_seeds DIR (creates DIR/{nifti,zarr,bundle}).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "datagen/zarr_array.h"
#include "models/bundle.h"
#include "models/networks.h"
#include "solver/nifti_io.h"

namespace fs = std::filesystem;
using namespace tumorforge;

namespace {

std::vector<uint8_t> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void zarr_seed(const fs::path& dir, const std::string& name, const datagen::ArrayMeta& meta) {
  const std::string arr = (dir / ("tmp_" + name)).string();
  auto a = datagen::ZarrArray::create(arr, meta, true);
  std::vector<float> v(12);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.25f * static_cast<float>(i);
  a.write<float>({0, 0}, {4, 3}, v.data());
  const std::vector<uint8_t> json = bytes_of(arr + "/.zarray"), chunk = bytes_of(a.chunk_path({0, 0}));
  std::vector<uint8_t> seed{static_cast<uint8_t>(json.size() & 0xff), static_cast<uint8_t>(json.size() >> 8)};
  seed.insert(seed.end(), json.begin(), json.end());
  seed.insert(seed.end(), chunk.begin(), chunk.end());
  put((dir / (name + ".bin")).string(), seed);
  fs::remove_all(arr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds DIR\n";
    return 2;
  }
  const fs::path out(argv[1]);
  for (const char* d : {"nifti", "zarr", "bundle"}) fs::create_directories(out / d);

  core::Grid g;
  g.dims = {4, 3, 2};
  g.spacing_mm = {1, 1, 2};
  g.affine = core::scaling_affine(g.spacing_mm);
  core::Volume v(g, 0.5f);
  solver::write_nifti((out / "nifti/float32.nii").string(), v);
  solver::write_nifti((out / "nifti/float32.nii.gz").string(), v);
  solver::write_nifti_labels((out / "nifti/labels.nii.gz").string(), g, std::vector<uint8_t>(24, 3));

  datagen::ArrayMeta m;
  m.shape = {4, 3};
  m.chunks = {2, 2};
  m.dtype = datagen::DType::kF4;
  zarr_seed(out / "zarr", "blosc", m);
  m.compressor.cname = "zstd";
  m.compressor.shuffle = 2;
  zarr_seed(out / "zarr", "blosc_zstd_bit", m);
  m.compressor = datagen::Compressor{};
  m.compressor.id = "zlib";
  zarr_seed(out / "zarr", "zlib", m);
  m.compressor.id = "none";
  m.dimension_separator = '/';
  zarr_seed(out / "zarr", "none_slash", m);

  models::NetConfig c;
  c.widths = {2, 4};
  c.kernel_size = 3;
  c.input_size = 4;
  models::SurrogateNet net(c);
  models::write_bundle((out / "bundle/surrogate.h5").string(), c, {{"theta_range", {{"note", "fuzz seed"}}}}, *net);
  std::cout << "seeds written to " << out.string() << "\n";
  return 0;
}
